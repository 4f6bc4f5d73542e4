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

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
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


@dataclass
class RowChange:
    """What changes in one row."""

    kind: Literal["create", "update", "delete"]
    row: Any
    record_id: int | None
    wire: dict[str, Any] = field(default_factory=dict)
    before_wire: dict[str, Any] = field(default_factory=dict)
    old: dict[str, Any] = field(default_factory=dict)
    new: dict[str, Any] = field(default_factory=dict)
    clears: tuple[str, ...] = ()
    tags_add: tuple[str, ...] = ()
    tags_remove: tuple[str, ...] = ()


@dataclass
class Changes:
    """The result of :func:`diff_frames`."""

    rows: list[RowChange]
    problems: list[Problem]
    tag_field: str | None = None

    @property
    def empty(self) -> bool:
        return not any(r.wire or r.tags_add or r.tags_remove or r.kind != "update" for r in self.rows)


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


def _record_id(label: Any) -> int:
    return int(label)


def _na_mask(s: pd.Series) -> np.ndarray:
    return np.asarray(s.isna(), dtype=bool)


def _list_value(v: Any) -> list[Any]:
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return []
    if isinstance(v, str):
        return [v] if v else []
    return list(v)


def _same(a: pd.Series, b: pd.Series) -> np.ndarray:
    """Element-wise equality that treats NA == NA as equal (a, b aligned, same length)."""
    if a.dtype == object or b.dtype == object:
        out = np.empty(len(a), dtype=bool)
        for i, (x, y) in enumerate(zip(a.tolist(), b.tolist(), strict=True)):
            if isinstance(x, (list, tuple)) or isinstance(y, (list, tuple)):
                out[i] = _list_value(x) == _list_value(y)
            else:
                xn, yn = pd.isna(x) if np.ndim(x) == 0 else False, pd.isna(y) if np.ndim(y) == 0 else False
                out[i] = (xn and yn) or (not xn and not yn and x == y)
        return out
    if isinstance(a.dtype, pd.CategoricalDtype) or isinstance(b.dtype, pd.CategoricalDtype):
        a = a.astype(object).where(a.notna(), None)
        b = b.astype(object).where(b.notna(), None)
        return _same(a, b)
    na_a, na_b = _na_mask(a), _na_mask(b)
    try:
        eq = np.asarray(a.eq(b).fillna(False), dtype=bool)
    except (TypeError, ValueError):
        eq = np.array(
            [
                bool(na_x or na_y or x == y)
                for x, y, na_x, na_y in zip(a.tolist(), b.tolist(), na_a, na_b, strict=True)
            ],
            dtype=bool,
        )
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
    new_mask = np.array([is_new_label(x) for x in labels], dtype=bool)
    existing_labels = [x for x, n in zip(labels, new_mask, strict=True) if not n]
    existing_ids = pd.Index([_record_id(x) for x in existing_labels], dtype="int64")
    dup = existing_ids[existing_ids.duplicated()]
    for rid in sorted(set(dup.tolist())):
        problems.append(Problem(rid, None, None, "duplicate id: each record may appear only once"))
    orig_index = pd.Index([int(x) for x in original.index], dtype="int64")
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
    orig_rows = orig_by_id.loc[upd_ids]

    rows: dict[Any, RowChange] = {}
    for rid in upd_ids.tolist():
        rows[rid] = RowChange("update", rid, rid)

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
        # Coerce the user's edits to the field's dtype; report every value that does not fit.
        bad = check_column(edit_col_all, spec, lookups=lookups.get(col))
        bad_rows = set()
        for row, value, message in bad:
            problems.append(Problem(row, col, value, message))
            bad_rows.add(row)
        if bad:
            continue
        edit_col_all = coerce_column(edit_col_all, spec, lookups=lookups.get(col))
        editable = not (spec.read_only or col in SYSTEM_COLUMNS)

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
                wire_new = column_to_wire(cand_new, spec, lookups=lookups.get(col)).tolist()
                wire_old = (
                    column_to_wire(cand_old, spec, lookups=lookups.get(col)).tolist()
                    if col in orig_rows.columns
                    else [None] * len(changed)
                )
                na_new = _na_mask(cand_new)
                texty = spec.dtype == "string"
                for k, rid in enumerate(cand_new.index.tolist()):
                    if wire_new[k] == wire_old[k] or (texty and (wire_new[k] or "") == (wire_old[k] or "")):
                        continue
                    if na_new[k] and on_null == "skip":
                        continue
                    if na_new[k] and wire_old[k] == _clear_value(spec):
                        continue  # already empty on the server (a number that reads 0, an unset date)
                    if not editable:
                        problems.append(
                            Problem(
                                rid,
                                col,
                                _display(cand_new.iloc[k]),
                                f"{col} is read-only and cannot be written",
                            )
                        )
                        continue
                    if spec.type == "subscription":
                        problems.append(
                            Problem(
                                rid,
                                col,
                                _display(cand_new.iloc[k]),
                                f"{col} is changed through its own actions",
                            )
                        )
                        continue
                    if (
                        spec.type == "email"
                        and not na_new[k]
                        and not EMAIL_RE.match(str(wire_new[k]).strip())
                    ):
                        problems.append(Problem(rid, col, wire_new[k], "not a valid e-mail address"))
                        continue
                    rc = rows[rid]
                    rc.wire[col] = _clear_value(spec) if na_new[k] else wire_new[k]
                    rc.before_wire[col] = wire_old[k] if wire_old[k] is not None else _clear_value(spec)
                    rc.old[col] = _display(cand_old.iloc[k])
                    rc.new[col] = _display(cand_new.iloc[k])
                    if na_new[k]:
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
                if not editable or spec.type == "subscription":
                    if col not in SYSTEM_COLUMNS and not spec.read_only:
                        problems.append(
                            Problem(rc.row, col, _display(vals.iloc[k]), f"{col} cannot be set here")
                        )
                    elif not (col in SYSTEM_COLUMNS and col in ("id",)):
                        problems.append(
                            Problem(
                                rc.row,
                                col,
                                _display(vals.iloc[k]),
                                f"{col} is read-only and cannot be written",
                            )
                        )
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

    # tags
    if tag_field is not None:
        tcol = edited[tag_field]
        for pos, rid in zip(edit_pos.tolist(), upd_ids.tolist(), strict=True):
            new_tags = _list_value(tcol.iloc[pos])
            old_tags = _list_value(orig_rows.at[rid, tag_field]) if tag_field in orig_rows.columns else []
            bad_names = [t for t in new_tags if not isinstance(t, str) or not t.strip()]
            if bad_names:
                problems.append(Problem(rid, tag_field, new_tags, "tag names must be non-empty strings"))
                continue
            add = tuple(t for t in dict.fromkeys(new_tags) if t not in old_tags)
            remove = tuple(t for t in dict.fromkeys(old_tags) if t not in new_tags)
            if add or remove:
                rows[rid].tags_add, rows[rid].tags_remove = add, remove
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
