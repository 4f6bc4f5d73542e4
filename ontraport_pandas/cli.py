"""The ``ontraport-pandas`` command.

``ontraport-pandas sandbox serve`` serves the Ontraport simulator on loopback;
``ontraport-pandas demo`` runs the main job end to end on the embedded sandbox.
The command line is the only part of the package that prints.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ._version import __version__

__all__ = ["main"]


def _rate_limit(value: str) -> int | None:
    if value.lower() in ("none", "off", "0", "unlimited"):
        return None
    return int(value)


def _add_sandbox_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=int, default=0, help="demo data seed (default 0)")
    p.add_argument("--contacts", type=int, default=2000, help="number of demo contacts (default 2000)")
    p.add_argument("--path", default=None, help="SQLite file that keeps the sandbox's state between runs")
    p.add_argument(
        "--rate-limit",
        type=_rate_limit,
        default=180,
        help="requests per minute per App ID, or 'none' (default 180)",
    )
    p.add_argument("--latency", type=float, default=0.0, help="seconds added to every request (default 0)")
    p.add_argument("--fault-rate", type=float, default=0.0, help="share of requests that fail (5xx, dropped)")


def _sandbox_config(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from .sandbox import SandboxConfig

    return SandboxConfig(
        seed=args.seed,
        contacts=args.contacts,
        path=args.path,
        rate_limit=args.rate_limit,
        latency=args.latency,
        fault_rate=args.fault_rate,
    )


def _serve(args: argparse.Namespace) -> int:
    from .sandbox import serve

    config = _sandbox_config(args)
    print(
        f"Generating demo data (seed {config.seed}, {config.contacts} contacts)…", file=sys.stderr, flush=True
    )
    served = serve(config, host=args.host, port=args.port)
    limit = "no rate limit" if config.rate_limit is None else f"{config.rate_limit} requests/minute"
    print(f"Ontraport sandbox serving at {served.url}  ({limit}, latency {config.latency:g}s)")
    print(f"  Api-Appid: {config.app_id}")
    print(f"  Api-Key:   {config.api_key}   (demo credentials; the sandbox holds only generated data)")
    print(
        f"  try: curl -H 'Api-Appid: {config.app_id}' -H 'Api-Key: {config.api_key}' '{served.url}Contacts?range=2'"
    )
    print(f"  python: opd.connect('{served.url}', app_id='{config.app_id}', api_key='{config.api_key}')")
    print("Press Ctrl-C to stop.", flush=True)
    try:
        served.serve_forever()  # returns after Ctrl-C, the server shut down
    except KeyboardInterrupt:  # a second Ctrl-C while shutting down
        pass
    finally:
        served.shutdown()
    print("\nStopped.", file=sys.stderr)
    return 0


def _demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(out=args.out, seed=args.seed, contacts=args.contacts)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ontraport-pandas", description="Ontraport CRM data as typed pandas DataFrames."
    )
    parser.add_argument("--version", action="version", version=f"ontraport-pandas {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    sandbox = sub.add_parser("sandbox", help="the embedded Ontraport API simulator")
    sandbox_sub = sandbox.add_subparsers(dest="sandbox_command", required=True)
    serve = sandbox_sub.add_parser("serve", help="serve the simulator over HTTP on loopback")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 picks a free one)")
    _add_sandbox_options(serve)
    serve.set_defaults(func=_serve)

    demo = sub.add_parser("demo", help="run the main job end to end on the embedded sandbox")
    demo.add_argument(
        "--out",
        default="ontraport-demo-output",
        help="folder for the report (default ./ontraport-demo-output)",
    )
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--contacts", type=int, default=2000)
    demo.set_defaults(func=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
