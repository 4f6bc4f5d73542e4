"""Generate the example notebooks of this folder with nbformat, so they stay valid and in step with the API.

    python notebooks/build.py            # (re)write quickstart.ipynb, bulk_cleanup.ipynb, reports.ipynb
    python notebooks/build.py --check    # exit 1 if a notebook differs from what this script builds

The notebooks are saved without outputs; each runs top to bottom on the embedded sandbox
(``tests/test_notebooks.py`` executes them). Edit this script, not the ``.ipynb`` files.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import nbformat

from ontraport_pandas.notebook import new_notebook, report_cells

HERE = Path(__file__).resolve().parent

#: The sandbox every notebook uses when nothing else is picked.
SANDBOX = {"contacts": 2000, "rate_limit": None}

PARAMETERS = f"""
# Parameters: the connection used when nothing is picked, and the sandbox's options.
# Never put an API key here: "env" reads ONTRAPORT_APP_ID / ONTRAPORT_API_KEY from the environment.
CONNECTION = "sandbox"  # "sandbox", "env" or "membrane:<connection id>"
SANDBOX = {SANDBOX!r}
"""

QUICKSTART = [
    (
        "md",
        """
# Quickstart: Ontraport data as pandas DataFrames

Connect, load every contact into a typed DataFrame, filter it and look at it. Out of the box
this runs on the **sandbox**: an embedded Ontraport simulator with deterministic demo data,
so no account is needed.
""",
    ),
    ("code", PARAMETERS),
    (
        "code",
        """
import pandas as pd

import ontraport_pandas as opd
from ontraport_pandas.widgets import ConnectionPicker
""",
    ),
    (
        "md",
        """
## 1. Connect

Pick a connection in the dropdown: your Membrane connections (with their state), the
sandbox, or the API key from the environment (set `ONTRAPORT_APP_ID` and
`ONTRAPORT_API_KEY` before starting Jupyter; never paste a key into a notebook). The status
line shows the account and its number of contacts, or exactly what to run to fix the
connection. The picker remembers your last choice (its name only) and, with
`set_default=True`, makes it the default client.
""",
    ),
    (
        "code",
        """
picker = ConnectionPicker(set_default=True, sandbox_options=SANDBOX)
picker
""",
    ),
    (
        "md",
        """
## 2. Load

`op.contacts()` returns every contact, paged through the API as fast as the rate limit
allows (with a progress bar), as a DataFrame indexed by contact id.
""",
    ),
    (
        "code",
        """
if picker.client is None:  # nothing picked above (the notebook runs top to bottom): use the parameter
    picker.value = CONNECTION
op = picker.client
print(picker.status_text())
contacts = op.contacts()
contacts.head()
""",
    ),
    (
        "md",
        """
Columns keep their Ontraport field keys (`firstname`, `f1009`); their dtypes come from the
field types: dates are UTC datetimes, dropdowns are categories with their labels, check
boxes are booleans, tags are lists. `op.fields()` has the labels.
""",
    ),
    ("code", "contacts.dtypes.astype(str).value_counts()"),
    ("code", 'op.fields("contacts").head(12)'),
    (
        "md",
        """
## 3. Filter

Plain pandas works on the frame. On a big account, give the filter to the API instead, so
only the rows you need are fetched: `where=` takes a pandas-`query`-like expression (field
keys, dropdown labels, dates as text) and `fields=` the columns.
""",
    ),
    (
        "code",
        """
mailable = contacts["bulk_mail"].isin(["Opted-in", "Double opt-in"])
recent = contacts["date"] >= pd.Timestamp("2026-01-01", tz="UTC")
contacts.loc[mailable & recent, ["firstname", "lastname", "email", "bulk_mail", "date"]].sort_values(
    "date", ascending=False
).head(10)
""",
    ),
    (
        "code",
        """
pushed_down = op.contacts(
    where="bulk_mail in ['Opted-in', 'Double opt-in'] and date >= '2026-01-01'",
    fields=["firstname", "lastname", "email", "bulk_mail", "date"],
)
print(f"{len(pushed_down)} rows fetched; pandas found {int((mailable & recent).sum())}")
pushed_down.head()
""",
    ),
    (
        "md",
        """
## 4. Look

Tags are a list per contact: `explode()` gives one row per tag. Deals, tasks, transactions,
purchases and products load the same way.
""",
    ),
    ("code", 'contacts["contact_cat"].explode().value_counts().head(10)'),
    (
        "code",
        """
