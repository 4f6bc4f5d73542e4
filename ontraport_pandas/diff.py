"""Pure comparison of an edited frame with the frame as it was loaded.

:func:`diff_frames` finds, without any I/O:

* rows to create: an NA index label, a negative number (``-1``) or a label starting
  with ``new`` (``"new-1"``): they have no Ontraport id yet. Whole numbers of any dtype
  (``12``, ``12.0``, ``"12"``) are record ids; any other label means the index is not
  the record ids, and the frame is refused before anything is compared
  (:mod:`ontraport_pandas.validation`);
* cells that changed in existing rows, compared through the field types (so a
  ``Float64`` price that rounds to the same cents, or a category relabelled to the
  same option, is not a change); a cell changed to NA is a *clear*;
* tags added and removed per row (the tag list column); sequence and automation
  membership columns are checked here and compared by :mod:`ontraport_pandas.memberships`;
* rows that disappeared, which become deletes only when asked.

It also validates everything at once and returns every problem with its row,
column and value: unknown or duplicated columns, read-only fields edited, duplicate
ids, ids that were not loaded, values that do not fit the field type (``inf``, a
price with more than two decimals), dropdown labels that are not options, invalid
e-mail addresses, text that cannot be sent as UTF-8, list-valued cells that are not
lists, required fields missing on create or cleared on update, and new rows with no
value at all (unless ``allow_empty=True``).

The old and new values it records are for display, and show what Ontraport will
store: a price as its cents, a cleared number as 0 and a cleared check box as False.

The changed cells of existing rows are returned column by column
(:class:`~ontraport_pandas.update_cells.UpdateCells`), not as one object per row: a big
edit changes hundreds of thousands of cells, and the plan builds per-row operations only
when they are needed. Columns are compared cheaply first: cells of text and list columns
that hold the very object they were loaded with are equal without a look at their value.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal

import numpy as np
import pandas as pd
from pandas.core.arrays.masked import BaseMaskedArray

from .errors import Problem, SchemaError
from .memberships import MEMBERSHIP_MODELS
from .objects import ObjectType
from .update_cells import UpdateCells
from .validation import (
    check_index,
    classify_index,
    duplicate_column_problems,
    is_new_label,
    list_cell_problems,
    surrogate_message,
    unencodable_text,
)

__all__ = ["Changes", "RowChange", "diff_frames", "is_new_label"]

OnNull = Literal["clear", "skip"]

#: A pragmatic e-mail check (the API answers 422 for addresses it refuses).
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

#: Columns that are never written, whatever meta says about them.
SYSTEM_COLUMNS = frozenset(
    {"id", "date", "dlm", "dla", "unique_id", "ip_addy", "ip_addy_display", "import_id"}
)


class RowChange:
    """What changes in one row (a plain slotted class: a big diff makes one per changed row)."""

    __slots__ = (
        "before_wire",
        "clears",
        "kind",
        "new",
        "old",
        "record_id",
        "row",
        "tags_add",
        "tags_remove",
        "wire",
    )

    def __init__(self, kind: Literal["create", "update", "delete"], row: Any, record_id: int | None) -> None:
        self.kind = kind
        self.row = row
        self.record_id = record_id
        self.wire: dict[str, Any] = {}
        self.before_wire: dict[str, Any] = {}
        self.old: dict[str, Any] = {}
        self.new: dict[str, Any] = {}
        self.clears: tuple[str, ...] = ()
        self.tags_add: tuple[str, ...] = ()
        self.tags_remove: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"RowChange({self.kind!r}, row={self.row!r}, wire={self.wire!r})"


@dataclass
class Changes:
    """The result of :func:`diff_frames`.

    ``rows`` holds the creates, the deletes and the tag changes of existing rows (as
    ``"update"`` rows with no ``wire``); the changed cells of existing rows are in
    ``updates``, column by column. ``unchanged_lists`` names the list columns (tags,
    sequences, automations, list fields) whose every existing row holds the list it was
    loaded with.
    """

    rows: list[RowChange]
    problems: list[Problem]
    tag_field: str | None = None
    updates: UpdateCells = field(default_factory=UpdateCells.empty)
    unchanged_lists: frozenset[str] = frozenset()


def _na_mask(s: pd.Series) -> np.ndarray:
    return np.asarray(s.isna(), dtype=bool)


def _list_value(v: Any) -> list[Any]:
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return []
    if isinstance(v, str):
        return [v] if v else []
    return list(v)


def _same_scalar(x: Any, y: Any) -> bool:
    if isinstance(x, (list, tuple)) or isinstance(y, (list, tuple)):
        return _list_value(x) == _list_value(y)
    xn = x is None or x is pd.NA or x is pd.NaT or (isinstance(x, float) and x != x)
    yn = y is None or y is pd.NA or y is pd.NaT or (isinstance(y, float) and y != y)
    if xn or yn:
        return xn and yn
    try:
        return bool(x == y)
    except (TypeError, ValueError):
        return False


def _same(a: pd.Series, b: pd.Series) -> np.ndarray:
    """Element-wise equality that treats NA == NA as equal (a, b aligned, same length)."""
    if isinstance(a.dtype, pd.CategoricalDtype) and isinstance(b.dtype, pd.CategoricalDtype):
        if a.cat.categories.equals(b.cat.categories):
            return np.asarray(a.cat.codes.to_numpy() == b.cat.codes.to_numpy(), dtype=bool)
    if isinstance(a.dtype, pd.StringDtype) and isinstance(b.dtype, pd.StringDtype):
        pa_a, pa_b = getattr(a.array, "_pa_array", None), getattr(b.array, "_pa_array", None)
        if pa_a is not None and pa_b is not None:
            # Arrow strings (pandas 3's default): compare in Arrow with its own null masks.
            import pyarrow.compute as pc

            eq = pc.fill_null(pc.equal(pa_a, pa_b), False)
            both_na = pc.and_(pc.is_null(pa_a), pc.is_null(pa_b))
            return np.asarray(pc.or_(eq, both_na).to_numpy(zero_copy_only=False), dtype=bool)
        xa, xb = _object_values(a), _object_values(b)
        if xa is not None and xb is not None:  # text kept as Python strings (schema._STRING)
            return _same_objects(xa, xb, _same_text)
    if (
        a.dtype == object
        or b.dtype == object
        or isinstance(a.dtype, pd.CategoricalDtype)
        or isinstance(b.dtype, pd.CategoricalDtype)
    ):
        xa, xb = _object_values(a), _object_values(b)
        if xa is not None and xb is not None:
            return _same_objects(xa, xb, _same_cells)
        return _same_cells(
            np.asarray(a.astype(object).to_numpy(), dtype=object),
            np.asarray(b.astype(object).to_numpy(), dtype=object),
        )
    if a.dtype.kind == "M" and a.dtype == b.dtype:
        # Timestamps of one unit and zone: compare the integers; NaT equals NaT.
        ia, ib = getattr(a.array, "asi8", None), getattr(b.array, "asi8", None)
        if ia is not None and ib is not None:
            return np.asarray(ia == ib, dtype=bool)
    if a.dtype == b.dtype and isinstance(a.array, BaseMaskedArray) and isinstance(b.array, BaseMaskedArray):
        # Int64, Float64, boolean: compare the values, then the masks (NA equals NA only).
        ma, mb = np.asarray(a.array.isna()), np.asarray(b.array.isna())  # copies of the NA masks
        eq = np.asarray(a.array._data == b.array._data, dtype=bool)  # type: ignore[attr-defined]
        return (eq & ~(ma | mb)) | (ma & mb)
    na_a, na_b = _na_mask(a), _na_mask(b)
    try:
        eq = np.asarray(a.eq(b).fillna(False), dtype=bool)
    except (TypeError, ValueError):
        eq = np.array([_same_scalar(x, y) for x, y in zip(a.tolist(), b.tolist(), strict=True)], dtype=bool)
    return (eq & ~na_a & ~na_b) | (na_a & na_b)


def _by_position(s: pd.Series, positions: np.ndarray | None = None, index: Any = None) -> pd.Series:
    """``s`` (or its rows at ``positions``) on a new index (a RangeIndex by default), sharing the
    data: ``reset_index`` and ``set_axis`` copy the column on pandas 2.2, and a copy of
    Python strings checks every one of them again."""
    values: Any = s.to_numpy() if isinstance(s.dtype, np.dtype) else s.array  # numpy-backed: the array itself
    if positions is not None:
        values = values.take(positions)
    return pd.Series(values, index=index, name=s.name, dtype=s.dtype, copy=False)  # dtype: no inference


def _object_values(s: pd.Series) -> np.ndarray | None:
    """The object array behind a column of Python objects (object dtype, or text stored as
    Python strings), without a copy; None for any other storage."""
    values: Any
    if s.dtype == object:
        values = s.to_numpy()
    else:
        values = getattr(s.array, "_ndarray", None)
    if isinstance(values, np.ndarray) and values.dtype == object and values.ndim == 1:
        return values
    return None


class _Addresses:
    """An integer view of an object array's pointers (``__array_interface__``); holds the array."""

    def __init__(self, values: np.ndarray) -> None:
        self.values = values  # alive as long as the view is
        self.__array_interface__ = {
            "data": (values.__array_interface__["data"][0], True),
            "shape": values.shape,
            "strides": values.strides,
            "typestr": np.dtype(np.intp).str,
            "version": 3,
        }


