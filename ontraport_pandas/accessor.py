"""``df.ontraport``: the one pandas accessor, registered when the client module loads.

It delegates to the client that loaded the frame (found through ``df.attrs``):
``df.ontraport.plan()`` is ``op.plan(df)`` and ``df.ontraport.push()`` is ``op.push(df)``;
``df.ontraport.clean()`` runs the cleanup kit (:mod:`ontraport_pandas.clean`);
``df.ontraport.keyed()`` and ``df.ontraport.labelled()`` switch the column names between
field keys and Ontraport labels (:mod:`ontraport_pandas.labels`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from .context import client_for
from .errors import NoConnectionError

if TYPE_CHECKING:
    from .clean import Cleaned
    from .client import Ontraport
    from .plan import Plan
    from .result import PushResult

__all__ = ["OntraportAccessor"]


@pd.api.extensions.register_dataframe_accessor("ontraport")
class OntraportAccessor:
    """Plan and push an edited frame back to the Ontraport account it came from."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self._frame = frame

    @property
    def info(self) -> dict[str, Any]:
        """What ``attrs`` say about the frame's origin (object type, connection, load time)."""
        return dict(self._frame.attrs.get("ontraport") or {})

    def client(self, op: Ontraport | None = None) -> Ontraport:
        found = op or client_for(self._frame)
        if found is None:
            raise NoConnectionError(
                "This frame was not loaded by a client that is still open: call op.plan(df, original=…) "
                "with the client and the frame as loaded."
            )
        return found

    def plan(self, *, op: Ontraport | None = None, **options: Any) -> Plan:
        """``op.plan(df, **options)`` with the client that loaded the frame."""
        return self.client(op).plan(self._frame, **options)

    def keyed(self) -> pd.DataFrame:
        """The frame with field keys as column names (``labels=True`` columns mapped back).

        For code that expects keys (the cleanup kit, reports); it plans like the labelled frame.
        """
        from .labels import labels_of

        mapping = labels_of(self._frame)
        if not mapping:
            return self._frame.copy(deep=False)
        out = self._frame.rename(columns=mapping)
        info = dict(self._frame.attrs.get("ontraport") or {})
        info.pop("labels", None)
        out.attrs = {**self._frame.attrs, "ontraport": info}
        return out

    def labelled(self, *, op: Ontraport | None = None) -> pd.DataFrame:
        """The frame with Ontraport labels as column names, as ``labels=True`` loads it."""
        from .labels import apply_labels
        from .related import is_extern, resolve_externs

        frame = self.keyed()
        info = frame.attrs.get("ontraport") or {}
        client = self.client(op)
        found = info.get("object_type_id", info.get("object_type"))
        if found is None:
            raise NoConnectionError("This frame's attrs do not say which object type it holds.")
        otype = client.session.resolve(found)
        schema = client.session.schema(otype)
        paths = [str(c) for c in frame.columns if is_extern(c)]
        if paths:
            schema, _ = resolve_externs(client.session, otype, schema, paths)
        return apply_labels(frame, schema)

    def clean(self, *steps: str, **options: Any) -> Cleaned:
        """The cleanup kit on this frame (:func:`ontraport_pandas.clean.contacts`).

        ``df.ontraport.clean()`` runs every step; ``df.ontraport.clean("phones", "emails")``
        only those. Returns the edited copy and the problems; plan and apply the copy.
        """
        from . import clean

        if steps:
            options["steps"] = steps
        return clean.contacts(self._frame, **options)

    def push(self, *, op: Ontraport | None = None, **options: Any) -> PushResult:
        """``op.push(df, **options)`` with the client that loaded the frame."""
        return self.client(op).push(self._frame, **options)
