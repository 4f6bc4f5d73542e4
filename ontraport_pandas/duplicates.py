"""Duplicate contacts: find them, review them, merge them through the ordinary write path.

``op.duplicates(contacts, on=["email", "phone", "name"])`` returns a frame of groups to
review and edit; ``op.plan_merge(groups, keep=…)`` turns it into a :class:`MergePlan`:
ordinary :class:`~ontraport_pandas.plan.Plan` objects (previewed, confirmed, journaled
and undone like any other) plus the sequence and campaign subscriptions to add.

How duplicates are found (:func:`find_duplicates`):

- **email**: the address stripped and lower-cased, equal (score 100);
- **phone**: every phone column parsed with ``phonenumbers`` in the row's country, equal
  in E.164 (score 95);
- **name**: first and last name compared with ``rapidfuzz``'s token-sort ratio, within
  blocks of the same first letters of the last name (score = the ratio, kept when it
  reaches ``threshold``). Names alone are the weakest evidence: review those groups.

E-mail and phone matches join into groups (a contact matching two others puts all three in
one group); a name match joins two groups only when every member of one resembles every
member of the other by name (complete linkage), so one similar name cannot chain unrelated
contacts together.

How a merge is planned (:func:`plan_merge`):

- the **survivor** of each group is the row marked ``keep`` in the reviewed frame, else
  the one the ``keep`` rule picks: ``"oldest"`` (created first, the default: it carries the
  history), ``"newest"`` or ``"most_complete"`` (most fields filled);
- its **values**: its own, with blanks filled from the other records (newest first);
  per-column rules in ``values=`` (``"survivor"``, ``"newest"``, ``"oldest"``, ``"longest"``);
- the **union** of the group's tags (in the contacts plan), sequences and campaigns
  (``objects/subscribe``, which the push path does not cover);
- **references** move to the survivor where the API can write them: a field of type parent
  pointing at contacts, editable, on a type that allows PUT (deals' ``primary_contact``,
  notes' ``contact_id``, custom objects). Tasks are the exception by default: the
  documented ``PUT Tasks`` takes only owner, due date and status (``move=`` to include them);
- a duplicate that still **owns records that cannot move** (purchases and transactions are
  read-only) is never deleted: it is tagged ``hold_tag`` and left, and the plan's
  ``decisions`` say why. The others are deleted.

Applying runs the reference moves first; if any fails, it stops before the contacts plan,
so nothing is deleted while a record still points at it. Then the contacts plan, then the
subscriptions (after it, so that they do not make the survivors look modified since the
load). ``result.undo()`` reverses all three.
"""

from __future__ import annotations

import json
import re
import time
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

import numpy as np
import pandas as pd

from .errors import ConfirmationRequired, OntraportError, Problem, ValidationError
from .places import _row_regions

if TYPE_CHECKING:
    from .client import Ontraport
    from .plan import Plan
    from .result import PushResult

__all__ = ["HOLD_TAG", "MergePlan", "MergeResult", "find_duplicates", "plan_merge"]

HOLD_TAG = "Duplicate: not deleted"
_EXTRA = 'pip install "ontraport-pandas[clean]"'
_PHONES = ("home_phone", "office_phone", "sms_number", "fax", "phone", "mobile_phone")
#: Types whose contact reference is not moved unless asked: the documented PUT Tasks takes only
#: owner, date_due and status; a stored credit card is payment data that recurring orders and
#: transactions charge, so its owner is not changed behind the user's back (``move=`` does it).
_NOT_MOVED_BY_DEFAULT = frozenset({"tasks", "credit_cards"})
#: Name parts that are not names ("Test N/A"): never evidence of a duplicate.
_PLACEHOLDER_NAMES = frozenset(
    {"test", "testing", "n/a", "na", "none", "null", "asdf", "qwerty", "xxx", "unknown"}
)
KeepRule = Literal["oldest", "newest", "most_complete"]
ValueRule = Literal["survivor", "fill", "newest", "oldest", "longest"]


