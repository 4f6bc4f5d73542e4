"""Safe write-back: build a plan from an edited frame, apply it, resume it, undo it.

How changes travel:

* creates of contacts go through ``saveorupdate`` (create-or-update: a new row whose
  e-mail already exists updates that contact; the plan says which rows will match);
  other types through ``POST``;
* updates are sent by id with only the changed fields (``PUT``), concurrently inside
  the shared rate limiter;
* tag edits become tag-by-name calls grouped by tag: all rows gaining the same tag
  are one call with many ids;
* deletes (only with ``delete_missing=True`` and ``confirm=``) go last, in batches.

Safety: validation happens before anything is sent (:mod:`ontraport_pandas.diff`);
records modified in Ontraport since the load are reported as ``conflict`` and not
overwritten unless ``on_conflict="overwrite"``; every operation is journaled with its
before-image before it is sent (:mod:`ontraport_pandas.journal`). Retries are safe
because every operation is idempotent (a ``PUT`` of the same values, a
create-or-update on the e-mail, a tag call) or verified: a plain create whose answer
was lost is looked up before it is sent again.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .diff import diff_frames
from .errors import (
    ConfirmationRequired,
    ConnectionFailed,
    OntraportError,
    Problem,
    RateLimitError,
    RequestTimeout,
    ServerError,
    TransportError,
    ValidationError,
)
from .journal import Journal, JournalState, read_journal
from .objects import ObjectType
from .plan import Operation, Plan
from .progress import make_progress
from .result import PushResult
from .schema import gc_paused

if TYPE_CHECKING:
    from .client import Ontraport

__all__ = ["apply_plan", "build_plan", "resume", "undo"]

logger = logging.getLogger(__name__)

BATCH = 50
#: Ids per tag-by-name call (no cap is documented; Ontraport processes tag calls in the background).
TAG_BATCH = 2500
AMBIGUOUS = (ServerError, ConnectionFailed, RequestTimeout)


# -- planning ------------------------------------------------------------------------------
def build_plan(
    op: Ontraport,
    edited: pd.DataFrame,
    *,
    original: pd.DataFrame | None = None,
    object_type: Any = None,
    delete_missing: bool = False,
    on_null: str = "clear",
    on_conflict: str = "skip",
    journal_dir: str | None = None,
) -> Plan:
    """Compare ``edited`` with the records as they were loaded and return a :class:`Plan`.

    Raises
    ------
    ValidationError
        Listing every problem (row, column, value), before anything is sent.
    """
    if not isinstance(edited, pd.DataFrame):
        raise TypeError(f"plan() takes a DataFrame, not {type(edited).__name__}")
    if on_conflict not in ("skip", "overwrite"):
        raise ValueError(f"on_conflict must be 'skip' or 'overwrite', not {on_conflict!r}")
    if on_null not in ("clear", "skip"):
        raise ValueError(f"on_null must be 'clear' or 'skip', not {on_null!r}")
    info = edited.attrs.get("ontraport") or {}
    if object_type is None:
        object_type = info.get("object_type_id", info.get("object_type"))
    if object_type is None:
        raise ValidationError(
            [
                Problem(
                    None, None, None, "the frame does not say which object type it holds: pass object_type="
                )
            ]
        )
    otype = op.session.resolve(object_type)
    if original is None:
        original = op.snapshot(edited)
    if original is None:
        from .diff import is_new_label

        if all(is_new_label(x) for x in edited.index):
            original = edited.iloc[0:0]
        else:
            raise ValidationError(
                [
                    Problem(
                        None,
                        None,
                        None,
                        "cannot tell what changed: this frame was not loaded by this client; pass original= "
                        "(the frame as loaded)",
                    )
                ]
            )
    schema = op.session.schema(otype)
    lookups = op.session.lookups(otype)
    with gc_paused():  # a big diff makes one small object per changed row: no cycles to collect
        return _build_plan(
            op,
            edited,
            original,
            otype,
            schema,
            lookups,
            info,
            delete_missing,
            on_null,
            on_conflict,
            journal_dir,
        )


def _build_plan(
    op: Ontraport,
    edited: pd.DataFrame,
    original: pd.DataFrame,
    otype: ObjectType,
    schema: Any,
    lookups: Any,
    info: dict[str, Any],
    delete_missing: bool,
    on_null: str,
    on_conflict: str,
    journal_dir: str | None,
) -> Plan:
    changes = diff_frames(
        original,
        edited,
        schema,
        otype,
        lookups=lookups,
        on_null=on_null,  # type: ignore[arg-type]
        delete_missing=delete_missing,
    )
    problems = list(changes.problems)
    creates: list[Any] = []
    updates: list[Any] = []
    tagged: list[Any] = []
    deletes: list[Any] = []
    for r in changes.rows:
        if r.kind == "create":
            creates.append(r)
        elif r.kind == "delete":
            deletes.append(r)
        elif r.wire:
            updates.append(r)
        if r.tags_add or r.tags_remove:
            tagged.append(r)

    # What the API lets us do with this type: refused in the plan, not at send time.
    for rows, verb, what in (
        (creates, "POST", "created"),
        (updates, "PUT", "updated"),
        (deletes, "DELETE", "deleted"),
    ):
        if rows and verb not in otype.verbs:
            for r in rows:
                problems.append(Problem(r.row, None, None, f"{otype.name} cannot be {what} through the API"))
    if tagged and changes.tag_field is None:
        problems.append(Problem(None, None, None, f"{otype.name} has no tags"))

    # create-or-update: which new rows will match an existing record on the natural key.
    key = otype.natural_key
    matches: dict[str, int] = {}
    if creates and key and not problems:
        emails = [str(r.wire.get(key, "")).strip() for r in creates]
        seen: dict[str, Any] = {}
        for r, e in zip(creates, emails, strict=True):
            if not e:
                continue
            low = e.lower()
            if low in seen:
                problems.append(
                    Problem(
                        r.row,
                        key,
                        e,
                        f"the same {key} as new row {seen[low]!r}: it would update that row's record",
                    )
                )
            seen.setdefault(low, r.row)
        if not problems:
            matches = _match_natural_key(op, otype, key, [e for e in emails if e])
    if problems:
        raise ValidationError(problems)

    ops: list[Operation] = []

    def add(kind: Any, row: Any, **kw: Any) -> None:
        ops.append(Operation(len(ops), kind, row, **kw))

    for r in creates:
        match = matches.get(str(r.wire.get(key, "")).strip().lower()) if key else None
        add("create", r.row, fields=dict(r.wire), new=dict(r.new), match_id=match)
    for r in updates:  # the RowChange dicts are fresh: handed over without copies
        ops.append(
            Operation(len(ops), "update", r.row, r.record_id, r.wire, r.before_wire, r.old, r.new, r.clears)
        )
    add_groups: dict[str, list[Any]] = {}
    remove_groups: dict[str, list[Any]] = {}
    for r in tagged:
        for t in r.tags_add:
            add_groups.setdefault(t, []).append(r.row)
        for t in r.tags_remove:
            remove_groups.setdefault(t, []).append(r.row)
    for t in sorted(add_groups):
        add("add_tags", None, tag=t, rows=add_groups[t])
    for t in sorted(remove_groups):
        add("remove_tags", None, tag=t, rows=remove_groups[t])
    for r in deletes:
        add("delete", r.row, record_id=r.record_id)

    # The dlm each touched record had when it was loaded (for conflict detection).
    original_dlm: dict[int, int] = {}
    touched = [int(o.record_id) for o in ops if o.kind in ("update", "delete") and o.record_id is not None]
    if touched and "dlm" in original.columns:
        dlm = original["dlm"]
        if pd.api.types.is_datetime64_any_dtype(dlm.dtype):
            by_id = dlm.copy()
            by_id.index = pd.Index(np.asarray(original.index.astype("int64")), dtype="int64")
            picked = by_id.reindex(touched).dropna()
            secs = picked.dt.tz_convert("UTC") if picked.dt.tz is not None else picked
            original_dlm = dict(
                zip(picked.index.tolist(), (secs.astype("int64") // 10**9).tolist(), strict=True)
            )
    return Plan(
        op,
        otype,
        ops,
        loaded_at=info.get("loaded_at"),
        original_dlm=original_dlm,
        on_conflict=on_conflict,
        journal_dir=journal_dir,
    )


def _match_natural_key(op: Ontraport, otype: ObjectType, key: str, values: list[str]) -> dict[str, int]:
    """Existing records whose natural key equals one of ``values`` (case and spaces ignored)."""
    path, base = otype.route()
    wanted = {v.lower() for v in values}
    found: dict[str, int] = {}
    uniq = sorted(set(values))
    for start in range(0, len(uniq), BATCH):
        chunk = uniq[start : start + BATCH]
        variants = sorted({v for c in chunk for v in (c, c.lower())})
        condition = [
            {"field": {"field": key}, "op": "IN", "value": {"list": [{"value": v} for v in variants]}}
        ]
        page = 0
        while True:
            rows = (
                op.session.data(
                    "GET",
                    path,
                    params={
                        **base,
                        "condition": json.dumps(condition),
                        "listFields": f"id,{key}",
                        "sort": "id",
                        "sortDir": "asc",
                        "start": page,
                        "range": BATCH,
                    },
                )
                or []
            )
            for row in rows:
                v = str(row.get(key) or "").strip().lower()
                if v in wanted:
                    found.setdefault(v, int(row["id"]))
            if len(rows) < BATCH:
                break
            page += BATCH
    return found


# -- sending ---------------------------------------------------------------------------------
class _Sender:
    """The calls of a push.

    Contacts on a backend with hosted actions (Membrane, offered through
    ``session.hosted``) go through them (``create-or-update-contact``,
    ``update-contact``, ``add-tags-to-contact``, ``delete-contact``) unless the backend
    says to write through REST; everything else, on every backend, through the REST
    routes (on Membrane, through its proxy).
    """

    def __init__(self, op: Ontraport, otype: ObjectType) -> None:
        self.op = op
        self.otype = otype
        self.session = op.session
        self.hosted = self.session.hosted if otype.id == 0 else None

    def _via(self, key: str) -> bool:
        return self.hosted is not None and self.hosted.uses_actions(key)

    def check(self, ops: Iterable[Operation]) -> None:
        """Refuse before anything is sent when a hosted action's schema has no place for a field."""
        if self.hosted is None:
            return
        for o in ops:
            if o.kind == "update" and o.fields:
                self.hosted.check("update-contact", o.fields)
            elif o.kind == "create" and self.otype.natural_key and o.fields.get(self.otype.natural_key):
                self.hosted.check("create-or-update-contact", o.fields)
            elif o.kind == "add_tags":
                self.hosted.check("add-tags-to-contact", tags=True)
            elif o.kind == "delete":
                self.hosted.check("delete-contact")

    def _action(self, call: Callable[[], Any]) -> Any:
        """Run a hosted write; the ones used here are idempotent, so a lost answer is retried."""
        attempts = self.session.retry.attempts
        waits = 0
        attempt = 0
        while True:
            attempt += 1
            try:
                return call()
            except RateLimitError as exc:  # not processed: wait it out like a proxied 429
                waits += 1
                attempt -= 1
                if waits > self.session.retry.max_rate_limit_waits:
                    raise
                time.sleep(max(0.0, exc.reset_after))
            except AMBIGUOUS:
                if attempt >= attempts:
                    raise
                time.sleep(self.session.retry.pause(attempt))

    def _body(self, fields: dict[str, Any]) -> dict[str, Any]:
        path, base = self.otype.route()
        body = dict(fields)
        if base:
            body["objectID"] = self.otype.id
        return body

    def update(self, record_id: int, fields: dict[str, Any]) -> None:
        if self.hosted is not None and self._via("update-contact"):
            hosted = self.hosted
            self._action(lambda: hosted.update(record_id, fields))
            return
        path, _ = self.otype.route()
        self.session.data("PUT", path, json=self._body({"id": record_id, **fields}), retry=True)

    def create(self, fields: dict[str, Any], *, upsert: bool) -> int:
        if self.hosted is not None and upsert and self._via("create-or-update-contact"):
            hosted = self.hosted
            return int(self._action(lambda: hosted.upsert(fields)))
        if upsert:
            path, base = self.otype.sub_route("saveorupdate")
            data = self.session.data("POST", path, json=self._body(fields), retry=True)
        else:
            path, _ = self.otype.route()
            data = self.session.data("POST", path, json=self._body(fields), retry=False)
        rid = None
        if isinstance(data, dict):
            rid = data.get("id") or (data.get("attrs") or {}).get("id")
        if rid is None:
            raise OntraportError(f"create answered without an id: {str(data)[:200]}")
        return int(rid)

    def tags(self, ids: list[int], tag: str, *, add: bool) -> None:
        if self.hosted is not None and add and self._via("add-tags-to-contact"):
            hosted = self.hosted
            self._action(lambda: hosted.add_tags(ids, tag))
            return
        body: dict[str, Any] = {"objectID": self.otype.id, "ids": ids}
        body["add_names" if add else "remove_names"] = [tag]
        self.session.data("PUT" if add else "DELETE", "objects/tagByName", json=body, retry=True)

    def delete(self, ids: list[int]) -> None:
        if self.hosted is not None and self._via("delete-contact"):
            from .errors import NotFoundError

            hosted = self.hosted

            def delete_one(rid: int) -> Callable[[], Any]:
                return lambda: hosted.delete(rid)

            for rid in ids:
                try:
                    self._action(delete_one(rid))
                except NotFoundError:
                    pass  # already gone: deleting is idempotent
            return
        path, base = self.otype.route()
        self.session.data("DELETE", path, params={**base, "ids": ",".join(map(str, ids))}, retry=True)

    def read(self, ids: list[int], fields: Iterable[str] | None) -> dict[int, dict[str, Any]]:
        """Current wire values of some records (``fields`` None: every field)."""
        path, base = self.otype.route()
        out: dict[int, dict[str, Any]] = {}
        for start in range(0, len(ids), BATCH):
            chunk = ids[start : start + BATCH]
            params: dict[str, Any] = {**base, "ids": ",".join(map(str, chunk)), "start": 0, "range": BATCH}
            if fields is not None:
                params["listFields"] = ",".join(dict.fromkeys([self.otype.id_field, "dlm", *fields]))
            for row in self.session.data("GET", path, params=params) or []:
                out[int(row.get(self.otype.id_field, row.get("id")))] = row
        return out

    def find_created(self, fields: dict[str, Any], since: int) -> int | None:
        """After a lost answer to a create: the record that it made, if exactly one matches."""
        text = {k: v for k, v in fields.items() if isinstance(v, str) and v and len(v) < 200}
        if not text:
            return None
        condition: list[Any] = []
        for k, v in list(text.items())[:4]:
            if condition:
                condition.append("AND")
            condition.append({"field": {"field": k}, "op": "=", "value": {"value": v}})
        condition += ["AND", {"field": {"field": "date"}, "op": ">=", "value": {"value": str(since)}}]
        path, base = self.otype.route()
        rows = self.session.data(
            "GET",
            path,
            params={**base, "condition": json.dumps(condition), "listFields": "id", "range": BATCH},
        )
        return int(rows[0]["id"]) if rows and len(rows) == 1 else None


