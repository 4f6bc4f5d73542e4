"""The main job, end to end on the embedded sandbox: ``ontraport-pandas demo``.

1. loads every object type into typed frames and prints what came back;
2. prints a summary of the data (duplicates, opt-ins, pipeline, revenue, tasks);
3. cleans the contacts with the cleanup kit (names, e-mails, states, zips, phones; invalid
   values reported), prints the plan and applies it; then finds contacts sharing an e-mail
   or a phone number and merges them with one merge plan (duplicates owning purchases are
   tagged, not deleted);
4. writes a report to the output folder: PNG charts and a report notebook, executed
   against the same sandbox (kept in ``sandbox.sqlite`` there, so the notebook sees the
   cleaned data and can be re-run).

This module is the command's; it is the one place, with the CLI, that prints.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .client import Ontraport

__all__ = ["DEMO_TYPES", "cleanup_contacts", "run_demo"]

DEMO_TYPES = (
    "contacts",
    "tasks",
    "deals",
    "companies",
    "sequences",
    "rules",
    "forms",
    "messages",
    "notes",
    "products",
    "purchases",
    "transactions",
    "offers",
    "tags",
    "groups",
    "automations",
    "users",
)

#: The demo's report: the frames the charts need.
REPORT_TYPES = ("contacts", "deals", "tasks", "transactions", "purchases", "products", "users")
#: The cleanup kit's steps that need only pandas (the others need the ``clean`` extra).
_PLAIN_STEPS = ("names", "states", "zips")


def _has_clean_extra() -> bool:
    import importlib.util

    return all(
        importlib.util.find_spec(m) is not None for m in ("phonenumbers", "email_validator", "rapidfuzz")
    )


def cleanup_contacts(contacts: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int], pd.DataFrame]:
    """The demo's cleanup with the cleanup kit (:mod:`ontraport_pandas.clean`).

    Names in proper case, e-mails normalised, countries and states to the account's codes,
    zips that lost their leading zero, phones formatted per country; invalid values are
    reported, not guessed. Without the ``clean`` extra only the steps that need no extra
    run. Returns the edited copy, the cells changed per column and the problems. The input
    frame is not changed.
    """
    from . import clean

    steps = None if _has_clean_extra() else _PLAIN_STEPS
    cleaned = clean.contacts(contacts) if steps is None else clean.contacts(contacts, steps=cast(Any, steps))
    return cleaned.frame, dict(cleaned.changed), cleaned.problems


def _print_frame(frame: pd.DataFrame, indent: str = "  ") -> None:
    for line in frame.to_string().splitlines():
        print(f"{indent}{line}")


def _load(op: Ontraport, names: tuple[str, ...]) -> dict[str, pd.DataFrame]:
    return {name: op.frame(name, progress=False) for name in names}


def run_demo(
    *,
    out: str | Path = "ontraport-demo-output",
    seed: int = 0,
    contacts: int = 2000,
    execute: bool = True,
) -> int:
    """Run the demo, printing as it goes; return the exit code.

    Parameters
    ----------
    out : str or path-like
        The folder for the report (created; a previous demo's files in it are replaced).
    seed : int
        The sandbox's demo data seed.
    contacts : int
        Number of demo contacts (other objects scale with it).
    execute : bool
        Run the report notebook (needs ipykernel and nbclient); else it is written unexecuted.
    """
    from . import reports
    from .notebook import _connect as connect
    from .notebook import report_notebook

    started = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    store = out / "sandbox.sqlite"
    for stale in (
        store,
        out / "sandbox.sqlite-wal",
        out / "sandbox.sqlite-shm",
        out / "charts",
        out / "journal",
    ):
        if stale.is_dir():
            shutil.rmtree(stale)
        elif stale.exists():
            stale.unlink()
    print(f"ontraport-pandas demo: embedded sandbox (seed {seed}, {contacts} contacts)", flush=True)
    # The demo reads every object type at once; lift the simulated per-minute limit so
    # it finishes in seconds (a real account would pace these requests at 180/minute).
    sandbox = {"seed": seed, "contacts": contacts, "rate_limit": None}
    with connect("sandbox", path=str(store), **sandbox) as op:
        # 1. every object type
        frames: dict[str, pd.DataFrame] = {}
        print(f"\n{'object':<14}{'rows':>8}{'columns':>9}  typed columns")
        for name in DEMO_TYPES:
            frame = op.frame(name, progress=False)
            frames[name] = frame
            kinds = frame.dtypes.astype(str).value_counts()
            shown = ", ".join(f"{n} {k}" for k, n in kinds.head(4).items())
            print(f"{name:<14}{len(frame):>8}{frame.shape[1]:>9}  {shown}")
        print(f"({op.session.requests_sent} requests)")
        # The demo data is built around a fixed instant; "overdue" is measured from it.
        now = pd.Timestamp(op.sandbox.config.demo_now, unit="s", tz="UTC")

        # 2. summary
        print("\nSummary")
        summary = reports.summary_table(
            contacts=frames["contacts"],
            deals=frames["deals"],
            tasks=frames["tasks"],
            transactions=frames["transactions"],
            purchases=frames["purchases"],
            products=frames["products"],
            now=now,
        )
        _print_frame(summary)

        # 3. cleanup with the kit: plan, then apply
        edited, stats, problems = cleanup_contacts(frames["contacts"])
        print("\nCleanup of contacts (opd.clean): " + ", ".join(f"{k} {v}" for k, v in stats.items()))
        if not _has_clean_extra():
            print('  (phones, e-mails and duplicates need: pip install "ontraport-pandas[clean]")')
        if len(problems):
            print(f"  {len(problems)} invalid value(s) reported, not guessed:")
            counts = problems.groupby(["column", "problem"]).size().rename("values").reset_index()
            _print_frame(counts.set_index(["column", "problem"]), indent="    ")
        plan = op.plan(edited)
        print(f"Plan [{'LIVE' if op.live else 'SANDBOX'}]: {plan.summary()}")
        changes = plan.to_frame()
        if len(changes):
            print("  first changes:")
            sample = changes[changes["kind"] == "update"].head(5)[["record_id", "column", "old", "new"]]
            _print_frame(sample.set_index("record_id"), indent="    ")
        result = plan.apply(confirm=plan.confirm_required, progress=False, journal_dir=str(out / "journal"))
        print("Applied: " + ", ".join(f"{n} {s}" for s, n in result.frame["status"].value_counts().items()))
        print(f"  journal (for op.undo): {result.journal}")
        if not result.ok:
            _print_frame(result.frame[result.frame["status"] != "ok"].head(10))

        # 3b. duplicates: the same e-mail or phone number, merged by one merge plan
        if _has_clean_extra():
            groups = op.duplicates(on=["email", "phone"])
            print(
                f"\nDuplicates: {groups['group'].nunique()} group(s) of {len(groups)} contacts (same e-mail or phone)"
            )
            if len(groups):
                merge = op.plan_merge(groups, keep="oldest")
                print("Merge plan:")
                for line in merge.summary().splitlines():
                    print(f"  {line}")
                merged = merge.apply(
                    confirm=merge.confirm_required, progress=False, journal_dir=str(out / "journal")
                )
                print(
                    f"Merged: {'OK' if merged.ok else merged.stopped or 'with problems'}; manifest {merged.manifest}"
                )

        # 4. report: charts of the cleaned data
        after = _load(op, REPORT_TYPES)
        charts = out / "charts"
        charts.mkdir(parents=True, exist_ok=True)
        written: list[Path] = []
        for name, ax in reports.report_figures(**after, now=now).items():
            path = charts / f"{name}.png"
            cast("Figure", ax.figure).savefig(path, dpi=110)  # each chart has its own Figure
            written.append(path)
        summary_after = reports.summary_table(
            contacts=after["contacts"],
            deals=after["deals"],
            tasks=after["tasks"],
            transactions=after["transactions"],
            purchases=after["purchases"],
            products=after["products"],
            now=now,
        )
        summary_after.to_csv(out / "summary.csv")
        written.append(out / "summary.csv")

    # The notebook reconnects to the same sandbox file (relative to the notebook's folder).
    notebook_path = out / "report.ipynb"
    notebook_options = {
        "connection": "sandbox",
        "sandbox_options": {"path": store.name, **sandbox},
        "title": "Ontraport demo report",
        "now": now,
    }
    note = ""
    if execute:
        try:
            report_notebook(notebook_path, execute=True, **notebook_options)
        except ImportError as exc:
            note = f" (not executed: {exc})"
            report_notebook(notebook_path, **notebook_options)
    else:
        report_notebook(notebook_path, **notebook_options)
        note = " (not executed)"
    print(f"\nReport written to {out.resolve()}:")
    print(f"  {notebook_path}{note}")
    for path in written:
        print(f"  {path}")
    print(f"  {store}  (the sandbox's state: opd.connect('sandbox', path=...))")
    print(f"\ndone in {time.perf_counter() - started:.1f}s")
    sys.stdout.flush()
    return 0
