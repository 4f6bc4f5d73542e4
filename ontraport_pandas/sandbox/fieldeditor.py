"""The field editor: sections and fields, read and changed (``ontraport-api.md`` §8.3).

Routes: ``Contacts/fieldeditor``, ``Products/fieldeditor`` and ``objects/fieldeditor``
(with ``objectID``), verbs GET, POST, PUT, DELETE.

- ``GET`` answers the type's sections keyed by section id, each
  ``{"id", "name", "description", "fields": [[field, …]]}`` (one column of fields), a
  field being ``{"id", "alias", "field", "type", "required", "unique", "editable",
  "deletable", "options"}`` with the flags as ints 0/1 and ``options`` the
  ``{option id: label}`` of a drop/list field, ``""`` otherwise. ``section=<name>``
  narrows the answer to that section (same shape), ``field=<name>`` answers the one
  field. An unknown section or field is 400 ``Invalid section`` / ``Invalid field``.
- ``POST`` (JSON ``{"objectID", "name", "description", "fields": [[{"alias", "type",
  "required", "unique", "options": {"add": […]}}]]}``; a flat list of fields is accepted
  too) creates the section when it is new and the fields in it, and answers
  ``{"success": {"f2009": "My field"}, "error": [...]}``. A section that exists already
  gets the fields appended, or 400 ``Section already exists`` with
  ``SandboxConfig(fieldeditor_post_existing="error")``.
- ``PUT`` (same body; the section must exist, else 400 ``Invalid section``) updates the
  fields named by ``field`` (``alias``, ``required``, ``unique``, drop/list ``options``;
  a field named from another section moves here) and creates the ones without
  ``field``; ``description`` replaces the section's. Same answer as ``POST``.
- ``DELETE`` with ``field=<name>`` removes a deletable field (custom fields; built-in
  ones are 400 ``Field cannot be deleted``) and clears its values; with
  ``section=<name>`` removes an empty section (else 400 ``Section is not empty``).
  Both answer ``"Deleted"``.

Choices where the doc is unsure:

- Field types that can be created: those the .NET client lists (``check``,
  ``country``, ``fulldate``, ``list``, ``longtext``, ``numeric``, ``price``, ``phone``,
  ``state``, ``drop``, ``text``, ``email``, ``sms``, ``address``) plus ``timestamp`` and
  ``url``. A field whose alias is blank, whose type is not one of these, or whose alias
  is already used by another field of the type (case-insensitive) is not created: it
  goes to ``error`` as ``{"alias": …, "message": …}`` and the others still are.
- New fields are named ``f<N>`` with N one above the highest ``f`` number of any type,
  and new drop/list options get ids one above the highest option id in the account.
- ``options``: ``add`` appends labels (a label already there is skipped), ``remove``
  drops labels or option ids, ``replace`` is the complete new list of labels (labels
  kept keep their ids). Removing an option does not rewrite stored values.
- Built-in fields keep their type; their alias and ``required`` can change. Sections of
  built-in fields are fixed by this module (``Contact Information``, ``Lead
  Information``, ``Sequences and Tags``, ``Purchase History``, ``System Information``
  and ``Membership`` for contacts; ``<Type> Information``, ``System Information`` and
  ``Custom Fields`` elsewhere). Field ids number the type's fields from 1 in meta order.
- Changes live in the store (tables ``fe_fields``, ``fe_sections``), so every process
  sharing a sandbox file sees them; columns of deleted fields stay in SQLite, hidden.
- Other types reached through a relation (``externs``, the record a completed task
  updates) are read with their built-in fields only.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sqlite3
import threading
from collections.abc import Mapping
from typing import Any

from .conditions import InvalidQuery
from .handlers import Api, Reply
from .model import TYPES, TYPES_BY_ID, Field, ObjectType
from .values import as_text, is_truthy
from .wire import ApiError

__all__ = ["CREATABLE_TYPES", "FieldEditorEndpoints"]

CREATABLE_TYPES = frozenset(
    {
        "check",
        "country",
        "fulldate",
        "list",
        "longtext",
        "numeric",
        "price",
        "phone",
        "state",
        "drop",
        "text",
        "email",
        "sms",
        "address",
        "timestamp",
        "url",
    }
)
_NUMERIC_DEFAULT = frozenset({"numeric", "price", "timestamp", "fulldate", "check", "drop"})
_CUSTOM = re.compile(r"^f(\d+)$")

_CONTACT_SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Contact Information",
        (
            "firstname",
            "lastname",
            "email",
            "address",
            "address2",
            "city",
            "state",
            "zip",
            "country",
            "birthday",
            "priority",
            "home_phone",
            "sms_number",
            "office_phone",
            "fax",
            "company",
            "title",
            "website",
            "timezone",
            "facebook_link",
            "instagram_link",
            "linkedin_link",
            "twitter_link",
        ),
    ),
    (
        "Lead Information",
        (
            "freferrer",
            "lreferrer",
            "n_lead_source",
            "n_campaign",
            "n_content",
            "n_medium",
            "n_term",
            "l_lead_source",
            "l_campaign",
            "l_content",
            "l_medium",
            "l_term",
            "referral_page",
            "aff_sales",
            "aff_amount",
            "program_id",
            "aff_paypal",
        ),
    ),
    ("Sequences and Tags", ("contact_cat", "updateSequence", "updateCampaign", "bulk_mail", "bulk_sms")),
    (
        "Purchase History",
        (
            "mrcAmount",
            "mrcUnpaid",
            "mriInvoiceNum",
            "mriInvoiceTotal",
            "ccType",
            "ccExpirationMonth",
            "ccExpirationYear",
            "ccExpirationDate",
            "ccNumber",
            "mrcResult",
            "spent",
            "num_purchased",
        ),
    ),
)
_SYSTEM = frozenset(
    {
        "owner",
        "date",
        "dla",
        "dlm",
        "system_source",
        "source_location",
        "ip_addy",
        "ip_addy_display",
        "import_id",
        "bindex",
        "profile_image",
        "unique_id",
        "last_inbound_sms",
        "time_since_dla",
        "grade",
    }
)

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS fe_sections (type_id INTEGER, id INTEGER, name TEXT, description TEXT,"
    " PRIMARY KEY (type_id, id))",
    "CREATE TABLE IF NOT EXISTS fe_fields (type_id INTEGER, name TEXT, alias TEXT, type TEXT, required INTEGER,"
    " is_unique INTEGER, section INTEGER, options TEXT, deleted INTEGER DEFAULT 0, builtin INTEGER DEFAULT 0,"
    " field_id INTEGER, PRIMARY KEY (type_id, name))",
)


def _builtin_sections(otype: ObjectType) -> list[tuple[str, list[str]]]:
    names = [f.name for f in otype.fields]
    if otype.id == 0:
        out = [(title, [n for n in members if n in names]) for title, members in _CONTACT_SECTIONS]
        placed = {n for _, members in out for n in members}
        custom = [n for n in names if _CUSTOM.match(n) and n not in placed]
        system = [n for n in names if n not in placed and n not in custom]
        return [*out, ("System Information", system), ("Membership", custom)]
    custom = [n for n in names if _CUSTOM.match(n)]
    system = [n for n in names if n in _SYSTEM and n not in custom]
    general = [n for n in names if n not in custom and n not in system]
    out = [(f"{otype.name} Information", general), ("System Information", system)]
    if custom:
        out.append(("Custom Fields", custom))
    return [(title, members) for title, members in out if members]


def _flag(value: object) -> bool:
    return is_truthy(value) if not isinstance(value, (int, float)) else bool(value)


def _field_list(value: object) -> list[dict[str, Any]]:
    """``fields`` as a flat list of dicts: ``[[…], […]]`` columns or a flat list."""
    if value in (None, ""):
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise InvalidQuery("fields is not JSON") from None
    if isinstance(value, dict):
        value = list(value.values())
    if not isinstance(value, list):
        raise InvalidQuery("fields must be a list")
    out: list[dict[str, Any]] = []
    for item in value:
        if isinstance(item, list):
            out += [f for f in item if isinstance(f, dict)]
        elif isinstance(item, dict):
            out.append(item)
        else:
            raise InvalidQuery("a field must be an object")
    return out


class _Layout:
    """The sections and fields of every type as the field editor has left them."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.sections: dict[int, list[dict[str, Any]]] = {}
        self.types: dict[int, ObjectType] = {}
        self.section_of: dict[int, dict[str, int]] = {}
        self.ids: dict[int, dict[str, int]] = {}
        stored_sections: dict[int, list[tuple[int, str, str | None]]] = {}
        for type_id, sid, name, description in conn.execute(
            "SELECT type_id, id, name, description FROM fe_sections ORDER BY type_id, id"
        ):
            stored_sections.setdefault(type_id, []).append((sid, name, description))
        rows: dict[int, list[tuple[Any, ...]]] = {}
        for row in conn.execute(
            "SELECT type_id, name, alias, type, required, is_unique, section, options, deleted, builtin, field_id"
            " FROM fe_fields ORDER BY type_id, field_id"
        ):
            rows.setdefault(row[0], []).append(row)
        for otype in TYPES:
            self._build(otype, stored_sections.get(otype.id), rows.get(otype.id, []))

    def _build(
        self, otype: ObjectType, stored: list[tuple[int, str, str | None]] | None, rows: list[tuple[Any, ...]]
    ) -> None:
        builtin = _builtin_sections(otype)
        if stored is None:
            stored = [(i + 1, title, None) for i, (title, _) in enumerate(builtin)]
        section_of: dict[str, int] = {}
        for i, (_, members) in enumerate(builtin):
            for name in members:
                section_of[name] = i + 1
        ids = {f.name: i + 1 for i, f in enumerate(otype.fields)}
        overrides = {r[1]: r for r in rows if r[9]}
        fields: list[Field] = []
        for f in otype.fields:
            row = overrides.get(f.name)
            if row is None:
                fields.append(f)
                continue
            if row[8]:
                section_of.pop(f.name, None)
                continue
            options = tuple(json.loads(row[7]).items()) if row[7] else f.options
            fields.append(dataclasses.replace(f, alias=row[2], required=bool(row[4]), options=options))
            section_of[f.name] = row[6]
        for row in rows:
            if row[9] or row[8]:
                continue
            name, ftype = row[1], row[3]
            options = tuple(json.loads(row[7]).items()) if row[7] else ()
            default = "0" if ftype in _NUMERIC_DEFAULT else "" if ftype == "list" else None
            fields.append(
                Field(
                    name,
                    row[2],
                    ftype,
                    required=bool(row[4]),
                    unique=bool(row[5]),
                    deletable=True,
                    options=options,
                    default=default,
                )
            )
            section_of[name] = row[6]
            ids[name] = row[10]
        self.types[otype.id] = dataclasses.replace(otype, fields=tuple(fields))
        self.sections[otype.id] = [{"id": sid, "name": name, "description": d} for sid, name, d in stored]
        self.section_of[otype.id] = section_of
        self.ids[otype.id] = ids

    def field_entry(self, otype: ObjectType, f: Field) -> dict[str, Any]:
        return {
            "id": self.ids[otype.id].get(f.name, 0),
            "alias": f.alias,
            "field": f.name,
            "type": f.type,
            "required": int(f.required),
            "unique": int(f.unique),
            "editable": int(f.editable),
            "deletable": int(f.deletable),
            "options": dict(f.options) if f.type in ("drop", "list") else "",
        }

    def answer(self, type_id: int, only: int | None = None) -> dict[str, Any]:
        otype = self.types[type_id]
        section_of = self.section_of[type_id]
        out: dict[str, Any] = {}
        for section in self.sections[type_id]:
            if only is not None and section["id"] != only:
                continue
            members = [
                self.field_entry(otype, f) for f in otype.fields if section_of.get(f.name) == section["id"]
            ]
            out[str(section["id"])] = {**section, "fields": [members]}
        return out


