"""The ``condition`` grammar (``ontraport-api.md`` §7) compiled to a parameterised SQL WHERE.

JSON form, as the official SDK writes it::

    [{"field":{"field":"email"},"op":"=","value":{"value":"a@b.com"}},
     "AND",
     {"field":{"field":"id"},"op":"IN","value":{"list":[{"value":1},{"value":2}]}},
     "OR",
     {"field":{"field":"email"},"op":"IS","value":"NULL"}]

Values always travel as SQL parameters; field names are checked against the object
type and replaced by the model's own column expressions, so nothing a client sends
is interpolated into SQL.

Choices where the doc is unsure:

- Operators: ``=  <>  >  <  >=  <=  IN  NOT IN  IS  LIKE`` (documented), plus the
  harmless aliases ``!=``, ``IS NOT`` (``"NULL"``) and ``NOT LIKE``.
- A flat list is grouped per ``condition_order``: ``"left-to-right"`` (the doc's [I])
  or ``"sql"`` (AND before OR). A nested JSON list is a parenthesised group.
- A lone object (not in a list) is accepted as a one-item list; ``[]`` and an empty
  string mean "no condition".
- Two conditions without ``"AND"``/``"OR"`` between them, a leading or trailing
  connector, an unknown operator, a missing value, an array value with an operator
  other than IN / NOT IN, an empty IN list, or an unknown field: 400 ``Invalid query``.
- Comparisons on numeric-like fields (numeric, price, dates, check, drop, parent, id)
  are numeric (``CAST(… AS REAL)``); text follows ``text_collation``. ``LIKE`` uses
  ``%``/``_`` with ``\\`` as the escape (MySQL's default); in ``"binary"`` mode it is
  translated to a case-sensitive GLOB. ``IS "NULL"`` matches SQL NULL only (never ``""``),
  and NULL values never satisfy ``<>`` or ``NOT IN`` (SQL semantics, as in MySQL).
- The legacy SQL-like string (``email='a@b.com' AND id > 5``) is accepted: identifiers,
  the operators above, quoted strings, numbers, ``IN (…)``, ``IS [NOT] NULL`` and
  parentheses. Being SQL, it always groups with AND before OR.
- Size: groups nested deeper than ``MAX_GROUP_DEPTH`` (100, in either form), more than
  ``MAX_VALUES`` values in all (30,000, below SQLite's 32,766 parameters) or a condition
  whose compiled SQL nests deeper than ``MAX_SQL_DEPTH`` (500, below SQLite's 1000) are
  400 ``Invalid query``; nothing a client sends can exhaust the stack. Runs of the same
  connector compile flat (``(a OR b OR c)``), so long flat lists stay shallow.
- ``search``: case-insensitive substring match (``LIKE``, ASCII case folding) over the
  type's text, e-mail and phone fields. With ``searchNotes=1`` (or ``true``) a record also
  matches when one of its notes (type 12: ``object_type_id`` the record's type,
  ``contact_id`` its id) contains the term; without ``search``, ``searchNotes`` does nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .model import TYPES_BY_ID, ObjectType
from .wire import decode_json

__all__ = ["InvalidQuery", "compile_condition", "compile_search", "like_to_glob"]

MAX_GROUP_DEPTH = 100
MAX_VALUES = 30_000
MAX_SQL_DEPTH = 500
#: Notes (``searchNotes``): ``contact_id`` is the id of the noted record of ``object_type_id``.
NOTES = TYPES_BY_ID[12]


class InvalidQuery(ValueError):
    """The condition (or another query parameter) cannot be understood: 400 ``Invalid query``."""


_OPS = {
    "=": "=",
    "<>": "<>",
    "!=": "<>",
    ">": ">",
    "<": "<",
    ">=": ">=",
    "<=": "<=",
    "IN": "IN",
    "NOT IN": "NOT IN",
    "IS": "IS",
    "IS NOT": "IS NOT",
    "LIKE": "LIKE",
    "NOT LIKE": "NOT LIKE",
}
_LIST_OPS = ("IN", "NOT IN")


@dataclass(frozen=True)
class Cond:
    field: str
    op: str
    values: tuple[str, ...]  # one value, or the IN list; empty for IS


@dataclass(frozen=True)
class Group:
    items: tuple[Node, ...]
    connectors: tuple[str, ...]  # len(items) - 1, each "AND" or "OR"
    sql_order: bool = False  # group AND before OR regardless of the setting (legacy strings)


Node = Cond | Group


def compile_condition(
    text: str, otype: ObjectType, *, collation: str = "nocase", order: str = "left-to-right"
) -> tuple[str, list[str]]:
    """Compile a ``condition`` parameter; ``("", [])`` when there is none."""
    text = text.strip()
    if not text:
        return "", []
    node: Node | None
    if text[0] in "[{":
        try:
            data = decode_json(text, MAX_GROUP_DEPTH + 5)
        except ValueError as exc:
            raise InvalidQuery("malformed or too deeply nested condition JSON") from exc
        node = _parse_json(data)
    else:
        node = _LegacyParser(text).parse()
    if node is None:
        return "", []
    params: list[str] = []
    sql, depth = _compile(node, otype, collation, order, params)
    if len(params) > MAX_VALUES:
        raise InvalidQuery(f"condition has more than {MAX_VALUES} values")
    if depth > MAX_SQL_DEPTH:
        raise InvalidQuery("condition too complex")
    return sql, params


# --------------------------------------------------------------------------- JSON form


def _parse_json(data: object) -> Node | None:
    if isinstance(data, dict):
        return _parse_cond(data)
    if not isinstance(data, list):
        raise InvalidQuery("condition must be a list")
    if not data:
        return None
    return _parse_list(data)


def _parse_list(data: list[object], depth: int = 1) -> Node:
    if depth > MAX_GROUP_DEPTH:
        raise InvalidQuery(f"condition groups nested deeper than {MAX_GROUP_DEPTH}")
    if not data:
        raise InvalidQuery("empty condition group")
    items: list[Node] = []
    connectors: list[str] = []
    for position, item in enumerate(data):
        if position % 2:
            if not isinstance(item, str) or item.strip().upper() not in ("AND", "OR"):
                raise InvalidQuery("expected AND or OR between conditions")
            connectors.append(item.strip().upper())
        elif isinstance(item, dict):
            items.append(_parse_cond(item))
        elif isinstance(item, list):
            items.append(_parse_list(item, depth + 1))
        else:
            raise InvalidQuery("expected a condition")
    if len(connectors) != len(items) - 1:
        raise InvalidQuery("a condition list cannot end with AND/OR")
    return items[0] if len(items) == 1 else Group(tuple(items), tuple(connectors))


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return value
    raise InvalidQuery("condition values must be strings or numbers")


def _unwrap(value: object) -> object:
    if isinstance(value, dict):
        if "value" not in value:
            raise InvalidQuery("condition value without 'value'")
        return value["value"]
    return value


def _parse_cond(item: dict[str, object]) -> Cond:
    spec = item.get("field")
    if isinstance(spec, dict):
        spec = spec.get("field")
    if not isinstance(spec, str) or not spec:
        raise InvalidQuery("condition without a field")
    raw_op = item.get("op")
    if not isinstance(raw_op, str):
        raise InvalidQuery("condition without an operator")
    op = _OPS.get(" ".join(raw_op.upper().split()))
    if op is None:
        raise InvalidQuery(f"unknown operator {raw_op!r}")
    if "value" not in item:
        raise InvalidQuery("condition without a value")
    value = item["value"]
    if op in _LIST_OPS:
        raw_list = value.get("list") if isinstance(value, dict) and "list" in value else value
        if not isinstance(raw_list, list) or not raw_list:
            raise InvalidQuery("IN needs a non-empty list")
        return Cond(spec, op, tuple(_scalar(_unwrap(v)) for v in raw_list))
    if isinstance(value, dict) and "list" in value or isinstance(value, list):
        raise InvalidQuery("a list value is allowed only with IN / NOT IN")
    scalar = _scalar(_unwrap(value))
    if op in ("IS", "IS NOT"):
        if scalar.strip().upper() != "NULL":
            raise InvalidQuery("IS takes only NULL")
        return Cond(spec, op, ())
    return Cond(spec, op, (scalar,))


# --------------------------------------------------------------------------- legacy string form

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<punct>[(),])
      | (?P<op><>|!=|>=|<=|=|<|>)
      | (?P<str>'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.)*")
      | (?P<num>-?\d+(?:\.\d+)?)
      | (?P<word>`[^`]+`|[A-Za-z_][A-Za-z0-9_.]*)
    )""",
    re.VERBOSE,
)


