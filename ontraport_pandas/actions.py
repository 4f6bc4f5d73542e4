"""The action catalog: the 20 popular actions of Membrane's Ontraport connector, on every backend.

Membrane publishes the keys and one-line descriptions of its Ontraport connector's
"popular actions" but no input or output schemas (membrane-cli.md §5). This module
defines them once, as data (:data:`ACTIONS`), with schemas chosen for this toolkit:

* ``list-*`` take ``{"limit"?, "cursor"?, "filter"?, "condition"?, "search"?, "fields"?}``
  and return ``{"records": [...], "cursor"?}``; the cursor is opaque (an offset here);
* ``get-*`` take ``{"id"}`` (``get-contact-by-email``: ``{"email"}``) and return the record
  (:func:`run_action` types it: a Series of typed values, the column dtypes in ``attrs["dtypes"]``);
* ``create-*`` return ``{"id"}``; ``create-or-update-contact`` takes ``{"email", …fields}``
  and returns ``{"id", "created"}`` (an e-mail match updates instead of duplicating);
* ``update-*`` take ``{"id", "fields"}`` and return ``{"id", "updated": [changed fields]}``;
* ``delete-*`` take ``{"id"}`` and return ``{"id", "deleted": true}``;
* ``add-tags-to-contact`` takes ``{"contactId" | "ids", "tagNames"}``.

On a backend with hosted actions (Membrane, reached through ``session.hosted``),
:func:`run_action` runs the hosted action by id and :func:`list_actions` lists what
the connection offers, ids included. On the
REST backends (HTTP and sandbox) the built-in equivalents in :func:`execute` run the
same input through the REST API and return the same output shape.

This module imports pandas only inside :func:`list_actions` and :func:`run_action`:
the catalog and :func:`execute` are used by the membrane simulator, which must start
without pandas or httpx.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import BadRequestError, NotFoundError, ProtocolError, RateLimitError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ACTIONS",
    "ActionInputError",
    "ActionSpec",
    "execute",
    "find_actions",
    "list_actions",
    "run_action",
    "validate_input",
]

#: ``caller(method, path, params=…, json=…)`` returns the envelope's ``data`` (``Session.data``).
Caller = Callable[..., Any]

#: Largest ``limit`` a list action accepts.
MAX_LIMIT = 1000
DEFAULT_LIMIT = 100
PAGE_SIZE = 50


class ActionInputError(BadRequestError, ValueError):
    """An action's input does not match its input schema. Nothing was sent."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(
            f"Action {key!r}: {message}. See op.actions() for the input schema.",
            status=400,
            body=message,
            method="ACTION",
            path=key,
        )
        self.key = key


@dataclass(frozen=True)
class ActionSpec:
    """One action: its key, what it does, its JSON schemas, and the Ontraport type it reads or writes."""

    key: str
    name: str
    description: str
    input_schema: Mapping[str, Any] = field(hash=False)
    output_schema: Mapping[str, Any] = field(hash=False)
    object_type: str
    read_only: bool = False

    def item(self) -> dict[str, Any]:
        """The action as ``membrane action list --json`` lists it."""
        return {
            "id": "act_" + self.key.replace("-", "_"),
            "key": self.key,
            "name": self.name,
            "description": self.description,
            "inputSchema": json.loads(json.dumps(self.input_schema)),
            "outputSchema": json.loads(json.dumps(self.output_schema)),
            "integrationKey": "ontraport",
        }


# --------------------------------------------------------------------------- schemas

_ID = {"type": ["string", "integer"], "description": "The record id."}
_RECORD = {"type": "object", "description": "The record as Ontraport returns it (field key -> value)."}
_FIELDS = {
    "type": "object",
    "description": "Field values keyed by Ontraport field key.",
    "additionalProperties": True,
}


def _obj(
    properties: Mapping[str, Any], required: Sequence[str] = (), *, extra: bool = False
) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "properties": dict(properties), "additionalProperties": extra}
    if required:
        out["required"] = list(required)
    return out


