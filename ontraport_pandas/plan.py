"""A push plan: what would be written, readable before anything is sent.

A :class:`Plan` holds :class:`Operation` values: creates, updates with only the cells
that changed, tag additions and removals grouped by tag (one call covers every row
gaining the same tag), sequence and automation subscriptions and unsubscriptions
grouped the same way (one per sequence or automation), and deletes. It renders in Jupyter as a diff (old → new per
changed cell, counts per kind, creates, clears and deletes called out, a LIVE or
SANDBOX badge) and converts to a long frame with :meth:`Plan.to_frame`. The new values
shown are the ones Ontraport will store (a cleared number is 0, a price is whole cents),
and text that changes only in whitespace is shown quoted so the change can be seen.
:meth:`Plan.apply` sends it (see :mod:`ontraport_pandas.writer`).
"""

from __future__ import annotations

import html
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from .errors import OntraportError
from .eta import MEMBER_BATCH, READ_BATCH, TAG_BATCH, Estimate, estimate

if TYPE_CHECKING:
    from .client import Ontraport
    from .journal import Carried
    from .objects import ObjectType
    from .result import PushResult

__all__ = ["Operation", "Plan"]

OpKind = Literal["create", "update", "delete", "add_tags", "remove_tags", "subscribe", "unsubscribe"]
#: Operations over many rows: tags added / removed, sequences and automations joined / left.
GROUP_KINDS = ("add_tags", "remove_tags", "subscribe", "unsubscribe")
MEMBER_KINDS = ("subscribe", "unsubscribe")

#: A plan that clears more cells (tags removed from rows and rows taken out of a sequence or
#: automation count too) than this, or affects more rows than BIG_PLAN_ROWS, needs ``confirm=``.
CLEAR_THRESHOLD = 25
BIG_PLAN_ROWS = 5000