class _LegacyParser:
    def __init__(self, text: str) -> None:
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        text = text.rstrip()
        while pos < len(text):
            match = _TOKEN.match(text, pos)
            if not match or match.end() == pos:
                raise InvalidQuery("cannot parse condition")
            kind = match.lastgroup or ""
            self.tokens.append((kind, match.group(kind)))
            pos = match.end()
        self.pos = 0
        depth = 0
        for kind, token in self.tokens:
            if kind == "punct" and token in "()":
                depth += 1 if token == "(" else -1
                if depth > MAX_GROUP_DEPTH:
                    raise InvalidQuery(f"condition groups nested deeper than {MAX_GROUP_DEPTH}")

    def _peek(self) -> tuple[str, str]:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else ("end", "")

    def _next(self) -> tuple[str, str]:
        token = self._peek()
        self.pos += 1
        return token

    def _keyword(self, *words: str) -> bool:
        kind, text = self._peek()
        if kind == "word" and text.upper() in words:
            self.pos += 1
            return True
        return False

    def _expect(self, kind: str, text: str | None = None) -> str:
        got_kind, got = self._next()
        if got_kind != kind or (text is not None and got.upper() != text):
            raise InvalidQuery("cannot parse condition")
        return got

    def parse(self) -> Node:
        node = self._expr()
        if self._peek()[0] != "end":
            raise InvalidQuery("cannot parse condition")
        return node

    def _expr(self) -> Node:
        items = [self._term()]
        connectors: list[str] = []
        while True:
            kind, text = self._peek()
            if kind == "word" and text.upper() in ("AND", "OR"):
                self.pos += 1
                connectors.append(text.upper())
                items.append(self._term())
            else:
                break
        return items[0] if len(items) == 1 else Group(tuple(items), tuple(connectors), sql_order=True)

    def _term(self) -> Node:
        if self._peek() == ("punct", "("):
            self.pos += 1
            node = self._expr()
            self._expect("punct", ")")
            return node
        name = self._expect("word").strip("`")
        if self._keyword("IS"):
            op = "IS NOT" if self._keyword("NOT") else "IS"
            self._expect("word", "NULL")
            return Cond(name, op, ())
        negate = self._keyword("NOT")
        if self._keyword("IN"):
            self._expect("punct", "(")
            values = [self._value()]
            while self._peek() == ("punct", ","):
                self.pos += 1
                values.append(self._value())
            self._expect("punct", ")")
            return Cond(name, "NOT IN" if negate else "IN", tuple(values))
        if self._keyword("LIKE"):
            return Cond(name, "NOT LIKE" if negate else "LIKE", (self._value(),))
        if negate:
            raise InvalidQuery("cannot parse condition")
        op = self._expect("op")
        return Cond(name, _OPS[op], (self._value(),))

    def _value(self) -> str:
        kind, text = self._next()
        if kind == "num":
            return text
        if kind == "str":
            quote = text[0]
            body = text[1:-1].replace(quote * 2, quote)
            return re.sub(r"\\(.)", r"\1", body)
        raise InvalidQuery("cannot parse condition")


