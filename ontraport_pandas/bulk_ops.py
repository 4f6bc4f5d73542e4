"""Builders of :class:`~ontraport_pandas.bulk.BulkPlan`: one function per bulk operation.

Each takes the client and a frame (as the accessors return it: the index holds record
ids) and returns a plan; nothing is sent until ``plan.apply()``. See
:mod:`ontraport_pandas.bulk` for the table of operations, their calls and their undo.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from .bulk import TRANSACTION_ACTIONS, BulkCall, BulkPlan, chunks, record_ids
from .errors import Problem, ValidationError

if TYPE_CHECKING:
    from .client import Ontraport

__all__ = [
    "assign_task",
    "pause",
    "reassign_tasks",
    "reschedule_tasks",
    "task_status",
    "transaction_action",
]

PAUSABLE = {5: "sequences", 6: "rules", 140: "automations"}


def task_status(
    op: Ontraport,
    frame: pd.DataFrame,
    action: str,
    *,
    outcome: str | None = None,
    updates: Mapping[str, Any] | None = None,
) -> BulkPlan:
    """``complete`` (with an outcome and field updates on the related record), ``cancel`` or ``reopen``."""
    tasks = op.session.resolve("tasks")
    ids = record_ids(frame, tasks, action=f"{action}_tasks")
    data: dict[str, Any] = {}
    detail = ""
    if action == "complete":
        if outcome is not None:
            if not str(outcome).strip():
                raise ValidationError([Problem(None, "outcome", outcome, "an outcome cannot be blank")])
            data["outcome"] = f":={str(outcome).strip()}"
            detail = f"outcome {str(outcome).strip()}"
        if updates:
            contacts = op.session.schema("contacts")
            bad = [
                Problem(None, str(k), v, "contacts have no such field")
                for k, v in updates.items()
                if k not in contacts.fields
            ]
            if bad:
                raise ValidationError(bad)
            data.update({str(k): v for k, v in updates.items()})
            detail = "; ".join(filter(None, [detail, ", ".join(f"{k}={v}" for k, v in updates.items())]))
    elif outcome is not None or updates:
        raise ValueError("outcome= and updates= go with complete only")
    calls: list[BulkCall] = []
    for chunk in chunks(ids):
        body: dict[str, Any] = {"objectID": 1, "ids": chunk}
        if data:
            body["data"] = data
        calls.append(BulkCall(len(calls), action, "POST", f"task/{action}", body, chunk, detail))
    return BulkPlan(op, tasks, f"{action}_tasks", calls, ("status",))


def _epoch(value: Any, row: Any, problems: list[Problem]) -> int | None:
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        stamp = pd.NaT
    if pd.isna(stamp):
        problems.append(Problem(row, "date_due", value, "a task needs a due date; it cannot be cleared"))
        return None
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    return int(stamp.timestamp())


def reschedule_tasks(op: Ontraport, edited: pd.DataFrame, *, due: Any = None) -> BulkPlan:
    """``task/reschedule`` for the tasks whose ``date_due`` was edited (or all, to ``due=``)."""
    tasks = op.session.resolve("tasks")
    ids = record_ids(edited, tasks, action="reschedule_tasks")
    problems: list[Problem] = []
    targets: dict[int, int] = {}
    if due is not None:
        values = (
            due.reindex(edited.index)
            if isinstance(due, pd.Series)
            else pd.Series([due] * len(ids), index=edited.index)
        )
        for label, rid in zip(edited.index, ids, strict=True):
            epoch = _epoch(values.loc[label], label, problems)
            if epoch is not None:
                targets[rid] = epoch
    else:
        if "date_due" not in edited.columns:
            raise ValidationError([Problem(None, "date_due", None, "edit date_due or pass due=")])
        original = op.snapshot(edited)
        if original is None or "date_due" not in original.columns:
            raise ValidationError(
                [
                    Problem(
                        None,
                        "date_due",
                        None,
                        "the frame's original is unknown: load it with op.tasks() first, or pass due=",
                    )
                ]
            )
        before = original["date_due"]
        for label, rid in zip(edited.index, ids, strict=True):
            new: Any = edited.at[label, "date_due"]
            old: Any = before.get(label) if label in before.index else pd.NaT
            if pd.isna(new) and pd.isna(old):
                continue
            if not pd.isna(new) and not pd.isna(old) and pd.Timestamp(new) == pd.Timestamp(old):
                continue
            epoch = _epoch(new, label, problems)
            if epoch is not None:
                targets[rid] = epoch
    if problems:
        raise ValidationError(problems)
    calls = [
        BulkCall(
            i,
            "reschedule",
            "POST",
            "task/reschedule",
            {"id": rid, "newtime": epoch},
            [rid],
            _dt.datetime.fromtimestamp(epoch, _dt.timezone.utc).isoformat(timespec="minutes"),
        )
        for i, (rid, epoch) in enumerate(targets.items())
    ]
    return BulkPlan(op, tasks, "reschedule_tasks", calls, ("date_due",))


def reassign_tasks(op: Ontraport, frame: pd.DataFrame, owner: int) -> BulkPlan:
    """Give the tasks of a frame to another user (``PUT Tasks`` with ``owner``, one per task)."""
    tasks = op.session.resolve("tasks")
    ids = record_ids(frame, tasks, action="reassign_tasks")
    if isinstance(owner, bool) or not isinstance(owner, int) or owner <= 0:
        raise ValidationError(
            [Problem(None, "owner", owner, "the new owner must be a user id (a positive integer)")]
        )
    calls = [
        BulkCall(i, "reassign", "PUT", "Tasks", {"id": rid, "owner": owner}, [rid], f"owner {owner}")
        for i, rid in enumerate(ids)
    ]
    return BulkPlan(op, tasks, "reassign_tasks", calls, ("owner",))


def assign_task(
    op: Ontraport,
    frame: pd.DataFrame,
    message: int,
    *,
    due_in_days: int = 0,
    owner: int | None = None,
) -> BulkPlan:
    """``task/assign``: a task from a task message for every record of the frame."""
    info = frame.attrs.get("ontraport") or {}
    otype = op.session.resolve(info.get("object_type_id", "contacts"))
    ids = record_ids(frame, otype, action="assign_task")
    problems: list[Problem] = []
    if isinstance(due_in_days, bool) or not isinstance(due_in_days, int) or due_in_days < 0:
        problems.append(
            Problem(None, "due_in_days", due_in_days, "must be a whole number of days, 0 or more")
        )
    if owner is not None and (isinstance(owner, bool) or not isinstance(owner, int) or owner <= 0):
        problems.append(Problem(None, "owner", owner, "must be a user id (a positive integer)"))
    found = (
        op.session.data("GET", "Messages", params={"ids": str(int(message)), "listFields": "id,alias,type"})
        or []
    )
    if not found or str(found[0].get("type", "")).lower() != "task":
        problems.append(Problem(None, "message", message, "is not a task message"))
    if problems:
        raise ValidationError(problems)
    spec: dict[str, Any] = {"id": int(message), "due_date": due_in_days}
    if owner is not None:
        spec["task_owner"] = owner
    detail = f"{found[0].get('alias')} due in {due_in_days} day(s)"
    calls = [
        BulkCall(
            i,
            "assign",
            "POST",
            "task/assign",
            {"object_type_id": otype.id, "ids": chunk, "message": spec},
            chunk,
            detail,
            retry=False,
        )
        for i, chunk in enumerate(chunks(ids))
    ]
    return BulkPlan(op, otype, "assign_task", calls, (), undoable=False)


def pause(op: Ontraport, frame: pd.DataFrame, *, paused: bool) -> BulkPlan:
    """``objects/pause`` or ``objects/unpause`` for a frame of rules, sequences or automations."""
    info = frame.attrs.get("ontraport") or {}
    type_id = info.get("object_type_id")
    if type_id is None or int(type_id) not in PAUSABLE:
        raise ValidationError(
            [
                Problem(
                    None,
                    None,
                    info.get("object_type"),
                    "pause and unpause take a frame of rules, sequences or automations",
                )
            ]
        )
    otype = op.session.resolve(int(type_id))
    ids = record_ids(frame, otype, action="pause" if paused else "unpause")
    path = "objects/pause" if paused else "objects/unpause"
    action = "pause" if paused else "unpause"
    calls = [
        BulkCall(i, action, "POST", path, {"objectID": otype.id, "ids": chunk}, chunk)
        for i, chunk in enumerate(chunks(ids))
    ]
    return BulkPlan(op, otype, action, calls, ("pause",))


def transaction_action(op: Ontraport, frame: pd.DataFrame, action: str) -> BulkPlan:
    """``mark_paid``, ``write_off``, ``void``, ``refund`` or ``resend_invoice`` for a frame of transactions."""
    if action not in TRANSACTION_ACTIONS:
        raise ValueError(f"action must be one of {sorted(TRANSACTION_ACTIONS)}, not {action!r}")
    otype = op.session.resolve("transactions")
    ids = record_ids(frame, otype, action=action)
    amounts: dict[int, float] = {}
    if "total" in frame.columns:
        for label, rid in zip(frame.index, ids, strict=True):
            value: Any = frame.at[label, "total"]
            amounts[rid] = 0.0 if pd.isna(value) else float(value)
    else:
        for chunk in chunks(ids, 50):
            rows = (
                op.session.data(
                    "GET",
                    "Transactions",
                    params={"ids": ",".join(map(str, chunk)), "listFields": "id,total", "range": 50},
                )
                or []
            )
            amounts.update({int(r["id"]): float(r.get("total") or 0) for r in rows})
    method, path = TRANSACTION_ACTIONS[action]
    calls: list[BulkCall] = []
    if action in ("mark_paid", "resend_invoice"):
        for rid in ids:
            calls.append(
                BulkCall(
                    len(calls),
                    action,
                    method,
                    path,
                    {"id": rid},
                    [rid],
                    amounts={rid: amounts.get(rid, 0.0)},
                    retry=False,
                )
            )
    else:
        for chunk in chunks(ids):
            calls.append(
                BulkCall(
                    len(calls),
                    action,
                    method,
                    path,
                    {"ids": chunk},
                    chunk,
                    amounts={r: amounts.get(r, 0.0) for r in chunk},
                    retry=False,
                )
            )
    return BulkPlan(op, otype, action, calls, ("status",), money=True, undoable=False)
