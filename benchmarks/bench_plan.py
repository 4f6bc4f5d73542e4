"""Diff and plan a large edited frame: 200,000 contacts with 1 % of cells changed.

Run:  python benchmarks/bench_plan.py --rows 200000 --changed 0.01 --repeat 5

Two edits are timed, each as the median, best and worst of ``--repeat`` plans:

* ``concentrated``: as many cells as 1 % of all cells, put into 7 editable columns (so about
  9 % of each of those columns, touching many rows);
* ``spread``: 1 % of the rows of *every* editable column except the list columns (tags,
  sequences), each given another row's value of the same column, so the edit is valid and
  really about 1 % of the editable cells, spread over all of them.

Each run times the whole ``op.plan`` call (diff, validation, building the plan); the CPU
time of the process is printed too, since wall time on a shared machine also counts the waits for
a core. The frame is built from a sandbox load of 2,000 contacts repeated with new ids (building a
200,000-contact sandbox and loading it would time the loader, not the planner). The plan is
made with ``original=`` so no snapshot is needed; planning reads only the field metadata.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

import ontraport_pandas as opd
from ontraport_pandas.diff import OPT_IN_FIELDS

try:
    from benchmarks._figures import summary
except ImportError:  # run as a script from the benchmarks folder
    from _figures import summary  # type: ignore[no-redef]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--changed", type=float, default=0.01, help="share of editable cells changed")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    op = opd.connect("sandbox", contacts=2000, rate_limit=None)
    base = op.contacts(progress=False)
    reps = -(-args.rows // len(base))
    original = pd.concat([base] * reps).iloc[: args.rows]
    original.index = pd.Index(np.arange(1, len(original) + 1), dtype="Int64", name="id")
    original.attrs = {}

    fields = op.fields("contacts")
    editable = [
        c
        for c in ("firstname", "lastname", "city", "title", "f1003", "f1004", "f1006")
        if fields.loc[c, "editable"]
    ]
    rng = np.random.default_rng(args.seed)
    concentrated = original.copy()
    n_cells = int(args.rows * len(original.columns) * args.changed)
    per_col = n_cells // len(editable)
    for col in editable:
        rows = rng.choice(len(concentrated), size=per_col, replace=False)
        if col in ("firstname", "lastname", "city", "title"):
            values = pd.array([f"v{i}" for i in rows], dtype="string")
        elif col == "f1003":
            values = pd.array(rng.integers(0, 1000, size=per_col), dtype="Int64")
        elif col == "f1004":
            values = pd.array(np.round(rng.random(per_col) * 1000, 2), dtype="Float64")
        else:
            values = pd.array(rng.random(per_col) > 0.5, dtype="boolean")
        concentrated.iloc[rows, concentrated.columns.get_loc(col)] = values

    spread = original.copy()
    every = [
        c
        for c in original.columns
        if c in fields.index and fields.loc[c, "editable"] and original[c].dtype != object
    ]
    per_col = max(1, int(args.rows * args.changed))
    schema = op.session.schema(op.session.resolve("contacts"))
    for col in every:
        rows = rng.choice(len(spread), size=per_col, replace=False)
        if col in OPT_IN_FIELDS:  # an update may only opt a contact out (the API cannot opt in)
            spread.iloc[rows, spread.columns.get_loc(col)] = schema.field(col).options["0"]
            continue
        donors = rng.choice(len(spread), size=per_col, replace=False)
        spread.iloc[rows, spread.columns.get_loc(col)] = original[col].iloc[donors].to_numpy()

    for name, edited, described in (
        ("concentrated", concentrated, f"{n_cells} cells in {len(editable)} columns"),
        ("spread", spread, f"1 % of the rows of each of {len(every)} editable columns"),
    ):
        times, cpu = [], []
        for _ in range(args.repeat):
            started, started_cpu = time.perf_counter(), time.process_time()
            plan = op.plan(edited, original=original, object_type="contacts")
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
        print(
            f"{name}: {args.rows} rows x {len(original.columns)} columns, {described}: plan of "
            f"{plan.counts['update']} updates / {plan.counts['cells']} changed cells in {summary(times)}, "
            f"best {min(times):.2f} s, worst {max(times):.2f} s; CPU time {summary(cpu)}",
            flush=True,
        )
        # Work a plan leaves for later, timed apart (once, on the last plan): what showing it
        # costs, and making the per-row operations that apply() and the journal use.
        started = time.perf_counter()
        plan.confirm_required, repr(plan), plan._repr_html_()  # noqa: B018
        shown = time.perf_counter() - started
        started = time.perf_counter()
        ops = plan.ops
        made = time.perf_counter() - started
        print(
            f"  then: repr, HTML and confirm_required {shown:.2f} s; {len(ops)} operations made {made:.2f} s"
        )
    op.close()


if __name__ == "__main__":
    main()