def _same_objects(
    xa: np.ndarray, xb: np.ndarray, compare: Callable[[np.ndarray, np.ndarray], np.ndarray]
) -> np.ndarray:
    """Equality of two object arrays: cells holding the very same object are equal (NA included:
    NA equals NA), and only the other cells are compared, by ``compare``.

    A column left alone holds the same objects as the load (a copy of a frame copies the
    pointers, not the strings or lists), so usually only the edited cells are compared.
    """
    out = np.asarray(np.asarray(_Addresses(xa)) == np.asarray(_Addresses(xb)), dtype=bool)
    look = np.flatnonzero(~out)
    if len(look):
        out[look] = compare(xa[look], xb[look])
    return out


def _same_text(xa: np.ndarray, xb: np.ndarray) -> np.ndarray:
    """Equality of two object arrays of strings and NA (one NA pass per side)."""
    na_a, na_b = pd.isna(xa), pd.isna(xb)
    out = np.zeros(len(xa), dtype=bool)
    np.equal(xa, xb, out=out, where=~(na_a | na_b))
    return out | (na_a & na_b)


def _same_cells(la: np.ndarray, lb: np.ndarray) -> np.ndarray:
    """Equality of two object arrays of any cells (lists, scalars, NA; NA and an empty list are the same)."""
    xs, ys = la.tolist(), lb.tolist()
    try:  # lists (tags, list fields) compare in C ...
        out = np.fromiter(map(operator.eq, xs, ys), dtype=bool, count=len(xs))
    except (TypeError, ValueError):  # pd.NA has no truth value
        out = np.zeros(len(xs), dtype=bool)
    # ... and the cells found different are looked at again, carefully (None against [], NaN against NaN)
    for k in np.flatnonzero(~out).tolist():
        x, y = xs[k], ys[k]
        out[k] = (x == y) if type(x) is list and type(y) is list else _same_scalar(x, y)
    return out