def _need(module: str, feature: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ImportError(f"{feature} needs {module}: {_EXTRA}") from None


def _text(v: Any) -> str | None:
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return None
    s = str(v).strip()
    return s or None


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w\s'-]", " ", text.lower()).split())


# ----------------------------------------------------------------------------------- finding
class _Groups:
    def __init__(self) -> None:
        self.parent: dict[Any, Any] = {}

    def find(self, x: Any) -> Any:
        root = x
        while self.parent.get(root, root) != root:
            root = self.parent[root]
        while self.parent.get(x, x) != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: Any, b: Any) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def find_duplicates(
    contacts: pd.DataFrame,
    on: Iterable[Literal["email", "phone", "name"]] = ("email", "phone", "name"),
    *,
    threshold: float = 90,
    phone_columns: Sequence[str] | None = None,
    country: str | None = "country",
    default_region: str = "US",
    keep: KeepRule = "oldest",
) -> pd.DataFrame:
    """Groups of contacts that look like the same person, as a frame to review and edit.

    Parameters
    ----------
    contacts : pandas.DataFrame
        Contacts as loaded (``op.contacts()``), indexed by id.
    on : iterable of {"email", "phone", "name"}
        What counts as a match (module docstring).
    threshold : float
        The lowest name similarity (0-100) that makes a name match.
    phone_columns : list of str, optional
        The phone columns (default: the usual ones present).
    country, default_region : str
        The column giving each row's country for phone parsing, and the region otherwise.
    keep : {"oldest", "newest", "most_complete"}
        The rule that suggests each group's survivor (the ``keep`` column).

    Returns
    -------
    pandas.DataFrame
        Indexed by contact id, one row per contact in a group: ``group`` (1, 2, …),
        ``keep`` (the suggested survivor), ``score`` (its best match, 0-100),
        ``matched_on`` (``"email, name"``), then the contact's names, e-mail, phones and
        dates. Edit it (drop rows, change ``group`` or ``keep``) and pass it to
        ``op.plan_merge``. Empty when nothing matched.
    """
    wanted = list(dict.fromkeys(on))
    unknown = [w for w in wanted if w not in ("email", "phone", "name")]
    if unknown:
        raise ValueError(f"on= takes email, phone and name, not {unknown}")
    if keep not in ("oldest", "newest", "most_complete"):
        raise ValueError(f"keep= must be oldest, newest or most_complete, not {keep!r}")
    pairs: dict[tuple[Any, Any], tuple[float, set[str]]] = {}
    name_of: dict[Any, str] = {}  # contact id -> its normalised name
    name_sim: dict[tuple[str, str], float] = {}  # two different names -> their similarity

    def similar(x: Any, y: Any) -> bool:
        nx, ny = name_of.get(x), name_of.get(y)
        if nx is None or ny is None:
            return False
        return nx == ny or ((nx, ny) if nx < ny else (ny, nx)) in name_sim

    def add(a: Any, b: Any, score: float, reason: str) -> None:
        key = (a, b) if a < b else (b, a)
        old, reasons = pairs.get(key, (0.0, set()))
        pairs[key] = (max(old, score), reasons | {reason})

    def same_key(keys: pd.Series, score: float, reason: str) -> None:
        keyed = keys.dropna()
        for _, ids in keyed.groupby(keyed).groups.items():
            members = sorted(ids)
            for other in members[1:]:  # a star links them all: every member gets the same reason
                add(members[0], other, score, reason)

    ids = pd.Index(contacts.index)
    if "email" in wanted and "email" in contacts.columns:
        email = pd.Series(
            [(_text(v) or "").lower() or None for v in contacts["email"]], index=ids, dtype=object
        )
        same_key(email, 100.0, "email")
    if "phone" in wanted:
        pn = _need("phonenumbers", "op.duplicates(on=['phone'])")
        cols = [c for c in (phone_columns or _PHONES) if c in contacts.columns]
        regions = _row_regions(contacts, country, default_region)
        keys: list[tuple[Any, str]] = []
        parsed: dict[tuple[str, str], str | None] = {}
        for column in cols:
            for rid, value, region in zip(ids, contacts[column], regions, strict=True):
                text = _text(value)
                if text is None:
                    continue
                if (text, region) not in parsed:
                    parsed[(text, region)] = _e164(pn, text, region)
                key = parsed[(text, region)]
                if key is not None:
                    keys.append((rid, key))
        if keys:
            frame = pd.DataFrame(keys, columns=["id", "key"]).drop_duplicates()
            same_key(frame.set_index("id")["key"], 95.0, "phone")
    if "name" in wanted and {"firstname", "lastname"} <= set(contacts.columns):
        fuzz = _need("rapidfuzz", "op.duplicates(on=['name'])")
        names = [
            _fold(" ".join(p for p in (_text(f), _text(lname)) if p))
            for f, lname in zip(contacts["firstname"], contacts["lastname"], strict=True)
        ]
        last = [_fold(_text(v) or "") for v in contacts["lastname"]]
        frame = pd.DataFrame({"id": ids, "name": names, "block": [s[:2] for s in last]})
        frame = frame[(frame["name"].str.len() > 0) & (frame["block"].str.len() > 0)]
        frame = frame[frame["name"].str.contains(" ")]  # a first or a last name alone is no evidence
        placeholder = frame["name"].map(lambda n: any(part in _PLACEHOLDER_NAMES for part in n.split()))
        frame = frame[~placeholder.astype(bool)]
        name_of.update(zip(frame["id"], frame["name"], strict=True))
        for _, block in frame.groupby("block"):
            if len(block) < 2:
                continue
            same_key(block.set_index("id")["name"], 100.0, "name")  # identical names: a star each
            hub = block.groupby("name")["id"].min()
            unique = hub.index.tolist()
            if len(unique) < 2:
                continue
            scores = np.asarray(
                fuzz.process.cdist(unique, unique, scorer=fuzz.fuzz.token_sort_ratio, score_cutoff=threshold)
            )
            for i, j in np.argwhere(np.triu(scores >= threshold, k=1)):
                score = float(scores[i][j])
                add(int(hub.iloc[i]), int(hub.iloc[j]), score, "name")
                name_sim[(unique[i], unique[j]) if unique[i] < unique[j] else (unique[j], unique[i])] = score
    # E-mail and phone matches join groups outright. A name match joins two groups only when
    # every member of one matches every member of the other by name (complete linkage):
    # one similar name must not chain unrelated groups together.
    groups = _Groups()
    spread: dict[Any, set[Any]] = {}
    for (a, b), (_, reasons) in pairs.items():
        if reasons - {"name"}:
            groups.union(a, b)
    for pair in list(pairs):
        for x in pair:
            spread.setdefault(groups.find(x), set()).add(x)
    name_only = sorted(
        ((score, a, b) for (a, b), (score, reasons) in pairs.items() if reasons == {"name"}), reverse=True
    )
    for _, a, b in name_only:
        ra, rb = groups.find(a), groups.find(b)
        if ra == rb:
            continue
        left, right = spread.get(ra, {a}), spread.get(rb, {b})
        if all(similar(x, y) for x in left for y in right):
            groups.union(a, b)
            spread[groups.find(a)] = left | right
        else:
            del pairs[(a, b) if a < b else (b, a)]
    best: dict[Any, tuple[float, set[str]]] = {}
    for (a, b), (score, reasons) in pairs.items():
        for x in (a, b):
            s, r = best.get(x, (0.0, set()))
            best[x] = (max(s, score), r | reasons)
    members = sorted(best)
    roots = sorted({groups.find(m) for m in members})
    number = {root: i + 1 for i, root in enumerate(roots)}
    shown = [
        c
        for c in ("firstname", "lastname", "email", *(phone_columns or _PHONES), "date", "dlm")
        if c in contacts.columns
    ]
    out = contacts.loc[members, shown].copy() if members else contacts.iloc[:0][shown].copy()
    out.insert(0, "matched_on", [", ".join(sorted(best[m][1])) for m in members])
    out.insert(0, "score", pd.array([round(best[m][0], 1) for m in members], dtype="Float64"))
    out.insert(0, "keep", False)
    out.insert(0, "group", pd.array([number[groups.find(m)] for m in members], dtype="Int64"))
    if members:
        survivors = _choose_all(contacts, out["group"], keep)
        out["keep"] = out.index.isin(survivors)
        out = out.sort_values(["group", "keep"], ascending=[True, False], kind="stable")
    out.index.name = contacts.index.name or "id"
    out.attrs = {}
    return out


