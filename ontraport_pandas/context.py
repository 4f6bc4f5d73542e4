"""The default client: the one that functions use when no client is passed.

The connection picker widget fills this slot, so later notebook cells need no
argument (``opd.report_notebook()``, ``opd.default_client().contacts()``).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from .errors import NoConnectionError

if TYPE_CHECKING:
    from .client import Ontraport

__all__ = ["default_client", "set_default_client"]

_lock = threading.Lock()
_default: Ontraport | None = None


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
