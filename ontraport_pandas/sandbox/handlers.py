"""The endpoints: reads, writes, tags, meta and look-ups over the store.

Each handler takes the object type and the request parameters and returns a
:class:`Reply` (the ``data`` of the envelope plus any extra top-level keys) or raises
:class:`~ontraport_pandas.sandbox.wire.ApiError`. Behaviour follows ``ontraport-api.md``
§2, §6, §7, §10; where the doc is unsure:

- Access: a verb the type does not allow is 403 ``This object type does not allow this
  action.`` (the real text is unknown). ``meta`` is always readable. saveorupdate needs
  PUT when it matches and POST when it creates; tag and subscription actions need PUT.
- Bad parameters (``start``/``range``/``ids``/``id`` not 64-bit integers, negative ``start``,
  unknown ``sort`` field, unknown ``group_id``, a tag action with no ``ids``/criteria, an
  action on a type without the field) are 400 ``Invalid query``. ``range`` below 1 means
  the default (50); above ``range_max`` it is clamped.
- Bulk deletes and actions (tags, sequences, subscriptions, pause, task and transaction
  actions) take the collection parameters (``ontraport-api.md`` §7, the SDK's lists): an
  explicit ``start`` and/or ``range`` narrows the selection to that page (``range`` clamped
  like a read, ``sort``/``sortDir`` or the default order deciding which records it holds),
  exactly the records a GET with the same parameters shows; without them every selected
  record is acted on (no criteria on a bulk delete: every record).
- ``ids=0`` (or a list containing 0) means every record. Without ``sort`` the order is
  ``id`` per ``default_order``; a sort always ends with ``id`` in the same direction, so
  pages are stable. ``listFields`` keeps the requested order; an id is returned only when
  asked for; unknown names follow ``unknown_list_fields``; if none is left, all fields.
- Single reads and ``DELETE <Singular>`` of an id that does not exist: 404
  ``Object not found``; without an id: 400 ``Invalid query``.
- Create: unknown and read-only fields are ignored; missing required fields give 400
  ``Missing required field(s): a, b``. The reply echoes the accepted fields exactly as sent,
  then ``id``, ``owner``, ``date``, ``dlm``, ``dla`` and ``unique_id`` where the type has them.
- Update: a required field sent blank (``""``, blanks, ``null``) is 400 ``Missing required
  field(s): …``, nothing written; ``id`` (or the type's id key) wins over ``unique_id``; a missing or unknown id is
  400 ``Object not found``. ``dlm`` moves only when a stored value changed (see
  ``dlm_on_unchanged``); the reply's ``dlm`` is then the stored one.
- An update may set ``bulk_mail`` / ``bulk_sms`` only to ``0``; another value is ignored
  or refused per ``opt_in_updates`` (a create may set any state).
- saveorupdate: ``unique_id`` first, then the type's match field (contacts: ``email``,
  compared per ``email_match``); of several matches the oldest (lowest id) wins.
- Tag, sequence and subscription actions need their list (``add_list`` / ``remove_list``,
  ``add_names`` / ``remove_names``; the SDK's required parameters): missing or empty, the
  action is 400 ``Invalid query`` and nothing changes. Ids in the list that do not exist
  (and names to remove that match no tag) are ignored.
- ``objects/tagByName`` takes ``ids`` only as an array (a JSON array or PHP bracket keys
  ``ids[0]=…``; ``ontraport-api.md`` §10, the .NET client's changelog): a comma string or a
  single number is 400 ``Invalid query``, where ``objects/tag`` takes all three.
- Tags: names are unique per object type (compared per ``text_collation``); a duplicate
  ``POST Tags`` (or a rename onto an existing name) is 400 ``Tag already exists``. Tag ids
  that do not exist for the type are ignored by ``objects/tag``; new tags are appended to
  ``contact_cat`` in the order given. Deleting a tag removes it from every record.
- ``meta`` is keyed by type id (``format=byId``, the default) or, with
  ``format=byName``, by the type's meta name (``"Contact"``, ``"Invoice"``); each entry is
  the same ``{"name", "fields"}``. Another ``format`` is 400 ``Invalid query``.
- ``GET objects/tag`` with ``count=true`` answers ``{"count": "N"}`` as ``data``.
- A single Form (``GET Form?id=``) carries ``form_id``, ``date``, ``dlm`` and
  ``object_type_id`` as integers and ``"deleted":"false"``, as Ontraport's fixtures show;
  Form lists keep strings.
- ``POST message`` answers ``{"id": <int>, "date": "<created>"}``; ``PUT message``
  answers ``{"id": "<id>", "date": "<created>"}`` (the id as a string).
- A message's ``type`` must be ``email``, ``template``, ``sms`` or ``task`` (the SDK's list;
  any case, and ``e-mail``); it is stored as the label messages are listed with
  (``e-mail``, ``Template``, ``sms``, ``Task``). Another value is 400 ``Invalid message
  type`` (the real text is unknown) on every message write, before anything is stored.
- Contact create replies (``POST Contacts``, a saveorupdate that created) end with
  ``"use_utm_names": "false"`` (``"true"`` when the request set it).
- ``use_utm_names`` (``1``/``true``) on a create, update or saveorupdate lets the tracking
  fields (``n_*``/``l_*``, parents of types 75-79) take names: a name is matched to the
  tracking record of that name (trimmed, per ``text_collation``; the oldest of several) and a
  name not yet known makes a new record, as the UTM variables of a form would. A number is
  still an id. Without the flag a name is not a number and stores ``"0"``.
- ``object/getByEmail`` works for types with an ``email`` field (contacts, users);
  several matches answer the oldest id (``all=1`` lists them all).
"""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .conditions import InvalidQuery, compile_condition, compile_search
from .config import SandboxConfig
from .demo_catalog import unique_code
from .externs import add_externs
from .model import TYPES, TYPES_BY_ID, Field, ObjectType
from .store import Store
from .values import InvalidEmail, as_text, is_truthy, join_ids, split_ids, to_stored
from .wire import ApiError