def _e164(pn: Any, text: str, region: str) -> str | None:
    """The number in E.164, or None when it cannot be a phone number."""
    try:
        number = pn.parse(text, region)
    except pn.NumberParseException:
        return None
    if pn.is_valid_number(number) or pn.is_possible_number(number):
        return str(pn.format_number(number, pn.PhoneNumberFormat.E164))
    return None


def _choose_all(contacts: pd.DataFrame, group: pd.Series, rule: KeepRule) -> list[Any]:
    """The survivor of every group at once (same rules and ties as :func:`_choose`)."""
    ids = list(group.index)
    frame = pd.DataFrame({"group": group.to_numpy(), "id": ids})
    if rule == "most_complete":
        frame["rank"] = [-_filled(contacts.loc[i]) for i in ids]
    else:
        column = "dlm" if rule == "newest" and "dlm" in contacts.columns else "date"
        if column in contacts.columns:
            stamps = pd.to_datetime(contacts.loc[ids, column], utc=True, errors="coerce")
            values = [None if pd.isna(v) else pd.Timestamp(v).value for v in stamps]
            sign = -1 if rule == "newest" else 1
            last = max((abs(v) for v in values if v is not None), default=0) + 1  # unknown dates rank last
            frame["rank"] = [sign * v if v is not None else last for v in values]
        else:
            frame["rank"] = [(-i if rule == "newest" else i) for i in ids]
    frame = frame.sort_values(["group", "rank", "id"], kind="stable")
    return frame.groupby("group", sort=False)["id"].first().tolist()


def _filled(row: pd.Series) -> int:
    n = 0
    for v in row:
        if isinstance(v, (list, tuple)):
            n += bool(v)
        elif _text(v) is not None:
            n += 1
    return n


def _choose(contacts: pd.DataFrame, ids: list[Any], rule: KeepRule) -> Any:
    """The survivor of ``ids`` by ``rule`` (ties: the lowest id)."""
    return _choose_all(contacts, pd.Series(0, index=sorted(ids)), rule)[0]


