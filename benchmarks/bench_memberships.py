"""Plan sequence membership edits on a large contact frame: 200,000 contacts, 1 % join, 0.5 % leave.

Run:  python benchmarks/bench_memberships.py --rows 200000 --join 0.01 --leave 0.005

The frame is a sandbox load of 2,000 contacts repeated with new ids (as in ``bench_plan.py``);
the plan is made with ``original=``. Printed: the time of ``op.plan`` with no edit at all (the
cost of comparing the membership lists), then with the membership edits, and the operations
planned (one per sequence joined or left).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

import ontraport_pandas as opd


def _best(
    op: opd.Ontraport, edited: pd.DataFrame, original: pd.DataFrame, repeat: int
) -> tuple[float, object]:
    times, plan = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        plan = op.plan(edited, original=original, object_type="contacts")
        times.append(time.perf_counter() - started)
    return min(times), plan


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--join", type=float, default=0.01, help="share of rows joining a sequence")
    ap.add_argument("--leave", type=float, default=0.005, help="share of rows leaving their sequences")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    op = opd.connect("sandbox", contacts=2000, rate_limit=None)
    base = op.contacts(progress=False)
    reps = -(-args.rows // len(base))
    original = pd.concat([base] * reps).iloc[: args.rows]
    original.index = pd.Index(np.arange(1, len(original) + 1), dtype="Int64", name="id")
    original.attrs = {}
    sequences = op.sequences(progress=False)["name"].tolist()

    unchanged, _ = _best(op, original.copy(), original, args.repeat)

    rng = np.random.default_rng(args.seed)
    edited = original.copy()
    cells = edited["updateSequence"].tolist()
    joining = rng.choice(len(edited), size=int(len(edited) * args.join), replace=False)
    for pos in joining.tolist():
        name = sequences[pos % len(sequences)]
        if name not in cells[pos]:
            cells[pos] = [*cells[pos], name]
    members = [pos for pos, cell in enumerate(cells) if cell]
    leaving = rng.choice(members, size=min(len(members), int(len(edited) * args.leave)), replace=False)
    for pos in leaving.tolist():
        cells[pos] = []
    edited["updateSequence"] = pd.Series(cells, index=edited.index, dtype=object)
    seconds, plan = _best(op, edited, original, args.repeat)
    c = plan.counts  # type: ignore[attr-defined]
    print(
        f"{args.rows} rows: plan with no edit {unchanged:.2f} s; with {len(joining)} rows joining and "
        f"{len(leaving)} leaving a sequence {seconds:.2f} s -> {c['subscribe']} subscribe and "
        f"{c['unsubscribe']} unsubscribe operation(s) over {c['member_rows']} row(s) "
        f"(best of {args.repeat})"
    )
    op.close()


if __name__ == "__main__":
    main()
