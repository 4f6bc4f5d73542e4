"""Request parameters as PHP decodes them: bracket keys become lists and objects.

The official SDK builds its query strings and form bodies with PHP's
``http_build_query``, which writes a list as ``ids[0]=1&ids[1]=7`` and an object as
``message[id]=5&message[due_date]=3``. Ontraport runs on PHP, so these are the same
request as ``ids=1,7`` or a JSON body ``{"ids": [1, 7]}``. Reading them as anything
else is dangerous: a ``DELETE objects?objectID=0&ids[0]=52`` whose ``ids`` went unseen
would have no criteria, and no criteria means every record (``ontraport-api.md`` §6.1).

Decoding rules (PHP's ``parse_str``, with the choices below where it has none):

- ``key=v`` is a scalar; a repeated plain key keeps the last value, as PHP does.
- ``key[]=a&key[]=b`` appends; ``key[3]=a`` sets index 3; ``key[name]=a`` sets a member;
  brackets nest (``data[fields][0]=x``). A container whose keys are all integers
  becomes a list ordered by those integers (``ids[5]=3&ids[1]=2`` is ``["2", "3"]``);
  any other key makes it an object (a ``dict``).
- A plain value and a bracketed one under the same name: the later one wins (PHP).
- More than :data:`MAX_DEPTH` levels of brackets, or a key that opens brackets it never
  closes (``ids[0``), is refused (:class:`ValueError`, answered 400 ``Invalid
  request body``): PHP would silently drop such a key, and a dropped ``ids`` turns a
  targeted action into one on every record.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

__all__ = ["MAX_DEPTH", "decode_pairs"]

#: Bracket levels accepted in one key (PHP's ``max_input_nesting_level`` is 64).
MAX_DEPTH = 8

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])+)$")
_PART = re.compile(r"\[([^\[\]]*)\]")


class _Node(dict):  # type: ignore[type-arg]
    """A container built from bracket keys (turned into a list or a dict at the end)."""


def _next_index(node: _Node) -> str:
    taken = [int(k) for k in node if k.lstrip("-").isdigit()]
    return str(max(taken) + 1 if taken else 0)


def _put(out: dict[str, Any], name: str, parts: list[str], value: str) -> None:
    if not isinstance(out.get(name), _Node):
        out[name] = _Node()
    node: _Node = out[name]
    for i, part in enumerate(parts):
        key = _next_index(node) if part == "" else part
        if i == len(parts) - 1:
            node[key] = value
        else:
            if not isinstance(node.get(key), _Node):
                node[key] = _Node()
            node = node[key]


def _finish(value: Any) -> Any:
    if not isinstance(value, _Node):
        return value
    items = {k: _finish(v) for k, v in value.items()}
    if items and all(re.fullmatch(r"-?\d+", k) for k in items):
        return [items[k] for k in sorted(items, key=int)]
    return dict(items)


def decode_pairs(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Decoded ``(key, value)`` pairs of a query string or form body.

    Examples
    --------
    >>> decode_pairs([("ids[0]", "1"), ("ids[1]", "7"), ("objectID", "0")])
    {'ids': ['1', '7'], 'objectID': '0'}
    >>> decode_pairs([("message[id]", "5"), ("message[due_date]", "3")])
    {'message': {'id': '5', 'due_date': '3'}}
    """
    out: dict[str, Any] = {}
    for key, value in pairs:
        if "[" not in key:
            out[key] = value
            continue
        match = _KEY.match(key)
        if match is None:
            raise ValueError(f"malformed parameter name {key!r}")
        parts = _PART.findall(match.group(2))
        if len(parts) > MAX_DEPTH:
            raise ValueError(f"parameter {match.group(1)!r} nests deeper than {MAX_DEPTH} levels")
        _put(out, match.group(1), parts, value)
    return {k: _finish(v) for k, v in out.items()}