_LIST_INPUT = _obj(
    {
        "limit": {
            "type": "integer",
            "minimum": 1,
            "maximum": MAX_LIMIT,
            "default": DEFAULT_LIMIT,
            "description": "At most this many records (fetched in pages of 50).",
        },
        "cursor": {
            "type": "string",
            "description": "The cursor of the previous output, to read the next page.",
        },
        "filter": {
            "type": "object",
            "description": "Equality filter {field: value}; every pair must match.",
            "additionalProperties": {"type": ["string", "number", "boolean"]},
        },
        "condition": {
            "type": "array",
            "description": "An Ontraport condition (JSON criteria), passed through.",
        },
        "search": {"type": "string", "description": "Ontraport's free-text search."},
        "fields": {"type": "array", "items": {"type": "string"}, "description": "Only these fields."},
    }
)
_LIST_OUTPUT = _obj(
    {
        "records": {"type": "array", "items": _RECORD},
        "cursor": {"type": "string", "description": "Present when more records may follow."},
    },
    ["records"],
)
_GET_INPUT = _obj({"id": _ID}, ["id"])
_ID_OUTPUT = _obj({"id": {"type": "string"}}, ["id"])
_UPDATE_INPUT = _obj({"id": _ID, "fields": _FIELDS}, ["id", "fields"])
_UPDATE_OUTPUT = _obj(
    {"id": {"type": "string"}, "updated": {"type": "array", "items": {"type": "string"}}}, ["id", "updated"]
)
_DELETE_OUTPUT = _obj({"id": {"type": "string"}, "deleted": {"type": "boolean"}}, ["id", "deleted"])


def _spec(
    key: str, name: str, description: str, inp: Any, out: Any, otype: str, *, read: bool = False
) -> ActionSpec:
    return ActionSpec(key, name, description, inp, out, otype, read)


