"""Field metadata and the one two-way table between Ontraport field types and pandas dtypes.

This module is pure: it never fetches anything. Given the ``data`` of a ``meta`` reply it builds
:class:`ObjectSchema` objects (:func:`parse_meta`), turns raw wire records into a typed DataFrame
(:func:`frame_from_records`) and typed columns back into wire values (:func:`column_to_wire`,
:func:`value_to_wire`, :func:`frame_to_records`). It also validates user-edited columns cell by cell
(:func:`check_column`, :func:`check_frame`, :func:`coerce_column`) so that a writer can report every
bad cell before sending anything.

The type table
--------------
One rule per Ontraport field type (``TYPE_TABLE``; :func:`type_table` shows it as a DataFrame):

================  ==========================  ==============================================================
Ontraport type    pandas dtype                read (wire -> frame) / write (frame -> wire)
================  ==========================  ==============================================================
text, longtext,   ``string``                  ``null`` and ``""`` -> NA (blank and missing are one thing:
email, phone,                                 ``email.isna()`` finds every contact without an e-mail);
sms, url, …                                   whitespace is kept. / NA (and ``""``) -> ``None`` (null, not
                                              sent; an update clears with ``""``, which reads back as NA),
                                              str -> str. Also state, country (codes as given), address,
                                              image, unique, mergefield, related_data and any unknown type.
numeric           ``Int64``                   integer string -> int; ``""``/null -> NA; ``"0"`` stays 0. If the
                                              wire holds a non-integer (``"12.5"``) the whole column is read
                                              as ``Float64`` instead (exact: written back as the shortest
                                              decimal that reads back to the same float). / NA -> ``""``.
price             ``Float64``                 decimal string -> float; ``""``/null -> NA. / exactly two
                                              decimals, half-even on the cent (``0.1 + 0.2`` -> ``"0.30"``,
                                              ``16.5`` -> ``"16.50"``); NA -> ``""``.
timestamp,        ``datetime64[ns, UTC]``     unix seconds -> UTC instant; ``"0"``, ``""``, null -> NaT. /
fulldate                                      whole unix seconds (floor) as a string; NaT -> ``"0"``; naive
                                              datetimes are taken as UTC.
check             ``boolean``                 ``"1"``/``"0"`` (or 1/0) -> True/False; ``""``/null -> NA. /
                                              ``"1"``/``"0"``; NA -> ``"0"`` (unchecked is Ontraport's empty).
drop              ``category``                option id -> label; the categories are *all* option labels in
                                              meta order (unused ones too); ``"0"``/``""``/null -> NA; an id
                                              that is not an option stays as its raw string, appended as an
                                              extra category. / label -> option id; a value that is not a
                                              label but is all digits is sent as that id (how unknown ids
                                              round-trip); NA -> ``"0"``.
list              ``object`` (lists)          ``"*/*328*/*329*/*"`` -> ``["Gold", "Silver"]`` (option labels;
                                              unknown ids stay as id strings); ``""``, ``"*/*"``, null ->
                                              ``[]``. / ``[]`` (or NA) -> ``""``; labels -> ``"*/*id*/*id*/*"``
                                              in list order.
subscription      ``object`` (lists)          like list, with labels from the caller's ``lookups`` (tag,
                                              sequence or campaign names). / a label with no id raises
                                              :class:`~ontraport_pandas.errors.SchemaError`.
parent            ``Int64``                   related record id; ``"0"``/``""``/null -> NA. / NA -> ``"0"``.
================  ==========================  ==============================================================

The record id (``id``, or ``form_id`` for forms) becomes the index: ``Int64``, named ``"id"``.

Labels: when two options of one field share a label, the later ones are shown as ``"Label [id]"`` so
that every label maps back to exactly one id.

Notes
-----
Conversion is vectorised per column (numpy/pandas operations over whole columns; a column that
repeats a few values is converted once per distinct value); only list and subscription columns take
a per-row step, and even there each distinct wire string is parsed once. Records are read row by row
by pandas' C reader, and the cyclic garbage collector is paused while a conversion builds its
hundreds of thousands of small objects (see ``benchmarks/bench_convert.py``).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import difflib
import gc
import json
import re
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from functools import cached_property
from itertools import chain
from operator import itemgetter
from typing import Any, Generic, NamedTuple, TypeVar, cast

import numpy as np
import pandas as pd
from pandas.api.extensions import ExtensionDtype

from .errors import ConfigurationError, Problem, SchemaError, UnknownFieldError

__all__ = [
    "KNOWN_FIELDS",
    "TRANSACTION_STATUS",
    "TYPE_TABLE",
    "TYPING_VERSION",
    "BadCell",
    "FieldSpec",
    "FrameBuilder",
    "FrozenMap",
    "ObjectSchema",
    "TypeRule",
    "check_column",
    "check_frame",
    "coerce_column",
    "column_to_wire",
    "frame_from_records",
    "frame_to_records",
    "parse_list_wire",
    "parse_meta",
    "local_dates",
    "resolve_tz",
    "rule_for",
    "type_table",
    "value_to_wire",
]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

# ----------------------------------------------------------------------------------------------------------
# Small immutable mapping (hashable, so FieldSpec / ObjectSchema stay frozen and hashable)
# ----------------------------------------------------------------------------------------------------------


class FrozenMap(Mapping[K, V], Generic[K, V]):
    """A read-only, hashable mapping that keeps insertion order."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[K, V] | Iterable[tuple[K, V]] = ()) -> None:
        self._data: dict[K, V] = dict(data)

    def __getitem__(self, key: K) -> V:
        return self._data[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        return hash(frozenset(self._data.items()))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return self._data == dict(other.items())
        return NotImplemented

    def __repr__(self) -> str:
        return f"FrozenMap({self._data!r})"


# ----------------------------------------------------------------------------------------------------------
# The type table
# ----------------------------------------------------------------------------------------------------------

COMPUTED_TYPES = frozenset({"mergefield", "related_data", "unique"})

#: Text is ``string[python]`` whatever is installed: with pyarrow present, the default storage would
#: change what comparisons return (``bool[pyarrow]``, which ``&`` with a ``boolean`` mask refuses when
#: values are missing), so one notebook's filters would break on another machine.
_STRING = pd.StringDtype("python")
_INT64 = pd.Int64Dtype()
_FLOAT64 = pd.Float64Dtype()
_BOOLEAN = pd.BooleanDtype()
_DATETIME = pd.DatetimeTZDtype("ns", "UTC")


@dataclass(frozen=True)
class TypeRule:
    """How one Ontraport field type maps to pandas and back.

    Attributes
    ----------
    ontraport_type : str
        The type as ``meta`` names it.
    kind : str
        The converter family (``text``, ``numeric``, ``price``, ``date``, ``check``, ``drop``, ``list``,
        ``subscription``, ``parent``).
    pandas_dtype : str
        The dtype as shown in the table (``category`` and ``object`` depend on the field's options).
    read, write : str
        One-line descriptions of the wire -> frame and frame -> wire conversions.
    """

    ontraport_type: str
    kind: str
    pandas_dtype: str
    read: str
    write: str


def _rules() -> dict[str, TypeRule]:
    text_read = 'string; null and "" -> NA'
    text_write = 'NA and "" -> None (null, not sent; updates clear with ""); str -> str'
    rows = [
        ("text", "text", "string", text_read, text_write),
        ("longtext", "text", "string", text_read, text_write),
        ("email", "text", "string", text_read, text_write),
        ("phone", "text", "string", text_read, text_write),
        ("sms", "text", "string", text_read, text_write),
        ("url", "text", "string", text_read, text_write),
        ("address", "text", "string", text_read, text_write),
        ("image", "text", "string", text_read, text_write),
        ("state", "text", "string", 'state code as given; null and "" -> NA', text_write),
        ("country", "text", "string", 'country code as given; null and "" -> NA', text_write),
        ("unique", "text", "string", text_read + " (read-only)", text_write),
        ("mergefield", "text", "string", text_read + " (read-only, computed)", text_write),
        ("related_data", "text", "string", text_read + " (read-only, computed)", text_write),
        (
            "numeric",
            "numeric",
            "Int64",
            'integer string -> int; ""/null -> NA; a column holding non-integers reads as Float64',
            'NA -> ""; int -> str (Float64: shortest exact decimal)',
        ),
        (
            "price",
            "price",
            "Float64",
            'decimal string -> float; ""/null -> NA',
            'exactly 2 decimals, half-even on the cent; NA -> ""',
        ),
        (
            "timestamp",
            "date",
            "datetime64[ns, UTC]",
            'unix seconds -> UTC; "0"/""/null -> NaT',
            'whole unix seconds (floor); NaT -> "0"; naive = UTC',
        ),
        (
            "fulldate",
            "date",
            "datetime64[ns, UTC]",
            'unix seconds -> UTC; "0"/""/null -> NaT',
            'whole unix seconds (floor); NaT -> "0"; naive = UTC',
        ),
        ("check", "check", "boolean", '"1"/"0" -> True/False; ""/null -> NA', '"1"/"0"; NA -> "0"'),
        (
            "drop",
            "drop",
            "category",
            'option id -> label (all options are categories); "0"/""/null -> NA; unknown id kept',
            'label -> option id; all-digit non-label sent as id; NA -> "0"',
        ),
        (
            "list",
            "list",
            "object (list of labels)",
            '"*/*1*/*2*/*" -> [labels]; ""/"*/*"/null -> []; unknown ids kept',
            '[] -> ""; [labels] -> "*/*id*/*id*/*" in list order',
        ),
        (
            "subscription",
            "subscription",
            "object (list of labels)",
            '"*/*1*/*2*/*" -> [names from lookups]; ""/"*/*"/null -> []; unknown ids kept',
            '[] -> ""; [names] -> "*/*id*/*"; a name with no id is an error',
        ),
        ("parent", "parent", "Int64", 'related record id; "0"/""/null -> NA', 'NA -> "0"; int -> str'),
    ]
    return {r[0]: TypeRule(*r) for r in rows}


#: Bumped whenever the same wire records would be typed differently (2: blank text reads as NA),
#: so that typed frames kept on disk by an earlier version are typed again.
TYPING_VERSION = 2

TYPE_TABLE: Mapping[str, TypeRule] = FrozenMap(_rules())
"""The one table: Ontraport field type -> :class:`TypeRule`. Unknown types use the ``text`` rule."""

_FALLBACK_RULE = TypeRule(
    "(other)",
    "text",
    "string",
    'string; null and "" -> NA',
    'NA and "" -> None (null, not sent; updates clear with ""); str -> str',
)


def resolve_tz(tz: Any) -> Any:
    """The time zone dates load in: ``None`` means UTC; a name (``"Europe/Paris"``) or a ``tzinfo``.

    The Ontraport API documents no account-wide time zone (dates travel as unix seconds, without
    conversion; ``timezone`` is a field of each contact), so the default is UTC.

    Raises
    ------
    ConfigurationError
        For a name that is not an IANA time zone, or a value that is not a time zone.
    """
    if tz is None:
        return "UTC"
    if isinstance(tz, str):
        name = tz.strip()
        if name.upper() in ("UTC", "Z"):
            return "UTC"
        try:
            pd.Timestamp(0, tz=name)
        except Exception:
            raise ConfigurationError(
                f"tz={tz!r} is not a time zone name; use an IANA name such as 'Europe/Paris' or "
                "'America/New_York' (or 'UTC')"
            ) from None
        return name
    if isinstance(tz, _dt.tzinfo):
        return tz
    raise ConfigurationError(f"tz= takes a time zone name or a tzinfo, not {type(tz).__name__}")


def local_dates(frame: pd.DataFrame, tz: Any) -> pd.DataFrame:
    """``frame`` with its time-zone-aware date columns shown in ``tz`` (same instants).

    A metadata change per column (no values are rewritten); the input is not modified.
    """
    tz = resolve_tz(tz)
    cols = [
        c
        for c, dtype in frame.dtypes.items()
        if isinstance(dtype, pd.DatetimeTZDtype) and str(dtype.tz) != str(tz)
    ]
    if not cols:
        return frame
    out = frame.copy(deep=False)
    for c in cols:
        out[c] = out[c].dt.tz_convert(tz)
    return out


def rule_for(ontraport_type: str) -> TypeRule:
    """The :class:`TypeRule` for an Ontraport type; unknown types are treated as text."""
    return TYPE_TABLE.get(ontraport_type, _FALLBACK_RULE)


def type_table() -> pd.DataFrame:
    """The type table as a DataFrame (columns ``ontraport_type``, ``pandas_dtype``, ``read``, ``write``).

    The README shows the same table; both come from ``TYPE_TABLE``.
    """
    rules = [*TYPE_TABLE.values(), _FALLBACK_RULE]
    return pd.DataFrame(
        {
            "ontraport_type": [r.ontraport_type for r in rules],
            "pandas_dtype": [r.pandas_dtype for r in rules],
            "read": [r.read for r in rules],
            "write": [r.write for r in rules],
        }
    )


# ----------------------------------------------------------------------------------------------------------
# FieldSpec / ObjectSchema
# ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldSpec:
    """One field of an object type, as ``meta`` describes it.

    ``type`` keeps the type string exactly as ``meta`` gave it (an unknown type is converted with the
    text rule; see :attr:`rule`). ``options`` maps option id -> label in meta order (drop and list
    fields; empty otherwise). ``sub_model`` is the object type a subscription field refers to (14 tags,
    5 sequences, 140 campaigns). ``tag_object_type`` is the object type whose tags a tag field holds
    when it is not the record's own type (a form's ``tags`` are contact tags); ``None`` = its own.
    """

    key: str
    label: str
    type: str
    required: bool = False
    unique: bool = False
    editable: bool = True
    deletable: bool = False
    options: Mapping[str, str] = field(default_factory=FrozenMap)
    parent_object: int | None = None
    sub_model: int | None = None
    tag_object_type: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.options, FrozenMap):
            opts = self.options or {}
            object.__setattr__(self, "options", FrozenMap((str(k), str(v)) for k, v in opts.items()))

    @property
    def rule(self) -> TypeRule:
        """The :class:`TypeRule` this field is converted with."""
        return rule_for(self.type)

    @property
    def kind(self) -> str:
        """The converter family (``rule.kind``)."""
        return self.rule.kind

    @property
    def read_only(self) -> bool:
        """True when the field cannot be written: not editable, or a computed type."""
        return (not self.editable) or self.type in COMPUTED_TYPES

    @cached_property
    def dtype(self) -> str | ExtensionDtype:
        """The pandas dtype of this field's column (``"object"`` for list and subscription fields).

        Worked out once per spec (a dropdown's categorical dtype lists every option label)."""
        kind = self.kind
        if kind == "drop":
            return pd.CategoricalDtype(categories=_option_labels(self).labels, ordered=False)
        return _KIND_DTYPES[kind]


