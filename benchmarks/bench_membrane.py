"""Benchmark: a full contact load through each Membrane mode (CLI `membrane request`, direct proxy route).

    python benchmarks/bench_membrane.py                          # 5,000 contacts, 0.4 s start-up, 100 ms latency
    python benchmarks/bench_membrane.py --contacts 1000 --modes cli --workers 8,4

The membrane simulator stands in for the CLI: every CLI call is a new process that
first sleeps ``--startup`` seconds (a Node CLI's start-up, 0.4 s by default) and
every request into the sandbox sleeps ``--latency`` seconds (the upstream round
trip, 100 ms). The proxy mode reaches the simulator's HTTP proxy route (served on
127.0.0.1 in this process) with a token from ``membrane token --json``: no process
per request.

Ontraport allows 180 requests a minute. For each mode and worker count the script
loads every contact and prints the requests sent (429s included), the seconds, the
requests a minute and that rate as a share of 180 a minute. A 5,000-contact load is
about 110 requests, which fits in one fresh 60-second window, so the limit does not
bind: the share says whether the mode can keep up with the limit (>= 90 % is the
goal), not whether the limiter holds it (that is ``--rate-limit`` / ``--rate-window``
with a scaled window, e.g. 30 per 10 s). Between runs the script waits one window so
that each run starts with a fresh one (the sandbox keeps the window in its file).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

try:
    import ontraport_pandas  # noqa: F401
except ImportError:  # run from a checkout without `pip install -e .`
    ROOT = str(Path(__file__).resolve().parents[1])
    sys.path.insert(0, ROOT)
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p)

from ontraport_pandas._connect import connect_membrane  # noqa: E402
from ontraport_pandas.sandbox.membrane_proxy import serve_proxy  # noqa: E402
from ontraport_pandas.sandbox.membrane_state import SimState  # noqa: E402

SIM = [sys.executable, "-m", "ontraport_pandas.sandbox.membrane"]
LIMIT_PER_MINUTE = 180


def prepare(home: Path, contacts: int, rate_limit: int | None, window: float, latency: float) -> None:
    from ontraport_pandas.sandbox import SandboxConfig, create_app

    state = SimState(home)
    state.init(contacts=contacts, rate_limit=rate_limit, rate_window=window, latency=latency)
    started = time.perf_counter()
    create_app(SandboxConfig(contacts=contacts, path=str(state.sandbox_path), rate_limit=None)).close()
    print(f"seeded {contacts} contacts in {time.perf_counter() - started:.1f}s ({state.sandbox_path})")


def one_run(home: Path, mode: str, workers: int) -> dict[str, Any]:
    env = {"MEMBRANE_SIM_HOME": str(home)}
    op = connect_membrane("conn_ontraport_demo", command=SIM, env=env, max_workers=workers, mode=mode)  # type: ignore[arg-type]
    assert op.transport.mode == mode, op.backend
    cli = op.transport.hosted.cli
    sent0, calls0 = op.session.requests_sent, cli.calls
    started = time.perf_counter()
    frame = op.contacts(progress=False)
    seconds = time.perf_counter() - started
    out = {
        "rows": len(frame),
        "seconds": seconds,
        "requests": op.session.requests_sent - sent0,
        "cli_calls": cli.calls - calls0,
        "waited": op.session.limiter.waited,
    }
    op.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--contacts", type=int, default=5000)
    parser.add_argument("--startup", type=float, default=0.4, help="seconds each CLI process sleeps first")
    parser.add_argument("--latency", type=float, default=0.1, help="seconds per upstream request")
    parser.add_argument("--rate-limit", type=int, default=180, help="requests per window (default 180)")
    parser.add_argument("--rate-window", type=float, default=60.0, help="window in seconds (default 60)")
    parser.add_argument("--modes", default="cli,proxy", help="comma-separated: cli, proxy (default both)")
    parser.add_argument("--workers", default="8", help="comma-separated worker counts (default 8)")
    parser.add_argument("--home", help="simulator home to use (default: a temporary folder)")
    args = parser.parse_args(argv)

    tmp = None
    if args.home:
        home = Path(args.home)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="bench-membrane-")
        home = Path(tmp.name) / "sim"
    os.environ.pop("ONTRAPORT_PANDAS_MEMBRANE", None)
    per_minute = args.rate_limit * 60.0 / args.rate_window
    print(
        f"rate limit {args.rate_limit} per {args.rate_window:g} s (= {per_minute:g} a minute); CLI start-up "
        f"{args.startup:g} s per process; upstream latency {args.latency * 1000:g} ms"
    )
    prepare(home, args.contacts, args.rate_limit, args.rate_window, args.latency)
    state = SimState(home)
    state.update_settings(startup=args.startup)
    state.set_dialect(["proxy"])
    served = serve_proxy(home)
    header = (
        f"{'mode':<6} {'workers':>7} {'rows':>6} {'seconds':>8} {'requests':>8} {'cli':>5} "
        f"{'wait*':>7} {'req/min':>8} {'of 180/min':>10}"
    )
    print(header)
    print("-" * len(header))
    try:
        runs = [(m, int(w)) for m in args.modes.split(",") if m for w in args.workers.split(",") if w]
        for n, (mode, workers) in enumerate(runs):
            if n:
                time.sleep(args.rate_window + 1)  # a fresh window for each run
            r = one_run(home, mode, workers)
            rate = r["requests"] / r["seconds"] * 60
            print(
                f"{mode:<6} {workers:>7} {r['rows']:>6} {r['seconds']:>8.1f} {r['requests']:>8} {r['cli_calls']:>5} "
                f"{r['waited']:>7.1f} {rate:>8.0f} {rate / LIMIT_PER_MINUTE:>10.0%}"
            )
    finally:
        served.shutdown()
    print("wait* = seconds the request threads spent waiting for the rate limit, summed over threads")
    print("cli = CLI processes started during the load (the proxy mode starts none)")
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
