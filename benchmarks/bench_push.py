"""Push 2,000 updates to a sandbox served on loopback with latency and the rate limit on.

Run:  python benchmarks/bench_push.py --updates 2000 --latency 0.1 --rate-limit 180 --tagged 5000 --runs 3

Prints, per run and as median and range, the push's time and requests (the updates, the reads
of the conflict check and read-back, and the 429 answers, counted apart), and its share of the
**fastest schedule** any client could achieve for the same useful requests from the same
window state (``_figures.fastest_schedule``). ``--window fresh`` lets the window the load used
drain first (61 s); ``--window full`` (default) starts the push with the window pre-filled
evenly, the steady state a push meets after its first minute. Then the requests used to add
one tag to 5,000 contacts (grouped tag-by-name calls).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import ontraport_pandas as opd
from ontraport_pandas.sandbox import SandboxConfig, create_app

try:
    from benchmarks._figures import fastest_schedule, summary
    from benchmarks._served import DEMO_API_KEY, DEMO_APP_ID, served_sandbox
    from benchmarks.bench_load import clear_window, prefill_window, window_hits
except ImportError:  # run as a script from the benchmarks folder
    from _figures import fastest_schedule, summary  # type: ignore[no-redef]
    from _served import DEMO_API_KEY, DEMO_APP_ID, served_sandbox  # type: ignore[no-redef]
    from bench_load import clear_window, prefill_window, window_hits  # type: ignore[no-redef]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--updates", type=int, default=2000)
    ap.add_argument("--latency", type=float, default=0.1)
    ap.add_argument("--rate-limit", type=int, default=180)
    ap.add_argument("--tagged", type=int, default=5000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--window", choices=["full", "fresh"], default="full")
    args = ap.parse_args()
    contacts = max(args.updates, args.tagged)
    journal = tempfile.mkdtemp(prefix="bench-journal-")
    tmp = tempfile.mkdtemp(prefix="bench-push-")
    db = os.path.join(tmp, "push.sqlite3")
    create_app(SandboxConfig(path=db, contacts=contacts)).close()
    limit = args.rate_limit
    secs, shares, reqs, limited_all = [], [], [], []

    with served_sandbox(contacts=contacts, latency=args.latency, rate_limit=limit, path=db) as url:
        op = opd.connect(url, app_id=DEMO_APP_ID, api_key=DEMO_API_KEY, max_workers=8)
        for run in range(args.runs):
            frame = op.contacts(fields=["lastname", "contact_cat"], progress=False)
            edited = frame.copy()
            ids = frame.index[: args.updates]
            edited.loc[ids, "lastname"] = (
                edited.loc[ids, "lastname"].fillna("").astype("string") + f" (cleaned {run})"
            )
            plan = op.plan(edited)
            if args.window == "full":
                prefill_window(db, limit)
                op.request(
                    "GET", "Contacts/getInfo"
                )  # the limiter learns the full window, as in steady state
            else:
                time.sleep(61)  # let the window the load used drain
                clear_window(db)
            sent0, limited0 = op.session.requests_sent, op.session.rate_limited
            t0 = time.time()
            prefill = [t - t0 for t in window_hits(db)]
            started = time.perf_counter()
            result = plan.apply(confirm=plan.confirm_required, journal_dir=journal)
            seconds = time.perf_counter() - started
            requests = op.session.requests_sent - sent0
            limited = op.session.rate_limited - limited0
            result.raise_for_errors()
            useful = requests - limited
            ideal = fastest_schedule(useful, limit=limit, latency=args.latency, prefill=prefill)
            secs.append(seconds)
            shares.append(100 * ideal / seconds)
            reqs.append(requests)
            limited_all.append(limited)
            print(
                f"  run {run + 1}: push of {plan.counts['update']} updates: {seconds:.1f} s, {requests} requests "
                f"({useful - plan.counts['update']} reads: conflict check and read-back; {limited} answered 429); "
                f"fastest schedule {ideal:.1f} s -> {100 * ideal / seconds:.1f} %",
                flush=True,
            )
        print(
            f"push, {args.window} window: {summary(secs, digits=1)}; share of the fastest schedule "
            f"{summary(shares, '%', 1)}; 429 answers {limited_all} of {reqs} requests "
            f"({100 * sum(limited_all) / max(1, sum(reqs)):.1f} %)"
        )
        clear_window(db)

        tagged = op.contacts(fields=["contact_cat"], progress=False)
        ids = tagged.index[: args.tagged]
        edited = tagged.copy()
        edited.loc[ids, "contact_cat"] = edited.loc[ids, "contact_cat"].map(lambda t: [*t, "Benchmark Tag"])
        plan = op.plan(edited)
        sent0 = op.session.requests_sent
        result = plan.apply(confirm=plan.confirm_required, journal_dir=journal)
        result.raise_for_errors()
        print(f"tagging {len(ids)} contacts with one tag: {op.session.requests_sent - sent0} request(s)")
        op.close()


if __name__ == "__main__":
    main()