_KIND_DTYPES: dict[str, str | ExtensionDtype] = {
    "text": _STRING,
    "numeric": _INT64,
    "price": _FLOAT64,
    "date": _DATETIME,
    "check": _BOOLEAN,
    "list": "object",
    "subscription": "object",
    "parent": _INT64,
}


def _text_spec(key: str) -> FieldSpec:
    """The spec used for a column that is not in the schema: text."""
    return FieldSpec(key=key, label=key, type="text")


@dataclass(frozen=True)
class ObjectSchema:
    """The fields of one object type, in meta order."""

    type_id: int
    name: str
    fields: Mapping[str, FieldSpec]

    def __post_init__(self) -> None:
        if not isinstance(self.fields, FrozenMap):
            object.__setattr__(self, "fields", FrozenMap(self.fields))

    def __contains__(self, key: object) -> bool:
        return key in self.fields

    def field(self, key: str) -> FieldSpec:
        """The :class:`FieldSpec` of ``key``.

        Raises
        ------
        UnknownFieldError
            When the type has no such field; the message lists close matches among the keys and labels.
        """
        try:
            return self.fields[key]
        except KeyError:
            raise UnknownFieldError(self.unknown_field_message(key)) from None

    def unknown_field_message(self, key: str) -> str:
        """The message for a key this type does not have, with close matches (keys and labels)."""
        keys = list(self.fields)
        by_label = {spec.label: k for k, spec in self.fields.items()}
        near = difflib.get_close_matches(str(key), keys, n=3, cutoff=0.6)
        for lab in difflib.get_close_matches(str(key), list(by_label), n=3, cutoff=0.6):
            if by_label[lab] not in near:
                near.append(by_label[lab])
        msg = f"{self.name} (object type {self.type_id}) has no field {key!r}"
        if near:
            shown = ", ".join(f"{k!r} ({self.fields[k].label})" for k in near)
            msg += f"; did you mean {shown}?"
        return msg

    @property
    def dtypes(self) -> dict[str, str | ExtensionDtype]:
        """Field key -> pandas dtype, in meta order."""
        return {k: spec.dtype for k, spec in self.fields.items()}


# ----------------------------------------------------------------------------------------------------------
# parse_meta
# ----------------------------------------------------------------------------------------------------------