# ----------------------------------------------------------------------------------- merging
@dataclass
class MergePlan:
    """The writes of a merge: reference moves, subscriptions, then the contacts plan.

    Attributes
    ----------
    steps : list of (str, Plan)
        Ordinary plans, applied in this order; the last is the contacts plan (survivor
        values, tags, duplicates deleted).
    subscriptions : pandas.DataFrame
        Sequences and campaigns to add to survivors: ``contact``, ``sub_type``, ``id``, ``name``.
    decisions : pandas.DataFrame
        Per contact of every group: ``group``, ``role`` (survivor, deleted, kept), ``why``.
    """

    client: Ontraport = field(repr=False)
    steps: list[tuple[str, Plan]]
    subscriptions: pd.DataFrame
    decisions: pd.DataFrame
    #: (object type, field, {record id: the contact it pointed at}) of every reference moved.
    moves: list[tuple[str, str, dict[int, int]]] = field(default_factory=list, repr=False)

    @property
    def contacts_plan(self) -> Plan:
        return self.steps[-1][1]

    @property
    def confirm_required(self) -> int | None:
        """The number to pass as ``apply(confirm=…)`` (the contacts the merge touches), or None."""
        needs = [p.confirm_required for _, p in self.steps]
        if not any(n is not None for n in needs):
            return None
        return int(len(self.decisions))

    def to_frame(self) -> pd.DataFrame:
        """Every change of every step, with the step's object type in ``object``."""
        parts = [p.to_frame().assign(object=name) for name, p in self.steps if not p.empty]
        if len(self.subscriptions):
            subs = self.subscriptions
            parts.append(
                pd.DataFrame(
                    {
                        "kind": "subscribe",
                        "record_id": subs["contact"].to_numpy(),
                        "column": subs["sub_type"].to_numpy(),
                        "new": subs["name"].to_numpy(),
                        "object": "contacts",
                    }
                )
            )
        if not parts:
            return pd.DataFrame(columns=["object", "kind", "record_id", "column", "old", "new"])
        frame = pd.concat(parts, ignore_index=True)
        return frame[["object", *[c for c in frame.columns if c != "object"]]]

    def summary(self) -> str:
        roles = self.decisions["role"].value_counts()
        groups = self.decisions["group"].nunique()
        parts = [
            f"{groups} group(s): {int(roles.get('survivor', 0))} survivor(s), "
            f"{int(roles.get('deleted', 0))} deleted, {int(roles.get('kept', 0))} kept and tagged"
        ]
        for name, p in self.steps:
            if not p.empty:
                parts.append(f"{name}: {p.summary()}")
        if len(self.subscriptions):
            parts.append(f"{len(self.subscriptions)} sequence/campaign subscription(s) added")
        return "\n".join(parts)

    def __repr__(self) -> str:
        lines = [
            f"<MergePlan [{'LIVE' if self.client.live else 'SANDBOX'}] on {self.client.name}>",
            self.summary(),
        ]
        need = self.confirm_required
        if need is not None:
            lines.append(f"It deletes records: apply it with merge.apply(confirm={need}).")
        kept = self.decisions[self.decisions["role"] == "kept"]
        if len(kept):
            lines.append("Kept (not deleted):")
            lines.extend(f"  {i}: {why}" for i, why in kept["why"].items())
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        import html as _html

        parts = [f"<pre>{_html.escape(repr(self).split(chr(10) + 'Kept')[0])}</pre>"]
        parts.append(self.decisions.to_html())
        for name, p in self.steps:
            if not p.empty:
                parts.append(f"<h4>{_html.escape(name)}</h4>{p._repr_html_()}")
        return "".join(parts)

    def apply(
        self,
        *,
        confirm: int | None = None,
        progress: bool | None = None,
        journal_dir: str | None = None,
    ) -> MergeResult:
        """Apply the steps in order; stop before the contacts plan if a reference did not move.

        Raises
        ------
        ConfirmationRequired
            Before anything is sent, when the merge deletes records and ``confirm`` is not
            :attr:`confirm_required`.
        """
        need = self.confirm_required
        if need is not None and confirm != need:
            raise ConfirmationRequired(
                f"This merge deletes records; nothing was sent. Apply it with merge.apply(confirm={need}).",
                need,
            )
        folder = Path(journal_dir or self.contacts_plan.journal_dir or _default_journal_dir())
        folder.mkdir(parents=True, exist_ok=True)
        manifest = folder / f"merge-{time.strftime('%Y%m%dT%H%M%S')}-{time.time_ns() % 1_000_000:06d}.json"
        results: list[tuple[str, PushResult]] = []
        added: list[dict[str, Any]] = []
        stopped: str | None = None

        def save() -> None:
            manifest.write_text(
                json.dumps(
                    {
                        "steps": [{"object": n, "journal": str(r.journal)} for n, r in results],
                        "subscriptions": added,
                        "stopped": stopped,
                    },
                    indent=1,
                )
            )

        for name, p in self.steps[:-1]:
            if p.empty:
                continue
            result = p.apply(confirm=p.confirm_required, progress=progress, journal_dir=str(folder))
            results.append((name, result))
            save()
            if not result.ok:
                stopped = f"{name}: not every reference moved; no contact was deleted"
                save()
                return MergeResult(self, results, added, manifest, stopped)
        contacts = self.contacts_plan
        if not contacts.empty:
            results.append(
                (
                    "contacts",
                    contacts.apply(
                        confirm=contacts.confirm_required, progress=progress, journal_dir=str(folder)
                    ),
                )
            )
        for sub in self.subscriptions.to_dict("records"):
            entry = {"contact": int(sub["contact"]), "sub_type": str(sub["sub_type"]), "id": int(sub["id"])}
            payload = {
                "objectID": 0,
                "ids": [entry["contact"]],
                "add_list": [entry["id"]],
                "sub_type": entry["sub_type"],
            }
            try:
                self.client.request("PUT", "objects/subscribe", json=payload)
            except OntraportError as exc:
                stopped = (
                    f"subscribing {entry['contact']} to {entry['sub_type']} {sub['name']!r} failed: {exc}"
                )
                save()
                return MergeResult(self, results, added, manifest, stopped)
            added.append(entry)
            save()
        save()
        return MergeResult(self, results, added, manifest, stopped)