def diff_frames(
    original: pd.DataFrame,
    edited: pd.DataFrame,
    schema: Any,
    otype: ObjectType,
    *,
    lookups: Mapping[str, Mapping[str, str]] | None = None,
    on_null: OnNull = "clear",
    delete_missing: bool = False,
    allow_empty: bool = False,
) -> Changes:
    """Compare ``edited`` with ``original``; see the module docstring.

    When the index of ``edited`` is not its record ids, the only problem returned is
    the one that says so (every cell compared against the wrong record would be noise).
    Neither frame is modified.
    """
    from .schema import check_column, coerce_column, column_to_wire

    if on_null not in ("clear", "skip"):
        raise ValueError(f"on_null must be 'clear' or 'skip', not {on_null!r}")
    kinds = classify_index(edited.index)
    orig_kinds = classify_index(original.index)
    index_problems = check_index(edited, original, otype.id_field, labels=kinds, original_labels=orig_kinds)
    if index_problems:
        return Changes([], index_problems, None)
    problems: list[Problem] = duplicate_column_problems(edited.columns)
    duplicated = {p.column for p in problems}
    lookups = lookups or {}
    fields = schema.fields
    tag_field = next(
        (
            k
            for k, s in fields.items()
            if s.type == "subscription" and s.sub_model == 14 and k in edited.columns and k not in duplicated
        ),
        None,
    )

    # -- columns -------------------------------------------------------------------------
    for col in dict.fromkeys(edited.columns):
        if col not in fields and col != otype.id_field:
            import difflib

            close = difflib.get_close_matches(str(col), list(fields), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            problems.append(Problem(None, str(col), None, f"{otype.label} has no field {col!r}{hint}"))
    # An id column agrees with the index (check_index made sure): it is not a field to write.
    columns = [
        c
        for c in dict.fromkeys(edited.columns)
        if c in fields and str(c) not in duplicated and c != otype.id_field
    ]

    # -- rows ----------------------------------------------------------------------------
    new_mask = kinds.new
    existing_ids = pd.Index(kinds.ids[~new_mask], dtype="int64")
    dup = existing_ids[existing_ids.duplicated()]
    for rid in sorted(set(dup.tolist())):
        problems.append(Problem(rid, None, None, "duplicate id: each record may appear only once"))
    orig_index = pd.Index(orig_kinds.ids, dtype="int64")
    unknown = existing_ids.difference(orig_index)
    for rid in unknown.tolist():
        problems.append(
            Problem(
                rid,
                None,
                None,
                "id not in the loaded frame (ids cannot be changed; give new rows an empty index to create them)",
            )
        )

    # Align: existing rows of the edit, in edit order, with their originals.
    keep = ~existing_ids.duplicated() & existing_ids.isin(orig_index)
    upd_ids = existing_ids[keep]
    edit_pos = np.flatnonzero(~new_mask)[keep]
    orig_by_id = original.copy(deep=False)
    orig_by_id.index = orig_index
    # The usual case (rows neither added, dropped nor reordered) needs no realignment.
    orig_rows = orig_by_id if orig_index.equals(upd_ids) else orig_by_id.loc[upd_ids]

    identity = len(edit_pos) == len(edited) and bool((edit_pos == np.arange(len(edit_pos))).all())
    rows: dict[Any, RowChange] = {}  # tag changes of existing rows
    update_parts: list[tuple[str, np.ndarray, dict[str, list[Any]], np.ndarray]] = []

    def row_change(rid: int) -> RowChange:
        rc = rows.get(rid)
        if rc is None:
            rc = rows[rid] = RowChange("update", rid, rid)
        return rc

    create_pos = np.flatnonzero(new_mask)
    creates: list[RowChange] = []
    seen_new: set[str] = set()
    for pos in create_pos.tolist():
        label = edited.index[pos]
        # NA labels are told apart by their position in the frame ("new-3").
        is_na = bool(np.ndim(label) == 0 and pd.isna(label))
        name = f"new-{pos}" if is_na else label
        if str(name) in seen_new:
            problems.append(Problem(name, None, None, "duplicate label among new rows"))
        seen_new.add(str(name))
        creates.append(RowChange("create", name, None))

    def row_name(pos: int) -> Any:
        """The label a problem names for the row at ``pos`` (the id, or the new row's name)."""
        if new_mask[pos]:
            return creates[int(np.searchsorted(create_pos, pos))].row
        return int(kinds.ids[pos])

    list_problem_columns: set[str] = set()
    same_as_loaded: dict[str, np.ndarray] = {}  # list and number columns: which updated rows equal the load

    def cells_to_check(col: str, column: pd.Series) -> np.ndarray:
        """Positions of the cells that differ from the load, and of the new rows (every cell when
        nothing was loaded to compare with); remembers which updated rows equal the load."""
        if len(upd_ids) and col in orig_rows.columns:
            same_as_loaded[col] = _same(
                _by_position(orig_rows[col]), _by_position(column, None if identity else edit_pos)
            )
            return np.sort(np.concatenate([edit_pos[~same_as_loaded[col]], create_pos]))
        return np.arange(len(column))

    for col in columns:
        spec = fields[col]
        edit_col_all = edited[col]
        if spec.kind in ("list", "subscription"):
            # A list column mostly repeats the loaded lists: only the cells that differ from the
            # load, and the new rows, are checked and converted.
            look = cells_to_check(col, edit_col_all)
            sub = edit_col_all.iloc[look]
            cell_problems = list_cell_problems(sub, col, partial(_row_at, row_name, look))
            if cell_problems:
                problems.extend(cell_problems)
                list_problem_columns.add(col)
                continue
            if col == tag_field:
                continue
            bad = check_column(sub.reset_index(drop=True), spec, lookups=lookups.get(col))
            for k, value, message in bad:
                problems.append(Problem(row_name(int(look[int(k)])), col, value, message))
            if bad:
                continue
            cells = edit_col_all.to_numpy(dtype=object).copy()
            cells[look] = coerce_column(sub, spec, lookups=lookups.get(col)).to_numpy(dtype=object)
            edit_col_all = pd.Series(cells, index=edit_col_all.index, name=col, dtype=object)
        elif spec.kind in ("numeric", "price") and _already_typed(edit_col_all, spec):
            # Typed numbers can still hold values the field cannot take (inf, out of range): the
            # cells that differ from the load, and the new rows, are checked (others are not sent).
            look = cells_to_check(col, edit_col_all)
            bad = check_column(edit_col_all.iloc[look].reset_index(drop=True), spec) if len(look) else []
            for k, value, message in bad:
                problems.append(Problem(row_name(int(look[int(k)])), col, value, message))
            if bad:
                continue
        elif not _already_typed(edit_col_all, spec):
            # Coerce the user's edits to the field's dtype; report every value that does not fit.
            # Checked by position: problems name the record id, or the new row's name.
            bad = check_column(edit_col_all.reset_index(drop=True), spec, lookups=lookups.get(col))
            for pos, value, message in bad:
                problems.append(Problem(row_name(int(pos)), col, value, message))
            if bad:
                continue
            edit_col_all = coerce_column(edit_col_all, spec, lookups=lookups.get(col))
        editable = not (spec.read_only or col in SYSTEM_COLUMNS)
        if editable and spec.type == "subscription" and spec.sub_model in MEMBERSHIP_MODELS:
            continue  # sequences and automations: subscribe calls (ontraport_pandas.memberships)
        # Why a value in this column cannot be sent (None when it can).
        unwritable = (
            "is read-only and cannot be written"
            if not editable
            else "is changed through its own actions, not by writing the field"
            if spec.type == "subscription"
            else None
        )

        # creates
        if len(create_pos):
            vals = edit_col_all.iloc[create_pos]
            if spec.type == "price":
                bad_cents = _price_decimal_problems(vals, spec, [rc.row for rc in creates])
                if bad_cents:
                    problems.extend(bad_cents)
                    continue
            try:  # by position, so that a problem can name the new row
                wire_vals = column_to_wire(
                    vals.reset_index(drop=True), spec, lookups=lookups.get(col)
                ).tolist()
            except SchemaError as exc:
                problems.extend(
                    Problem(creates[int(p.row)].row, col, p.value, p.message)
                    if isinstance(p.row, (int, np.integer)) and 0 <= int(p.row) < len(creates)
                    else p
                    for p in (exc.problems or [Problem(None, col, None, str(exc))])
                )
                continue
            na = _na_mask(vals)
            is_list = spec.dtype not in ("string",) and vals.dtype == object
            for k, rc in enumerate(creates):
                if na[k] or (is_list and isinstance(vals.iloc[k], list) and not vals.iloc[k]):
                    continue
                if unwritable:
                    problems.append(Problem(rc.row, col, _display(vals.iloc[k]), f"{col} {unwritable}"))
                    continue
                if (
                    spec.type == "email"
                    and not _blank(wire_vals[k])  # blank text is a clear, like NA
                    and not EMAIL_RE.match(str(wire_vals[k]).strip())
                ):
                    problems.append(Problem(rc.row, col, wire_vals[k], "not a valid e-mail address"))
                    continue
                w = wire_vals[k]
                if isinstance(w, str) and unencodable_text([w]):
                    problems.append(Problem(rc.row, col, w, surrogate_message(w)))
                    continue
                rc.wire[col] = w
                rc.new[col] = float(w) if spec.type == "price" else _display(vals.iloc[k])

        # updates (after the creates: a `continue` below ends this column's work)
        if len(upd_ids):
            # Rows neither added nor dropped: the column as it is, without a copy.
            new_vals = _by_position(edit_col_all, None if identity else edit_pos, index=upd_ids)
            if col in orig_rows.columns:
                old_vals = orig_rows[col]
                same = same_as_loaded.get(col)
                if same is None:
                    same = _same(_by_position(old_vals), _by_position(new_vals))
            else:
                old_vals = pd.Series([pd.NA] * len(new_vals), index=upd_ids, dtype=object)
                same = _na_mask(new_vals)
            changed = np.flatnonzero(~same)
            if len(changed):
                cand_new = new_vals.iloc[changed]
                cand_old = old_vals.iloc[changed]
                lk = lookups.get(col)
                if spec.type == "price":
                    bad_cents = _price_decimal_problems(cand_new, spec)
                    if bad_cents:
                        problems.extend(bad_cents)
                        continue
                try:
                    wire_new = np.asarray(column_to_wire(cand_new, spec, lookups=lk).tolist(), dtype=object)
                    wire_old = (
                        np.asarray(column_to_wire(cand_old, spec, lookups=lk).tolist(), dtype=object)
                        if col in orig_rows.columns
                        else np.full(len(changed), None, dtype=object)
                    )
                except SchemaError as exc:  # a value no check above caught: still one problem per cell
                    problems.extend(exc.problems or [Problem(None, col, None, str(exc))])
                    continue
                na_new = _na_mask(cand_new)
                clear = _clear_value(spec)
                if spec.dtype == "string":  # empty text and null are the same to Ontraport
                    wn = np.where(pd.isna(wire_new), "", wire_new)
                    wo = np.where(pd.isna(wire_old), "", wire_old)
                    real = wn != wo
                else:
                    real = _differs(wire_new, wire_old)
                real &= ~(na_new & (wire_old == clear))  # already empty on the server
                if on_null == "skip":
                    real &= ~na_new
                keep = np.flatnonzero(real)
                if not len(keep):
                    continue
                rids = cand_new.index.to_numpy()[keep].tolist()
                news = cand_new.iloc[keep].tolist()
                olds = cand_old.iloc[keep].tolist()
                if unwritable:
                    problems.extend(
                        Problem(r, col, _display(v), f"{col} {unwritable}")
                        for r, v in zip(rids, news, strict=True)
                    )
                    continue
                sent = np.where(na_new[keep], clear, wire_new[keep]).tolist()
                before = [clear if w is None else w for w in wire_old[keep].tolist()]
                nas = na_new[keep].tolist()
                if spec.type == "email":
                    bad_email = [
                        k
                        for k, (w, n) in enumerate(zip(sent, nas, strict=True))
                        if not n and not _blank(w) and not EMAIL_RE.match(str(w).strip())
                    ]
                    for k in bad_email:
                        problems.append(Problem(rids[k], col, sent[k], "not a valid e-mail address"))
                    if bad_email:
                        continue
                if spec.required:
                    blank = [k for k, (w, n) in enumerate(zip(sent, nas, strict=True)) if n or _blank(w)]
                    for k in blank:
                        problems.append(
                            Problem(
                                rids[k],
                                col,
                                _display(news[k]),
                                f"{col} is required for a {otype.label} and cannot be cleared",
                            )
                        )
                    if blank:
                        continue
                if otype.id == 0 and col in OPT_IN_FIELDS:
                    opt_in = [k for k, w in enumerate(sent) if str(w).strip() != "0"]
                    for k in opt_in:
                        problems.append(Problem(rids[k], col, _display(news[k]), OPT_IN_FIELDS[col]))
                    if opt_in:
                        continue
                if spec.dtype == "string":
                    bad_text = unencodable_text(sent)
                    for k in bad_text:
                        problems.append(Problem(rids[k], col, sent[k], surrogate_message(sent[k])))
                    if bad_text:
                        continue
                news = _stored(spec, sent, news, nas)
                # kept as columns: per-row dictionaries are built only when the plan's ops are read
                update_parts.append(
                    (
                        col,
                        changed[keep],
                        {"wire": sent, "before": before, "old": olds, "new": news},
                        na_new[keep],
                    )
                )

    # tags: only the rows whose tag list changed are looked at one by one
    if tag_field is not None and tag_field not in list_problem_columns:
        tcol = edited[tag_field]
        new_lists = tcol.iloc[edit_pos].tolist() if len(upd_ids) else []
        old_lists = orig_rows[tag_field].tolist() if tag_field in orig_rows.columns else [[]] * len(new_lists)
        loaded_same = same_as_loaded.get(tag_field)
        if loaded_same is None:
            loaded_same = _same(pd.Series(new_lists, dtype=object), pd.Series(old_lists, dtype=object))
        differs = ~loaded_same
        for k in np.flatnonzero(differs).tolist():
            rid = int(upd_ids[k])
            if on_null == "skip" and _is_na_cell(new_lists[k]):
                continue
            new_tags = _list_value(new_lists[k])
            old_tags = _list_value(old_lists[k])
            bad_names = [t for t in new_tags if not isinstance(t, str) or not t.strip()]
            if bad_names:
                problems.append(Problem(rid, tag_field, new_tags, "tag names must be non-empty strings"))
                continue
            bad_text = unencodable_text(new_tags)
            if bad_text:
                t = new_tags[bad_text[0]]
                problems.append(Problem(rid, tag_field, t, f"tag name {surrogate_message(t)}"))
                continue
            add = tuple(t for t in dict.fromkeys(new_tags) if t not in old_tags)
            remove = tuple(t for t in dict.fromkeys(old_tags) if t not in new_tags)
            if add or remove:
                rc = row_change(rid)
                rc.tags_add, rc.tags_remove = add, remove
        for k, pos in enumerate(create_pos.tolist()):
            new_tags = _list_value(tcol.iloc[pos])
            bad_text = unencodable_text(new_tags)
            if bad_text:
                t = new_tags[bad_text[0]]
                problems.append(Problem(creates[k].row, tag_field, t, f"tag name {surrogate_message(t)}"))
                continue
            creates[k].tags_add = tuple(
                dict.fromkeys(t for t in new_tags if isinstance(t, str) and t.strip())
            )

    # new rows: not empty (unless asked for), and every required field given
    for rc in creates:
        if not rc.wire and not rc.tags_add and not allow_empty:
            problems.append(
                Problem(
                    rc.row,
                    None,
                    None,
                    f"this new row has no value at all and would create an empty {otype.label}; fill it in, "
                    "drop it (edited.dropna(how='all')), or pass allow_empty=True",
                )
            )
            continue
        for key, spec in fields.items():
            if spec.required and not spec.read_only and (key not in rc.wire or _blank(rc.wire[key])):
                problems.append(Problem(rc.row, key, None, f"{key} is required to create a {otype.label}"))

    # deletes
    deletes: list[RowChange] = []
    if delete_missing:
        gone = orig_index.difference(existing_ids)
        for rid in gone.tolist():
            deletes.append(RowChange("delete", rid, rid))

    result = [rc for rc in rows.values() if rc.tags_add or rc.tags_remove]
    unchanged_lists = frozenset(
        col
        for col, same in same_as_loaded.items()
        if fields[col].kind in ("list", "subscription")
        and col not in list_problem_columns
        and bool(same.all())
    )
    return Changes(
        result + creates + deletes,
        problems,
        tag_field,
        updates=UpdateCells.build(np.asarray(upd_ids, dtype="int64"), update_parts),
        unchanged_lists=unchanged_lists,
    )


def _differs(new: np.ndarray, old: np.ndarray) -> np.ndarray:
    """``new[k] != old[k]`` for two object arrays of wire values, in one pass when it can be."""
    out = np.zeros(len(new), dtype=bool)
    try:
        np.not_equal(new, old, out=out)
    except (TypeError, ValueError):  # a value with no plain truth (pd.NA, an array): one by one
        out = np.array([a != b for a, b in zip(new, old, strict=True)], dtype=bool)
    return out


def _row_at(row_name: Callable[[int], Any], positions: np.ndarray, k: int) -> Any:
    """The row label of the ``k``-th of ``positions``."""
    return row_name(int(positions[k]))


def _blank(wire: Any) -> bool:
    """A wire value that stores nothing: None, or text that is empty or only spaces."""
    return wire is None or (isinstance(wire, str) and not wire.strip())


def _is_na_cell(v: Any) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and v != v)


