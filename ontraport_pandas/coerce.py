"""Re-typing a frame that came back from a CSV file, an Excel sheet or a Google Sheet.

A frame written out with ``to_csv`` (or pasted into a spreadsheet) comes back as text: ids as a
plain column, dates as ISO strings, booleans as ``"True"``, tag lists as ``"['Yoga', 'Webinar
2025']"``. :func:`coerce_frame` applies the type table of :mod:`ontraport_pandas.schema` again, so
that the frame is typed exactly like a loaded one and can be planned and pushed.

What each cell may look like
----------------------------
* **ids**: the ``id`` column (``form_id``/``tag_id`` also accepted for those types), or else the
  index when it is named ``id`` or holds whole numbers. ``12``, ``12.0``, ``"12"`` are id 12; a
  blank, NA, a negative number or text starting with ``new`` marks a new row (NA in the index). A
  default ``0..n-1`` index with no ``id`` column is refused: add an ``id`` column, blank for rows to
  create.
* **text**: kept as given (a blank cell is NA, which Ontraport stores as empty). A text field that
  pandas read as numbers or booleans (``pd.read_csv`` guesses types: ``"02967"`` becomes 2967,
  ``"+1303…"`` loses its ``+``) is refused with the fix: read the file as text
  (:func:`~ontraport_pandas.spreadsheet.read_csv`, or ``dtype=str, keep_default_na=False``, which
  also keeps ``"N/A"`` and ``"null"`` as text instead of missing).
* **numbers, prices, record ids of parent fields**: numbers or numeric text.
* **dates**: datetimes (Excel), ``Timestamp`` s or ISO 8601 text (``to_csv`` writes
  ``2025-01-31 10:00:00+00:00``); naive values are UTC. Other text (``1/31/2025``) is reported,
  since day and month order cannot be known.
* **booleans**: ``True``/``False`` in any case, ``1``/``0``, ``yes``/``no``.
* **dropdowns**: the option label (an all-digit label read as a number is turned back into text),
  or an all-digit raw option id.
* **lists** (tags, sequences, campaigns, list fields): lists, the text of a Python or JSON list
  (``"['Yoga', 'Webinar 2025']"``, ``'["Yoga"]'``), the wire form ``"*/*1*/*2*/*"`` (option ids),
  or comma-separated labels as a spreadsheet's multi-select writes them (``"Yoga, Webinar 2025"``;
  a known label that itself holds a comma is matched whole). A blank cell is an empty list.

Columns that are not fields of the type are left untouched (the writer reports them). Every cell
that does not fit is collected, by row, column and value, and reported at once in a
:class:`~ontraport_pandas.errors.ValidationError`; nothing is returned half-typed.
"""

from __future__ import annotations

import ast
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .errors import Problem, SchemaError, ValidationError
from .objects import ObjectType
from .schema import FieldSpec, ObjectSchema, coerce_column

__all__ = ["coerce_frame", "parse_list_text"]

_NEW_PREFIX = "new"
_TRUE = {"true", "1", "yes", "y"}
_FALSE = {"false", "0", "no", "n"}