def _undo_contacts(
    op: Ontraport, result: PushResult, progress: bool | None
) -> tuple[list[PushResult], dict[int, int]]:
    """Undo the contacts step in two journaled plans; return them and old id -> restored id.

    The generic undo re-creates a deleted contact through create-or-update, which would
    match the survivor by its e-mail and overwrite it. Here the duplicates are created
    again without their e-mail first (a plain create always makes a new record), then a
    second plan puts the survivors' values, the tags and the e-mails back.
    """
    from .journal import read_journal
    from .plan import Operation, Plan

    if result.journal is None:  # the contacts step sent nothing: nothing to put back
        return [], {}
    state = read_journal(result.journal)
    otype = op.session.resolve("contacts")
    key = otype.natural_key or "email"
    creates: list[Operation] = []
    emails: dict[int, Any] = {}
    later: list[tuple[str, Any, dict[str, Any], str | None, list[int]]] = []
    for o in reversed(state.ops):
        ev = state.events.get(o["i"], {})
        if ev.get("status") != "ok":
            continue
        kind = o["kind"]
        if kind == "update":
            later.append(("update", int(o["record_id"]), dict(o.get("before") or {}), None, []))
        elif kind in ("add_tags", "remove_tags"):
            ids = [int(x) for x in ev.get("ids", [])]
            if ids:
                later.append(("remove_tags" if kind == "add_tags" else "add_tags", None, {}, o["tag"], ids))
        elif kind == "delete":
            before = {
                k: v
                for k, v in (o.get("before") or {}).items()
                if k not in ("id", "date", "dlm", "dla", "unique_id") and v is not None
            }
            emails[int(o["record_id"])] = before.pop(key, None)
            creates.append(Operation(len(creates), "create", f"restored-{o['record_id']}", fields=before))
    out: list[PushResult] = []
    new_id: dict[int, int] = {}
    folder = str(result.journal.parent)
    if creates:
        first = Plan(op, otype, creates)
        made = first.apply(
            confirm=first.confirm_required, on_conflict="overwrite", progress=progress, journal_dir=folder
        )
        out.append(made)
        for row, rid, status in zip(
            made.frame["row"], made.frame["record_id"], made.frame["status"], strict=True
        ):
            if status == "ok" and not pd.isna(rid):
                new_id[int(str(row).removeprefix("restored-"))] = int(rid)
    ops: list[Operation] = []
    for kind, rid, fields, tag, ids in later:
        if kind == "update" and fields:
            ops.append(Operation(len(ops), "update", rid, record_id=rid, fields=fields))
        elif kind != "update":
            ops.append(Operation(len(ops), cast(Any, kind), None, tag=tag, rows=ids))
    for old, email in emails.items():
        if email and old in new_id:
            ops.append(Operation(len(ops), "update", new_id[old], record_id=new_id[old], fields={key: email}))
    if ops:
        second = Plan(op, otype, ops)
        out.append(
            second.apply(
                confirm=second.confirm_required,
                on_conflict="overwrite",
                progress=progress,
                journal_dir=folder,
            )
        )
    return out, new_id


def _default_journal_dir() -> str:
    import os

    return os.environ.get("ONTRAPORT_PANDAS_JOURNAL_DIR") or "ontraport-journal"


