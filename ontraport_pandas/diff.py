"""Pure comparison of an edited frame with the frame as it was loaded.

:func:`diff_frames` finds, without any I/O:

* rows to create: an empty (NA) index label, or a label that is not a positive
  integer (``"new-1"``, ``-1``): they have no Ontraport id yet;
* cells that changed in existing rows, compared through the field types (so a
  ``Float64`` price that rounds to the same cents, or a category relabelled to the
  same option, is not a change); a cell changed to NA is a *clear*;
* tags added and removed per row (the tag list column);
* rows that disappeared, which become deletes only when asked.

It also validates everything at once and returns every problem with its row,
column and value: unknown columns, read-only fields edited, duplicate ids, ids
that were not loaded, values that do not fit the field type, dropdown labels that
are not options, invalid e-mail addresses, required fields missing on create.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from .errors import Problem
from .objects import ObjectType

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
    """The result of :func:`diff_frames`."""

    rows: list[RowChange]
    problems: list[Problem]
    tag_field: str | None = None


def is_new_label(label: Any) -> bool:
    """True for an index label that marks a row to create (NA, or not a positive integer)."""
    if label is None or label is pd.NA or label is pd.NaT:
        return True
    if isinstance(label, float) and np.isnan(label):
        return True
    if isinstance(label, (bool, np.bool_)):
        return True
    if isinstance(label, (int, np.integer)):
        return int(label) <= 0
    if isinstance(label, str):
        return not label.isdigit() or int(label) <= 0
    return True


def _new_mask(index: pd.Index) -> np.ndarray:
    """Which index labels mark rows to create (vectorised for integer indexes)."""
    if pd.api.types.is_integer_dtype(index.dtype):
        values = index.to_numpy(dtype="float64", na_value=np.nan)
        return np.isnan(values) | (values <= 0)
    return np.array([is_new_label(x) for x in index], dtype=bool)


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
    if (
        a.dtype == object
        or b.dtype == object
        or isinstance(a.dtype, pd.CategoricalDtype)
        or isinstance(b.dtype, pd.CategoricalDtype)
    ):
        la, lb = a.tolist(), b.tolist()
        try:  # lists (tags, list fields) compare in C; NA cells send us to the careful path
            return np.fromiter(map(operator.eq, la, lb), dtype=bool, count=len(la))
        except (TypeError, ValueError):
            pass
        out = np.fromiter(
            (
                (x == y) if type(x) is list and type(y) is list else _same_scalar(x, y)
                for x, y in zip(la, lb, strict=True)
            ),
            dtype=bool,
            count=len(la),
        )
        return out
    if isinstance(a.dtype, pd.StringDtype) and isinstance(b.dtype, pd.StringDtype):
        # Text: compare plain object arrays with NA swapped for a marker no string equals.
        xa, xb = a.to_numpy(dtype=object), b.to_numpy(dtype=object)
        na_a, na_b = pd.isna(xa), pd.isna(xb)
        marker = np.empty(1, dtype=object)
        marker[0] = object()
        xa = np.where(na_a, marker, xa)
        xb = np.where(na_b, marker, xb)
        return np.asarray(xa == xb, dtype=bool) | (na_a & na_b)
    na_a, na_b = _na_mask(a), _na_mask(b)
    try:
        eq = np.asarray(a.eq(b).fillna(False), dtype=bool)
    except (TypeError, ValueError):
        eq = np.array([_same_scalar(x, y) for x, y in zip(a.tolist(), b.tolist(), strict=True)], dtype=bool)
    return (eq & ~na_a & ~na_b) | (na_a & na_b)


def diff_frames(
    original: pd.DataFrame,
    edited: pd.DataFrame,
    schema: Any,
    otype: ObjectType,
    *,
    lookups: Mapping[str, Mapping[str, str]] | None = None,
    on_null: OnNull = "clear",
    delete_missing: bool = False,
) -> Changes:
    """Compare ``edited`` with ``original``; see the module docstring.

    Neither frame is modified.
    """
    from .schema import check_column, coerce_column, column_to_wire

    if on_null not in ("clear", "skip"):
        raise ValueError(f"on_null must be 'clear' or 'skip', not {on_null!r}")
    problems: list[Problem] = []
    lookups = lookups or {}
    fields = schema.fields
    tag_field = next(
        (
            k
            for k, s in fields.items()
            if s.type == "subscription" and s.sub_model == 14 and k in edited.columns
        ),
        None,
    )

    # -- columns -------------------------------------------------------------------------
    for col in edited.columns:
        if col not in fields and col != otype.id_field:
            import difflib

            close = difflib.get_close_matches(str(col), list(fields), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            problems.append(Problem(None, str(col), None, f"{otype.label} has no field {col!r}{hint}"))
    columns = [c for c in edited.columns if c in fields]

    # -- rows ----------------------------------------------------------------------------
    labels = list(edited.index)
    new_mask = _new_mask(edited.index)
    existing_ids = pd.Index(
        np.asarray(edited.index[~new_mask].astype("int64")) if (~new_mask).any() else [], dtype="int64"
    )
    dup = existing_ids[existing_ids.duplicated()]
    for rid in sorted(set(dup.tolist())):
        problems.append(Problem(rid, None, None, "duplicate id: each record may appear only once"))
    orig_index = pd.Index(np.asarray(original.index.astype("int64")), dtype="int64")
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

    rows: dict[Any, RowChange] = {}

    def row_change(rid: int) -> RowChange:
        rc = rows.get(rid)
        if rc is None:
            rc = rows[rid] = RowChange("update", rid, rid)
        return rc

    create_pos = np.flatnonzero(new_mask)
    creates: list[RowChange] = []
    seen_new: set[str] = set()
    for pos in create_pos.tolist():
        label = labels[pos]
        # NA labels are told apart by their position in the frame ("new-3").
        is_na = bool(np.ndim(label) == 0 and pd.isna(label))
        name = f"new-{pos}" if is_na else label
        if str(name) in seen_new:
            problems.append(Problem(name, None, None, "duplicate label among new rows"))
        seen_new.add(str(name))
        creates.append(RowChange("create", name, None))

    for col in columns:
        spec = fields[col]
        if col == tag_field:
            continue
        edit_col_all = edited[col]
        if not _already_typed(edit_col_all, spec):
            # Coerce the user's edits to the field's dtype; report every value that does not fit.
            bad = check_column(edit_col_all, spec, lookups=lookups.get(col))
            for row, value, message in bad:
                problems.append(Problem(row, col, value, message))
            if bad:
                continue
            edit_col_all = coerce_column(edit_col_all, spec, lookups=lookups.get(col))
        editable = not (spec.read_only or col in SYSTEM_COLUMNS)
        # Why a value in this column cannot be sent (None when it can).
        unwritable = (
            "is read-only and cannot be written"
            if not editable
            else "is changed through its own actions: op.plan_memberships(edited) for sequences and automations"
            if spec.type == "subscription"
            else None
        )

        # updates
        if len(upd_ids):
            new_vals = edit_col_all.iloc[edit_pos]
            new_vals.index = upd_ids
            if col in orig_rows.columns:
                old_vals = orig_rows[col]
                same = _same(old_vals.reset_index(drop=True), new_vals.reset_index(drop=True))
            else:
                old_vals = pd.Series([pd.NA] * len(new_vals), index=upd_ids, dtype=object)
                same = _na_mask(new_vals)
            changed = np.flatnonzero(~same)
            if len(changed):
                cand_new = new_vals.iloc[changed]
                cand_old = old_vals.iloc[changed]
                lk = lookups.get(col)
                wire_new = np.asarray(column_to_wire(cand_new, spec, lookups=lk).tolist(), dtype=object)
                wire_old = (
                    np.asarray(column_to_wire(cand_old, spec, lookups=lk).tolist(), dtype=object)
                    if col in orig_rows.columns
                    else np.full(len(changed), None, dtype=object)
                )
                na_new = _na_mask(cand_new)
                clear = _clear_value(spec)
                if spec.dtype == "string":  # empty text and null are the same to Ontraport
                    wn = np.where(pd.isna(wire_new), "", wire_new)
                    wo = np.where(pd.isna(wire_old), "", wire_old)
                    real = wn != wo
                else:
                    real = np.array([a != b for a, b in zip(wire_new, wire_old, strict=True)], dtype=bool)
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
                        if not n and not EMAIL_RE.match(str(w).strip())
                    ]
                    for k in bad_email:
                        problems.append(Problem(rids[k], col, sent[k], "not a valid e-mail address"))
                    if bad_email:
                        continue
                for rid, w, b, o, n, isna in zip(rids, sent, before, olds, news, nas, strict=True):
                    rc = rows.get(rid)
                    if rc is None:
                        rc = rows[rid] = RowChange("update", rid, rid)
                    rc.wire[col] = w
                    rc.before_wire[col] = b
                    rc.old[col] = o
                    rc.new[col] = n
                    if isna:
                        rc.clears = (*rc.clears, col)

        # creates
        if len(create_pos):
            vals = edit_col_all.iloc[create_pos]
            wire_vals = column_to_wire(vals, spec, lookups=lookups.get(col)).tolist()
            na = _na_mask(vals)
            is_list = spec.dtype not in ("string",) and vals.dtype == object
            for k, rc in enumerate(creates):
                if na[k] or (is_list and isinstance(vals.iloc[k], list) and not vals.iloc[k]):
                    continue
                if unwritable:
                    problems.append(Problem(rc.row, col, _display(vals.iloc[k]), f"{col} {unwritable}"))
                    continue
                if spec.type == "email" and not EMAIL_RE.match(str(wire_vals[k]).strip()):
                    problems.append(Problem(rc.row, col, wire_vals[k], "not a valid e-mail address"))
                    continue
                rc.wire[col] = wire_vals[k]
                rc.new[col] = _display(vals.iloc[k])

    # required fields on create
    for rc in creates:
        for key, spec in fields.items():
            if spec.required and not spec.read_only and key not in rc.wire:
                problems.append(Problem(rc.row, key, None, f"{key} is required to create a {otype.label}"))

    # tags: only the rows whose tag list changed are looked at one by one
    if tag_field is not None:
        tcol = edited[tag_field]
        new_lists = tcol.iloc[edit_pos].tolist() if len(upd_ids) else []
        old_lists = orig_rows[tag_field].tolist() if tag_field in orig_rows.columns else [[]] * len(new_lists)
        differs = ~_same(pd.Series(new_lists, dtype=object), pd.Series(old_lists, dtype=object))
        for k in np.flatnonzero(differs).tolist():
            rid = int(upd_ids[k])
            new_tags = _list_value(new_lists[k])
            old_tags = _list_value(old_lists[k])
            bad_names = [t for t in new_tags if not isinstance(t, str) or not t.strip()]
            if bad_names:
                problems.append(Problem(rid, tag_field, new_tags, "tag names must be non-empty strings"))
                continue
            add = tuple(t for t in dict.fromkeys(new_tags) if t not in old_tags)
            remove = tuple(t for t in dict.fromkeys(old_tags) if t not in new_tags)
            if add or remove:
                rc = row_change(rid)
                rc.tags_add, rc.tags_remove = add, remove
        for k, pos in enumerate(create_pos.tolist()):
            new_tags = _list_value(tcol.iloc[pos])
            creates[k].tags_add = tuple(
                dict.fromkeys(t for t in new_tags if isinstance(t, str) and t.strip())
            )

    # deletes
    deletes: list[RowChange] = []
    if delete_missing:
        gone = orig_index.difference(existing_ids)
        for rid in gone.tolist():
            deletes.append(RowChange("delete", rid, rid))

    result = [rc for rc in rows.values() if rc.wire or rc.tags_add or rc.tags_remove]
    return Changes(result + creates + deletes, problems, tag_field)


def _already_typed(values: pd.Series, spec: Any) -> bool:
    """True when a column already has the field's dtype and holds only valid values (no coercion needed)."""
    want = spec.dtype
    if isinstance(values.dtype, pd.CategoricalDtype):
        return spec.type == "drop" and set(values.cat.categories) <= set(dict(spec.options).values())
    if values.dtype == object:
        return False
    return str(values.dtype) == str(want)


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