ACTIONS: dict[str, ActionSpec] = {
    s.key: s
    for s in (
        _spec(
            "list-contacts",
            "List contacts",
            "List contacts with optional filtering and pagination.",
            _LIST_INPUT,
            _LIST_OUTPUT,
            "contacts",
            read=True,
        ),
        _spec(
            "list-products",
            "List products",
            "List all products.",
            _LIST_INPUT,
            _LIST_OUTPUT,
            "products",
            read=True,
        ),
        _spec(
            "list-campaigns",
            "List campaigns",
            "List all campaigns (Campaign Builder automations).",
            _LIST_INPUT,
            _LIST_OUTPUT,
            "automations",
            read=True,
        ),
        _spec("list-tags", "List tags", "List all tags.", _LIST_INPUT, _LIST_OUTPUT, "tags", read=True),
        _spec(
            "list-tasks",
            "List tasks",
            "List tasks with optional filtering.",
            _LIST_INPUT,
            _LIST_OUTPUT,
            "tasks",
            read=True,
        ),
        _spec(
            "get-contact", "Get contact", "Get a contact by ID.", _GET_INPUT, _RECORD, "contacts", read=True
        ),
        _spec(
            "get-contact-by-email",
            "Get contact by email",
            "Get a contact by email address.",
            _obj({"email": {"type": "string", "format": "email"}}, ["email"]),
            _RECORD,
            "contacts",
            read=True,
        ),
        _spec(
            "get-product", "Get product", "Get a product by ID.", _GET_INPUT, _RECORD, "products", read=True
        ),
        _spec(
            "get-campaign",
            "Get campaign",
            "Get a campaign by ID.",
            _GET_INPUT,
            _RECORD,
            "automations",
            read=True,
        ),
        _spec("get-task", "Get task", "Get a task by ID.", _GET_INPUT, _RECORD, "tasks", read=True),
        _spec(
            "create-contact",
            "Create contact",
            "Create a new contact (always a new record, even for a known email).",
            _obj(
                {
                    "email": {"type": "string"},
                    "firstname": {"type": "string"},
                    "lastname": {"type": "string"},
                },
                extra=True,
            ),
            _ID_OUTPUT,
            "contacts",
        ),
        _spec(
            "create-or-update-contact",
            "Create or update contact",
            "Create a contact, or update the existing one if the email matches.",
            _obj({"email": {"type": "string"}}, ["email"], extra=True),
            _obj({"id": {"type": "string"}, "created": {"type": "boolean"}}, ["id", "created"]),
            "contacts",
        ),
        _spec(
            "create-product",
            "Create product",
            "Create a new product.",
            _obj({"name": {"type": "string"}, "price": {"type": ["number", "string"]}}, ["name"], extra=True),
            _ID_OUTPUT,
            "products",
        ),
        _spec(
            "create-tag",
            "Create tag",
            "Create a new tag.",
            _obj(
                {
                    "name": {"type": "string", "description": "The tag name."},
                    "objectTypeId": {"type": "integer", "default": 0, "description": "0 = contact tags."},
                },
                ["name"],
            ),
            _ID_OUTPUT,
            "tags",
        ),
        _spec(
            "create-note",
            "Create note",
            "Create a note attached to a contact.",
            _obj({"contactId": _ID, "text": {"type": "string"}}, ["contactId", "text"]),
            _ID_OUTPUT,
            "notes",
        ),
        _spec(
            "update-contact",
            "Update contact",
            "Update an existing contact.",
            _UPDATE_INPUT,
            _UPDATE_OUTPUT,
            "contacts",
        ),
        _spec(
            "update-product",
            "Update product",
            "Update an existing product.",
            _UPDATE_INPUT,
            _UPDATE_OUTPUT,
            "products",
        ),
        _spec(
            "delete-contact",
            "Delete contact",
            "Delete a contact by ID.",
            _GET_INPUT,
            _DELETE_OUTPUT,
            "contacts",
        ),
        _spec(
            "delete-product",
            "Delete product",
            "Delete a product by ID.",
            _GET_INPUT,
            _DELETE_OUTPUT,
            "products",
        ),
        _spec(
            "add-tags-to-contact",
            "Add tags to contact",
            "Add one or more tags to a contact by tag names (missing tags are created).",
            _obj(
                {
                    "contactId": _ID,
                    "ids": {"type": "array", "items": _ID, "description": "Several contacts at once."},
                    "tagNames": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                },
                ["tagNames"],
            ),
            _obj(
                {
                    "contactIds": {"type": "array", "items": {"type": "string"}},
                    "tagNames": {"type": "array", "items": {"type": "string"}},
                },
                ["contactIds", "tagNames"],
            ),
            "contacts",
        ),
    )
}


# --------------------------------------------------------------------------- intent search


def _words(text: str) -> list[str]:
    out = []
    for w in re.findall(r"[a-z0-9]+", text.lower()):
        if len(w) > 3 and w.endswith("ies"):
            w = w[:-3] + "y"
        elif len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
            w = w[:-1]
        out.append(w)
    return out


def find_actions(intent: str | None = None) -> list[ActionSpec]:
    """The catalog's actions whose key, name or description mention every word of ``intent``.

    Words are compared singular and lower-case (``"list contacts"`` finds ``list-contacts``).
    When no action mentions every word, the actions mentioning any word are returned.
    """
    specs = list(ACTIONS.values())
    if not intent or not intent.strip():
        return specs
    wanted = set(_words(intent))
    texts = {s.key: set(_words(f"{s.key} {s.name} {s.description}")) for s in specs}
    every = [s for s in specs if wanted <= texts[s.key]]
    return every or [s for s in specs if wanted & texts[s.key]]


# --------------------------------------------------------------------------- input checks

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list, tuple),
    "object": (dict,),
}


def _type_ok(value: Any, types: Any) -> bool:
    names = [types] if isinstance(types, str) else list(types)
    for name in names:
        if name in ("integer", "number") and isinstance(value, bool):
            continue
        if isinstance(value, _JSON_TYPES.get(name, (object,))):
            return True
    return False