class FieldEditorEndpoints(Api):
    """``fieldeditor`` and the per-store field layout every request sees."""

    _layout_cache: tuple[str, _Layout] | None = None
    _layout_lock = threading.Lock()

    # ------------------------------------------------------------------ the layout

    def _ensure_schema(self, conn: sqlite3.Connection) -> None:
        for sql in _SCHEMA:
            conn.execute(sql)

    @staticmethod
    def _version(conn: sqlite3.Connection) -> str:
        row = conn.execute("SELECT value FROM sandbox_meta WHERE key = 'field_layout'").fetchone()
        return row[0] if row else "0"

    def _layout(self, conn: sqlite3.Connection) -> _Layout:
        version = self._version(conn)
        with self._layout_lock:
            cached = self._layout_cache
            if cached is not None and cached[0] == version:
                return cached[1]
        if version == "0":
            layout = _Layout.__new__(_Layout)
            layout.sections, layout.types, layout.section_of, layout.ids = {}, {}, {}, {}
            for otype in TYPES:
                layout._build(otype, None, [])
        else:
            layout = _Layout(conn)
        with self._layout_lock:
            self._layout_cache = (version, layout)
        return layout

    def current_type(self, otype: ObjectType | None) -> ObjectType | None:
        """The type as the field editor has left it (custom fields included)."""
        if otype is None:
            return None
        with self.store.read() as conn:
            if self._version(conn) == "0":
                return otype
            return self._layout(conn).types.get(otype.id, otype)

    def meta(self, otype: ObjectType | None, params: Mapping[str, Any]) -> Reply:
        with self.store.read() as conn:
            if self._version(conn) == "0":
                return super().meta(otype, params)
            layout = self._layout(conn)
        reply = super().meta(otype, params)
        by_name = as_text(params.get("format") or "byId").strip() == "byName"
        for t in [otype] if otype is not None else list(TYPES):
            current = layout.types[t.id]
            id_meta = Field(t.id_key, "ID", "numeric", editable=False).meta()
            fields = {t.id_key: id_meta, **{f.name: f.meta() for f in current.fields}}
            reply.data[t.name if by_name else str(t.id)]["fields"] = fields
        return reply

    def _bump(self, conn: sqlite3.Connection) -> None:
        version = int(self._version(conn)) + 1
        conn.execute(
            "INSERT OR REPLACE INTO sandbox_meta (key, value) VALUES ('field_layout', ?)", (str(version),)
        )
        self._materialise(conn)

    def _materialise(self, conn: sqlite3.Connection) -> None:
        """Write the built-in sections of every type once, so later changes have rows to edit."""
        if conn.execute("SELECT COUNT(*) FROM fe_sections").fetchone()[0]:
            return
        for otype in TYPES:
            for i, (title, _) in enumerate(_builtin_sections(otype)):
                conn.execute(
                    "INSERT INTO fe_sections (type_id, id, name, description) VALUES (?, ?, ?, NULL)",
                    (otype.id, i + 1, title),
                )

    # ------------------------------------------------------------------ endpoints

    def _editor_type(self, otype: ObjectType | None, *, write: bool) -> ObjectType:
        if otype is None:
            raise ApiError(400, "Invalid objectID")
        if write:
            self.need(otype, "PUT")
        return otype

    def fieldeditor_get(self, otype: ObjectType | None, params: Mapping[str, Any]) -> Reply:
        otype = self._editor_type(otype, write=False)
        with self.store.read() as conn:
            layout = self._layout(conn)
        current = layout.types[otype.id]
        field_name = as_text(params.get("field")).strip()
        if field_name:
            f = current.field(field_name)
            if f is None:
                raise ApiError(400, "Invalid field")
            return Reply(layout.field_entry(current, f))
        section_name = as_text(params.get("section")).strip()
        if section_name:
            section = self._find_section(layout, otype.id, section_name)
            if section is None:
                raise ApiError(400, "Invalid section")
            return Reply(layout.answer(otype.id, section["id"]))
        return Reply(layout.answer(otype.id))

    @staticmethod
    def _find_section(layout: _Layout, type_id: int, name: str) -> dict[str, Any] | None:
        for section in layout.sections[type_id]:
            if as_text(section["name"]).strip().lower() == name.strip().lower():
                return section
        return None

    def fieldeditor_post(self, otype: ObjectType | None, params: Mapping[str, Any]) -> Reply:
        return self._save(self._editor_type(otype, write=True), params, creating=True)

    def fieldeditor_put(self, otype: ObjectType | None, params: Mapping[str, Any]) -> Reply:
        return self._save(self._editor_type(otype, write=True), params, creating=False)

    def _save(self, otype: ObjectType, params: Mapping[str, Any], *, creating: bool) -> Reply:
        name = as_text(params.get("name")).strip()
        if not name:
            raise InvalidQuery("a section name is required")
        entries = _field_list(params.get("fields"))
        success: dict[str, str] = {}
        errors: list[dict[str, str]] = []
        with self.store.write() as conn:
            self._ensure_schema(conn)
            self._materialise(conn)
            layout = _Layout(conn)
            section = self._find_section(layout, otype.id, name)
            if section is None:
                if not creating:
                    raise ApiError(400, "Invalid section")
                sid = 1 + max((s["id"] for s in layout.sections[otype.id]), default=0)
                conn.execute(
                    "INSERT INTO fe_sections (type_id, id, name, description) VALUES (?, ?, ?, ?)",
                    (otype.id, sid, name, params.get("description")),
                )
            else:
                if creating and self.config.fieldeditor_post_existing == "error":
                    raise ApiError(400, "Section already exists")
                sid = section["id"]
                if "description" in params:
                    conn.execute(
                        "UPDATE fe_sections SET description = ? WHERE type_id = ? AND id = ?",
                        (params.get("description"), otype.id, sid),
                    )
            current = layout.types[otype.id]
            aliases = {f.alias.strip().lower(): f.name for f in current.fields}
            for entry in entries:
                target = as_text(entry.get("field")).strip()
                try:
                    if target:
                        alias = self._update_field(conn, otype, current, layout, target, entry, sid, aliases)
                        success[target] = alias
                    else:
                        made, alias = self._create_field(conn, otype, entry, sid, aliases)
                        success[made] = alias
                except _FieldError as exc:
                    errors.append({"alias": as_text(entry.get("alias") or target), "message": str(exc)})
            self._bump(conn)
        return Reply({"success": success, "error": errors})

    def _next_name(self, conn: sqlite3.Connection) -> str:
        highest = 0
        for t in TYPES:
            for f in t.fields:
                m = _CUSTOM.match(f.name)
                if m:
                    highest = max(highest, int(m.group(1)))
        for (name,) in conn.execute("SELECT name FROM fe_fields"):
            m = _CUSTOM.match(name)
            if m:
                highest = max(highest, int(m.group(1)))
        return f"f{highest + 1}"

    def _next_option(self, conn: sqlite3.Connection) -> int:
        highest = 0
        for t in TYPES:
            for f in t.fields:
                for key, _ in f.options:
                    if key.lstrip("-").isdigit():
                        highest = max(highest, int(key))
        for (options,) in conn.execute("SELECT options FROM fe_fields WHERE options IS NOT NULL"):
            for key in json.loads(options):
                highest = max(highest, int(key))
        return highest + 1

    def _options(self, conn: sqlite3.Connection, current: Mapping[str, str], spec: object) -> dict[str, str]:
        if spec in (None, ""):
            return dict(current)
        if isinstance(spec, list):
            spec = {"add": spec}
        if not isinstance(spec, Mapping):
            raise _FieldError("options must be an object with add, remove or replace")
        labels = dict(current)
        if "replace" in spec:
            wanted = [as_text(v).strip() for v in spec.get("replace") or [] if as_text(v).strip()]
            by_label = {v: k for k, v in labels.items()}
            labels = {by_label[v]: v for v in wanted if v in by_label}
            spec = {"add": [v for v in wanted if v not in by_label]}
        for value in spec.get("remove") or []:
            text = as_text(value).strip()
            labels = {k: v for k, v in labels.items() if k != text and v != text}
        next_id = self._next_option(conn)
        for value in spec.get("add") or []:
            text = as_text(value).strip()
            if text and text not in labels.values():
                labels[str(next_id)] = text
                next_id += 1
        return labels

    def _create_field(
        self,
        conn: sqlite3.Connection,
        otype: ObjectType,
        entry: Mapping[str, Any],
        sid: int,
        aliases: dict[str, str],
    ) -> tuple[str, str]:
        alias = as_text(entry.get("alias")).strip()
        ftype = as_text(entry.get("type") or "text").strip()
        if not alias:
            raise _FieldError("A field needs an alias")
        if ftype not in CREATABLE_TYPES:
            raise _FieldError(f"Fields of type {ftype!r} cannot be created")
        if alias.lower() in aliases:
            raise _FieldError("A field with this alias already exists")
        name = self._next_name(conn)
        options: dict[str, str] = {}
        if ftype in ("drop", "list"):
            options = self._options(conn, {}, entry.get("options"))
        default = "0" if ftype in _NUMERIC_DEFAULT else "" if ftype == "list" else None
        sql_default = "" if default is None else f" DEFAULT '{default}'"
        conn.execute(f'ALTER TABLE {otype.table} ADD COLUMN "{name}" TEXT{sql_default}')
        field_id = 1 + max(
            [
                len(otype.fields),
                *(
                    r[0]
                    for r in conn.execute("SELECT field_id FROM fe_fields WHERE type_id = ?", (otype.id,))
                ),
            ]
        )
        conn.execute(
            "INSERT INTO fe_fields (type_id, name, alias, type, required, is_unique, section, options, deleted,"
            " builtin, field_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, 0, ?)",
            (
                otype.id,
                name,
                alias,
                ftype,
                int(_flag(entry.get("required"))),
                int(_flag(entry.get("unique"))),
                sid,
                json.dumps(options) if options else None,
                field_id,
            ),
        )
        aliases[alias.lower()] = name
        return name, alias

    def _update_field(
        self,
        conn: sqlite3.Connection,
        otype: ObjectType,
        current: ObjectType,
        layout: _Layout,
        name: str,
        entry: Mapping[str, Any],
        sid: int,
        aliases: dict[str, str],
    ) -> str:
        f = current.field(name)
        if f is None:
            raise _FieldError(f"No field {name!r}")
        if entry.get("type") not in (None, "", f.type):
            raise _FieldError("The type of a field cannot be changed")
        alias = as_text(entry.get("alias") or f.alias).strip()
        owner = aliases.get(alias.lower())
        if owner is not None and owner != name:
            raise _FieldError("A field with this alias already exists")
        required = _flag(entry["required"]) if "required" in entry else f.required
        unique = _flag(entry["unique"]) if "unique" in entry else f.unique
        options = dict(f.options)
        if f.type in ("drop", "list") and "options" in entry:
            options = self._options(conn, options, entry.get("options"))
        builtin = name in TYPES_BY_ID[otype.id].by_name
        field_id = layout.ids[otype.id].get(name, 0)
        conn.execute(
            "INSERT OR REPLACE INTO fe_fields (type_id, name, alias, type, required, is_unique, section, options,"
            " deleted, builtin, field_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)",
            (
                otype.id,
                name,
                alias,
                f.type,
                int(required),
                int(unique),
                sid,
                json.dumps(options) if f.type in ("drop", "list") else None,
                int(builtin),
                field_id,
            ),
        )
        aliases.pop(f.alias.strip().lower(), None)
        aliases[alias.lower()] = name
        return alias

    def fieldeditor_delete(self, otype: ObjectType | None, params: Mapping[str, Any]) -> Reply:
        otype = self._editor_type(otype, write=True)
        field_name = as_text(params.get("field")).strip()
        section_name = as_text(params.get("section")).strip()
        if not field_name and not section_name:
            raise InvalidQuery("field or section is required")
        with self.store.write() as conn:
            self._ensure_schema(conn)
            self._materialise(conn)
            layout = _Layout(conn)
            current = layout.types[otype.id]
            if field_name:
                f = current.field(field_name)
                if f is None:
                    raise ApiError(400, "Invalid field")
                if not f.deletable:
                    raise ApiError(400, "Field cannot be deleted")
                builtin = field_name in TYPES_BY_ID[otype.id].by_name
                conn.execute(
                    "INSERT OR REPLACE INTO fe_fields (type_id, name, alias, type, required, is_unique, section,"
                    " options, deleted, builtin, field_id) VALUES (?, ?, ?, ?, 0, 0, 0, NULL, 1, ?, ?)",
                    (
                        otype.id,
                        field_name,
                        f.alias,
                        f.type,
                        int(builtin),
                        layout.ids[otype.id].get(field_name, 0),
                    ),
                )
                conn.execute(f'UPDATE {otype.table} SET "{field_name}" = NULL')
            else:
                section = self._find_section(layout, otype.id, section_name)
                if section is None:
                    raise ApiError(400, "Invalid section")
                if any(layout.section_of[otype.id].get(f.name) == section["id"] for f in current.fields):
                    raise ApiError(400, "Section is not empty")
                conn.execute(
                    "DELETE FROM fe_sections WHERE type_id = ? AND id = ?", (otype.id, section["id"])
                )
            self._bump(conn)
        return Reply("Deleted")


class _FieldError(Exception):
    """One field of a field-editor request that could not be saved (reported in ``error``)."""
