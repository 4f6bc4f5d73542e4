"""Which client serves a call that names none: the default client, and the client that loaded a frame.

The connection picker widget fills the default slot, so later notebook cells need no
argument (``opd.report_notebook()``, ``opd.default_client().contacts()``). Every client
registers itself here when it is made (held weakly), so ``df.ontraport``, the cleanup kit
and the reports find the live client behind a frame from its ``attrs`` without importing
the client module.
"""

from __future__ import annotations

import threading
import weakref
from typing import TYPE_CHECKING, Any

from .errors import NoConnectionError

if TYPE_CHECKING:
    from .client import Ontraport

__all__ = ["client_for", "default_client", "register_client", "schema_for", "set_default_client"]

_lock = threading.Lock()
_default: Ontraport | None = None
_clients: weakref.WeakValueDictionary[str, Ontraport] = weakref.WeakValueDictionary()


def register_client(op: Ontraport) -> None:
    """Remember ``op`` by its id (weakly: a client nobody holds is forgotten)."""
    _clients[op.id] = op


def client_for(frame: Any) -> Ontraport | None:
    """The live client that loaded ``frame`` (from its ``attrs``), if it still exists."""
    info = getattr(frame, "attrs", {}).get("ontraport") or {}
    return _clients.get(info.get("client_id", ""))


def schema_for(frame: Any) -> Any:
    """The :class:`~ontraport_pandas.schema.ObjectSchema` of the type ``frame`` holds, from the client
    that loaded it, or None when that is not known. Sends no request (the session keeps the metadata
    the load fetched) and never raises: callers use it for labels, types and options that only
    decorate."""
    info = getattr(frame, "attrs", {}).get("ontraport") or {}
    op = _clients.get(info.get("client_id", "")) if info.get("object_type") else None
    if op is None:
        return None
    try:
        session = op.session
        return session.schema(session.resolve(info["object_type"]))
    except Exception:  # metadata is a convenience wherever this is asked
        return None


def set_default_client(op: Ontraport | None) -> None:
    """Make ``op`` the default client (None forgets it)."""
    global _default
    with _lock:
        _default = op


def default_client(*, required: bool = True) -> Ontraport | None:
    """The default client.

    Raises
    ------
    NoConnectionError
        When none is set and ``required`` is true; the message says how to set one.
    """
    with _lock:
        op = _default
    if op is None and required:
        raise NoConnectionError(
            "No default Ontraport client: pick a connection with opd.widgets.ConnectionPicker(), "
            "or call opd.set_default_client(opd.connect(...))."
        )
    return op