@dataclass
class MergeResult:
    """The outcome of a merge: each step's :class:`~ontraport_pandas.result.PushResult`.

    ``manifest`` is a JSON file naming every step's journal and the subscriptions added.
    ``stopped`` says why the merge stopped early (None when it ran to the end).
    """

    plan: MergePlan = field(repr=False)
    results: list[tuple[str, PushResult]]
    subscriptions: list[dict[str, Any]]
    manifest: Path
    stopped: str | None = None

    @property
    def ok(self) -> bool:
        return self.stopped is None and all(r.ok for _, r in self.results)

    @property
    def frame(self) -> pd.DataFrame:
        """Every operation's outcome, with its step in ``object``."""
        parts = [r.frame.assign(object=name) for name, r in self.results]
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["object", "status"])

    def undo(self, *, progress: bool | None = None) -> list[PushResult]:
        """Undo the merge in reverse order: the subscriptions, the contacts plan, the moves.

        Deleted duplicates come back as new records (with new ids, as every undo of a
        delete does); the references moved away from them are pointed at the new ids.
        """
        op = self.plan.client
        done: list[PushResult] = []
        for sub in reversed(self.subscriptions):
            op.request(
                "DELETE",
                "objects/subscribe",
                json={
                    "objectID": 0,
                    "ids": [sub["contact"]],
                    "remove_list": [sub["id"]],
                    "sub_type": sub["sub_type"],
                },
            )
        new_id: dict[int, int] = {}
        for name, result in reversed(self.results):
            if name == "contacts":
                undone, new_id = _undo_contacts(op, result, progress)
                done.extend(undone)
        moved = {name for name, _ in self.results if name != "contacts"}
        for type_name, key, back in self.plan.moves:
            if f"{type_name}.{key}" not in moved or not back:
                continue
            frame = op.frame(type_name, where=f"id in {sorted(back)}", progress=False)
            edited = frame.copy()
            targets: list[Any] = [new_id.get(back[int(str(i))], back[int(str(i))]) for i in frame.index]
            edited[key] = pd.Series(targets, index=frame.index).astype(frame[key].dtype)
            plan = op.plan(edited)
            done.append(plan.apply(confirm=plan.confirm_required, progress=progress))
        return done

    def __repr__(self) -> str:
        text = "OK" if self.ok else f"STOPPED: {self.stopped}" if self.stopped else "WITH PROBLEMS"
        steps = ", ".join(
            f"{n} {int((r.frame['status'] == 'ok').sum())}/{len(r.frame)} ok" for n, r in self.results
        )
        return f"<MergeResult {text}: {steps or 'nothing sent'}; manifest {self.manifest}>"


def _keep_marks(groups: pd.DataFrame) -> dict[int, bool]:
    """Contact id -> its ``keep`` mark (True/False; text such as "True" from a CSV is read too)."""
    if "keep" not in groups.columns:
        return {}
    frame = groups.set_index("id") if "id" in groups.columns else groups
    out: dict[int, bool] = {}
    for rid, mark in frame["keep"].items():
        text = str(mark).strip().lower()
        try:
            out[int(str(rid))] = text in ("true", "1", "yes", "x")
        except ValueError:
            continue
    return out


#: Ids per ``in [...]`` filter: the condition travels in the URL of a GET, which servers limit.
IDS_PER_QUERY = 200


def load_where_in(
    op: Ontraport, object_type: str, key: str, ids: Sequence[int], *, chunk: int = IDS_PER_QUERY
) -> pd.DataFrame:
    """The records whose ``key`` is one of ``ids``, loaded ``chunk`` ids per request filter.

    One chunk is an ordinary load; several are concatenated, with the ``attrs`` of the first
    (the earliest load time, so a conflict check errs on the safe side). Plan such a frame
    with ``original=`` it.
    """
    ids = sorted(set(int(i) for i in ids))
    parts = [
        op.frame(object_type, where=f"{key} in {ids[i : i + chunk]}", progress=False)
        for i in range(0, max(len(ids), 1), chunk)
    ]
    if len(parts) == 1:
        return parts[0]
    frame = pd.concat(parts)
    frame = frame[~frame.index.duplicated(keep="first")]
    frame.attrs = dict(parts[0].attrs)
    return frame


def _invalid(problems: Iterable[tuple[Any, str | None, Any, str]]) -> ValidationError:
    return ValidationError([Problem(*p) for p in problems])


def _groups_from(groups: pd.DataFrame) -> dict[int, list[Any]]:
    """Group number -> contact ids, from the index or, after ``reset_index()`` or a CSV round
    trip, from an ``id`` column."""
    if "id" in groups.columns and not groups.columns.duplicated().any():
        groups = groups.set_index("id")
    if "group" not in groups.columns:
        raise _invalid(
            [(None, "group", None, "the groups frame needs a 'group' column (from op.duplicates)")]
        )
    problems = []
    seen: dict[Any, Any] = {}
    out: dict[int, list[Any]] = {}
    for rid, g in groups["group"].items():
        if pd.isna(g):
            continue
        try:
            cid = int(str(rid))
        except (TypeError, ValueError):
            problems.append((rid, "id", rid, "not a contact id"))
            continue
        if cid in seen and seen[cid] != g:
            problems.append((rid, "group", g, f"contact {cid} is in two groups ({seen[cid]} and {g})"))
            continue
        seen[cid] = g
        out.setdefault(int(g), [])
        if cid not in out[int(g)]:
            out[int(g)].append(cid)
    if problems:
        raise _invalid(problems)
    return {g: ids for g, ids in out.items() if len(ids) > 1}


