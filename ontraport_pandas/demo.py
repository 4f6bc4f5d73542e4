"""The main job, end to end on the embedded sandbox: ``ontraport-pandas demo``.

1. loads every object type into typed frames and prints what came back;
2. prints a summary of the data (duplicates, opt-ins, pipeline, revenue, tasks);
3. builds a cleanup plan (names in the right case, North American phone numbers in one
   format, contacts sharing an e-mail tagged for review), prints it and applies it;
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
from typing import TYPE_CHECKING, cast

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

DUPLICATE_TAG = "Duplicate e-mail"
#: The demo's report: the frames the charts need.
REPORT_TYPES = ("contacts", "deals", "tasks", "transactions", "purchases", "products", "users")


def _fix_case(names: pd.Series) -> pd.Series:
    stripped = names.str.strip()
    wrong = (stripped.str.isupper() | stripped.str.islower()).fillna(False).astype(bool)
    return stripped.where(~wrong, stripped.str.title())


def _normalise_phone(phones: pd.Series, country: pd.Series) -> pd.Series:
    digits = phones.str.replace(r"\D", "", regex=True)
    eleven = ((digits.str.len() == 11) & digits.str.startswith("1")).fillna(False).astype(bool)
    national = digits.where(~eleven, digits.str[1:])
    nanp = country.isin(["US", "CA"]).fillna(False).astype(bool) & (national.str.len() == 10).fillna(False)
    formatted = "(" + national.str[:3] + ") " + national.str[3:6] + "-" + national.str[6:]
    return phones.where(~nanp.astype(bool), formatted)


def cleanup_contacts(contacts: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """The demo's cleanup as pandas edits; returns the edited copy and what each step touched.

    * first and last names in all capitals or all lower case are title-cased, blanks removed;
    * North American office and home phone numbers (US and CA contacts) become ``(555) 123-4567``;
    * contacts whose e-mail equals another's but for case and blanks get the tag
      ``Duplicate e-mail`` (merging is left to a person), and stray blanks leave the address.

    The input frame is not changed.
    """
    edited = contacts.copy()
    stats: dict[str, int] = {}
    for column in ("firstname", "lastname"):
        if column in edited.columns:
            edited[column] = _fix_case(edited[column])
            stats[f"{column} case"] = int((edited[column] != contacts[column]).fillna(False).sum())
    if "country" in edited.columns:
        for column in ("office_phone", "home_phone"):
            if column in edited.columns:
                edited[column] = _normalise_phone(edited[column], edited["country"])
                stats[f"{column} format"] = int((edited[column] != contacts[column]).fillna(False).sum())
    if "email" in edited.columns:
        key = edited["email"].str.strip().str.lower()
        dupes = (key.notna() & (key != "") & key.duplicated(keep=False)).astype(bool)
        edited["email"] = edited["email"].str.strip()
        stats["e-mail blanks"] = int((edited["email"] != contacts["email"]).fillna(False).sum())
        if "contact_cat" in edited.columns:
            edited.loc[dupes, "contact_cat"] = edited.loc[dupes, "contact_cat"].map(
                lambda tags: sorted({*tags, DUPLICATE_TAG})
            )
        stats["duplicate e-mails tagged"] = int(dupes.sum())
    return edited, stats


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

        # 3. cleanup: plan, then apply
        edited, stats = cleanup_contacts(frames["contacts"])
        print("\nCleanup of contacts (pandas edits): " + ", ".join(f"{k} {v}" for k, v in stats.items()))
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
