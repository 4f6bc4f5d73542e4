"""Bulk operations from frames: task, pause and transaction actions as plans.

What users do by hand in the Ontraport UI, row by row, becomes a :class:`BulkPlan`
built from a frame: the API calls it would send (grouped where the API takes many ids
at once), previewed with a LIVE/SANDBOX badge, guarded by ``confirm=``, journaled,
answered per record, resumable and, where the API can undo it, undoable.

=======================  ==============================================  ====================
plan                     calls                                           undo
=======================  ==============================================  ====================
``complete_tasks``       ``task/complete`` (``data.outcome``, updates)   reopen / cancel
``cancel_tasks``         ``task/cancel``                                 reopen / complete
``reopen_tasks``         ``task/reopen``                                 complete / cancel
``reschedule_tasks``     ``task/reschedule`` per task (``date_due``)     the old due date
``reassign_tasks``       ``PUT Tasks`` per task (``owner``)              the old owner
``assign_task``          ``task/assign`` (a task message per record)     none (tasks cannot
                                                                         be deleted)
``pause`` / ``unpause``  ``objects/pause`` / ``objects/unpause``         the opposite call
``transactions``         ``transaction/markPaid|writeOff|void|refund|    none (money moved)
                         resendInvoice``, always behind ``confirm=``
=======================  ==============================================  ====================

Choices:

- Every plan validates its frame before anything is sent: the index must hold record
  ids (positive integers, no repeats) and the frame, when it says which type it holds
  (``attrs["ontraport"]``), must be of the type the action needs. Problems name the
  row, the column and the value (:class:`~ontraport_pandas.errors.ValidationError`).
- Id-list calls carry at most :data:`IDS_PER_CALL` ids; no call is ever sent with an
  empty selection (the session refuses those anyway).
- ``confirm=`` is needed for every transaction plan and for any plan touching more than
  :data:`CONFIRM_ROWS` records; its value is the number of records.
- Before sending, the records' current values of the fields the action changes are read
  and journaled (the before-images undo uses). Status actions, reschedules, owner
  changes, pauses and memberships (in journals of membership plans written before
  ``op.plan`` planned them) are idempotent, so lost answers are retried;
  ``task/assign`` and the transaction actions are not retried after an ambiguous
  failure (the row is reported failed with "may have been applied").
"""

from __future__ import annotations

import datetime as _dt
import html
import json
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from .errors import (
    ConfirmationRequired,
    ConnectionFailed,
    OntraportError,
    Problem,
    RequestTimeout,
    ServerError,
    ValidationError,
)
from .journal import Journal, read_journal
from .objects import ObjectType

if TYPE_CHECKING:
    from .client import Ontraport

__all__ = ["CONFIRM_ROWS", "IDS_PER_CALL", "BulkCall", "BulkPlan", "BulkResult", "resume_bulk"]

#: Records a bulk plan may touch without ``confirm=``.
CONFIRM_ROWS = 100
#: Ids per call for the actions that take a list of ids.
IDS_PER_CALL = 500
AMBIGUOUS = (ServerError, ConnectionFailed, RequestTimeout)
TRANSACTION_ACTIONS: dict[str, tuple[str, str]] = {
    "mark_paid": ("PUT", "transaction/markPaid"),
    "write_off": ("PUT", "transaction/writeOff"),
    "void": ("PUT", "transaction/void"),
    "refund": ("PUT", "transaction/refund"),
    "resend_invoice": ("POST", "transaction/resendInvoice"),
}
TASK_STATUS_CALL = {"0": "task/reopen", "1": "task/complete", "2": "task/cancel"}