def validate_input(key: str, input: Any) -> dict[str, Any]:
    """Check ``input`` against the action's input schema (types, required and unknown keys).

    Raises
    ------
    NotFoundError
        For a key that is not in the catalog.
    ActionInputError
        For input that does not match the schema.
    """
    spec = _spec_or_raise(key)
    if input is None:
        input = {}
    if not isinstance(input, Mapping):
        raise ActionInputError(key, f"the input must be a JSON object, not {type(input).__name__}")
    schema = spec.input_schema
    props: Mapping[str, Any] = schema.get("properties", {})
    missing = [name for name in schema.get("required", ()) if name not in input or input[name] in (None, "")]
    if missing:
        raise ActionInputError(key, f"missing required input {', '.join(map(repr, missing))}")
    if not schema.get("additionalProperties", True):
        unknown = sorted(set(input) - set(props))
        if unknown:
            raise ActionInputError(
                key, f"unknown input {', '.join(map(repr, unknown))}; expected some of {', '.join(props)}"
            )
    for name, value in input.items():
        prop = props.get(name)
        if prop is None or value is None or "type" not in prop:
            continue
        if not _type_ok(value, prop["type"]):
            raise ActionInputError(
                key, f"input {name!r} must be of type {prop['type']}, not {type(value).__name__}"
            )
        if isinstance(value, int) and not isinstance(value, bool):
            if "minimum" in prop and value < prop["minimum"]:
                raise ActionInputError(key, f"input {name!r} must be >= {prop['minimum']}")
            if "maximum" in prop and value > prop["maximum"]:
                raise ActionInputError(key, f"input {name!r} must be <= {prop['maximum']}")
    return dict(input)


def _spec_or_raise(key: str) -> ActionSpec:
    spec = ACTIONS.get(key)
    if spec is None:
        raise NotFoundError(
            f"Unknown action {key!r}. Valid keys: {', '.join(ACTIONS)}. See op.actions() for what each does.",
            status=404,
            method="ACTION",
            path=key,
        )
    return spec


# --------------------------------------------------------------------------- built-in implementations

_LIST_ROUTES = {
    "list-contacts": "Contacts",
    "list-products": "Products",
    "list-campaigns": "CampaignBuilderItems",
    "list-tags": "Tags",
    "list-tasks": "Tasks",
}
_GET_ROUTES = {
    "get-contact": ("Contact", "contact"),
    "get-product": ("Product", "product"),
    "get-campaign": ("CampaignBuilderItem", "campaign"),
    "get-task": ("Task", "task"),
}


def _condition(inp: Mapping[str, Any]) -> list[Any] | None:
    out: list[Any] = []
    for name, value in (inp.get("filter") or {}).items():
        if isinstance(value, bool):
            value = int(value)
        if out:
            out.append("AND")
        out.append({"field": {"field": str(name)}, "op": "=", "value": {"value": str(value)}})
    condition = inp.get("condition")
    if condition:
        if out:
            out.append("AND")
        out.extend(condition)
    return out or None


def _list(call: Caller, key: str, inp: Mapping[str, Any]) -> dict[str, Any]:
    path = _LIST_ROUTES[key]
    limit = int(inp.get("limit") or DEFAULT_LIMIT)
    cursor = inp.get("cursor")
    if cursor in (None, ""):
        start = 0
    elif isinstance(cursor, str) and cursor.isdigit():
        start = int(cursor)
    else:
        raise ActionInputError(key, f"cursor {cursor!r} is not a cursor this action returned")
    params: dict[str, Any] = {"sort": "id", "sortDir": "asc"}
    condition = _condition(inp)
    if condition:
        params["condition"] = json.dumps(condition, separators=(",", ":"))
    if inp.get("search"):
        params["search"] = str(inp["search"])
    if inp.get("fields"):
        params["listFields"] = ",".join(["id", *(str(f) for f in inp["fields"])])
    records: list[Any] = []
    exhausted = False
    while len(records) < limit:
        size = min(PAGE_SIZE, limit - len(records))
        rows = call("GET", path, params={**params, "start": start, "range": size}) or []
        if not isinstance(rows, list):
            raise ProtocolError(f"GET {path}: expected a list of records, got {type(rows).__name__}")
        records.extend(rows)
        start += len(rows)
        if len(rows) < size:
            exhausted = True
            break
    out: dict[str, Any] = {"records": records}
    if not exhausted:
        out["cursor"] = str(start)
    return out


