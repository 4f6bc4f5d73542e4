"""Safe write-back: build a plan from an edited frame, apply it, resume it, undo it.

How changes travel:

* creates of contacts go through ``saveorupdate`` (create-or-update: a new row whose
  e-mail already exists updates that contact; the plan says which rows will match);
  other types through ``POST``;
* updates are sent by id with only the changed fields (``PUT``), concurrently inside
  the shared rate limiter;
* tag edits become tag-by-name calls grouped by tag: all rows gaining the same tag
  are one call with many ids;
* sequence and automation membership edits (``updateSequence``, ``updateCampaign``)
  become ``PUT objects/subscribe`` / ``DELETE objects/subscribe`` calls grouped the same
  way, one per sequence or automation joined or left (:mod:`ontraport_pandas.memberships`);
  they are idempotent, so a lost answer is sent again; undo sends the opposite call;
* deletes (only with ``delete_missing=True`` and ``confirm=``) go last, in batches.

Safety: validation happens before anything is sent (:mod:`ontraport_pandas.diff`);
records modified in Ontraport since the load are reported as ``conflict`` and not
overwritten unless ``on_conflict="overwrite"``; every operation is journaled with its
before-image before it is sent (:mod:`ontraport_pandas.journal`), and the journal is
locked for the whole push, resume or undo.

Lost answers are never guessed:

* a create that got no answer (timeout, dropped connection, 5xx) may have been
  applied, so it is ``unknown``, never ``failed``. Once every create is sent, the push
  waits ``RetryPolicy.verify_delay`` seconds (the server may still be committing) and
  looks for a record carrying every value the create sent, created since just before
  it was sent, leaving out the records this push (and the pushes it retries) already
  account for: two identical rows stay two records. A retry (``result.failed()``,
  ``resume``) looks again before sending; a plain create still not found stays
  ``unknown`` unless ``retry_unknown=True``. A create-or-update on the e-mail is
  idempotent, so it is sent again without asking;
* an update whose answer was lost is read back: ``ok`` when its values are stored;
* a retry plan carries what the pushes it retries created (so tags of new rows reach
  their records), left unknown, and when they last wrote each record: a ``dlm`` at or
  before that moment, with the fields to write still as loaded, is the push's own
  doing (its tag call), not a conflict. (``dlm`` is the server's clock: with a client
  clock far behind it, such a row is reported as a conflict, the safe side.) An update
  whose values are already stored is ``ok`` without being sent;
* after the updates, the updated records are read back: a ``dlm`` or a value that is
  not what this push's answer said means another writer touched the record in the
  same window, reported as ``conflict (concurrent)`` with both values.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import logging
import os
import threading
import time
import warnings
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
    EmptySelectionError,
    JournalError,
    JournalMismatch,
    OntraportError,
    OntraportWarning,
    Problem,
    ProtocolError,
    RateLimitError,
    RequestTimeout,
    ServerError,
    ValidationError,
)
from .eta import MEMBER_BATCH, READ_BATCH, TAG_BATCH
from .journal import Carried, Journal, JournalState, read_journal
from .labels import labels_of, relabel_problems, to_keys
from .lineage import infer_object_type, recover_original
from .memberships import membership_changes
from .objects import ObjectType
from .plan import GROUP_KINDS, MEMBER_KINDS, Operation, Plan
from .progress import make_progress
from .related import split_externs
from .result import PushResult
from .schema import gc_paused

if TYPE_CHECKING:
    from .client import Ontraport

__all__ = ["apply_plan", "build_plan", "resume", "undo"]

logger = logging.getLogger(__name__)

BATCH = READ_BATCH
AMBIGUOUS = (ServerError, ConnectionFailed, RequestTimeout)
#: Failures after which a write may have been applied: no answer, a 5xx, or an answer not understood.
MAY_BE_APPLIED = (*AMBIGUOUS, ProtocolError)


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
    allow_empty: bool = False,
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
    # attrs of another client's frame are never matched against this client's loads
    ours = not info or info.get("client_id") in (None, op.id)
    if object_type is None:
        object_type = info.get("object_type_id", info.get("object_type"))
    if object_type is None and ours:
        inferred = infer_object_type(op, edited)  # attrs lost in a concat / merge / join
        object_type = inferred.id if inferred is not None else None
    if object_type is None:
        raise ValidationError(
            [
                Problem(
                    None,
                    None,
                    None,
                    "the frame does not say which object type it holds (its attrs were lost: pd.concat "
                    "with a frame that has none, or a CSV round trip): pass object_type= and original=, "
                    "or copy them back with edited.attrs = loaded.attrs",
                )
            ]
        )
    otype = op.session.resolve(object_type)
    if original is None:
        original = op.snapshot(edited)
    if (
        original is None and ours and not info.get("coerced")
    ):  # a coerced frame is planned against live records
        recovered = recover_original(op, otype, edited, delete_missing=delete_missing)
        if recovered is not None:
            original, facts = recovered
            info = {**info, **facts}
    if original is None:
        from .diff import is_new_label

        if all(is_new_label(x) for x in edited.index):
            original = edited.iloc[0:0]
        elif info.get("coerced") and info.get("client_id") == op.id:
            original = _live_original(op, otype, edited)
        else:
            raise ValidationError(
                [
                    Problem(
                        None,
                        None,
                        None,
                        "cannot tell what changed: this frame was not loaded by this client; pass original= "
                        "(the frame as loaded), or op.coerce(edited, object_type) to plan it against the "
                        "records as they are now, or, to create every row as a new record, give each an NA "
                        "index label (df.index = pd.Index([pd.NA] * len(df), dtype='Int64'))",
                    )
                ]
            )
    schema = op.session.schema(otype)
    # A labels=True frame ("Membership Level") is planned by field key (f1001); problems name its columns.
    keyed = to_keys(edited, schema, labels_of(edited))
    shown = {str(k): str(c) for c, k in zip(edited.columns, keyed.columns, strict=True) if c != k}
    original = to_keys(original, schema, labels_of(original))
    try:
        edited, original = split_externs(keyed, original)  # related-record columns are read-only
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
                allow_empty,
            )
    except ValidationError as exc:
        if not shown:
            raise
        raise relabel_problems(exc, shown) from None


def _live_original(op: Ontraport, otype: ObjectType, edited: pd.DataFrame) -> pd.DataFrame:
    """The records ``edited`` names, as they are now, for a frame with no load snapshot.

    A frame re-typed by ``op.coerce`` (a CSV or spreadsheet round trip) is compared with
    the live records. When it carries the ``dlm`` it was exported with, that ``dlm``
    stands in for the loaded one, so a record modified in Ontraport since the export is
    a conflict, as for a loaded frame.
    """
    from .loader import load_frame
    from .validation import is_record_id

    ids = sorted({int(float(x)) for x in edited.index if is_record_id(x)})
    schema = op.session.schema(otype)
    fields = [c for c in edited.columns if isinstance(c, str) and c in schema.fields]
    if "dlm" in schema.fields and "dlm" not in fields:
        fields.append("dlm")
    live = load_frame(
        op.session,
        otype,
        where="id in @ids",
        params={"ids": ids},
        fields=fields,
        progress=False,
        max_condition_chars=op.max_condition_chars,
    )
    if "dlm" in edited.columns and "dlm" in live.columns and edited["dlm"].dtype == live["dlm"].dtype:
        exported = edited["dlm"][edited.index.notna()]
        exported = exported[~exported.index.duplicated()]
        exported.index = exported.index.astype(live.index.dtype)
        live = live.assign(dlm=exported.reindex(live.index).fillna(live["dlm"]))
    return live


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
    allow_empty: bool = False,
) -> Plan:
    changes = diff_frames(
        original,
        edited,
        schema,
        otype,
        lookups=lookups,
        on_null=on_null,  # type: ignore[arg-type]
        delete_missing=delete_missing,
        allow_empty=allow_empty,
    )
    problems = list(changes.problems)
    updates = changes.updates  # changed cells of existing rows, kept as columns
    creates: list[Any] = []
    tagged: list[Any] = []
    deletes: list[Any] = []
    for r in changes.rows:
        if r.kind == "create":
            creates.append(r)
        elif r.kind == "delete":
            deletes.append(r)
        if r.tags_add or r.tags_remove:
            tagged.append(r)

    # What the API lets us do with this type: refused in the plan, not at send time.
    for rows, verb, what in (
        ([r.row for r in creates], "POST", "created"),
        (updates.ids, "PUT", "updated"),
        ([r.row for r in deletes], "DELETE", "deleted"),
    ):
        if len(rows) and verb not in otype.verbs:
            for row in list(rows) if isinstance(rows, list) else rows.tolist():
                problems.append(Problem(row, None, None, f"{otype.name} cannot be {what} through the API"))
    if tagged and changes.tag_field is None:
        problems.append(Problem(None, None, None, f"{otype.name} has no tags"))
    members, member_problems = membership_changes(
        original,
        edited,
        schema,
        lookups=lookups,
        create_rows=[r.row for r in creates],
        on_null=on_null,
        skip={p.column for p in problems},
        unchanged=changes.unchanged_lists,
    )
    problems.extend(member_problems)

    # create-or-update: which new rows will match an existing record on the natural key.
    key = otype.natural_key
    matches: dict[str, int] = {}
    current: dict[int, dict[str, Any]] = {}
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
            wanted = sorted({k for r in creates for k in r.wire})
            matches = _match_natural_key(
                op, otype, key, [e for e in emails if e], fields=wanted, records=current
            )
    if problems:
        raise ValidationError(problems)

    # Creates, then the updates (kept as columns by the plan, positions len(creates) onwards),
    # then tag, membership and delete operations.
    ops: list[Operation] = []

    def add(kind: Any, row: Any, **kw: Any) -> None:
        i = len(ops) + (len(updates) if kind != "create" else 0)
        ops.append(Operation(i, kind, row, **kw))

    for r in creates:
        match = matches.get(str(r.wire.get(key, "")).strip().lower()) if key else None
        old = _current_display(current.get(match), list(r.wire), schema, lookups) if match else {}
        add("create", r.row, fields=dict(r.wire), new=dict(r.new), old=old, match_id=match)
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
    for m in members:
        add(
            "subscribe" if m.adding else "unsubscribe",
            None,
            rows=m.rows,
            sub_type=m.sub_type,
            item_id=m.item_id,
            item=m.item,
            column=m.column,
        )
    for r in deletes:
        add("delete", r.row, record_id=r.record_id)

    # The dlm each touched record had when it was loaded (for conflict detection).
    original_dlm: dict[int, int] = {}
    deleted = [int(o.record_id) for o in ops if o.kind == "delete" and o.record_id is not None]
    touched = np.concatenate([updates.ids, np.asarray(deleted, dtype="int64")])
    if len(touched) and "dlm" in original.columns:
        original_dlm = _loaded_dlm(original, touched)
    return Plan(
        op,
        otype,
        ops,
        loaded_at=info.get("loaded_at"),
        original_dlm=original_dlm,
        on_conflict=on_conflict,
        journal_dir=journal_dir,
        updates=updates,
    )


def _loaded_dlm(original: pd.DataFrame, ids: np.ndarray) -> dict[int, int]:
    """The ``dlm`` (unix seconds) each of ``ids`` had when ``original`` was loaded (ids without one left out)."""
    dlm = original["dlm"]
    if not pd.api.types.is_datetime64_any_dtype(dlm.dtype):
        return {}
    loaded = np.asarray(original.index.astype("int64"), dtype="int64")
    if len(loaded) and bool(np.all(loaded[1:] > loaded[:-1])):  # the usual, sorted ids: no hash table
        pos = np.minimum(np.searchsorted(loaded, ids), len(loaded) - 1)
        pos = np.where(loaded[pos] == ids, pos, -1)
    else:
        pos = pd.Index(loaded).get_indexer(ids)
    found = pos >= 0
    unit = dlm.dt.unit
    per_second = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}.get(str(unit))
    ticks = getattr(dlm.array, "asi8", None)  # since the epoch in UTC, whatever the zone shown
    if per_second is None or ticks is None:
        return {}
    at = np.asarray(ticks)[pos[found]]
    ok = at != np.iinfo(np.int64).min  # NaT
    return dict(zip(ids[found][ok].tolist(), (at[ok] // per_second).tolist(), strict=True))


def _match_natural_key(
    op: Ontraport,
    otype: ObjectType,
    key: str,
    values: list[str],
    *,
    fields: list[str] | None = None,
    records: dict[int, dict[str, Any]] | None = None,
) -> dict[str, int]:
    """Existing records whose natural key equals one of ``values`` (case and spaces ignored).

    Returns the id per lower-cased key. With ``records``, also fills it with each matched
    record's current wire values of ``fields`` (what the plan shows as ``old`` for a create
    that will update that record), read by the same requests.
    """
    path, base = otype.route()
    wanted = {v.lower() for v in values}
    found: dict[str, int] = {}
    list_fields = ",".join(dict.fromkeys([otype.id_field, key, *(fields or [])]))
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
                        "listFields": list_fields,
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
                if v in wanted and v not in found:
                    rid = int(row[otype.id_field])
                    found[v] = rid
                    if records is not None:
                        records[rid] = row
            if len(rows) < BATCH:
                break
            page += BATCH
    return found


def _current_display(
    record: dict[str, Any] | None, fields: list[str], schema: Any, lookups: Any
) -> dict[str, Any]:
    """A record's current values of ``fields`` as the frame would show them (for a plan's ``old``)."""
    from .diff import _display
    from .schema import frame_from_records

    if record is None:
        return {}
    try:
        typed = frame_from_records([record], schema, lookups=lookups, columns=fields)
    except OntraportError:  # a value the reader refuses: show the wire value rather than nothing
        return {k: record.get(k) for k in fields}
    return {k: _display(typed[k].iloc[0]) for k in fields if k in typed.columns}


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
        self._kinds: dict[str, str] | None = None
        self.hosted = self.session.hosted if otype.id == 0 else None

    def _via(self, key: str) -> bool:
        return self.hosted is not None and self.hosted.uses_actions(key)

    def same(self, key: str, stored: Any, sent: Any) -> bool:
        """:func:`_same_stored` with the type of field ``key``."""
        if self._kinds is None:
            try:
                fields = self.session.schema(self.otype).fields
                self._kinds = {k: str(getattr(spec, "type", "")) for k, spec in fields.items()}
            except OntraportError:
                self._kinds = {}
        return _same_stored(stored, sent, self._kinds.get(key))

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

    def update(self, record_id: int, fields: dict[str, Any]) -> dict[str, Any]:
        """Send an update; returns what the API answered it stored (``attrs``: changed fields, ``dlm``)."""
        if self.hosted is not None and self._via("update-contact"):
            hosted = self.hosted
            self._action(lambda: hosted.update(record_id, fields))
            return {}
        path, _ = self.otype.route()
        data = self.session.data("PUT", path, json=self._body({"id": record_id, **fields}), retry=True)
        attrs = data.get("attrs") if isinstance(data, dict) else None
        return dict(attrs) if isinstance(attrs, dict) else {}

    def create(self, fields: dict[str, Any], *, upsert: bool) -> int:
        data: Any
        if self.hosted is not None and upsert and self._via("create-or-update-contact"):
            hosted = self.hosted
            return int(self._action(lambda: hosted.upsert(fields)))
        if upsert:
            path, base = self.otype.sub_route("saveorupdate")
            data = self.session.data("POST", path, json=self._body(fields), retry=True)
        else:
            path, _ = self.otype.route()
            data = self.session.data("POST", path, json=self._body(fields), retry=False)
        rid: Any = None
        if isinstance(data, dict):
            attrs = data.get("attrs")
            rid = data.get("id") or (attrs.get("id") if isinstance(attrs, dict) else None)
        try:
            return int(rid)
        except (TypeError, ValueError):
            raise ProtocolError(f"create answered without an id: {str(data)[:200]}") from None

    def tags(self, ids: list[int], tag: str, *, add: bool) -> None:
        _refuse_empty(ids, "tag by name")
        if self.hosted is not None and add and self._via("add-tags-to-contact"):
            hosted = self.hosted
            self._action(lambda: hosted.add_tags(ids, tag))
            return
        body: dict[str, Any] = {"objectID": self.otype.id, "ids": ids}
        body["add_names" if add else "remove_names"] = [tag]
        self.session.data("PUT" if add else "DELETE", "objects/tagByName", json=body, retry=True)

    def subscribe(self, ids: list[int], sub_type: str, item_id: int, *, add: bool) -> None:
        """Add records to (or remove them from) one sequence or automation: ``objects/subscribe``."""
        body: dict[str, Any] = {"objectID": self.otype.id, "ids": ids, "sub_type": sub_type}
        body["add_list" if add else "remove_list"] = [item_id]
        self.session.data("PUT" if add else "DELETE", "objects/subscribe", json=body, retry=True)

    def delete(self, ids: list[int]) -> None:
        _refuse_empty(ids, "delete")
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

    def find_created(self, fields: dict[str, Any], since: float | None, exclude: set[int]) -> list[int]:
        """After a lost answer to a create: ids of records that carry every value the create sent.

        Looked up by the create's text values (and, with ``since``, records created from
        then on), then compared field by field; ids in ``exclude`` (records this push
        already accounts for) are left out. Lowest id first.
        """
        schema_fields = getattr(self.session.schema(self.otype), "fields", {})
        condition: list[Any] = []
        for k, v in fields.items():
            if isinstance(v, str) and v.strip() and len(v) < 200 and len(condition) < 11:
                if condition:
                    condition.append("AND")
                condition.append({"field": {"field": k}, "op": "=", "value": {"value": v}})
        if since is not None and "date" in schema_fields:
            if condition:
                condition.append("AND")
            condition.append({"field": {"field": "date"}, "op": ">=", "value": {"value": str(int(since))}})
        path, base = self.otype.route()
        params: dict[str, Any] = {
            **base,
            "listFields": ",".join(dict.fromkeys([self.otype.id_field, *fields])),
            "sort": self.otype.id_field,
            "sortDir": "desc",  # newest first: a record the create made is among the last ones
            "range": BATCH,
        }
        if condition:
            params["condition"] = json.dumps(condition)
        found: list[int] = []
        for page in range(20):  # the newest 1,000 candidates at most
            rows = self.session.data("GET", path, params={**params, "start": page * BATCH}) or []
            for row in rows:
                rid = int(row.get(self.otype.id_field, row.get("id")))
                if rid in exclude:
                    continue
                if all(self.same(k, row[k], v) for k, v in fields.items() if k in row):
                    found.append(rid)
            if len(rows) < BATCH:
                break
        return sorted(found)

    def tag_use(self, name: str) -> int:
        """How many records of this type carry the tag ``name``."""
        data = self.session.data(
            "GET", "objects/tag", params={"objectID": self.otype.id, "tag_name": name, "count": "true"}
        )
        try:
            return int((data or {}).get("count", 0)) if isinstance(data, dict) else 0
        except (TypeError, ValueError):
            return 0

    def delete_tag(self, name: str) -> bool:
        """Delete the tag ``name`` of this type; False when there is no such tag."""
        condition = [
            {"field": {"field": "tag_name"}, "op": "=", "value": {"value": name}},
            "AND",
            {"field": {"field": "object_type_id"}, "op": "=", "value": {"value": str(self.otype.id)}},
        ]
        rows = self.session.data(
            "GET", "Tags", params={"condition": json.dumps(condition), "listFields": "tag_id,tag_name"}
        )
        ids = [int(r.get("tag_id", r.get("id"))) for r in rows or [] if str(r.get("tag_name")) == name]
        if not ids:
            return False
        self.session.data("DELETE", "Tags", params={"ids": ",".join(map(str, ids))}, retry=True)
        return True


def _refuse_empty(ids: list[int], what: str) -> None:
    """A writer bug that empties an id list must not reach the wire (the API reads "no ids" as all)."""
    if not ids:
        raise EmptySelectionError(
            f"Refused the {what} call: its id list is empty, which the API reads as every record. "
            "Nothing was sent.",
            method="action",
            path=what,
        )


NUMERIC_KINDS = frozenset({"numeric", "price", "parent", "date", "check", "drop"})


def _same_stored(stored: Any, sent: Any, kind: str | None = None) -> bool:
    """Whether a stored wire value is what was sent.

    Text (and any field of unknown type) compares exactly, whitespace included. Numbers,
    prices, dates, check boxes and dropdown ids compare as numbers, an empty value as 0
    (Ontraport stores a cleared number as 0 and a cleared check box as false).
    """
    a = "" if stored is None else str(stored)
    b = "" if sent is None else str(sent)
    if a == b:
        return True
    if kind not in NUMERIC_KINDS:
        return False
    if kind == "check":
        truthy = {"1", "true", "True"}
        return (a.strip() in truthy) == (b.strip() in truthy)
    try:
        return float(a or 0) == float(b or 0)
    except ValueError:
        return False


def _error_text(exc: BaseException) -> str:
    return f"{exc.__class__.__name__}: {exc}"


def _loaded_epoch(plan: Plan) -> int | None:
    if not plan.loaded_at:
        return None
    try:
        return int(_dt.datetime.fromisoformat(plan.loaded_at).timestamp())
    except ValueError:
        return None


def _tag_field(op: Ontraport, otype: ObjectType) -> str | None:
    """The field that holds a type's tags (``contact_cat``), if it has one."""
    try:
        fields = op.session.schema(otype).fields
    except OntraportError:
        return None
    for key, spec in fields.items():
        if getattr(spec, "type", None) == "subscription" and getattr(spec, "sub_model", None) == 14:
            return str(key)
    return None


