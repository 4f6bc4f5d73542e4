"""``where=`` expressions: pandas-style filters compiled to Ontraport ``condition`` JSON.

:func:`compile_where` parses an expression such as ``"bulk_mail == 1 and date >= '2025-01-01'"`` with
:mod:`ast` (it is never evaluated) and returns a :class:`CompiledWhere` with

- ``condition``: the Ontraport condition list to send (``[]`` means no condition);
- ``mask(frame)``: the exact pandas boolean mask of the same expression on a typed frame (as built by
  :func:`ontraport_pandas.schema.frame_from_records`);
- ``columns``: the field keys the expression reads (load them so that ``mask`` can run).

The contract
------------
The pushed-down condition selects a **superset** of the rows that ``mask`` selects; ``mask`` gives the
exact rows. A loader sends ``condition``, converts the reply, then keeps ``frame[compiled.mask(frame)]``.
Why a superset and not always the same rows: the server may compare text case-insensitively (MySQL
collations; ``"Bob" = "bob"``), and a numeric field may hold ``""`` where the frame holds NA. When
neither can matter, ``CompiledWhere.exact`` is True and the condition selects exactly the mask's rows
(on a server that stores the wire strings and compares numbers as numbers).

Supported forms
---------------
Column names are field keys (``firstname``, ``f1001``) or ``id`` / ``index`` (the record id). Use
backticks for a key that is a Python keyword (```from` == 'x'``).

- ``col == v``, ``!=``, ``<``, ``<=``, ``>``, ``>=`` with a literal on either side; chains
  (``a < col < b``) become two terms;
- ``col in [..]`` / ``col not in [..]`` / ``col.isin([..])`` -> ``IN`` / ``NOT IN``;
- ``and`` / ``or`` / ``not`` and ``&`` / ``|`` / ``~`` (with parentheses, as in ``DataFrame.query``);
  ``not`` is pushed down to the terms (De Morgan), which is exact under three-valued logic;
- ``col.isna()`` / ``isnull()`` / ``notna()`` / ``notnull()``; ``col == None`` / ``col is None`` mean
  ``isna()`` (and ``!=`` / ``is not`` mean ``notna()``), unlike raw pandas where ``== None`` is False;
- ``col.str.contains("x")`` (literal text; ``regex=True`` only for patterns without regex
  metacharacters), ``.str.startswith("x")``, ``.str.endswith("x")`` -> ``LIKE`` with ``%``;
- ``"VIP" in contact_cat`` for list and subscription fields -> ``LIKE "%*/*<id>*/*%"``;
- a check field alone (``f1301``, ``not f1301``) or compared with ``True`` / ``False`` / ``1`` / ``0``;
- ``col.between(a, b, inclusive="both")`` -> two comparisons (``"neither"``, ``"left"``, ``"right"``);
- ``col.str.contains(x, case=False)``, regular expressions (``regex=True`` with metacharacters,
  ``flags=``) and text holding ``%``, ``_`` or ``\\`` are evaluated by the mask only (the server's LIKE
  may or may not ignore case, and has no regex);
- ``@name`` is a value: ``params[name]`` if given, else the ``namespace`` mapping (the loaders pass the
  caller's locals and globals, like ``DataFrame.query``). Scalars (numpy and pandas ones too),
  ``pd.Timestamp`` / ``datetime`` / ``date`` for dates, and lists, tuples, sets, arrays or Series for
  ``in`` / ``isin``. An empty list from a variable selects no row (``in``) or the rows that are not NA
  (``not in``); sent as ``id IN ["0"]`` (ids are positive) and ``notna()``.

Bounds: an expression longer than :data:`MAX_EXPRESSION_CHARS` or nesting groups deeper than
:data:`MAX_DEPTH` raises :class:`~ontraport_pandas.errors.QueryError` (never ``RecursionError`` or
``MemoryError``); ``not`` chains and ``&`` / ``|`` chains are walked without recursion, and compiling is
linear in the number of terms.

Long conditions
---------------
GET requests carry the condition in the URL. :func:`split_condition` cuts a condition longer than
:data:`MAX_CONDITION_CHARS` (URL-encoded) into several whose union, merged by id, is the original (``IN``
lists cut in parts, ORed items packed into OR chains), or a superset when it cannot (parts of an AND chain
left out, ``NOT IN`` lists): the mask finishes it. The limit is a choice, since Ontraport's is not
documented: common front servers refuse request lines over 8 KiB, so 6,000 characters.

Values go through the field's type: dates are ISO strings (naive = UTC) -> unix seconds; drop and list
labels -> option ids; tag names -> ids through ``lookups``; booleans -> ``"1"`` / ``"0"``; numbers ->
decimal strings.

NA semantics
------------
``mask`` uses three-valued (Kleene) logic, like pandas' nullable dtypes and like SQL: a comparison with
an NA cell is NA, ``not NA`` is NA, and NA rows are finally *not* selected. So ``col != 5`` does not
select rows where ``col`` is NA, which matches SQL ``<>`` (it excludes NULL) — and for field types
whose "unset" is a value on the wire (``"0"`` for dates, drop, parent), the condition excludes that
value too (``NOT IN ["5", "0", ""]``). ``isna()`` on such a type is ``IS "NULL" OR IN ["0", ""]``
(dates, drop, parent), ``IS "NULL" OR = ""`` (numeric, price, check, text: a text ``""`` reads as NA);
``notna()`` is ``NOT IN ["0", ""]`` (dates, drop, parent), ``IN ["0", "1"]`` (check), ``LIKE "%_%"``
(text), ``LIKE "%"`` (numeric, which is then a superset: a numeric ``""`` is NA in the frame). A list
cell is never NA (it is ``[]``).

Grouping
--------
Ontraport's condition list is flat, and whether a mixed AND/OR list is read left to right or with AND
binding tighter is not documented. Only lists that mean the same under both readings are emitted:
a chain of ANDs, a chain of ORs, or one conjunction followed by ORed single terms
(``a AND b OR c OR d``); operands are reordered to reach that form, and ORs of equalities on one column
become ``IN`` (ANDs of inequalities on one column become ``NOT IN``). Anything else, e.g.
``(a or b) and (c or d)``, raises :class:`~ontraport_pandas.errors.QueryError`.

What raises
-----------
:class:`~ontraport_pandas.errors.UnknownFieldError` for an unknown column, before anything else.
:class:`~ontraport_pandas.errors.QueryError`, quoting the part and saying why, for anything that cannot
be pushed down exactly: arithmetic, calls other than the ones above, two columns compared, regex
patterns, ``LIKE`` text containing ``%``, ``_`` or ``\\``, unknown labels, text ``!=`` / ordering /
``not in`` (a case-insensitive server would drop rows), ``not`` of ``LIKE`` (there is no NOT LIKE),
equality on list fields, and ungroupable mixes. With ``partial=True`` the last kinds (parts the server
cannot do, or cannot group) are left to ``mask`` instead: the condition is then a superset made of the
rest, and ``CompiledWhere.local_only`` lists the parts that were not pushed. The loaders
(``op.frame()``, the accessors, ``op.count()``) always compile with ``partial=True``.
"""

from __future__ import annotations

import ast
import datetime as _dt
import difflib
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import reduce
from typing import Any
from urllib.parse import quote

import numpy as np
import pandas as pd

from .errors import QueryError, UnknownFieldError
from .schema import FieldSpec, ObjectSchema, coerce_column

__all__ = ["MAX_CONDITION_CHARS", "CompiledWhere", "compile_where", "split_condition"]