def plan_merge(
    op: Ontraport,
    groups: pd.DataFrame,
    *,
    keep: KeepRule | None = None,
    values: Mapping[str, ValueRule] | None = None,
    move: Iterable[str] | None = None,
    hold_tag: str = HOLD_TAG,
    journal_dir: str | None = None,
) -> MergePlan:
    """Plan the merge of each group of ``groups`` into one surviving contact (module docstring).

    Parameters
    ----------
    op : Ontraport
        The client.
    groups : pandas.DataFrame
        Indexed by contact id with a ``group`` column (``op.duplicates(...)``, edited or
        not); an optional ``keep`` column marks the survivor (exactly one per group).
    keep : {"oldest", "newest", "most_complete"}, optional
        Pick the survivors by this rule instead of the ``keep`` column (default: the column
        when it marks one per group, else ``"oldest"``).
    values : mapping, optional
        Column -> rule for the survivor's value: ``"fill"`` (the default: the survivor's,
        blanks filled from the others, newest first), ``"survivor"``, ``"newest"``,
        ``"oldest"``, ``"longest"`` (from the non-blank values of the group).
    move : iterable of str, optional
        The object types whose references move (default: every type where the API
        can write them, tasks excepted).
    hold_tag : str
        The tag put on duplicates that cannot be deleted.
    journal_dir : str, optional
        Folder for the journals.

    Raises
    ------
    ValidationError
        A contact in two groups, an id that is not a contact, a group with two ``keep``
        rows, unknown columns or rules in ``values``: nothing is read beyond the contacts.
    """
    if keep is not None and keep not in ("oldest", "newest", "most_complete"):
        raise ValueError(f"keep= must be oldest, newest or most_complete, not {keep!r}")
    rules = dict(values or {})
    bad = [(c, r) for c, r in rules.items() if r not in ("survivor", "fill", "newest", "oldest", "longest")]
    if bad:
        raise _invalid([(None, c, r, "unknown rule") for c, r in bad])
    by_group = _groups_from(groups)
    keep_marks = _keep_marks(groups)
    every = sorted({i for ids in by_group.values() for i in ids})
    if not every:
        raise _invalid([(None, "group", None, "no group has two or more contacts")])
    contacts = load_where_in(op, "contacts", "id", every)
    missing = [i for i in every if i not in contacts.index]
    problems: list[tuple[Any, str, Any, str]] = [(i, "id", i, "no such contact") for i in missing]
    unknown = [c for c in rules if c not in contacts.columns]
    problems += [(None, c, rules[c], "not a contact field") for c in unknown]
    survivors: dict[int, int] = {}
    for g, ids in by_group.items():
        ids = [i for i in ids if i in contacts.index]
        marked = [i for i in ids if keep_marks.get(i) is True] if keep is None else []
        if len(marked) > 1:
            problems.append((marked[1], "keep", True, f"group {g} marks {len(marked)} survivors"))
            continue
        survivors[g] = marked[0] if marked else _choose(contacts, ids, keep or "oldest")
    if problems:
        raise _invalid(problems)
    loser_of = {i: survivors[g] for g, ids in by_group.items() for i in ids if i != survivors[g]}

    # references: move what the API can write, hold the contacts that own the rest
    allowed = set(move) if move is not None else None
    steps: list[tuple[str, Plan]] = []
    moves: list[tuple[str, str, dict[int, int]]] = []
    held: dict[int, list[str]] = {}
    for type_id in op.objects().index:
        if int(type_id) == 0:
            continue
        otype = op.session.resolve(int(type_id))
        try:
            schema = op.session.schema(otype)
        except OntraportError:
            continue
        refs = [spec for spec in schema.fields.values() if spec.type == "parent" and spec.parent_object == 0]
        for spec in refs:
            owned = load_where_in(op, otype.name, spec.key, sorted(loser_of))
            if owned.empty:
                continue
            writable = "PUT" in otype.verbs and spec.editable
            wanted = otype.name in allowed if allowed is not None else otype.name not in _NOT_MOVED_BY_DEFAULT
            if writable and wanted:
                edited = owned.copy()
                edited[spec.key] = (
                    owned[spec.key].map(lambda v: loser_of.get(int(v), v)).astype(owned[spec.key].dtype)
                )
                steps.append(
                    (f"{otype.name}.{spec.key}", op.plan(edited, original=owned, journal_dir=journal_dir))
                )
                moves.append(
                    (otype.name, spec.key, {int(str(i)): int(v) for i, v in owned[spec.key].items()})
                )
                continue
            why = (
                "read-only in the API"
                if "PUT" not in otype.verbs or not spec.editable
                else "not moved (move= does not include it)"
                if allowed is not None
                else "payment data: pass move= to give it to the survivor"
                if otype.name == "credit_cards"
                else "the API's documented update does not take the contact"
            )
            counts = owned[spec.key].astype("Int64").value_counts()
            for cid, n in counts.items():
                held.setdefault(int(cid), []).append(f"owns {n} {otype.name} ({why})")

    # the contacts plan: survivor values, tag union, deletes, hold tags
    edited = contacts.copy()
    order_newest = _newest_first(contacts)
    decisions = []
    subs = []
    lookups = op.session.lookups("contacts")
    for g, ids in sorted(by_group.items()):
        sid = survivors[g]
        others = [i for i in order_newest if i in ids and i != sid]
        for column in contacts.columns:
            rule = rules.get(column, "fill")
            spec = op.session.schema("contacts").fields.get(column)
            if (
                spec is None
                or not spec.editable
                or column in ("contact_cat", "updateSequence", "updateCampaign")
            ):
                continue
            value = _merged_value(contacts, column, sid, others, ids, order_newest, rule)
            if value is not _SAME:
                edited.at[sid, column] = value
        if "contact_cat" in contacts.columns:
            tags = _items(contacts, sid, "contact_cat")
            for i in others:
                tags += [t for t in _items(contacts, i, "contact_cat") if t not in tags]
            edited.at[sid, "contact_cat"] = tags
        for column, sub_type in (("updateSequence", "sequence"), ("updateCampaign", "campaign")):
            if column not in contacts.columns:
                continue
            have = set(_items(contacts, sid, column))
            ids_by_name = {label: key for key, label in (lookups.get(column) or {}).items()}
            for i in others:
                for name in _items(contacts, i, column):
                    if name not in have and name in ids_by_name:
                        have.add(name)
                        subs.append((sid, sub_type, int(ids_by_name[name]), name))
        decisions.append((sid, g, "survivor", f"keeps the group's values ({keep or 'keep column/oldest'})"))
        for i in sorted(others):
            if i in held:
                decisions.append((i, g, "kept", "; ".join(held[i]) + f": tagged {hold_tag!r}, not deleted"))
                if "contact_cat" in contacts.columns:
                    edited.at[i, "contact_cat"] = [*_items(contacts, i, "contact_cat"), hold_tag]
            else:
                decisions.append((i, g, "deleted", f"merged into {sid}"))
    delete = [i for i, _, role, _ in decisions if role == "deleted"]
    edited = edited.drop(index=delete)
    contacts_plan = op.plan(edited, original=contacts, delete_missing=True, journal_dir=journal_dir)
    steps.append(("contacts", contacts_plan))
    decision_frame = pd.DataFrame(decisions, columns=["id", "group", "role", "why"]).set_index("id")
    sub_frame = pd.DataFrame(subs, columns=["contact", "sub_type", "id", "name"])
    return MergePlan(op, steps, sub_frame, decision_frame, moves)