deals = op.deals()
deals.groupby("sales_stage", observed=False)[["value", "weighted_value"]].sum()
""",
    ),
    (
        "code",
        """
%matplotlib inline
from ontraport_pandas import reports

reports.deal_pipeline(deals).figure
""",
    ),
    (
        "md",
        """
Next: `bulk_cleanup.ipynb` edits these frames and writes the changes back safely, and
`reports.ipynb` draws every chart.
""",
    ),
]

BULK_CLEANUP = [
    (
        "md",
        """
# Bulk cleanup: clean, plan, preview, apply, undo; then merge duplicates

Fix the contacts with the cleanup kit (`opd.clean`) and pandas, then write back only what
changed: `op.plan(edited)` compares the edited frame with the records as they were loaded
and lists every write; nothing is sent until the plan is applied. Every push keeps a
journal, so it can be undone. Duplicates are then found, reviewed and merged with the
same safety.
""",
    ),
    ("code", PARAMETERS),
    (
        "code",
        """
import pandas as pd

import ontraport_pandas as opd
from ontraport_pandas.notebook import connect_choice
from ontraport_pandas.widgets import PlanPreview

op = connect_choice(CONNECTION, sandbox_options=SANDBOX)
contacts = op.contacts()
op
""",
    ),
    (
        "md",
        """
## 1. The cleanup kit

One call runs every normalisation (needs `pip install "ontraport-pandas[clean]"`):

- names in proper case (`JOHN` → `John`, `MCDONALD` → `McDonald`, `o'neil` → `O'Neil`),
  names already in mixed case left alone;
- e-mails checked and normalised with `email-validator` (no DNS lookups);
- countries and states mapped to the account's codes (`Calif.` → `CA`, `usa` → `US`);
- zip codes that lost their leading zero (`2165` in MA → `02165`);
- phone numbers parsed with `phonenumbers` in the contact's country and written
  `+1 415-555-2671`.

Values that are invalid are **reported, not guessed**: they stay as they are and are listed
in `problems` for a person to look at.
""",
    ),
    (
        "code",
        """
cleaned = contacts.ontraport.clean()  # or opd.clean.contacts(contacts); or one step: opd.clean.phones(...)
edited = cleaned.frame
cleaned.changed
""",
    ),
    (
        "code",
        """
problems = cleaned.problems
problems.groupby(["column", "problem"]).size().rename("values")
""",
    ),
    (
        "code",
        """
columns = ["firstname", "lastname", "email", "state", "zip", "office_phone", "home_phone"]
changed = ~(edited[columns].fillna("").eq(contacts[columns].fillna(""))).all(axis=1)
pd.concat({"before": contacts.loc[changed, columns], "after": edited.loc[changed, columns]}, axis=1).head(8)
""",
    ),
    (
        "md",
        """
## 2. Retag

Plain pandas edits mix with the kit: customers still tagged *Lead* lose that tag.
""",
    ),
    (
        "code",
        """
customer_leads = edited["contact_cat"].map(lambda tags: "Customer" in tags and "Lead" in tags).astype(bool)
edited.loc[customer_leads, "contact_cat"] = edited.loc[customer_leads, "contact_cat"].map(
    lambda tags: [t for t in tags if t != "Lead"]
)
int(customer_leads.sum())
""",
    ),
    (
        "md",
        """
## 3. Plan

Only the changed cells are written; tag changes are grouped by tag (one call per tag). The
plan is checked before anything is sent: unknown or read-only columns, values that do not
fit a field, invalid e-mails. Records changed in Ontraport since they were loaded are
reported as conflicts and left alone.
""",
    ),
    (
        "code",
        """
plan = op.plan(edited)
plan
""",
    ),
    (
        "md",
        """
## 4. Preview and apply

The preview shows whether it writes to a **LIVE** account or the **SANDBOX**, the counts and
every change. Click *Apply* (a plan that deletes records, clears many cells or removes tags
from many contacts, as the retag above does, asks for a tick first). The next cell does the
same in code, so the notebook also runs top to bottom; after a click it returns the same
result instead of applying twice.
""",
    ),
    (
        "code",
        """
preview = PlanPreview(plan)
preview
""",
    ),
    (
        "code",
        """
if preview.confirm is not None:
    preview.confirm.value = True  # the tick-box of a big or destructive plan
result = preview.apply()  # the Apply button
result.summary()
""",
    ),
    (
        "code",
        """