def _error_text(exc: BaseException) -> str:
    return f"{exc.__class__.__name__}: {exc}"


def _loaded_epoch(plan: Plan) -> int | None:
    if not plan.loaded_at:
        return None
    try:
        return int(_dt.datetime.fromisoformat(plan.loaded_at).timestamp())
    except ValueError:
        return None


def apply_plan(
    plan: Plan,
    *,
    confirm: int | None = None,
    on_conflict: str = "skip",
    progress: bool | None = None,
    journal_dir: str | None = None,
) -> PushResult:
    """Send a plan; see :meth:`Plan.apply`."""
    if on_conflict not in ("skip", "overwrite"):
        raise ValueError(f"on_conflict must be 'skip' or 'overwrite', not {on_conflict!r}")
    need = plan.confirm_required
    if need is not None and confirm != need:
        c = plan.counts
        raise ConfirmationRequired(
            f"This plan affects {need} record(s) ({c['delete']} delete(s), {c['clears']} cleared cell(s)). "
            f"Nothing was sent. Check it (plan.to_frame()), then apply with plan.apply(confirm={need}).",
            need,
        )
    op = plan.client
    header = {
        "object_type": plan.object_type.name,
        "object_type_id": plan.object_type.id,
        "connection": op.name,
        "live": op.live,
        "started_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "started_epoch": int(time.time()),
        "on_conflict": on_conflict,
        "loaded_at": plan.loaded_at,
    }
    _Sender(op, plan.object_type).check(plan.ops)  # hosted-action schemas: refuse before anything is sent
    journal = Journal.create(journal_dir, header)
    try:
        for o in plan.ops:
            journal.write({"type": "op", **o.to_json()})
        state = JournalState(journal.path, header, [o.to_json() for o in plan.ops])
        run = _Run(op, plan.object_type, journal, state, progress=progress)
        run.check_conflicts(plan, on_conflict)
        run.execute()
    finally:
        journal.close()
        if any(o.kind in ("add_tags", "remove_tags") for o in plan.ops):
            op.session.forget_lookups()  # tags may have been created by name
    return _result(plan, read_journal(journal.path))


