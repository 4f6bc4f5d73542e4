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
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from .errors import OntraportError
from .eta import MEMBER_BATCH, READ_BATCH, TAG_BATCH, Estimate, estimate
from .schema import gc_paused
from .update_cells import UpdateCells

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


class Plan:
    """What a push would write. Build it with ``op.plan(edited)``; send it with :meth:`apply`.

    ``ops`` lists the operations in order: creates, updates, tag operations, membership
    operations, deletes. A plan built by ``op.plan`` keeps the changed cells of its updates
    column by column (``updates``, an :class:`~ontraport_pandas.update_cells.UpdateCells`)
    and makes their :class:`Operation` values the first time :attr:`ops` is read; its
    counts, :meth:`to_frame` and repr come from the columns. ``ops`` passed together with
    ``updates`` hold every other operation, numbered around the updates (which take the
    positions right after the creates).
    """

    def __init__(
        self,
        client: Ontraport,
        object_type: ObjectType,
        ops: list[Operation],
        loaded_at: str | None = None,
        original_dlm: dict[int, int] | None = None,
        on_conflict: str = "skip",
        journal_dir: str | None = None,
        carried: Carried | None = None,
        *,
        updates: UpdateCells | None = None,
    ) -> None:
        self.client = client
        self.object_type = object_type
        self.loaded_at = loaded_at
        self.original_dlm: dict[int, int] = original_dlm if original_dlm is not None else {}
        self.on_conflict = on_conflict
        self.journal_dir = journal_dir
        #: For a retry (``result.failed()``): what the pushes it retries created, left unknown, wrote.
        self.carried = carried
        self._figures: dict[str, int] | None = None
        self._making = threading.Lock()  # the operations are made once, whichever thread asks first
        if updates is not None and len(updates):
            at = next((k for k, o in enumerate(ops) if o.kind != "create"), len(ops))
            self._ops: list[Operation] | None = None
            self._updates: UpdateCells | None = updates
            self._head, self._tail = ops[:at], ops[at:]
        else:
            self._ops, self._updates = ops, None
            self._head, self._tail = [], []

    @property
    def ops(self) -> list[Operation]:
        """Every operation, in order (made on first use for the updates kept as columns)."""
        ops = self._ops
        if ops is not None:
            return ops
        with self._making:
            if self._ops is None:
                start = len(self._head)
                assert self._updates is not None
                with gc_paused():  # hundreds of thousands of small dicts, no cycles among them
                    made = [
                        Operation(start + k, "update", rid, rid, wire, before, old, new, clears)
                        for k, (rid, wire, before, old, new, clears) in enumerate(self._updates.rows())
                    ]
                self._ops = [*self._head, *made, *self._tail]
                self._head, self._updates, self._tail = [], None, []
                self._figures = None
            return self._ops

    @ops.setter
    def ops(self, value: list[Operation]) -> None:
        self._ops = value
        self._head, self._updates, self._tail = [], None, []
        self._figures = None

    @property
    def updates(self) -> UpdateCells | None:
        """The changed cells of the updates, column by column, until :attr:`ops` is first read."""
        return self._updates

    def _parts(self) -> tuple[list[Operation], UpdateCells | None, list[Operation]]:
        """The operations before the updates kept as columns, those updates, and the operations
        after them (all operations first, and no columns, once :attr:`ops` was read)."""
        with self._making:
            if self._ops is not None:
                return self._ops, None, []
            return self._head, self._updates, self._tail

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Plan):
            return NotImplemented
        return (
            self.client is other.client
            and self.object_type == other.object_type
            and self.ops == other.ops
            and self.loaded_at == other.loaded_at
            and self.original_dlm == other.original_dlm
            and self.on_conflict == other.on_conflict
            and self.journal_dir == other.journal_dir
            and self.carried == other.carried
        )

    __hash__ = None  # type: ignore[assignment]

    # -- figures -----------------------------------------------------------------------
    def _compute_figures(self) -> dict[str, int]:
        head, block, tail = self._parts()
        ops = [*head, *tail]
        c: Counter[str] = Counter()
        clears = cells = matched = tagged = removals = members = leaves = 0
        rows: set[str] = set()
        updates = creates = deletes = 0
        checked: set[int] = set()
        losing: set[int] = set()
        adding = 0
        tag_calls = 0
        for op in ops:
            kind = op.kind
            c[kind] += 1
            clears += len(op.clears)
            if kind in GROUP_KINDS:
                rows.update(map(str, op.rows))
            else:
                rows.add(str(op.row))
            if kind == "update":
                cells += len(op.fields)
                updates += 1
                if op.record_id is not None:
                    checked.add(int(op.record_id))
            elif kind == "create":
                creates += 1
                matched += op.match_id is not None
                if op.match_id is not None:
                    checked.add(int(op.match_id))
            elif kind == "delete":
                deletes += 1
                if op.record_id is not None:
                    checked.add(int(op.record_id))
            elif kind in ("add_tags", "remove_tags"):
                tagged += len(op.rows)
                tag_calls += -(-len(op.rows) // TAG_BATCH)
                if kind == "remove_tags":
                    removals += len(op.rows)
                    losing.update(int(float(r)) for r in op.rows if _is_record_label(r))
                else:
                    adding = 1
            elif kind in MEMBER_KINDS:
                members += len(op.rows)
                tag_calls += -(-len(op.rows) // MEMBER_BATCH)
                if kind == "unsubscribe":
                    leaves += len(op.rows)
        records = len(rows)
        deleted = {int(o.record_id) for o in ops if o.kind == "delete" and o.record_id is not None}
        read = len(checked - deleted)  # records the conflict check reads
        if block is not None:
            # Updates kept as columns: one per record id (never also a delete); a row label
            # of another operation names the same record when it is written as the same id.
            ids = block.ids
            c["update"] += len(block)
            updates += len(block)
            cells += block.cells
            clears += block.clears
            labels = [i for i in map(_label_id, rows) if i is not None]
            records += len(ids) - int(np.isin(np.asarray(labels, dtype="int64"), ids).sum())
            others = np.asarray(sorted(checked - deleted), dtype="int64")
            read += len(ids) - int(np.isin(others, ids).sum())
        n = _batches(read) + _batches(len(deleted))
        n += creates + updates + _batches(updates)
        n += _batches(len(losing)) + tag_calls
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
        out["_records"] = records
        out["_requests"] = n + _batches(deletes)
        out["_adding_tags"] = adding
        return out

    def _figures_now(self) -> dict[str, int]:
        if self._ops is not None:  # operations can be changed once made: count them each time
            return self._compute_figures()
        if self._figures is None:
            self._figures = self._compute_figures()
        return self._figures

    @property
    def counts(self) -> dict[str, int]:
        """Operations per kind, plus ``clears`` (cells set empty), ``cells`` (cells written),
        ``matched_creates``, ``tagged_rows`` (rows in tag operations), ``tag_removals``
        (tags removed, one per row and tag), ``member_rows`` (rows in subscribe and
        unsubscribe operations) and ``unsubscriptions`` (one per row and sequence or
        automation left)."""
        return {k: v for k, v in self._figures_now().items() if not k.startswith("_")}

    @property
    def empty(self) -> bool:
        return len(self) == 0

    @property
    def records_affected(self) -> int:
        return self._figures_now()["_records"]

    @property
    def confirm_required(self) -> int | None:
        """The number to pass as ``apply(confirm=…)``, or None when the plan needs no confirmation.

        Needed when the plan deletes records, clears more than 25 cells and tags (a tag
        removed from a row, or a row taken out of a sequence or automation, counts as one
        cleared cell), or touches more than 5,000 records.
        """
        c = self._figures_now()
        destructive = c["clears"] + c["tag_removals"] + c["unsubscriptions"]
        if c["delete"] or destructive > CLEAR_THRESHOLD or c["_records"] > BIG_PLAN_ROWS:
            return c["_records"]
        return None

    @property
    def confirm_reasons(self) -> list[str]:
        """Why the plan needs ``confirm=``, in words (empty when it does not): the deletes, the
        cleared cells, the tags removed from rows, the rows leaving a sequence or automation,
        and the size, each when it is what makes the plan big or destructive."""
        c = self._figures_now()
        if self.confirm_required is None:
            return []
        reasons = []
        if c["delete"]:
            reasons.append(f"{c['delete']:,} delete(s)")
        if c["clears"] + c["tag_removals"] + c["unsubscriptions"] > CLEAR_THRESHOLD:
            for key, what in (
                ("clears", "cleared cell(s)"),
                ("tag_removals", "tag(s) removed from rows"),
                ("unsubscriptions", "row(s) leaving a sequence or automation"),
            ):
                if c[key]:
                    reasons.append(f"{c[key]:,} {what}")
        if c["_records"] > BIG_PLAN_ROWS:
            reasons.append(f"more than {BIG_PLAN_ROWS:,} records")
        return reasons

    @property
    def requests(self) -> int:
        """The API requests :meth:`apply` sends when every answer arrives: the conflict check
        (records read 50 at a time), one per create and update, the read-back of the updated
        records, the tag reads and tag-by-name calls (2,500 records each), subscribe calls (500
        records each), and deletes in batches of 50. Lost answers add read-backs on top."""
        c = self._figures_now()
        return c["_requests"] + (self._tag_name_reads() if c["_adding_tags"] else 0)

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
        head, block, tail = self._parts()
        return len(head) + len(tail) + (len(block) if block is not None else 0)

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
        return self.client._apply_plan(
            self,
            confirm=confirm,
            on_conflict=on_conflict or self.on_conflict,
            progress=progress,
            journal_dir=journal_dir or self.journal_dir,
            retry_unknown=retry_unknown,
        )

    # -- display ------------------------------------------------------------------------
    def to_frame(self, limit: int | None = None) -> pd.DataFrame:
        """One row per changed cell, tag or membership: op, kind, record_id, row, column, old, new, clear.

        A membership row's column is the frame's (``updateSequence`` / ``updateCampaign``)
        and old / new the name of the sequence or automation left / joined. With ``limit``,
        the first ``limit`` rows only (``to_frame().head(limit)``, without making the rest):
        :attr:`changes` says how many there are in all."""
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 0):
            raise ValueError(f"limit must be a whole number >= 0, not {limit!r}")
        return self._frame(limit)

    @property
    def changes(self) -> int:
        """The number of rows :meth:`to_frame` returns (changed cells, tag and membership rows, deletes)."""
        return self._frame_len()

    def _frame(self, limit: int | None = None) -> pd.DataFrame:
        """:meth:`to_frame`, or its first ``limit`` rows."""
        head, block, tail = self._parts()
        rows = _op_rows(head, limit)
        if block is not None:
            base = len(head)
            ids = block.ids.tolist()
            left = None if limit is None else max(0, limit - len(rows))
            for k, col, old, new, clear in block.cells_in_order(left):
                rid = ids[k]
                rows.append(
                    {
                        "op": base + k,
                        "kind": "update",
                        "record_id": rid,
                        "row": rid,
                        "column": col,
                        "old": old,
                        "new": new,
                        "clear": clear,
                    }
                )
            if limit is None or len(rows) < limit:
                rows.extend(_op_rows(tail, None if limit is None else limit - len(rows)))
        cols = ["op", "kind", "record_id", "row", "column", "old", "new", "clear"]
        # Fixed dtypes, whatever the rows hold (and however many): labels and values stay Python objects.
        frame = pd.DataFrame(rows, columns=cols, dtype=object)
        return frame.astype({"op": "int64", "record_id": "Int64", "clear": "bool"})

    def _frame_len(self) -> int:
        """The number of rows :meth:`to_frame` returns."""
        head, block, tail = self._parts()
        n = 0 if block is None else block.cells
        for op in (*head, *tail):
            if op.kind in GROUP_KINDS:
                n += len(op.rows)
            elif op.kind == "delete":
                n += 1
            else:
                n += len(op.fields)
        return n

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
        if not self.empty:
            parts.append(str(self.estimate))
        return "; ".join(parts)

    def __repr__(self) -> str:
        lines = [f"<Plan [{self._badge()}] {self.object_type.name} on {self.client.name}: {self.summary()}>"]
        need = self.confirm_required
        if need is not None:
            lines.append(
                f"  This plan is big or destructive ({', '.join(self.confirm_reasons)}): "
                f"apply it with plan.apply(confirm={need})."
            )
        frame, total = self._frame(20), self._frame_len()
        if len(frame):
            shown = frame.astype(object).where(frame.notna(), "")
            shown["old"], shown["new"] = visible_whitespace(shown["old"].tolist(), shown["new"].tolist())
            lines.append(shown.to_string(index=False, max_colwidth=40))
            if total > 20:
                lines.append(f"  … {total - 20} more change(s): plan.to_frame()")
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
        if not self.empty:
            out.append(f"<p>{esc(str(self.estimate))} at the account's rate limit</p>")
        need = self.confirm_required
        if need is not None:
            out.append(
                f"<p><b>Big or destructive plan:</b> apply with <code>plan.apply(confirm={need})</code></p>"
            )
        frame, total = self._frame(200), self._frame_len()
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
            if total > 200:
                out.append(f"<p>… {total - 200} more: <code>plan.to_frame()</code></p>")
        else:
            out.append("<p>Nothing to write.</p>")
        out.append("</div>")
        return "".join(out)


def _op_rows(ops: list[Operation], limit: int | None = None) -> list[dict[str, Any]]:
    """The :meth:`Plan.to_frame` rows of ``ops`` (the first ``limit`` of them)."""
    rows: list[dict[str, Any]] = []
    for op in ops:
        if limit is not None and len(rows) >= limit:
            return rows[:limit]
        if op.kind in GROUP_KINDS:
            # one row per record: a tag or a sequence/campaign taken in or out
            adding = op.kind in ("subscribe", "add_tags")
            if op.kind in MEMBER_KINDS:
                column = op.column or ("updateSequence" if op.sub_type == "sequence" else "updateCampaign")
                item = op.item
            else:
                column, item = "tags", op.tag
            for r in op.rows:
                rows.append(
                    {
                        "op": op.i,
                        "kind": op.kind,
                        "record_id": r if not isinstance(r, str) or r.isdigit() else None,
                        "row": r,
                        "column": column,
                        "old": None if adding else item,
                        "new": item if adding else None,
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
    return rows if limit is None else rows[:limit]


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


def _label_id(label: str) -> int | None:
    """The record id a row label written as ``str(id)`` stands for (None for any other label)."""
    if label.isascii() and label.isdigit() and (label == "0" or label[0] != "0"):
        return int(label)
    return None


def _is_record_label(label: Any) -> bool:
    """A row label of a tag operation that is an existing record's id (not a new row's label)."""
    try:
        value = float(label)
    except (TypeError, ValueError):
        return False
    return value > 0 and value.is_integer()
