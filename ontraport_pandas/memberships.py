"""Sequence and automation membership edits, planned as subscribe / unsubscribe calls.

A contact's ``updateSequence`` (sequences, object type 5) and ``updateCampaign``
(automations, the Campaign Builder items of type 140) columns hold lists of names, like
the tag column. Ontraport does not take a new list in ``PUT Contacts`` for them: a
membership changes through ``PUT objects/subscribe`` (``add_list``) and
``DELETE objects/subscribe`` (``remove_list``), with ``sub_type`` ``sequence`` or
``campaign`` (the API's default) and the ``ids`` of the records. :func:`membership_changes`
compares the edited lists with the loaded ones, without any I/O, and groups the
changes like tags: every row joining the same sequence is one operation, every row
leaving it another.

Choices:

- ``sub_type`` is sent in lower case (``sequence`` / ``campaign``), as the API reference
  spells it; the sandbox accepts either case.
- A name must be one the account knows (the field's lookups); an all-digit value is
  taken as an id, and must be the id of an existing sequence or automation: the API
  would silently ignore an unknown one, so it is refused in the plan.
- On new rows, the listed memberships are subscribed once the record is created.
- With ``on_null="skip"``, an NA cell leaves the row's memberships as they are; with
  ``"clear"`` it removes every membership the row had.
- The order of a membership list carries no meaning: only joins and leaves are planned.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .errors import Problem, SchemaError
from .schema import column_to_wire, parse_list_wire
from .validation import classify_index

__all__ = ["MEMBERSHIP_MODELS", "MembershipChange", "membership_changes", "membership_columns"]

#: The object type a membership field refers to -> the API's ``sub_type``.
MEMBERSHIP_MODELS: Mapping[int, str] = {5: "sequence", 140: "campaign"}
#: What a ``sub_type`` is called in messages.
WHAT = {"sequence": "sequence", "campaign": "automation"}


@dataclass
class MembershipChange:
    """Rows joining (``adding``) or leaving one sequence or automation."""

    column: str
    sub_type: str
    item_id: int
    item: str
    adding: bool
    rows: list[Any] = field(default_factory=list)


def membership_columns(schema: Any, columns: Sequence[Any]) -> dict[str, str]:
    """The membership columns among ``columns``: column -> ``sub_type``."""
    out: dict[str, str] = {}
    for col in dict.fromkeys(columns):
        spec = schema.fields.get(col) if isinstance(col, str) else None
        if spec is None or getattr(spec, "type", None) != "subscription":
            continue
        sub_type = MEMBERSHIP_MODELS.get(getattr(spec, "sub_model", None) or -1)
        if sub_type is not None and not spec.read_only:
            out[col] = sub_type
    return out


def _is_na(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, (list, tuple, np.ndarray, str)):
        return False
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def membership_changes(
    original: pd.DataFrame,
    edited: pd.DataFrame,
    schema: Any,
    *,
    lookups: Mapping[str, Mapping[str, str]] | None = None,
    create_rows: Sequence[Any] = (),
    on_null: str = "clear",
    skip: Collection[Any] = (),
    unchanged: Collection[str] = (),
) -> tuple[list[MembershipChange], list[Problem]]:
    """Subscriptions and unsubscriptions between ``original`` and ``edited``, grouped by item.

    ``edited`` has passed :func:`~ontraport_pandas.diff.diff_frames` without problems (its
    index, lists and names are checked there). ``create_rows`` names the new rows of
    ``edited`` in frame order, as the diff named them. Returns the changes, ordered by
    column, item id and joins before leaves, and the problems found (ids that name no
    sequence or automation). Columns in ``skip`` (ones the diff already found problems in)
    are left out. ``unchanged`` names columns the caller already found to hold, on every
    existing row, the list that row was loaded with (the diff compares them anyway): with
    no new rows, they need no second look.
    """
    lookups = lookups or {}
    duplicated = set(edited.columns[edited.columns.duplicated()].tolist())
    columns = {
        c: t
        for c, t in membership_columns(schema, list(edited.columns)).items()
        if c not in duplicated and c not in skip
    }
    if not columns:
        return [], []
    if not create_rows and all(c in unchanged for c in columns):
        return [], []
    if len(edited) == len(original) and edited.index.equals(original.index):
        # the usual plan edits no membership: same rows, each list as loaded (often the same object)
        def as_loaded(col: str) -> bool:
            if col not in original.columns:
                return False
            old = original[col].to_numpy(dtype=object)
            new = edited[col].to_numpy(dtype=object)
            return all(a is b or _same_items(a, b) for a, b in zip(new, old, strict=True))

        if all(as_loaded(c) for c in columns):
            return [], []
    kinds = classify_index(edited.index)
    if kinds.bad.any():
        return [], []  # the index is not the record ids: refused by the diff
    new_mask = np.asarray(kinds.new, dtype=bool)
    orig_kinds = classify_index(original.index)
    orig_pos = {rid: k for k, rid in enumerate(orig_kinds.ids.tolist()) if rid > 0}
    create_pos = np.flatnonzero(new_mask).tolist()
    new_list = new_mask.tolist()
    id_list = kinds.ids.tolist()
    names = dict(zip(create_pos, create_rows, strict=False))
    groups: dict[tuple[str, int, bool], list[Any]] = {}
    problems: list[Problem] = []
    for col, sub_type in columns.items():
        spec = schema.fields[col]
        known = {str(k): str(v) for k, v in (lookups.get(col) or {}).items()}
        new_cells = edited[col].tolist()
        old_cells = original[col].tolist() if col in original.columns else None
        rows: list[Any] = []
        pairs: list[tuple[Any, Any]] = []
        if old_cells is None and any(
            not is_new and not _same_items(cell, []) for is_new, cell in zip(new_list, new_cells, strict=True)
        ):
            problems.append(
                Problem(
                    None,
                    col,
                    None,
                    f"{col} was not loaded, so the memberships it would change are unknown: load it "
                    f"with the frame (fields=[..., {col!r}]) and edit that column",
                )
            )
            continue
        for pos, cell, is_new, rid in zip(range(len(new_cells)), new_cells, new_list, id_list, strict=True):
            if is_new:
                if pos not in names:
                    continue
                row, old = names[pos], []
            else:
                k = orig_pos.get(rid)
                if k is None or old_cells is None:
                    continue  # not a loaded record (refused by the diff) or not loaded with this column
                old = old_cells[k]
                if _same_items(cell, old):
                    continue  # the usual case: the row's list is as loaded
                row = rid
            if on_null == "skip" and _is_na(cell):
                continue
            rows.append(row)
            pairs.append((cell, old))
        if not rows:
            continue
        try:
            wire_new = column_to_wire(pd.Series([p[0] for p in pairs], dtype=object), spec, lookups=known)
            wire_old = column_to_wire(pd.Series([p[1] for p in pairs], dtype=object), spec, lookups=known)
        except SchemaError as exc:
            problems.extend(
                Problem(rows[int(p.row)], col, p.value, p.message)
                if isinstance(p.row, (int, np.integer)) and 0 <= int(p.row) < len(rows)
                else p
                for p in (exc.problems or [Problem(None, col, None, str(exc))])
            )
            continue
        for row, w_new, w_old in zip(rows, wire_new.tolist(), wire_old.tolist(), strict=True):
            now = list(dict.fromkeys(parse_list_wire(w_new)))
            before = set(parse_list_wire(w_old))
            for item in now:
                if item not in before:
                    if item not in known:
                        problems.append(
                            Problem(row, col, item, f"there is no {WHAT[sub_type]} with the id {item}")
                        )
                        continue
                    groups.setdefault((col, int(item), True), []).append(row)
            for item in sorted(before.difference(now), key=int):
                groups.setdefault((col, int(item), False), []).append(row)
    changes = [
        MembershipChange(col, columns[col], item, known_name(lookups, col, item), adding, rows)
        for (col, item, adding), rows in sorted(groups.items(), key=lambda g: (g[0][0], g[0][1], not g[0][2]))
    ]
    return changes, problems


def _same_items(a: Any, b: Any) -> bool:
    """Whether two cells hold the same list of names (NA and an empty list are the same)."""
    if type(a) is list and type(b) is list:  # the usual case, kept cheap for big frames
        return a == b
    a = [] if _is_na(a) else a
    b = [] if _is_na(b) else b
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return list(a) == list(b)
    return False


def known_name(lookups: Mapping[str, Mapping[str, str]], column: str, item: int) -> str:
    """The name of sequence / automation ``item`` (its id as text when the account has no name)."""
    name = (lookups.get(column) or {}).get(str(item))
    return str(name) if name not in (None, "") else str(item)