@dataclass
class BulkCall:
    """One API call of a bulk plan.

    Attributes
    ----------
    i : int
        Position in the plan and the journal.
    action : str
        What it does (``complete``, ``subscribe``, ``refund``, …).
    method, path : str
        The request.
    body : dict
        The JSON body (its ``ids`` are the records it covers).
    ids : list of int
        The records the call acts on.
    detail : str
        What the preview shows (``outcome success``, ``sequence Welcome``, the new due date).
    amounts : dict
        Money per record, for transaction actions.
    retry : bool
        Whether a lost answer may be retried (the call is idempotent).
    """

    i: int
    action: str
    method: str
    path: str
    body: dict[str, Any]
    ids: list[int]
    detail: str = ""
    amounts: dict[int, float] = field(default_factory=dict)
    retry: bool = True

    def to_json(self) -> dict[str, Any]:
        return {
            "i": self.i,
            "kind": self.action,
            "method": self.method,
            "path": self.path,
            "body": self.body,
            "ids": self.ids,
            "detail": self.detail,
            "amounts": {str(k): v for k, v in self.amounts.items()},
            "retry": self.retry,
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> BulkCall:
        return cls(
            i=int(d["i"]),
            action=str(d["kind"]),
            method=str(d["method"]),
            path=str(d["path"]),
            body=dict(d["body"]),
            ids=[int(x) for x in d["ids"]],
            detail=str(d.get("detail") or ""),
            amounts={int(k): float(v) for k, v in (d.get("amounts") or {}).items()},
            retry=bool(d.get("retry", True)),
        )


@dataclass
class BulkPlan:
    """API calls built from a frame; :meth:`apply` sends them.

    Attributes
    ----------
    client : Ontraport
        The connection.
    object_type : ObjectType
        The type the calls act on.
    action : str
        The plan's action (``complete_tasks``, ``memberships``, ``refund``, …).
    calls : list of BulkCall
        The calls, in sending order.
    watch : tuple of str
        Fields read before sending (the before-images).
    money : bool
        A transaction plan: always needs ``confirm=``, never undone.
    undoable : bool
        Whether the API can undo the plan.
    """

    client: Ontraport = field(repr=False)
    object_type: ObjectType
    action: str
    calls: list[BulkCall]
    watch: tuple[str, ...] = ()
    money: bool = False
    undoable: bool = True
    notes: list[str] = field(default_factory=list)

    # -- figures --------------------------------------------------------------------------
    @property
    def records(self) -> list[int]:
        """Every record the plan touches, once."""
        return list(dict.fromkeys(i for c in self.calls for i in c.ids))

    @property
    def total(self) -> float:
        """The money a transaction plan moves (sum of the records' totals)."""
        amounts: dict[int, float] = {}
        for c in self.calls:
            amounts.update(c.amounts)
        return round(sum(amounts.values()), 2)

    @property
    def confirm_required(self) -> int | None:
        """The number to pass as ``apply(confirm=…)``, or None."""
        n = len(self.records)
        if n and (self.money or n > CONFIRM_ROWS):
            return n
        return None

    @property
    def empty(self) -> bool:
        return not self.calls

    def __len__(self) -> int:
        return len(self.calls)

    def to_frame(self) -> pd.DataFrame:
        """One row per call and record: ``call``, ``action``, ``record_id``, ``detail``, ``amount``."""
        rows = [
            {
                "call": c.i,
                "action": c.action,
                "record_id": rid,
                "detail": c.detail,
                "amount": c.amounts.get(rid) if self.money else None,
            }
            for c in self.calls
            for rid in c.ids
        ]
        frame = pd.DataFrame(rows, columns=["call", "action", "record_id", "detail", "amount"])
        frame["record_id"] = frame["record_id"].astype("Int64")
        frame["amount"] = frame["amount"].astype("Float64")
        return frame

    # -- display ---------------------------------------------------------------------------
    def _badge(self) -> str:
        return "LIVE" if self.client.live else "SANDBOX"

    def summary(self) -> str:
        text = f"{self.action} of {len(self.records)} {self.object_type.name} record(s) in {len(self.calls)} call(s)"
        if self.money:
            text += f", total {self.total:,.2f}"
        return text

    def __repr__(self) -> str:
        lines = [f"<BulkPlan [{self._badge()}] on {self.client.name}: {self.summary()}>"]
        lines += [f"  note: {n}" for n in self.notes]
        need = self.confirm_required
        if need is not None:
            lines.append(f"  Apply it with plan.apply(confirm={need}).")
        frame = self.to_frame()
        if len(frame):
            shown = frame.head(20).astype(object).where(frame.head(20).notna(), "")
            lines.append(shown.to_string(index=False, max_colwidth=40))
            if len(frame) > 20:
                lines.append(f"  … {len(frame) - 20} more: plan.to_frame()")
        else:
            lines.append("  nothing to send")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        esc = html.escape
        color = "#c62828" if self.client.live else "#2e7d32"
        out = [
            '<div class="ontraport-bulk-plan">',
            f'<span style="background:{color};color:white;padding:2px 6px;border-radius:3px;'
            f'font-weight:bold">{self._badge()}</span> ',
            f"<b>{esc(self.summary())}</b> on {esc(self.client.name)}<br>",
        ]
        out += [f"<p>{esc(n)}</p>" for n in self.notes]
        need = self.confirm_required
        if need is not None:
            out.append(f"<p><b>Needs confirmation:</b> <code>plan.apply(confirm={need})</code></p>")
        frame = self.to_frame()
        if len(frame):
            head = "<tr><th>record</th><th>action</th><th>detail</th>" + (
                "<th>amount</th></tr>" if self.money else "</tr>"
            )
            out.append("<table>" + head)
            for r in frame.head(200).itertuples(index=False):
                amount = f"<td>{r.amount:,.2f}</td>" if self.money and pd.notna(r.amount) else ""
                out.append(
                    f"<tr><td>{r.record_id}</td><td>{esc(r.action)}</td><td>{esc(r.detail)}</td>{amount}</tr>"
                )
            out.append("</table>")
        else:
            out.append("<p>Nothing to send.</p>")
        out.append("</div>")
        return "".join(out)

    # -- sending ----------------------------------------------------------------------------
    def apply(self, *, confirm: int | None = None, journal_dir: str | None = None) -> BulkResult:
        """Send the calls; return the per-record :class:`BulkResult`.

        Raises
        ------
        ConfirmationRequired
            Before anything is sent, when ``confirm`` is missing or differs from
            :attr:`confirm_required`.
        """
        need = self.confirm_required
        if need is not None and confirm != need:
            what = (
                f"moves {self.total:,.2f} over {need} transaction(s)"
                if self.money
                else f"touches {need} records"
            )
            raise ConfirmationRequired(
                f"This {self.action} plan {what}. Nothing was sent. Check it (plan.to_frame()), "
                f"then apply with plan.apply(confirm={need}).",
                need,
            )
        header = {
            "kind": "bulk",
            "action": self.action,
            "object_type": self.object_type.name,
            "object_type_id": self.object_type.id,
            "connection": self.client.name,
            "live": self.client.live,
            "watch": list(self.watch),
            "money": self.money,
            "undoable": self.undoable,
            "started_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        }
        journal = Journal.create(journal_dir, header)
        try:
            for call in self.calls:
                journal.write({"type": "op", **call.to_json()})
            befores = _read_before(self.client, self.object_type, self.records, self.watch)
            journal.write({"type": "befores", "records": {str(k): v for k, v in befores.items()}})
            _send(self.client, self.calls, journal, {})
        finally:
            journal.close()
        return _result(self.client, journal.path)


@dataclass
class BulkResult:
    """What happened to every record of an applied :class:`BulkPlan`.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per call and record: ``call``, ``action``, ``record_id``, ``status``
        (``ok``, ``failed``), ``error``.
    journal : pathlib.Path
        The journal; ``op.resume(journal)`` finishes it, ``result.undo()`` reverses it.
    """

    frame: pd.DataFrame
    journal: Path
    client: Ontraport = field(repr=False)

    @property
    def ok(self) -> bool:
        return bool((self.frame["status"] == "ok").all())

    def summary(self) -> pd.DataFrame:
        return pd.crosstab(self.frame["action"], self.frame["status"])

    def undo(self, *, confirm: int | None = None, journal_dir: str | None = None) -> BulkResult:
        """Reverse what this plan changed, from the before-images in its journal."""
        return undo_bulk(self.client, self.journal, confirm=confirm, journal_dir=journal_dir)

    def __repr__(self) -> str:
        counts = self.frame["status"].value_counts().to_dict()
        return f"<BulkResult {counts} journal={self.journal.name}>"


# --------------------------------------------------------------------------- sending


def _read_before(
    op: Ontraport, otype: ObjectType, ids: Sequence[int], fields: Sequence[str]
) -> dict[int, dict[str, Any]]:
    if not fields or not ids:
        return {}
    path, base = otype.route()
    out: dict[int, dict[str, Any]] = {}
    for start in range(0, len(ids), 50):
        chunk = ids[start : start + 50]
        params = {
            **base,
            "ids": ",".join(map(str, chunk)),
            "range": 50,
            "listFields": ",".join([otype.id_field, *fields]),
        }
        for row in op.session.data("GET", path, params=params) or []:
            rid = int(row.get(otype.id_field, row.get("id")))
            out[rid] = {f: row.get(f) for f in fields}
    return out


def _send(
    op: Ontraport, calls: Iterable[BulkCall], journal: Journal, done: Mapping[int, Mapping[str, Any]]
) -> None:
    """Send the calls not finished yet. A call that is not idempotent and may have been
    applied (its answer was lost, or it was in flight when the run stopped) is not sent again."""
    for call in calls:
        last = done.get(call.i, {})
        status = last.get("status")
        if status == "ok":
            continue
        if not call.retry and (status == "sending" or last.get("ambiguous")):
            journal.event(
                call.i,
                "failed",
                ambiguous=True,
                error="not sent again: the call may have been applied before its answer was lost",
            )
            continue
        journal.event(call.i, "sending")
        try:
            op.session.data(call.method, call.path, json=call.body, retry=call.retry)
        except AMBIGUOUS as exc:
            note = "" if call.retry else " (it may have been applied)"
            journal.event(call.i, "failed", ambiguous=True, error=f"{type(exc).__name__}: {exc}{note}")
        except OntraportError as exc:
            journal.event(call.i, "failed", error=f"{type(exc).__name__}: {exc}")
        else:
            journal.event(call.i, "ok")


def _result(op: Ontraport, path: Path) -> BulkResult:
    state = read_journal(path)
    rows = []
    for o in state.ops:
        ev = state.events.get(int(o["i"]), {})
        status = ev.get("status", "planned")
        for rid in o["ids"]:
            rows.append(
                {
                    "call": o["i"],
                    "action": o["kind"],
                    "record_id": rid,
                    "status": "failed" if status == "sending" else status,
                    "error": ev.get("error"),
                }
            )
    frame = pd.DataFrame(rows, columns=["call", "action", "record_id", "status", "error"])
    frame["record_id"] = frame["record_id"].astype("Int64")
    return BulkResult(frame, Path(path), op)


def _befores(path: Path) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("type") == "befores":
                out.update({int(k): v for k, v in entry["records"].items()})
    return out


def resume_bulk(op: Ontraport, journal: str | os.PathLike[str]) -> BulkResult:
    """Send the calls of a bulk journal that did not finish (idempotent ones again)."""
    writer = Journal(Path(journal))
    writer.lock("resume")  # exclusive, and a torn last line is cut before anything is appended
    try:
        state = read_journal(journal)
        if state.header.get("kind") != "bulk":
            raise OntraportError(f"{journal} is not a bulk-operation journal")
        calls = [BulkCall.from_json(o) for o in state.ops]
        done = {int(i): ev for i, ev in state.events.items()}
        _send(op, calls, writer, done)
    finally:
        writer.close()
    return _result(op, Path(journal))


# --------------------------------------------------------------------------- undo


def undo_bulk(
    op: Ontraport,
    journal: str | os.PathLike[str],
    *,
    confirm: int | None = None,
    journal_dir: str | None = None,
) -> BulkResult:
    """Apply the inverse of a bulk journal's successful calls, from its before-images."""
    state = read_journal(journal)
    header = state.header
    if header.get("kind") != "bulk":
        raise OntraportError(f"{journal} is not a bulk-operation journal")
    if not header.get("undoable", False):
        raise OntraportError(
            f"A {header.get('action')} plan cannot be undone through the API; nothing was sent."
        )
    otype = op.session.resolve(int(header["object_type_id"]))
    befores = _befores(Path(journal))
    done = [
        BulkCall.from_json(o) for o in state.ops if state.events.get(int(o["i"]), {}).get("status") == "ok"
    ]
    calls = _inverse(done, befores, otype)
    plan = BulkPlan(op, otype, f"undo {header.get('action')}", calls, tuple(header.get("watch") or ()))
    return plan.apply(confirm=confirm, journal_dir=journal_dir)


def _inverse(
    done: list[BulkCall], befores: Mapping[int, Mapping[str, Any]], otype: ObjectType
) -> list[BulkCall]:
    calls: list[BulkCall] = []

    def add(
        action: str, method: str, path: str, body: dict[str, Any], ids: list[int], detail: str = ""
    ) -> None:
        if ids:
            calls.append(BulkCall(len(calls), action, method, path, body, ids, detail))

    for c in done:
        if c.path in ("task/complete", "task/cancel", "task/reopen"):
            by_status: dict[str, list[int]] = {}
            for rid in c.ids:
                old = str((befores.get(rid) or {}).get("status") or "0")
                by_status.setdefault(old, []).append(rid)
            for old, ids in sorted(by_status.items()):
                path = TASK_STATUS_CALL.get(old, "task/reopen")
                if path != c.path:
                    add(path.split("/")[1], "POST", path, {"objectID": 1, "ids": ids}, ids)
        elif c.path == "task/reschedule":
            rid = c.ids[0]
            due: Any = (befores.get(rid) or {}).get("date_due")
            if due not in (None, ""):
                add(
                    "reschedule", "POST", "task/reschedule", {"id": rid, "newtime": int(due)}, [rid], str(due)
                )
        elif c.path == "Tasks" and c.method == "PUT":
            rid = c.ids[0]
            owner: Any = (befores.get(rid) or {}).get("owner")
            if owner not in (None, ""):
                add("reassign", "PUT", "Tasks", {"id": rid, "owner": owner}, [rid], f"owner {owner}")
        elif c.path == "objects/subscribe":
            field_name = "updateSequence" if c.body.get("sub_type") == "sequence" else "updateCampaign"
            (item,) = c.body.get("add_list") or c.body.get("remove_list") or [None]
            adding = c.method == "PUT"
            ids = [rid for rid in c.ids if _member(befores.get(rid), field_name, str(item)) != adding]
            body = {**c.body, "ids": ids}
            body.pop("add_list" if adding else "remove_list", None)
            body["remove_list" if adding else "add_list"] = [item]
            add(
                "unsubscribe" if adding else "subscribe",
                "DELETE" if adding else "PUT",
                c.path,
                body,
                ids,
                c.detail,
            )
        elif c.path in ("objects/pause", "objects/unpause"):
            was = "0" if c.path == "objects/pause" else "1"
            ids = [rid for rid in c.ids if str((befores.get(rid) or {}).get("pause") or "0") == was]
            path = "objects/unpause" if c.path == "objects/pause" else "objects/pause"
            add(path.split("/")[1], "POST", path, {"objectID": otype.id, "ids": ids}, ids)
    return calls


def _member(before: Mapping[str, Any] | None, field_name: str, item: str) -> bool:
    value = str((before or {}).get(field_name) or "")
    return item in [p for p in value.replace("*/*", ",").split(",") if p]


# --------------------------------------------------------------------------- building


def record_ids(frame: pd.DataFrame, otype: ObjectType, *, action: str) -> list[int]:
    """The record ids of a frame's index, checked; raises ValidationError naming the bad rows."""
    problems: list[Problem] = []
    info = frame.attrs.get("ontraport") or {}
    declared = info.get("object_type_id")
    if declared is not None and int(declared) != otype.id:
        problems.append(
            Problem(
                None,
                None,
                info.get("object_type"),
                f"{action} needs a frame of {otype.name}, not of {info.get('object_type')}",
            )
        )
    ids: list[int] = []
    seen: set[int] = set()
    for label in frame.index:
        try:
            if label is None or pd.isna(label) or isinstance(label, bool):
                raise ValueError
            number = float(label)
            if not number.is_integer() or number <= 0:
                raise ValueError
            rid = int(number)
        except (TypeError, ValueError):
            problems.append(Problem(label, str(frame.index.name or "id"), label, "is not a record id"))
            continue
        if rid in seen:
            problems.append(Problem(label, str(frame.index.name or "id"), label, "appears more than once"))
            continue
        seen.add(rid)
        ids.append(rid)
    if problems:
        raise ValidationError(problems)
    return ids


def chunks(ids: Sequence[int], size: int = IDS_PER_CALL) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def now_epoch() -> int:
    return int(time.time())