def _identity(op: Ontraport) -> dict[str, Any]:
    """Which account and connection a journal belongs to (no secret: names, URL, App ID, account id)."""
    if op.session.account_id is None:
        try:
            op.session.meta()
        except OntraportError:
            pass
    return {"connection": op.name, "identity": op.cache_key, "account_id": op.session.account_id}


def _check_same_account(op: Ontraport, state: JournalState, *, force: bool, doing: str) -> None:
    header = state.header
    mine = _identity(op)
    differences = []
    if header.get("identity") is not None and header["identity"] != mine["identity"]:
        differences.append(
            f"it was written on {header.get('connection')!r} ({header['identity']}), "
            f"this client is {mine['connection']!r} ({mine['identity']})"
        )
    elif header.get("identity") is None and header.get("connection") != mine["connection"]:
        differences.append(
            f"it was written on {header.get('connection')!r}, this client is {mine['connection']!r}"
        )
    theirs, ours = header.get("account_id"), mine["account_id"]
    if theirs is not None and ours is not None and str(theirs) != str(ours):
        differences.append(f"it was written for account {theirs}, this client reaches account {ours}")
    if not differences:
        return
    if not force:
        raise JournalMismatch(
            f"Refusing to {doing} {state.path}: " + "; ".join(differences) + ". Nothing was sent. "
            f"Connect to the account the journal was written for, or pass force=True to {doing} it here anyway."
        )
    logger.warning("%s %s on another connection (force=True): %s", doing, state.path, "; ".join(differences))


