"""A frame joined to its related records: ``op.related(contacts, "deals")``.

One row per related record, the frame's columns repeated on each; a record with no
related record keeps one row whose related columns are NA (a left join). The related
columns carry a prefix made from the related type's singular name (``deal_name``,
``deal_owner``, ``transaction_status``, ``task_date_due``) so that ``status``, ``date``,
``name`` or ``owner`` never clash with the frame's own, and ``deal_id`` holds the related
record's id. The index stays the frame's record id (repeated), so the result lines up
with the frame; it is for analysis and is not planned back (its ids repeat).

Which field links the two types:

* the related type's ``parent`` field that points at the frame's type (a deal's
  ``primary_contact``, a transaction's or purchase's ``contact_id``); when several do,
  ``on=`` names one;
* tasks and notes point at a record of any type through ``contact_id`` plus
  ``object_type_id`` (``ontraport-api.md``: Task, Note); they join on ``contact_id``
  with ``object_type_id`` equal to the frame's type, so ``op.related(deals, "tasks")``
  finds the deals' tasks and never a contact's task with the same id.

Only the frame's index is read (its ids; an index that is not the record ids, such as
the positions ``reset_index(drop=True)`` leaves, is refused as the planner refuses it), so a frame loaded with ``fields=``, with
``labels=True``, or one that lost its ``attrs`` (then ``object_type=``, or the type is
worked out from this client's loads) joins the same way. The related records are loaded
with a ``where=`` on the link for up to ``op.related_pushdown_ids`` ids (500; pushed
down to the API's condition), else all of them are loaded and filtered in pandas, which
takes fewer requests than a condition listing thousands of ids.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .errors import Problem, UnknownFieldError, ValidationError
from .labels import label_map, labels_of
from .lineage import infer_object_type
from .related import is_extern
from .validation import ID, check_index, classify_index

if TYPE_CHECKING:
    from .client import Ontraport
    from .objects import ObjectType

__all__ = ["link_field", "prefix_for", "related_frame"]

#: The field through which tasks and notes point at a record of the type ``object_type_id`` names.
_ANY_RECORD = ("contact_id", "object_type_id")


def prefix_for(otype: ObjectType) -> str:
    """``"deal_"`` for deals: the singular name in snake case and an underscore."""
    return re.sub(r"[^0-9a-z]+", "_", otype.label.lower()).strip("_") + "_"


def link_field(schema: Any, base: ObjectType, related: ObjectType, on: str | None = None) -> tuple[str, bool]:
    """The related type's field that holds the frame's record id, and whether ``object_type_id`` qualifies it.

    Raises
    ------
    UnknownFieldError
        When no field (or several, without ``on=``) links the types, or ``on`` is not one of them.
    """
    fields = schema.fields
    any_record = all(k in fields for k in _ANY_RECORD)
    links = [k for k, s in fields.items() if s.type == "parent" and s.parent_object == base.id]
    if any_record and _ANY_RECORD[0] not in links:
        links.append(_ANY_RECORD[0])
    if on is not None:
        if on not in links:
            shown = ", ".join(repr(k) for k in links) or "none"
            raise UnknownFieldError(
                f"{on!r} is not a field of {related.label} that points at a {base.label} (those that do: {shown})."
            )
        return on, any_record and on == _ANY_RECORD[0]
    if not links:
        raise UnknownFieldError(
            f"No field of {related.label} points at a {base.label}: nothing to join on. (For the record a "
            f"{base.label} points at, load the {base.label} with externs=['<field>//<its field>'].)"
        )
    if len(links) > 1:
        shown = ", ".join(f"{k!r} ({fields[k].label})" for k in links)
        raise UnknownFieldError(
            f"Several fields of {related.label} point at a {base.label} ({shown}): pass on=."
        )
    return links[0], any_record and links[0] == _ANY_RECORD[0]


def related_frame(
    op: Ontraport,
    frame: pd.DataFrame,
    related: Any,
    *,
    on: str | None = None,
    fields: Sequence[str] | None = None,
    prefix: str | None = None,
    object_type: Any = None,
    labels: bool | None = None,
    progress: bool | None = None,
) -> pd.DataFrame:
    """See :meth:`ontraport_pandas.client.Ontraport.related`."""
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"related() takes a DataFrame, not {type(frame).__name__}")
    base = _base_type(op, frame, object_type)
    rtype = op.session.resolve(related)
    schema = op.session.schema(rtype)
    link, qualified = link_field(schema, base, rtype, on)
    prefix_given = prefix is not None
    prefix = prefix_for(rtype) if prefix is None else str(prefix)
    if fields is not None:
        if isinstance(fields, str):
            fields = [fields]
        for name in fields:
            if not is_extern(name):
                schema.field(name)  # UnknownFieldError with close matches, before any request
        wanted = list(dict.fromkeys([*fields, link, *([_ANY_RECORD[1]] if qualified else [])]))
    else:
        wanted = None

    kinds = classify_index(frame.index)
    refused = check_index(frame, frame.iloc[0:0], base.id_field, labels=kinds)
    if refused:  # a positional index (reset_index(drop=True)) would join other records' rows
        raise ValidationError(refused)
    row_ids = pd.array(np.where(kinds.kind == ID, kinds.ids, 0), dtype="Int64")
    row_ids[kinds.kind != ID] = pd.NA  # new rows and odd labels have no related records
    ids = sorted(set(kinds.ids[kinds.kind == ID].tolist()))

    if 0 < len(ids) <= op.related_pushdown_ids:
        records = op.frame(
            rtype, where=f"{link} in @ids", params={"ids": ids}, fields=wanted, progress=progress
        )
    elif ids:
        records = op.frame(rtype, fields=wanted, progress=progress)
    else:  # no record of the frame can have related records: the columns, typed, and no row
        records = op.frame(rtype, fields=wanted, limit=1, progress=False).iloc[0:0]
    keys = pd.to_numeric(records[link], errors="coerce").astype("Int64")
    keep = keys.isin(ids).fillna(False).to_numpy(dtype=bool)
    if qualified:
        types = pd.to_numeric(records[_ANY_RECORD[1]], errors="coerce")
        keep &= (types == base.id).fillna(False).to_numpy(dtype=bool)
    records = records[keep].sort_index(kind="stable")
    keys = keys[keep].reindex(records.index)
    shown_fields = list(fields) if fields is not None else list(records.columns)
    right = records[shown_fields].copy()
    right.insert(0, "id", pd.array(np.asarray(records.index.astype("int64")), dtype="Int64"))
    if labels is None:
        labels = bool(labels_of(frame))
    if labels:  # "Deal: Deal Name", "Deal: Owner", as a labels=True frame names its own columns
        names = label_map(schema)
        head = prefix if prefix_given else f"{rtype.label}: "
        right.columns = [f"{head}{'ID' if c == 'id' else names.get(c, c)}" for c in right.columns]
    else:
        right.columns = [f"{prefix}{c}" for c in right.columns]
    clash = [c for c in right.columns if c in frame.columns]
    if clash:
        raise ValidationError(
            [
                Problem(None, str(c), None, "is already a column of the frame: pass prefix= another prefix")
                for c in clash
            ]
        )
    right["__link"] = keys.to_numpy()
    right = right.reset_index(drop=True)
    left = pd.DataFrame({"__pos": np.arange(len(frame)), "__link": row_ids})
    matched = left.merge(right, on="__link", how="left", sort=False)
    result = frame.iloc[matched["__pos"].to_numpy()].copy()
    for col in matched.columns.drop(["__pos", "__link"]):
        result[col] = matched[col].array
    info = dict(frame.attrs.get("ontraport") or {})
    info["related"] = {"object_type": rtype.name, "on": link, "prefix": prefix}
    result.attrs = {**frame.attrs, "ontraport": info}
    return result


def _base_type(op: Ontraport, frame: pd.DataFrame, object_type: Any) -> ObjectType:
    if object_type is not None:
        return op.session.resolve(object_type)
    info = frame.attrs.get("ontraport") or {}
    found = info.get("object_type_id", info.get("object_type"))
    if found is not None:
        return op.session.resolve(found)
    inferred = infer_object_type(op, frame)
    if inferred is None:
        raise ValidationError(
            [
                Problem(
                    None,
                    None,
                    None,
                    "the frame does not say which object type it holds (its attrs were lost): pass object_type=",
                )
            ]
        )
    return inferred
