"""Benchmark: a full contact load through the Membrane backend (the simulator, one subprocess per request).

    python benchmarks/bench_membrane.py                      # 5,000 contacts, 30 requests / 10 s window
    python benchmarks/bench_membrane.py --rate-window 60 --rate-limit 180   # the real window (slow)

Ontraport allows 180 requests a minute. A 5,000-contact load needs about 110 requests
(100 pages of 50, plus metadata, labels and the count), which fits inside one fresh
60-second window, so the real limit would never bind and the "fraction of the ceiling"
would be meaningless. The default therefore scales the window down while keeping the
real average rate: 30 requests per 10 s is 3 requests a second, exactly like 180 a
minute, so the ceiling stays 9,000 records a minute (limit x 50 records per window).

For each worker count (8 and 1 by default) the script loads every contact through
``connect_membrane`` and prints the seconds, the requests sent (429s included), the
CLI calls, the time spent waiting for the rate limit, and the records a minute as a
fraction of the ceiling. ``--unlimited`` adds runs with no rate limit, which show
the raw cost of the subprocess path. Between runs it waits one window so that each run
starts with a fresh window (the sandbox keeps the window in its SQLite file).
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
from ontraport_pandas.sandbox.membrane_state import SimState  # noqa: E402
from ontraport_pandas.transports.membrane import MembraneTransport  # noqa: E402

SIM = [sys.executable, "-m", "ontraport_pandas.sandbox.membrane"]


def prepare(home: Path, contacts: int, rate_limit: int | None, window: float) -> None:
    from ontraport_pandas.sandbox import SandboxConfig, create_app

    state = SimState(home)
    state.init(contacts=contacts, rate_limit=rate_limit, rate_window=window)
    started = time.perf_counter()
    create_app(SandboxConfig(contacts=contacts, path=str(state.sandbox_path), rate_limit=None)).close()
    print(f"seeded {contacts} contacts in {time.perf_counter() - started:.1f}s ({state.sandbox_path})")


def set_limit(home: Path, rate_limit: int | None, window: float) -> None:
    SimState(home).update_settings(rate_limit=rate_limit, rate_window=window)  # the seeded data stays


def one_run(home: Path, workers: int) -> dict[str, Any]:
    env = {"MEMBRANE_SIM_HOME": str(home)}
    op = connect_membrane("conn_ontraport_demo", command=SIM, env=env, max_workers=workers)
    transport = op.transport
    assert isinstance(transport, MembraneTransport)
    sent0, calls0 = op.session.requests_sent, transport.cli.calls
    started = time.perf_counter()
    frame = op.contacts(progress=False)
    seconds = time.perf_counter() - started
    stats = frame.attrs["ontraport"]["stats"]
    return {
        "rows": len(frame),
        "seconds": seconds,
        "requests": op.session.requests_sent - sent0,
        "cli_calls": transport.cli.calls - calls0,
        "pages": stats["pages"],
        "waited": op.session.limiter.waited,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--contacts", type=int, default=5000)
    parser.add_argument("--rate-limit", type=int, default=30, help="requests per window (default 30)")
    parser.add_argument("--rate-window", type=float, default=10.0, help="window in seconds (default 10)")
    parser.add_argument("--workers", default="8,1", help="comma-separated worker counts (default 8,1)")
    parser.add_argument("--unlimited", action="store_true", help="also run without a rate limit")
    parser.add_argument("--home", help="simulator home to use (default: a temporary folder)")
    args = parser.parse_args(argv)

    workers = [int(w) for w in args.workers.split(",") if w]
    tmp = None
    if args.home:
        home = Path(args.home)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="bench-membrane-")
        home = Path(tmp.name) / "sim"
    os.environ.pop("ONTRAPORT_PANDAS_MEMBRANE", None)
    per_minute = args.rate_limit * 60.0 / args.rate_window
    ceiling = per_minute * 50
    print(
        f"rate limit: {args.rate_limit} requests per {args.rate_window:g} s "
        f"(= {per_minute:g} a minute; ceiling {ceiling:,.0f} records a minute)"
    )
    prepare(home, args.contacts, args.rate_limit, args.rate_window)

    runs: list[tuple[str, int, bool]] = [("limited", w, True) for w in workers]
    if args.unlimited:
        runs += [("unlimited", w, False) for w in workers]
    header = f"{'run':<10} {'workers':>7} {'rows':>6} {'seconds':>8} {'requests':>8} {'cli':>5} {'wait*':>7} {'rec/min':>9} {'of ceiling':>10}"
    print(header)
    print("-" * len(header))
    for n, (label, w, limited) in enumerate(runs):
        set_limit(home, args.rate_limit if limited else None, args.rate_window)
        if n and limited:
            time.sleep(args.rate_window + 1)  # a fresh window for each limited run
        r = one_run(home, w)
        rate = r["rows"] / r["seconds"] * 60
        fraction = f"{rate / ceiling:.2f}" if limited else "-"
        print(
            f"{label:<10} {w:>7} {r['rows']:>6} {r['seconds']:>8.1f} {r['requests']:>8} {r['cli_calls']:>5} "
            f"{r['waited']:>7.1f} {rate:>9,.0f} {fraction:>10}"
        )
    print("wait* = seconds the request threads spent waiting for the rate limit, summed over threads")
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
