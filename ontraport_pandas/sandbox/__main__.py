"""Command line: ``python -m ontraport_pandas.sandbox [--port 8765] [--contacts 2000] …``.

Serves a sandbox on loopback until Ctrl-C and prints its URL and credentials.
"""

from __future__ import annotations

import argparse
import sys

from .config import SandboxConfig
from .server import serve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ontraport_pandas.sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--contacts", type=int, default=2000)
    parser.add_argument("--path", default=None, help="SQLite file to keep state in (default: memory)")
    parser.add_argument("--rate-limit", type=int, default=180, help="requests per window; 0 = unlimited")
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--fault-rate", type=float, default=0.0)
    args = parser.parse_args(argv)
    config = SandboxConfig(
        seed=args.seed,
        contacts=args.contacts,
        path=args.path,
        rate_limit=args.rate_limit or None,
        latency=args.latency,
        fault_rate=args.fault_rate,
    )
    served = serve(config, host=args.host, port=args.port)
    print(f"Ontraport sandbox at {served.url}")
    print(f"  Api-Appid: {config.app_id}")
    print(f"  Api-Key:   {config.api_key}  (demo credentials, not a secret)")
    print("Ctrl-C to stop.", flush=True)
    served.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
