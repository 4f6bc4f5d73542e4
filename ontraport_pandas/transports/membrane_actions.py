"""Hosted actions of a Membrane connection: resolved to ids, inputs built from their own schemas.

What the vendor says (membrane-cli.md §3, §8; DOC): run actions by **id**
(``membrane action run <actionId> --connectionId <cid> --input '…'``); catalog actions
"return an ``id`` but no ``key``"; "read the ``inputSchema`` before running — it's
authoritative"; "extra properties are silently ignored". So a push with a guessed
input shape could report success and change nothing. This module therefore:

* lists the connection's actions once per session (``membrane action list
  --connectionId <cid> --json``, following ``cursor``) and maps our keys to ids: by
  ``key``, then by ``id``, then by ``name`` (``"Create or Update Contact"`` for
  ``create-or-update-contact``, compared as lower-case words); an unknown key raises
  :class:`NotFoundError` listing what the connection offers;
* builds each write's input from the action's ``inputSchema`` (from the list, else
  ``membrane action get <id> --json``): where the schema nests the record's fields
  under an object property (``fields``, ``record``, ``data``, ``values``,
  ``properties``, ``contact``, ``attributes``), they go there; otherwise at the top level;
* refuses before sending (:class:`ActionSchemaError`) when a field has no place. A
  field has a place when the schema declares it, or when its container says
  ``additionalProperties: true`` (or a schema). At the top level an undeclared field
  is refused even when ``additionalProperties`` is absent, because the vendor says
  undeclared properties are dropped; a nested container with no ``properties`` at
  all is an open map and takes any field. (INFERRED; the choice is documented here
  and in the README.);
* reports a write whose output does not confirm the record (no id, or another id)
  as :class:`UnconfirmedWriteError`;
* when the schemas can't be read (the list fails, or neither the list nor ``action
  get`` gives an ``inputSchema``), pushes use the REST route through the connection's
  proxy instead, and say so once (:class:`BackendFallbackWarning` and a log line).

``writes`` chooses: ``"auto"`` (the above), ``"actions"`` (hosted actions or an
error), ``"rest"`` (never hosted actions for writes).
"""

from __future__ import annotations

import json as _json
import logging
import re
import threading
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from ..errors import (
    ActionSchemaError,
    BackendFallbackWarning,
    ConfigurationError,
    NotFoundError,
    OntraportError,
    ProtocolError,
    UnconfirmedWriteError,
)
from .membrane_cli import flag, positional
from .membrane_errors import Context

if TYPE_CHECKING:
    from .membrane_cli import MembraneCLI

__all__ = ["WRITE_ACTIONS", "HostedActions", "WritesMode", "build_input", "describe"]

logger = logging.getLogger(__name__)

WritesMode = Literal["auto", "actions", "rest"]
WRITES_MODES = ("auto", "actions", "rest")

#: The hosted actions a contact push uses.
WRITE_ACTIONS = ("update-contact", "create-or-update-contact", "add-tags-to-contact", "delete-contact")
CONTAINER_NAMES = ("fields", "record", "data", "values", "properties", "contact", "attributes")
ID_NAMES = ("id", "contactId", "contact_id", "recordId", "record_id")
IDS_NAMES = ("ids", "contactIds", "contact_ids", "recordIds")
TAG_NAMES = ("tagNames", "tag_names", "tags", "names", "tagName", "tag")


