"""``Webhook/subscribe`` and ``Webhook/unsubscribe``.

- ``POST Webhook/subscribe`` with ``event`` (``object_create(0)``, ``sub_tag(3)``, … : a
  lower-case name, optionally with arguments in brackets) and ``url`` (http or https),
  optionally ``data``, stores a webhook and answers ``{"url","event","id","owner"}``
  (``id`` and ``owner`` strings, owner "1"). A bad event or URL is 400 ``Invalid
  event`` / ``Invalid URL``. Hooks are recorded, never called.
- ``DELETE Webhook/unsubscribe?id=`` removes it and answers ``"Deleted"``; an unknown id
  is 404 ``Object not found``, a missing one 400 ``Invalid query``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .handlers import NOT_FOUND, Api, Reply
from .model import TYPES_BY_ID, ObjectType
from .store import Store
from .values import as_text
from .wire import ApiError

__all__ = ["WebhookEndpoints"]

WEBHOOKS = TYPES_BY_ID[145]
_EVENT = re.compile(r"^[a-z][a-z_]*(\([^()]*\))?$")
_URL = re.compile(r"^https?://[^\s/]+\S*$", re.IGNORECASE)


class WebhookEndpoints(Api):
    """Webhook subscriptions."""

    def webhook_subscribe(self, otype: ObjectType | None, params: Mapping[str, Any]) -> Reply:
        event = as_text(params.get("event")).strip()
        url = as_text(params.get("url")).strip()
        if not _EVENT.match(event):
            raise ApiError(400, "Invalid event")
        if not _URL.match(url):
            raise ApiError(400, "Invalid URL")
        data = params.get("data")
        now = self.now()
        with self.store.write() as conn:
            hook_id = Store.insert(
                conn,
                WEBHOOKS,
                {"event": event, "url": url, "data": as_text(data), "owner": "1", "date": now},
            )
        return Reply({"url": url, "event": event, "id": str(hook_id), "owner": "1"})

    def webhook_unsubscribe(self, otype: ObjectType | None, params: Mapping[str, Any]) -> Reply:
        hook_id = self.record_id(WEBHOOKS, params)
        with self.store.write() as conn:
            if Store.delete_ids(conn, WEBHOOKS, [hook_id]) == 0:
                raise ApiError(404, NOT_FOUND)
        return Reply("Deleted")