def _is_blank(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip() == ""


def _id_of(value: Any) -> tuple[int | None, bool]:
    """``(id, ok)``: the record id of an id cell, ``(None, True)`` for a new row, ``(None, False)`` if bad."""
    if _is_blank(value):
        return None, True
    if isinstance(value, (bool, np.bool_)):
        return None, False
    if isinstance(value, str):
        text = value.strip()
        if text.lower().startswith(_NEW_PREFIX):
            return None, True
        try:
            value = float(text) if any(c in text for c in ".eE") else int(text)
        except ValueError:
            return None, False
    if isinstance(value, (int, np.integer)):
        number = int(value)
    elif isinstance(value, (float, np.floating)) and math.isfinite(value) and float(value).is_integer():
        number = int(value)
    else:
        return None, False
    if number < 0:
        return None, True
    if number == 0:
        return None, False
    return number, True


def _default_index(index: pd.Index) -> bool:
    return isinstance(index, pd.RangeIndex) and index.name is None


def _ids(frame: pd.DataFrame, otype: ObjectType) -> tuple[pd.DataFrame, pd.Index, list[Problem]]:
    """The frame without its id column, the Int64 id index, and the bad id cells."""
    names = [n for n in dict.fromkeys(("id", otype.id_field)) if n in frame.columns]
    problems: list[Problem] = []
    if names:
        column = names[0]
        raw = frame[column]
        if isinstance(raw, pd.DataFrame):  # a duplicated id column: reported with the other duplicates
            raw = raw.iloc[:, 0]
        rows = list(frame.index)
        values = list(raw)
        frame = frame.drop(columns=names)
    elif not _default_index(frame.index) or frame.index.name in ("id", otype.id_field):
        column = "id"
        values = list(frame.index)
        rows = values
    else:
        raise ValidationError(
            [
                Problem(
                    None,
                    "id",
                    None,
                    "the frame has no 'id' column and its index is positional (0, 1, 2, …), so no row "
                    "says which record it is: keep the id column when saving (df.to_csv() writes the "
                    "index), or add an 'id' column, blank for rows to create",
                )
            ]
        )
    out: list[Any] = []
    for row, value in zip(rows, values, strict=True):
        number, ok = _id_of(value)
        if not ok:
            problems.append(
                Problem(row, column, value, "not a record id (a whole number > 0; blank for a new row)")
            )
        out.append(pd.NA if number is None else number)
    index = pd.Index(pd.array(out, dtype="Int64"), name="id")
    return frame, index, problems


def _split_labels(text: str, known: Sequence[str]) -> list[str]:
    """``"Yoga, Webinar 2025"`` -> ``["Yoga", "Webinar 2025"]``, keeping known labels with commas whole."""
    whole = text.strip()
    if whole in known:
        return [whole]
    pieces = [p.strip() for p in whole.split(",")]
    lookup = set(known)
    out: list[str] = []
    i = 0
    while i < len(pieces):
        took = 1
        for j in range(len(pieces), i + 1, -1):  # the longest run of pieces that is one known label
            for sep in (", ", ","):
                if sep.join(pieces[i:j]) in lookup:
                    out.append(sep.join(pieces[i:j]))
                    took = j - i
                    break
            if took > 1:
                break
        if took == 1 and pieces[i]:
            out.append(pieces[i])
        i += took
    return out


def parse_list_text(value: Any, known: Sequence[str] = ()) -> Any:
    """A list cell from its text form; other values are returned as they are.

    ``"['Yoga', 'Webinar 2025']"`` and ``'["Yoga"]'`` are read as literals, ``"*/*1*/*2*/*"`` is left
    for the type table (ids to labels), ``"Yoga, Webinar 2025"`` is split on commas (a label in
    ``known`` that holds a comma is kept whole); a blank cell is ``[]``. Text that looks like a list
    literal but is not one is returned unchanged, so that the caller reports it.
    """
    if isinstance(value, np.ndarray):
        return value.tolist()
    if _is_blank(value):
        return []
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith("*/*"):
        return text
    if text.startswith(("[", "(")):
        try:
            parsed = ast.literal_eval(text)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            try:
                parsed = json.loads(text)
            except ValueError:
                return value
        if isinstance(parsed, (list, tuple)) and all(isinstance(x, str) for x in parsed):
            return list(parsed)
        return value
    return _split_labels(text, known)


def _known_labels(spec: FieldSpec, lookup: Mapping[Any, Any] | None) -> list[str]:
    labels = [str(v) for v in spec.options.values()]
    if lookup:
        labels += [str(v) for v in lookup.values()]
    return labels


def _text_cell(value: Any) -> Any:
    if isinstance(value, (float, np.floating)) and math.isfinite(value) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, str) and value == "":
        return None
    return value


def _check_cell(value: Any) -> Any:
    if isinstance(value, str):
        key = value.strip().lower()
        if key in _TRUE:
            return True
        if key in _FALSE:
            return False
        if key == "":
            return None
    return value


