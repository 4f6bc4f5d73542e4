"""``objects/pause`` and ``objects/unpause``: rules, sequences and automations.

``POST objects/pause`` / ``objects/unpause`` with ``objectID`` (5 sequences, 6 rules,
140 Campaign Builder items) and ``ids`` / ``group_id`` / ``condition`` set the records'
``pause`` to ``"1"`` / ``"0"`` and answer without ``data`` (``ontraport-api.md`` §2,
§6.1). Automations also show it in ``state`` (``"paused"`` / ``"live"``). A type without
a ``pause`` field, or no selection, is 400 ``Invalid query``. Pausing what is paused
already changes nothing (``dlm`` stays).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .conditions import InvalidQuery
from .handlers import Api, Reply
from .model import ObjectType
from .store import Store

__all__ = ["AutomationEndpoints"]


class AutomationEndpoints(Api):
    """Pause and unpause."""

    def _pause(self, otype: ObjectType | None, params: Mapping[str, Any], paused: bool) -> Reply:
        if otype is None or not otype.has("pause"):
            raise InvalidQuery("this object type cannot be paused")
        value = "1" if paused else "0"
        now = self.now()
        with self.store.write() as conn:
            where, args = self.selection(conn, otype, params, action=True)
            for record_id in Store.ids(conn, otype, where, args):
                row = Store.get(conn, otype, record_id)
                if row is None or row.get("pause") == value:
                    continue
                update: dict[str, str | None] = {"pause": value}
                if otype.has("state"):
                    update["state"] = "paused" if paused else "live"
                if otype.has("dlm"):
                    update["dlm"] = now
                Store.update(conn, otype, record_id, update)
        return Reply()

    def pause(self, otype: ObjectType | None, params: Mapping[str, Any]) -> Reply:
        return self._pause(otype, params, True)

    def unpause(self, otype: ObjectType | None, params: Mapping[str, Any]) -> Reply:
        return self._pause(otype, params, False)
