"""Where a frame came from, when its ``attrs`` no longer say: its object type and its records as loaded.

pandas keeps ``attrs`` through ``pd.concat``, ``merge`` and ``join`` only when every
input carries the same ones: a frame concatenated with new rows built by hand, or two
loads joined side by side, arrive at :meth:`Ontraport.plan` without them. The planner
then works out what it needs from the frame itself and from the loads **this client**
made (:meth:`Ontraport.loads`), never from another client or the network:

* the object type is the loaded type whose fields hold every column (field keys, labels
  of ``labels=True`` or related-record paths) and whose loads hold the frame's ids; when
  several types fit equally, the frame is refused and ``object_type=`` asked for;
* the original is put together per record and per column from those loads, taking each
  cell from the **oldest** load that has it. A record loaded twice, and modified in
  between, is then compared with what it was first and its older ``dlm`` makes the push
  report it as a conflict instead of overwriting the newer value (the safe side). A
  cell no load holds is compared as an added column would be: a value is written, an
  NA is left alone. An NA is a clear as in any frame, also one ``pd.concat`` made by
  stacking loads of different ``fields=`` once another load holds that cell; the plan
  shows such clears (more than 25 need ``confirm=``) and ``on_null="skip"`` leaves them.

``delete_missing=True`` needs the load itself (which rows were removed is not in the
frame), so it is refused on a recovered original.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .errors import OntraportError, Problem, ValidationError
from .labels import label_map
from .related import is_extern
from .validation import ID, classify_index

if TYPE_CHECKING:
    from .client import Ontraport
    from .objects import ObjectType

__all__ = ["infer_object_type", "recover_original"]


def _keys(columns: Sequence[Any], schema: Any, labels: dict[str, str]) -> list[Any]:
    """The frame's columns as field keys (labels mapped back through ``labels``, then the schema)."""
    names = {name: key for key, name in label_map(schema).items()}
    return [labels.get(c, names.get(c, c)) if isinstance(c, str) else c for c in columns]


def _ids(index: pd.Index) -> np.ndarray:
    kinds = classify_index(index)
    return np.unique(kinds.ids[kinds.kind == ID])


def _snapshot_ids(frame: pd.DataFrame) -> pd.Index:
    return pd.Index(np.asarray(frame.index.astype("int64")), dtype="int64")


def infer_object_type(op: Ontraport, edited: pd.DataFrame) -> ObjectType | None:
    """The object type of a frame without ``attrs``, from its columns and ids and this client's loads.

    Returns None when no load of this client fits (the caller asks for ``object_type=``).

    Raises
    ------
    ValidationError
        When several loaded types fit the frame equally well, naming them.
    """
    labels = {str(k): str(v) for k, v in ((edited.attrs.get("ontraport") or {}).get("labels") or {}).items()}
    ids = pd.Index(_ids(edited.index), dtype="int64")
    scored: list[tuple[int, ObjectType]] = []
    seen: set[int] = set()
    for snap in op.loads():
        type_id = (snap.attrs.get("ontraport") or {}).get("object_type_id")
        if type_id is None or type_id in seen:
            continue
        seen.add(type_id)
        try:
            otype = op.session.resolve(type_id)
            schema = op.session.schema(otype)
        except (OntraportError, KeyError, ValueError):
            continue
        keys = _keys(list(edited.columns), schema, labels)
        if not all(k in schema.fields or k == otype.id_field or is_extern(k) for k in keys):
            continue
        covered: set[int] = set()
        for other in op.loads(otype.id):
            covered.update(ids.intersection(_snapshot_ids(other)).tolist())
        if len(ids) and not covered:
            continue
        scored.append((len(covered), otype))
    if not scored:
        return None
    best = max(n for n, _ in scored)
    top = [t for n, t in scored if n == best]
    if len(top) > 1:
        names = ", ".join(repr(t.name) for t in top)
        raise ValidationError(
            [
                Problem(
                    None,
                    None,
                    None,
                    f"the frame's attrs were lost and its columns and ids fit several loaded types ({names}): "
                    "pass object_type=",
                )
            ]
        )
    return top[0]


def recover_original(
    op: Ontraport, otype: ObjectType, edited: pd.DataFrame, *, delete_missing: bool = False
) -> tuple[pd.DataFrame, dict[str, Any]] | None:
    """The records of ``edited`` as this client loaded them, and the load facts the plan keeps.

    Returns None when this client holds no load of the type, or the frame has no record id
    (only new rows: there is nothing to compare with).

    Raises
    ------
    ValidationError
        For ``delete_missing=True`` (it needs the frame's own load).
    """
    ids = pd.Index(_ids(edited.index), dtype="int64")
    loads = op.loads(otype.id)
    if not loads or not len(ids):  # nothing loaded, or only new rows: nothing to compare with
        return None
    if delete_missing:
        raise ValidationError(
            [
                Problem(
                    None,
                    None,
                    None,
                    "delete_missing=True needs the frame as loaded, which its attrs no longer name (lost in a "
                    "pd.concat, merge or join): pass original= the loaded frame",
                )
            ]
        )
    schema = op.session.schema(otype)
    labels = {str(k): str(v) for k, v in ((edited.attrs.get("ontraport") or {}).get("labels") or {}).items()}
    columns = [
        k
        for k in dict.fromkeys(_keys(list(edited.columns), schema, labels))
        if isinstance(k, str) and k != otype.id_field
    ]
    if "dlm" in schema.fields and "dlm" not in columns:
        columns.append("dlm")  # the conflict check compares it
    indexed = [(snap, _snapshot_ids(snap)) for snap in loads]
    data: dict[str, pd.Series] = {}
    rows = pd.Index([], dtype="int64")
    used: list[pd.DataFrame] = []
    for col in columns:
        pieces: list[pd.Series] = []
        covered = pd.Index([], dtype="int64")
        for snap, snap_ids in indexed:  # oldest first: the safe side for a record loaded twice
            if col not in snap.columns:
                continue
            want = ids.difference(covered).intersection(snap_ids)
            if not len(want):
                continue
            values = snap[col].copy(deep=False)
            values.index = snap_ids
            pieces.append(values.loc[want])
            covered = covered.union(want)
            if not any(s is snap for s in used):
                used.append(snap)
        if pieces:
            data[col] = pieces[0] if len(pieces) == 1 else pd.concat(pieces)
            rows = rows.union(covered)
    order = ids[ids.isin(rows)]
    original = pd.DataFrame({c: s.reindex(order) for c, s in data.items()}, index=order)
    name = loads[0].index.name
    original.index = pd.Index(order, dtype="Int64", name=name)
    stamps = [(s.attrs.get("ontraport") or {}).get("loaded_at") for s in used]
    loaded_at = min((t for t in stamps if t), default=None)
    return original, {"loaded_at": loaded_at, "recovered": True}