def _price_decimal_problems(values: pd.Series, spec: Any, rows: list[Any] | None = None) -> list[Problem]:
    """Prices with more than two decimals: Ontraport stores cents, so they would be rounded silently."""
    num = values.to_numpy(dtype="float64", na_value=np.nan)
    scaled = num * 100.0
    with np.errstate(invalid="ignore"):
        off = np.abs(scaled - np.rint(scaled)) > 1e-6 * np.maximum(1.0, np.abs(scaled))
    off &= np.isfinite(num)
    from .schema import value_to_wire

    col = spec.key
    out = []
    for k in np.flatnonzero(off).tolist():
        v = float(num[k])
        row = rows[k] if rows is not None else values.index[k]
        out.append(
            Problem(
                row,
                col,
                v,
                f"{col} is a price: Ontraport stores whole cents, so {v!r} would be stored as "
                f"{value_to_wire(v, spec)}; round it first (e.g. .round(2))",
            )
        )
    return out


def _stored(spec: Any, sent: list[Any], news: list[Any], nas: list[bool]) -> list[Any]:
    """Display values as Ontraport will store them: cents for prices, 0 / False for cleared numbers and checks."""
    if spec.type == "price":  # the cents sent ("12.34"); a clear sends "0"
        try:
            return np.asarray(sent, dtype=np.float64).tolist()
        except (TypeError, ValueError):
            return [float(w) if w not in (None, "") else 0.0 for w in sent]
    if spec.type == "numeric" and any(nas):
        return [0 if isna else n for n, isna in zip(news, nas, strict=True)]
    if spec.type == "check" and any(nas):
        return [False if isna else n for n, isna in zip(news, nas, strict=True)]
    return news


