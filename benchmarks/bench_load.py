"""Load N contacts from a sandbox served on loopback: naive loop vs the toolkit vs the ceiling.

Run:  python benchmarks/bench_load.py --contacts 20000 --latency 0.1 --rate-limit 180

Prints, in one run and side by side, for the rate-limited server and for the same
server with the limit lifted (latency-bound):

* a naive sequential loop over ``start`` (how users write it today: one page after
  another, sleeping out a 429 when it comes, then ``pd.DataFrame(rows)`` untyped);
* the toolkit's load (``op.contacts()``: count first, concurrent pages, shared limiter);
* the theoretical ceiling (limit x 50 records a minute) and the fraction reached;
* peak memory of the toolkit's load (tracemalloc) against the final frame's size;
* an incremental refresh (``cache=True``) after 1 % of the records changed.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
import tracemalloc

import httpx
import pandas as pd

import ontraport_pandas as opd
from ontraport_pandas.sandbox import SandboxConfig, create_app

try:
    from benchmarks._served import DEMO_API_KEY, DEMO_APP_ID, served_sandbox
except ImportError:  # run as a script from the benchmarks folder
    from _served import DEMO_API_KEY, DEMO_APP_ID, served_sandbox  # type: ignore[no-redef]


def naive_load(url: str) -> tuple[pd.DataFrame, float, int]:
    """The loop users write by hand: sequential pages, sleep on 429, untyped frame."""
    started = time.perf_counter()
    rows: list[dict] = []
    start = 0
    requests = 0
    with httpx.Client(
        base_url=url, headers={"Api-Appid": DEMO_APP_ID, "Api-Key": DEMO_API_KEY}, timeout=60
    ) as c:
        while True:
            r = c.get("Contacts", params={"start": start, "range": 50, "sort": "id", "sortDir": "asc"})
            requests += 1
            if r.status_code == 429:
                time.sleep(float(r.headers.get("X-Rate-Limit-Reset", "1")) or 1)
                continue
            r.raise_for_status()
            page = r.json()["data"]
            rows.extend(page)
            if len(page) < 50:
                break
            start += 50
    return pd.DataFrame(rows), time.perf_counter() - started, requests


def toolkit_load(
    url: str, *, cache_dir: str | None = None, cache: bool = False, trace: bool = True
) -> tuple[pd.DataFrame, float, int, int]:
    op = opd.connect(url, app_id=DEMO_APP_ID, api_key=DEMO_API_KEY, max_workers=8, cache_dir=cache_dir)
    op.cache_key = "benchmark"  # each run serves on a new port; the cache belongs to the one account
    op.session.meta()  # metadata once, outside the timing (a notebook has it after the first call)
    op.session.lookups("contacts")
    sent0 = op.session.requests_sent
    if trace:  # tracemalloc slows allocation-heavy code: timings of traced runs are pessimistic
        tracemalloc.start()
    started = time.perf_counter()
    frame = op.contacts(progress=False, cache=cache)
    seconds = time.perf_counter() - started
    peak = 0
    if trace:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    requests = op.session.requests_sent - sent0
    op.close()
    return frame, seconds, peak, requests


def change_one_percent(url: str, frame: pd.DataFrame) -> int:
    op = opd.connect(url, app_id=DEMO_APP_ID, api_key=DEMO_API_KEY, max_workers=8)
    ids = frame.index[::100].tolist()
    edited = frame.loc[ids, ["lastname"]].copy()
    edited["lastname"] = edited["lastname"].fillna("").astype("string") + " (edited)"
    plan = op.plan(edited, original=frame.loc[ids, ["lastname"]], object_type="contacts")
    plan.apply(confirm=plan.confirm_required, journal_dir=tempfile.mkdtemp()).raise_for_errors()
    op.close()
    return len(ids)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--contacts", type=int, default=20000)
    ap.add_argument("--latency", type=float, default=0.1)
    ap.add_argument("--rate-limit", type=int, default=180)
    ap.add_argument("--only-incremental", action="store_true", help="skip the naive-vs-toolkit table")
    args = ap.parse_args()
    n = args.contacts
    ceiling = args.rate_limit * 50  # records a minute
    print(
        f"{n} contacts, {args.latency * 1000:.0f} ms latency per request, loopback server in a child process\n"
    )

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        # Generate the data once; every measurement runs on a fresh copy, so that no run
        # starts with a rate-limit window another run has spent.
        seed_db = f"{tmp}/seed.sqlite3"
        create_app(SandboxConfig(path=seed_db, contacts=n)).close()

        def fresh(name: str) -> str:
            path = f"{tmp}/{name}.sqlite3"
            shutil.copyfile(seed_db, path)
            return path

        modes = (
            []
            if args.only_incremental
            else [("rate-limited", args.rate_limit), ("latency-bound (limit lifted)", None)]
        )
        for label, limit in modes:
            with served_sandbox(
                contacts=n, latency=args.latency, rate_limit=limit, path=fresh("naive")
            ) as url:
                naive, naive_s, naive_req = naive_load(url)
                assert len(naive) == n, len(naive)
            with served_sandbox(
                contacts=n, latency=args.latency, rate_limit=limit, path=fresh("toolkit")
            ) as url:
                # Memory is traced in the rate-limited run, where the waits dwarf tracemalloc's overhead.
                frame, s, peak, req = toolkit_load(url, trace=limit is not None)
                assert len(frame) == n, len(frame)
            size = int(frame.memory_usage(deep=True).sum())
            rate = n / s * 60
            rows.append(
                {
                    "server": label,
                    "naive s": round(naive_s, 1),
                    "naive req": naive_req,
                    "toolkit s": round(s, 1),
                    "toolkit req": req,
                    "speed-up": round(naive_s / s, 1),
                    "records/min": round(rate),
                    "ceiling/min": ceiling if limit else None,
                    "of ceiling": f"{rate / ceiling:.0%}" if limit else "",
                    "frame MB": round(size / 1e6, 1),
                    "peak MB": round(peak / 1e6, 1) if peak else None,
                    "peak/frame": round(peak / size, 2) if peak else None,
                }
            )
        if rows:
            table = pd.DataFrame(rows).set_index("server")
            with pd.option_context("display.width", 200, "display.max_columns", 20):
                print(table.to_string())

        # Incremental refresh: a full load into the cache, 1 % of the records changed by
        # someone else (through a second server on the same file), then a refresh.
        print()
        for label, limit in (("rate-limited", args.rate_limit), ("latency-bound", None)):
            db = fresh(f"inc-{limit}")
            cache_dir = f"{tmp}/cache-{limit}"
            with served_sandbox(contacts=n, latency=args.latency, rate_limit=limit, path=db) as url:
                full, full_s, _, full_req = toolkit_load(url, cache_dir=cache_dir, cache=True, trace=False)
            with served_sandbox(contacts=n, latency=0, rate_limit=None, path=db) as other:
                changed = change_one_percent(other, full)
            with served_sandbox(
                contacts=n, latency=args.latency, rate_limit=limit, path=fresh_window(db, tmp)
            ) as url:
                refreshed, inc_s, _, inc_req = toolkit_load(url, cache_dir=cache_dir, cache=True, trace=False)
                fresh_frame, _, _, _ = toolkit_load(url)
            pd.testing.assert_frame_equal(refreshed, fresh_frame, check_flags=False)
            print(
                f"incremental refresh ({label}) after {changed} of {n} records changed: "
                f"{inc_s:.2f} s / {inc_req} requests vs full load {full_s:.1f} s / {full_req} requests "
                f"-> {full_s / inc_s:.0f}x faster; the refreshed frame equals a full load"
            )


def fresh_window(db: str, tmp: str) -> str:
    """A copy of ``db`` whose rate-limit window is empty (as when a refresh comes minutes later)."""
    import sqlite3

    path = f"{tmp}/window-{time.monotonic_ns()}.sqlite3"
    src = sqlite3.connect(db)
    dst = sqlite3.connect(path)
    src.backup(dst)
    src.close()
    tables = [
        r[0] for r in dst.execute("SELECT name FROM sqlite_master WHERE type='table' AND name LIKE '%rate%'")
    ]
    for t in tables:
        dst.execute(f'DELETE FROM "{t}"')
    dst.commit()
    dst.close()
    return path


if __name__ == "__main__":
    main()
