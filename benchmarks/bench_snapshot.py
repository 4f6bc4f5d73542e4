"""Snapshot the account (first, then incremental) and re-type a CSV export.

Run:  python benchmarks/bench_snapshot.py --contacts 10000

An in-process sandbox without a rate limit or latency: the figures are the library's own
work (loading through the record cache, Parquet encoding, hashing; CSV parsing and
coercion), plus the number of API requests each snapshot took.
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time

import ontraport_pandas as opd


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--contacts", type=int, default=10_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        op = opd.connect("sandbox", contacts=args.contacts, rate_limit=None, cache_dir=f"{tmp}/cache")
        for label in ("first snapshot", "incremental, nothing changed"):
            started = time.perf_counter()
            out = op.snapshot(f"{tmp}/crm", progress=False)
            took = time.perf_counter() - started
            print(
                f"{label}: {took:.2f} s, {int(out['requests'].sum())} requests, "
                f"{int(out['rows'].sum()):,} rows in {len(out)} tables, "
                f"{(out['status'] == 'written').sum()} written"
            )
        contacts = op.contacts(progress=False)
        buf = io.StringIO()
        contacts.to_csv(buf)
        started = time.perf_counter()
        back = opd.read_csv(io.StringIO(buf.getvalue()), "contacts", client=op)
        took = time.perf_counter() - started
        print(f"opd.read_csv of {len(back):,} contacts ({len(back.columns)} columns): {took:.2f} s")
        started = time.perf_counter()
        plan = op.plan(back)
        took = time.perf_counter() - started
        print(f"op.plan of the round trip against the live records: {took:.2f} s, empty={plan.empty}")
        op.close()


if __name__ == "__main__":
    main()
