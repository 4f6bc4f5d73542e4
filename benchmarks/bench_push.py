"""Push 2,000 updates to a sandbox served on loopback with latency and the rate limit on.

Run:  python benchmarks/bench_push.py --updates 2000 --latency 0.1 --rate-limit 180 --tagged 5000

Prints the push's time and requests, the rate it reached against the ceiling (the limit),
and the requests used to add one tag to 5,000 contacts (grouped tag-by-name calls).
"""

from __future__ import annotations

import argparse
import tempfile
import time

import ontraport_pandas as opd

try:
    from benchmarks._served import DEMO_API_KEY, DEMO_APP_ID, served_sandbox
except ImportError:  # run as a script from the benchmarks folder
    from _served import DEMO_API_KEY, DEMO_APP_ID, served_sandbox  # type: ignore[no-redef]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--updates", type=int, default=2000)
    ap.add_argument("--latency", type=float, default=0.1)
    ap.add_argument("--rate-limit", type=int, default=180)
    ap.add_argument("--tagged", type=int, default=5000)
    args = ap.parse_args()
    contacts = max(args.updates, args.tagged)
    journal = tempfile.mkdtemp(prefix="bench-journal-")

    with served_sandbox(contacts=contacts, latency=args.latency, rate_limit=args.rate_limit) as url:
        op = opd.connect(url, app_id=DEMO_APP_ID, api_key=DEMO_API_KEY, max_workers=8)
        frame = op.contacts(fields=["lastname", "contact_cat"], progress=False)
        # Let the window the load used drain, so the push starts like a push a while after a load.
        time.sleep(61 if args.rate_limit else 0)
        edited = frame.copy()
        ids = frame.index[: args.updates]
        edited.loc[ids, "lastname"] = edited.loc[ids, "lastname"].fillna("").astype("string") + " (cleaned)"
        plan = op.plan(edited)
        sent0 = op.session.requests_sent
        started = time.perf_counter()
        result = plan.apply(confirm=plan.confirm_required, journal_dir=journal)
        seconds = time.perf_counter() - started
        requests = op.session.requests_sent - sent0
        result.raise_for_errors()
        per_min = requests / seconds * 60
        # Steady state: the first `limit` requests of a fresh window go out at once, so the
        # fraction is measured on the requests beyond that burst.
        burst = args.rate_limit
        print(
            f"push of {plan.counts['update']} updates: {seconds:.1f} s, {requests} requests "
            f"({requests - plan.counts['update']} reads: conflict check and read-back), {per_min:.0f} requests/min "
            f"vs the limit of {args.rate_limit}/min -> {per_min / args.rate_limit:.0%} of the ceiling"
        )
        if requests > burst:
            # time to send what exceeds the first window's burst, at the limit's pace
            ideal = (requests - burst) / args.rate_limit * 60
            print(
                f"  beyond the first window's burst of {burst}: {requests - burst} requests; "
                f"ideal {ideal:.0f} s at the limit; the push took {seconds:.0f} s -> {ideal / seconds:.0%} of the ceiling"
            )

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