_SAME = object()


def _at(frame: pd.DataFrame, row: Any, column: str) -> Any:
    return frame.at[row, column]


def _items(frame: pd.DataFrame, row: Any, column: str) -> list[Any]:
    value = frame.at[row, column]
    return list(value) if isinstance(value, (list, tuple, set)) else []


def _newest_first(contacts: pd.DataFrame) -> list[Any]:
    column = "dlm" if "dlm" in contacts.columns else "date" if "date" in contacts.columns else None
    if column is None:
        return sorted(contacts.index, reverse=True)
    stamps = contacts[column]
    return sorted(
        contacts.index,
        key=lambda i: (pd.isna(stamps[i]), -(stamps[i].value if not pd.isna(stamps[i]) else 0), i),
    )


def _blank(v: Any) -> bool:
    if isinstance(v, (list, tuple)):
        return not v
    return _text(v) is None


def _merged_value(
    contacts: pd.DataFrame,
    column: str,
    sid: Any,
    others: list[Any],
    ids: list[Any],
    order_newest: list[Any],
    rule: str,
) -> Any:
    own = _at(contacts, sid, column)
    if rule == "survivor":
        return _SAME
    if rule == "fill":
        if not _blank(own):
            return _SAME
        for i in others:
            v = _at(contacts, i, column)
            if not _blank(v):
                return v
        return _SAME
    candidates = [i for i in order_newest if i in ids and not _blank(_at(contacts, i, column))]
    if not candidates:
        return _SAME
    if rule == "newest":
        pick = candidates[0]
    elif rule == "oldest":
        pick = candidates[-1]
    else:  # longest
        pick = max(candidates, key=lambda i: len(str(_at(contacts, i, column))))
    return _SAME if pick == sid else _at(contacts, pick, column)
