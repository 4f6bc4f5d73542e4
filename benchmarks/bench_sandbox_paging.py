"""The sandbox's cost of one page of 50 records at growing offsets (``start``), in default id order.

Run::

    python benchmarks/bench_sandbox_paging.py --contacts 100000 --repeat 30

Each page is asked for in-process (``httpx.WSGITransport``: the simulator's own work, no network,
no latency setting), first in pages order as a paging client asks, then again at random offsets;
the figure per offset is the median and range over ``--repeat`` asks. A page at the end of the
table should cost what the first page costs: the simulator seeks by id instead of walking
``OFFSET`` rows. Shown for the whole table and under a condition (``dlm >= 0``, every record),
each beside the same pages with the seek turned off (plain ``LIMIT ? OFFSET ?``, as before),
asked in one shuffled sequence so that both meet the same machine load.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time

import httpx

from ontraport_pandas.sandbox import DEMO_API_KEY, DEMO_APP_ID, SandboxConfig, create_app
from ontraport_pandas.sandbox.store import Store

try:
    from benchmarks._figures import summary
except ImportError:  # run as a script from the benchmarks folder
    from _figures import summary  # type: ignore[no-redef]

HEADERS = {"Api-Appid": DEMO_APP_ID, "Api-Key": DEMO_API_KEY}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--contacts", type=int, default=100000)
    ap.add_argument("--repeat", type=int, default=30)
    args = ap.parse_args()
    n = args.contacts
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(SandboxConfig(path=f"{tmp}/s.sqlite3", contacts=n, rate_limit=None))
        client = httpx.Client(
            transport=httpx.WSGITransport(app=app), base_url="http://sandbox/1/", headers=HEADERS
        )
        offsets = [0, n // 4, n // 2, 3 * n // 4, (n - 1) // 50 * 50]
        seek = app.store.select_page

        def offset(conn, otype, keys, where, params, order, limit, start):  # the simulator before the seek
            return Store.select(conn, otype, keys, where, params, order, limit, start)

        condition = json.dumps([{"field": {"field": "dlm"}, "op": ">=", "value": {"value": "0"}}])
        print(f"{n} contacts, one page of 50 in default id order, in-process, {args.repeat} asks per offset")
        for label, extra in (("whole table", {}), ("condition dlm >= 0", {"condition": condition})):

            def page(start: int, extra: dict = extra) -> float:
                started = time.perf_counter()
                r = client.get("Contacts", params={"start": start, "range": 50, **extra})
                r.raise_for_status()
                assert len(r.json()["data"]) == min(50, n - start)
                return time.perf_counter() - started

            for start in range(0, n, 50):  # a client paging through once, in order
                page(start)
            times: dict[tuple[str, int], list[float]] = {}
            asks = [(mode, o) for mode in ("seek", "offset") for o in offsets for _ in range(args.repeat)]
            random.Random(0).shuffle(asks)
            for mode, start in asks:
                app.store.select_page = seek if mode == "seek" else offset  # type: ignore[method-assign]
                times.setdefault((mode, start), []).append(page(start))
            app.store.select_page = seek  # type: ignore[method-assign]
            print(f"  {label}:")
            for start in offsets:
                cells = [
                    f"{m}: {summary([t * 1000 for t in times[(m, start)]], 'ms', 2)}"
                    for m in ("seek", "offset")
                ]
                print(f"    start={start:>7}: " + "; ".join(cells), flush=True)
        client.close()
        app.close()


if __name__ == "__main__":
    main()