def _get(call: Caller, path: str, noun: str, record_id: Any) -> dict[str, Any]:
    data = call("GET", path, params={"id": str(record_id)})
    if not data or not isinstance(data, dict):
        raise NotFoundError(f"No {noun} with id {record_id}.", status=404, method="GET", path=path)
    return data


def _record_id(data: Any, *keys: str) -> str:
    if isinstance(data, dict):
        for k in keys:
            if data.get(k) not in (None, ""):
                return str(data[k])
        attrs = data.get("attrs")
        if isinstance(attrs, dict) and attrs.get("id") not in (None, ""):
            return str(attrs["id"])
    raise ProtocolError(f"expected a record id in the answer, got {str(data)[:200]}")


def _changed(data: Any, record_id: Any) -> dict[str, Any]:
    attrs = data.get("attrs") if isinstance(data, dict) else None
    changed = sorted(k for k in (attrs or {}) if k not in ("id", "dlm"))
    return {"id": str(record_id), "updated": changed}


def _contact_ids(key: str, inp: Mapping[str, Any]) -> list[int]:
    raw: list[Any] = []
    if inp.get("contactId") not in (None, ""):
        raw.append(inp["contactId"])
    raw.extend(inp.get("ids") or [])
    if not raw:
        raise ActionInputError(key, "give 'contactId' or 'ids'")
    try:
        return [int(i) for i in raw]
    except (TypeError, ValueError) as exc:
        raise ActionInputError(key, f"contact ids must be integers, got {raw!r}") from exc


def _fields(key: str, inp: Mapping[str, Any]) -> dict[str, Any]:
    fields = inp.get("fields")
    if not isinstance(fields, Mapping) or not fields:
        raise ActionInputError(key, "'fields' must be a non-empty object of field values")
    return dict(fields)


def execute(call: Caller, key: str, input: Any = None) -> Any:
    """Run the built-in equivalent of an action over the REST API.

    Parameters
    ----------
    call : callable
        ``call(method, path, params=…, json=…)`` returning the envelope's ``data``,
        raising the toolkit's :class:`~ontraport_pandas.errors.APIError` subclasses
        (``session.data`` on the client; the simulator passes its own).
    key : str
        One of :data:`ACTIONS`.
    input : dict, optional
        The action's input.

    Returns
    -------
    Any
        The JSON output, shaped as the action's output schema says.
    """
    inp = validate_input(key, input)
    if key in _LIST_ROUTES:
        return _list(call, key, inp)
    if key in _GET_ROUTES:
        path, noun = _GET_ROUTES[key]
        return _get(call, path, noun, inp["id"])
    if key == "get-contact-by-email":
        found = call("GET", "object/getByEmail", params={"objectID": "0", "email": str(inp["email"])})
        if not isinstance(found, dict) or found.get("id") in (None, "", "0", 0):
            raise NotFoundError(
                f"No contact with email {inp['email']!r}.", status=404, path="object/getByEmail"
            )
        return _get(call, "Contact", "contact", found["id"])
    if key == "create-contact":
        return {"id": _record_id(call("POST", "Contacts", json=inp), "id")}
    if key == "create-or-update-contact":
        data = call("POST", "Contacts/saveorupdate", json=inp)
        created = isinstance(data, dict) and data.get("id") not in (None, "")
        return {"id": _record_id(data, "id"), "created": bool(created)}
    if key == "create-product":
        return {"id": _record_id(call("POST", "Products", json=inp), "id")}
    if key == "create-tag":
        body = {"tag_name": inp["name"], "object_type_id": int(inp.get("objectTypeId") or 0)}
        return {"id": _record_id(call("POST", "Tags", json=body), "tag_id", "id")}
    if key == "create-note":
        body = {"contact_id": str(inp["contactId"]), "data": inp["text"], "object_type_id": 0}
        return {"id": _record_id(call("POST", "Notes", json=body), "id")}
    if key in ("update-contact", "update-product"):
        path = "Contacts" if key == "update-contact" else "Products"
        data = call("PUT", path, json={**_fields(key, inp), "id": str(inp["id"])})
        return _changed(data, inp["id"])
    if key in ("delete-contact", "delete-product"):
        path, noun = ("Contact", "contact") if key == "delete-contact" else ("Product", "product")
        _get(call, path, noun, inp["id"])  # a missing id is a NotFoundError, as on a hosted action
        call("DELETE", path, params={"id": str(inp["id"])})
        return {"id": str(inp["id"]), "deleted": True}
    if key == "add-tags-to-contact":
        ids = _contact_ids(key, inp)
        names = [str(n) for n in inp["tagNames"]]
        if not names:
            raise ActionInputError(key, "'tagNames' must name at least one tag")
        call("PUT", "objects/tagByName", json={"objectID": 0, "ids": ids, "add_names": names})
        return {"contactIds": [str(i) for i in ids], "tagNames": names}
    raise AssertionError(f"no built-in implementation for {key}")  # pragma: no cover


