"""Benchmark: wire records <-> typed DataFrame (ontraport_pandas.schema).

Generates deterministic, contact-like wire records (60 fields of mixed Ontraport types, with the
empties and nulls real replies have), then times ``frame_from_records`` and ``frame_to_records``: the median, best and worst of
``--repeat`` runs (best alone flatters on a shared machine).

Usage::

    python benchmarks/bench_convert.py --rows 200000 --repeat 5
    python benchmarks/bench_convert.py --rows 50000 --repeat 3 --seed 7

Prints figures; asserts nothing except that the round trip gives back the canonical records.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ontraport_pandas.schema import ObjectSchema, frame_from_records, frame_to_records, parse_meta  # noqa: E402

TEXT = [
    "firstname",
    "lastname",
    "email",
    "address",
    "address2",
    "city",
    "zip",
    "title",
    "company",
    "website",
    "home_phone",
    "sms_number",
    "office_phone",
    "fax",
    "facebook_link",
    "twitter_link",
    "linkedin_link",
    "instagram_link",
    "referral_page",
    "ip_addy",
    "n_lead_source",
    "n_campaign",
    "l_lead_source",
    "l_campaign",
]
STATE = ["state"]
COUNTRY = ["country"]
TIMESTAMP = ["date", "dla", "dlm", "last_inbound_sms", "f1601", "f1602", "f1603"]
FULLDATE = ["birthday"]
NUMERIC = ["bulk_mail", "bulk_sms", "priority", "num_purchased", "f1501", "f1502", "f1503"]
PRICE = ["spent", "aff_amount", "mrcAmount", "owed", "f1401"]
CHECK = ["f1301", "f1302", "f1303"]
DROP = ["f1201", "f1202", "f1203"]
LIST = ["f1101", "f1102"]
SUBSCRIPTION = ["contact_cat", "updateSequence"]
PARENT = ["owner", "freferrer", "lreferrer"]
COMPUTED = ["unique_id", "fn"]

WORDS = [
    "alpha",
    "Bravo",
    "charlie",
    "Delta",
    "echo",
    "Foxtrot",
    "golf",
    "Hotel",
    "india",
    "Juliett",
    "kilo",
    "Lima",
    "mike",
    "November",
    "Ødegård",
    "Zoë",
]


def build_meta() -> dict[str, Any]:
    fields: dict[str, Any] = {}

    def add(keys: list[str], ftype: str, **extra: Any) -> None:
        for k in keys:
            fields[k] = {
                "alias": k.title(),
                "type": ftype,
                "required": 0,
                "unique": 0,
                "editable": 1,
                "deletable": 1,
                **extra,
            }

    add(TEXT, "text")
    add(STATE, "state")
    add(COUNTRY, "country")
    add(TIMESTAMP, "timestamp")
    add(FULLDATE, "fulldate")
    add(NUMERIC, "numeric")
    add(PRICE, "price")
    add(CHECK, "check")
    add(DROP, "drop", options={str(600 + i): f"Option {i}" for i in range(12)})
    add(LIST, "list", options={str(300 + i): f"Choice {i}" for i in range(20)})
    add(SUBSCRIPTION, "subscription", extra_data='{"subModel":14}')
    add(PARENT, "parent", parent_object=2)
    fields["unique_id"] = {"alias": "Unique ID", "type": "unique", "unique": 1, "editable": 0}
    fields["fn"] = {"alias": "Full name", "type": "mergefield", "editable": 0}
    return {"0": {"name": "Contact", "fields": fields}}


def _listwire(ids: list[int]) -> str:
    return "*/*" + "*/*".join(map(str, ids)) + "*/*" if ids else ""


def make_records(n: int, seed: int) -> tuple[list[dict[str, Any]], dict[str, dict[str, str]]]:
    """Contact-like wire records.

    Distributions follow what CRM data looks like: free text mostly distinct (15 % empty, 5 % null);
    dates mostly distinct unix seconds (10 % "0", 2 % null); system numerics with a few values
    (bulk_mail, priority, ...) and two custom numerics spread over a million values; prices with many
    zeros; tags drawn from 200 with a skewed (1/rank) popularity, 0-6 per contact; list and drop
    options from 12-20 choices.
    """
    rnd = random.Random(seed)
    tags = {str(i): f"Tag {i}" for i in range(1, 200)}
    lookups = {"contact_cat": tags, "updateSequence": {str(i): f"Sequence {i}" for i in range(1, 30)}}
    tag_ids = list(range(1, 200))
    tag_weights = [1 / r for r in range(1, 200)]
    n_tags = [0, 1, 2, 3, 4, 5, 6]
    n_tag_weights = [30, 30, 18, 10, 6, 4, 2]
    recs = []
    for i in range(n):
        r: dict[str, Any] = {"id": str(i + 1)}
        for k in TEXT:
            x = rnd.random()
            r[k] = "" if x < 0.15 else None if x < 0.2 else f"{rnd.choice(WORDS)} {rnd.randrange(100_000)}"
        r["state"] = rnd.choice(["QLD", "NSW", "AU_NT", "CA", "NY", "", None])
        r["country"] = rnd.choice(["AU", "US", "GB", "NZ", ""])
        for k in TIMESTAMP:
            x = rnd.random()
            r[k] = "0" if x < 0.1 else None if x < 0.12 else str(rnd.randrange(1_420_000_000, 1_790_000_000))
        r["birthday"] = rnd.choice(["0", None, str(rnd.randrange(-600_000_000, 1_100_000_000))])
        r["bulk_mail"] = rnd.choice(["0", "1", "1", "1", "2", "-2", "-5"])
        r["bulk_sms"] = rnd.choice(["0", "0", "1", "2", "-2"])
        r["priority"] = rnd.choice(["0", "0", "8", "9", "10"])
        r["num_purchased"] = str(min(int(rnd.expovariate(0.5)), 40))
        r["f1501"] = rnd.choice(["", str(rnd.randrange(0, 100))])
        r["f1502"] = "" if rnd.random() < 0.1 else str(rnd.randrange(-1_000_000, 1_000_000))
        r["f1503"] = "" if rnd.random() < 0.1 else str(rnd.randrange(0, 10_000_000))
        for k in PRICE:
            x = rnd.random()
            r[k] = "" if x < 0.1 else "0.00" if x < 0.5 else f"{rnd.randrange(0, 10_000_000) / 100:.2f}"
        for k in CHECK:
            r[k] = rnd.choice(["0", "1", "1", None])
        for k in DROP:
            r[k] = rnd.choice(["0", "0"] + [str(600 + j) for j in range(12)])
        for k in LIST:
            r[k] = _listwire(sorted(set(rnd.choices(range(300, 320), k=rnd.choice([0, 0, 1, 1, 2, 3])))))
        ids = rnd.choices(tag_ids, tag_weights, k=rnd.choices(n_tags, n_tag_weights)[0])
        r["contact_cat"] = _listwire(list(dict.fromkeys(ids))) or rnd.choice(["", "*/*"])
        r["updateSequence"] = _listwire(rnd.sample(range(1, 30), rnd.choice([0, 0, 1, 1, 2])))
        for k in PARENT:
            r[k] = rnd.choice(["0", "1", "2", str(rnd.randrange(1, 100_000))])
        r["unique_id"] = f"U{i:06X}"
        r["fn"] = f"{r['firstname'] or ''} {r['lastname'] or ''}".strip()
        recs.append(r)
    # as a client gets them: decoded from JSON (every value its own object, as in a real reply)
    return json.loads(json.dumps(recs)), lookups


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    import numpy as np
    import pandas as pd

    schema: ObjectSchema = parse_meta(build_meta())[0]
    t0 = time.perf_counter()
    records, lookups = make_records(args.rows, args.seed)
    gen = time.perf_counter() - t0
    n_fields = len(schema.fields)
    print(f"pandas {pd.__version__}, numpy {np.__version__}, python {sys.version.split()[0]}")
    print(f"{args.rows:,} records x {n_fields} fields generated in {gen:.2f} s")

    reads: list[float] = []
    writes: list[float] = []
    frame = None
    back: list[dict[str, Any]] = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        frame = frame_from_records(records, schema, lookups=lookups)
        reads.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        back = frame_to_records(frame, schema, lookups=lookups)
        writes.append(time.perf_counter() - t0)
    assert frame is not None
    cells = args.rows * n_fields
    for name, times in (("frame_from_records", reads), ("frame_to_records", writes)):
        med = statistics.median(times)
        print(
            f"{name}: median {med:.3f} s, best {min(times):.3f} s, worst {max(times):.3f} s over "
            f"{len(times)} runs  ({args.rows / med:,.0f} rows/s, {cells / med / 1e6:.1f} M cells/s at the median)"
        )
    print(
        f"frame memory: {frame.memory_usage(deep=True).sum() / 1e6:.0f} MB; dtypes: "
        + ", ".join(f"{d}={c}" for d, c in frame.dtypes.astype(str).value_counts().items())
    )

    # the round trip gives back the canonical wire records
    def canon(r: dict[str, Any]) -> dict[str, Any]:
        out = dict(r)
        for k in [*TEXT, "state", "country", "fn"]:
            if out[k] == "":
                out[k] = None  # blank text reads as NA and writes as null
        for k in TIMESTAMP + FULLDATE:
            if out[k] is None:
                out[k] = "0"
        for k in CHECK:
            if out[k] is None:
                out[k] = "0"
        for k in SUBSCRIPTION:
            if out[k] == "*/*":
                out[k] = ""
        return out

    sample = range(0, args.rows, max(1, args.rows // 1000))
    mismatches = sum(canon(records[i]) != back[i] for i in sample)
    print(f"round trip: {len(sample) - mismatches}/{len(sample)} sampled records identical")
    return 0 if mismatches == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
