"""Load N contacts from a sandbox served on loopback: a naive loop, 8 threads, the toolkit.

Run (each figure is the median and range over ``--runs`` runs)::

    python benchmarks/bench_load.py --contacts 20000 --latency 0.1 --rate-limit 180 --runs 3
    python benchmarks/bench_load.py --contacts 3000 --windows full --no-latency-bound   # steady state
    python benchmarks/bench_load.py --contacts 20000 --only-incremental                  # refresh
    python benchmarks/bench_load.py --contacts 10000 --windows fresh --no-latency-bound --runs 1 --trace  # memory

Rate-limited figures are shares of the **fastest schedule** any client could achieve from the
same window state (``_figures.fastest_schedule``: the sandbox's rolling window, the requests
already in it when the timing starts, the latency): ``--windows fresh`` starts with an empty
window (apart from the requests the toolkit's metadata used), ``--windows full`` with a window
pre-filled evenly with ``limit`` requests (steady state: the window a long load or a push meets
after its first minute). A share above 100 % is impossible; the free first-window burst no
longer flatters anyone. 429 answers are counted apart from the requests that did work.

The latency-bound table (limit lifted) compares the toolkit with a sequential loop and with
the 25-line baseline a competent user writes: 8 threads of httpx over ``start`` and
``pd.json_normalize`` (untyped).

``--only-incremental`` measures ``op.contacts(cache=True)`` after 1 % of the contacts were
edited, 10 deleted and 10 created by someone else, against a plain full load (no cache) of the
same data: on the client that loaded them (its last frame is in memory) and on a new client
that reads the snapshot file; both refreshed frames are checked equal to a fresh full load.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import tempfile
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor

import httpx
import pandas as pd

import ontraport_pandas as opd
from ontraport_pandas.sandbox import SandboxConfig, create_app

try:
    from benchmarks._figures import even_window, fastest_schedule, summary
    from benchmarks._served import DEMO_API_KEY, DEMO_APP_ID, served_sandbox
except ImportError:  # run as a script from the benchmarks folder
    from _figures import even_window, fastest_schedule, summary  # type: ignore[no-redef]
    from _served import DEMO_API_KEY, DEMO_APP_ID, served_sandbox  # type: ignore[no-redef]

PAGE = 50
HEADERS = {"Api-Appid": DEMO_APP_ID, "Api-Key": DEMO_API_KEY}


# -- the window state, read from and written to the served sandbox's file -----------------------
def window_hits(db: str) -> list[float]:
    """Count times (``time.time()``) of the requests in the rate-limit window now."""
    with sqlite3.connect(db, timeout=30) as conn:
        return [r[0] for r in conn.execute("SELECT t FROM rate_hits WHERE app_id = ?", (DEMO_APP_ID,))]


def prefill_window(db: str, limit: int, window: float = 60.0) -> None:
    """Fill the window evenly, as a client that has sent at the limit for a while leaves it."""
    now = time.time()
    with sqlite3.connect(db, timeout=30) as conn:
        conn.execute("DELETE FROM rate_hits WHERE app_id = ?", (DEMO_APP_ID,))
        conn.executemany(
            "INSERT INTO rate_hits (app_id, t) VALUES (?, ?)",
            [(DEMO_APP_ID, now + t) for t in even_window(limit, window)],
        )


def clear_window(db: str) -> None:
    with sqlite3.connect(db, timeout=30) as conn:
        conn.execute("DELETE FROM rate_hits")


# -- the three clients --------------------------------------------------------------------------
def naive_load(url: str) -> tuple[pd.DataFrame, int, int]:
    """The loop users write by hand: sequential pages, sleep on 429, untyped frame."""
    rows: list[dict] = []
    start = requests = limited = 0
    with httpx.Client(base_url=url, headers=HEADERS, timeout=60) as c:
        while True:
            r = c.get("Contacts", params={"start": start, "range": PAGE, "sort": "id", "sortDir": "asc"})
            requests += 1
            if r.status_code == 429:
                limited += 1
                time.sleep(float(r.headers.get("X-Rate-Limit-Reset", "1")) or 1)
                continue
            r.raise_for_status()
            page = r.json()["data"]
            rows.extend(page)
            if len(page) < PAGE:
                break
            start += PAGE
    return pd.DataFrame(rows), requests, limited


def threaded_load(url: str) -> tuple[pd.DataFrame, int, int]:
    """The 25-line baseline: count, 8 threads of httpx over the pages, ``json_normalize``."""
    with httpx.Client(base_url=url, headers=HEADERS, timeout=60) as c:
        count = int(c.get("Contacts/getInfo").json()["data"]["count"])

        def page(start: int) -> list[dict]:
            r = c.get("Contacts", params={"start": start, "range": PAGE, "sort": "id", "sortDir": "asc"})
            r.raise_for_status()
            return r.json()["data"]

        with ThreadPoolExecutor(8) as pool:
            pages = list(pool.map(page, range(0, count, PAGE)))
    rows = [row for p in pages for row in p]
    return pd.json_normalize(rows), 1 + len(pages), 0


def connect(url: str, cache_dir: str | None = None) -> opd.Ontraport:
    op = opd.connect(url, app_id=DEMO_APP_ID, api_key=DEMO_API_KEY, max_workers=8, cache_dir=cache_dir)
    op.cache_key = "benchmark"  # each run serves on a new port; the cache belongs to the one account
    op.session.meta()  # metadata once, outside the timing (a notebook has it after the first call)
    op.session.lookups("contacts")
    return op


def toolkit_load(
    op: opd.Ontraport, *, cache: bool = False, trace: bool = False
) -> tuple[pd.DataFrame, int, int, int]:
    sent0, limited0 = op.session.requests_sent, op.session.rate_limited
    if trace:  # tracemalloc slows allocation-heavy code: only traced where waits dominate
        tracemalloc.start()
    frame = op.contacts(progress=False, cache=cache)
    peak = 0
    if trace:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return frame, op.session.requests_sent - sent0, op.session.rate_limited - limited0, peak


# -- the tables ---------------------------------------------------------------------------------
def rate_limited(args: argparse.Namespace, fresh, window_kind: str) -> dict:
    n, limit = args.contacts, args.rate_limit
    pages = -(-n // PAGE)
    out: dict = {"window": window_kind}
    for client in ("naive", "toolkit"):
        shares, secs, reqs, lim, tails, peaks = [], [], [], [], [], []
        for _ in range(args.runs):
            db = fresh(f"{client}-{window_kind}")
            with served_sandbox(contacts=n, latency=args.latency, rate_limit=limit, path=db) as url:
                if window_kind == "full":
                    # Before the toolkit's metadata requests, so that its limiter learns the
                    # full window from the server's answers, as a client in steady state knows it.
                    prefill_window(db, limit)
                op = connect(url) if client == "toolkit" else None
                t0 = time.time()
                prefill = [t - t0 for t in window_hits(db)]
                started = time.perf_counter()
                if op is not None:
                    frame, req, limited, peak = toolkit_load(op, trace=args.trace and window_kind == "fresh")
                    op.close()
                else:
                    frame, req, limited = naive_load(url)
                    peak = 0
                seconds = time.perf_counter() - started
                last = max(window_hits(db)) - t0
                assert len(frame) == n, len(frame)
            ideal = fastest_schedule(pages, limit=limit, latency=args.latency, prefill=prefill)
            shares.append(100 * ideal / seconds)
            secs.append(seconds)
            reqs.append(req)
            lim.append(limited)
            tails.append(seconds - last)
            if peak:
                peaks.append(peak / frame.memory_usage(deep=True).sum())
        out[client] = {
            "seconds": secs,
            "share": shares,
            "requests": reqs,
            "429": lim,
            "tail": tails,
            "peak/frame": peaks,
            "ideal": ideal,
        }
        print(
            f"  {client:8s} {window_kind} window: {summary(secs, digits=1)}; fastest schedule "
            f"{ideal:.1f} s -> {summary(shares, '%', 1)}; requests {reqs}, of them 429 {lim} "
            f"({100 * sum(lim) / max(1, sum(reqs)):.1f} %); frame ready {summary(tails)} after the last "
            f"page was counted" + (f"; peak memory / frame {summary(peaks, 'x')}" if peaks else ""),
            flush=True,
        )
    return out


def latency_bound(args: argparse.Namespace, fresh) -> None:
    n = args.contacts
    results: dict[str, list[float]] = {"naive": [], "threads": [], "toolkit": []}
    for _ in range(args.runs):
        with served_sandbox(contacts=n, latency=args.latency, rate_limit=None, path=fresh("lb")) as url:
            for name, load in (("naive", naive_load), ("threads", threaded_load)):
                started = time.perf_counter()
                frame, _, _ = load(url)
                results[name].append(time.perf_counter() - started)
                assert len(frame) == n, len(frame)
            op = connect(url)
            started = time.perf_counter()
            frame, *_ = toolkit_load(op)
            results["toolkit"].append(time.perf_counter() - started)
            op.close()
            assert len(frame) == n, len(frame)
    med = {k: sorted(v)[len(v) // 2] for k, v in results.items()}
    for name, values in results.items():
        print(f"  {name:8s} latency-bound: {summary(values)}", flush=True)
    print(
        f"  toolkit (typed) vs naive loop: {med['naive'] / med['toolkit']:.1f}x faster; "
        f"vs 8 threads + json_normalize (untyped): {med['threads'] / med['toolkit']:.2f}x",
        flush=True,
    )


def mutate(url: str, frame: pd.DataFrame, deletions: int, creations: int) -> tuple[int, int, int]:
    """1 % of the contacts edited (lastname), ``deletions`` deleted, ``creations`` created."""
    op = opd.connect(url, app_id=DEMO_APP_ID, api_key=DEMO_API_KEY, max_workers=8)
    ids = frame.index[::100].tolist()
    edited = frame.loc[ids, ["lastname"]].copy()
    edited["lastname"] = edited["lastname"].fillna("").astype("string") + " (edited)"
    plan = op.plan(edited, original=frame.loc[ids, ["lastname"]], object_type="contacts")
    plan.apply(confirm=plan.confirm_required, journal_dir=tempfile.mkdtemp()).raise_for_errors()
    step = max(1, len(frame) // (deletions + 1))
    gone = [int(i) for i in frame.index[step::step][:deletions] if int(i) not in set(ids)]
    for rid in gone:
        op.request("DELETE", "Contact", params={"id": rid})
    for k in range(creations):
        op.request("POST", "Contacts", json={"firstname": f"New{k}", "email": f"new{k}@example.com"})
    op.close()
    return len(ids), len(gone), creations


def incremental(args: argparse.Namespace, fresh, tmp: str) -> None:
    """The refresh a user gets on the client they loaded with, and on a new client reading the snapshot.

    The contacts are loaded (cache written) and then changed by someone else on a sandbox
    without latency or limit; the same store is then served again on the same port with
    the latency and limit under test, so the loading client keeps its URL and its frame.
    """
    n = args.contacts
    modes = [("rate-limited", args.rate_limit), ("latency-bound", None)]
    for label, limit in [m for m in modes if args.incremental_modes in ("both", m[0])]:
        full_s, same_s, new_s, same_req, new_req = [], [], [], [], []
        for run in range(args.runs):
            db = fresh(f"inc-{limit}-{run}")
            cache_dir, other_dir = f"{tmp}/cache-{limit}-{run}", f"{tmp}/cache-{limit}-{run}-new"
            with served_sandbox(contacts=n, latency=0, rate_limit=None, path=db) as url:
                op = connect(url, cache_dir)
                full, *_ = toolkit_load(op, cache=True)
                op.record_cache().flush()  # the snapshot on disk, as a later session finds it
                shutil.copytree(cache_dir, other_dir)
                counts = mutate(url, full, 10, 10)
            port = int(url.rsplit(":", 1)[1].split("/")[0])
            served = {"contacts": n, "latency": args.latency, "rate_limit": limit, "path": db, "port": port}
            clear_window(db)
            with served_sandbox(**served):
                started = time.perf_counter()
                same, req, *_ = toolkit_load(op, cache=True)  # the client that loaded: frame in memory
                same_s.append(time.perf_counter() - started)
                same_req.append(req)
                op.close()
            clear_window(db)
            with served_sandbox(**served) as url:
                other = connect(url, other_dir)
                started = time.perf_counter()
                new, req, *_ = toolkit_load(other, cache=True)  # a new client: reads the snapshot file
                new_s.append(time.perf_counter() - started)
                new_req.append(req)
                other.close()
            clear_window(db)
            with served_sandbox(**served) as url:
                plain_op = connect(url)
                started = time.perf_counter()
                plain, *_ = toolkit_load(plain_op)  # the denominator: a plain full load, no cache written
                full_s.append(time.perf_counter() - started)
                plain_op.close()
            pd.testing.assert_frame_equal(same, plain, check_flags=False)
            pd.testing.assert_frame_equal(new, plain, check_flags=False)
        print(
            f"  incremental refresh ({label}) after {counts[0]} edited, {counts[1]} deleted, {counts[2]} created "
            f"of {n}; plain full load {summary(full_s, digits=1)}; both refreshed frames equal a full load",
            flush=True,
        )
        for who, secs, reqs in (("same client", same_s, same_req), ("new client", new_s, new_req)):
            ratios = [f / i for f, i in zip(full_s, secs, strict=True)]
            print(
                f"    {who}: refresh {summary(secs)} / requests {reqs} -> {summary(ratios, 'x', 1)} faster",
                flush=True,
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--contacts", type=int, default=20000)
    ap.add_argument("--latency", type=float, default=0.1)
    ap.add_argument("--rate-limit", type=int, default=180)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--windows", default="fresh,full", help="rate-limited runs: fresh, full, or both")
    ap.add_argument("--no-latency-bound", action="store_true")
    ap.add_argument(
        "--trace",
        action="store_true",
        help="measure the toolkit's peak memory with tracemalloc in fresh-window runs (slows typing: "
        "the time and 'frame ready' figures of traced runs are pessimistic)",
    )
    ap.add_argument("--only-incremental", action="store_true", help="only the incremental refresh")
    ap.add_argument("--incremental-modes", choices=["both", "rate-limited", "latency-bound"], default="both")
    args = ap.parse_args()
    print(
        f"{args.contacts} contacts, {args.latency * 1000:.0f} ms latency per request, limit "
        f"{args.rate_limit}/min, {args.runs} runs, loopback server in a child process\n",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as tmp:
        # Generate the data once; every run serves a fresh copy.
        seed_db = f"{tmp}/seed.sqlite3"
        create_app(SandboxConfig(path=seed_db, contacts=args.contacts)).close()
        counter = iter(range(10**9))

        def fresh(name: str) -> str:
            path = f"{tmp}/{name}-{next(counter)}.sqlite3"
            shutil.copyfile(seed_db, path)
            return path

        if args.only_incremental:
            incremental(args, fresh, tmp)
            return
        for kind in [w for w in args.windows.split(",") if w]:
            rate_limited(args, fresh, kind)
        if not args.no_latency_bound:
            latency_bound(args, fresh)


if __name__ == "__main__":
    main()
