"""Which records a bulk request selects, and the refusal of one that selects none.

The API reads a collection ``DELETE`` (``DELETE Contacts``, ``DELETE objects``) or a
bulk action (``objects/tag``, ``objects/tagByName``, ``objects/sequence``,
``objects/subscribe``, ``objects/pause``/``unpause``, ``task/assign``, ``task/cancel``,
``task/complete``, ``task/reopen``) that carries no ``ids``, no ``condition`` and no
``group_id`` as "every record of the type" (``ontraport-api.md`` §6.1, §7); ``ids=0``
and ``performAll`` say the same on purpose. A bug that empties an id list upstream
would therefore become a mass write. :func:`check_selection` is the one place that
stops it: the session calls it before every request, so nothing that selects every
record reaches the wire unless the caller said ``all_records=True``.

What counts as a selection: a non-empty ``ids`` without 0 (as a list, a comma string,
or PHP bracket keys ``ids[0]=…``), a non-empty ``condition``, a non-zero ``group_id``
/ ``group_ids``, or a non-blank ``search``. ``task/reschedule`` acts on one task and
needs its ``id``. A ``DELETE`` that names one record by ``id`` (``DELETE Contact?id=``)
and the field editor's ``DELETE …/fieldeditor`` (``field=`` / ``section=``) are not
bulk requests.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from .errors import EmptySelectionError

__all__ = ["BULK_ACTIONS", "check_selection", "selects_records"]

#: Paths whose every write verb acts on a selection of records.
BULK_ACTIONS = frozenset(
    {
        "objects/tag",
        "objects/tagByName",
        "objects/sequence",
        "objects/subscribe",
        "objects/pause",
        "objects/unpause",
        "task/assign",
        "task/cancel",
        "task/complete",
        "task/reopen",
    }
)
_BRACKET = re.compile(r"^([^\[\]]+)\[")


def _merged(params: Mapping[str, Any] | None, body: Any) -> dict[str, list[Any]]:
    """Every value given for each parameter name, bracket keys (``ids[0]``) folded in."""
    out: dict[str, list[Any]] = {}
    sources: list[Mapping[str, Any]] = [params or {}]
    if isinstance(body, Mapping):
        sources.append(body)
    for source in sources:
        for key, value in source.items():
            match = _BRACKET.match(str(key))
            name = match.group(1) if match else str(key)
            out.setdefault(name, []).append(value)
    return out


def _items(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, Mapping):
        value = list(value.values())
    if isinstance(value, (list, tuple, set, frozenset)):
        return [s for v in value for s in _items(v)]
    if hasattr(value, "tolist"):  # numpy / pandas arrays
        return _items(value.tolist())
    if isinstance(value, bool):
        return [str(int(value))]
    return [s.strip() for s in str(value).split(",") if s.strip()]


def _is_zero(text: str) -> bool:
    try:
        return float(text) == 0
    except ValueError:
        return False


def _condition_given(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return False
        try:
            parsed = json.loads(text)
        except ValueError:
            return True  # a legacy SQL-like condition string
        return bool(parsed)
    return bool(value)


def selects_records(params: Mapping[str, Any] | None, body: Any = None) -> str | None:
    """``None`` when the request names records; else why it would act on every record."""
    given = _merged(params, body)
    ids = [i for v in given.get("ids", []) for i in _items(v)]
    if ids and any(_is_zero(i) for i in ids):
        return "its ids contain 0, which the API reads as every record"
    if ids:
        return None
    if any(_condition_given(v) for v in given.get("condition", [])):
        return None
    groups = [g for name in ("group_id", "group_ids") for v in given.get(name, []) for g in _items(v)]
    if any(not _is_zero(g) for g in groups):
        return None
    if any(isinstance(v, str) and v.strip() for v in given.get("search", [])):
        return None
    if groups:
        return "group_id 0 means every record"
    return "it has no ids, no condition and no group_id, which the API reads as every record"


def _is_bulk(method: str, path: str, params: Mapping[str, Any] | None, body: Any) -> bool:
    path = path.strip("/")
    if method == "GET":
        return False
    if path in BULK_ACTIONS:
        return True
    if method != "DELETE" or path.endswith("fieldeditor"):
        return False
    given = _merged(params, body)
    return not any(_items(v) for v in given.get("id", []))


def check_selection(
    method: str, path: str, params: Mapping[str, Any] | None, body: Any = None, *, all_records: bool = False
) -> None:
    """Refuse a bulk request that would act on every record, unless ``all_records``.

    Raises
    ------
    EmptySelectionError
        Before anything is sent, naming the request and why its selection is empty.
    """
    method = method.upper()
    if all_records:
        return
    clean = path.strip("/")
    if method != "GET" and clean == "task/reschedule":
        if not any(_items(v) for v in _merged(params, body).get("id", [])):
            raise EmptySelectionError(
                f"Refused {method} {clean}: it needs the id of the task to reschedule. Nothing was sent.",
                method=method,
                path=clean,
            )
        return
    if not _is_bulk(method, clean, params, body):
        return
    why = selects_records(params, body)
    if why is None:
        return
    raise EmptySelectionError(
        f"Refused {method} {clean}: {why}. Nothing was sent. Pass ids, a condition or a "
        "group_id; to act on every record on purpose, use "
        "op.request(..., all_records=True).",
        method=method,
        path=clean,
    )