after = op.contacts()
written = after[columns].fillna("").eq(edited[columns].fillna("")).all()
written
""",
    ),
    (
        "md",
        """
## 5. Undo

The journal kept the records as they were before the push: *Undo* (or `result.undo()`)
writes them back.
""",
    ),
    (
        "code",
        """
undone = preview.undo()  # the Undo button
undone.summary()
""",
    ),
    (
        "code",
        """
restored = op.contacts()
restored[columns].fillna("").eq(contacts[columns].fillna("")).all()
""",
    ),
    (
        "md",
        """
## 6. Duplicates: find and review

`op.duplicates` groups contacts with the same e-mail (case and blanks ignored), the same
phone number (compared in E.164) or similar names (fuzzy, with `rapidfuzz`), and scores each
match. The frame is yours to edit: drop rows, move a row to another group, or mark another
survivor in `keep`.
""",
    ),
    (
        "code",
        """
groups = op.duplicates(restored, on=["email", "phone", "name"])
groups[["group", "keep", "score", "matched_on", "firstname", "lastname", "email"]].head(12)
""",
    ),
    (
        "code",
        """
# Review: name-only matches are the weakest evidence; keep only e-mail and phone matches here.
reviewed = groups[groups["matched_on"].str.contains("email|phone")]
reviewed = reviewed[reviewed.groupby("group")["group"].transform("size") > 1]
reviewed["group"].nunique()
""",
    ),
    (
        "md",
        """
## 7. Merge plan

One merge plan: the survivor of each group keeps its values with blanks filled from the
others, gets the union of the group's tags, sequences and campaigns, and receives the
notes and deals that pointed at the duplicates. A duplicate that owns purchases or
transactions (read-only in the API) is **not deleted**: it is tagged *Duplicate: not deleted*
and `decisions` says why.
""",
    ),
    (
        "code",
        """
merge = op.plan_merge(reviewed, keep="oldest")
merge
""",
    ),
    (
        "code",
        """
merge.decisions
""",
    ),
    (
        "code",
        """
merged = merge.apply(confirm=merge.confirm_required)  # deletes need the number the plan shows
merged
""",
    ),
    (
        "code",
        """
now = op.contacts()
deleted = merge.decisions.index[merge.decisions["role"] == "deleted"]
kept = merge.decisions.index[merge.decisions["role"] == "kept"]
checks = pd.Series(
    {
        "duplicates deleted": not now.index.isin(deleted).any(),
        "owners of purchases kept": bool(kept.isin(now.index).all()),
        "kept ones tagged": bool(now.loc[kept, "contact_cat"].map(lambda t: "Duplicate: not deleted" in t).all()),
    }
)
checks
""",
    ),
    (
        "md",
        """
## 8. Undo the merge

`merged.undo()` removes the added subscriptions, puts the survivors' values and tags back,
creates the deleted duplicates again (with new ids) and points their notes and deals at them.
""",
    ),
    (
        "code",
        """
merged.undo()
len(op.contacts()) == len(restored)
""",
    ),
]


REPORTS_INTRO = """
# Ontraport report, from a snapshot

The whole account is written once as a snapshot (`op.snapshot(folder)`: every object type
as a typed Parquet file, with a manifest of the relations), and every report below is built
from the tables read back with `opd.read_snapshot`. Re-running the cells after the snapshot
gives exactly the same report; the snapshot can also be handed to other tools or queried
with SQL (`op.sql`, at the end). Labels, related records and SQL follow the charts.
"""

REPORTS_PARAMETERS = f"""
# Parameters: the connection, the sandbox's options, where the snapshot goes, and "now".
# Never put an API key here: "env" reads ONTRAPORT_APP_ID / ONTRAPORT_API_KEY from the environment.
CONNECTION = "sandbox"  # "sandbox", "env" or "membrane:<connection id>"
SANDBOX = {SANDBOX!r}
SNAPSHOT = None  # folder of the snapshot (None: a new temporary folder); a kept folder is updated incrementally
NOW = None  # reference time for "overdue" (None: when the notebook runs)
"""

REPORTS_SNAPSHOT = [
    (
        "code",
        """
%matplotlib inline
import tempfile

import ontraport_pandas as opd
from ontraport_pandas import reports
from ontraport_pandas.notebook import REPORT_OBJECTS, connect_choice, provenance

