"""Find duplicates and clean a large contact frame: the cleanup kit and ``find_duplicates``.

Run:  python benchmarks/bench_duplicates.py --rows 20000

The frame is a sandbox load of 2,000 contacts repeated with new ids and their names
shuffled per copy (so that the fuzzy name matching has blocks of realistic size); the
copies share e-mails and phones with the original, so every copy is a duplicate group.
Prints seconds per step (best of ``--repeat``) and what was found.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

import ontraport_pandas as opd
from ontraport_pandas import clean
from ontraport_pandas.duplicates import find_duplicates


def _best(fn, repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - started)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    op = opd.connect("sandbox", contacts=2000, rate_limit=None)
    base = op.contacts(progress=False)
    op.close()
    rng = np.random.default_rng(args.seed)
    reps = -(-args.rows // len(base))
    parts = []
    for r in range(reps):
        part = base.copy()
        if r:
            order = rng.permutation(len(part))
            part["firstname"] = part["firstname"].to_numpy()[order]
            part["lastname"] = part["lastname"].to_numpy()[order]
        parts.append(part)
    frame = pd.concat(parts).iloc[: args.rows]
    frame.index = pd.Index(np.arange(1, len(frame) + 1), name="id")
    frame.attrs = {}

    print(f"{len(frame):,} contacts")
    for name in ("names", "emails", "states", "zips", "phones"):
        seconds, result = _best(lambda name=name: clean.contacts(frame, steps=[name]), args.repeat)
        changed = sum(result.changed.values())  # type: ignore[attr-defined]
        print(
            f"  clean.{name:<8} {seconds:7.2f} s  ({changed:,} cells changed, {len(result.problems):,} problems)"
        )  # type: ignore[attr-defined]
    for on in (["email"], ["phone"], ["name"], ["email", "phone", "name"]):
        seconds, groups = _best(lambda on=on: find_duplicates(frame, on=on), args.repeat)
        assert isinstance(groups, pd.DataFrame)
        print(
            f"  find_duplicates(on={on}) {seconds:7.2f} s  "
            f"({groups['group'].nunique():,} groups, {len(groups):,} contacts)"
        )


if __name__ == "__main__":
    main()