def _flag(value: Any, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return bool(value)
    if isinstance(value, str):
        v = value.strip().lower()
        if v in ("1", "true", "yes"):
            return True
        if v in ("0", "false", "no", ""):
            return False if v else default
    return default


def _opt_int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    return None


def _parse_options(raw: Any) -> FrozenMap[str, str]:
    def label_of(v: Any) -> str:
        if v is None:
            return ""
        if isinstance(v, Mapping):
            for k in ("label", "name", "value"):
                if k in v:
                    return label_of(v[k])
            return ""
        return str(v)

    if isinstance(raw, Mapping):
        return FrozenMap((str(k), label_of(v)) for k, v in raw.items())
    pairs: list[tuple[str, str]] = []
    if isinstance(raw, (list, tuple)):
        for item in raw:
            if isinstance(item, Mapping):
                oid = next((item[k] for k in ("id", "key", "option_id") if k in item), None)
                lab = next((item[k] for k in ("label", "name", "value") if k in item), None)
                if oid is not None:
                    pairs.append((str(oid), label_of(lab)))
            elif isinstance(item, (list, tuple)) and len(item) == 2:
                pairs.append((str(item[0]), label_of(item[1])))
    return FrozenMap(pairs)


def _sub_model(extra: Any) -> int | None:
    if isinstance(extra, str):
        try:
            extra = json.loads(extra)
        except ValueError:
            return None
    if isinstance(extra, Mapping):
        return _opt_int(extra.get("subModel"))
    return None


def _parse_field(key: str, raw: Any) -> FieldSpec:
    if not isinstance(raw, Mapping):
        raise SchemaError(f"meta: field {key!r} is not an object: {raw!r}")
    ftype = raw.get("type")
    ftype = str(ftype) if ftype not in (None, "") else "text"
    alias = raw.get("alias")
    return FieldSpec(
        key=key,
        label=str(alias) if alias not in (None, "") else key,
        type=ftype,
        required=_flag(raw.get("required"), False),
        unique=_flag(raw.get("unique"), False),
        editable=_flag(raw.get("editable"), True),
        deletable=_flag(raw.get("deletable"), False),
        options=_parse_options(raw.get("options")),
        parent_object=_opt_int(raw.get("parent_object")),
        sub_model=_sub_model(raw.get("extra_data")),
    )


TRANSACTION_STATUS: Mapping[str, str] = FrozenMap(
    {
        "0": "Unpaid",
        "1": "Paid",
        "2": "Refunded",
        "3": "Partially refunded",
        "4": "Void",
        "5": "Declined",
        "6": "Written off",
        "7": "Pending",
    }
)
"""Status of transactions (46) and purchases (17), as community clients map it (``ontraport-api.md`` §9)."""

_KNOWN: dict[int, dict[str, dict[str, Any]]] = {
    # a form's tags are the contact tags it adds, stored like contact_cat ("*/*7*/*")
    122: {"tags": {"type": "subscription", "sub_model": 14, "tag_object_type": 0}},
    # Campaign Builder items answer "deleted": "false" (SDKT fixture)
    140: {"deleted": {"type": "check"}},
    17: {"status": {"type": "drop", "options": TRANSACTION_STATUS}},
    46: {"status": {"type": "drop", "options": TRANSACTION_STATUS}},
}
KNOWN_FIELDS: Mapping[int, Mapping[str, Mapping[str, Any]]] = FrozenMap(
    (type_id, FrozenMap((key, FrozenMap(changes)) for key, changes in fields.items()))
    for type_id, fields in _KNOWN.items()
)
"""Fields whose meta type is known to undersell them: ``{type id: {field: FieldSpec changes}}``.

Applied by :func:`parse_meta` only where meta calls the field plain text or a number (or gives no
type): a meta that already says ``drop``, ``check``, ``subscription`` … is kept as it is.
"""

_PLAIN_TYPES = frozenset({"text", "longtext", "numeric", ""})


def _known(type_id: int, fields: dict[str, FieldSpec]) -> dict[str, FieldSpec]:
    for key, changes in KNOWN_FIELDS.get(type_id, FrozenMap()).items():
        spec = fields.get(key)
        if spec is not None and spec.type in _PLAIN_TYPES:
            fields[key] = dataclasses.replace(spec, **dict(changes))
    return fields


def parse_meta(data: Mapping[str, Any]) -> dict[int, ObjectSchema]:
    """Build the schemas of a ``meta`` reply.

    Parameters
    ----------
    data : Mapping
        The ``data`` of a meta reply, keyed by object type id (``{"0": {"name": "Contact", "fields":
        {...}}}``). A whole envelope (``{"code": 0, "data": {...}}``) is accepted too. Flags may be ints
        0/1, strings ``"0"``/``"1"`` or null (``editable`` null means editable); ``parent_object`` an int
        or a string; ``options`` a dict, a list, ``""`` or absent. Unknown field types are kept in
        :attr:`FieldSpec.type` and converted as text. Fields listed in :data:`KNOWN_FIELDS` (a form's
        ``tags``, a campaign's ``deleted``, a purchase's or transaction's ``status``) get their real
        type when meta calls them plain text or numbers.

    Returns
    -------
    dict of int to ObjectSchema

    Raises
    ------
    SchemaError
        When the reply does not have this shape.
    """
    if not isinstance(data, Mapping):
        raise SchemaError(f"meta: expected an object keyed by object type id, got {type(data).__name__}")
    if "code" in data and isinstance(data.get("data"), Mapping):
        data = data["data"]
    out: dict[int, ObjectSchema] = {}
    for tid, obj in data.items():
        type_id = _opt_int(tid)
        if type_id is None:
            raise SchemaError(f"meta: object type key {tid!r} is not an integer")
        if not isinstance(obj, Mapping):
            raise SchemaError(f"meta: object type {tid!r} is not an object")
        raw_fields = obj.get("fields") or {}
        fields: dict[str, FieldSpec] = {}
        if isinstance(raw_fields, Mapping):
            for key, raw in raw_fields.items():
                fields[str(key)] = _parse_field(str(key), raw)
        elif isinstance(raw_fields, (list, tuple)):  # fieldeditor-like: a list of field objects
            for raw in raw_fields:
                if isinstance(raw, Mapping) and raw.get("field"):
                    fields[str(raw["field"])] = _parse_field(str(raw["field"]), raw)
        else:
            raise SchemaError(f"meta: fields of object type {tid!r} are not an object")
        name = obj.get("name")
        out[type_id] = ObjectSchema(
            type_id, str(name) if name not in (None, "") else str(tid), FrozenMap(_known(type_id, fields))
        )
    return out


# ----------------------------------------------------------------------------------------------------------
# Labels (drop / list options, subscription lookups)
# ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Labels:
    id_to_label: dict[str, str]
    label_to_id: dict[str, str]
    labels: list[str]


def _make_labels(pairs: Iterable[tuple[Any, Any]]) -> _Labels:
    id_to_label: dict[str, str] = {}
    label_to_id: dict[str, str] = {}
    for oid, lab in pairs:
        oid, lab = str(oid), "" if lab is None else str(lab)
        if oid in id_to_label:
            continue
        if lab in label_to_id:  # a duplicate label: make it unique so it maps back to one id
            lab = f"{lab} [{oid}]"
        id_to_label[oid] = lab
        label_to_id[lab] = oid
    return _Labels(id_to_label, label_to_id, list(label_to_id))


_LABEL_CACHE: dict[int, tuple[Any, _Labels]] = {}


def _option_labels(spec: FieldSpec) -> _Labels:
    cached = _LABEL_CACHE.get(id(spec.options))
    if cached is not None and cached[0] is spec.options:
        return cached[1]
    labels = _make_labels(spec.options.items())
    if len(_LABEL_CACHE) > 4096:
        _LABEL_CACHE.clear()
    _LABEL_CACHE[id(spec.options)] = (spec.options, labels)
    return labels


def _labels_for(spec: FieldSpec, lookup: Mapping[Any, Any] | None) -> _Labels:
    if spec.kind == "subscription":
        return _make_labels((lookup or {}).items())
    return _option_labels(spec)


def _field_lookup(lookups: Mapping[str, Mapping[Any, Any]] | None, key: str) -> Mapping[Any, Any] | None:
    return None if lookups is None else lookups.get(key)


_DIGITS = re.compile(r"\d+")


def _is_raw_id(value: str) -> bool:
    return _DIGITS.fullmatch(value) is not None


def parse_list_wire(value: Any) -> list[str]:
    """The ids of a list/subscription wire value: ``"*/*1*/*2*/*"`` -> ``["1", "2"]``.

    ``""``, ``"*/*"`` and null give ``[]``. A list or a single number is accepted as well.
    """
    if value is None:
        return []
    if isinstance(value, str):
        parts = value.split("*/*")
        return [p for p in parts if p != ""]
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if v is not None and str(v) != ""]
    if isinstance(value, float) and value != value:
        return []
    return [str(value)]


# ----------------------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------------------


def _py(x: Any) -> Any:
    """A numpy scalar as the plain Python value (readable in messages)."""
    return x.item() if isinstance(x, np.generic) else x


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many small containers.

    Creating hundreds of thousands of lists or dicts otherwise triggers collections that walk every
    live object (the input records included), which costs more than the conversion itself. Nothing
    here creates reference cycles; collection resumes (if it was on) when the block ends.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


_gc_paused = gc_paused


def _obj_array(values: Iterable[Any], n: int) -> np.ndarray:
    return np.fromiter(values, dtype=object, count=n)


def _isna_scalar(v: Any) -> bool:
    if v is None or isinstance(v, (list, tuple, dict, set, np.ndarray)):
        return v is None
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _na_mask(arr: np.ndarray) -> np.ndarray:
    """NA-like cells of an object array: None, NaN, NA, NaT."""
    return np.asarray(pd.isna(arr), dtype=bool)


def _blank_mask(arr: np.ndarray) -> np.ndarray:
    """NA-like cells and empty strings."""
    na = _na_mask(arr)
    try:
        eq = arr == ""
    except (ValueError, TypeError):
        eq = None
    if isinstance(eq, np.ndarray) and eq.dtype == bool and eq.shape == arr.shape:
        return na | eq
    return na | np.fromiter((type(v) is str and v == "" for v in arr), dtype=bool, count=len(arr))


def _types(arr: np.ndarray) -> set[type]:
    return set(map(type, arr))


_INT_SAFE = {str, int, np.int64, np.int32}