# --------------------------------------------------------------------------- SQL


def like_to_glob(pattern: str) -> str:
    """Translate a LIKE pattern (``%``, ``_``, ``\\`` escape) into an equivalent GLOB pattern."""
    out: list[str] = []
    escaped = False
    for ch in pattern:
        if escaped:
            out.append(f"[{ch}]" if ch in "*?[" else ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "%":
            out.append("*")
        elif ch == "_":
            out.append("?")
        elif ch in "*?[":
            out.append(f"[{ch}]")
        else:
            out.append(ch)
    if escaped:
        out.append("\\")
    return "".join(out)


def _join(parts: list[str], connector: str) -> tuple[str, int]:
    """``(a OR b OR …)`` kept shallow for SQLite (which nests ``a OR b OR c`` one level per
    term): long runs are split into balanced groups of at most eight. Answers the SQL and
    the nesting depth it adds."""
    depth = 0
    while True:
        depth += len(parts)
        if len(parts) <= 8:
            return f"({f' {connector} '.join(parts)})", depth
        parts = [f"({f' {connector} '.join(parts[i : i + 8])})" for i in range(0, len(parts), 8)]
        depth = 8


def _compile(node: Node, otype: ObjectType, collation: str, order: str, params: list[str]) -> tuple[str, int]:
    """SQL for ``node`` and (an upper bound of) how deep SQLite will nest it."""
    if isinstance(node, Cond):
        return _compile_cond(node, otype, collation, params), 2
    compiled = [_compile(item, otype, collation, order, params) for item in node.items]
    parts = [sql for sql, _ in compiled]
    depth = max(d for _, d in compiled)
    if order == "sql" or node.sql_order:
        # AND binds tighter: OR over runs of AND
        runs: list[list[str]] = [[parts[0]]]
        for connector, part in zip(node.connectors, parts[1:], strict=True):
            if connector == "OR":
                runs.append([part])
            else:
                runs[-1].append(part)
        joined = [_join(run, "AND") for run in runs]
        sql, added = _join([part for part, _ in joined], "OR")
        return sql, depth + max(d for _, d in joined) + added
    # left to right: ((a AND b) OR c); a run of one connector needs no extra nesting
    run = [parts[0]]
    current: str | None = None
    for connector, part in zip(node.connectors, parts[1:], strict=True):
        if current is not None and connector != current:
            sql, added = _join(run, current)
            run = [sql]
            depth += added
        current = connector
        run.append(part)
    sql, added = _join(run, current or "AND")
    return sql, depth + added


def _compile_cond(cond: Cond, otype: ObjectType, collation: str, params: list[str]) -> str:
    column = otype.column(cond.field)
    if column is None:
        raise InvalidQuery(f"unknown field {cond.field!r}")
    op = cond.op
    if op in ("IS", "IS NOT"):
        return f"({column} {op} NULL)"
    if op in ("LIKE", "NOT LIKE"):
        params.append(cond.values[0] if collation == "nocase" else like_to_glob(cond.values[0]))
        negate = "NOT " if op == "NOT LIKE" else ""
        if collation == "nocase":
            return f"({column} {negate}LIKE ? ESCAPE '\\')"
        return f"({column} {negate}GLOB ?)"
    params.extend(cond.values)
    numeric = otype.is_numeric(cond.field)
    if column == "t.id":
        # The INTEGER PRIMARY KEY compares numerically as it is (the same rows as a cast), and
        # uncast it is a rowid range: counting an id range reads that range, not the table.
        lhs, rhs = column, "CAST(? AS REAL)"
    elif numeric:
        lhs, rhs = f"CAST({column} AS REAL)", "CAST(? AS REAL)"
    else:
        lhs, rhs = column, "?"
    if op in _LIST_OPS:
        if not numeric and collation == "nocase":
            lhs = f"{lhs} COLLATE NOCASE"
        return f"({lhs} {op} ({', '.join([rhs] * len(cond.values))}))"
    collate = " COLLATE NOCASE" if not numeric and collation == "nocase" else ""
    return f"({lhs} {op} {rhs}{collate})"


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def compile_search(term: str, otype: ObjectType, *, notes: bool = False) -> tuple[str, list[str]]:
    """``search=``: case-insensitive substring over the type's text-like fields.

    With ``notes`` (``searchNotes=1``) a record also matches when the text of one of its
    notes does.
    """
    term = term.strip()
    columns = [otype.column(f.name) for f in otype.fields if f.searchable]
    if not term or not (columns or notes):
        return "", []
    pattern = f"%{escape_like(term)}%"
    parts = [f"{c} LIKE ? ESCAPE '\\'" for c in columns]
    args = [pattern] * len(columns)
    if notes:
        parts.append(
            f't.id IN (SELECT CAST(n."contact_id" AS INTEGER) FROM {NOTES.table} AS n '
            f'WHERE n."object_type_id" = ? AND n."data" LIKE ? ESCAPE \'\\\')'
        )
        args += [str(otype.id), pattern]
    return f"({' OR '.join(parts)})", args
