"""How a value sent by a client becomes the string the sandbox stores.

The real API keeps (almost) everything as strings and accepts numbers as JSON numbers
or strings (``ontraport-api.md`` §8.4, §10). Choices where the doc is unsure, modelled
on what MySQL columns of those types would do:

- ``null`` stores the field's default (``"0"`` for numeric-like types, ``null`` for text).
- JSON ``true``/``false`` store ``"1"``/``"0"``; numbers are written without a trailing
  ``.0`` (``180.0`` -> ``"180"``, ``16.5`` -> ``"16.5"``); strings of a price are kept as sent.
- numeric, date, drop and parent fields: ``""`` stores ``"0"``; a value that is not a
  number stores ``"0"`` (MySQL's non-strict cast), integer types round (``"3.7"`` -> ``"4"``).
- check fields: ``1/true/yes/on`` -> ``"1"``, ``0/false/no/off/""`` -> ``"0"``, other numbers by truth.
- list and subscription fields: ``*/*1*/*2*/*``, ``"1,2"`` and JSON arrays all store
  ``"*/*1*/*2*/*"``; empty stores ``""``.
- country fields: a handful of names become ISO codes (Australia -> AU, United States /
  USA -> US, Canada -> CA, United Kingdom / UK / Great Britain -> GB, New Zealand -> NZ),
  two-letter values are upper-cased, anything else is stored as sent.
- e-mail fields: a non-empty value that is not ``local@domain.tld`` (after trimming) is
  refused with 422 ``Invalid email address``; the value is stored as sent (untrimmed).
- an array or object sent for any other field (text, number, date, check, drop …) is
  refused with 400 ``Invalid value for field <name>``: PHP would store the word
  ``Array``, which no client means, so the sandbox refuses rather than store garbage.
"""

from __future__ import annotations

import json
import math
import re

from .model import Field

__all__ = [
    "COUNTRY_CODES",
    "InvalidEmail",
    "InvalidValue",
    "as_text",
    "is_truthy",
    "join_ids",
    "split_ids",
    "to_stored",
]

COUNTRY_CODES = {
    "australia": "AU",
    "united states": "US",
    "united states of america": "US",
    "usa": "US",
    "u.s.a.": "US",
    "canada": "CA",
    "united kingdom": "GB",
    "uk": "GB",
    "great britain": "GB",
    "england": "GB",
    "new zealand": "NZ",
}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_INTEGER_TYPES = frozenset({"numeric", "timestamp", "fulldate", "drop", "parent"})


class InvalidValue(ValueError):
    """A value the field cannot hold (an array in a text field): 400 with this text."""


class InvalidEmail(ValueError):
    """A value in an e-mail field that is not an e-mail address (422)."""


def is_truthy(value: object) -> bool:
    """``1``, ``"1"``, ``true``, ``"true"``, ``"yes"``, ``"on"`` (case-insensitive)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    return isinstance(value, str) and value.strip().lower() in ("1", "true", "yes", "on")


def _number(value: float) -> str:
    if math.isnan(value) or math.isinf(value):
        return "0"
    return f"{value:.15g}"


def as_text(value: object) -> str:
    """A scalar as the string the API would hold."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return "" if value is None else str(value)


def split_ids(value: object) -> list[str]:
    """Ids from ``"*/*1*/*2*/*"``, ``"1,2"``, ``[1, 2]`` or ``5``; order kept, blanks dropped."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        items = [as_text(v).strip() for v in value]
    else:
        items = re.split(r"\*/\*|,", as_text(value))
    out: list[str] = []
    for item in items:
        item = item.strip()
        if item and item not in out:
            out.append(item)
    return out


def join_ids(ids: list[str]) -> str:
    return "*/*" + "*/*".join(ids) + "*/*" if ids else ""


def _numeric(field: Field, value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    text = as_text(value).strip()
    if text == "":
        return "0"
    try:
        number = float(text)
    except ValueError:
        return "0"
    if field.type in _INTEGER_TYPES:
        if math.isnan(number) or math.isinf(number):
            return "0"
        return str(int(math.floor(number + 0.5)))
    if isinstance(value, str):
        return text  # a price string keeps its form ("16.5", "180.00")
    return _number(number)


def to_stored(field: Field, value: object) -> str | None:
    """The stored string for ``value`` sent for ``field``; raises :class:`InvalidEmail`."""
    if value is None:
        return field.default
    kind = field.type
    if kind in ("list", "subscription"):
        return join_ids(split_ids(value))
    if isinstance(value, (list, tuple, dict)):
        raise InvalidValue(f"Invalid value for field {field.name}")
    if kind == "check":
        if isinstance(value, str):
            text = value.strip().lower()
            if text in ("", "0", "false", "no", "off"):
                return "0"
            if text in ("1", "true", "yes", "on"):
                return "1"
            try:
                return "1" if float(text) != 0 else "0"
            except ValueError:
                return "0"
        return "1" if is_truthy(value) else "0"
    if field.numeric:
        return _numeric(field, value)
    text = as_text(value)
    if kind == "country":
        stripped = text.strip()
        code = COUNTRY_CODES.get(stripped.lower())
        if code:
            return code
        if len(stripped) == 2 and stripped.isalpha():
            return stripped.upper()
        return text
    if kind == "email" and text.strip() and not _EMAIL.match(text.strip()):
        raise InvalidEmail(text)
    return text