# --------------------------------------------------------------------------- client-facing functions


def list_actions(op: Any, intent: str | None = None) -> pd.DataFrame:
    """The actions this connection can run, as a DataFrame.

    Parameters
    ----------
    op : Ontraport
        The client.
    intent : str, optional
        Words describing what you want to do (``"list contacts"``). On a backend with
        hosted actions (Membrane) the intent is passed to ``membrane action list
        --intent``; elsewhere the built-in catalog is filtered by a word match on key,
        name and description.

    Returns
    -------
    pandas.DataFrame
        Columns ``key``, ``id``, ``name``, ``description``, ``input_schema``,
        ``output_schema``. On Membrane, ``id`` is what ``membrane action run`` is given
        (keys may be empty for catalog actions); on the REST backends it is the key.
    """
    import pandas as pd

    columns = ["key", "id", "name", "description", "input_schema", "output_schema"]
    hosted = op.session.hosted
    if hosted is not None:
        rows = [
            {
                "key": item.get("key") or "",
                "id": str(item.get("id") or ""),
                "name": item.get("name") or "",
                "description": item.get("description") or "",
                "input_schema": item.get("inputSchema"),
                "output_schema": item.get("outputSchema"),
            }
            for item in hosted.list_actions(intent)
        ]
    else:
        rows = [
            {
                "key": s.key,
                "id": s.key,
                "name": s.name,
                "description": s.description,
                "input_schema": s.input_schema,
                "output_schema": s.output_schema,
            }
            for s in find_actions(intent)
        ]
    return pd.DataFrame(rows, columns=columns)