_ID_NAMES = ("id", "index")
_ZERO_NA = frozenset({"date", "parent", "drop"})  # "0" (and "") on the wire mean NA
_NUMBERS = frozenset({"numeric", "price", "id", "parent"})
_LIKE_SPECIAL = re.compile(r"[%_\\]")
_REGEX_META = re.compile(r"[.^$*+?{}\[\]\\|()]")
_NEGATE = {
    "==": "!=",
    "!=": "==",
    "<": ">=",
    ">=": "<",
    "<=": ">",
    ">": "<=",
    "in": "not in",
    "not in": "in",
    "isna": "notna",
    "notna": "isna",
    "contains": "not contains",
    "not contains": "contains",
    "startswith": "not startswith",
    "not startswith": "startswith",
    "endswith": "not endswith",
    "not endswith": "endswith",
    "has": "not has",
    "not has": "has",
}
_FLIP = {"==": "==", "!=": "!=", "<": ">", ">": "<", "<=": ">=", ">=": "<="}
_CMP_OPS: dict[type, str] = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
}
_SQL_OP = {"==": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


# ----------------------------------------------------------------------------------------------------------
# Public result
# ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CompiledWhere:
    """A compiled ``where=`` expression.

    Attributes
    ----------
    condition : list
        The Ontraport condition list (JSON-able): condition objects with ``"AND"`` / ``"OR"`` between
        them; ``[]`` means no condition.
    columns : frozenset of str
        The columns the expression reads (field keys; ``"id"`` for the record id).
    exact : bool
        True when the condition selects exactly the rows of :meth:`mask` (no text comparison, nothing
        left to the mask); otherwise it selects a superset of them.
    local_only : tuple of str
        With ``partial=True``: the parts of the expression that were not pushed down.
    expr : str
        The expression as given.
    """

    condition: list[Any]
    columns: frozenset[str]
    exact: bool = True
    local_only: tuple[str, ...] = ()
    expr: str = ""
    _pred: Any = field(default=None, repr=False, compare=False)

    def mask(self, frame: pd.DataFrame) -> pd.Series:
        """The exact rows of the expression: a boolean Series aligned to ``frame.index``.

        ``frame`` is a typed frame (its columns as :func:`~ontraport_pandas.schema.frame_from_records`
        builds them; other dtypes are cast first). NA cells compare as NA and are not selected.
        """
        if self._pred is None:
            return pd.Series(True, index=frame.index, dtype=bool)
        result = self._pred.evaluate(frame)
        values = np.asarray(result.to_numpy(dtype=bool, na_value=False), dtype=bool)
        return pd.Series(values, index=frame.index, name=None, dtype=bool)


# ----------------------------------------------------------------------------------------------------------
# The predicate tree (what the user wrote, negations pushed into the terms)
# ----------------------------------------------------------------------------------------------------------


class _NotPushable(Exception):
    """An atom the server cannot evaluate (left to the mask with partial=True)."""


@dataclass
class _Atom:
    column: str  # the frame column (field key), or "id" for the index
    field_name: str  # the name in the condition (field key or id field)
    family: str  # text numeric price id parent date check drop list subscription
    op: str
    value: Any  # Python-side value(s) for the mask
    wire: Any  # wire value(s) for the condition
    segment: str
    spec: FieldSpec | None
    lookup: Mapping[str, str] | None = None
    local_reason: str | None = None  # set when the server cannot evaluate this term at all
    options: dict[str, Any] = field(default_factory=dict)  # .str.contains: case, regex, flags

    # -- mask ---------------------------------------------------------------------------------------

    def _series(self, frame: pd.DataFrame) -> pd.Series:
        if self.column == "id":
            return pd.Series(frame.index, index=frame.index)
        if self.column not in frame.columns:
            raise QueryError(
                f"cannot evaluate `{self.segment}`: the frame has no column {self.column!r} (load it too)"
            )
        s = frame[self.column]
        spec = self.spec
        if spec is None or self.family in ("list", "subscription"):
            return s
        want = spec.dtype
        if self.family == "numeric" and s.dtype in (pd.Int64Dtype(), pd.Float64Dtype()):
            return s
        if self.family == "drop" and isinstance(s.dtype, pd.CategoricalDtype):
            return s
        if s.dtype != want:
            s = coerce_column(s, spec, lookups=self.lookup, allow_unknown_labels=True)
        return s

    def evaluate(self, frame: pd.DataFrame) -> Any:
        s = self._series(frame)
        op, v = self.op, self.value
        if op in ("has", "not has"):
            cells = s.to_numpy(dtype=object).tolist()
            hit = np.fromiter(
                (isinstance(c, (list, tuple, np.ndarray)) and v in list(c) for c in cells),
                dtype=bool,
                count=len(cells),
            )
            return pd.array(hit if op == "has" else ~hit, dtype="boolean")
        na = np.asarray(s.isna(), dtype=bool)
        if op == "isna":
            return pd.array(na, dtype="boolean")
        if op == "notna":
            return pd.array(~na, dtype="boolean")
        if op in ("in", "not in"):
            raw = s.isin(list(v))
            neg = op == "not in"
        elif op.removeprefix("not ") in ("contains", "startswith", "endswith"):
            base = op.removeprefix("not ")
            text = s.astype(pd.StringDtype("python"))
            if base == "contains":
                opts = self.options
                raw = text.str.contains(
                    v, case=opts.get("case", True), regex=opts.get("regex", False), flags=opts.get("flags", 0)
                )
            else:
                raw = getattr(text.str, base)(v)
            neg = op.startswith("not ")
        else:
            raw = {
                "==": lambda: s == v,
                "!=": lambda: s != v,
                "<": lambda: s < v,
                "<=": lambda: s <= v,
                ">": lambda: s > v,
                ">=": lambda: s >= v,
            }[op]()
            neg = False
        hit = np.asarray(pd.Series(raw).to_numpy(dtype=bool, na_value=False), dtype=bool)
        if neg:
            hit = ~hit
        return pd.arrays.BooleanArray(hit, na.copy())


@dataclass
class _Bool:
    kind: str  # "and" / "or"
    children: list[Any]
    segment: str

    def evaluate(self, frame: pd.DataFrame) -> Any:
        parts = [c.evaluate(frame) for c in self.children]
        if self.kind == "and":
            return reduce(lambda a, b: a & b, parts)
        return reduce(lambda a, b: a | b, parts)


# ----------------------------------------------------------------------------------------------------------
# The condition tree (wire items), then the flat list
# ----------------------------------------------------------------------------------------------------------


@dataclass
class _Item:
    field_name: str
    op: str  # = <> < <= > >= IN "NOT IN" IS LIKE
    value: Any  # a str, a list of str (IN / NOT IN), or None (IS NULL)
    exact: bool = True
    droppable: bool = False  # dropping it from its conjunction only widens the result

    def to_json(self) -> dict[str, Any]:
        head = {"field": {"field": self.field_name}, "op": self.op}
        if self.op == "IS":
            return {**head, "value": "NULL"}
        if self.op in ("IN", "NOT IN"):
            return {**head, "value": {"list": [{"value": v} for v in self.value]}}
        return {**head, "value": {"value": self.value}}


@dataclass
class _CNode:
    kind: str  # "and" / "or"
    children: list[Any]
    segment: str
    note: str = ""  # set when one term of the expression became several condition items


_TRUE = "TRUE"  # a part left to the mask (partial=True): no restriction


def _item(f: str, op: str, value: Any, exact: bool = True, droppable: bool = False) -> _Item:
    return _Item(f, op, value, exact, droppable)


def _dedupe(values: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(values))


class _Flattener:
    """Builds a flat condition list that reads the same left to right and with AND before OR."""

    def __init__(self, partial: bool) -> None:
        self.partial = partial
        self.local: list[str] = []
        self.loosened = False

    def _ungroupable(self, segment: str, note: str = "") -> QueryError:
        return QueryError(
            f"cannot push down `{segment}`{note}: Ontraport conditions are a flat list without parentheses, "
            "so only an AND chain, an OR chain, or one AND group followed by ORed single terms can be sent "
            "(mixed lists are read in an undocumented order). Rewrite ORs of one column as "
            "`col in [...]`, filter in pandas after loading, or use compile_where(..., partial=True) to push "
            "down what can be "
            "pushed and filter the rest locally (the loaders, op.frame() and op.count(), always do)."
        )

    def simplify(self, node: Any) -> Any:
        if not isinstance(node, _CNode):
            return node
        kids = [self.simplify(c) for c in node.children]
        flat: list[Any] = []
        for c in kids:  # associativity: and(and(a, b), c) = and(a, b, c)
            if isinstance(c, _CNode) and c.kind == node.kind:
                flat.extend(c.children)
            else:
                flat.append(c)
        if node.kind == "or":
            if any(c is _TRUE for c in flat):
                return _TRUE
            flat = self._merge(flat, ("=", "IN"), "IN")
        else:
            flat = [c for c in flat if c is not _TRUE]
            if not flat:
                return _TRUE
            flat = self._merge(flat, ("<>", "NOT IN"), "NOT IN")
        if len(flat) == 1:
            return flat[0]
        return _CNode(node.kind, flat, node.segment, node.note)

    @staticmethod
    def _merge(children: list[Any], ops: tuple[str, str], merged_op: str) -> list[Any]:
        groups: dict[str, list[_Item]] = {}
        for c in children:
            if isinstance(c, _Item) and c.op in ops:
                groups.setdefault(c.field_name, []).append(c)
        out: list[Any] = []
        done: set[str] = set()
        for c in children:
            if isinstance(c, _Item) and c.op in ops and len(groups[c.field_name]) > 1:
                if c.field_name in done:
                    continue
                done.add(c.field_name)
                members = groups[c.field_name]
                values: list[str] = []
                for m in members:
                    values.extend(m.value if isinstance(m.value, list) else [m.value])
                out.append(_item(c.field_name, merged_op, _dedupe(values), all(m.exact for m in members)))
            else:
                out.append(c)
        return out

    def flatten(self, node: Any) -> tuple[list[_Item], list[_Item]] | None:
        """(conjunction, ORed singles), or None for no restriction."""
        if node is _TRUE:
            return None
        if isinstance(node, _Item):
            return [node], []
        assert isinstance(node, _CNode)
        if node.kind == "and":
            conj: list[_Item] = []
            for c in node.children:
                f = self.flatten(c)
                if f is None:
                    continue
                if f[1]:  # an OR inside an AND
                    if not self.partial:
                        raise self._ungroupable(getattr(c, "segment", node.segment), getattr(c, "note", ""))
                    self.local.append(getattr(c, "segment", node.segment))
                    continue
                conj.extend(f[0])
            return (conj, []) if conj else None
        conjs: list[list[_Item]] = []
        singles: list[_Item] = []
        for c in node.children:
            f = self.flatten(c)
            if f is None:  # pragma: no cover - simplify() turned such an OR into TRUE
                return None
            if len(f[0]) > 1:
                conjs.append(f[0])
            else:
                singles.extend(f[0])
            singles.extend(f[1])
        if len(conjs) > 1:
            if not self.partial:
                raise self._ungroupable(node.segment)

            # Keep one conjunction whole and loosen the others to a single item each (a superset):
            # first drop the items that only narrow (the "not unset" guard of a date range), and keep
            # whole a conjunction that would lose more than such guards.
            def tight(cj: list[_Item]) -> list[_Item]:
                return [i for i in cj if not i.droppable] or cj[:1]

            self.loosened = True
            keep = next((k for k, cj in enumerate(conjs) if len(tight(cj)) > 1), 0)
            loose: list[_Item] = []
            for k, cj in enumerate(conjs):
                if k == keep:
                    continue
                if len(tight(cj)) > 1:
                    self.local.append(node.segment)
                loose.append(tight(cj)[0])
            singles = loose + singles
            conjs = [conjs[keep]]
        head = conjs[0] if conjs else singles[:1]
        rest = singles if conjs else singles[1:]
        return head, rest


def _to_list(flat: tuple[list[_Item], list[_Item]] | None) -> list[Any]:
    if flat is None:
        return []
    out: list[Any] = []
    conj, singles = flat
    for i, item in enumerate(conj):
        if i:
            out.append("AND")
        out.append(item.to_json())
    for item in singles:
        out.append("OR")
        out.append(item.to_json())
    return out


def _items(flat: tuple[list[_Item], list[_Item]] | None) -> list[_Item]:
    return [] if flat is None else [*flat[0], *flat[1]]


# ----------------------------------------------------------------------------------------------------------
# The compiler
# ----------------------------------------------------------------------------------------------------------

_SPECIAL = re.compile(r"['\"`@]")
_IDENT = re.compile(r"[^\W\d]\w*")
_PLACEHOLDER = re.compile(r"__(?:bt|at)\d+__")

#: The longest ``where=`` expression accepted, in characters (a list of 100,000 e-mails fits).
MAX_EXPRESSION_CHARS = 5_000_000
#: The deepest nesting of ``and`` / ``or`` / ``&`` / ``|`` groups and calls accepted (``not`` chains
#: do not count: ``not not x`` is ``x``).
MAX_DEPTH = 60


def _prepare(expr: str) -> tuple[str, dict[str, str], dict[str, str], dict[str, str]]:
    """Replace backticked names and ``@variables`` (outside string literals) by placeholder names.

    Returns (source, backticked: placeholder -> field key, variables: placeholder -> variable name,
    shown: placeholder -> the text the user wrote). One pass over the text.
    """
    out: list[str] = []
    quoted: dict[str, str] = {}
    variables: dict[str, str] = {}
    shown: dict[str, str] = {}
    i = 0
    while True:
        m = _SPECIAL.search(expr, i)
        if m is None:
            out.append(expr[i:])
            break
        j = m.start()
        out.append(expr[i:j])
        c = expr[j]
        if c in "'\"":
            k = _string_end(expr, j)
            out.append(expr[j:k])  # an unterminated string is left to the parser's error
            i = k
        elif c == "`":
            end = expr.find("`", j + 1)
            if end < 0:
                raise QueryError(f"where=: unterminated backtick at column {j + 1}: {_clip(expr)!r}")
            ph = f"__bt{len(shown)}__"
            quoted[ph] = expr[j + 1 : end]
            shown[ph] = expr[j : end + 1]
            out.append(ph)
            i = end + 1
        else:  # "@"
            ident = _IDENT.match(expr, j + 1)
            if ident is None:
                raise QueryError(
                    f"where=: `@` must be followed by a variable name (column {j + 1}): {_clip(expr)!r}"
                )
            ph = f"__at{len(shown)}__"
            variables[ph] = ident.group(0)
            shown[ph] = "@" + ident.group(0)
            out.append(ph)
            i = ident.end()
    return "".join(out), quoted, variables, shown


def _string_end(text: str, j: int) -> int:
    """The end of the string literal that starts at ``text[j]`` (a quote)."""
    quote = text[j : j + 3] if text[j : j + 3] in ("'''", '"""') else text[j]
    k, n = j + len(quote), len(text)
    while k < n:
        if text[k] == "\\":
            k += 2
            continue
        if text.startswith(quote, k):
            return k + len(quote)
        k += 1
    return n


_BITOP_OR_QUOTE = re.compile(r"['\"&|~]")
_KEYWORDS = re.compile(r"\b(?:and|or|not)\b")
_BITWORD = {"&": " and ", "|": " or ", "~": " not "}


def _bitops_as_keywords(source: str) -> str | None:
    """``a & b | ~c`` as ``a and b or not c`` (the same grouping), or None when the expression also uses
    ``and`` / ``or`` / ``not`` (whose precedence differs from ``&`` / ``|``).

    Python parses a chain of 4,000 ``|`` as 4,000 nested nodes (too deep for its parser) but a chain of
    ``or`` as one node, so a long bitwise chain is parsed in this form.
    """
    out: list[str] = []
    i = 0
    while True:
        m = _BITOP_OR_QUOTE.search(source, i)
        if m is None:
            rest = source[i:]
            if _KEYWORDS.search(rest):
                return None
            out.append(rest)
            return "".join(out)
        j = m.start()
        if _KEYWORDS.search(source, i, j):
            return None
        out.append(source[i:j])
        if source[j] in "'\"":
            k = _string_end(source, j)
            out.append(source[j:k])
            i = k
        else:
            out.append(_BITWORD[source[j]])
            i = j + 1


def _clip(text: str, size: int = 200) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


_UNRESOLVED = object()


def _python_value(value: Any) -> Any:
    """A variable's value as a plain Python scalar (numpy and pandas scalars unwrapped)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (pd.Timestamp, _dt.datetime, _dt.date, np.datetime64)):
        return pd.Timestamp(value)
    return value


def _list_like(value: Any) -> bool:
    return isinstance(
        value,
        (list, tuple, set, frozenset, np.ndarray, pd.Series, pd.Index, pd.api.extensions.ExtensionArray),
    )


def _depth(tree: ast.AST) -> int:
    """How deeply boolean groups and calls nest (iteratively; ``not`` chains and same-operator chains
    count once)."""
    deepest = 0
    stack: list[tuple[ast.AST, int, Any]] = [(tree, 0, None)]
    while stack:
        node, depth, parent_op = stack.pop()
        here = depth
        op: Any = None
        if isinstance(node, ast.BoolOp):
            here, op = depth + 1, type(node.op)
        elif isinstance(node, ast.BinOp):
            op = type(node.op)
            here = depth if op is parent_op else depth + 1
        elif isinstance(node, (ast.Compare, ast.Call)):
            here = depth + 1
        elif isinstance(node, ast.UnaryOp):
            op = parent_op
        deepest = max(deepest, here)
        if deepest > MAX_DEPTH:
            return deepest
        for child in ast.iter_child_nodes(node):
            stack.append((child, here, op))
    return deepest


class _Compiler:
    def __init__(
        self,
        expr: str,
        schema: ObjectSchema,
        lookups: Mapping[str, Mapping[str, str]] | None,
        id_field: str,
        partial: bool,
        variables: Mapping[str, Any] | None = None,
        namespace: Mapping[str, Any] | None = None,
    ) -> None:
        self.expr = expr
        self.schema = schema
        self.lookups = lookups or {}
        self.id_field = id_field
        self.partial = partial
        self.columns: set[str] = set()
        self.local: list[str] = []
        self.params = variables or {}
        self.namespace = namespace or {}
        source, self.placeholders, self.variables, self.shown = _prepare(expr)
        self._set_source(source.strip())

    def _set_source(self, source: str) -> None:
        # Parsed inside parentheses on lines of their own, so that an expression may span lines (a
        # triple-quoted where=) while column offsets stay the user's; line numbers are one more.
        self.source = source
        self._parsed = f"(\n{source}\n)"
        self._source_bytes = self._parsed.encode("utf-8")
        starts = [0]
        for line in self._source_bytes.split(b"\n")[:-1]:
            starts.append(starts[-1] + len(line) + 1)
        self._line_starts = starts

    # -- helpers -----------------------------------------------------------------------------------

    def seg(self, node: ast.AST) -> str:
        """The source text of a node, in time proportional to its length (not the expression's)."""
        text: str | None = None
        lineno, end_lineno = getattr(node, "lineno", None), getattr(node, "end_lineno", None)
        col, end_col = getattr(node, "col_offset", None), getattr(node, "end_col_offset", None)
        if lineno is not None and end_lineno is not None and col is not None and end_col is not None:
            # ast offsets are UTF-8 byte offsets within their line
            start = self._line_starts[lineno - 1] + col
            stop = self._line_starts[end_lineno - 1] + end_col
            text = self._source_bytes[start:stop].decode("utf-8", "replace")
        if not text:
            text = ast.unparse(node)
        if "__bt" in text or "__at" in text:
            text = _PLACEHOLDER.sub(lambda m: self.shown.get(m.group(0), m.group(0)), text)
        return text

    def fail(self, node: ast.AST, why: str) -> QueryError:
        return QueryError(f"cannot push down `{self.seg(node)}`: {why}")

    def name_of(self, node: ast.AST) -> str | None:
        """The column a Name node names (None for anything else, ``@variables`` included)."""
        if isinstance(node, ast.Name) and node.id not in self.variables:
            return self.placeholders.get(node.id, node.id)
        return None

    def variable(self, node: ast.AST, whole: ast.AST) -> Any:
        """The value of an ``@variable`` node (``_UNRESOLVED`` for any other node)."""
        if not (isinstance(node, ast.Name) and node.id in self.variables):
            return _UNRESOLVED
        name = self.variables[node.id]
        if name in self.params:
            return self.params[name]
        if name in self.namespace:
            return self.namespace[name]
        known = sorted(self.params)
        hint = f" (params= has {', '.join(known)})" if known else ""
        raise QueryError(
            f"cannot push down `{self.seg(whole)}`: @{name} is not defined: pass params={{{name!r}: …}} "
            f"or define {name} where you call the loader{hint}"
        )

    def known(self, name: str) -> bool:
        return name in self.schema.fields or name in _ID_NAMES or name == self.id_field

    # -- entry -------------------------------------------------------------------------------------

    def compile(self) -> CompiledWhere:
        try:
            try:
                tree = ast.parse(self._parsed, mode="eval")
            except (RecursionError, MemoryError):
                keywords = _bitops_as_keywords(self.source)
                if keywords is None:
                    raise
                self._set_source(keywords.strip())
                tree = ast.parse(self._parsed, mode="eval")
        except SyntaxError as exc:
            line = (exc.lineno or 2) - 1
            if line < 1 or line > self.source.count("\n") + 1:  # at the added parentheses: the end
                where = "at the end"
            elif "\n" in self.source:
                where = f"at line {line}, column {exc.offset}"
            else:
                where = f"at column {exc.offset}"
            msg = re.sub(r" \(detected at line \d+\)", "", str(exc.msg))
            raise QueryError(
                f"where= is not a valid expression: {msg} ({where}): {_clip(self.expr)!r}"
            ) from None
        except (RecursionError, MemoryError):
            raise QueryError(
                f"where= is nested too deeply to parse: {_clip(self.expr)!r}; simplify it (e.g. drop "
                "repeated `not`) or filter in pandas"
            ) from None
        if _depth(tree) > MAX_DEPTH:
            raise QueryError(
                f"where= nests groups more than {MAX_DEPTH} levels deep: {_clip(self.expr)!r}; "
                "flatten it (an `in` list instead of nested ORs) or filter in pandas"
            )
        self.check_names(tree)
        pred = self.boolean(tree.body, negate=False)
        flattener = _Flattener(self.partial)
        cond_tree = flattener.simplify(self.condition(pred))
        flat = flattener.flatten(cond_tree)
        items = _items(flat)
        local = tuple(dict.fromkeys([*self.local, *flattener.local]))
        exact = not local and not flattener.loosened and all(i.exact for i in items)
        return CompiledWhere(
            condition=_to_list(flat),
            columns=frozenset(self.columns),
            exact=exact,
            local_only=local,
            expr=self.expr,
            _pred=pred,
        )

    def check_names(self, tree: ast.AST) -> None:
        callee: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                callee.add(id(node.func))
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and id(node) not in callee:
                name = self.name_of(node)
                if name is None:  # an @variable
                    continue
                if not self.known(name):
                    msg = self.schema.unknown_field_message(name)
                    raise UnknownFieldError(f"where=: {msg}")

    # -- boolean structure ----------------------------------------------------------------------------

    def boolean(self, node: ast.AST, negate: bool) -> Any:
        while isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.Invert)):
            node, negate = node.operand, not negate  # a loop: 5,000 `not`s cost no stack
        if isinstance(node, ast.BoolOp):
            kind = "and" if isinstance(node.op, ast.And) else "or"
            return self.combine(kind, node.values, node, negate)
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.BitAnd, ast.BitOr)):
            kind = "and" if isinstance(node.op, ast.BitAnd) else "or"
            operands = self.bitop_operands(node, type(node.op))
            return self.combine(kind, operands, node, negate)
        if isinstance(node, ast.Compare):
            return self.compare(node, negate)
        if isinstance(node, ast.Call):
            return self.call(node, negate)
        if isinstance(node, ast.Name):
            col = self.name_of(node)
            if col is None:
                raise self.fail(node, "a variable alone is not a condition; compare a column with it")
            spec = self.spec(col)
            if spec is None or spec.kind != "check":
                raise self.fail(
                    node, "a bare column is a condition only for check fields; compare it with a value"
                )
            return self.atom(node, col, "==", True, negate)
        if isinstance(node, ast.Constant):
            raise self.fail(node, "a constant is not a condition")
        if isinstance(node, ast.BinOp):
            raise self.fail(
                node,
                "arithmetic cannot be sent to Ontraport (with & and |, put each comparison in parentheses)",
            )
        raise self.fail(node, f"{type(node).__name__} expressions are not supported")

    def bitop_operands(self, node: ast.BinOp, op: type) -> list[ast.AST]:
        """The operands of a chain ``a | b | c`` (iteratively: a chain of 4,000 costs no stack)."""
        out: list[ast.AST] = []
        stack: list[ast.AST] = [node]
        while stack:
            side = stack.pop()
            if isinstance(side, ast.BinOp) and isinstance(side.op, op):
                stack.append(side.right)
                stack.append(side.left)
            else:
                out.append(side)
        return out

    def combine(self, kind: str, operands: Sequence[ast.AST], node: ast.AST, negate: bool) -> _Bool:
        if negate:  # De Morgan (exact in three-valued logic too)
            kind = "or" if kind == "and" else "and"
        return _Bool(kind, [self.boolean(v, negate) for v in operands], self.seg(node))

    # -- terms ---------------------------------------------------------------------------------------

    def spec(self, col: str) -> FieldSpec | None:
        if col in self.schema.fields:
            return self.schema.fields[col]
        return None

    def column(self, node: ast.AST) -> str | None:
        name = self.name_of(node)
        if name is None:
            return None
        if name in self.schema.fields:
            return name
        return "id"  # check_names() made sure the name is known

    def literal(self, node: ast.AST, whole: ast.AST) -> Any:
        value = self.variable(node, whole)
        if value is not _UNRESOLVED:
            value = _python_value(value)
            if _list_like(value):
                raise self.fail(
                    whole, f"{self.seg(node)} holds several values; use `col in {self.seg(node)}`"
                )
            if value is not None and not isinstance(value, (str, int, float, bool, pd.Timestamp)):
                raise self.fail(
                    whole,
                    f"{self.seg(node)} is a {type(value).__name__}; only text, numbers, booleans and "
                    "dates can be sent",
                )
            return value
        if isinstance(node, ast.Constant) and (
            node.value is None or isinstance(node.value, (str, int, float, bool))
        ):
            return node.value
        if (
            isinstance(node, ast.UnaryOp)
            and isinstance(node.op, (ast.USub, ast.UAdd))
            and isinstance(node.operand, ast.Constant)
            and isinstance(node.operand.value, (int, float))
            and not isinstance(node.operand.value, bool)
        ):
            return -node.operand.value if isinstance(node.op, ast.USub) else node.operand.value
        if isinstance(node, ast.BinOp):
            raise self.fail(whole, "arithmetic cannot be sent to Ontraport (with & and |, use parentheses)")
        if isinstance(node, ast.Call):
            raise self.fail(
                whole, "function calls cannot be sent to Ontraport (only literal values can be compared)"
            )
        raise self.fail(whole, f"only literal values can be compared, not `{self.seg(node)}`")

    def literal_list(self, node: ast.AST, whole: ast.AST) -> list[Any]:
        given = self.variable(node, whole)
        if given is not _UNRESOLVED or isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            if given is _UNRESOLVED:
                assert isinstance(node, (ast.List, ast.Tuple, ast.Set))
                values = [self.literal(e, whole) for e in node.elts]
            elif _list_like(given):
                values = [_python_value(v) for v in list(given)]
                bad = next(
                    (
                        v
                        for v in values
                        if v is not None and not isinstance(v, (str, int, float, bool, pd.Timestamp))
                    ),
                    _UNRESOLVED,
                )
                if bad is not _UNRESOLVED:
                    raise self.fail(
                        whole,
                        f"{self.seg(node)} holds {bad!r}; only text, numbers, booleans and dates can be sent",
                    )
            else:
                raise self.fail(
                    whole,
                    f"{self.seg(node)} is not a list (a {type(given).__name__}); `in` needs several values",
                )
            if not values and given is _UNRESOLVED:
                raise self.fail(whole, "an empty list cannot be sent (it selects nothing or everything)")
            if any(v is None for v in values):
                raise self.fail(whole, "None in a list is not supported; use .isna()")
            return values
        raise self.fail(whole, "`in` needs a literal list or tuple, e.g. `col in ['a', 'b']`")

    def compare(self, node: ast.Compare, negate: bool) -> Any:
        operands = [node.left, *node.comparators]
        terms = []
        for left, op, right in zip(operands[:-1], node.ops, operands[1:], strict=True):
            terms.append(self.pair(node, left, op, right, negate))
        if len(terms) == 1:
            return terms[0]
        return _Bool("or" if negate else "and", terms, self.seg(node))

    def pair(self, whole: ast.AST, left: ast.AST, op: ast.cmpop, right: ast.AST, negate: bool) -> Any:
        lcol, rcol = self.column(left), self.column(right)
        if lcol is not None and rcol is not None:
            raise self.fail(whole, "comparing two columns cannot be sent to Ontraport; filter in pandas")
        if isinstance(op, (ast.In, ast.NotIn)):
            positive = isinstance(op, ast.In)
            if lcol is not None:
                values = self.literal_list(right, whole)
                return self.atom(whole, lcol, "in" if positive else "not in", values, negate)
            if rcol is not None:
                spec = self.spec(rcol)
                if spec is None or spec.kind not in ("list", "subscription"):
                    raise self.fail(whole, "`'x' in col` works for list and subscription fields only")
                label = self.literal(left, whole)
                return self.atom(whole, rcol, "has" if positive else "not has", label, negate)
            self.literal(left, whole)
            raise self.fail(whole, "one side must be a column")
        if isinstance(op, (ast.Is, ast.IsNot)):
            col = lcol if lcol is not None else rcol
            other = right if lcol is not None else left
            if col is None or not (isinstance(other, ast.Constant) and other.value is None):
                raise self.fail(whole, "`is` works only as `col is None` / `col is not None`")
            return self.atom(whole, col, "isna" if isinstance(op, ast.Is) else "notna", None, negate)
        sym = _CMP_OPS.get(type(op))
        if sym is None:  # pragma: no cover - every cmpop is handled above
            raise self.fail(whole, "unsupported comparison")
        if lcol is None and rcol is None:
            self.literal(left, whole)  # raises with the reason when a side is arithmetic or a call
            self.literal(right, whole)
            raise self.fail(whole, "compares two constants; one side must be a column")
        if lcol is not None:
            col, value = lcol, self.literal(right, whole)
        else:
            assert rcol is not None
            col, value, sym = rcol, self.literal(left, whole), _FLIP[sym]
        if value is None:
            if sym not in ("==", "!="):
                raise self.fail(whole, "None can only be compared with == or != (meaning isna / notna)")
            return self.atom(whole, col, "isna" if sym == "==" else "notna", None, negate)
        return self.atom(whole, col, sym, value, negate)

    def call(self, node: ast.Call, negate: bool) -> Any:
        func = node.func
        if not isinstance(func, ast.Attribute):
            raise self.fail(node, "function calls cannot be sent to Ontraport")
        method = func.attr
        target = func.value
        col = self.column(target)
        if col is not None:
            if method in ("isna", "isnull", "notna", "notnull"):
                if node.args or node.keywords:
                    raise self.fail(node, f".{method}() takes no arguments")
                op = "isna" if method in ("isna", "isnull") else "notna"
                return self.atom(node, col, op, None, negate)
            if method == "isin":
                if len(node.args) != 1 or node.keywords:
                    raise self.fail(node, ".isin() takes one literal list")
                return self.atom(node, col, "in", self.literal_list(node.args[0], node), negate)
            if method == "between":
                return self.between(node, col, negate)
            raise self.fail(node, f".{method}() cannot be sent to Ontraport")
        if isinstance(target, ast.Attribute) and target.attr == "str":
            col = self.column(target.value)
            if col is None:
                raise self.fail(node, "`.str` methods need a column")
            if method not in ("contains", "startswith", "endswith"):
                raise self.fail(node, f".str.{method}() cannot be sent to Ontraport")
            return self.str_method(node, col, method, negate)
        raise self.fail(node, "function calls cannot be sent to Ontraport")

    def str_method(self, node: ast.Call, col: str, method: str, negate: bool) -> Any:
        if len(node.args) != 1:
            raise self.fail(node, f".str.{method}() takes one literal string")
        pat = self.literal(node.args[0], node)
        if not isinstance(pat, str):
            raise self.fail(node, f".str.{method}() takes a string (a tuple of prefixes is not supported)")
        kw = {k.arg: self.literal(k.value, node) for k in node.keywords if k.arg is not None}
        if len(kw) != len(node.keywords):
            raise self.fail(node, "**kwargs are not supported")
        allowed = {"contains": {"case", "regex", "na", "flags"}, "startswith": {"na"}, "endswith": {"na"}}[
            method
        ]
        extra = set(kw) - allowed
        if extra:
            raise self.fail(node, f"unsupported argument(s) {', '.join(sorted(extra))}")
        if kw.get("na") not in (None, False):
            raise self.fail(node, "na=True would select missing values, which LIKE never matches")
        case, regex, flags = kw.get("case", True), kw.get("regex", True), kw.get("flags", 0)
        if not isinstance(case, bool) or not isinstance(regex, bool):
            raise self.fail(node, "case= and regex= take True or False")
        if isinstance(flags, bool) or not isinstance(flags, int):
            raise self.fail(node, "flags= takes re flags (an integer)")
        options: dict[str, Any] = {}
        reason: str | None = None
        if method == "contains":
            is_regex = regex and bool(_REGEX_META.search(pat))
            if is_regex:
                try:
                    re.compile(pat, flags)
                except re.error as exc:
                    raise self.fail(node, f"{pat!r} is not a regular expression ({exc})") from None
                reason = "regular expressions cannot be sent to Ontraport"
            elif flags:
                reason = "regex flags cannot be sent to Ontraport"
            if not case:
                reason = (
                    reason or "case=False cannot be sent (whether LIKE ignores case depends on the server)"
                )
            options = {"case": case, "regex": is_regex, "flags": flags}
        if reason is None and _LIKE_SPECIAL.search(pat):
            reason = "text containing %, _ or \\ would act as a LIKE wildcard or escape"
        return self.atom(node, col, method, pat, negate, local_reason=reason, options=options)

    def between(self, node: ast.Call, col: str, negate: bool) -> Any:
        """``col.between(a, b, inclusive="both")``: two comparisons, as pandas defines it."""
        if len(node.args) not in (2, 3):
            raise self.fail(node, ".between() takes two bounds (and optionally inclusive=)")
        kw = {k.arg: self.literal(k.value, node) for k in node.keywords if k.arg is not None}
        if len(kw) != len(node.keywords) or set(kw) - {"inclusive"}:
            raise self.fail(node, ".between() takes only inclusive= besides the bounds")
        inclusive = self.literal(node.args[2], node) if len(node.args) == 3 else kw.get("inclusive", "both")
        ops = {"both": (">=", "<="), "neither": (">", "<"), "left": (">=", "<"), "right": (">", "<=")}
        if inclusive not in ops:
            raise self.fail(
                node, f"inclusive= is one of 'both', 'neither', 'left', 'right', not {inclusive!r}"
            )
        low, high = self.literal(node.args[0], node), self.literal(node.args[1], node)
        if low is None or high is None:
            raise self.fail(node, ".between() needs two bounds (None is not a bound)")
        lo_op, hi_op = ops[inclusive]
        terms = [self.atom(node, col, lo_op, low, negate), self.atom(node, col, hi_op, high, negate)]
        return _Bool("or" if negate else "and", terms, self.seg(node))

    # -- atoms ---------------------------------------------------------------------------------------

    def family(self, col: str) -> tuple[str, FieldSpec | None]:
        if col == "id":
            return "id", None
        spec = self.schema.fields[col]
        return spec.kind, spec

    def atom(
        self,
        node: ast.AST,
        col: str,
        op: str,
        value: Any,
        negate: bool,
        local_reason: str | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> _Atom:
        if negate:
            op = _NEGATE[op]
        family, spec = self.family(col)
        self.columns.add(col)
        seg = self.seg(node)
        field_name = self.id_field if col == "id" else col
        lookup = self.lookups.get(col) if spec is not None and spec.kind == "subscription" else None
        if op in ("in", "not in") and not value:  # an empty @list
            if family in ("list", "subscription"):
                raise self.fail(node, f"{col} holds a list; test membership with `'label' in {col}`")
            if op == "not in":  # like every `not in`: the rows that are not NA
                return self.atom(node, col, "notna", None, False, local_reason, options)
            # no row: ids are positive, so `id IN ["0"]` selects none (an empty IN is not valid SQL)
            return _Atom(col, self.id_field, "id", "in", [], ["0"], seg, spec, lookup, local_reason)
        py, wire = self.convert(node, family, spec, op, value, lookup)
        if family == "check" and op in ("==", "!=", "in", "not in"):  # check cells are True/False/NA
            chosen = {py} if op in ("==", "!=") else set(py)
            if op in ("!=", "not in"):
                chosen = {True, False} - chosen
            if not chosen:
                raise self.fail(node, "this selects no row")
            op, py = "in", sorted(chosen)
            wire = ["1" if b else "0" for b in py]
        return _Atom(
            col, field_name, family, op, py, wire, seg, spec, lookup, local_reason, dict(options or {})
        )

    def convert(
        self,
        node: ast.AST,
        family: str,
        spec: FieldSpec | None,
        op: str,
        value: Any,
        lookup: Mapping[str, str] | None,
    ) -> tuple[Any, Any]:
        """(mask value, wire value) for a term; raises QueryError for a value that does not fit."""
        if op in ("isna", "notna"):
            if family in ("list", "subscription"):
                raise self.fail(
                    node,
                    "list fields are never NA (an empty one is []); filter in pandas, e.g. "
                    "df[df.col.str.len() == 0]",
                )
            return None, None
        if op in ("in", "not in"):
            pairs = [self.convert_one(node, family, spec, op, v, lookup) for v in value]
            return [p[0] for p in pairs], _dedupe([p[1] for p in pairs])
        return self.convert_one(node, family, spec, op, value, lookup)

    def convert_one(
        self,
        node: ast.AST,
        family: str,
        spec: FieldSpec | None,
        op: str,
        value: Any,
        lookup: Mapping[str, str] | None,
    ) -> tuple[Any, Any]:
        name = spec.key if spec is not None else "id"
        ftype = spec.type if spec is not None else "record id"
        if family in ("list", "subscription"):
            if op not in ("has", "not has"):
                raise self.fail(
                    node,
                    f"{name} holds a list; test membership with `'label' in {name}` (equality is not supported)",
                )
            if not isinstance(value, str):
                raise self.fail(node, f"{name} holds labels (strings), not {value!r}")
            assert spec is not None
            if family == "subscription" and lookup is None:
                pairs: Any = ()
            else:
                pairs = (
                    lookup.items()
                    if family == "subscription" and lookup is not None
                    else spec.options.items()
                )
            to_id = _label_index(pairs)
            if value in to_id:
                return value, f"%*/*{to_id[value]}*/*%"
            ids = {str(k) for k, _ in pairs}
            if value.isdigit() and value.isascii() and value not in ids:
                return value, f"%*/*{value}*/*%"  # an id with no label: the frame shows it as the id
            if family == "subscription" and lookup is None:
                raise self.fail(node, f"no names are known for {name}: pass lookups (id -> name) for it")
            raise self.fail(node, _unknown_label(value, list(to_id), family == "subscription", name))
        if op in ("has", "not has"):  # pragma: no cover - pair() only builds these for list fields
            raise self.fail(node, "`'x' in col` works for list and subscription fields only")
        if op in ("contains", "startswith", "endswith", "not contains", "not startswith", "not endswith"):
            if family != "text":
                raise self.fail(node, f".str methods work on text fields; {name} is {ftype}")
            base = op.removeprefix("not ")
            wire = {"contains": f"%{value}%", "startswith": f"{value}%", "endswith": f"%{value}"}[base]
            return value, wire
        if family == "text":
            if not isinstance(value, str):
                raise self.fail(node, f"{name} is a {ftype} field: compare it with a string (e.g. '{value}')")
            return value, value
        if family == "check":
            if isinstance(value, bool) or (isinstance(value, int) and value in (0, 1)):
                if op not in ("==", "!=", "in", "not in"):
                    raise self.fail(node, f"{name} is a check field: only ==, != and in are supported")
                return bool(value), "1" if value else "0"
            raise self.fail(node, f"{name} is a check field: compare it with True or False")
        if family == "drop":
            if op not in ("==", "!=", "in", "not in"):
                raise self.fail(
                    node, f"{name} is a drop field (unordered labels): only ==, != and in are supported"
                )
            if not isinstance(value, str):
                assert spec is not None
                options = dict(spec.options)
                hint = (
                    f"; option {value!r} is {options[str(value)]!r}: write {name} == {options[str(value)]!r}"
                    if str(value) in options
                    else f"; its options are {', '.join(repr(v) for v in options.values())}"
                )
                raise self.fail(node, f"{name} holds option labels (strings), not {value!r}{hint}")
            assert spec is not None
            to_id = _label_index(spec.options.items())
            if value not in to_id:
                raise self.fail(node, _unknown_label(value, list(to_id), False, name))
            return value, to_id[value]
        if family == "date":
            if not isinstance(value, (str, pd.Timestamp)):
                raise self.fail(
                    node,
                    f"{name} is a date: compare it with an ISO string such as '2025-01-31' (not {value!r})",
                )
            try:
                ts = pd.Timestamp(value)
            except (ValueError, TypeError) as exc:
                raise self.fail(node, f"{value!r} is not a date ({exc})") from None
            if ts is pd.NaT:
                raise self.fail(node, f"{value!r} is not a date")
            ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
            ts = ts.as_unit("ns")
            ns = int(ts.value)
            if ns == 0 and op in ("==", "in"):
                raise self.fail(
                    node, "1970-01-01 00:00:00 UTC is how Ontraport stores 'no date'; use .isna()"
                )
            return ts, _seconds(ns)
        if family in _NUMBERS:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise self.fail(node, f"{name} is a {ftype} field: compare it with a number, not {value!r}")
            if isinstance(value, float) and not math.isfinite(value):
                raise self.fail(node, f"{value!r} cannot be sent")
            if family in ("parent", "id") and op in ("==", "in") and value == 0:
                raise self.fail(node, f"{name} = 0 means 'no record'; use .isna()")
            return value, _number(value)
        raise self.fail(node, f"{name} ({ftype}) cannot be filtered")  # pragma: no cover

    # -- condition items -------------------------------------------------------------------------------

    def condition(self, pred: Any) -> Any:
        if isinstance(pred, _Bool):
            return _CNode(pred.kind, [self.condition(c) for c in pred.children], pred.segment)
        assert isinstance(pred, _Atom)
        try:
            if pred.local_reason:
                raise _NotPushable(pred.local_reason)
            return _atom_condition(pred)
        except _NotPushable as exc:
            if not self.partial:
                raise QueryError(
                    f"cannot push down `{pred.segment}`: {exc} (compile_where(..., partial=True) leaves this "
                    "part to the local mask, as the loaders, op.frame() and op.count(), always do)"
                ) from None
            self.local.append(pred.segment)
            return _TRUE


def _label_index(pairs: Any) -> dict[str, str]:
    """label -> id, with the same disambiguation of duplicate labels as the schema module."""
    out: dict[str, str] = {}
    seen: set[str] = set()
    for oid, lab in pairs:
        oid, lab = str(oid), "" if lab is None else str(lab)
        if oid in seen:
            continue
        seen.add(oid)
        if lab in out:
            lab = f"{lab} [{oid}]"
        out[lab] = oid
    return out


def _unknown_label(value: str, labels: list[str], subscription: bool, name: str) -> str:
    what = "a name known (through lookups) for" if subscription else "an option of"
    near = difflib.get_close_matches(value, labels, n=3, cutoff=0.6)
    shown = ", ".join(repr(x) for x in labels[:20]) or "(none)"
    if len(labels) > 20:
        shown += f", … ({len(labels)} in all)"
    msg = f"{value!r} is not {what} {name}; valid: {shown}"
    if near:
        msg += "; did you mean " + ", ".join(repr(x) for x in near) + "?"
    return msg


def _number(value: int | float) -> str:
    if isinstance(value, int):
        return str(value)
    if value == int(value) and abs(value) < 2**53:
        return str(int(value))
    return np.format_float_positional(value, trim="-")


def _seconds(ns: int) -> str:
    whole, frac = divmod(ns, 1_000_000_000)
    if not frac:
        return str(whole)
    return f"{whole}.{frac:09d}".rstrip("0")


def _cmp_zero(op: str, wire: str) -> bool:
    """Does the 'unset' value 0 satisfy ``0 <op> wire``?"""
    w = float(wire)
    return {"<": 0 < w, "<=": 0 <= w, ">": 0 > w, ">=": 0 >= w}[op]


_NOTE_NA_ZERO = ' (sent as `IS "NULL" OR IN ["0", ""]`: unset is stored as "0" or NULL)'
_NOTE_NA_EMPTY = ' (sent as `IS "NULL" OR = ""`: unset is stored as "" or NULL)'


def _atom_condition(a: _Atom) -> Any:
    """The condition sub-tree of one term (items joined by AND / OR)."""
    f, fam, op, w = a.field_name, a.family, a.op, a.wire
    if fam in ("list", "subscription"):
        if op == "has":
            return _item(f, "LIKE", w)
        raise _NotPushable("Ontraport has no NOT LIKE, so 'not in' a list field cannot be sent")
    if op in ("contains", "startswith", "endswith"):
        return _item(f, "LIKE", w, exact=False)
    if op.startswith("not "):
        if op == "not in":
            pass
        else:
            raise _NotPushable("Ontraport has no NOT LIKE")
    if fam == "text":  # "" reads as NA, like null
        if op == "isna":
            return _CNode("or", [_item(f, "IS", None), _item(f, "=", "")], a.segment, _NOTE_NA_EMPTY)
        if op == "notna":
            return _item(f, "LIKE", "%_%")
        if op == "==":
            return _item(f, "=", w, exact=False)
        if op == "in":
            return _item(f, "IN", w, exact=False)
        if op == "!=" and w == "":
            return _item(f, "LIKE", "%_%")
        if op in ("!=", "not in"):
            raise _NotPushable(
                "the server may compare text case-insensitively, so this could drop rows that differ only in case"
            )
        raise _NotPushable("text order depends on the server's collation (case, accents)")
    if fam == "check":  # atom() turned every comparison into IN
        if op == "isna":
            return _CNode("or", [_item(f, "IS", None), _item(f, "=", "")], a.segment, _NOTE_NA_EMPTY)
        if op == "notna":
            return _item(f, "IN", ["0", "1"])
        return _item(f, "IN", w) if len(w) > 1 else _item(f, "=", w[0])
    if fam in _ZERO_NA:
        # A dropdown whose options include "0" (bulk_mail, a task's status) stores unset as "" only.
        unset = [""] if fam == "drop" and a.spec is not None and "0" in dict(a.spec.options) else ["0", ""]
        if op == "isna":
            return _CNode("or", [_item(f, "IS", None), _item(f, "IN", unset)], a.segment, _NOTE_NA_ZERO)
        if op == "notna":
            return _item(f, "NOT IN", unset)
        if op == "==":
            return _item(f, "=", w)
        if op == "in":
            return _item(f, "IN", w)
        if op == "!=":
            return _item(f, "NOT IN", _dedupe([w, *unset]))
        if op == "not in":
            return _item(f, "NOT IN", _dedupe([*w, *unset]))
        cmp = _item(f, _SQL_OP[op], w)
        if op in ("<", "<=") or _cmp_zero(op, w):  # keep unset ("0", "") out of the range
            guard = _item(f, "NOT IN", unset, droppable=True)
            return _CNode("and", [cmp, guard], a.segment)
        return cmp
    # numeric, price, id: NA is NULL or "" on the wire
    if op == "isna":
        if fam == "id":
            return _item(f, "IS", None)
        return _CNode("or", [_item(f, "IS", None), _item(f, "=", "")], a.segment, _NOTE_NA_EMPTY)
    if op == "notna":
        return _item(f, "LIKE", "%", exact=fam == "id")
    if op == "in":
        return _item(f, "IN", w)
    if op == "not in":
        return _item(f, "NOT IN", w, exact=fam == "id")
    exact = fam == "id" or op in ("==", ">", ">=")  # "" rows may pass <, <=, <> (the mask drops them)
    return _item(f, _SQL_OP[op], w, exact=exact)


# ----------------------------------------------------------------------------------------------------------
# Long conditions: several requests
# ----------------------------------------------------------------------------------------------------------

#: The longest ``condition`` sent in one request, in characters once URL-encoded. GET requests carry the
#: condition in the query string (ontraport-api.md §1, §7), and common front servers refuse request lines
#: longer than 8 KiB (Apache's ``LimitRequestLine``, nginx's header buffers); 6,000 leaves room for the
#: path and the other parameters. ``Ontraport.max_condition_chars`` overrides it per client.
MAX_CONDITION_CHARS = 6000

_JOIN_CHARS = len(quote(',"AND",', safe=""))


def _encoded_len(item: Any) -> int:
    return len(quote(json.dumps(item, separators=(",", ":")), safe=""))


def _with_values(item: dict[str, Any], values: list[Any]) -> dict[str, Any]:
    return {**item, "value": {"list": values}}


def _chunks(item: dict[str, Any], room: int) -> list[dict[str, Any]] | None:
    """An ``IN`` item cut into items of at most ``room`` encoded characters (None if one value is too big)."""
    head = _encoded_len(_with_values(item, []))
    out: list[dict[str, Any]] = []
    current: list[Any] = []
    size = head
    for v in item["value"]["list"]:
        vs = _encoded_len(v) + 3  # the comma between values, encoded
        if head + vs > room:
            return None
        if current and size + vs > room:
            out.append(_with_values(item, current))
            current, size = [], head
        current.append(v)
        size += vs
    if current:
        out.append(_with_values(item, current))
    return out


def split_condition(
    condition: Sequence[Any], max_chars: int = MAX_CONDITION_CHARS
) -> tuple[list[list[Any]], bool]:
    """Cut a condition list too long for one request into several whose results, merged by id, are its rows.

    ``condition`` is a flat list as :func:`compile_where` builds it: one AND chain, then ORed single items.
    Its rows are the union of the AND chain's rows and each single's rows, so

    - ORed singles are packed into OR chains that fit, and an ``IN`` single too long alone is cut into
      ``IN`` items over parts of its list (``f IN (A ∪ B)`` = ``f IN A`` ∪ ``f IN B``): exact;
    - in the AND chain, the longest ``IN`` item is cut the same way, one request per part: exact;
    - whatever of the AND chain still does not fit is left out of the request (dropping a term of an AND
      chain only widens it): a superset, which the caller filters with the expression's mask.

    Returns
    -------
    (conditions, exact)
        The condition lists to send (``[[]]``: one request without condition) and whether their union
        is exactly ``condition`` (False: a superset).
    """
    cond = list(condition)
    if not cond or _encoded_len(cond) <= max_chars:
        return [cond], True
    if any(not isinstance(x, dict) for x in cond[0::2]) or any(x not in ("AND", "OR") for x in cond[1::2]):
        raise QueryError("cannot split a condition that is not a flat list of items")  # pragma: no cover
    first_or = cond.index("OR") if "OR" in cond else len(cond)
    if "AND" in cond[first_or:]:  # pragma: no cover - compile_where never builds this
        raise QueryError("cannot split a condition with AND after OR")
    conj: list[dict[str, Any]] = cond[0:first_or:2]
    singles: list[dict[str, Any]] = cond[first_or + 1 :: 2]
    room = max_chars - 2  # the brackets
    exact = True
    out: list[list[Any]] = []

    # The AND chain: the longest IN item is cut in parts; other items are kept while they fit.
    def is_in(item: dict[str, Any]) -> bool:
        return item.get("op") == "IN" and len(item["value"]["list"]) > 1

    sizes = [_encoded_len(i) for i in conj]
    cut = max((k for k in range(len(conj)) if is_in(conj[k])), key=lambda k: sizes[k], default=None)
    if sum(sizes) + _JOIN_CHARS * (len(conj) - 1) > room:
        kept: list[int] = []
        budget = room // 2 if cut is not None else room
        used = 0
        for k in sorted(range(len(conj)), key=lambda k: sizes[k]):
            if k == cut:
                continue
            if used + sizes[k] + _JOIN_CHARS <= budget:
                kept.append(k)
                used += sizes[k] + _JOIN_CHARS
            else:
                exact = False  # left out: a superset
        fixed = [conj[k] for k in sorted(kept)]
        if cut is not None:
            parts = _chunks(conj[cut], room - used - _JOIN_CHARS)
            if parts is None:
                exact = False
                alternatives = [fixed]
            else:
                alternatives = [[*fixed, p] for p in parts]
        else:
            alternatives = [fixed]
    else:
        alternatives = [conj]
    for alt in alternatives:
        out.append(_join(alt, "AND"))

    # The ORed singles: packed into OR chains; a long IN is cut; anything else too long alone
    # cannot be narrowed, so the whole result becomes a superset (no condition).
    pieces: list[dict[str, Any]] = []
    for item in singles:
        size = _encoded_len(item)
        if size <= room:
            pieces.append(item)
            continue
        parts = _chunks(item, room) if item.get("op") == "IN" else None
        if parts is None:
            return [[]], False
        pieces.extend(parts)
    chain: list[dict[str, Any]] = []
    used = 0
    for item in pieces:
        size = _encoded_len(item) + _JOIN_CHARS
        if chain and used + size > room:
            out.append(_join(chain, "OR"))
            chain, used = [], 0
        chain.append(item)
        used += size
    if chain:
        out.append(_join(chain, "OR"))
    if any(not c for c in out):  # an AND chain left empty: no restriction at all
        return [[]], False
    return out, exact


def _join(items: Sequence[Any], joiner: str) -> list[Any]:
    out: list[Any] = []
    for k, item in enumerate(items):
        if k:
            out.append(joiner)
        out.append(item)
    return out


def compile_where(
    expr: str,
    schema: ObjectSchema,
    *,
    lookups: Mapping[str, Mapping[str, str]] | None = None,
    id_field: str = "id",
    partial: bool = False,
    params: Mapping[str, Any] | None = None,
    namespace: Mapping[str, Any] | None = None,
) -> CompiledWhere:
    """Compile a ``where=`` expression into an Ontraport condition and its exact pandas mask.

    Parameters
    ----------
    expr : str
        A pandas-style boolean expression over field keys, e.g.
        ``"bulk_mail == 1 and date >= '2025-01-01' and 'VIP' in contact_cat"``. See the module docstring.
    schema : ObjectSchema
        The object type's fields.
    lookups : mapping, optional
        For subscription fields: field key -> {id: name} (tag names etc.).
    id_field : str, default ``"id"``
        The condition's name for the record id (``"form_id"`` for forms); the expression says ``id``.
    partial : bool, default False
        Leave parts the server cannot evaluate or group to the mask instead of raising; the condition is
        then a superset built from the rest, and ``local_only`` names the parts left out.
    params : mapping, optional
        Values for ``@name`` references in ``expr`` (looked up first).
    namespace : mapping, optional
        Where ``@name`` references not in ``params`` are looked up (the loaders pass the caller's
        variables, like :meth:`pandas.DataFrame.query`).

    Returns
    -------
    CompiledWhere

    Raises
    ------
    UnknownFieldError
        For a column the type does not have (checked before anything else), with close matches.
    QueryError
        For anything that cannot be pushed down exactly; the message quotes the part and says why.
    """
    if not isinstance(expr, str) or not expr.strip():
        raise QueryError("where= must be a non-empty string expression")
    if len(expr) > MAX_EXPRESSION_CHARS:
        raise QueryError(
            f"where= is {len(expr):,} characters long; at most {MAX_EXPRESSION_CHARS:,} are accepted "
            "(pass long value lists as params= and `col in @values`, or filter in pandas)"
        )
    if params is not None and not isinstance(params, Mapping):
        raise QueryError(f"params= must be a mapping of names to values, not {type(params).__name__}")
    return _Compiler(expr, schema, lookups, id_field, partial, params, namespace).compile()