__all__ = ["Api", "NO_DATA", "Reply"]

NOT_FOUND = "Object not found"
DENIED = "This object type does not allow this action."
TAG_REPLY = "The tag is now being processed."
SUB_REPLY = "The subscription is now being processed."

#: Parameters that steer a write and are never stored as fields.
CONTROL = frozenset(
    {
        "objectID",
        "id",
        "unique_id",
        "ignore_blanks",
        "update_by",
        "use_utm_names",
        "force_sms_opt_out",
        "background_request",
    }
)
NO_DATA = object()

#: Opt-in states an update may only set to 0 (see ``SandboxConfig.opt_in_updates``).
OPT_IN_FIELDS = ("bulk_mail", "bulk_sms")
MESSAGE_TYPE = 7
#: Tracking types (campaign, lead source, medium, content, term) ``use_utm_names`` resolves names in.
TRACKING_TYPES = frozenset({75, 76, 77, 78, 79})
OFFER_TYPE = 65
#: Message kinds a write may name (the SDK: "template", "email", "sms" or "task"), in any case,
#: and the label each is stored and listed under; ``e-mail`` (the listed label) is taken too.
MESSAGE_KINDS = {"email": "e-mail", "e-mail": "e-mail", "template": "Template", "sms": "sms", "task": "Task"}


@dataclass
class Reply:
    data: Any = NO_DATA
    extra: dict[str, Any] = field(default_factory=dict)


def _int(value: object) -> int:
    try:
        if isinstance(value, bool):
            raise ValueError
        if isinstance(value, float) and value.is_integer():
            return int(value)
        number = int(str(value).strip())
    except ValueError:
        raise InvalidQuery(f"not an integer: {value!r}") from None
    if not -(2**63) <= number < 2**63:
        raise InvalidQuery(f"integer out of range: {value!r}")
    return number


def _id_list(value: object) -> list[int] | None:
    """``ids`` as integers; ``None`` when absent; ``[]`` means every record."""
    if value is None or value == "" or value == []:
        return None
    items = value if isinstance(value, list) else str(value).split(",") if isinstance(value, str) else [value]
    ids = [_int(v) for v in items if str(v).strip() != ""]
    if not ids or 0 in ids:
        return []
    return list(dict.fromkeys(ids))


FORM_TYPE = 122
#: A single Form read carries these as integers (``ontraport-api.md`` §2, Ontraport's fixtures).
FORM_INT_FIELDS = ("form_id", "date", "dlm", "object_type_id")


