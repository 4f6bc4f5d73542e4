"""where= at scale: compile time against the number of terms, and a long ``in`` list loaded over HTTP.

Run:  python benchmarks/bench_query.py --terms 1000 4000 16000 --emails 1000 --contacts 2000

Prints

* the time to compile ``" or ".join("firstname == 'n<i>'" ...)`` (and the same with ``|`` and with
  ``and ... !=``) for each number of terms: it should grow linearly;
* a load of ``email in [<N e-mails>]`` from a sandbox served on loopback (no rate limit, no latency):
  requests sent, the longest URL, seconds, and that the rows equal the pandas filter of a full load.
"""

from __future__ import annotations

import argparse
import time

import httpx

import ontraport_pandas as opd
from ontraport_pandas.query import compile_where

try:
    from benchmarks._served import DEMO_API_KEY, DEMO_APP_ID, served_sandbox
except ImportError:  # run as a script from the benchmarks folder
    from _served import DEMO_API_KEY, DEMO_APP_ID, served_sandbox  # type: ignore[no-redef]


def compile_times(terms: list[int]) -> None:
    op = opd.connect("sandbox", contacts=10, rate_limit=None)
    schema = op.session.schema(op.session.resolve("contacts"))
    op.close()
    print(f"{'terms':>8} {'or (s)':>8} {'| (s)':>8} {'and != (s)':>11}")
    for n in terms:
        row = []
        for expr in (
            " or ".join(f"firstname == 'n{i}'" for i in range(n)),
            " | ".join(f"(firstname == 'n{i}')" for i in range(n)),
            " and ".join(f"f1003 != {i}" for i in range(n)),
        ):
            started = time.perf_counter()
            compile_where(expr, schema, partial=True)
            row.append(time.perf_counter() - started)
        print(f"{n:>8} {row[0]:>8.3f} {row[1]:>8.3f} {row[2]:>11.3f}")


def long_in_list(emails: int, contacts: int) -> None:
    urls: list[int] = []

    def count_request(request: httpx.Request) -> None:
        urls.append(len(str(request.url)))

    with served_sandbox(contacts=contacts, latency=0.0, rate_limit=None) as url:
        op = opd.connect(url, app_id=DEMO_APP_ID, api_key=DEMO_API_KEY)
        full = op.contacts(progress=False)
        values = full["email"].dropna().unique().tolist()[:emails]
        values += [f"nobody{i}@nowhere.invalid" for i in range(emails - len(values))]
        client = getattr(op.transport, "_client", None)  # the httpx.Client, to measure the URLs
        if client is not None:
            client.event_hooks["request"].append(count_request)
        started = time.perf_counter()
        got = op.contacts(where=f"email in {values!r}", progress=False)
        seconds = time.perf_counter() - started
        want = full[full["email"].isin(values).fillna(False).astype(bool)]
        same = got.sort_index().equals(want.sort_index())
        op.close()
    print(
        f"\nemail in [{emails} e-mails] over HTTP, {contacts} contacts: {len(got)} rows in {seconds:.2f} s, "
        f"{len(urls) or '?'} requests, longest URL {max(urls) if urls else '?'} characters, "
        f"equals the pandas filter: {same}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--terms", type=int, nargs="+", default=[1000, 4000, 16000])
    ap.add_argument("--emails", type=int, default=1000)
    ap.add_argument("--contacts", type=int, default=2000)
    args = ap.parse_args()
    compile_times(args.terms)
    long_in_list(args.emails, args.contacts)


if __name__ == "__main__":
    main()
