"""Checks on the frame handed to the writer that are about its shape, not one field's type.

Pure (no I/O); :mod:`ontraport_pandas.diff` runs them before it compares anything.

The index
---------
The index of a frame to push is the record id, as the load made it. Each label is one of:

* a **record id**: a positive whole number, whatever its dtype (``Int64``, ``int64``,
  ``float64`` such as ``12.0`` after ``pd.concat`` with an NA row or a CSV round trip,
  or its text such as ``"12"`` or ``"12.0"``);
* a **new row**: NA (``None``, ``NaN``, ``pd.NA``, ``NaT``, ``""``), a negative whole
  number (``-1`` or ``"-1"``), or a string starting with ``new`` (``"new-1"``);
* anything else (``0``, ``1.5``, ``"ann@example.org"``, ``True``, a timestamp): not a
  record id, so the index is not the one the frame was loaded with.

:func:`check_index` refuses a frame whose index is not its record ids, with one
problem that names the index and the fix, before any cell is compared: a positional
index (``reset_index(drop=True)``, ``ignore_index=True``), an index set to another
column, an ``id`` column that disagrees with the index, or ids reassigned to other
rows (found when ``date`` (created) or, without it, ``unique_id``, which never change,
differ from the loaded values in two rows or more). Without that check a positional
index ``1..n`` would silently move every row's values onto another record.

Cells
-----
* :func:`duplicate_column_problems`: a column name that appears twice is ambiguous.
* :func:`list_cell_problems`: list-valued fields (tags, sequences, campaigns, list
  fields) take lists only; a string such as ``"['Yoga', 'Webinar 2025']"`` is what a
  CSV or spreadsheet round trip leaves and is refused with that cause.
* :func:`unencodable_text`: a string holding a lone surrogate (``"\\udc80"``, left by
  ``errors="surrogateescape"`` decoding) cannot be sent as UTF-8.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .errors import Problem

__all__ = [
    "IndexLabels",
    "check_index",
    "classify_index",
    "duplicate_column_problems",
    "is_new_label",
    "is_record_id",
    "list_cell_problem",
    "list_cell_problems",
    "surrogate_message",
    "unencodable_text",
]

#: Read-only columns that identify a record and never change: a difference means rows moved.
#: The first one the frame has (with its loaded dtype) is compared; ``date`` first, as it is cheapest.
IDENTITY_COLUMNS = ("date", "unique_id")

_NEW_PREFIX = re.compile(r"^\s*new", re.IGNORECASE)
_WHOLE_TEXT = re.compile(r"^([+-]?)([0-9]+)(?:\.0*)?$")
_LIST_TEXT = re.compile(r"^\s*[\[(].*[\])]\s*$", re.DOTALL)

#: Kinds of label (values of :attr:`IndexLabels.kind`).
ID, NEW, BAD = 0, 1, 2


class IndexLabels:
    """Each index label classified: ``kind`` (ID, NEW or BAD per row) and ``ids`` (0 where not an id)."""

    __slots__ = ("ids", "kind")

    def __init__(self, kind: np.ndarray, ids: np.ndarray) -> None:
        self.kind = kind
        self.ids = ids

    @property
    def new(self) -> np.ndarray:
        return np.asarray(self.kind == NEW)

    @property
    def bad(self) -> np.ndarray:
        return np.asarray(self.kind == BAD)


def _label_kind(label: Any) -> tuple[int, int]:
    """One label: (kind, id)."""
    if label is None or label is pd.NA or label is pd.NaT:
        return NEW, 0
    if isinstance(label, (bool, np.bool_)):
        return BAD, 0
    if isinstance(label, (int, np.integer)):
        n = int(label)
        return (ID, n) if n > 0 else (NEW, 0) if n < 0 else (BAD, 0)
    if isinstance(label, (float, np.floating)):
        x = float(label)
        if np.isnan(x):
            return NEW, 0
        if np.isfinite(x) and x == np.round(x) and abs(x) < 2**53:
            n = int(x)
            return (ID, n) if n > 0 else (NEW, 0) if n < 0 else (BAD, 0)
        return BAD, 0
    if isinstance(label, str):
        s = label.strip()
        if not s:
            return NEW, 0
        number = _WHOLE_TEXT.match(s)
        if number:  # "12", "12.0" (a float index read back as text), "-1"
            n = int(number.group(2))
            if number.group(1) == "-" and n > 0:
                return NEW, 0
            return (ID, n) if n > 0 else (BAD, 0)
        if _NEW_PREFIX.match(s):
            return NEW, 0
        return BAD, 0
    return BAD, 0


def classify_index(index: pd.Index) -> IndexLabels:
    """Classify every label of ``index`` as a record id, a new row or neither (see the module docstring)."""
    n = len(index)
    if isinstance(index, pd.MultiIndex):
        return IndexLabels(np.full(n, BAD, dtype=np.int8), np.zeros(n, dtype=np.int64))
    dtype = index.dtype
    if pd.api.types.is_integer_dtype(dtype) and not index.hasnans:  # the loaded index: no float detour
        ints = index.to_numpy(dtype=np.int64)
        kind = np.where(ints > 0, ID, np.where(ints < 0, NEW, BAD)).astype(np.int8)
        return IndexLabels(kind, np.where(ints > 0, ints, 0))
    if pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_float_dtype(dtype):
        x = index.to_numpy(dtype="float64", na_value=np.nan)
        na = np.isnan(x)
        whole = ~na & np.isfinite(x) & (x == np.round(np.where(na, 0.0, x))) & (np.abs(x) < 2**53)
        ids = np.where(whole & (x > 0), x, 0).astype(np.int64)
        kind = np.full(n, BAD, dtype=np.int8)
        kind[whole & (x > 0)] = ID
        kind[na | (whole & (x < 0))] = NEW
        return IndexLabels(kind, ids)
    pairs = [_label_kind(x) for x in index.tolist()]
    kind = np.fromiter((k for k, _ in pairs), dtype=np.int8, count=n)
    ids = np.fromiter((i for _, i in pairs), dtype=np.int64, count=n)
    return IndexLabels(kind, ids)


def is_new_label(label: Any) -> bool:
    """True for an index label that marks a row to create (NA, a negative number, ``"new…"``)."""
    return _label_kind(label)[0] == NEW


def is_record_id(label: Any) -> bool:
    """True for an index label that is a record id (a whole number > 0 of any dtype, or its digits)."""
    return _label_kind(label)[0] == ID


def _shown(labels: Sequence[Any], limit: int = 3) -> str:
    out = ", ".join(repr(x.item() if isinstance(x, np.generic) else x) for x in list(labels)[:limit])
    return out + (", …" if len(labels) > limit else "")


def _positional(index: pd.Index) -> bool:
    """True for a numeric index holding exactly 0, 1, …, n-1 in order."""
    if not (pd.api.types.is_integer_dtype(index.dtype) or pd.api.types.is_float_dtype(index.dtype)):
        return False
    x = index.to_numpy(dtype="float64", na_value=np.nan)
    return bool(len(x)) and np.array_equal(x, np.arange(len(x), dtype="float64"))


def check_index(
    edited: pd.DataFrame,
    original: pd.DataFrame,
    id_field: str = "id",
    *,
    labels: IndexLabels | None = None,
    original_labels: IndexLabels | None = None,
) -> list[Problem]:
    """One problem naming the index when ``edited``'s index is not the record ids it was loaded with.

    ``original`` is the frame as loaded (its index holds the ids). ``labels`` and
    ``original_labels`` are the indexes already classified, if the caller has them. Returns
    ``[]`` when the index is fine.
    """
    index = edited.index
    called = f"index {index.name!r}" if index.name is not None else "the index"
    fix_id = (
        f" It has an {id_field!r} column: restore the index with edited.set_index({id_field!r})."
        if id_field in edited.columns
        else ""
    )
    fix = (
        f" The index must hold the record ids the frame was loaded with (named {id_field!r}); keep the "
        f"loaded index when editing (no reset_index(drop=True), no ignore_index=True), or restore it with "
        f"edited.set_index({id_field!r}) while the ids are still a column. New rows get an NA index label."
    )

    def problem(why: str, sample: Any) -> list[Problem]:
        return [Problem(None, None, sample, f"{called} is not the record ids: {why}.{fix_id}{fix}")]

    orig_kinds = original_labels if original_labels is not None else classify_index(original.index)
    if (orig_kinds.kind != ID).any() or isinstance(original.index, pd.MultiIndex):
        sample = original.index[orig_kinds.kind != ID][:3].tolist()
        return [
            Problem(
                None,
                None,
                sample,
                "the original frame is not indexed by record id (every label a whole number > 0): pass "
                "original= the frame exactly as it was loaded",
            )
        ]
    if isinstance(index, pd.MultiIndex):
        return problem(f"it has {index.nlevels} levels", list(index.names))
    if labels is None:
        labels = classify_index(index)
    bad = labels.bad
    if bad.any():
        sample = index[bad][:3].tolist()
        n_bad = int(bad.sum())
        if isinstance(index, pd.RangeIndex) or _positional(index):
            why = f"it is a positional index 0..{len(index) - 1}, as reset_index(drop=True) leaves"
        elif all(isinstance(x, str) and "@" in x for x in sample):
            why = f"it holds e-mail addresses ({_shown(sample)})"
        elif all(isinstance(x, (float, np.floating)) for x in sample):
            why = f"it holds numbers that are not record ids ({_shown(sample)})"
        else:
            why = f"{n_bad} label(s) are neither a record id nor a new row ({_shown(sample)})"
        return problem(why, sample)

    # An id column (reset_index() without drop, or a copy) must agree with the index.
    if id_field in edited.columns and isinstance(edited[id_field], pd.Series):
        col_kinds = classify_index(pd.Index(edited[id_field]))
        col_id = col_kinds.kind == ID
        differ = (col_kinds.kind == BAD) | (col_id & ((labels.kind != ID) | (col_kinds.ids != labels.ids)))
        if differ.any():
            rows = index[differ][:3].tolist()
            return problem(
                f"its labels differ from the {id_field!r} column in {int(differ.sum())} row(s) ({_shown(rows)})",
                rows,
            )

    # Ids reassigned to other rows: the columns that identify a record moved with the rows.
    has_id = labels.kind == ID
    if has_id.sum() >= 2 and len(original):
        orig_arr = orig_kinds.ids
        edit_ids = labels.ids[has_id]
        same_order = np.array_equal(orig_arr, edit_ids)  # the usual case: no hash join needed
        orig_ids = pd.Index(orig_arr, dtype="int64")
        if same_order or orig_ids.is_unique:
            pos = np.arange(len(edit_ids)) if same_order else orig_ids.get_indexer(edit_ids)
            found = pos >= 0
            moved = np.zeros(int(has_id.sum()), dtype=bool)
            used = ""
            at = np.flatnonzero(has_id)[found]
            for col in IDENTITY_COLUMNS:
                if col not in edited.columns or col not in original.columns:
                    continue
                e, o = edited[col], original[col]
                # Only like with like: a CSV round trip turns dates into text, which proves nothing.
                if not isinstance(e, pd.Series) or not isinstance(o, pd.Series) or e.dtype != o.dtype:
                    continue
                new, new_na = _plain(e)
                old, old_na = _plain(o)
                new, new_na = new[at], new_na[at]
                old, old_na = old[pos[found]], old_na[pos[found]]
                differs = np.asarray(new != old, dtype=bool) & ~new_na & ~old_na
                moved[np.flatnonzero(found)[differs]] = True
                used = col
                break
            if moved.sum() >= 2:
                rows = index[has_id][moved][:3].tolist()
                return problem(
                    f"{int(moved.sum())} row(s) carry another record's {used!r} "
                    f"({_shown(rows)}): the index was re-sorted or reassigned after loading (or that read-only "
                    "column was edited)",
                    rows,
                )
    return []


def _plain(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """A column as a plain numpy array and its NA mask (fast to compare element-wise)."""
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        arr = values.to_numpy(dtype="datetime64[ns]")
        return arr, np.isnat(arr)
    arr = values.to_numpy(dtype=object)
    return arr, values.isna().to_numpy(dtype=bool)


def duplicate_column_problems(columns: pd.Index) -> list[Problem]:
    """One problem per column name that appears more than once."""
    dup = columns[columns.duplicated()]
    out = []
    for col in dict.fromkeys(dup.tolist()):
        n = int((columns == col).sum())
        out.append(
            Problem(
                None,
                str(col),
                None,
                f"column {col!r} appears {n} times; keep one "
                "(edited.loc[:, ~edited.columns.duplicated()] keeps the first)",
            )
        )
    return out


def list_cell_problem(value: Any) -> str | None:
    """Why ``value`` cannot be the cell of a list-valued column (None when it can: a list, or NA)."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return None
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, str):
        if _LIST_TEXT.match(value):
            return (
                "is the text of a list, not a list: a CSV or spreadsheet round trip writes lists out as "
                "text; re-type the frame with op.coerce(df, object_type) (or read the file with "
                "opd.read_csv(path, object_type, client=op)), which turns every column back"
            )
        return f"takes a list of names (e.g. [{value!r}]), not a string"
    return f"takes a list of names, not {type(value).__name__}"


