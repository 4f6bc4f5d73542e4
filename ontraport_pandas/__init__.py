"""ontraport-pandas: Ontraport CRM data as typed pandas DataFrames.

>>> import ontraport_pandas as opd
>>> op = opd.connect("sandbox")        # embedded Ontraport simulator with demo data
>>> contacts = op.contacts(where="bulk_mail == 'Opted-in'")

``import ontraport_pandas`` loads neither ipywidgets, matplotlib, nbformat nor tqdm:
the notebook extras load on first use.
"""

from typing import TYPE_CHECKING, Any

from ._version import __version__
from .errors import (
    ActionSchemaError,
    APIError,
    AuthenticationError,
    BackendFallbackWarning,
    BadRequestError,
    ConfigurationError,
    ConfirmationRequired,
    ConnectionFailed,
    EmptySelectionError,
    IncompleteLoadError,
    IncompleteLoadWarning,
    InvalidQueryError,
    InvalidValueError,
    JournalDamaged,
    JournalError,
    JournalLocked,
    JournalMismatch,
    MembraneSetupError,
    NoConnectionError,
    NotFoundError,
    OntraportError,
    OntraportWarning,
    PermissionDeniedError,
    Problem,
    ProtocolError,
    PushError,
    QueryError,
    RateLimitError,
    RequestTimeout,
    SchemaError,
    ServerError,
    TransportError,
    UnconfirmedWriteError,
    UnknownFieldError,
    UnknownObjectTypeError,
    ValidationError,
)
from .objects import ObjectType

if TYPE_CHECKING:
    from . import clean as clean
    from . import reports as reports
    from . import widgets as widgets
    from ._connect import connect, connections
    from .client import Ontraport
    from .context import default_client, set_default_client
    from .notebook import report_notebook
    from .session import RetryPolicy
    from .snapshot import read_snapshot
    from .spreadsheet import read_csv

# pandas-heavy parts load on first use, so that the command-line tools (the sandbox
# server, the membrane simulator) start fast.
_LAZY = {
    "Ontraport": ".client",
    "connect": "._connect",
    "connections": "._connect",
    "default_client": ".context",
    "set_default_client": ".context",
    "report_notebook": ".notebook",
    "RetryPolicy": ".session",
    "read_csv": ".spreadsheet",
    "read_snapshot": ".snapshot",
}
# Optional-extra submodules (ipywidgets, matplotlib; phonenumbers and email-validator inside
# opd.clean's functions) load when first touched: opd.widgets, opd.reports, opd.clean.
_SUBMODULES = ("widgets", "reports", "clean")


def __getattr__(name: str) -> Any:
    import importlib

    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "APIError",
    "ActionSchemaError",
    "AuthenticationError",
    "BackendFallbackWarning",
    "BadRequestError",
    "ConfigurationError",
    "ConfirmationRequired",
    "ConnectionFailed",
    "EmptySelectionError",
    "IncompleteLoadError",
    "IncompleteLoadWarning",
    "InvalidQueryError",
    "InvalidValueError",
    "JournalDamaged",
    "JournalError",
    "JournalLocked",
    "JournalMismatch",
    "MembraneSetupError",
    "NoConnectionError",
    "NotFoundError",
    "ObjectType",
    "Ontraport",
    "OntraportError",
    "OntraportWarning",
    "PermissionDeniedError",
    "Problem",
    "ProtocolError",
    "PushError",
    "QueryError",
    "RateLimitError",
    "RequestTimeout",
    "RetryPolicy",
    "SchemaError",
    "ServerError",
    "TransportError",
    "UnconfirmedWriteError",
    "UnknownFieldError",
    "UnknownObjectTypeError",
    "ValidationError",
    "__version__",
    "connect",
    "connections",
    "default_client",
    "read_csv",
    "read_snapshot",
    "report_notebook",
    "set_default_client",
]
