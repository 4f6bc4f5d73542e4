"""How the membrane simulator presents itself in each dialect (``sim dialect <name>``).

The vendor's evidence allows several readings of the CLI's output, of the action
catalog and of connection records (membrane-cli.md §3-§8). Each dialect in
:data:`~ontraport_pandas.sandbox.membrane_state.DIALECTS` is one of them; this module
holds the parts that reshape data (action items and their input schemas, connection
records, ``{code}`` errors). The canonical actions are those of
:mod:`ontraport_pandas.actions`; the ``flat-inputs`` and ``nested-inputs`` dialects
translate their own input shapes to the canonical one and, like the real thing, drop
input properties their schema does not declare without a word.

Stdlib only (the simulator starts without pandas or httpx).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "CONTACT_FIELDS",
    "action_items",
    "connection_view",
    "error_code",
    "find_item",
    "from_dialect_input",
    "to_dialect_output",
]

#: The contact fields the simulated hosted write actions declare (custom fields are not declared).
CONTACT_FIELDS = (
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
    "bulk_mail",
    "bulk_sms",
)
_ID = {"type": ["string", "integer"], "description": "The contact id."}
_FIELDS = {name: {"type": ["string", "number", "null"]} for name in CONTACT_FIELDS}


def _obj(props: Mapping[str, Any], required: Iterable[str] = ()) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "properties": dict(props)}
    if required:
        out["required"] = list(required)
    return out


def _schemas(dialects: set[str]) -> dict[str, dict[str, Any]]:
    """The input schemas of the write actions in the flat / nested dialects."""
    if "flat-inputs" in dialects:
        return {
            "update-contact": _obj({"id": _ID, **_FIELDS}, ["id"]),
            "create-or-update-contact": _obj(_FIELDS, ["email"]),
            "add-tags-to-contact": _obj(
                {"contactId": _ID, "tagNames": {"type": "array", "items": {"type": "string"}}},
                ["contactId", "tagNames"],
            ),
            "delete-contact": _obj({"id": _ID}, ["id"]),
        }
    if "nested-inputs" in dialects:
        record = _obj(_FIELDS)
        return {
            "update-contact": _obj({"id": _ID, "record": record}, ["id", "record"]),
            "create-or-update-contact": _obj({"record": record}, ["record"]),
            "add-tags-to-contact": _obj(
                {
                    "contactIds": {"type": "array", "items": _ID},
                    "tags": {"type": "array", "items": {"type": "string"}},
                },
                ["contactIds", "tags"],
            ),
            "delete-contact": _obj({"contactId": _ID}, ["contactId"]),
        }
    return {}


def action_items(dialects: set[str], specs: Iterable[Any]) -> list[dict[str, Any]]:
    """The action list as the dialect shows it."""
    schemas = _schemas(dialects)
    items = []
    for spec in specs:
        item = spec.item()
        if spec.key in schemas:
            item["inputSchema"] = copy.deepcopy(schemas[spec.key])
        if "ids-only" in dialects:
            item["key"] = ""
        if "no-schemas" in dialects:
            item.pop("inputSchema", None)
            item.pop("outputSchema", None)
        items.append(item)
    return items


def find_item(dialects: set[str], specs: Iterable[Any], selector: str) -> dict[str, Any] | None:
    """The action a selector names: its id, or (unless ``ids-only``) its key."""
    for spec in specs:
        item = spec.item()
        if selector == item["id"] or ("ids-only" not in dialects and selector == spec.key):
            return item
    return None


def _declared(schema: Mapping[str, Any], payload: Mapping[str, Any]) -> dict[str, Any]:
    props = schema.get("properties") or {}
    return {k: v for k, v in payload.items() if k in props}


def from_dialect_input(dialects: set[str], key: str, payload: Any) -> Any:
    """The canonical input for an input in the dialect's shape (undeclared properties dropped silently)."""
    schemas = _schemas(dialects)
    if key not in schemas or not isinstance(payload, Mapping):
        return payload
    schema = schemas[key]
    given = _declared(schema, payload)
    if "record" in given and isinstance(given["record"], Mapping):
        given["record"] = _declared(schema["properties"]["record"], given["record"])
    if key == "update-contact":
        fields = (
            given.get("record")
            if "nested-inputs" in dialects
            else {k: v for k, v in given.items() if k != "id"}
        )
        return {"id": given.get("id"), "fields": dict(fields or {})}
    if key == "create-or-update-contact":
        return dict(given.get("record") or {}) if "nested-inputs" in dialects else given
    if key == "add-tags-to-contact":
        if "nested-inputs" in dialects:
            return {"ids": given.get("contactIds") or [], "tagNames": given.get("tags") or []}
        return {"contactId": given.get("contactId"), "tagNames": given.get("tagNames") or []}
    if key == "delete-contact":
        return {"id": given.get("contactId", given.get("id"))}
    return given


def to_dialect_output(dialects: set[str], key: str, output: Any) -> Any:
    """The output as the dialect shapes it (``nested-inputs``: ``{record: {id, …}}`` for record writes)."""
    if "nested-inputs" in dialects and key in ("update-contact", "create-or-update-contact"):
        if isinstance(output, Mapping):
            return {"record": dict(output)}
    return output


def connection_view(dialects: set[str], record: Mapping[str, Any]) -> dict[str, Any]:
    """A connection record as the dialect shows it."""
    out = dict(record)
    if "disconnected" in dialects and out.get("id") == "conn_ontraport_demo":
        out["disconnected"] = True
    if "no-integration-key" in dialects:
        out.pop("integrationKey", None)
        out.pop("integration", None)
        out.pop("connectorId", None)
        out.pop("externalAppId", None)
    return out


def error_code(payload: Mapping[str, Any]) -> str:
    """The ``{code}`` of the ``code-errors`` dialect for a ``{type, key}`` error."""
    key = str(payload.get("key") or "")
    if key == "connection_not_ready":
        return "CONNECTION_NOT_READY"
    return (key or str(payload.get("type") or "error")).upper()