def _open_locked(journal: str | os.PathLike[str], purpose: str) -> Journal:
    path = Path(journal)
    if not path.is_file():
        raise JournalError(f"There is no push journal at {path}.")
    try:
        j = Journal(path)
    except OSError as exc:
        raise JournalError(f"Cannot open the push journal {path}: {exc}") from exc
    j.lock(purpose)
    return j


def apply_plan(
    plan: Plan,
    *,
    confirm: int | None = None,
    on_conflict: str = "skip",
    progress: bool | None = None,
    journal_dir: str | None = None,
    retry_unknown: bool = False,
) -> PushResult:
    """Send a plan; see :meth:`Plan.apply`."""
    if on_conflict not in ("skip", "overwrite"):
        raise ValueError(f"on_conflict must be 'skip' or 'overwrite', not {on_conflict!r}")
    need = plan.confirm_required
    if need is not None and confirm != need:
        raise ConfirmationRequired(
            f"This plan affects {need:,} record(s) ({', '.join(plan.confirm_reasons)}). "
            f"Nothing was sent. Check it (plan.to_frame()), then apply with plan.apply(confirm={need}).",
            need,
        )
    if not plan.ops:  # nothing to send: no journal either
        return _result(plan, None)
    op = plan.client
    carried = plan.carried or Carried()
    # Applying the same plan again (a re-run notebook cell) continues its earlier pushes:
    # what they created is not created twice.
    earlier: tuple[Path, ...] = getattr(plan, "_pushed_journals", ())
    for path in earlier:
        carried = carried.then(read_journal(path))
    header = {
        "object_type": plan.object_type.name,
        "object_type_id": plan.object_type.id,
        "ops": len(plan.ops),
        **_identity(op),
        "live": op.live,
        "pid": os.getpid(),
        "started_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "started_epoch": int(time.time()),
        "on_conflict": on_conflict,
        "loaded_at": plan.loaded_at,
    }
    _Sender(op, plan.object_type).check(plan.ops)  # hosted-action schemas: refuse before anything is sent
    if plan.carried is not None or earlier:
        header["carried"] = carried.to_json()
    try:
        journal = Journal.create(journal_dir, header)
    except OSError as exc:
        raise JournalError(
            f"Cannot write the push journal ({exc}). Nothing was sent: pass journal_dir= (or set "
            "ONTRAPORT_PANDAS_JOURNAL_DIR) to a folder you can write to."
        ) from exc
    setattr(plan, "_pushed_journals", (*earlier, journal.path))  # noqa: B010 - not a declared field
    try:
        for o in plan.ops:
            journal.write({"type": "op", **o.to_json()})
        state = JournalState(journal.path, header, [o.to_json() for o in plan.ops])
        run = _Run(op, plan.object_type, journal, state, progress=progress, retry_unknown=retry_unknown)
        run.check_conflicts(plan, on_conflict)
        run.execute()
    finally:
        journal.close()
        if any(o.kind in ("add_tags", "remove_tags") for o in plan.ops):
            op.session.forget_lookups()  # tags may have been created by name
    return _result(plan, read_journal(journal.path))


