"""Diff and plan a large edited frame: 200,000 contacts with 1 % of cells changed.

Run:  python benchmarks/bench_plan.py --rows 200000 --changed 0.01

The frame is built from a sandbox load of 2,000 contacts repeated with new ids (building a
200,000-contact sandbox and loading it would time the loader, not the planner). The plan is
made with ``original=`` so no snapshot is needed; planning reads only the field metadata.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

import ontraport_pandas as opd


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
    edited = original.copy()
    n_cells = int(args.rows * len(original.columns) * args.changed)
    per_col = n_cells // len(editable)
    for col in editable:
        rows = rng.choice(len(edited), size=per_col, replace=False)
        if col in ("firstname", "lastname", "city", "title"):
            values = pd.array([f"v{i}" for i in rows], dtype="string")
        elif col == "f1003":
            values = pd.array(rng.integers(0, 1000, size=per_col), dtype="Int64")
        elif col == "f1004":
            values = pd.array(np.round(rng.random(per_col) * 1000, 2), dtype="Float64")
        else:
            values = pd.array(rng.random(per_col) > 0.5, dtype="boolean")
        edited.iloc[rows, edited.columns.get_loc(col)] = values

    times = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        plan = op.plan(edited, original=original, object_type="contacts")
        times.append(time.perf_counter() - started)
    seconds = min(times)
    cells = plan.counts["cells"]
    print(
        f"{args.rows} rows x {len(original.columns)} columns, {n_cells} cells edited "
        f"({args.changed:.1%} of all cells, in {len(editable)} columns): plan of {plan.counts['update']} updates "
        f"/ {cells} changed cells in {seconds:.2f} s "
        f"(best of {args.repeat}; all: {', '.join(f'{t:.2f}' for t in times)})"
    )
    op.close()


if __name__ == "__main__":
    main()