def _words(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def _props(schema: Mapping[str, Any]) -> dict[str, Any]:
    props = schema.get("properties")
    return dict(props) if isinstance(props, Mapping) else {}


def _container(schema: Mapping[str, Any]) -> tuple[str | None, Mapping[str, Any]]:
    """The property that nests the record's fields, if the schema has one."""
    props = _props(schema)
    for name in CONTAINER_NAMES:
        prop = props.get(name)
        if isinstance(prop, Mapping) and (
            prop.get("type") == "object" or "properties" in prop or "additionalProperties" in prop
        ):
            return name, prop
    return None, schema


def _accepts(container: Mapping[str, Any], field: str, *, nested: bool) -> bool:
    if field in _props(container):
        return True
    extra = container.get("additionalProperties")
    if extra is True or (isinstance(extra, Mapping) and extra is not None):
        return True
    return nested and extra is None and "properties" not in container


def _first(names: Iterable[str], props: Mapping[str, Any]) -> str | None:
    return next((n for n in names if n in props), None)


def _keys_of(schema: Mapping[str, Any]) -> list[str]:
    out = []
    for name, prop in _props(schema).items():
        inner = _props(prop) if isinstance(prop, Mapping) else {}
        if inner:
            out += [f"{name}.{k}" for k in inner]
        elif isinstance(prop, Mapping) and prop.get("type") == "object":
            out.append(f"{name}.*" if prop.get("additionalProperties", True) is not False else name)
        else:
            out.append(name)
    if schema.get("additionalProperties") is True:
        out.append("*")
    return out


def build_input(
    key: str,
    schema: Mapping[str, Any],
    *,
    record_id: Any = None,
    ids: Sequence[Any] | None = None,
    fields: Mapping[str, Any] | None = None,
    tags: Sequence[str] | None = None,
    action_id: str | None = None,
) -> dict[str, Any]:
    """The input for a hosted write, shaped by the action's ``inputSchema``.

    Raises
    ------
    ActionSchemaError
        When the schema has no place for the id, the tags or one of the fields.
    """
    props = _props(schema)
    sent: list[str] = []
    missing: list[str] = []
    out: dict[str, Any] = {}
    if ids is not None and len(ids) > 1:
        name = _first(IDS_NAMES, props)
        if name is None:
            missing.append("ids")
        else:
            out[name] = [str(i) for i in ids]
            sent.append(name)
    elif ids is not None or record_id is not None:
        rid = record_id if record_id is not None else (ids or [None])[0]
        name = _first(ID_NAMES, props)
        many = _first(IDS_NAMES, props)
        if name is not None:
            out[name] = str(rid)
            sent.append(name)
        elif many is not None:
            out[many] = [str(rid)]
            sent.append(many)
        else:
            missing.append("id")
    if tags is not None:
        name = _first(TAG_NAMES, props)
        if name is None:
            missing.append("tagNames")
        else:
            prop = props[name]
            single = isinstance(prop, Mapping) and prop.get("type") == "string"
            out[name] = ", ".join(tags) if single else list(tags)
            sent.append(name)
    if fields:
        cname, container = _container(schema)
        target = out if cname is None else out.setdefault(cname, {})
        for field, value in fields.items():
            label = field if cname is None else f"{cname}.{field}"
            sent.append(label)
            if field in out and cname is None:
                missing.append(label)  # would overwrite the id or tags
            elif _accepts(container, field, nested=cname is not None):
                target[field] = value
            else:
                missing.append(label)
    required = schema.get("required")
    unfilled = [r for r in required if r not in out] if isinstance(required, list) else []
    if missing or unfilled:
        what = [*missing, *(f"{r} (required)" for r in unfilled)]
        shown_id = f" (id {action_id})" if action_id and action_id != key else ""
        raise ActionSchemaError(
            f"Hosted action {key!r}{shown_id}: its input schema has no place for {', '.join(map(repr, what))}. "
            f"We would send {', '.join(sent) or '(nothing)'}; the schema has {', '.join(_keys_of(schema)) or '(no properties)'}. "
            "Nothing was sent. Hosted actions silently ignore input they do not declare, so this write "
            "would not have happened; write through REST instead "
            "(opd.connect(membrane=..., membrane_writes='rest')).",
            action=key,
            sent=sent,
            accepted=_keys_of(schema),
        )
    return out


def _output_ids(output: Any) -> list[str]:
    """The record ids a hosted action's output names (``id``, ``contactId``, ``record.id``, ``ids`` …)."""
    found: list[str] = []
    if isinstance(output, list):
        for item in output:
            found += _output_ids(item)
        return found
    if not isinstance(output, Mapping):
        return found
    for name in (*ID_NAMES, "tag_id"):
        value = output.get(name)
        if value not in (None, "") and not isinstance(value, (dict, list)):
            found.append(str(value))
            break
    for name in IDS_NAMES:
        value = output.get(name)
        if isinstance(value, list):
            found += [str(v) for v in value if v not in (None, "")]
    for name in ("record", "contact", "data", "result", "attrs"):
        inner = output.get(name)
        if isinstance(inner, (Mapping, list)):
            found += _output_ids(inner)
    return found


class HostedActions:
    """The hosted actions of one Membrane connection, resolved once per session.

    Parameters
    ----------
    cli : MembraneCLI
        The runner.
    connection_id : str
        The connection.
    writes : {"auto", "actions", "rest"}
        How pushes write contacts (see the module docstring).
    """

    def __init__(self, cli: MembraneCLI, connection_id: str, *, writes: WritesMode = "auto") -> None:
        if writes not in WRITES_MODES:
            raise ConfigurationError(
                f"membrane_writes must be one of {', '.join(WRITES_MODES)}, not {writes!r}"
            )
        self.cli = cli
        self.connection_id = connection_id
        self.writes = writes
        self._items: list[dict[str, Any]] | None = None
        self._resolved: dict[str, dict[str, Any]] = {}
        self._schemas: dict[str, Mapping[str, Any] | None] = {}
        self._fallback: dict[str, str] = {}
        self._lock = threading.RLock()
        self.last_action_run_id: str | None = None

    def __repr__(self) -> str:
        return f"<HostedActions {self.connection_id!r} writes={self.writes}>"

    # -- the catalog -------------------------------------------------------------------
    def items(self, *, refresh: bool = False) -> list[dict[str, Any]]:
        """Every action the connection offers (listed once, cached for the session)."""
        with self._lock:
            if self._items is None or refresh:
                items = self.cli.list_items(
                    ["action", "list", flag("connectionId", self.connection_id)],
                    ctx=Context("actions", connection_id=self.connection_id),
                )
                self._items = [dict(i) for i in items if isinstance(i, Mapping)]
                self._resolved.clear()
                self._schemas.clear()
            return list(self._items)

    def list_actions(self, intent: str | None = None) -> list[dict[str, Any]]:
        """The actions, optionally as ``membrane action list --intent`` ranks them."""
        if not intent:
            return self.items()
        return self.cli.list_items(
            ["action", "list", flag("connectionId", self.connection_id), flag("intent", intent)],
            ctx=Context("actions", connection_id=self.connection_id),
        )

    def resolve(self, key: str) -> dict[str, Any]:
        """The action item for one of our keys: by ``key``, then ``id``, then ``name``.

        Raises
        ------
        NotFoundError
            Listing what the connection offers.
        """
        with self._lock:
            if key in self._resolved:
                return self._resolved[key]
            items = self.items()
            match = (
                next((i for i in items if i.get("key") == key), None)
                or next((i for i in items if str(i.get("id") or "") == key), None)
                or next((i for i in items if _words(str(i.get("name") or "")) == _words(key)), None)
            )
            if match is None:
                offered = "\n".join(
                    f"  - id {i.get('id')!s}  key {i.get('key') or '(none)'}  {i.get('name') or ''}".rstrip()
                    for i in items
                )
                raise NotFoundError(
                    f"Membrane connection {self.connection_id} offers no action {key!r} (matched by key, id, then "
                    f"name). It offers:\n{offered or '  (no actions)'}\nRun one of these by key or id "
                    f"(op.run(...)); list them with op.actions() or "
                    f"`membrane action list --connectionId {self.connection_id} --json`.",
                    status=404,
                    method="ACTION",
                    path=key,
                )
            if not match.get("id"):
                raise ProtocolError(
                    f"the action {key!r} of connection {self.connection_id} is listed without an id"
                )
            self._resolved[key] = match
            return match

    def schema(self, key: str) -> Mapping[str, Any] | None:
        """The action's ``inputSchema`` (from the list, else ``membrane action get <id> --json``); None if unreadable."""
        item = self.resolve(key)
        with self._lock:
            if key in self._schemas:
                return self._schemas[key]
        schema = item.get("inputSchema")
        if not isinstance(schema, Mapping):
            try:
                got = self.cli.run(
                    ["action", "get", positional(str(item["id"]), "action id"), "--json"],
                    ctx=Context("action", connection_id=self.connection_id, action=key),
                )
            except OntraportError as exc:
                logger.info("membrane action get %s failed: %s", item["id"], exc)
                got = None
            schema = got.get("inputSchema") if isinstance(got, Mapping) else None
            if not isinstance(schema, Mapping):
                schema = None
        with self._lock:
            self._schemas[key] = schema
        return schema

    # -- running -----------------------------------------------------------------------
    def run(self, key: str, input: Mapping[str, Any] | None = None, *, timeout: float | None = None) -> Any:
        """Run the action by id (``membrane action run <id> --connectionId … --input … --json``); its output."""
        item = self.resolve(key)
        action_id = positional(str(item["id"]), "action id")
        args = [
            "action",
            "run",
            action_id,
            flag("connectionId", self.connection_id),
            flag("input", _json.dumps(dict(input or {}))),
            "--json",
        ]
        ctx = Context("action", connection_id=self.connection_id, action=key)
        value = self.cli.run(args, timeout=timeout, ctx=ctx)
        if isinstance(value, Mapping) and "output" in value:
            self.last_action_run_id = value.get("actionRunId")
            return value["output"]
        self.last_action_run_id = None
        return value

    # -- writes ------------------------------------------------------------------------
    def uses_actions(self, key: str) -> bool:
        """Whether pushes write through this hosted action (False: REST through the proxy)."""
        if self.writes == "rest":
            return False
        with self._lock:
            if key in self._fallback:
                return False
        try:
            schema = self.schema(key)
            reason = None if schema is not None else f"the action {key!r} lists no input schema"
        except NotFoundError as exc:
            if self.writes == "actions":
                raise
            reason = f"the connection offers no action {key!r} ({str(exc).splitlines()[0]})"
        except OntraportError as exc:
            if self.writes == "actions":
                raise
            reason = f"its actions could not be listed ({exc})"
        if reason is None:
            return True
        if self.writes == "actions":
            raise ConfigurationError(
                f"Membrane connection {self.connection_id}: {reason}, and membrane_writes='actions' forbids REST."
            )
        with self._lock:
            first = not self._fallback
            self._fallback[key] = reason
        if first:
            message = (
                f"Membrane connection {self.connection_id}: {reason}; pushes write through the REST route of "
                "the connection's proxy instead of hosted actions."
            )
            logger.warning(message)
            warnings.warn(message, BackendFallbackWarning, stacklevel=4)
        return False

    @property
    def fallback(self) -> dict[str, str]:
        """The write actions replaced by REST, with the reason."""
        with self._lock:
            return dict(self._fallback)

    def check(self, key: str, fields: Iterable[str] = (), *, tags: bool = False, many: bool = False) -> None:
        """Refuse before anything is sent when the schema has no place for these fields."""
        if not self.uses_actions(key):
            return
        schema = self.schema(key) or {}
        names = list(fields)
        build_input(
            key,
            schema,
            record_id=None if key == "create-or-update-contact" else 0,
            ids=[0, 1] if many else None,
            fields={n: None for n in names} if names else None,
            tags=["tag"] if tags else None,
            action_id=str(self.resolve(key).get("id")),
        )

    def _write(self, key: str, **parts: Any) -> Any:
        schema = self.schema(key) or {}
        payload = build_input(key, schema, action_id=str(self.resolve(key).get("id")), **parts)
        return self.run(key, payload)

    def _confirm(self, key: str, output: Any, want: Sequence[str]) -> list[str]:
        got = _output_ids(output)
        if not got or (want and not set(want) <= set(got)):
            shown = _json.dumps(output, default=str)[:300]
            expected = f"record id(s) {', '.join(want)}" if want else "a record id"
            raise UnconfirmedWriteError(
                f"Hosted action {key!r} on connection {self.connection_id} answered without confirming "
                f"{expected} (output {shown}); the write may have been dropped. Check the record, or write "
                "through REST (opd.connect(membrane=..., membrane_writes='rest')).",
                status=200,
                body=shown,
                method="ACTION",
                path=key,
            )
        return got

    def update(self, record_id: int, fields: Mapping[str, Any]) -> None:
        out = self._write("update-contact", record_id=record_id, fields=fields)
        self._confirm("update-contact", out, [str(record_id)])

    def upsert(self, fields: Mapping[str, Any]) -> int:
        out = self._write("create-or-update-contact", fields=fields)
        got = self._confirm("create-or-update-contact", out, [])
        try:
            return int(got[0])
        except ValueError as exc:
            raise UnconfirmedWriteError(
                f"Hosted action 'create-or-update-contact' answered a record id that is not a number: {got[0]!r}",
                status=200,
                method="ACTION",
                path="create-or-update-contact",
            ) from exc

    def add_tags(self, ids: Sequence[int], tag: str) -> None:
        key = "add-tags-to-contact"
        schema = self.schema(key) or {}
        if len(ids) > 1 and _first(IDS_NAMES, _props(schema)) is None:
            for rid in ids:  # the action takes one contact at a time
                self.add_tags([rid], tag)
            return
        out = self._write(key, ids=[str(i) for i in ids], tags=[tag])
        self._confirm(key, out, [str(i) for i in ids])

    def delete(self, record_id: int) -> None:
        out = self._write("delete-contact", record_id=record_id)
        self._confirm("delete-contact", out, [str(record_id)])


def describe(transport: Any) -> str:
    """``op.backend``: the route, the dialect, the path prefix and how contact writes travel."""
    mode = getattr(transport, "mode", "cli")
    route = (
        "Membrane proxy route over HTTP (token from `membrane token`)"
        if mode == "proxy"
        else "Membrane CLI (`membrane request`, one process per request)"
    )
    parts = [f"{route}, connection {transport.connection_id}"]
    dialect = getattr(transport, "dialect", None)
    if dialect and mode == "cli":
        parts.append(
            "answers as {status, headers, body}" if dialect == "response" else "answers as the body alone"
        )
    if transport.path_prefix:
        parts.append(f"paths prefixed with {transport.path_prefix}")
    hosted: HostedActions | None = getattr(transport, "hosted", None)
    if hosted is not None:
        if hosted.writes == "rest":
            parts.append("contact writes through REST")
        elif hosted.fallback:
            parts.append(
                "contact writes through REST (" + "; ".join(sorted(set(hosted.fallback.values()))) + ")"
            )
        else:
            parts.append("contact writes through hosted actions (run by id)")
    note = getattr(transport, "note", None)
    if note:
        parts.append(note)
    return "; ".join(parts)