class _Run:
    """One execution of a journal's unfinished operations.

    The phases run in this order: creates; a second look, after ``verify_delay``, for
    creates whose answer was lost; updates; a read-back of the updated records (another
    writer that touched them meanwhile turns the row into ``conflict (concurrent)``);
    tag additions and removals; subscriptions and unsubscriptions; deletes.
    """

    def __init__(
        self,
        op: Ontraport,
        otype: ObjectType,
        journal: Journal,
        state: JournalState,
        *,
        progress: bool | None,
        retry_unknown: bool = False,
    ) -> None:
        self.op = op
        self.otype = otype
        self.journal = journal
        self.state = state
        self.sender = _Sender(op, otype)
        self.progress = progress
        self.retry_unknown = retry_unknown
        self.carried = state.carried
        self.created: dict[str, int] = {**self.carried.created, **state.created_ids()}
        self.claimed: set[int] = set(self.created.values())
        self.conflicted: dict[str, str] = {}  # record id (text) -> why
        self.applied: set[int] = set()  # records whose update is already stored
        self.to_verify: list[tuple[dict[str, Any], float]] = []
        self.written: dict[int, tuple[dict[str, Any], dict[str, Any], int]] = {}
        self.known_tags: set[str] | None = None
        self.lock = threading.Lock()
        self.started_epoch = int(state.header.get("started_epoch") or time.time())
        self.verify_delay = float(getattr(op.session.retry, "verify_delay", 2.0))
        self.bar: Any = None

    def event(self, i: int, status: str, **data: Any) -> None:
        self.journal.event(i, status, **data)
        self.state.events[i] = {"type": "event", "i": i, "status": status, "t": time.time(), **data}

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
        own = self.carried.own_writes
        same = self.sender.same
        for o in plan.ops:
            if o.kind not in ("update", "delete") or o.record_id is None:
                continue
            rid = int(o.record_id)
            row = current.get(rid)
            if row is None:
                self.conflicted[str(rid)] = "deleted in Ontraport since the load"
                continue
            if o.kind == "update" and all(same(k, row.get(k), v) for k, v in o.fields.items()):
                self.applied.add(rid)  # already stored (an earlier push's lost answer): nothing to send
                continue
            try:
                dlm = int(row.get("dlm") or 0)
            except (TypeError, ValueError):
                dlm = 0
            reference = plan.original_dlm.get(rid, loaded)
            if reference is None or dlm <= reference or on_conflict != "skip":
                continue
            # dlm moved: by the pushes this one retries (their own tag call, an applied update)?
            mine = own.get(rid)
            untouched = all(same(k, row.get(k), o.before[k]) for k in o.fields if k in o.before)
            if mine is not None and dlm <= mine + 1 and untouched:
                continue
            self.conflicted[str(rid)] = f"modified in Ontraport since the load (dlm {reference} -> {dlm})"
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

    def prepare_tags(self, tag_ops: list[dict[str, Any]]) -> None:
        """Before tags change: the tag field, in stored order, of the records losing a tag (so
        that undo puts removed tags back where they were; an added tag is undone by removing
        it, which keeps the order, so tagging 5,000 records costs no reads), and which tag
        names exist (so that undo can delete the ones this push creates)."""
        field_name = _tag_field(self.op, self.otype)
        if field_name is None:
            return
        losing = {int(r) for o in tag_ops if o["kind"] == "remove_tags" for r in o["rows"] if _is_id(r)}
        ids = sorted(losing - set(self.state.tags_before))
        if ids:
            current = self.sender.read(ids, [field_name])
            values = {rid: str(row.get(field_name) or "") for rid, row in current.items()}
            self.journal.write({"type": "tags_before", "field": field_name, "values": values})
            self.state.tags_before.update(values)
        if any(o["kind"] == "add_tags" for o in tag_ops):
            labels = self.op.session.lookups(self.otype, refresh=True).get(field_name, {})
            self.known_tags = {str(v).casefold() for v in labels.values()}

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
                creates = self.recheck_creates(by_kind.get("create", []))
                list(pool.map(self._guard(self.do_create), creates))
                self.verify_creates()
                list(pool.map(self._guard(self.do_update), by_kind.get("update", [])))
                self.check_concurrent()
                tag_ops = by_kind.get("add_tags", []) + by_kind.get("remove_tags", [])
                if tag_ops:
                    try:
                        self.prepare_tags(tag_ops)
                    except OntraportError as exc:  # the tag changes still go out; undo is less exact
                        logger.warning(
                            "could not read the tags before changing them (%s); undo will "
                            "re-add removed tags at the end of the list",
                            exc,
                        )
                for kind in ("add_tags", "remove_tags"):
                    list(pool.map(self._guard(self.do_tags), by_kind.get(kind, [])))
                for kind in MEMBER_KINDS:
                    list(pool.map(self._guard(self.do_members), by_kind.get(kind, [])))
            self.do_deletes(by_kind.get("delete", []))
        finally:
            self.bar.close()

    def _guard(self, fn: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
        def run(o: dict[str, Any]) -> None:
            try:
                fn(o)
            except OntraportError as exc:
                self.event(o["i"], "failed", error=_error_text(exc))
            finally:
                self.bar.update(1)

        return run

    # creates
    def _upsert(self, o: dict[str, Any]) -> bool:
        return bool(self.otype.natural_key and o["fields"].get(self.otype.natural_key))

    def _look(self, o: dict[str, Any], since: float) -> int | None:
        """The record a create whose answer was lost made, or None. Claims it (under the lock)."""
        upsert = self._upsert(o)
        with self.lock:
            if upsert:  # create-or-update on the e-mail: the record holding every value sent
                found = self.sender.find_created(o["fields"], None, set())
            else:
                found = self.sender.find_created(o["fields"], since, self.claimed)
            if not found:
                return None
            rid = found[0]
            self.claimed.add(rid)
            self.created[str(o["row"])] = rid
            return rid

    def _prior(self, o: dict[str, Any]) -> dict[str, float] | None:
        """When an earlier attempt at this create may have been applied: when it was sent and given up."""
        carried = self.carried.unknown.get(str(o["row"]))
        if carried is not None:
            return carried
        ev = self.state.events.get(o["i"], {})
        if ev.get("status") in ("sending", "unknown") or (self.state.torn and not ev):
            # in flight, unknown, or (the journal's end was torn) perhaps sent with its events lost
            t = float(ev.get("t") or 0)
            return {"since": float(ev.get("since") or self.started_epoch - 60), "at": t}
        return None

    def recheck_creates(self, ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Creates an earlier attempt may have applied: look for them (one at a time, before any
        create of this run is sent, so that two identical rows never claim the same record).
        Returns the creates still to send."""
        todo = []
        for o in ops:
            i = o["i"]
            row = str(o["row"])
            if row in self.created:  # created by the push this one retries (undo of this one keeps it)
                self.event(
                    i,
                    "ok",
                    record_id=self.created[row],
                    fields=sorted(o["fields"]),
                    matched=False,
                    earlier=True,
                    verified=True,
                )
                self.bar.update(1)
                continue
            prior = self._prior(o)
            if prior is None:
                todo.append(o)
                continue
            try:
                time.sleep(max(0.0, prior.get("at", 0) + self.verify_delay - time.time()))
                found = self._look(o, prior["since"])
            except OntraportError as exc:
                self.event(
                    i,
                    "unknown",
                    since=prior["since"],
                    error=f"could not look it up again: {_error_text(exc)}",
                )
                self.bar.update(1)
                continue
            if found is not None:
                self.event(i, "ok", record_id=found, fields=sorted(o["fields"]), matched=False, verified=True)
            elif self._upsert(o) or self.retry_unknown:
                todo.append(o)
                continue
            else:
                self.event(
                    i,
                    "unknown",
                    since=prior["since"],
                    error="an earlier attempt may have created this record, and it is still not found "
                    "by the values it carried; it was not sent again. Check the records, then "
                    "apply(retry_unknown=True) to send it again (it may then exist twice).",
                )
            self.bar.update(1)
        return todo

    def do_create(self, o: dict[str, Any]) -> None:
        i = o["i"]
        row = str(o["row"])
        match = o.get("match_id")
        if match is not None and str(match) in self.conflicted:
            self.event(i, "conflict", record_id=match, error=self.conflicted[str(match)])
            return
        upsert = self._upsert(o)
        since = time.time() - 60  # a create is looked for among records created from then on
        self.event(i, "sending", since=since)
        try:
            rid = self.sender.create(o["fields"], upsert=upsert)
        except MAY_BE_APPLIED as exc:
            # It may have been applied: never "failed". Looked for again once every create is sent.
            self.event(i, "unknown", since=since, error=f"no answer ({_error_text(exc)}); looking it up")
            with self.lock:
                self.to_verify.append((o, since))
            return
        with self.lock:
            self.created[row] = rid
            self.claimed.add(rid)
        self.event(i, "ok", record_id=rid, fields=sorted(o["fields"]), matched=match is not None)

    def verify_creates(self) -> None:
        """Look again for the creates whose answer was lost, after giving the server time to commit."""
        if not self.to_verify:
            return
        time.sleep(self.verify_delay)
        for o, since in sorted(self.to_verify, key=lambda x: x[0]["i"]):
            try:
                found = self._look(o, since)
            except OntraportError as exc:
                found, why = None, f"the lookup failed too ({_error_text(exc)})"
            else:
                why = f"no record carries the values it sent {self.verify_delay:g}s later"
            if found is not None:
                self.event(
                    o["i"], "ok", record_id=found, fields=sorted(o["fields"]), matched=False, verified=True
                )
                continue
            resend = (
                "result.failed().apply() sends it again"
                if self._upsert(o)
                else (
                    "result.failed().apply() looks again and, if it is still not found, reports it unknown; "
                    "apply(retry_unknown=True) sends it again (it may then exist twice)"
                )
            )
            self.event(
                o["i"],
                "unknown",
                since=since,
                error=f"the create got no answer and may have been applied; {why}. {resend}.",
            )
        self.to_verify.clear()

    # updates
    def do_update(self, o: dict[str, Any]) -> None:
        i = o["i"]
        rid = int(o["record_id"])
        if str(rid) in self.conflicted:
            self.event(i, "conflict", record_id=rid, error=self.conflicted[str(rid)])
            return
        if rid in self.applied:
            self.event(i, "ok", record_id=rid, fields=sorted(o["fields"]), verified=True)
            return
        self.event(i, "sending")
        try:
            attrs = self.sender.update(rid, o["fields"])
        except MAY_BE_APPLIED as exc:
            # The answer was lost: read the record back before saying anything.
            try:
                row = self.sender.read([rid], o["fields"]).get(rid)
            except OntraportError:
                raise exc from None
            if row is not None and all(self.sender.same(k, row.get(k), v) for k, v in o["fields"].items()):
                self.event(i, "ok", record_id=rid, fields=sorted(o["fields"]), verified=True)
                with self.lock:
                    self.written[rid] = (dict(o["fields"]), {"dlm": row.get("dlm")}, i)
                return
            raise OntraportError(f"{_error_text(exc)}; read back: the values are not stored") from exc
        with self.lock:
            self.written[rid] = (dict(o["fields"]), attrs, i)
        self.event(i, "ok", record_id=rid, fields=sorted(o["fields"]), dlm=attrs.get("dlm"))

    def check_concurrent(self) -> None:
        """Read the updated records back: another writer in the same window is a conflict (concurrent)."""
        if not self.written:
            return
        ids = sorted(self.written)
        fields = sorted({k for sent, _, _ in self.written.values() for k in sent})
        try:
            current = self.sender.read(ids, fields)
        except OntraportError as exc:
            logger.warning("could not read the updated records back to look for concurrent writers: %s", exc)
            return
        for rid in ids:
            sent, attrs, i = self.written[rid]
            row = current.get(rid)
            expected = {k: attrs.get(k, v) for k, v in sent.items()}
            ours_dlm = attrs.get("dlm")
            if row is None:
                theirs: dict[str, Any] = {}
                now_dlm: Any = "deleted"
            else:
                theirs = {k: row.get(k) for k in sent if not self.sender.same(k, row.get(k), expected[k])}
                now_dlm = row.get("dlm")
                moved = ours_dlm is not None and now_dlm is not None and str(now_dlm) != str(ours_dlm)
                if not theirs and not moved:
                    continue
            ours = {k: expected[k] for k in (theirs or sent)}
            self.event(
                i,
                "conflict",
                record_id=rid,
                fields=sorted(sent),
                concurrent=True,
                ours=ours,
                theirs=theirs,
                dlm_ours=ours_dlm,
                dlm_now=now_dlm,
                error=f"conflict (concurrent): another writer changed the record while this push wrote it; "
                f"this push wrote {ours} (dlm {ours_dlm}), now stored {theirs or 'the same values'} "
                f"(dlm {now_dlm})",
            )

    # tags
    def _group_ids(self, o: dict[str, Any]) -> tuple[list[int], dict[str, list[Any]]]:
        """The record ids a tag or membership operation reaches, and the rows it cannot reach."""
        ids: list[int] = []
        conflict_rows: list[Any] = []
        failed_rows: list[Any] = []
        for r in o["rows"]:
            if _is_id(r):
                if str(int(r)) in self.conflicted:
                    conflict_rows.append(r)
                else:
                    ids.append(int(r))
            elif str(r) in self.created:
                ids.append(self.created[str(r)])
            else:
                failed_rows.append(r)  # its create failed or is unknown: the change waits with it
        return ids, {"conflict_rows": conflict_rows, "failed_rows": failed_rows}

    def do_tags(self, o: dict[str, Any]) -> None:
        i = o["i"]
        ids, rows = self._group_ids(o)
        if not ids:
            status = "failed" if rows["failed_rows"] else "conflict"
            self.event(i, status, ids=[], **rows, error="no record to tag: " + _why_rows(rows))
            return
        adding = o["kind"] == "add_tags"
        new_tag = adding and self.known_tags is not None and str(o["tag"]).casefold() not in self.known_tags
        self.event(i, "sending", ids=ids)
        try:
            for start in range(0, len(ids), TAG_BATCH):
                self.sender.tags(ids[start : start + TAG_BATCH], o["tag"], add=adding)
        except OntraportError as exc:
            self.event(i, "failed", ids=ids, **rows, new_tag=new_tag, error=_error_text(exc))
            return
        self.event(i, "ok", ids=ids, **rows, new_tag=new_tag)

    # memberships
    def do_members(self, o: dict[str, Any]) -> None:
        """One sequence or automation joined (``subscribe``) or left (``unsubscribe``) by many records.

        The calls are set operations, so a lost answer is sent again (the session retries
        it) and a failed operation is safe to send again with ``result.failed().apply()``.
        """
        i = o["i"]
        ids, rows = self._group_ids(o)
        adding = o["kind"] == "subscribe"
        if not ids:
            status = "failed" if rows["failed_rows"] else "conflict"
            what = "subscribe" if adding else "unsubscribe"
            self.event(i, status, ids=[], **rows, error=f"no record to {what}: " + _why_rows(rows))
            return
        self.event(i, "sending", ids=ids)
        try:
            for start in range(0, len(ids), MEMBER_BATCH):
                self.sender.subscribe(
                    ids[start : start + MEMBER_BATCH], str(o["sub_type"]), int(o["item_id"]), add=adding
                )
        except OntraportError as exc:
            self.event(i, "failed", ids=ids, **rows, error=_error_text(exc))
            return
        self.event(i, "ok", ids=ids, **rows)

    # deletes
    def do_deletes(self, ops: list[dict[str, Any]]) -> None:
        todo = []
        for o in ops:
            rid = int(o["record_id"])
            if str(rid) in self.conflicted:
                self.event(o["i"], "conflict", record_id=rid, error=self.conflicted[str(rid)])
                self.bar.update(1)
            else:
                todo.append(o)
        for start in range(0, len(todo), BATCH):
            chunk = todo[start : start + BATCH]
            for o in chunk:
                self.event(o["i"], "sending")
            ids = [int(o["record_id"]) for o in chunk]
            try:
                self.sender.delete(ids)
            except OntraportError as exc:
                try:  # the answer may have been lost: the records that are gone are deleted
                    still = set(self.sender.read(ids, ["id"]))
                except OntraportError:
                    still = set(ids)
                for o in chunk:
                    rid = int(o["record_id"])
                    if rid in still:
                        self.event(o["i"], "failed", error=_error_text(exc))
                    else:
                        self.event(o["i"], "ok", record_id=rid, verified=True)
            else:
                for o in chunk:
                    self.event(o["i"], "ok", record_id=int(o["record_id"]))
            self.bar.update(len(chunk))


def _why_rows(rows: dict[str, list[Any]]) -> str:
    parts = []
    if rows["failed_rows"]:
        parts.append(f"the create of row(s) {rows['failed_rows']} failed or is unknown")
    if rows["conflict_rows"]:
        parts.append(f"record(s) {rows['conflict_rows']} conflicted")
    return "; ".join(parts)


def _is_id(label: Any) -> bool:
    from .validation import is_record_id

    return is_record_id(label)


IN_FLIGHT = (
    "the push stopped while this operation was in flight; op.resume(journal) checks it and finishes it"
)


def _result(plan: Plan, state: JournalState | None, **extra: Any) -> PushResult:
    columns = ["op", "record_id", "row", "kind", "status", "fields", "error"]
    rows: list[dict[str, Any]] = []
    if state is None:
        frame = pd.DataFrame(rows, columns=columns)
        frame["record_id"] = frame["record_id"].astype("Int64")
        return PushResult(frame, None, plan, **extra)
    created = {**state.carried.created, **state.created_ids()}
    for o in state.ops:
        ev = state.events.get(o["i"], {})
        status = ev.get("status", "skipped")
        error = ev.get("error")
        if status == "sending":
            status = "unknown" if o["kind"] == "create" else "failed"
            error = IN_FLIGHT
        if o["kind"] in GROUP_KINDS:
            label = o["tag"] if o["kind"] in ("add_tags", "remove_tags") else o.get("item")
            conflict_rows = {str(r) for r in ev.get("conflict_rows", ev.get("skipped_rows", []))}
            failed_rows = {str(r) for r in ev.get("failed_rows", [])}
            for r in o["rows"]:
                rid = int(r) if _is_id(r) else created.get(str(r))
                st, err = status, error
                if str(r) in conflict_rows:
                    st, err = "conflict", "the record conflicted (modified or deleted since the load)"
                elif str(r) in failed_rows:
                    st, err = "failed", "its record was not created (the create failed or is unknown)"
                rows.append(
                    {
                        "op": o["i"],
                        "record_id": rid,
                        "row": r,
                        "kind": o["kind"],
                        "status": st,
                        "fields": [label],
                        "error": err,
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
    frame = pd.DataFrame(rows, columns=columns)
    frame["record_id"] = frame["record_id"].astype("Int64")
    return PushResult(frame, Path(state.path), plan, **extra)


def _plan_from_state(op: Ontraport, state: JournalState) -> Plan:
    otype = op.session.resolve(state.header["object_type_id"])
    ops = [Operation.from_json(o) for o in state.ops]
    return Plan(
        op,
        otype,
        ops,
        loaded_at=state.header.get("loaded_at"),
        on_conflict=state.header.get("on_conflict", "skip"),
        carried=state.carried,
    )


def resume(
    op: Ontraport,
    journal: str | os.PathLike[str],
    *,
    progress: bool | None = None,
    force: bool = False,
    retry_unknown: bool = False,
) -> PushResult:
    """Finish a push that stopped part-way, without sending anything twice.

    Operations that finished are left alone; operations that were in flight when the
    push stopped are checked against the API first (an update whose values are
    already stored, a create whose record exists) and sent only when needed; a create
    that may have been applied and is still not found stays ``unknown`` unless
    ``retry_unknown=True``. Updates and deletes still to send are checked for conflicts
    as the push would have (records modified since the load, not by this push, are
    ``conflict`` unless the push was applied with ``on_conflict="overwrite"``).

    Raises
    ------
    JournalLocked
        Another process is pushing, resuming or undoing this journal.
    JournalDamaged
        The journal is damaged beyond a torn last line.
    JournalMismatch
        The journal was written for another account or connection (``force=True`` overrides).
    """
    j = _open_locked(journal, "resume")
    try:
        state = read_journal(journal)
        _check_same_account(op, state, force=force, doing="resume")
        otype = op.session.resolve(state.header["object_type_id"])
        sender = _Sender(op, otype)
        run = _Run(op, otype, j, state, progress=progress, retry_unknown=retry_unknown)
        # In-flight updates and deletes: already applied?
        for o in list(state.unfinished()):
            if state.status(o["i"]) != "sending":
                continue
            if o["kind"] == "update":
                current = sender.read([int(o["record_id"])], o["fields"]).get(int(o["record_id"]))
                if current is not None and all(
                    sender.same(k, current.get(k), v) for k, v in o["fields"].items()
                ):
                    run.event(
                        o["i"], "ok", record_id=int(o["record_id"]), fields=sorted(o["fields"]), verified=True
                    )
            if o["kind"] == "delete":
                if not sender.read([int(o["record_id"])], ["id"]):
                    run.event(o["i"], "ok", record_id=int(o["record_id"]), verified=True)
        # The rest is checked for conflicts like a push: against the load, and against what
        # this push itself already wrote (its journal).
        run.carried = state.carried.then(state)
        todo = [Operation.from_json(o) for o in state.unfinished() if o["kind"] in ("update", "delete")]
        if todo:
            pending = Plan(op, otype, todo, loaded_at=state.header.get("loaded_at"))
            run.check_conflicts(pending, str(state.header.get("on_conflict") or "skip"))
        run.execute()
    finally:
        j.close()
        op.session.forget_lookups()
    return _result(_plan_from_state(op, state), read_journal(journal))


def undo(
    op: Ontraport,
    journal: str | os.PathLike[str],
    *,
    progress: bool | None = None,
    journal_dir: str | None = None,
    force: bool = False,
) -> PushResult:
    """Restore the before-images of what a push applied; returns the undo's own result.

    Updates get their previous values back; created records are deleted (or, for a
    create that updated an existing contact, that contact's previous values are put
    back); the tags of every record whose tags changed are put back as they were, in
    their order, and tags the push created by name are deleted when no record uses
    them any more; records that joined a sequence or automation leave it, and records
    that left one join it again (for a call that failed or was cut off, only the records
    whose membership shows it was applied); deleted records are created again from their before-image. Those
    get new ids: the result's ``restored_ids`` maps old -> new, and a warning says that
    references to the old ids (in other records, automations, links) are not restored.

    Raises
    ------
    JournalLocked, JournalDamaged, JournalMismatch
        As for :func:`resume`; nothing is sent.
    """
    source = _open_locked(journal, "undo")
    try:
        state = read_journal(journal)
        _check_same_account(op, state, force=force, doing="undo")
        return _undo(op, state, progress=progress, journal_dir=journal_dir or str(Path(journal).parent))
    finally:
        source.close()


def _member_changed(op: Ontraport, otype: ObjectType, o: dict[str, Any], ids: list[int]) -> list[int]:
    """Of the records a subscribe / unsubscribe that failed or was cut off was sent for, the ones
    whose membership shows it was applied (joined for a subscribe, not a member for an unsubscribe).

    Records that cannot be read are left out (with a warning): undo sends no call it cannot
    justify, since subscribing a record again may restart its sequence."""
    from .schema import parse_list_wire

    column = o.get("column") or ("updateSequence" if o.get("sub_type") == "sequence" else "updateCampaign")
    try:
        current = _Sender(op, otype).read(ids, [column])
    except OntraportError as exc:
        logger.warning(
            "undo could not read %s of %d record(s) to see whether %s %s was applied (%s); left as they are",
            column,
            len(ids),
            o["kind"],
            o.get("item"),
            exc,
        )
        return []
    item = str(o.get("item_id"))
    joined = o["kind"] == "subscribe"
    return [
        rid for rid in ids if rid in current and (item in parse_list_wire(current[rid].get(column))) == joined
    ]


def _undo(op: Ontraport, state: JournalState, *, progress: bool | None, journal_dir: str) -> PushResult:
    otype = op.session.resolve(state.header["object_type_id"])
    updates: dict[int, dict[str, Any]] = {}
    deletes: list[int] = []
    restores: list[dict[str, Any]] = []
    tag_ops: list[tuple[str, str, list[int]]] = []
    member_ops: list[tuple[dict[str, Any], list[int]]] = []
    new_tags: list[str] = []
    tag_field = _tag_field(op, otype) if state.tags_before else None
    for o in reversed(state.ops):
        ev = state.events.get(o["i"], {})
        status = ev.get("status")
        kind = o["kind"]
        if kind in MEMBER_KINDS:
            ids = [int(x) for x in ev.get("ids", [])]
            if status not in ("ok", "failed", "sending") or not ids:
                continue
            if status != "ok":  # it may have been applied: undo what the records show was done
                ids = _member_changed(op, otype, o, ids)
            if ids:
                member_ops.append((o, ids))
            continue
        if kind in ("add_tags", "remove_tags"):
            ids = [int(x) for x in ev.get("ids", [])]
            if status not in ("ok", "failed", "sending") or not ids:
                continue  # a tag call that failed may still have been applied: put the tags back anyway
            if kind == "add_tags" and ev.get("new_tag") and status == "ok":
                new_tags.append(str(o["tag"]))
            rest = []
            for rid in ids:
                if tag_field is not None and rid in state.tags_before:
                    updates.setdefault(rid, {})[tag_field] = state.tags_before[rid]
                else:
                    rest.append(rid)
            if rest and status == "ok":
                tag_ops.append(("remove_tags" if kind == "add_tags" else "add_tags", str(o["tag"]), rest))
            continue
        if status != "ok":
            continue
        if kind == "update":
            updates.setdefault(int(o["record_id"]), {}).update(dict(o.get("before") or {}))
        elif kind == "create":
            if ev.get("earlier"):
                continue  # created by an earlier push: undo that one to remove it
            if o.get("match_id") is not None or ev.get("matched"):
                updates.setdefault(int(ev["record_id"]), {}).update(dict(o.get("before") or {}))
            else:
                deletes.append(int(ev["record_id"]))
        elif kind == "delete":
            before = {
                k: v
                for k, v in (o.get("before") or {}).items()
                if k not in ("id", "date", "dlm", "dla", "unique_id") and v is not None
            }
            restores.append({"old": int(o["record_id"]), "fields": before})
    open_creates = [
        o["row"]
        for o in state.ops
        if o["kind"] == "create"
        and (
            state.status(o["i"]) in ("sending", "unknown")
            or (state.torn and state.status(o["i"]) == "planned")
        )
    ]
    if open_creates:
        warnings.warn(
            f"{len(open_creates)} create(s) of this push have no known outcome (rows "
            f"{open_creates[:10]}); undo cannot delete what it does not know was created. "
            "op.resume(journal) looks them up and records them, then undo again.",
            OntraportWarning,
            stacklevel=4,
        )
    created = set(deletes)
    ops: list[Operation] = []
    for rid, fields in updates.items():
        if rid not in created and fields:
            ops.append(Operation(len(ops), "update", rid, record_id=rid, fields=fields))
    for kind, tag, ids in tag_ops:
        keep = [i for i in ids if i not in created]
        if keep:
            ops.append(Operation(len(ops), kind, None, tag=tag, rows=keep))  # type: ignore[arg-type]
    for o, ids in member_ops:
        keep = [i for i in ids if i not in created]
        if keep:
            ops.append(
                Operation(
                    len(ops),
                    "unsubscribe" if o["kind"] == "subscribe" else "subscribe",
                    None,
                    rows=keep,
                    sub_type=o.get("sub_type"),
                    item_id=o.get("item_id"),
                    item=o.get("item"),
                    column=o.get("column"),
                )
            )
    for rid in deletes:
        ops.append(Operation(len(ops), "delete", rid, record_id=rid))
    for r in restores:
        if r["fields"]:
            ops.append(Operation(len(ops), "create", f"restored-{r['old']}", fields=r["fields"]))
    plan = Plan(op, otype, ops)
    result = apply_plan(
        plan,
        confirm=plan.confirm_required,
        on_conflict="overwrite",
        progress=progress,
        journal_dir=journal_dir,
    )
    restored = {
        int(str(row)[len("restored-") :]): rid
        for row, rid in result.created_ids().items()
        if str(row).startswith("restored-")
    }
    deleted_tags: list[str] = []
    sender = _Sender(op, otype)
    for name in dict.fromkeys(new_tags):
        try:
            if sender.tag_use(name) == 0 and sender.delete_tag(name):
                deleted_tags.append(name)
        except OntraportError as exc:
            logger.warning("could not delete the tag %r that the push created: %s", name, exc)
    if deleted_tags:
        op.session.forget_lookups()
    if restored:
        warnings.warn(
            f"Undo re-created {len(restored)} deleted record(s) with new ids "
            f"({', '.join(f'{a} -> {b}' for a, b in list(restored.items())[:10])}"
            f"{' …' if len(restored) > 10 else ''}); references to the old ids (in other records, "
            "automations, links) are not restored. result.restored_ids has the full map.",
            OntraportWarning,
            stacklevel=3,
        )
    return dataclasses.replace(result, restored_ids=restored, deleted_tags=tuple(deleted_tags))