def _few_distinct(arr: np.ndarray) -> bool:
    """Guess from a sample whether a column repeats a few values (then convert each distinct one once)."""
    n = len(arr)
    if n < 4096:
        return False
    sample = arr[:: max(1, n // 2048)]
    try:
        return len(set(sample.tolist())) * 8 < len(sample)
    except TypeError:
        return False


def _via_uniques(arr: np.ndarray, convert: Callable[[np.ndarray], Any]) -> Any:
    """Convert the distinct values of a repetitive column once, then spread them (vectorised take)."""
    codes, uniques = pd.factorize(arr, use_na_sentinel=True)
    got = convert(np.concatenate([np.asarray(uniques, dtype=object), np.array([None], dtype=object)]))
    if got is None:
        return None
    values, blank = got
    return values[codes], blank[codes]


def _string_cells(
    arr: np.ndarray, dtype: type, fill: Any, falsy: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray] | None:
    """Strings (or null) -> numbers, vectorised: (values, blank) or None when a cell does not parse.

    ``falsy``: the cells' falsy mask when the caller already has it (``~arr.astype(bool)``).
    """
    blank = ~arr.astype(bool) if falsy is None else falsy  # "" and None are falsy; NaN fails to parse
    filled = arr.copy()
    filled[blank] = "0"
    try:
        values = filled.astype(dtype)
    except (ValueError, TypeError, OverflowError):
        return None
    if fill is not None:
        values[blank] = fill
    return values, blank


def _int_cells(arr: np.ndarray, falsy: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """Fast path: every cell is an integer, an integer string, "" or null. Returns (ints, blank).

    Returns None when some cell is anything else; the caller then takes the careful path.
    """
    kind = pd.api.types.infer_dtype(arr, skipna=True)
    if kind == "string":
        try:  # the cast first: a column without blanks needs no mask, no copy and no second pass
            return arr.astype(np.int64), np.zeros(len(arr), dtype=bool)
        except (ValueError, TypeError, OverflowError):
            pass  # a blank (or a bad cell): usually among the first rows, so the attempt is cheap
        if _few_distinct(arr):
            return _via_uniques(arr, lambda u: _string_cells(u, np.int64, None))
        return _string_cells(arr, np.int64, None, falsy)
    if kind in ("integer", "mixed-integer", "empty"):
        blank = _blank_mask(arr)
        if not _types(arr[~blank]) <= _INT_SAFE:
            return None
        filled = arr.copy()
        filled[blank] = 0
        try:
            return filled.astype(np.int64), blank
        except (ValueError, OverflowError, TypeError):
            return None
    return None


def _float_cells(arr: np.ndarray, falsy: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """Fast path for decimal strings: returns (floats, blank) or None (take the careful path)."""
    if pd.api.types.infer_dtype(arr, skipna=True) != "string":
        return None
    if _few_distinct(arr):
        return _via_uniques(arr, lambda u: _string_cells(u, np.float64, np.nan))
    return _string_cells(arr, np.float64, np.nan, falsy)


def _numbers(arr: np.ndarray, blank: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Careful path: every non-blank cell as a float. Returns (floats, bad) where bad marks non-numbers.

    Numbers and numeric strings are parsed by numpy (Python's correctly rounded ``float``, the same
    under every pandas version); booleans, infinities and NaN strings are not numbers here. Only when
    some cell does not parse are the cells looked at one by one, to name the bad ones.
    """
    n = len(arr)
    work = arr.copy()
    work[blank] = 0.0
    isbool = np.zeros(n, dtype=bool)
    if bool in _types(work) or np.bool_ in _types(work):
        isbool = np.fromiter((isinstance(v, (bool, np.bool_)) for v in work), dtype=bool, count=n)
        work[isbool] = 0.0
    try:
        num = work.astype(np.float64)
        bad = isbool | (~np.isfinite(num) & ~blank)
    except (TypeError, ValueError, OverflowError):
        num = np.full(n, np.nan)
        bad = isbool.copy()
        for i, v in enumerate(work.tolist()):  # only to find the cells that do not parse
            if blank[i] or isbool[i]:
                continue
            try:
                x = float(v.strip() if isinstance(v, str) else v)
            except (TypeError, ValueError, OverflowError):
                bad[i] = True
                continue
            num[i] = x
        bad |= ~np.isfinite(num) & ~blank
    num[blank | bad] = np.nan
    return num, bad


_MAX_SAFE_INT = 2**53


def _schema_error(problems: Sequence[Problem], what: str) -> SchemaError:
    lines = [f"{what}: {len(problems)} value(s) do not fit their field:"]
    lines += [f"  - {p}" for p in problems[:10]]
    if len(problems) > 10:
        lines.append(f"  … and {len(problems) - 10} more (see .problems)")
    err = SchemaError("\n".join(lines))
    err.problems = list(problems)
    return err


# ----------------------------------------------------------------------------------------------------------
# Readers: wire object array -> typed array (+ bad cells)
# ----------------------------------------------------------------------------------------------------------

Bad = list[tuple[int, str]]


def _empty_mask(arr: np.ndarray) -> np.ndarray:
    """The ``""`` cells of an object array."""
    try:
        empty = arr == ""
    except (ValueError, TypeError):  # pragma: no cover - numpy compares object arrays cell by cell
        empty = None
    if not isinstance(empty, np.ndarray) or empty.dtype != bool or empty.shape != arr.shape:
        empty = np.fromiter((type(v) is str and v == "" for v in arr), dtype=bool, count=len(arr))
    return empty


def _text_array(arr: np.ndarray, empty: np.ndarray | None = None) -> Any:
    """Strings (or NA-likes) as a ``string`` array, ``""`` as NA (``empty``: the ``""`` mask if known).

    One copy: the string array is built from the cells, then its blanks are set to NA in place
    (blanking a copy of the cells first cost a second copy of every text column).
    """
    if empty is None:
        empty = _empty_mask(arr)
    out = pd.array(arr, dtype=_STRING)
    if empty.any():
        out[empty] = pd.NA
    return out


def _read_text(arr: np.ndarray, spec: FieldSpec, labels: _Labels | None) -> tuple[Any, Bad]:
    return _text_array(arr), []


def _read_numeric(arr: np.ndarray, spec: FieldSpec, labels: _Labels | None) -> tuple[Any, Bad]:
    fast = _int_cells(arr)
    if fast is not None:
        vals, blank = fast
        return pd.arrays.IntegerArray(vals, blank), []
    return _read_numeric_carefully(arr)


def _read_numeric_carefully(arr: np.ndarray) -> tuple[Any, Bad]:
    """Some cell is not an integer string: every cell as a float; ``Int64`` when all are safe integers."""
    blank = _blank_mask(arr)
    num, bad = _numbers(arr, blank)
    problems = [(int(i), "not a number") for i in np.flatnonzero(bad)]
    na = blank | bad
    finite = num[~na]
    if np.all(finite == np.round(finite)) and np.all(np.abs(finite) < _MAX_SAFE_INT):
        vals = np.where(na, 0, num).astype(np.int64)
        return pd.arrays.IntegerArray(vals, na), problems
    return pd.arrays.FloatingArray(np.where(na, 0.0, num), na), problems


_PRICE_MAX = 1e13  # beyond this, a float cannot keep every cent exact


def _read_price(
    arr: np.ndarray, spec: FieldSpec, labels: _Labels | None, falsy: np.ndarray | None = None
) -> tuple[Any, Bad]:
    fast = _float_cells(arr, falsy)
    if fast is not None:
        num, blank = fast
        bad = ~np.isfinite(num) & ~blank
    else:
        blank = _blank_mask(arr)
        num, bad = _numbers(arr, blank)
    big = ~blank & ~bad & (np.abs(np.where(bad | blank, 0.0, num)) >= _PRICE_MAX)
    problems = [(int(i), "not a number") for i in np.flatnonzero(bad)]
    problems += [(int(i), "too large to keep exact cents") for i in np.flatnonzero(big)]
    na = blank | bad | big
    return pd.arrays.FloatingArray(np.where(na, 0.0, num), na), sorted(problems)


_SEC_MIN = -9223372036  # whole seconds inside datetime64[ns]
_SEC_MAX = 9223372035


def _datetime_array(ns: np.ndarray, na: np.ndarray) -> Any:
    vals = ns.astype("datetime64[ns]")
    vals[na] = np.datetime64("NaT", "ns")
    return pd.DatetimeIndex(vals).tz_localize("UTC").array


def _read_date(
    arr: np.ndarray, spec: FieldSpec, labels: _Labels | None, falsy: np.ndarray | None = None
) -> tuple[Any, Bad]:
    fast = _int_cells(arr, falsy)
    if fast is not None:
        secs, blank = fast
        bad = ~blank & ((secs < _SEC_MIN) | (secs > _SEC_MAX))
        na = blank | bad | (secs == 0)
        ns = np.where(na, 0, secs) * np.int64(1_000_000_000)
    else:
        blank = _blank_mask(arr)
        num, bad = _numbers(arr, blank)
        bad = bad | (~np.isnan(num) & ((num < _SEC_MIN) | (num > _SEC_MAX)))
        na = blank | bad | (num == 0)
        safe = np.where(na, 0.0, num)
        whole = np.floor(safe)
        ns = whole.astype(np.int64) * np.int64(1_000_000_000) + np.round((safe - whole) * 1e9).astype(
            np.int64
        )
    problems = [(int(i), "not unix seconds inside 1677-2262") for i in np.flatnonzero(bad & ~blank)]
    return _datetime_array(ns, na), problems


_CHECK_READ: dict[Any, bool | None] = {
    "1": True,
    "0": False,
    1: True,
    0: False,
    "": None,
    "true": True,  # campaigns' "deleted" is spelled out
    "false": False,
}


def _read_check(arr: np.ndarray, spec: FieldSpec, labels: _Labels | None) -> tuple[Any, Bad]:
    codes, uniques = pd.factorize(arr, use_na_sentinel=True)
    u_val = np.zeros(len(uniques) + 1, dtype=bool)
    u_na = np.ones(len(uniques) + 1, dtype=bool)
    u_bad = np.zeros(len(uniques) + 1, dtype=bool)
    for i, u in enumerate(uniques):
        try:
            got = _CHECK_READ.get(u, "bad")
        except TypeError:
            got = "bad"
        if got == "bad":
            u_bad[i] = True
        elif got is not None:
            u_val[i], u_na[i] = bool(got), False
    values, mask = u_val[codes], u_na[codes]
    problems = [(int(i), 'not "1" or "0"') for i in np.flatnonzero(u_bad[codes])]
    return pd.arrays.BooleanArray(values, mask), problems


def _drop_dtype_and_codes(
    uniques_str: list[str | None], codes: np.ndarray, labels: _Labels
) -> tuple[pd.CategoricalDtype, np.ndarray]:
    cats = list(labels.labels)
    pos = {lab: i for i, lab in enumerate(cats)}
    u_code = np.full(len(uniques_str) + 1, -1, dtype=np.int64)
    for i, u in enumerate(uniques_str):
        if u is None:
            continue
        lab = labels.id_to_label.get(u)
        if lab is None:
            lab = u  # an id that is not an option (or a stray value): keep it as its own category
            if lab not in pos:
                pos[lab] = len(cats)
                cats.append(lab)
        u_code[i] = pos[lab]
    return pd.CategoricalDtype(categories=cats, ordered=False), u_code[codes]


def _read_drop(arr: np.ndarray, spec: FieldSpec, labels: _Labels | None) -> tuple[Any, Bad]:
    assert labels is not None
    codes, uniques = pd.factorize(arr, use_na_sentinel=True)
    # "0" is Ontraport's unset value, unless it is one of the field's options (bulk_mail's
    # "Transactional Only", a task's "Pending"): then it is that option.
    unset = ("",) if "0" in labels.id_to_label else ("", "0")
    ustr: list[str | None] = []
    for u in uniques:
        s = _scalar_str(u)
        ustr.append(None if s in unset else s)
    dtype, cat_codes = _drop_dtype_and_codes(ustr, codes, labels)
    return pd.Categorical.from_codes(cat_codes, dtype=dtype), []


def _scalar_str(u: Any) -> str:
    if isinstance(u, float) and u.is_integer():
        return str(int(u))
    return str(u)


def _parse_unique_lists(uniques: np.ndarray, id_to_label: Mapping[str, str]) -> list[list[str]]:
    get = id_to_label.get
    parsed: list[list[str]] = []
    for u in uniques:
        ids = [p for p in u.split("*/*") if p] if type(u) is str else parse_list_wire(u)
        parsed.append(list(map(get, ids, ids)))
    return parsed


def _read_listlike(arr: np.ndarray, spec: FieldSpec, labels: _Labels | None) -> tuple[Any, Bad]:
    assert labels is not None
    n = len(arr)
    # wire strings (or nulls) are the rule: one C pass says so; otherwise look at the types
    if pd.api.types.infer_dtype(arr, skipna=True) not in ("string", "empty") and not _types(arr) <= {
        str,
        type(None),
        int,
        float,
    }:  # JSON arrays or other stray values
        arr = _obj_array(
            ("*/*".join(parse_list_wire(v)) if isinstance(v, (list, tuple)) else v for v in arr), n
        )
    codes, uniques = pd.factorize(arr, use_na_sentinel=True)
    parsed = _parse_unique_lists(uniques, labels.id_to_label)
    parsed.append([])
    # one new list per row (rows never share a list object, so editing one cell cannot change another),
    # copied in C (map) rather than in a comprehension
    return _obj_array(map(list.copy, map(parsed.__getitem__, codes.tolist())), n), []


def _read_parent(
    arr: np.ndarray, spec: FieldSpec, labels: _Labels | None, falsy: np.ndarray | None = None
) -> tuple[Any, Bad]:
    fast = _int_cells(arr, falsy)
    problems: Bad = []
    if fast is not None:
        vals, blank = fast
    else:
        blank = _blank_mask(arr)
        num, bad = _numbers(arr, blank)
        bad = bad | (~np.isnan(num) & ((num != np.round(num)) | (np.abs(num) >= _MAX_SAFE_INT)))
        problems = [(int(i), "not a record id") for i in np.flatnonzero(bad)]
        blank = blank | bad
        vals = np.where(blank, 0, num).astype(np.int64)
    na = blank | (vals == 0)
    return pd.arrays.IntegerArray(np.where(na, 0, vals), na), problems


_READERS: dict[str, Callable[..., tuple[Any, Bad]]] = {
    "text": _read_text,
    "numeric": _read_numeric,
    "price": _read_price,
    "date": _read_date,
    "check": _read_check,
    "drop": _read_drop,
    "list": _read_listlike,
    "subscription": _read_listlike,
    "parent": _read_parent,
}


# ----------------------------------------------------------------------------------------------------------
# frame_from_records
# ----------------------------------------------------------------------------------------------------------


def _extract(records: Sequence[Mapping[str, Any]], key: str, n: int) -> np.ndarray:
    try:
        return _obj_array(map(itemgetter(key), records), n)
    except KeyError:
        return _obj_array((r.get(key) for r in records), n)


def _extract_all(
    records: Sequence[Mapping[str, Any]],
    keys: list[str],
    present: set[str],
    uniform: bool,
    empties: dict[str, np.ndarray] | None = None,
    falsies: dict[str, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """All columns at once, as object arrays (a missing key gives None, like a JSON null).

    Records are read row by row (pandas does this in C): reading them column by column touches every
    record once per column, which is several times slower on large record lists. When ``empties`` is
    given it receives the ``""`` mask of each column, found in one pass over the whole block in
    memory order (several times cheaper than one pass per column over strided columns);
    ``falsies`` likewise receives each column's falsy mask (``~col.astype(bool)``: ``""`` and
    None among strings), which then serves as the blank mask of text and number-like columns.
    ``present`` is the union of the records' keys; ``uniform`` says every record has all of them.
    """
    n = len(records)
    wanted = [k for k in keys if k in present]
    out: dict[str, np.ndarray] = {k: np.full(n, None, dtype=object) for k in keys if k not in present}
    if not n or not wanted:
        return out
    rows: np.ndarray | None = None
    if isinstance(records, list) and set(map(type, records)) == {dict}:
        if _dicts_to_array is not None:
            try:
                rows = np.asarray(_dicts_to_array(records, wanted), dtype=object)
            except (TypeError, ValueError, AttributeError):  # pragma: no cover - a changed private API
                rows = None
        if rows is None:  # pragma: no cover - the same, through the public constructor
            frame = pd.DataFrame(records, columns=wanted, dtype=object)
            rows = np.asarray(frame.to_numpy(dtype=object))
    if rows is None:  # other Mapping types: column by column
        out.update({k: _extract(records, k, n) for k in wanted})
        return out
    block = rows.T  # strided views, one per column
    empty_block = falsy_block = None
    if falsies is not None:
        try:
            falsy_block = ~rows.astype(bool).T
        except (TypeError, ValueError):  # a cell with no truth value (pd.NA, an array): per column
            falsy_block = None
    if empties is not None and falsy_block is None:
        empty_block = _empty_mask(rows.reshape(-1)).reshape(rows.shape).T
    for pos, k in enumerate(wanted):
        col = block[pos]
        missing = None
        if not uniform:  # keys missing from some records come back as NaN
            col = col.copy()
            missing = _na_mask(col)
            col[missing] = None
        out[k] = col
        if empty_block is not None and empties is not None:
            empties[k] = empty_block[pos]
        if falsy_block is not None and falsies is not None:
            falsies[k] = falsy_block[pos] if missing is None else falsy_block[pos] | missing
    return out


try:  # pandas' own C reader of a list of dicts (the DataFrame constructor uses it), if it is there
    from pandas._libs.lib import dicts_to_array as _dicts_to_array  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - every supported pandas has it
    _dicts_to_array = None


def _present_keys(
    records: Sequence[Mapping[str, Any]], present: set[str], schema: ObjectSchema, id_field: str
) -> list[str]:
    ordered = [k for k in schema.fields if k in present and k != id_field]
    unknown = present.difference(schema.fields, (id_field,))
    if unknown:
        seen: dict[str, None] = {}
        for r in records:
            for k in r:
                if k in unknown and k not in seen:
                    seen[k] = None
            if len(seen) == len(unknown):
                break
        ordered += list(seen)
    return ordered


def _read_ids(
    arr: np.ndarray, id_field: str, falsy: np.ndarray | None = None
) -> tuple[pd.Index, list[tuple[int, str]]]:
    fast = _int_cells(arr, falsy)
    bad: Bad = []
    if fast is not None:
        ids, na = fast
        ids = np.where(na, 0, ids)
    else:
        blank = _blank_mask(arr)
        num, badm = _numbers(arr, blank)
        badm = badm | (~np.isnan(num) & (num != np.round(num)))
        bad = [(int(i), f"{id_field} is not an integer") for i in np.flatnonzero(badm)]
        na = blank | badm
        ids = np.where(na, 0, num).astype(np.int64)
    return pd.Index(pd.arrays.IntegerArray(ids, na.copy()), name="id"), bad


def frame_from_records(
    records: Sequence[Mapping[str, Any]],
    schema: ObjectSchema,
    *,
    id_field: str = "id",
    lookups: Mapping[str, Mapping[str, str]] | None = None,
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Turn raw wire records into a typed DataFrame.

    Parameters
    ----------
    records : sequence of mappings
        Records as the API returns them (values are mostly strings).
    schema : ObjectSchema
        The object type's fields.
    id_field : str, default ``"id"``
        The record id key (``"form_id"`` for forms). It becomes the ``Int64`` index named ``"id"``.
    lookups : mapping, optional
        For subscription fields: field key -> {id: label} (e.g. ``{"contact_cat": {"12": "VIP"}}``).
        Ids without a label stay as id strings.
    columns : sequence of str, optional
        The columns to build, in this order (missing keys give NA / empty cells). Default: the keys
        present in the records, fields in meta order first, then keys that are not in the schema (kept
        as ``string`` columns) in order of appearance. With no records and no ``columns``, every field.

    Returns
    -------
    DataFrame
        One column per field with the dtype of the type table; see the module docstring.

    Raises
    ------
    SchemaError
        When a wire value does not fit its field (e.g. ``"abc"`` in a numeric field). The message names
        the record id, the field and the value; ``.problems`` lists every bad cell.
    """
    with _gc_paused():
        return _frame_from_records(records, schema, id_field, lookups, columns)


def _frame_from_records(
    records: Sequence[Mapping[str, Any]],
    schema: ObjectSchema,
    id_field: str,
    lookups: Mapping[str, Mapping[str, str]] | None,
    columns: Sequence[str] | None,
) -> pd.DataFrame:
    builder = FrameBuilder(schema, id_field=id_field, lookups=lookups, columns=columns)
    builder.add(records)
    return builder.frame()


_FALSY_KINDS = frozenset({"text", "numeric", "price", "date", "parent"})


def _text_blanks(arr: np.ndarray, falsy: np.ndarray | None) -> np.ndarray | None:
    """A text column's falsy mask as its blank mask, when every falsy cell is ``""`` or None (a JSON
    0 or false in a text field is text, not a blank); None when that is not so or not known."""
    if falsy is None:
        return None
    if not falsy.any():
        return falsy
    return falsy if _types(arr[falsy]) <= {str, type(None)} else None


class _Piece(NamedTuple):
    ids: pd.Index
    keys: list[str]
    data: dict[str, Any]
    problems: list[tuple[str, Problem]]  # (column, problem), in column then row order
    careful: frozenset[str]  # numeric columns read through the careful (float) path


class FrameBuilder:
    """Types wire records batch by batch into the frame :func:`frame_from_records` gives for all of them.

    A load types each batch of pages as it arrives (:meth:`add`, after which the raw records can be
    let go) and joins the typed pieces at the end (:meth:`frame`), column by column. The result is
    the one frame that typing every record at once gives: the same columns in the same order (fields
    in meta order, then keys that are not in the schema in order of first appearance), the same
    dtypes (a numeric column is ``Float64`` as soon as any batch holds a non-integer, or an integer
    beyond 2**53 next to a cell that needed the careful path), the same categories (option labels in
    meta order, then unknown ids in order of first appearance) and the same bad cells, reported
    together by :meth:`frame`.

    Records are not de-duplicated here: the caller keeps each id once.
    """

    def __init__(
        self,
        schema: ObjectSchema,
        *,
        id_field: str = "id",
        lookups: Mapping[str, Mapping[str, str]] | None = None,
        columns: Sequence[str] | None = None,
    ) -> None:
        self.schema = schema
        self.id_field = id_field
        self.lookups = lookups
        self.columns = None if columns is None else [c for c in dict.fromkeys(columns) if c != id_field]
        self._pieces: list[_Piece] = []
        self._rows = 0

    def __len__(self) -> int:
        return self._rows

    def add(self, records: Sequence[Mapping[str, Any]]) -> None:
        """Type a batch of records now (they are not kept)."""
        recs = records if isinstance(records, list) else list(records)
        if not recs:
            return
        with _gc_paused():
            piece = self._type(recs)
        self._pieces.append(piece)
        self._rows += len(recs)

    def _spec(self, key: str) -> FieldSpec:
        return self.schema.fields.get(key) or _text_spec(key)

    def _labels(self, spec: FieldSpec) -> _Labels | None:
        return _labels_for(spec, _field_lookup(self.lookups, spec.key)) if spec.kind in _LABELLED else None

    def _type(self, recs: list[Mapping[str, Any]]) -> _Piece:
        id_field, schema = self.id_field, self.schema
        present: set[str] = set().union(*recs)
        uniform = set(map(len, recs)) <= {len(present)}
        if self.columns is not None:
            keys = self.columns
        elif recs:
            keys = _present_keys(recs, present, schema, id_field)
        else:  # no records: every field
            keys = [k for k in schema.fields if k != id_field]
        empties: dict[str, np.ndarray] = {}
        falsies: dict[str, np.ndarray] = {}
        kinds = [self._spec(k).kind for k in keys]
        # one pass over every cell (in memory order) beats one pass per column over strided columns
        # when enough columns need a blank mask
        blanks = sum(k in _FALSY_KINDS for k in kinds) * 4 >= len(kinds)
        raw = _extract_all(
            recs,
            [id_field, *keys],
            present,
            uniform,
            empties if blanks else None,
            falsies if blanks else None,
        )
        index, id_bad = _read_ids(raw.pop(id_field), id_field, falsies.get(id_field))
        problems = [(id_field, Problem(row=None, column=id_field, value=None, message=m)) for _, m in id_bad]
        data: dict[str, Any] = {}
        careful: set[str] = set()
        for key in keys:
            spec = self._spec(key)
            arr = raw.pop(key)
            falsy = falsies.get(key)
            if spec.kind == "text":
                values, bad = _text_array(arr, empties.get(key, _text_blanks(arr, falsy))), []
            elif spec.kind == "numeric":
                fast = _int_cells(arr, falsy)
                if fast is not None:
                    values, bad = pd.arrays.IntegerArray(*fast), cast(Bad, [])
                else:
                    values, bad = _read_numeric_carefully(arr)
                    careful.add(key)
            elif spec.kind in _FALSY_KINDS:
                values, bad = _READERS[spec.kind](arr, spec, None, falsy)
            else:
                values, bad = _READERS[spec.kind](arr, spec, self._labels(spec))
            problems += [
                (
                    key,
                    Problem(
                        row=_py(index[pos]), column=key, value=arr[pos], message=f"{spec.type} field: {msg}"
                    ),
                )
                for pos, msg in bad
            ]
            data[key] = values
        return _Piece(index, list(keys), data, problems, frozenset(careful))

    def _missing(self, key: str, n: int) -> Any:
        """A column for a batch whose records lack ``key`` (every cell a JSON null)."""
        spec = self._spec(key)
        return _READERS[spec.kind](np.full(n, None, dtype=object), spec, self._labels(spec))[0]

    def frame(self) -> pd.DataFrame:
        """The typed frame of every record added, in the order added.

        Raises
        ------
        SchemaError
            When wire values do not fit their fields: every bad cell of every batch, as
            :func:`frame_from_records` reports them.
        """
        if not self._pieces:
            self._pieces.append(self._type([]))
        keys = self._keys(self._pieces)
        order = {k: i for i, k in enumerate([self.id_field, *keys])}
        problems = [
            p
            for _, p in sorted((pr for pc in self._pieces for pr in pc.problems), key=lambda kp: order[kp[0]])
        ]
        if problems:
            raise _schema_error(problems, f"reading {self.schema.name} records")
        with _gc_paused():
            whole = self._merge(self._pieces, keys)
            self._pieces = []
            self._rows = 0
        if not keys:
            return pd.DataFrame(index=whole.ids)
        return pd.DataFrame(whole.data, index=whole.ids, copy=False)  # our own arrays: no copy

    def merge_tail(self) -> None:
        """Join the newest pieces while the one before is no larger (a binary counter): at most
        about log2(batches) pieces are left for :meth:`frame` to join, each row joined about that
        many times. Called while a load waits on the wire, it keeps the join after the last page
        short."""
        pieces = self._pieces
        with _gc_paused():
            while len(pieces) >= 2 and len(pieces[-2].ids) <= len(pieces[-1].ids):
                pair = pieces[-2:]
                pieces[-2:] = [self._merge(pair, self._keys(pair))]

    def _merge(self, pieces: list[_Piece], keys: list[str]) -> _Piece:
        """Consecutive pieces as one (their columns are let go as they are joined)."""
        if len(pieces) == 1 and pieces[0].keys == keys:
            return pieces[0]
        index = pieces[0].ids.append([p.ids for p in pieces[1:]]) if len(pieces) > 1 else pieces[0].ids
        data: dict[str, Any] = {}
        for key in keys:
            parts = []
            for piece in pieces:
                part = piece.data.pop(key, None)
                parts.append(self._missing(key, len(piece.ids)) if part is None else part)
            data[key] = _join(parts, careful=any(key in p.careful for p in pieces))
        return _Piece(
            index,
            list(keys),
            data,
            [pr for p in pieces for pr in p.problems],
            frozenset().union(*(p.careful for p in pieces)),
        )

    def _keys(self, pieces: list[_Piece]) -> list[str]:
        if self.columns is not None:
            return list(self.columns)
        if len(pieces) == 1:
            return list(pieces[0].keys)
        present = {k for p in pieces for k in p.keys}
        ordered = [k for k in self.schema.fields if k in present and k != self.id_field]
        known = set(ordered)
        ordered += list(dict.fromkeys(k for p in pieces for k in p.keys if k not in known))
        return ordered


def _join(parts: list[Any], *, careful: bool) -> Any:
    """Typed pieces of one column as one array, as if the column had been read at once."""
    first = parts[0]
    if len(parts) == 1:
        return first
    if isinstance(first, np.ndarray):
        return np.concatenate(parts)
    if isinstance(first, pd.Categorical):
        # unordered, every piece's categories start with the options in meta order: the union keeps
        # them and appends the unknown ids in order of first appearance
        return pd.api.types.union_categoricals(parts)
    dtypes = {p.dtype for p in parts}
    if _INT64 in dtypes and (
        _FLOAT64 in dtypes
        or (
            careful
            and any(
                bool((np.abs(p.to_numpy(dtype=np.float64, na_value=0.0)) >= _MAX_SAFE_INT).any())
                for p in parts
            )
        )
    ):
        # a numeric column: Float64 once any cell is not a safe integer (read at once, the careful path
        # turns the whole column to Float64)
        parts = [p.astype(_FLOAT64) if p.dtype == _INT64 else p for p in parts]
    return type(parts[0])._concat_same_type(parts)


_LABELLED = frozenset({"drop", "list", "subscription"})


# ----------------------------------------------------------------------------------------------------------
# Coercion and validation of user-edited columns
# ----------------------------------------------------------------------------------------------------------


def _object_values(values: pd.Series) -> np.ndarray:
    """The cells of a column as an object array (NA stays as its NA object)."""
    return np.asarray(values.astype(object), dtype=object)


def _type_mask(arr: np.ndarray, types: Sequence[type]) -> np.ndarray:
    """Cells whose exact type is one of ``types`` (vectorised over the column)."""
    allowed = frozenset(types)
    return np.fromiter(map(allowed.__contains__, map(type, arr)), dtype=bool, count=len(arr))


_TEXT_OK = (str, np.str_, int, np.int64, np.int32)  # ints are written as their digits


def _coerce_text(values: pd.Series, spec: FieldSpec, labels: _Labels | None, allow: bool) -> tuple[Any, Bad]:
    # "" is NA here as on reading: a cell cleared to "" and a cell set to NA are the same edit
    dtype = values.dtype
    if dtype == _STRING:
        if not bool((values == "").any()):
            return values.array, []
        return _text_array(_object_values(values)), []
    if isinstance(dtype, pd.StringDtype) or pd.api.types.is_integer_dtype(dtype):
        arr = cast(Any, values).to_numpy(dtype=object, na_value=None)
        return _text_array(arr), []
    arr = _object_values(values)
    if pd.api.types.infer_dtype(arr, skipna=True) in ("string", "empty"):
        return _text_array(arr), []
    na = _na_mask(arr)
    bad = ~_type_mask(arr, _TEXT_OK) & ~na
    problems = [
        (int(i), f"a text field takes strings, not {type(arr[i]).__name__}") for i in np.flatnonzero(bad)
    ]
    work = arr.copy()
    work[na | bad] = None
    return _text_array(work), problems


def _coerce_number_like(values: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray, Bad]:
    """Any column -> (floats, na, bad, problems) for numeric kinds."""
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype):
        arr = _object_values(values)
        na = _na_mask(arr)
        bad = ~na
        return np.zeros(len(arr)), na, bad, [(int(i), "a boolean, not a number") for i in np.flatnonzero(bad)]
    if pd.api.types.is_numeric_dtype(dtype):
        num = values.to_numpy(dtype=np.float64, na_value=np.nan)
        na = np.isnan(num)
        bad = np.isinf(num)
        return num, na, bad, [(int(i), "not a finite number") for i in np.flatnonzero(bad)]
    arr = _object_values(values)
    blank = _blank_mask(arr)
    num, bad = _numbers(arr, blank)
    return num, blank, bad, [(int(i), "not a number") for i in np.flatnonzero(bad)]


def _coerce_numeric(
    values: pd.Series, spec: FieldSpec, labels: _Labels | None, allow: bool
) -> tuple[Any, Bad]:
    dtype = values.dtype
    if dtype == _INT64:
        return values.array, []
    if dtype == _FLOAT64 and not _float_all_integral(values):
        return values.array, []  # the Float64 fallback for numeric fields that hold non-integers
    if pd.api.types.is_integer_dtype(dtype):
        return pd.array(cast(Any, values).to_numpy(dtype=object, na_value=None), dtype=_INT64), []
    num, na, bad, problems = _coerce_number_like(values)
    na = na | bad
    finite = num[~na]
    if np.all(finite == np.round(finite)):
        big = ~na & (np.abs(np.where(na, 0.0, num)) >= _MAX_SAFE_INT)
        problems += [(int(i), "too large for an exact integer") for i in np.flatnonzero(big)]
        na = na | big
        return pd.arrays.IntegerArray(np.where(na, 0, num).astype(np.int64), na), sorted(problems)
    return pd.arrays.FloatingArray(np.where(na, 0.0, num), na), problems


def _float_all_integral(values: pd.Series) -> bool:
    num = values.to_numpy(dtype=np.float64, na_value=np.nan)
    num = num[~np.isnan(num)]
    return bool(np.all(num == np.round(num)) and np.all(np.abs(num) < _MAX_SAFE_INT))


def _coerce_price(values: pd.Series, spec: FieldSpec, labels: _Labels | None, allow: bool) -> tuple[Any, Bad]:
    num, na, bad, problems = _coerce_number_like(values)
    big = ~na & ~bad & (np.abs(np.where(na | bad, 0.0, num)) >= _PRICE_MAX)
    problems += [(int(i), "too large to keep exact cents") for i in np.flatnonzero(big)]
    na = na | bad | big
    if values.dtype == _FLOAT64 and not problems:
        return values.array, []
    return pd.arrays.FloatingArray(np.where(na, 0.0, num), na), sorted(problems)


_NUMBER_TYPES = (int, float, bool, np.int64, np.int32, np.float64, np.float32, np.bool_, Decimal)
_TS_MIN = pd.Timestamp.min.ceil("s").tz_localize("UTC")
_TS_MAX = pd.Timestamp.max.floor("s").tz_localize("UTC")


def _coerce_date(values: pd.Series, spec: FieldSpec, labels: _Labels | None, allow: bool) -> tuple[Any, Bad]:
    dtype = values.dtype
    if dtype == _DATETIME:
        return values.array, []
    problems: Bad = []
    if isinstance(dtype, pd.DatetimeTZDtype):
        dt = values.dt.tz_convert("UTC")
    elif pd.api.types.is_datetime64_dtype(dtype):
        dt = values.dt.tz_localize("UTC")
    else:
        arr = _object_values(values)
        blank = _blank_mask(arr)
        if pd.api.types.infer_dtype(arr, skipna=True) in ("string", "empty", "datetime", "date"):
            isnum = np.zeros(len(arr), dtype=bool)
        else:
            isnum = _type_mask(arr, _NUMBER_TYPES)
        numeric_bad = isnum & ~blank
        problems += [
            (int(i), "a number; give a datetime or an ISO 8601 string (unix seconds are ambiguous here)")
            for i in np.flatnonzero(numeric_bad)
        ]
        work = arr.copy()
        work[blank | numeric_bad] = None
        parsed = pd.to_datetime(pd.Series(work, dtype=object), utc=True, errors="coerce", format="ISO8601")
        unparsed = parsed.isna().to_numpy() & ~blank & ~numeric_bad
        problems += [
            (int(i), "not a date (use ISO 8601, e.g. '2025-01-31')") for i in np.flatnonzero(unparsed)
        ]
        dt = parsed
    ok = dt.notna().to_numpy()
    out = ok & ((dt < _TS_MIN) | (dt > _TS_MAX)).to_numpy(dtype=bool, na_value=False)
    if out.any():
        problems += [(int(i), "outside 1677-2262") for i in np.flatnonzero(out)]
        dt = dt.where(~out)
    return dt.astype(_DATETIME).array, sorted(problems)


_CHECK_COERCE: dict[Any, bool] = {"1": True, "0": False, "true": True, "false": False, 1: True, 0: False}


def _coerce_check(values: pd.Series, spec: FieldSpec, labels: _Labels | None, allow: bool) -> tuple[Any, Bad]:
    dtype = values.dtype
    if dtype == _BOOLEAN:
        return values.array, []
    if pd.api.types.is_bool_dtype(dtype):
        return pd.array(values.to_numpy(), dtype=_BOOLEAN), []
    arr = _object_values(values)
    codes, uniques = pd.factorize(arr, use_na_sentinel=True)
    u_val = np.zeros(len(uniques) + 1, dtype=bool)
    u_na = np.ones(len(uniques) + 1, dtype=bool)
    u_bad = np.zeros(len(uniques) + 1, dtype=bool)
    for i, u in enumerate(uniques):
        key = u.strip().lower() if isinstance(u, str) else u
        if isinstance(u, str) and key == "":
            continue
        try:
            got = _CHECK_COERCE.get(key)
        except TypeError:
            got = None
        if got is None:
            u_bad[i] = True
        else:
            u_val[i], u_na[i] = got, False
    problems = [(int(i), "not True/False (or 1/0)") for i in np.flatnonzero(u_bad[codes])]
    return pd.arrays.BooleanArray(u_val[codes], u_na[codes]), problems


def _coerce_drop(values: pd.Series, spec: FieldSpec, labels: _Labels | None, allow: bool) -> tuple[Any, Bad]:
    assert labels is not None
    arr = _object_values(values)
    codes, uniques = pd.factorize(arr, use_na_sentinel=True)
    ustr: list[str | None] = []
    u_bad: list[str | None] = []
    for u in uniques:
        if not isinstance(u, str):
            ustr.append(None)
            u_bad.append(f"an option label (a string), not {type(u).__name__}")
        elif u in labels.label_to_id or _is_raw_id(u):
            ustr.append(u)
            u_bad.append(None)
        else:
            ustr.append(None)
            u_bad.append(_not_an_option(u, labels))
    # labels map to themselves here; raw ids become extra categories
    fake = _Labels({**{lab: lab for lab in labels.labels}}, labels.label_to_id, labels.labels)
    dtype, cat_codes = _drop_dtype_and_codes(ustr, codes, fake)
    flagged = np.array([b is not None for b in u_bad] + [False], dtype=bool)
    problems = [(int(i), str(u_bad[codes[i]])) for i in np.flatnonzero(flagged[codes])]
    return pd.Categorical.from_codes(cat_codes, dtype=dtype), problems


def _not_an_option(value: str, labels: _Labels, what: str = "options") -> str:
    near = difflib.get_close_matches(value, labels.labels, n=3, cutoff=0.6)
    shown = labels.labels[:12]
    msg = f"not one of the {what}: " + ", ".join(repr(x) for x in shown)
    if len(labels.labels) > len(shown):
        msg += f", … ({len(labels.labels)} in all)"
    if not labels.labels:
        msg = f"not one of the {what} (there are none)"
    if near:
        msg += "; did you mean " + ", ".join(repr(x) for x in near) + "?"
    return msg


def _coerce_listlike(
    values: pd.Series, spec: FieldSpec, labels: _Labels | None, allow: bool
) -> tuple[Any, Bad]:
    assert labels is not None
    arr = _object_values(values)
    n = len(arr)
    subscription = spec.kind == "subscription"
    if _types(arr) <= {list}:  # the usual case: every cell a list; check the distinct labels once
        distinct = set(chain.from_iterable(arr.tolist()))
        if all(type(x) is str for x in distinct):
            unknown = distinct.difference(labels.label_to_id)
            if not (subscription and allow) and any(not _is_raw_id(x) for x in unknown):
                pass  # some label does not fit: the per-cell pass below names each bad cell
            else:
                return arr, []
    what = "names known for this field" if subscription else "options"
    out: list[list[str]] = []
    problems: Bad = []
    for pos, v in enumerate(arr):
        if isinstance(v, np.ndarray):
            v = v.tolist()
        if isinstance(v, (list, tuple)):
            items = list(v)
        elif isinstance(v, str) and v.startswith("*/*"):
            items = [labels.id_to_label.get(i, i) for i in parse_list_wire(v)]
        elif isinstance(v, str) and v == "":
            items = []
        elif _isna_scalar(v):
            items = []
        else:
            problems.append((pos, f"a list of labels (e.g. ['Gold']), not {type(v).__name__} {_short(v)}"))
            out.append([])
            continue
        for item in items:
            if not isinstance(item, str):
                problems.append((pos, f"labels are strings, not {type(item).__name__} {_short(item)}"))
                break
            if item not in labels.label_to_id and not _is_raw_id(item) and not (subscription and allow):
                problems.append((pos, f"{item!r} is " + _not_an_option(item, labels, what)))
                break
        out.append([str(x) for x in items])
    return _obj_array(out, n), problems


def _coerce_parent(
    values: pd.Series, spec: FieldSpec, labels: _Labels | None, allow: bool
) -> tuple[Any, Bad]:
    if values.dtype == _INT64:
        arr = values.array
        zero = (arr == 0).to_numpy(dtype=bool, na_value=False)
        if not zero.any():
            return arr, []
        return pd.arrays.IntegerArray(values.to_numpy(dtype=np.int64, na_value=0), arr.isna() | zero), []
    num, na, bad, problems = _coerce_number_like(values)
    frac = ~na & ~bad & ((num != np.round(num)) | (num < 0) | (np.abs(num) >= _MAX_SAFE_INT))
    problems += [(int(i), "not a record id (a whole number >= 0)") for i in np.flatnonzero(frac)]
    na = na | bad | frac
    ints = np.where(na, 0, num).astype(np.int64)
    if pd.api.types.is_integer_dtype(values.dtype):
        ints = np.where(na, 0, values.to_numpy(dtype=np.int64, na_value=0))
    na = na | (ints == 0)
    return pd.arrays.IntegerArray(ints, na), sorted(problems)


_COERCERS: dict[str, Callable[[pd.Series, FieldSpec, _Labels | None, bool], tuple[Any, Bad]]] = {
    "text": _coerce_text,
    "numeric": _coerce_numeric,
    "price": _coerce_price,
    "date": _coerce_date,
    "check": _coerce_check,
    "drop": _coerce_drop,
    "list": _coerce_listlike,
    "subscription": _coerce_listlike,
    "parent": _coerce_parent,
}


def _coerce(
    values: pd.Series, spec: FieldSpec, lookup: Mapping[Any, Any] | None, allow_unknown_labels: bool
) -> tuple[pd.Series, list[Problem]]:
    if not isinstance(values, pd.Series):
        values = pd.Series(values)
    labels = _labels_for(spec, lookup) if spec.kind in _LABELLED else None
    arr, bad = _COERCERS[spec.kind](values, spec, labels, allow_unknown_labels)
    problems: list[Problem] = []
    if bad:
        original = _object_values(values)
        problems = [
            Problem(
                row=_py(values.index[pos]),
                column=spec.key,
                value=original[pos],
                message=f"{spec.type} field: {msg}",
            )
            for pos, msg in bad
        ]
    out = pd.Series(arr, index=values.index, name=values.name, copy=False)
    return out, problems


class BadCell(NamedTuple):
    """One cell that does not fit its field: unpacks as ``row, value, message``."""

    row: Any
    value: Any
    message: str


def check_column(
    values: pd.Series,
    spec: FieldSpec,
    *,
    lookups: Mapping[str, str] | None = None,
    allow_unknown_labels: bool = False,
) -> list[BadCell]:
    """Every cell of ``values`` that cannot be written to ``spec``'s field.

    Parameters
    ----------
    values : Series
        A (possibly user-edited) column; any dtype.
    spec : FieldSpec
        The field.
    lookups : mapping, optional
        For a subscription field: id -> label.
    allow_unknown_labels : bool, default False
        For a subscription field: accept names with no id (a writer that creates tags by name).

    Returns
    -------
    list of BadCell
        One ``(row, value, message)`` per bad cell, in row order (row is the index label); empty when
        every cell fits. The column is ``spec.key``.
    """
    problems = _coerce(values, spec, lookups, allow_unknown_labels)[1]
    return [BadCell(p.row, p.value, p.message) for p in problems]


def coerce_column(
    values: pd.Series,
    spec: FieldSpec,
    *,
    lookups: Mapping[str, str] | None = None,
    allow_unknown_labels: bool = False,
) -> pd.Series:
    """Cast a user-edited column to the field's dtype (strings into dates, floats into ``Int64``, …).

    Accepted input per type: text takes strings (and ints, as their digits); numeric and parent take
    numbers or numeric strings (floats must be whole for parent; numeric keeps non-integers as
    ``Float64``); price takes numbers or numeric strings; dates take datetimes, ``date`` objects,
    ``Timestamp`` s and ISO 8601 strings (naive = UTC; bare numbers are refused as ambiguous); check
    takes booleans, 1/0, ``"1"``/``"0"``, ``"true"``/``"false"``; drop takes option labels (or an
    all-digit raw option id); list and subscription take lists of labels (or a ``*/*`` wire string).
    Empty strings and NA-likes become NA (``[]`` for lists).

    Returns
    -------
    Series
        Same index and name, with the dtype of the type table.

    Raises
    ------
    SchemaError
        Naming the row, column and value of the first bad cells; ``.problems`` lists every bad cell
        (the same list :func:`check_column` returns).
    """
    out, problems = _coerce(values, spec, lookups, allow_unknown_labels)
    if problems:
        raise _schema_error(problems, f"column {spec.key!r} ({spec.type})")
    return out


def check_frame(
    frame: pd.DataFrame,
    schema: ObjectSchema,
    *,
    lookups: Mapping[str, Mapping[str, str]] | None = None,
    allow_unknown_labels: bool = False,
) -> list[Problem]:
    """Every bad cell of every column of ``frame`` that is a field of ``schema``.

    Columns that are not fields of the schema are not checked (they are written as text). Returns a
    list of :class:`~ontraport_pandas.errors.Problem`, in column order then row order.
    """
    problems: list[Problem] = []
    for col in frame.columns:
        spec = schema.fields.get(col)
        if spec is None:
            continue
        problems += _coerce(frame[col], spec, _field_lookup(lookups, col), allow_unknown_labels)[1]
    return problems


# ----------------------------------------------------------------------------------------------------------
# Writers: typed array -> wire object array
# ----------------------------------------------------------------------------------------------------------


def _ints_to_str(ints: np.ndarray) -> np.ndarray:
    """Integers as decimal strings, an object array (each distinct value formatted once when few repeat)."""
    if _few_distinct(ints):
        codes, uniques = pd.factorize(ints)
        return np.asarray(uniques.astype(str).astype(object)[codes], dtype=object)
    return ints.astype(str).astype(object)


def _write_text(s: pd.Series, spec: FieldSpec, labels: _Labels | None) -> list[Any]:
    return cast(Any, s).to_numpy(dtype=object, na_value=None).tolist()


def _float_to_str(num: np.ndarray) -> np.ndarray:
    """Shortest decimal strings that read back to the same floats (no exponent, no trailing ``.0``)."""
    out = num.astype(str).astype(object)
    whole = num == np.round(num)
    small = whole & (np.abs(num) < _MAX_SAFE_INT)
    if small.any():
        out[small] = _ints_to_str(num[small].astype(np.int64))
    # numpy writes an exponent from 1e16 and below 1e-4, and "….0" for big whole numbers: spell those out
    mag = np.abs(num)
    for i in np.flatnonzero((whole & ~small) | (mag >= 1e16) | ((mag < 1e-4) & (num != 0))):
        out[i] = np.format_float_positional(num[i], trim="-")
    return out


def _write_numeric(s: pd.Series, spec: FieldSpec, labels: _Labels | None) -> list[Any]:
    if s.dtype == _FLOAT64:
        out = _float_to_str(s.to_numpy(dtype=np.float64, na_value=0.0))
    else:
        out = _ints_to_str(s.to_numpy(dtype=np.int64, na_value=0))
    out[s.isna().to_numpy()] = ""
    return out.tolist()


_FRAC = np.array([f"{i:02d}" for i in range(100)], dtype=object)


def _cents(num: np.ndarray) -> np.ndarray:
    """Whole cents, half-even; exact for every value with at most two decimals."""
    scaled = num * 100.0
    cents = np.rint(scaled)
    frac = np.abs(scaled - np.trunc(scaled))
    for i in np.flatnonzero(np.abs(frac - 0.5) < 1e-6):  # near a half cent: decide on the decimal shown
        dec = Decimal(repr(float(num[i]))).scaleb(2).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
        cents[i] = float(dec)
    return cents.astype(np.int64)


def _cents_to_str(cents: np.ndarray) -> np.ndarray:
    mag = np.abs(cents)
    sign = np.where(cents < 0, "-", "").astype(object)
    return np.asarray(sign + (mag // 100).astype(str).astype(object) + "." + _FRAC[mag % 100], dtype=object)


def _write_price(s: pd.Series, spec: FieldSpec, labels: _Labels | None) -> list[Any]:
    cents = _cents(s.to_numpy(dtype=np.float64, na_value=0.0))
    if _few_distinct(cents):
        codes, uniques = pd.factorize(cents)
        out = _cents_to_str(uniques)[codes]
    else:
        out = _cents_to_str(cents)
    out[s.isna().to_numpy()] = ""
    return out.tolist()


def _write_date(s: pd.Series, spec: FieldSpec, labels: _Labels | None) -> list[Any]:
    na = s.isna().to_numpy()
    ns = s.to_numpy(dtype="datetime64[ns]").view(np.int64)
    secs = np.where(na, 0, ns) // np.int64(1_000_000_000)
    return _ints_to_str(secs).tolist()  # NaT -> 0 -> "0"


def _write_check(s: pd.Series, spec: FieldSpec, labels: _Labels | None) -> list[Any]:
    vals = s.to_numpy(dtype=bool, na_value=False)
    return np.where(vals, "1", "0").astype(object).tolist()


def _write_drop(s: pd.Series, spec: FieldSpec, labels: _Labels | None) -> list[Any]:
    assert labels is not None
    cat = s.array
    assert isinstance(cat, pd.Categorical)
    ids = []
    for c in cat.categories:
        oid = labels.label_to_id.get(c)
        ids.append(oid if oid is not None else str(c))
    table = np.array([*ids, "0"], dtype=object)
    return table[cat.codes].tolist()


def _write_listlike(s: pd.Series, spec: FieldSpec, labels: _Labels | None) -> list[Any]:
    assert labels is not None
    get = labels.label_to_id.get
    return ["*/*" + "*/*".join(map(get, v, v)) + "*/*" if v else "" for v in s.to_numpy().tolist()]


def _write_parent(s: pd.Series, spec: FieldSpec, labels: _Labels | None) -> list[Any]:
    return _ints_to_str(s.to_numpy(dtype=np.int64, na_value=0)).tolist()


_WRITERS: dict[str, Callable[[pd.Series, FieldSpec, _Labels | None], list[Any]]] = {
    "text": _write_text,
    "numeric": _write_numeric,
    "price": _write_price,
    "date": _write_date,
    "check": _write_check,
    "drop": _write_drop,
    "list": _write_listlike,
    "subscription": _write_listlike,
    "parent": _write_parent,
}


def _subscription_unknown(s: pd.Series, spec: FieldSpec, labels: _Labels) -> list[Problem]:
    problems = []
    for pos, v in enumerate(s.to_numpy()):
        for item in v:
            if item not in labels.label_to_id and not _is_raw_id(item):
                problems.append(
                    Problem(
                        row=_py(s.index[pos]),
                        column=spec.key,
                        value=v,
                        message=f"{spec.type} field: no id is known for {item!r}; create it first "
                        "(tags can be added by name)",
                    )
                )
                break
    return problems


def _to_wire(values: pd.Series, spec: FieldSpec, lookup: Mapping[Any, Any] | None) -> list[Any]:
    typed = coerce_column(values, spec, lookups=lookup, allow_unknown_labels=True)
    labels = _labels_for(spec, lookup) if spec.kind in _LABELLED else None
    if spec.kind == "subscription":
        assert labels is not None
        problems = _subscription_unknown(typed, spec, labels)
        if problems:
            raise _schema_error(problems, f"column {spec.key!r} ({spec.type})")
    return _WRITERS[spec.kind](typed, spec, labels)


def column_to_wire(
    values: pd.Series, spec: FieldSpec, *, lookups: Mapping[str, str] | None = None
) -> pd.Series:
    """A column as wire values: an object Series of strings (``None`` where a text cell is NA).

    The column is first cast with :func:`coerce_column`, so user-edited columns work too.

    Raises
    ------
    SchemaError
        When cells do not fit the field (``.problems`` lists them), or a subscription name has no id.
    """
    if not isinstance(values, pd.Series):
        values = pd.Series(values)
    out = np.empty(len(values), dtype=object)
    out[:] = _to_wire(values, spec, lookups)
    return pd.Series(out, index=values.index, name=values.name, dtype=object)


def value_to_wire(value: Any, spec: FieldSpec, *, lookups: Mapping[str, str] | None = None) -> Any:
    """One value as its wire form (a string, or ``None`` for an NA text value).

    Raises
    ------
    SchemaError
        ``field X does not take value V: why`` for a value that does not fit (an unknown label, a
        non-number in a numeric field, an unparsable date, a tag name with no id).
    """
    s = pd.Series([value], dtype=object)
    try:
        return _to_wire(s, spec, lookups)[0]
    except SchemaError as exc:
        problems = getattr(exc, "problems", None)
        if problems:
            why = problems[0].message.split(": ", 1)[-1]
            err = SchemaError(f"field {spec.key!r} ({spec.type}) does not take value {_short(value)}: {why}")
            err.problems = problems
            raise err from None
        raise


def frame_to_records(
    frame: pd.DataFrame,
    schema: ObjectSchema,
    *,
    id_field: str = "id",
    lookups: Mapping[str, Mapping[str, str]] | None = None,
) -> list[dict[str, Any]]:
    """The inverse of :func:`frame_from_records`: one wire dict per row, the id included.

    The id (from the index) comes first, as a string; it is left out for rows whose id is NA (new
    records). Columns that are not fields of the schema are written as text.

    Raises
    ------
    SchemaError
        When cells do not fit their fields (``.problems`` lists every bad cell of the first bad column).
    """
    with _gc_paused():
        return _frame_to_records(frame, schema, id_field, lookups)


def _frame_to_records(
    frame: pd.DataFrame,
    schema: ObjectSchema,
    id_field: str,
    lookups: Mapping[str, Mapping[str, str]] | None,
) -> list[dict[str, Any]]:
    keys = list(frame.columns)
    cols: list[list[Any]] = []
    for key in keys:
        spec = schema.fields.get(key) or _text_spec(str(key))
        cols.append(_to_wire(cast(Any, frame).iloc[:, len(cols)], spec, _field_lookup(lookups, key)))
    idx = frame.index
    if idx.dtype == _INT64 or pd.api.types.is_integer_dtype(idx.dtype):
        id_na = np.asarray(idx.isna(), dtype=bool)
        ids = _ints_to_str(np.asarray(idx.to_numpy(dtype=np.int64, na_value=0))).tolist()
    else:
        id_na = np.asarray(pd.isna(idx), dtype=bool)
        ids = [str(v) for v in idx]
    all_keys = [id_field, *keys]
    template = dict.fromkeys(all_keys)  # copying a pre-sized dict is faster than building each one
    records: list[dict[str, Any]] = []
    append = records.append
    for row in zip(ids, *cols, strict=True):
        rec = template.copy()
        rec.update(zip(all_keys, row, strict=True))
        append(rec)
    for pos in np.flatnonzero(id_na).tolist():
        del records[pos][id_field]
    return records
