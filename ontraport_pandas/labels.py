"""Columns named by their Ontraport labels (``labels=True``), and the way back to field keys.

``op.contacts(labels=True)`` names ``f1001`` "Membership Level" and ``firstname``
"First Name". The planner writes by field key, so the frame carries its mapping in
``attrs["ontraport"]["labels"]`` (label -> key) and :func:`to_keys` renames the columns
back before a plan is built.

Labels are made unambiguous over the **whole** object type, not only over the columns
loaded, so that the same field always gets the same name (``fields=`` or not) and a
frame whose ``attrs`` were lost (``pd.concat`` with a new-row frame, a ``join`` of two
loads) can still be mapped back from the schema alone:

* a label shared by several fields (case-insensitively: "IP Address" for ``ip_addy``
  and ``ip_addy_display``) gets its key as a suffix on every one of them:
  "IP Address [ip_addy]", "IP Address [ip_addy_display]";
* a label that is another field's key (a field labelled "email" that is not
  ``email``) gets the suffix too, so a column name never means two fields;
* an empty label keeps the key.

Related-record columns (``externs=``) are named by their path of labels
("Owner → First Name"); they map back through ``attrs`` only (they are read-only and
never written, but a frame that lost its ``attrs`` cannot tell which path they were).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from .errors import Problem, ValidationError

__all__ = ["apply_labels", "label_map", "labels_of", "relabel_problems", "to_keys"]


def label_map(schema: Any, keys: Iterable[str] | None = None) -> dict[str, str]:
    """``{key: column name}`` for ``keys`` (default: every field of ``schema``), unambiguous over the type."""
    fields: Mapping[str, Any] = schema.fields
    folded = Counter(
        str(spec.label).strip().casefold() for spec in fields.values() if str(spec.label).strip()
    )
    key_folds = {str(k).casefold(): k for k in fields}
    out: dict[str, str] = {}
    for key in fields if keys is None else keys:
        spec = fields.get(key)
        if spec is None:
            continue
        label = str(spec.label).strip()
        if not label:
            out[key] = key
            continue
        fold = label.casefold()
        other_key = key_folds.get(fold)
        if folded[fold] > 1 or (other_key is not None and other_key != key):
            label = f"{label} [{key}]"
        out[key] = label
    return out


def labels_of(frame: pd.DataFrame) -> dict[str, str]:
    """The ``{label: key}`` mapping a ``labels=True`` frame carries (empty for other frames)."""
    info = frame.attrs.get("ontraport") or {}
    found = info.get("labels") if isinstance(info, dict) else None
    return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}


def apply_labels(frame: pd.DataFrame, schema: Any) -> pd.DataFrame:
    """``frame`` with its field-key columns renamed to labels and the mapping in ``attrs``.

    ``schema`` holds the type's fields and any related-record columns of the frame.
    Columns that are not fields (none, for a loaded frame) keep their names.
    """
    names = label_map(schema, [str(c) for c in frame.columns])
    base = label_map(schema)
    # A related-record column's label path may collide with a field label: keep the path then.
    taken = Counter(names.values())
    for key, name in list(names.items()):
        if taken[name] > 1 and base.get(key) != name:
            names[key] = key
    renamed = frame.rename(columns=names)
    renamed.attrs = frame.attrs
    info = dict(frame.attrs.get("ontraport") or {})
    info["labels"] = {name: key for key, name in names.items() if name != key}
    renamed.attrs["ontraport"] = info
    return renamed


def to_keys(frame: pd.DataFrame, schema: Any, mapping: Mapping[str, str] | None = None) -> pd.DataFrame:
    """``frame`` with label columns renamed back to field keys (the frame itself when none is a label).

    ``mapping`` is the frame's own ``{label: key}`` (from ``attrs``); without it the
    labels are worked out from ``schema`` (a frame whose ``attrs`` were lost).

    Raises
    ------
    ValidationError
        When two columns name the same field (its label and its key, or a label twice),
        naming both columns; nothing is sent.
    """
    known = dict(mapping or {})
    for key, name in label_map(schema).items():
        known.setdefault(name, key)
    fields = schema.fields
    rename: dict[Any, str] = {}
    for col in frame.columns:
        if isinstance(col, str) and col in known and col not in fields:
            rename[col] = known[col]
    if not rename:
        return frame
    seen: dict[str, Any] = {}
    problems: list[Problem] = []
    for col in frame.columns:
        key = rename.get(col, col)
        if key in seen and seen[key] != col:
            problems.append(
                Problem(
                    None, str(col), None, f"is the same field ({key!r}) as column {seen[key]!r}; keep one"
                )
            )
        seen.setdefault(key, col)
    if problems:
        raise ValidationError(problems)
    out = frame.rename(columns=rename)
    out.attrs = frame.attrs
    return out


def relabel_problems(exc: ValidationError, key_to_label: Mapping[str, str]) -> ValidationError:
    """The same error with each problem's column named as the user's frame names it."""
    if not key_to_label:
        return exc
    problems = [
        dataclasses.replace(p, column=key_to_label.get(p.column, p.column)) if p.column is not None else p
        for p in exc.problems
    ]
    return ValidationError(problems)