def _drop_cell(value: Any) -> Any:
    if isinstance(value, (bool, np.bool_)):
        return value
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)) and math.isfinite(value) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, str):
        return None if value.strip() == "" else value
    return value


def _textual(dtype: Any) -> bool:
    return pd.api.types.is_object_dtype(dtype) or isinstance(dtype, pd.StringDtype)


def _prepare(values: pd.Series, spec: FieldSpec, lookup: Mapping[Any, Any] | None) -> pd.Series:
    """Turn the text forms a spreadsheet leaves into values :func:`coerce_column` accepts."""
    kind = spec.kind
    dtype = values.dtype
    if kind in ("list", "subscription"):
        if _textual(dtype):
            known = _known_labels(spec, lookup)
            return values.astype(object).map(lambda v: parse_list_text(v, known))
        return values
    if not _textual(dtype) and not pd.api.types.is_float_dtype(dtype):
        return values
    cell = {"text": _text_cell, "check": _check_cell, "drop": _drop_cell}.get(kind)
    if cell is None:
        if _textual(dtype):
            return values.astype(object).map(lambda v: v.strip() if isinstance(v, str) else v)
        return values
    if kind == "text" and isinstance(dtype, pd.StringDtype):
        return values.astype(object).map(lambda v: None if isinstance(v, str) and v == "" else v)
    return values.astype(object).map(cell)


def coerce_frame(
    frame: pd.DataFrame,
    schema: ObjectSchema,
    otype: ObjectType,
    *,
    lookups: Mapping[str, Mapping[Any, Any]] | None = None,
) -> pd.DataFrame:
    """``frame`` typed by the type table, indexed by record id; see the module docstring.

    Raises
    ------
    ValidationError
        Every cell (id or value) that does not fit, by row, column and value; also duplicated columns.
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"coerce() takes a DataFrame, not {type(frame).__name__}")
    problems: list[Problem] = []
    dup = frame.columns[frame.columns.duplicated()]
    for col in dict.fromkeys(dup.tolist()):
        problems.append(Problem(None, str(col), None, f"column {col!r} appears more than once; keep one"))
    if problems:
        raise ValidationError(problems)
    body, index, problems = _ids(frame, otype)
    columns: dict[Any, Any] = {}
    for col in body.columns:
        values = body[col]
        spec = schema.fields.get(col) if isinstance(col, str) else None
        if spec is None:
            columns[col] = (
                values.to_numpy(copy=True) if pd.api.types.is_object_dtype(values.dtype) else values.array
            )
            continue
        if spec.kind == "text" and (
            pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype)
        ):
            if values.notna().any():
                problems.append(
                    Problem(
                        None,
                        str(col),
                        None,
                        f"a text field read as {values.dtype} (pandas guessed the type of the file's column: "
                        "leading zeros, '+' and other formatting are already lost, and 'N/A', 'NA' or 'null' "
                        "became missing); read the file as text: opd.read_csv(path, object_type, client=op) "
                        "or pd.read_csv(path, dtype=str, keep_default_na=False)",
                    )
                )
                continue
        lookup = (lookups or {}).get(col)
        try:
            typed = coerce_column(
                _prepare(values, spec, lookup),
                spec,
                lookups=lookup,  # type: ignore[arg-type]
                allow_unknown_labels=spec.kind == "subscription",
            )
        except SchemaError as exc:
            if values.index.is_unique:  # name the cell as the file had it, not as it was parsed
                exc.problems = [
                    Problem(p.row, p.column, values.get(p.row, p.value), p.message) for p in exc.problems
                ]
            problems += exc.problems
            continue
        columns[col] = typed.array
    if problems:
        raise ValidationError(problems)
    out = pd.DataFrame(columns, index=index)
    out.columns = body.columns
    for col in body.columns:
        spec = schema.fields.get(col) if isinstance(col, str) else None
        if spec is not None and spec.kind in ("list", "subscription"):
            out[col] = pd.Series(list(columns[col]), index=index, dtype=object)
    return out