op = connect_choice(CONNECTION, sandbox_options=SANDBOX)
snapshot = SNAPSHOT or tempfile.mkdtemp(prefix="ontraport-snapshot-")
written = op.snapshot(snapshot)  # every object type; a later call fetches only what changed
print(f"{op.name}: {int(written['rows'].sum()):,} records of {len(written)} types in {snapshot}")
written[["rows", "status", "requests", "error"]]
""",
    ),
    (
        "code",
        """
frames = {name: opd.read_snapshot(snapshot, name) for name in REPORT_OBJECTS}  # typed as loaded
contacts, deals, tasks = frames["contacts"], frames["deals"], frames["tasks"]
transactions, purchases, products = frames["transactions"], frames["purchases"], frames["products"]
try:
    users = opd.read_snapshot(snapshot, "users")  # staff: the owners' names
except opd.ConfigurationError:
    users = None  # no users table (a key that may not read users): owners show as "User <id>"
contacts.dtypes.astype(str).value_counts()
""",
    ),
]

REPORTS_EXTRAS = [
    (
        "md",
        """
## Labels

`labelled()` names the columns by their Ontraport labels, exactly as `labels=True` loads
them ("First Name" instead of `firstname`). The report functions take field keys:
`.ontraport.keyed()` maps the labels back.
""",
    ),
    (
        "code",
        """
labelled = contacts.ontraport.labelled(op=op)  # what op.contacts(labels=True) returns
labelled.iloc[:5, :8]
""",
    ),
    (
        "code",
        """
keyed = labelled.ontraport.keyed()
print(f"keys back: {keyed.columns.equals(contacts.columns)}")
reports.tag_distribution(keyed, top=5).figure
""",
    ),
    (
        "md",
        """
## Related records

`op.related(contacts, "deals")` repeats each contact's row for each of its deals and adds
the deal's columns with a `deal_` prefix, so `name`, `owner` or `date` never clash with the
contact's own. A contact without deals keeps one row with empty deal columns.
""",
    ),
    (
        "code",
        """
contact_deals = op.related(contacts, "deals", fields=["name", "sales_stage", "value"])
with_deal = contact_deals[contact_deals["deal_id"].notna()]
print(f"{with_deal.index.nunique():,} of {len(contacts):,} contacts have {len(with_deal):,} deals")
with_deal[["firstname", "lastname", "deal_id", "deal_name", "deal_sales_stage", "deal_value"]].head(10)
""",
    ),
    (
        "md",
        """
## SQL

`op.sql` queries the snapshot with DuckDB: every object type is a table named after it, and
tag columns are lists (`list_contains(contact_cat, 'Customer')`).
""",
    ),
    (
        "code",
        """
by_stage = op.sql(
    "select sales_stage, count(*) as deals, sum(value) as value"
    " from deals group by sales_stage order by value desc"
)
print(f"all deals counted: {int(by_stage['deals'].sum()) == len(deals)}")
by_stage
""",
    ),
]


def reports_cells() -> list[tuple[str, str]]:
    """The report notebook's cells with the data read from a snapshot instead of loaded frame by frame."""
    cells = report_cells(title="Ontraport report", connection="sandbox", sandbox_options=SANDBOX)
    _intro, parameters, load, *rest = cells
    if not parameters[1].lstrip().startswith("# Parameters") or "op.frame(" not in load[1]:
        raise RuntimeError(
            "report_cells() changed its first cells: update reports_cells() in notebooks/build.py"
        )
    return [("md", REPORTS_INTRO), ("code", REPORTS_PARAMETERS), *REPORTS_SNAPSHOT, *rest, *REPORTS_EXTRAS]


def build() -> dict[str, Any]:
    """Notebook file name -> NotebookNode, as this script builds them now."""
    return {
        "quickstart.ipynb": new_notebook(QUICKSTART, prefix="quickstart", title="Quickstart"),
        "bulk_cleanup.ipynb": new_notebook(BULK_CLEANUP, prefix="cleanup", title="Bulk cleanup"),
        "reports.ipynb": new_notebook(reports_cells(), prefix="report", title="Ontraport report"),
    }


def render(nb: Any) -> str:
    """The file text of a notebook (what ``nbformat.write`` writes)."""
    nbformat.validate(nb)
    return nbformat.writes(nb) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that the notebooks are up to date")
    parser.add_argument("--out", type=Path, default=HERE, help="folder to write to (default: this one)")
    args = parser.parse_args(argv)
    stale = []
    for name, nb in build().items():
        path = args.out / name
        text = render(nb)
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        if args.check:
            stale.append(name)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    if stale:
        print(f"out of date: {', '.join(stale)} (run python notebooks/build.py)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