def run_action(
    op: Any,
    key: str,
    input: Mapping[str, Any] | None = None,
    *,
    raw: bool = False,
    rate_limit_waits: int = 5,
) -> Any:
    """Run an action by key.

    Parameters
    ----------
    op : Ontraport
        The client.
    key : str
        The action key (``"list-contacts"``, ``"create-or-update-contact"``, …). On
        Membrane it is resolved to the connection's action id (by key, then id, then
        name) and the action runs by id.
    input : dict, optional
        The action's input (see the ``input_schema`` column of :func:`list_actions`).
    raw : bool
        Return the JSON output as the action produced it. By default the ``records``
        of a list action become a typed DataFrame (the accessors' typing), with the
        next page's cursor in ``attrs["ontraport"]["cursor"]``.
    rate_limit_waits : int
        How many rate-limit errors a read action waits out before giving up.

    Returns
    -------
    pandas.DataFrame or dict
        A DataFrame for list actions (unless ``raw``), else the JSON output.

    Raises
    ------
    NotFoundError
        For an unknown action key (the message lists the valid keys or how to list them).
    BadRequestError
        For input the action refused (:class:`ActionInputError` on the built-ins).
    """
    hosted = op.session.hosted
    spec = ACTIONS.get(key)
    session = op.session

    def call(method: str, path: str, *, params: Any = None, json: Any = None) -> Any:
        return session.data(method, path, params=params, json=json)

    waits = 0
    while True:
        try:
            if hosted is not None:
                output = hosted.run(key, dict(input or {}))
            else:
                output = execute(call, key, input)
            break
        except RateLimitError as exc:
            waits += 1
            if spec is None or not spec.read_only or waits > rate_limit_waits:
                raise
            time.sleep(max(0.0, exc.reset_after))
    if raw:
        return output
    return _shape(op, spec, key, output)


def _flatten(record: Any) -> Any:
    """A Membrane data-record (``{id, fields, rawFields, …}``) as the Ontraport wire dict."""
    if isinstance(record, dict):
        for k in ("rawFields", "fields"):
            inner = record.get(k)
            if isinstance(inner, dict):
                out = dict(inner)
                if "id" in record and "id" not in out:
                    out["id"] = record["id"]
                return out
    return record


def _record(op: Any, spec: ActionSpec, key: str, output: dict[str, Any]) -> Any:
    """A ``get-*`` output as a typed record: the row of a one-row typed frame (dates in ``op.tz``).

    The values carry the frame's types (``Timestamp``, ``bool``, labels, lists of tag names, ``NA``);
    ``attrs["dtypes"]`` holds each column's dtype, so ``rec.to_frame().T.astype(rec.attrs["dtypes"])``
    rebuilds the typed row.
    """
    from .schema import frame_from_records, local_dates

    session = op.session
    otype = session.resolve(spec.object_type)
    record = _flatten(output)
    id_field = next((c for c in (otype.id_field, "id", "tag_id", "form_id") if c in record), otype.id_field)
    frame = frame_from_records(
        [record], session.schema(otype), id_field=id_field, lookups=session.lookups(otype)
    )
    frame = local_dates(frame, getattr(op, "tz", "UTC"))
    row = frame.iloc[0].copy()
    row.name = frame.index[0]
    row.attrs = {
        "dtypes": dict(frame.dtypes),
        "ontraport": {
            "action": key,
            "object_type": spec.object_type,
            "connection": getattr(op, "name", None),
        },
    }
    return row


def _shape(op: Any, spec: ActionSpec | None, key: str, output: Any) -> Any:
    if spec is not None and key.startswith("get-") and isinstance(output, dict) and output:
        return _record(op, spec, key, output)
    if not (isinstance(output, dict) and isinstance(output.get("records"), list)):
        return output
    import pandas as pd

    records = [_flatten(r) for r in output["records"]]
    if spec is not None:
        from .schema import frame_from_records, local_dates

        session = op.session
        otype = session.resolve(spec.object_type)
        schema = session.schema(otype)
        lookups = session.lookups(otype)
        id_field = otype.id_field
        if records and isinstance(records[0], dict):
            for candidate in (otype.id_field, "id", "tag_id", "form_id"):
                if candidate in records[0]:
                    id_field = candidate
                    break
        frame = local_dates(
            frame_from_records(records, schema, id_field=id_field, lookups=lookups), getattr(op, "tz", "UTC")
        )
    else:
        frame = pd.DataFrame(records)
        if "id" in frame.columns:
            frame = frame.set_index("id")
    frame.attrs["ontraport"] = {
        "action": key,
        "object_type": spec.object_type if spec is not None else None,
        "connection": getattr(op, "name", None),
        "cursor": output.get("cursor"),
    }
    return frame