class _Run:
    """One execution of a journal's unfinished operations."""

    def __init__(
        self,
        op: Ontraport,
        otype: ObjectType,
        journal: Journal,
        state: JournalState,
        *,
        progress: bool | None,
    ) -> None:
        self.op = op
        self.otype = otype
        self.journal = journal
        self.state = state
        self.sender = _Sender(op, otype)
        self.progress = progress
        self.created: dict[str, int] = state.created_ids()
        self.conflicted: set[str] = set()
        self.lock = threading.Lock()
        self.started_epoch = int(state.header.get("started_epoch") or time.time())
        self.bar: Any = None

    def event(self, i: int, status: str, **data: Any) -> None:
        self.journal.event(i, status, **data)
        self.state.events[i] = {"type": "event", "i": i, "status": status, **data}

    # conflicts and before-images
    def check_conflicts(self, plan: Plan, on_conflict: str) -> None:
        ids: set[int] = set()  # records whose dlm is checked
        matched: set[int] = set()  # records a create-or-update will change: read for undo only
        fields: set[str] = set()
        for o in plan.ops:
            if o.kind in ("update", "delete") and o.record_id is not None:
                ids.add(int(o.record_id))
                fields.update(o.fields)
            if o.kind == "create" and o.match_id is not None:
                matched.add(int(o.match_id))
                fields.update(o.fields)
            # Tag additions and removals are set operations that overwrite nothing a
            # colleague wrote, so they are not checked (tagging 5,000 rows stays a few calls).
        if not ids and not matched:
            return
        deletes = {int(o.record_id) for o in plan.ops if o.kind == "delete" and o.record_id is not None}
        readable = (ids | matched) - deletes
        current = self.sender.read(sorted(readable), fields) if readable else {}
        if deletes:
            current.update(self.sender.read(sorted(deletes), None))
        loaded = _loaded_epoch(plan)
        for rid in sorted(ids):
            row = current.get(rid)
            if row is None:
                self.conflicted.add(str(rid))
                continue
            try:
                dlm = int(row.get("dlm") or 0)
            except (TypeError, ValueError):
                dlm = 0
            reference = plan.original_dlm.get(rid, loaded)
            if reference is not None and dlm > reference and on_conflict == "skip":
                self.conflicted.add(str(rid))
        for o in plan.ops:
            if o.kind == "update" and o.record_id is not None and int(o.record_id) in current:
                row = current[int(o.record_id)]
                before = {k: row.get(k) for k in o.fields}
                self.state.ops[o.i]["before"] = before
                self.journal.write({"type": "before", "i": o.i, "before": before})
            if o.kind == "create" and o.match_id is not None and int(o.match_id) in current:
                row = current[int(o.match_id)]
                before = {k: row.get(k) for k in o.fields}
                self.state.ops[o.i]["before"] = before
                self.journal.write({"type": "before", "i": o.i, "before": before})
            if o.kind == "delete" and o.record_id is not None and int(o.record_id) in current:
                before = dict(current[int(o.record_id)])
                self.state.ops[o.i]["before"] = before
                self.journal.write({"type": "before", "i": o.i, "before": before})

    # execution
    def execute(self) -> None:
        pending = list(self.state.unfinished())
        total = len(pending)
        self.bar = make_progress(total, f"push {self.otype.name}", enabled=self.progress, unit="op")
        try:
            by_kind: dict[str, list[dict[str, Any]]] = {}
            for o in pending:
                by_kind.setdefault(o["kind"], []).append(o)
            workers = max(1, self.op.session.max_workers)
            with ThreadPoolExecutor(max_workers=workers) as pool:
                for kind, fn in (
                    ("create", self.do_create),
                    ("update", self.do_update),
                    ("add_tags", self.do_tags),
                    ("remove_tags", self.do_tags),
                ):
                    list(pool.map(self._guard(fn), by_kind.get(kind, [])))
            self.do_deletes(by_kind.get("delete", []))
        finally:
            self.bar.close()

    def _guard(self, fn: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
        def run(o: dict[str, Any]) -> None:
            try:
                fn(o)
            except TransportError as exc:
                self.event(o["i"], "failed", error=_error_text(exc))
            except OntraportError as exc:
                self.event(o["i"], "failed", error=_error_text(exc))
            finally:
                self.bar.update(1)

        return run

    def do_create(self, o: dict[str, Any]) -> None:
        i = o["i"]
        match = o.get("match_id")
        if match is not None and str(match) in self.conflicted:
            self.event(i, "conflict", record_id=match, error="modified in Ontraport since the load")
            return
        upsert = bool(self.otype.natural_key and o["fields"].get(self.otype.natural_key))
        in_flight = self.state.status(i) == "sending"
        self.event(i, "sending")
        if in_flight and not upsert:
            found = self.sender.find_created(o["fields"], self.started_epoch - 5)
            if found is not None:
                self.event(i, "ok", record_id=found, fields=sorted(o["fields"]), matched=False)
                return
        try:
            rid = self.sender.create(o["fields"], upsert=upsert)
        except AMBIGUOUS as exc:
            if upsert:
                raise
            found = self.sender.find_created(o["fields"], self.started_epoch - 5)
            if found is None:
                raise OntraportError(f"the create may not have been applied ({_error_text(exc)})") from exc
            rid = found
        with self.lock:
            self.created[str(o["row"])] = rid
        self.event(i, "ok", record_id=rid, fields=sorted(o["fields"]), matched=match is not None)

    def do_update(self, o: dict[str, Any]) -> None:
        i = o["i"]
        rid = int(o["record_id"])
        if str(rid) in self.conflicted:
            self.event(i, "conflict", record_id=rid, error="modified or deleted in Ontraport since the load")
            return
        self.event(i, "sending")
        self.sender.update(rid, o["fields"])
        self.event(i, "ok", record_id=rid, fields=sorted(o["fields"]))

    def do_tags(self, o: dict[str, Any]) -> None:
        i = o["i"]
        ids: list[int] = []
        skipped: list[Any] = []
        for r in o["rows"]:
            if _is_id(r):
                if str(int(r)) in self.conflicted:
                    skipped.append(r)
                else:
                    ids.append(int(r))
            elif str(r) in self.created:
                ids.append(self.created[str(r)])
            else:
                skipped.append(r)
        self.event(i, "sending", ids=ids)
        for start in range(0, len(ids), TAG_BATCH):
            self.sender.tags(ids[start : start + TAG_BATCH], o["tag"], add=o["kind"] == "add_tags")
        if skipped and not ids:
            self.event(
                i, "conflict", ids=[], skipped_rows=skipped, error="rows conflicted or were not created"
            )
        else:
            self.event(i, "ok", ids=ids, skipped_rows=skipped)

    def do_deletes(self, ops: list[dict[str, Any]]) -> None:
        todo = []
        for o in ops:
            rid = int(o["record_id"])
            if str(rid) in self.conflicted:
                self.event(o["i"], "conflict", record_id=rid, error="modified in Ontraport since the load")
                self.bar.update(1)
            else:
                todo.append(o)
        for start in range(0, len(todo), BATCH):
            chunk = todo[start : start + BATCH]
            for o in chunk:
                self.event(o["i"], "sending")
            try:
                self.sender.delete([int(o["record_id"]) for o in chunk])
            except OntraportError as exc:
                for o in chunk:
                    self.event(o["i"], "failed", error=_error_text(exc))
            else:
                for o in chunk:
                    self.event(o["i"], "ok", record_id=int(o["record_id"]))
            self.bar.update(len(chunk))


def _is_id(label: Any) -> bool:
    from .diff import is_new_label

    return not is_new_label(label)


def _result(plan: Plan, state: JournalState) -> PushResult:
    rows: list[dict[str, Any]] = []
    created = state.created_ids()
    for o in state.ops:
        ev = state.events.get(o["i"], {})
        status = ev.get("status", "skipped")
        if status == "sending":
            status = "failed"
        error = ev.get("error")
        if o["kind"] in ("add_tags", "remove_tags"):
            skipped = {str(r) for r in ev.get("skipped_rows", [])}
            for r in o["rows"]:
                rid = int(r) if _is_id(r) else created.get(str(r))
                st = "conflict" if str(r) in skipped else status
                rows.append(
                    {
                        "op": o["i"],
                        "record_id": rid,
                        "row": r,
                        "kind": o["kind"],
                        "status": st,
                        "fields": [o["tag"]],
                        "error": "conflict or not created" if st == "conflict" and not error else error,
                    }
                )
        else:
            rid = ev.get("record_id", o.get("record_id"))
            rows.append(
                {
                    "op": o["i"],
                    "record_id": rid,
                    "row": o["row"],
                    "kind": o["kind"],
                    "status": status,
                    "fields": sorted(o.get("fields") or {}),
                    "error": error,
                }
            )
    frame = pd.DataFrame(rows, columns=["op", "record_id", "row", "kind", "status", "fields", "error"])
    frame["record_id"] = frame["record_id"].astype("Int64")
    return PushResult(frame, Path(state.path), plan)


def _plan_from_state(op: Ontraport, state: JournalState) -> Plan:
    otype = op.session.resolve(state.header["object_type_id"])
    ops = [Operation.from_json(o) for o in state.ops]
    return Plan(
        op,
        otype,
        ops,
        loaded_at=state.header.get("loaded_at"),
        on_conflict=state.header.get("on_conflict", "skip"),
    )


def resume(op: Ontraport, journal: str | os.PathLike[str], *, progress: bool | None = None) -> PushResult:
    """Finish a push that stopped part-way, without sending anything twice.

    Operations that finished are left alone; operations that were in flight when the
    push stopped are checked against the API first (an update whose values are
    already stored, a create whose record exists) and sent only when needed.
    """
    state = read_journal(journal)
    otype = op.session.resolve(state.header["object_type_id"])
    _check_same_connection(op, state)
    sender = _Sender(op, otype)
    j = Journal(Path(journal))
    try:
        run = _Run(op, otype, j, state, progress=progress)
        # In-flight updates: already applied?
        for o in list(state.unfinished()):
            if o["kind"] == "update" and state.status(o["i"]) == "sending":
                current = sender.read([int(o["record_id"])], o["fields"]).get(int(o["record_id"]))
                if current is not None and all(_same_wire(current.get(k), v) for k, v in o["fields"].items()):
                    run.event(
                        o["i"], "ok", record_id=int(o["record_id"]), fields=sorted(o["fields"]), verified=True
                    )
            if o["kind"] == "delete" and state.status(o["i"]) == "sending":
                if not sender.read([int(o["record_id"])], ["id"]):
                    run.event(o["i"], "ok", record_id=int(o["record_id"]), verified=True)
        run.execute()
    finally:
        j.close()
        op.session.forget_lookups()
    return _result(_plan_from_state(op, state), read_journal(journal))


def _same_wire(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return (a or "") == (b or "")
    return str(a) == str(b)


def _check_same_connection(op: Ontraport, state: JournalState) -> None:
    if state.header.get("connection") != op.name:
        logger.warning(
            "journal %s was written for %r; resuming on %r",
            state.path,
            state.header.get("connection"),
            op.name,
        )


def undo(
    op: Ontraport,
    journal: str | os.PathLike[str],
    *,
    progress: bool | None = None,
    journal_dir: str | None = None,
) -> PushResult:
    """Restore the before-images of what a push applied (newest first); returns the undo's own result.

    Updates get their previous values back; created records are deleted (or, for a
    create that updated an existing contact, that contact's previous values are put
    back); tags added are removed and tags removed are added; deleted records are
    created again from their before-image (with new ids).
    """
    state = read_journal(journal)
    otype = op.session.resolve(state.header["object_type_id"])
    ops: list[Operation] = []

    def add(kind: Any, row: Any, **kw: Any) -> None:
        ops.append(Operation(len(ops), kind, row, **kw))

    for o in reversed(state.ops):
        ev = state.events.get(o["i"], {})
        if ev.get("status") != "ok":
            continue
        kind = o["kind"]
        if kind == "update":
            add("update", o["record_id"], record_id=int(o["record_id"]), fields=dict(o.get("before") or {}))
        elif kind == "create":
            if o.get("match_id") is not None or ev.get("matched"):
                add(
                    "update",
                    ev["record_id"],
                    record_id=int(ev["record_id"]),
                    fields=dict(o.get("before") or {}),
                )
            else:
                add("delete", ev["record_id"], record_id=int(ev["record_id"]))
        elif kind in ("add_tags", "remove_tags"):
            ids = [int(x) for x in ev.get("ids", [])]
            if ids:
                add("remove_tags" if kind == "add_tags" else "add_tags", None, tag=o["tag"], rows=ids)
        elif kind == "delete":
            before = {
                k: v
                for k, v in (o.get("before") or {}).items()
                if k not in ("id", "date", "dlm", "dla", "unique_id") and v is not None
            }
            add("create", f"restored-{o['record_id']}", fields=before)
    plan = Plan(op, otype, [o for o in ops if o.fields or o.kind in ("delete", "add_tags", "remove_tags")])
    for n, o in enumerate(plan.ops):
        o.i = n
    return apply_plan(
        plan,
        confirm=plan.confirm_required,
        on_conflict="overwrite",
        progress=progress,
        journal_dir=journal_dir or str(Path(journal).parent),
    )