@dataclass(slots=True)
class Operation:
    """One write.

    Attributes
    ----------
    i : int
        Position in the plan (and in the journal).
    kind : str
        ``create``, ``update``, ``delete``, ``add_tags``, ``remove_tags``, ``subscribe``
        or ``unsubscribe``.
    row : any
        The row label in the edited frame (the record id for existing rows).
    record_id : int or None
        The Ontraport id (None for a create until it is sent).
    fields : dict
        Wire values to send (only changed cells for an update).
    before : dict
        Wire values before the write, for undo (filled in when sent).
    old, new : dict
        Display values of the changed cells.
    clears : tuple of str
        Fields this operation clears.
    tag : str or None
        The tag name of a tag operation.
    rows : list
        Row labels a tag or membership operation covers.
    sub_type : str or None
        For ``subscribe`` / ``unsubscribe``: ``"sequence"`` or ``"campaign"`` (an automation).
    item_id : int or None
        The id of the sequence or automation joined or left.
    item : str or None
        Its name (for display).
    column : str or None
        The frame column the membership edit came from (``updateSequence``, ``updateCampaign``).
    match_id : int or None
        For a create: the existing record it will update instead (same e-mail).
    """

    i: int
    kind: OpKind
    row: Any
    record_id: int | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    before: dict[str, Any] = field(default_factory=dict)
    old: dict[str, Any] = field(default_factory=dict)
    new: dict[str, Any] = field(default_factory=dict)
    clears: tuple[str, ...] = ()
    tag: str | None = None
    rows: list[Any] = field(default_factory=list)
    match_id: int | None = None
    sub_type: str | None = None
    item_id: int | None = None
    item: str | None = None
    column: str | None = None

    def to_json(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["clears"] = list(self.clears)
        d["rows"] = list(self.rows)
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Operation:
        keys = set(cls.__dataclass_fields__)
        data = {k: v for k, v in d.items() if k in keys}
        data["clears"] = tuple(data.get("clears") or ())
        return cls(**data)


@dataclass
class Plan:
    """What a push would write. Build it with ``op.plan(edited)``; send it with :meth:`apply`."""

    client: Ontraport = field(repr=False)
    object_type: ObjectType
    ops: list[Operation]
    loaded_at: str | None = None
    original_dlm: dict[int, int] = field(default_factory=dict, repr=False)
    on_conflict: str = "skip"
    journal_dir: str | None = None
    #: For a retry (``result.failed()``): what the pushes it retries created, left unknown, wrote.
    carried: Carried | None = field(default=None, repr=False)

    # -- figures -----------------------------------------------------------------------
    @property
    def counts(self) -> dict[str, int]:
        """Operations per kind, plus ``clears`` (cells set empty), ``cells`` (cells written),
        ``matched_creates``, ``tagged_rows`` (rows in tag operations), ``tag_removals``
        (tags removed, one per row and tag), ``member_rows`` (rows in subscribe and
        unsubscribe operations) and ``unsubscriptions`` (one per row and sequence or
        automation left)."""
        c: Counter[str] = Counter()
        clears = cells = matched = tagged = removals = members = leaves = 0
        for op in self.ops:
            kind = op.kind
            c[kind] += 1
            clears += len(op.clears)
            if kind == "update":
                cells += len(op.fields)
            elif kind == "create":
                matched += op.match_id is not None
            elif kind in ("add_tags", "remove_tags"):
                tagged += len(op.rows)
                if kind == "remove_tags":
                    removals += len(op.rows)
            elif kind in MEMBER_KINDS:
                members += len(op.rows)
                if kind == "unsubscribe":
                    leaves += len(op.rows)
        kinds = ("create", "update", "delete", "add_tags", "remove_tags", "subscribe", "unsubscribe")
        out = {k: c.get(k, 0) for k in kinds}
        out.update(
            clears=clears,
            cells=cells,
            matched_creates=matched,
            tagged_rows=tagged,
            tag_removals=removals,
            member_rows=members,
            unsubscriptions=leaves,
        )
        return out

    @property
    def empty(self) -> bool:
        return not self.ops

    @property
    def records_affected(self) -> int:
        rows: set[str] = set()
        for op in self.ops:
            if op.kind in GROUP_KINDS:
                rows.update(map(str, op.rows))
            else:
                rows.add(str(op.row))
        return len(rows)

    @property
    def confirm_required(self) -> int | None:
        """The number to pass as ``apply(confirm=…)``, or None when the plan needs no confirmation.

        Needed when the plan deletes records, clears more than 25 cells and tags (a tag
        removed from a row, or a row taken out of a sequence or automation, counts as one
        cleared cell), or touches more than 5,000 records.
        """
        c = self.counts
        destructive = c["clears"] + c["tag_removals"] + c["unsubscriptions"]
        if c["delete"] or destructive > CLEAR_THRESHOLD or self.records_affected > BIG_PLAN_ROWS:
            return self.records_affected
        return None

    @property
    def requests(self) -> int:
        """The API requests :meth:`apply` sends when every answer arrives: the conflict check
        (records read 50 at a time), one per create and update, the read-back of the updated
        records, the tag reads and tag-by-name calls (2,500 records each), subscribe calls (500
        records each), and deletes in batches of 50. Lost answers add read-backs on top."""
        updates = creates = deletes = 0
        checked: set[int] = set()
        losing: set[int] = set()
        adding = False
        tag_calls = 0
        for o in self.ops:
            kind = o.kind
            if kind == "update":
                updates += 1
            elif kind == "create":
                creates += 1
            elif kind == "delete":
                deletes += 1
            if kind in ("update", "delete") and o.record_id is not None:
                checked.add(int(o.record_id))
            elif kind == "create" and o.match_id is not None:
                checked.add(int(o.match_id))
            elif kind in ("add_tags", "remove_tags"):
                tag_calls += -(-len(o.rows) // TAG_BATCH)
                if kind == "add_tags":
                    adding = True
                else:
                    losing.update(int(float(r)) for r in o.rows if _is_record_label(r))
            elif kind in ("subscribe", "unsubscribe"):
                tag_calls += -(-len(o.rows) // MEMBER_BATCH)
        deleted = {int(o.record_id) for o in self.ops if o.kind == "delete" and o.record_id is not None}
        n = _batches(len(checked - deleted)) + _batches(len(deleted))
        n += creates + updates + _batches(updates)
        n += _batches(len(losing)) + (self._tag_name_reads() if adding else 0) + tag_calls
        n += _batches(deletes)
        return n

    def _tag_name_reads(self) -> int:
        """Before adding tags the push re-reads the name lists (tags, sequences, campaigns)."""
        try:
            lookups = self.client.session.lookups(self.object_type)  # cached since the plan was built
        except OntraportError:  # an estimate never fails a plan: count one read per list
            return 3
        return sum(max(1, _batches(len(names))) for names in lookups.values()) or 1

    @property
    def estimate(self) -> Estimate:
        """:attr:`requests` and about how long they take at the account's rate limit
        (``str(plan.estimate)`` reads ``"≈ 1,240 requests, about 7 min"``)."""
        session = self.client.session
        return estimate(self.requests, session.limiter, workers=max(1, session.max_workers))

    def __len__(self) -> int:
        return len(self.ops)

    # -- sending ----------------------------------------------------------------------
    def apply(
        self,
        *,
        confirm: int | None = None,
        on_conflict: Literal["skip", "overwrite"] | None = None,
        progress: bool | None = None,
        journal_dir: str | None = None,
        retry_unknown: bool = False,
    ) -> PushResult:
        """Send the plan; return the per-operation :class:`~ontraport_pandas.result.PushResult`.

        Parameters
        ----------
        confirm : int, optional
            Required when the plan deletes records, clears more than 25 cells (each
            tag removed from a row, and each row taken out of a sequence or automation,
            counts as one) or touches more than 5,000 records:
            the number of records affected, as the plan's repr says.
        on_conflict : {"skip", "overwrite"}, optional
            What to do with records modified in Ontraport since the load (default:
            the plan's setting, ``"skip"``: reported as ``conflict`` and left alone).
        progress : bool, optional
            Show a progress bar.
        journal_dir : str, optional
            Folder for the push journal (default ``ONTRAPORT_PANDAS_JOURNAL_DIR`` or
            ``./ontraport-journal``).
        retry_unknown : bool
            For a retry plan: send again a create whose earlier outcome is unknown (it
            may have been applied) and that is still not found when looked up again.
            Off by default: such a create is reported ``unknown`` again, so that it is
            never sent twice without the user deciding to.

        Raises
        ------
        ConfirmationRequired
            Before anything is sent, when ``confirm`` is missing or wrong.
        """
        from .writer import apply_plan

        return apply_plan(
            self,
            confirm=confirm,
            on_conflict=on_conflict or self.on_conflict,
            progress=progress,
            journal_dir=journal_dir or self.journal_dir,
            retry_unknown=retry_unknown,
        )

    # -- display ------------------------------------------------------------------------
    def to_frame(self) -> pd.DataFrame:
        """One row per changed cell, tag or membership: op, kind, record_id, row, column, old, new, clear.

        A membership row's column is the frame's (``updateSequence`` / ``updateCampaign``)
        and old / new the name of the sequence or automation left / joined."""
        rows: list[dict[str, Any]] = []
        for op in self.ops:
            if op.kind in MEMBER_KINDS:
                adding = op.kind == "subscribe"
                for r in op.rows:
                    rows.append(
                        {
                            "op": op.i,
                            "kind": op.kind,
                            "record_id": r if not isinstance(r, str) or r.isdigit() else None,
                            "row": r,
                            "column": op.column
                            or ("updateSequence" if op.sub_type == "sequence" else "updateCampaign"),
                            "old": None if adding else op.item,
                            "new": op.item if adding else None,
                            "clear": False,
                        }
                    )
            elif op.kind in ("add_tags", "remove_tags"):
                for r in op.rows:
                    rows.append(
                        {
                            "op": op.i,
                            "kind": op.kind,
                            "record_id": r if not isinstance(r, str) or r.isdigit() else None,
                            "row": r,
                            "column": "tags",
                            "old": None if op.kind == "add_tags" else op.tag,
                            "new": op.tag if op.kind == "add_tags" else None,
                            "clear": False,
                        }
                    )
            elif op.kind == "delete":
                rows.append(
                    {
                        "op": op.i,
                        "kind": "delete",
                        "record_id": op.record_id,
                        "row": op.row,
                        "column": None,
                        "old": None,
                        "new": None,
                        "clear": False,
                    }
                )
            else:
                for col in op.fields:
                    rows.append(
                        {
                            "op": op.i,
                            "kind": op.kind,
                            "record_id": op.record_id if op.kind == "update" else op.match_id,
                            "row": op.row,
                            "column": col,
                            "old": op.old.get(col),
                            "new": op.new.get(col),
                            "clear": col in op.clears,
                        }
                    )
        cols = ["op", "kind", "record_id", "row", "column", "old", "new", "clear"]
        frame = pd.DataFrame(rows, columns=cols)
        frame["record_id"] = frame["record_id"].astype("Int64")
        return frame

    def _badge(self) -> str:
        return "LIVE" if self.client.live else "SANDBOX"

    def summary(self) -> str:
        c = self.counts
        parts = [
            f"{c['update']} update(s) of {c['cells']} cell(s)",
            f"{c['create']} create(s)"
            + (
                f" ({c['matched_creates']} will update an existing record with the same e-mail)"
                if c["matched_creates"]
                else ""
            ),
            f"{c['clears']} clear(s)",
            f"{c['add_tags']} tag addition(s) and {c['remove_tags']} removal(s) over {c['tagged_rows']} row(s)"
            + (f" ({c['tag_removals']} tag(s) removed from rows)" if c["tag_removals"] else ""),
        ]
        if c["subscribe"] or c["unsubscribe"]:
            parts.append(
                f"{c['subscribe']} subscription(s) and {c['unsubscribe']} unsubscription(s) over "
                f"{c['member_rows']} row(s)"
                + (
                    f" ({c['unsubscriptions']} row(s) leave a sequence or automation)"
                    if c["unsubscriptions"]
                    else ""
                )
            )
        parts.append(f"{c['delete']} delete(s)")
        if self.ops:
            parts.append(str(self.estimate))
        return "; ".join(parts)

    def __repr__(self) -> str:
        lines = [f"<Plan [{self._badge()}] {self.object_type.name} on {self.client.name}: {self.summary()}>"]
        need = self.confirm_required
        if need is not None:
            lines.append(f"  This plan is big or destructive: apply it with plan.apply(confirm={need}).")
        frame = self.to_frame()
        if len(frame):
            shown = frame.head(20).astype(object).where(frame.head(20).notna(), "")
            shown["old"], shown["new"] = visible_whitespace(shown["old"].tolist(), shown["new"].tolist())
            lines.append(shown.to_string(index=False, max_colwidth=40))
            if len(frame) > 20:
                lines.append(f"  … {len(frame) - 20} more change(s): plan.to_frame()")
        else:
            lines.append("  nothing to write")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        badge_color = "#c62828" if self.client.live else "#2e7d32"
        esc = html.escape
        c = self.counts
        out = [
            '<div class="ontraport-plan">',
            f'<span style="background:{badge_color};color:white;padding:2px 6px;border-radius:3px;'
            f'font-weight:bold">{self._badge()}</span> ',
            f"<b>Plan for {esc(self.object_type.name)}</b> on {esc(self.client.name)}<br>",
            "<table><tr>"
            + "".join(
                f"<th>{k}</th>"
                for k in ("updates", "cells", "creates", "clears", "tag ops", "membership ops", "deletes")
            )
            + "</tr><tr>"
            + "".join(
                f"<td>{v}</td>"
                for v in (
                    c["update"],
                    c["cells"],
                    c["create"],
                    c["clears"],
                    c["add_tags"] + c["remove_tags"],
                    c["subscribe"] + c["unsubscribe"],
                    c["delete"],
                )
            )
            + "</tr></table>",
        ]
        if self.ops:
            out.append(f"<p>{esc(str(self.estimate))} at the account's rate limit</p>")
        need = self.confirm_required
        if need is not None:
            out.append(
                f"<p><b>Big or destructive plan:</b> apply with <code>plan.apply(confirm={need})</code></p>"
            )
        frame = self.to_frame()
        if len(frame):
            out.append(
                "<table><tr><th>record</th><th>kind</th><th>column</th><th>old</th><th>→ new</th></tr>"
            )
            head = frame.head(200)
            olds, news = visible_whitespace(head["old"].tolist(), head["new"].tolist())
            for r, old_shown, new_shown in zip(head.itertuples(index=False), olds, news, strict=True):
                style = ""
                if r.kind == "delete":
                    style = ' style="background:#ffebee"'
                elif r.clear:
                    style = ' style="background:#fff8e1"'
                elif r.kind == "create":
                    style = ' style="background:#e8f5e9"'
                label = "" if pd.isna(r.record_id) else str(r.record_id)
                label = label or str(r.row)
                new = new_shown
                if r.clear:  # a cleared number or check box is stored as 0 / False: say both
                    new = f"{_fmt(new_shown)} (clear)" if _fmt(new_shown) else "(clear)"
                out.append(
                    f"<tr{style}><td>{esc(label)}</td><td>{esc(str(r.kind))}</td><td>{esc(str(r.column or ''))}</td>"
                    f'<td style="white-space:pre-wrap">{esc(_fmt(old_shown))}</td>'
                    f'<td style="white-space:pre-wrap">{esc(_fmt(new))}</td></tr>'
                )
            out.append("</table>")
            if len(frame) > 200:
                out.append(f"<p>… {len(frame) - 200} more: <code>plan.to_frame()</code></p>")
        else:
            out.append("<p>Nothing to write.</p>")
        out.append("</div>")
        return "".join(out)


def visible_whitespace(olds: list[Any], news: list[Any]) -> tuple[list[Any], list[Any]]:
    """Old and new display values, quoted (``'Ann '``) where text differs only in whitespace.

    Without quotes a change from ``"Ann"`` to ``"Ann "`` would show as ``Ann → Ann``.
    """
    out_old, out_new = list(olds), list(news)
    for k, (a, b) in enumerate(zip(olds, news, strict=True)):
        a_text = a if isinstance(a, str) else ""
        b_text = b if isinstance(b, str) else ""
        if (
            (isinstance(a, str) or isinstance(b, str))
            and a_text != b_text
            and a_text.split() == b_text.split()
        ):
            out_old[k], out_new[k] = repr(a_text), repr(b_text)
    return out_old, out_new


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    try:
        if pd.isna(v):
            return ""
    except (TypeError, ValueError):
        pass
    return str(v)


def _batches(n: int) -> int:
    return -(-n // READ_BATCH)


def _is_record_label(label: Any) -> bool:
    """A row label of a tag operation that is an existing record's id (not a new row's label)."""
    try:
        value = float(label)
    except (TypeError, ValueError):
        return False
    return value > 0 and value.is_integer()
