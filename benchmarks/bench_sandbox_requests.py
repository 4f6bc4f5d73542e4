"""Per-request cost of the in-process sandbox: single reads and pages, before and after a custom field.

Run:  python benchmarks/bench_sandbox_requests.py --contacts 2000 --reads 1000

Every request resolves the object type against the field editor's layout (one small
read of the store); this prints what a single read and a page cost, first on the demo
layout and then after a custom field was added (the layout is then rebuilt from the
store once and cached).
"""

from __future__ import annotations

import argparse
import time

import httpx

from ontraport_pandas.sandbox import DEMO_API_KEY, DEMO_APP_ID, create_app


def measure(client: httpx.Client, reads: int, contacts: int) -> tuple[float, float]:
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for i in range(1, reads + 1):
            client.get("Contact", params={"id": (i % contacts) + 1})
        best = min(best, time.perf_counter() - started)
    started = time.perf_counter()
    pages = 0
    for start in range(0, contacts, 50):
        client.get("Contacts", params={"start": start, "range": 50})
        pages += 1
    return best / reads * 1000, (time.perf_counter() - started) / max(1, pages) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=2000)
    parser.add_argument("--reads", type=int, default=1000)
    args = parser.parse_args()
    app = create_app(contacts=args.contacts, rate_limit=None)
    headers = {"Api-Appid": DEMO_APP_ID, "Api-Key": DEMO_API_KEY}
    with httpx.Client(
        transport=httpx.WSGITransport(app=app), base_url="http://sandbox/1/", headers=headers
    ) as client:
        single, page = measure(client, args.reads, args.contacts)
        print(f"demo layout:        {single:.3f} ms per single read, {page:.2f} ms per page of 50")
        client.post("Contacts/fieldeditor", json={"name": "Bench", "fields": [{"alias": "Bench field"}]})
        single, page = measure(client, args.reads, args.contacts)
        print(f"with a custom field: {single:.3f} ms per single read, {page:.2f} ms per page of 50")
    app.close()


if __name__ == "__main__":
    main()
