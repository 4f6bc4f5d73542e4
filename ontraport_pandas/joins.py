"""Joining a frame to its related records: ``op.related(contacts, "deals")``.

Two types are related through a parent field (``meta`` says which type it points at):

* **one to many**: the other type has a field pointing at the frame's type
  (``deals.primary_contact``, ``tasks.contact_id``, ``transactions.contact_id``,
  ``purchases.contact_id``, ``notes.contact_id`` -> contacts). Every matching record is
  loaded (``<field> in <the frame's ids>``, sent in parts when long) and joined: one row per
  pair, and a row with NA related columns for a record that has none (``how="left"``);
* **many to one**: the frame has a field pointing at the other type (``deals.primary_contact``
  -> contacts, ``tasks.owner`` -> users). The records it names are loaded and joined.

The related columns are prefixed with the type's name (``deals_status``, ``deals_date``,
``deals_id``), so ``status``, ``date``, ``name`` and ``owner`` never clash with the frame's
own. When several fields link the two types (``owner`` and ``reports_to``), ``on=`` names
the one to use; the error lists them. For a type linked to itself (``users.reports_to``), ``on=``
takes the one-to-many side: each user joined to the users who report to them. The result is for analysis: its index repeats the
frame's ids, so it is not planned back (plan the frame itself).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from .errors import Problem, ValidationError
from .loader import load_frame
from .validation import is_record_id

if TYPE_CHECKING:
    from .client import Ontraport

__all__ = ["related_frame"]


def _links(schema: Any, target_id: int) -> list[str]:
    return [k for k, s in schema.fields.items() if s.kind == "parent" and s.parent_object == target_id]


def _fail(message: str) -> ValidationError:
    return ValidationError([Problem(None, None, None, message)])


def related_frame(
    op: Ontraport,
    frame: pd.DataFrame,
    other: Any,
    *,
    object_type: Any = None,
    on: str | None = None,
    how: Literal["left", "inner"] = "left",
    progress: bool | None = None,
) -> pd.DataFrame:
    """``frame`` joined to its related records of type ``other``; see the module docstring."""
    if how not in ("left", "inner"):
        raise ValueError(f"how must be 'left' or 'inner', not {how!r}")
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"related() takes a DataFrame, not {type(frame).__name__}")
    info = frame.attrs.get("ontraport") or {}
    if object_type is None:
        object_type = info.get("object_type_id", info.get("object_type"))
    if object_type is None:
        raise _fail("the frame does not say which object type it holds: pass object_type=")
    mine = op.session.resolve(object_type)
    theirs = op.session.resolve(other)
    my_schema = op.session.schema(mine)
    their_schema = op.session.schema(theirs)
    down = _links(their_schema, mine.id)  # their field -> my id: one to many
    up = _links(my_schema, theirs.id)  # my field -> their id: many to one
    if on is not None:
        if on in down:
            down, up = [on], []
        elif on in up:
            down, up = [], [on]
        else:
            raise _fail(
                f"on={on!r} does not link {mine.name} and {theirs.name}; the links are: "
                + (
                    ", ".join([f"{theirs.name}.{k}" for k in down] + [f"{mine.name}.{k}" for k in up])
                    or "none"
                )
            )
    candidates = [f"{theirs.name}.{k}" for k in down] + [f"{mine.name}.{k}" for k in up]
    if not candidates:
        raise _fail(f"no field links {mine.name} and {theirs.name}")
    if len(candidates) > 1:
        raise _fail(
            f"{mine.name} and {theirs.name} are linked by several fields ({', '.join(candidates)}): "
            "say which with on="
        )
    prefix = f"{theirs.name}_"
    ids = pd.Index(frame.index).dropna()
    bad = [x for x in ids if not is_record_id(x)]
    if down and (bad or isinstance(frame.index, pd.RangeIndex)):
        raise _fail(
            f"the index is not the record ids ({', '.join(map(repr, bad[:3])) or 'a positional 0..n-1 index'}): "
            "keep the index the load gave you, or edited.set_index('id')"
        )
    if down:
        key = down[0]
        wanted = sorted({int(x) for x in ids})
        loaded = load_frame(
            op.session, theirs, where=f"{key} in @ids", params={"ids": wanted}, progress=progress
        )
        right = loaded.reset_index().add_prefix(prefix)
        left = frame.copy()
        left.index = left.index.astype("Int64")
        joined = left.join(right.set_index(prefix + key), how=how)
        joined.index.name = frame.index.name or "id"
        return joined
    key = up[0]
    values = frame[key].dropna()
    wanted = sorted({int(x) for x in values})
    loaded = load_frame(op.session, theirs, where="id in @ids", params={"ids": wanted}, progress=progress)
    right = loaded.add_prefix(prefix)
    right.index = right.index.astype("Int64")
    keys = frame[key].astype("Int64")
    picked = right.reindex(pd.Index(keys.to_numpy(), dtype="Int64"))
    picked.index = frame.index
    joined = pd.concat([frame, picked], axis=1)
    if how == "inner":
        joined = joined[keys.isin(right.index).to_numpy(dtype=bool, na_value=False)]
    return joined