def list_cell_problems(
    values: pd.Series, column: str, row_name: Callable[[int], Any] | None = None
) -> list[Problem]:
    """A problem per cell of a list-valued column that is not a list (or NA).

    ``row_name`` turns a position into the row label reported (default: the index label).
    """
    cells = values.tolist()
    if set(map(type, cells)) <= {list}:
        return []
    name = row_name or (lambda k: values.index[k])
    out = []
    for k, v in enumerate(cells):
        if type(v) is list:
            continue
        why = list_cell_problem(v)
        if why is not None:
            out.append(Problem(name(k), column, v, f"{column} {why}"))
    return out


def unencodable_text(values: Sequence[Any]) -> list[int]:
    """Positions of strings in ``values`` that cannot be encoded as UTF-8 (lone surrogates)."""
    try:  # the usual case: one encode of everything at once
        "".join(values).encode("utf-8")
        return []
    except TypeError:  # not only strings: look at the strings alone
        try:
            "".join(v for v in values if isinstance(v, str)).encode("utf-8")
            return []
        except UnicodeEncodeError:
            pass
    except UnicodeEncodeError:
        pass
    out = []
    for k, v in enumerate(values):
        if isinstance(v, str):
            try:
                v.encode("utf-8")
            except UnicodeEncodeError:
                out.append(k)
    return out


def surrogate_message(value: str) -> str:
    """Why a string with a lone surrogate cannot be sent, and where it is."""
    pos = next(k for k, ch in enumerate(value) if 0xD800 <= ord(ch) <= 0xDFFF)
    return (
        f"contains a lone surrogate ({value[pos]!r} at position {pos}) that cannot be sent as UTF-8; "
        "it usually comes from reading a file with the wrong encoding or errors='surrogateescape'"
    )
