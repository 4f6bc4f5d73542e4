"""Task actions: ``task/assign``, ``task/complete``, ``task/cancel``, ``task/reschedule``, ``task/reopen``.

Every one answers ``{"code":0,"account_id":…}`` without ``data`` (``ontraport-api.md``
§6.2, Ontraport's fixtures). Choices where the doc is unsure:

- ``task/assign`` takes ``object_type_id`` (default 0) and selects the records to give a
  task with ``ids`` / ``group_id`` / ``condition`` / ``performAll``, like the other
  actions (no selection: 400 ``Invalid query``). ``message`` (a JSON object, a JSON
  string or PHP bracket keys ``message[id]=…``) names the task message (``id``, which
  must be a message of type ``Task``, else 400 ``Invalid message``), ``due_date`` in
  days from now (default 0), and optionally ``task_owner`` (a user id; default the
  record's owner, else 1). One task per record: subject and details from the message.
- ``task/complete``, ``task/cancel`` and ``task/reopen`` select **tasks** by ``ids`` /
  ``condition`` / ``group_id``, whatever ``objectID`` / ``object_type_id`` says (the SDK
  fixture sends 0 to ``task/cancel``, another client 1). Complete sets ``status`` 1 and
  ``date_complete`` now; cancel sets ``status`` 2; reopen sets ``status`` 0 and clears
  ``date_complete``. A task already in the target state is left alone (its
  ``date_complete`` keeps the first completion).
- ``task/complete``'s ``data``: ``outcome`` (``":=success"``; a leading ``:=`` is
  Ontraport's assignment marker and is dropped) is stored in the task's ``outcome``
  field; every other key is a field of the task's related record (``object_type_id`` /
  ``contact_id`` of the task), written as an update would (unknown fields ignored, an
  invalid e-mail 422 before anything is written).
- ``task/reschedule`` takes ``id`` and ``newtime`` (unix seconds) and moves ``date_due``
  only; the status is kept. A missing ``id`` or ``newtime`` is 400 ``Invalid query``, an
  unknown ``id`` 400 ``Object not found``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .conditions import InvalidQuery
from .handlers import NOT_FOUND, Api, Reply, _int
from .model import TYPES_BY_ID, ObjectType
from .store import Store
from .values import InvalidEmail, as_text, to_stored
from .wire import ApiError

__all__ = ["TaskEndpoints", "as_object"]

TASKS = TYPES_BY_ID[1]
MESSAGES = TYPES_BY_ID[7]
DAY = 86400


def as_object(value: object, name: str) -> dict[str, Any]:
    """A parameter that holds an object: a dict, a JSON string, or nothing (``{}``)."""
    if value in (None, ""):
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise InvalidQuery(f"{name} is not JSON") from None
    if not isinstance(value, dict):
        raise InvalidQuery(f"{name} must be an object")
    return value


def _assigned(value: object) -> object:
    if isinstance(value, str) and value.startswith(":="):
        return value[2:]
    return value


class TaskEndpoints(Api):
    """The ``task/*`` actions."""

    def _task_ids(self, conn: Any, params: Mapping[str, Any]) -> list[int]:
        where, args = self.selection(conn, TASKS, params, action=True)
        return Store.ids(conn, TASKS, where, args)

    def task_assign(self, otype: ObjectType | None, params: Mapping[str, Any]) -> Reply:
        target = self._target_type(params.get("object_type_id", params.get("objectID", 0)))
        message = as_object(params.get("message"), "message")
        if message.get("id") in (None, ""):
            raise ApiError(400, "Invalid message")
        message_id = _int(message["id"])
        days = _int(message.get("due_date") or 0)
        owner = message.get("task_owner")
        now = int(self.config.clock())
        with self.store.write() as conn:
            item = Store.get(conn, MESSAGES, message_id)
            if item is None or as_text(item.get("type")).lower() != "task":
                raise ApiError(400, "Invalid message")
            where, args = self.selection(conn, target, params, action=True)
            keys = [target.id_key, "owner"] if target.has("owner") else [target.id_key]
            rows = Store.select(conn, target, keys, where, args, "t.id ASC")
            for row in rows:
                record_owner = owner if owner not in (None, "", 0, "0") else row.get("owner") or "1"
                Store.insert(
                    conn,
                    TASKS,
                    {
                        "owner": as_text(record_owner),
                        "contact_id": str(row[target.id_key]),
                        "subject": item.get("subject") or item.get("alias"),
                        "details": item.get("plaintext") or item.get("message_body") or "",
                        "date_assigned": str(now),
                        "date_due": str(now + days * DAY),
                        "status": "0",
                        "type": "0",
                        "item_id": str(message_id),
                        "object_type_id": str(target.id),
                        "object_name": target.plural or target.name,
                    },
                )
        return Reply()

    def _target_type(self, value: object) -> ObjectType:
        try:
            return TYPES_BY_ID[_int(value or 0)]
        except KeyError:
            raise ApiError(400, "Invalid objectID") from None

    def _set_status(self, params: Mapping[str, Any], status: str, extra: Mapping[str, str | None]) -> None:
        with self.store.write() as conn:
            for task_id in self._task_ids(conn, params):
                row = Store.get(conn, TASKS, task_id)
                if row is None or row.get("status") == status:
                    continue
                Store.update(conn, TASKS, task_id, {"status": status, **extra})

    def task_complete(self, otype: ObjectType | None, params: Mapping[str, Any]) -> Reply:
        data = as_object(params.get("data"), "data")
        outcome = _assigned(data.pop("outcome", None))
        now = self.now()
        with self.store.write() as conn:
            ids = self._task_ids(conn, params)
            pending: list[tuple[int, ObjectType | None, int, dict[str, str | None]]] = []
            for task_id in ids:
                row = Store.get(conn, TASKS, task_id)
                if row is None:
                    continue
                related = TYPES_BY_ID.get(int(row.get("object_type_id") or 0))
                values: dict[str, str | None] = {}
                if related is not None:
                    for name, raw in data.items():
                        f = related.field(name)
                        if f is None or not f.editable:
                            continue
                        try:
                            values[name] = to_stored(f, _assigned(raw))
                        except InvalidEmail:
                            raise ApiError(422, "Invalid email address") from None
                pending.append((task_id, related, int(row.get("contact_id") or 0), values))
            for task_id, related, record_id, values in pending:
                row = Store.get(conn, TASKS, task_id) or {}
                update: dict[str, str | None] = {}
                if row.get("status") != "1":
                    update = {"status": "1", "date_complete": now}
                if outcome not in (None, ""):
                    update["outcome"] = as_text(outcome)
                Store.update(conn, TASKS, task_id, update)
                if related is not None and values and Store.get(conn, related, record_id) is not None:
                    self._apply_update(conn, related, record_id, values)
        return Reply()

    def task_cancel(self, otype: ObjectType | None, params: Mapping[str, Any]) -> Reply:
        self._set_status(params, "2", {})
        return Reply()

    def task_reopen(self, otype: ObjectType | None, params: Mapping[str, Any]) -> Reply:
        self._set_status(params, "0", {"date_complete": None})
        return Reply()

    def task_reschedule(self, otype: ObjectType | None, params: Mapping[str, Any]) -> Reply:
        if params.get("id") in (None, "") or params.get("newtime") in (None, ""):
            raise InvalidQuery("task/reschedule needs id and newtime")
        task_id = _int(params["id"])
        newtime = _int(params["newtime"])
        with self.store.write() as conn:
            if Store.get(conn, TASKS, task_id) is None:
                raise ApiError(400, NOT_FOUND)
            Store.update(conn, TASKS, task_id, {"date_due": str(newtime)})
        return Reply()