def _single_form(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for name in FORM_INT_FIELDS:
        value = out.get(name)
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            out[name] = int(value)
    out["deleted"] = "false"
    return out


def _offer_data(value: object) -> bool:
    """Whether ``value`` is an offer's ``data``: a JSON object in a string."""
    if not isinstance(value, str):
        return False
    try:
        return isinstance(json.loads(value), dict)
    except ValueError:
        return False


def _names(value: object) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else str(value).split(",")
    return [n for n in (as_text(v).strip() for v in items) if n]


class Api:
    """Endpoint handlers bound to one store and configuration."""

    def __init__(self, store: Store, config: SandboxConfig, access: Mapping[int, frozenset[str]]) -> None:
        self.store = store
        self.config = config
        self.access = access

    # ------------------------------------------------------------------ helpers

    def now(self) -> str:
        return str(int(self.config.clock()))

    def need(self, otype: ObjectType, verb: str) -> None:
        if verb not in self.access.get(otype.id, frozenset()):
            raise ApiError(403, DENIED)

    def _nocase(self) -> bool:
        return self.config.text_collation == "nocase"

    def selection(
        self,
        conn: sqlite3.Connection,
        otype: ObjectType,
        params: Mapping[str, Any],
        *,
        action: bool = False,
        paged: bool = False,
    ) -> tuple[str, list[Any]]:
        """WHERE clause from ``ids``, ``condition``, ``search`` and ``group_id``.

        For an action (and, with ``paged``, a bulk delete) an explicit ``start`` or ``range``
        narrows the selection to that page, in the order ``sort``/``sortDir`` give.
        """
        clauses: list[str] = []
        args: list[Any] = []
        criteria = False
        ids = _id_list(params.get("ids"))
        if ids is not None:
            criteria = True
            if ids:
                clauses.append("t.id IN (SELECT value FROM json_each(?))")
                args.append(json.dumps(ids))
        condition = params.get("condition")
        if condition not in (None, ""):
            text = condition if isinstance(condition, str) else json.dumps(condition)
            sql, values = compile_condition(
                text, otype, collation=self.config.text_collation, order=self.config.condition_order
            )
            if sql:
                clauses.append(sql)
                args += values
            criteria = True
        search = params.get("search")
        if isinstance(search, str) and search.strip():
            sql, values = compile_search(search, otype, notes=is_truthy(params.get("searchNotes")))
            if sql:
                clauses.append(sql)
                args += values
            criteria = True
        group = params.get("group_id", params.get("group_ids"))
        if isinstance(group, list):
            group = group[0] if group else None
        if group not in (None, ""):
            criteria = True
            group_id = _int(group)
            if group_id:
                row = conn.execute(
                    'SELECT "criteria", "object_type_id" FROM o_3 WHERE id = ?', (group_id,)
                ).fetchone()
                if row is None or str(row[1]) != str(otype.id):
                    raise InvalidQuery(f"no group {group_id} for this object type")
                sql, values = compile_condition(
                    row[0] or "",
                    otype,
                    collation=self.config.text_collation,
                    order=self.config.condition_order,
                )
                if sql:
                    clauses.append(sql)
                    args += values
        if is_truthy(params.get("performAll")):
            criteria = True
        if action and not criteria:
            raise InvalidQuery("an action needs ids, a group or criteria")
        where = " AND ".join(clauses)
        if (action or paged) and any(params.get(k) not in (None, "") for k in ("start", "range")):
            return self._page_of(conn, otype, params, where, args)
        return where, args

    def _page_of(
        self,
        conn: sqlite3.Connection,
        otype: ObjectType,
        params: Mapping[str, Any],
        where: str,
        args: list[Any],
    ) -> tuple[str, list[Any]]:
        """The ids of one page of the selection (an action's ``start``/``range``) as a WHERE clause."""
        start = _int(params.get("start") or 0)
        if start < 0:
            raise InvalidQuery("negative start")
        ids = Store.ids(conn, otype, where, args, self.order(otype, params))[start:]
        if params.get("range") not in (None, ""):
            ids = ids[: self.page(params)[1]]
        return "t.id IN (SELECT value FROM json_each(?))", [json.dumps(ids)]

    def order(self, otype: ObjectType, params: Mapping[str, Any]) -> str:
        sort = params.get("sort")
        if sort in (None, ""):
            return "t.id DESC" if self.config.default_order == "desc" else "t.id ASC"
        name = as_text(sort).strip()
        column = otype.column(name)
        if column is None:
            raise InvalidQuery(f"unknown sort field {name!r}")
        direction = "DESC" if as_text(params.get("sortDir", "")).strip().lower() == "desc" else "ASC"
        if column == "t.id":
            return f"t.id {direction}"
        if otype.is_numeric(name):
            expr = f"CAST({column} AS REAL)"
        elif self._nocase():
            expr = f"{column} COLLATE NOCASE"
        else:
            expr = column
        return f"{expr} {direction}, t.id {direction}"

    def page(self, params: Mapping[str, Any]) -> tuple[int, int]:
        start = _int(params.get("start") or 0)
        if start < 0:
            raise InvalidQuery("negative start")
        size = _int(params.get("range") or 0)
        if size < 1:
            size = 50
        return start, min(size, self.config.range_max)

    def keys(self, otype: ObjectType, params: Mapping[str, Any]) -> list[str]:
        names = _names(params.get("listFields"))
        out: list[str] = []
        for name in names:
            if otype.column(name) is None:
                if self.config.unknown_list_fields == "error":
                    raise InvalidQuery(f"unknown field {name!r}")
                continue
            if name not in out:
                out.append(name)
        return out or otype.record_keys()

    def prepare(
        self, otype: ObjectType, params: Mapping[str, Any], *, skip_blank: bool = False
    ) -> tuple[dict[str, str | None], dict[str, Any]]:
        """Stored values and the as-sent echo of the writable fields in ``params``."""
        values: dict[str, str | None] = {}
        echo: dict[str, Any] = {}
        for name, raw in params.items():
            if name in CONTROL:
                continue
            f = otype.field(name)
            if f is None or not f.editable:
                continue
            if skip_blank and isinstance(raw, str) and raw == "":
                continue
            if otype.id == OFFER_TYPE and name == "data" and not _offer_data(raw):
                raise ApiError(400, "Invalid offer data")
            if otype.id == MESSAGE_TYPE and name == "type":
                raw = MESSAGE_KINDS.get(as_text(raw).strip().lower()) if isinstance(raw, str) else None
                if raw is None:
                    raise ApiError(400, "Invalid message type")
            try:
                values[name] = to_stored(f, raw)
            except InvalidEmail:
                raise ApiError(422, "Invalid email address") from None
            echo[name] = raw
        return values, echo

    def record_id(self, otype: ObjectType, params: Mapping[str, Any]) -> int:
        value = params.get("id", params.get(otype.id_key))
        if value in (None, ""):
            raise InvalidQuery("no id")
        return _int(value)

    # ------------------------------------------------------------------ reads

    def get_one(self, otype: ObjectType, params: Mapping[str, Any]) -> Reply:
        self.need(otype, "GET")
        record_id = self.record_id(otype, params)
        with self.store.read() as conn:
            row = Store.get(conn, otype, record_id)
        if row is None:
            raise ApiError(404, NOT_FOUND)
        if otype.id == FORM_TYPE:
            row = _single_form(row)
        return Reply(row)

    def collection(
        self,
        otype: ObjectType,
        params: Mapping[str, Any],
        *,
        extra_where: tuple[str, list[Any]] | None = None,
    ) -> Reply:
        self.need(otype, "GET")
        keys = self.keys(otype, params)
        order = self.order(otype, params)
        start, size = self.page(params)
        with self.store.read() as conn:
            where, args = self.selection(conn, otype, params)
            if extra_where is not None:
                where = " AND ".join(w for w in (where, extra_where[0]) if w)
                args = args + extra_where[1]
            rows = self.store.select_page(conn, otype, keys, where, args, order, size, start)
            if params.get("externs") not in (None, ""):
                if otype.id_key not in keys:
                    ids = self.store.select_page(conn, otype, [otype.id_key], where, args, order, size, start)
                    for row, key in zip(rows, ids, strict=True):
                        row[otype.id_key] = key[otype.id_key]
                    add_externs(conn, otype, rows, params)
                    for row in rows:
                        del row[otype.id_key]
                else:
                    add_externs(conn, otype, rows, params)
            reply = Reply(rows, {"misc": []})
            if is_truthy(params.get("count")):
                reply.extra["count"] = str(Store.count(conn, otype, where, args))
        return reply

    def get_info(self, otype: ObjectType, params: Mapping[str, Any]) -> Reply:
        self.need(otype, "GET")
        with self.store.read() as conn:
            where, args = self.selection(conn, otype, params)
            count = Store.count(conn, otype, where, args)
            data: dict[str, Any] = {
                "listFields": list(otype.info_fields),
                "listFieldSettings": [],
                "cardViewSettings": [],
                "viewMode": [],
                "count": str(count),
            }
            if otype.has("total"):
                sql = f'SELECT SUM(CAST(t."total" AS REAL)) FROM {otype.table} AS t' + (
                    f" WHERE {where}" if where else ""
                )
                total = round(float(conn.execute(sql, args).fetchone()[0] or 0.0), 2)
                data["sums"] = {"total": int(total) if total.is_integer() else total}
        return Reply(data)

    def meta(self, otype: ObjectType | None, params: Mapping[str, Any]) -> Reply:
        types = [otype] if otype is not None else list(TYPES)
        fmt = as_text(params.get("format") or "byId").strip()
        if fmt not in ("byId", "byName"):
            raise InvalidQuery("format must be byId or byName")
        by_name = fmt == "byName"
        data: dict[str, Any] = {}
        for t in types:
            id_meta = Field(t.id_key, "ID", "numeric", editable=False).meta()
            fields = {t.id_key: id_meta, **{f.name: f.meta() for f in t.fields}}
            data[t.name if by_name else str(t.id)] = {"name": t.name, "fields": fields}
        return Reply(data)

    def get_by_email(self, otype: ObjectType, params: Mapping[str, Any]) -> Reply:
        self.need(otype, "GET")
        email = params.get("email")
        if not otype.has("email") or email in (None, ""):
            raise InvalidQuery("getByEmail needs an email and a type with an email field")
        with self.store.read() as conn:
            ids = self._email_ids(conn, otype, as_text(email))
        if not ids:
            raise ApiError(404, NOT_FOUND)
        if is_truthy(params.get("all")):
            return Reply({"ids": [str(i) for i in ids]})
        return Reply({"id": str(ids[0])})

    def _email_ids(self, conn: sqlite3.Connection, otype: ObjectType, email: str) -> list[int]:
        if self.config.email_match == "exact":
            return Store.ids(conn, otype, 't."email" = ?', [email])
        return Store.ids(conn, otype, 'lower(trim(t."email")) = lower(trim(?))', [email])

    # ------------------------------------------------------------------ writes

    def _tag_conflict(
        self, conn: sqlite3.Connection, name: str | None, type_id: str | None, exclude: int = 0
    ) -> None:
        collate = " COLLATE NOCASE" if self._nocase() else ""
        row = conn.execute(
            f'SELECT id FROM o_14 WHERE "object_type_id" = ? AND trim("tag_name") = trim(?){collate} AND id <> ?',
            (type_id or "0", name or "", exclude),
        ).fetchone()
        if row is not None:
            raise ApiError(400, "Tag already exists")

    def _new_code(self, conn: sqlite3.Connection, otype: ObjectType, record_id: int) -> str:
        rng = random.Random(f"{self.config.seed}:unique_id:{otype.id}:{record_id}")
        while True:
            code = unique_code(rng)
            if conn.execute(f'SELECT 1 FROM {otype.table} WHERE "unique_id" = ?', (code,)).fetchone() is None:
                return code

    def _insert(
        self, conn: sqlite3.Connection, otype: ObjectType, values: Mapping[str, str | None]
    ) -> dict[str, Any]:
        missing = [f.name for f in otype.fields if f.required and not (values.get(f.name) or "").strip()]
        if missing:
            raise ApiError(400, f"Missing required field(s): {', '.join(missing)}")
        if otype.id == 14:
            self._tag_conflict(conn, values.get("tag_name"), values.get("object_type_id"))
        now = self.now()
        row = dict(values)
        for name in ("date", "dlm"):
            if otype.has(name):
                row[name] = now
        record_id = Store.insert(conn, otype, row)
        system: dict[str, Any] = {otype.id_key: str(record_id)}
        if otype.has("owner"):
            system["owner"] = row.get("owner") or "1"
        for name in ("date", "dlm"):
            if otype.has(name):
                system[name] = now
        if otype.has("dla"):
            system["dla"] = "0"
        if otype.has_unique_id:
            code = self._new_code(conn, otype, record_id)
            Store.update(conn, otype, record_id, {"unique_id": code})
            system["unique_id"] = code
        return system

    def _utm_names(
        self,
        conn: sqlite3.Connection,
        otype: ObjectType,
        params: Mapping[str, Any],
        values: dict[str, str | None],
    ) -> None:
        """``use_utm_names``: a name in a tracking field becomes the id of that record (made when new)."""
        if not is_truthy(params.get("use_utm_names")):
            return
        collate = " COLLATE NOCASE" if self._nocase() else ""
        for name, raw in params.items():
            f = otype.field(name)
            if (
                f is None
                or f.parent_object not in TRACKING_TYPES
                or name not in values
                or not isinstance(raw, str)
            ):
                continue
            text = raw.strip()
            if not text or text.lstrip("-").isdigit():  # blank, or already an id
                continue
            target = TYPES_BY_ID[f.parent_object]
            row = conn.execute(
                f'SELECT id FROM {target.table} WHERE trim("name") = ?{collate} ORDER BY id LIMIT 1', (text,)
            ).fetchone()
            values[name] = str(row[0] if row else Store.insert(conn, target, {"name": text}))

    def create(self, otype: ObjectType, params: Mapping[str, Any]) -> Reply:
        self.need(otype, "POST")
        values, echo = self.prepare(otype, params)
        with self.store.write() as conn:
            self._utm_names(conn, otype, params, values)
            system = self._insert(conn, otype, values)
        return Reply(self._created(otype, params, echo, system))

    def _created(
        self, otype: ObjectType, params: Mapping[str, Any], echo: Mapping[str, Any], system: Mapping[str, Any]
    ) -> dict[str, Any]:
        """A create reply: the fields as sent, then the system fields (contacts: ``use_utm_names``)."""
        data = dict(echo)
        for key, value in system.items():
            data.setdefault(key, value)
        data[otype.id_key] = system[otype.id_key]
        if otype.id == 0:
            data["use_utm_names"] = "true" if is_truthy(params.get("use_utm_names")) else "false"
        return data

    def _apply_update(
        self, conn: sqlite3.Connection, otype: ObjectType, record_id: int, values: Mapping[str, str | None]
    ) -> dict[str, Any]:
        row = Store.get(conn, otype, record_id)
        if row is None:
            raise ApiError(400, NOT_FOUND)
        blanked = [
            f.name
            for f in otype.fields
            if f.required and f.name in values and not (values[f.name] or "").strip()
        ]
        if blanked:
            raise ApiError(400, f"Missing required field(s): {', '.join(blanked)}")
        changed = {k: v for k, v in values.items() if row.get(k) != v}
        for name in OPT_IN_FIELDS:
            if changed.get(name, "0") != "0":
                if self.config.opt_in_updates == "error":
                    raise ApiError(400, f"{name} can only be set to 0 through the API")
                del changed[name]
        if otype.id == 14 and ("tag_name" in changed or "object_type_id" in changed):
            self._tag_conflict(
                conn,
                values.get("tag_name", row.get("tag_name")),
                values.get("object_type_id", row.get("object_type_id")),
                record_id,
            )
        stamp: dict[str, str | None] = {}
        if otype.has("dlm") and (changed or self.config.dlm_on_unchanged):
            stamp["dlm"] = self.now()
        Store.update(conn, otype, record_id, {**changed, **stamp})
        attrs: dict[str, Any] = dict(changed)
        if otype.has("dlm"):
            attrs["dlm"] = stamp.get("dlm", row.get("dlm"))
        attrs["id"] = str(record_id)
        return attrs

    def _target(self, conn: sqlite3.Connection, otype: ObjectType, params: Mapping[str, Any]) -> int:
        value = params.get("id", params.get(otype.id_key))
        if value not in (None, ""):
            try:
                return _int(value)
            except InvalidQuery:
                raise ApiError(400, NOT_FOUND) from None
        found = self._by_unique_id(conn, otype, params.get("unique_id"))
        if found is None:
            raise ApiError(400, NOT_FOUND)
        return found

    def _by_unique_id(self, conn: sqlite3.Connection, otype: ObjectType, value: object) -> int | None:
        if not otype.has_unique_id or value in (None, ""):
            return None
        ids = Store.ids(conn, otype, 't."unique_id" = ?', [as_text(value).strip().upper()])
        return ids[0] if ids else None

    def update(self, otype: ObjectType, params: Mapping[str, Any]) -> Reply:
        self.need(otype, "PUT")
        values, _ = self.prepare(otype, params)
        with self.store.write() as conn:
            self._utm_names(conn, otype, params, values)
            attrs = self._apply_update(conn, otype, self._target(conn, otype, params), values)
        return Reply({"attrs": attrs})

    def save_or_update(self, otype: ObjectType, params: Mapping[str, Any]) -> Reply:
        values, echo = self.prepare(otype, params, skip_blank=is_truthy(params.get("ignore_blanks")))
        with self.store.write() as conn:
            self._utm_names(conn, otype, params, values)
            found = self._by_unique_id(conn, otype, params.get("unique_id"))
            match_value = params.get(otype.match_field) if otype.match_field else None
            if found is None and isinstance(match_value, str) and match_value.strip():
                ids = self._email_ids(conn, otype, match_value)
                found = ids[0] if ids else None
            if found is not None:
                self.need(otype, "PUT")
                return Reply({"attrs": self._apply_update(conn, otype, found, values)})
            self.need(otype, "POST")
            system = self._insert(conn, otype, values)
        return Reply(self._created(otype, params, echo, system))

    def message_create(self, otype: ObjectType, params: Mapping[str, Any]) -> Reply:
        reply = self.create(otype, params)
        return Reply({"id": int(reply.data["id"]), "date": reply.data["date"]})

    def message_update(self, otype: ObjectType, params: Mapping[str, Any]) -> Reply:
        if params.get("type") in (None, ""):
            raise ApiError(400, "Missing required field(s): type")
        self.need(otype, "PUT")
        values, _ = self.prepare(otype, params)
        with self.store.write() as conn:
            record_id = self._target(conn, otype, params)
            self._apply_update(conn, otype, record_id, values)
            row = Store.get(conn, otype, record_id) or {}
        return Reply({"id": str(record_id), "date": row.get("date")})

    # ------------------------------------------------------------------ deletes

    def _forget_tags(self, conn: sqlite3.Connection, tags: Iterable[tuple[int, str | None]]) -> None:
        """Remove deleted tags from the ``contact_cat`` of every record of their type."""
        for tag_id, type_id in tags:
            try:
                otype = TYPES_BY_ID[int(type_id or 0)]
            except (KeyError, ValueError):
                continue
            if otype.taggable:
                where = 't."contact_cat" LIKE ?'
                self._rewrite(conn, otype, "contact_cat", where, [f"%*/*{tag_id}*/*%"], remove=[str(tag_id)])

    def delete_one(self, otype: ObjectType, params: Mapping[str, Any]) -> Reply:
        self.need(otype, "DELETE")
        record_id = self.record_id(otype, params)
        with self.store.write() as conn:
            tags = self._tags_of(conn, otype, [record_id])
            if Store.delete_ids(conn, otype, [record_id]) == 0:
                raise ApiError(404, NOT_FOUND)
            self._forget_tags(conn, tags)
        return Reply()

    def delete_many(self, otype: ObjectType, params: Mapping[str, Any]) -> Reply:
        self.need(otype, "DELETE")
        with self.store.write() as conn:
            where, args = self.selection(conn, otype, params, paged=True)
            ids = Store.ids(conn, otype, where, args)
            tags = self._tags_of(conn, otype, ids)
            Store.delete_ids(conn, otype, ids)
            self._forget_tags(conn, tags)
        return Reply("Deleted")

    @staticmethod
    def _tags_of(conn: sqlite3.Connection, otype: ObjectType, ids: list[int]) -> list[tuple[int, str | None]]:
        if otype.id != 14 or not ids:
            return []
        rows = conn.execute(
            'SELECT id, "object_type_id" FROM o_14 WHERE id IN (SELECT value FROM json_each(?))',
            (json.dumps(ids),),
        )
        return [(int(r[0]), r[1]) for r in rows]

    # ------------------------------------------------------------------ tags and subscriptions

    def _rewrite(
        self,
        conn: sqlite3.Connection,
        otype: ObjectType,
        field_name: str,
        where: str,
        args: list[Any],
        *,
        add: Iterable[str] = (),
        remove: Iterable[str] = (),
    ) -> int:
        """Add/remove ids in a ``*/*``-list field of the selected records; bumps ``dlm``."""
        add, remove = list(add), set(remove)
        sql = f'SELECT t.id, t."{field_name}" FROM {otype.table} AS t' + (f" WHERE {where}" if where else "")
        now = self.now()
        stamp = ', "dlm" = ?' if otype.has("dlm") else ""
        changes = []
        for record_id, old in conn.execute(sql, args).fetchall():
            current = [i for i in split_ids(old) if i not in remove]
            current += [i for i in add if i not in current]
            new = join_ids(current)
            if new != (old or ""):
                changes.append((new, now, record_id) if stamp else (new, record_id))
        conn.executemany(f'UPDATE {otype.table} SET "{field_name}" = ?{stamp} WHERE id = ?', changes)
        return len(changes)

    def _valid_ids(
        self, conn: sqlite3.Connection, otype: ObjectType, field_name: str, ids: list[str]
    ) -> list[str]:
        if field_name == "contact_cat":
            rows = conn.execute('SELECT id FROM o_14 WHERE "object_type_id" = ?', (str(otype.id),))
        else:
            table = "o_5" if field_name == "updateSequence" else "o_140"
            rows = conn.execute(f"SELECT id FROM {table}")
        known = {str(r[0]) for r in rows}
        return [i for i in ids if i in known]

    def _subscription(
        self, otype: ObjectType, params: Mapping[str, Any], field_name: str, adding: bool, reply: str
    ) -> Reply:
        self.need(otype, "PUT")
        if not otype.has(field_name):
            raise InvalidQuery(f"{otype.name} has no {field_name}")
        items = split_ids(params.get("add_list" if adding else "remove_list"))
        if not items:
            raise InvalidQuery("add_list" if adding else "remove_list")
        with self.store.write() as conn:
            where, args = self.selection(conn, otype, params, action=True)
            items = self._valid_ids(conn, otype, field_name, items)
            if items:
                if adding:
                    self._rewrite(conn, otype, field_name, where, args, add=items)
                else:
                    self._rewrite(conn, otype, field_name, where, args, remove=items)
        return Reply(reply)

    def tag_add(self, otype: ObjectType, params: Mapping[str, Any]) -> Reply:
        return self._subscription(otype, params, "contact_cat", True, TAG_REPLY)

    def tag_remove(self, otype: ObjectType, params: Mapping[str, Any]) -> Reply:
        return self._subscription(otype, params, "contact_cat", False, TAG_REPLY)

    def _sub_field(self, params: Mapping[str, Any]) -> str:
        kind = as_text(params.get("sub_type") or "campaign").strip().lower()
        if kind not in ("campaign", "sequence"):
            raise InvalidQuery("sub_type must be campaign or sequence")
        return "updateSequence" if kind == "sequence" else "updateCampaign"

    def sequence_add(self, otype: ObjectType, params: Mapping[str, Any]) -> Reply:
        return self._subscription(otype, params, "updateSequence", True, SUB_REPLY)

    def sequence_remove(self, otype: ObjectType, params: Mapping[str, Any]) -> Reply:
        return self._subscription(otype, params, "updateSequence", False, SUB_REPLY)

    def subscribe(self, otype: ObjectType, params: Mapping[str, Any]) -> Reply:
        return self._subscription(otype, params, self._sub_field(params), True, SUB_REPLY)

    def unsubscribe(self, otype: ObjectType, params: Mapping[str, Any]) -> Reply:
        return self._subscription(otype, params, self._sub_field(params), False, SUB_REPLY)

    def _tags_by_name(self, conn: sqlite3.Connection, otype: ObjectType) -> dict[str, str]:
        rows = conn.execute(
            'SELECT id, "tag_name" FROM o_14 WHERE "object_type_id" = ? ORDER BY id', (str(otype.id),)
        )
        out: dict[str, str] = {}
        for tag_id, name in rows:
            out.setdefault(self._tag_key(name or ""), str(tag_id))
        return out

    def _tag_key(self, name: str) -> str:
        name = name.strip()
        return name.lower() if self._nocase() else name

    def tag_by_name(self, otype: ObjectType, params: Mapping[str, Any], adding: bool) -> Reply:
        self.need(otype, "PUT")
        if not otype.taggable:
            raise InvalidQuery(f"{otype.name} has no tags")
        names = _names(params.get("add_names" if adding else "remove_names"))
        if not names:
            raise InvalidQuery("add_names" if adding else "remove_names")
        if params.get("ids") not in (None, "") and not isinstance(params["ids"], list):
            raise InvalidQuery("objects/tagByName takes ids as an array")
        with self.store.write() as conn:
            where, args = self.selection(conn, otype, params, action=True)
            known = self._tags_by_name(conn, otype)
            ids: list[str] = []
            for name in names:
                key = self._tag_key(name)
                if key not in known and adding:
                    known[key] = str(
                        Store.insert(
                            conn, TYPES_BY_ID[14], {"tag_name": name, "object_type_id": str(otype.id)}
                        )
                    )
                if key in known and known[key] not in ids:
                    ids.append(known[key])
            if ids:
                if adding:
                    self._rewrite(conn, otype, "contact_cat", where, args, add=ids)
                else:
                    self._rewrite(conn, otype, "contact_cat", where, args, remove=ids)
        return Reply(TAG_REPLY)

    def tag_by_name_add(self, otype: ObjectType, params: Mapping[str, Any]) -> Reply:
        return self.tag_by_name(otype, params, True)

    def tag_by_name_remove(self, otype: ObjectType, params: Mapping[str, Any]) -> Reply:
        return self.tag_by_name(otype, params, False)

    def tagged(self, otype: ObjectType, params: Mapping[str, Any]) -> Reply:
        self.need(otype, "GET")
        if not otype.taggable:
            raise InvalidQuery(f"{otype.name} has no tags")
        with self.store.read() as conn:
            if params.get("tag_id") not in (None, ""):
                tag_ids = [str(_int(params["tag_id"]))]
            elif params.get("tag_name") not in (None, ""):
                found = self._tags_by_name(conn, otype).get(self._tag_key(as_text(params["tag_name"])))
                tag_ids = [found] if found else []
            else:
                raise InvalidQuery("tag_id or tag_name is required")
        if tag_ids:
            extra = ('t."contact_cat" LIKE ?', [f"%*/*{tag_ids[0]}*/*%"])
        else:
            extra = ("0", [])
        if is_truthy(params.get("count")):
            with self.store.read() as conn:
                where, args = self.selection(conn, otype, params)
                where = " AND ".join(w for w in (where, extra[0]) if w)
                return Reply({"count": str(Store.count(conn, otype, where, args + extra[1]))})
        return self.collection(otype, params, extra_where=extra)