def _already_typed(values: pd.Series, spec: Any) -> bool:
    """True when a column already has the field's dtype and holds only valid values (no coercion needed)."""
    want = spec.dtype
    if isinstance(values.dtype, pd.CategoricalDtype):
        return spec.type == "drop" and set(values.cat.categories) <= set(dict(spec.options).values())
    if values.dtype == object:
        return False
    return str(values.dtype) == str(want)


#: Contact fields an update can only set to 0: Ontraport does not let the API opt a contact (back) in
#: (ontraport-api.md §9); a create may set any state.
OPT_IN_FIELDS = {
    "bulk_mail": "an update can only set bulk_mail to Transactional Only (0): Ontraport does not let the "
    "API opt a contact in (the contact opts in through a form or the double opt-in e-mail); "
    "leave this cell as loaded",
    "bulk_sms": "an update can only set bulk_sms to opted out (0): Ontraport does not let the API opt a "
    "contact in to SMS (the contact opts in by a keyword or a form); leave this cell as loaded",
}


def _clear_value(spec: Any) -> Any:
    """What clears a field: ``""`` for text and lists; ``"0"`` for dates, dropdowns, links, checkboxes
    and numbers (Ontraport has no empty number: an unset numeric or price field reads ``"0"``)."""
    if spec.type in ("timestamp", "fulldate", "drop", "parent", "check", "numeric", "price"):
        return "0"
    return ""


def _display(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return list(value)
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    return value
