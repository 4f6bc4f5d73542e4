"""``externs``: values of related records added to collection rows (``ontraport-api.md`` §7).

``externs=owner//firstname,f2001//email`` adds to each row a key named by the path
(``"owner//firstname"``) holding the related record's value; paths may go deeper
(``f2251//f2207//firstname``). Choices where the doc is unsure:

- Every segment but the last must be a ``parent`` field of the type reached so far; the
  last must be a field (or the id key) of the last type. Anything else is 400 ``Invalid
  query``, as an unknown field in ``condition`` is.
- A parent pointing at a type the sandbox does not serve (referrers, tracking types),
  an unset parent (``"0"``) or a related record that does not exist gives ``null``.
- Values are the related record's stored strings (ids as strings); the keys come after
  the row's own fields, in the order asked. A path asked twice appears once.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from typing import Any

from .conditions import InvalidQuery
from .model import TYPES_BY_ID, ObjectType
from .values import as_text

__all__ = ["add_externs", "extern_paths"]

SEP = "//"


def extern_paths(value: object) -> list[str]:
    """The requested paths (comma string or list), blanks and repeats dropped."""
    if value in (None, ""):
        return []
    items = value if isinstance(value, list) else as_text(value).split(",")
    out: list[str] = []
    for item in items:
        path = as_text(item).strip()
        if path and path not in out:
            out.append(path)
    return out


def _column(otype: ObjectType, name: str, alias: str) -> str | None:
    if name in ("id", otype.id_key):
        return f"CAST({alias}.id AS TEXT)"
    f = otype.field(name)
    if f is None:
        return None
    if f.computed is not None:
        return f.computed.format(t=alias)
    return f'{alias}."{name}"'


def _expression(otype: ObjectType, path: str, n: int) -> str:
    """SQL for one path, relative to the row alias ``t``."""
    parts = [p.strip() for p in path.split(SEP)]
    if len(parts) < 2 or any(not p for p in parts):
        raise InvalidQuery(f"bad externs path {path!r}")
    current = otype
    alias = "t"
    id_expr = ""
    for i, name in enumerate(parts[:-1]):
        f = current.field(name)
        if f is None or f.type != "parent" or f.parent_object is None:
            raise InvalidQuery(f"{name!r} is not a parent field of {current.name}")
        ref = f'CAST({alias}."{name}" AS INTEGER)'
        id_expr = (
            ref if i == 0 else f"(SELECT {ref} FROM {current.table} AS {alias} WHERE {alias}.id = {id_expr})"
        )
        target = TYPES_BY_ID.get(f.parent_object)
        if target is None:
            return "NULL"
        current = target
        alias = f"e{n}_{i}"
    value = _column(current, parts[-1], alias)
    if value is None:
        raise InvalidQuery(f"{parts[-1]!r} is not a field of {current.name}")
    return f"(SELECT {value} FROM {current.table} AS {alias} WHERE {alias}.id = {id_expr})"


def add_externs(
    conn: sqlite3.Connection, otype: ObjectType, rows: list[dict[str, Any]], params: Mapping[str, Any]
) -> None:
    """Add the ``externs`` of ``params`` to ``rows`` (in place)."""
    paths = extern_paths(params.get("externs"))
    if not paths:
        return
    exprs = [_expression(otype, path, n) for n, path in enumerate(paths)]
    ids = [int(r[otype.id_key]) for r in rows if r.get(otype.id_key) not in (None, "")]
    found: dict[int, tuple[Any, ...]] = {}
    if ids:
        sql = f"SELECT t.id, {', '.join(exprs)} FROM {otype.table} AS t WHERE t.id IN (SELECT value FROM json_each(?))"
        for row in conn.execute(sql, (json.dumps(ids),)):
            found[int(row[0])] = tuple(row[1:])
    for row in rows:
        key = row.get(otype.id_key)
        values = found.get(int(key)) if key not in (None, "") else None
        for i, path in enumerate(paths):
            value = values[i] if values is not None else None
            row[path] = None if value is None else str(value)
