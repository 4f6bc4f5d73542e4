"""The exception and warning tree of ontraport-pandas.

Every error the toolkit raises derives from :class:`OntraportError`, so
``except opd.OntraportError`` catches all of them. Where a built-in exception is
the natural meaning, it is a second base, so generic handlers keep working::

    OntraportError(Exception)
    ├── ConfigurationError                 bad or missing settings, unknown option value
    │   ├── NoConnectionError              no client given and no default set
    │   └── MembraneSetupError             membrane CLI missing, not logged in, wrong program
    ├── TransportError                     anything below the client; ``.method``, ``.path``
    │   ├── ConnectionFailed               no answer at all: refused, dropped, CLI crashed
    │   ├── RequestTimeout                 no answer within the timeout
    │   ├── ProtocolError                  malformed JSON, unexpected envelope or CLI output
    │   ├── IncompleteLoadError            pages still failing after their retries; ``.partial``, ``.missing``
    │   └── APIError                       the API answered with an error; ``.status``, ``.body``
    │       ├── BadRequestError            400 (``Invalid query``, ``Object not found``, …)
    │       │   ├── InvalidQueryError      400 ``Invalid query``: a condition the API refused
    │       │   └── ActionSchemaError      a hosted action's input schema has no place for a field; nothing sent
    │       ├── AuthenticationError        401: the App ID / API key pair was refused
    │       ├── PermissionDeniedError      403: the key may not do this (or the type refuses the verb)
    │       ├── NotFoundError(KeyError)    404: no such record or route
    │       ├── InvalidValueError          422: a value the API refused (invalid e-mail)
    │       ├── RateLimitError             429; ``.reset_after`` seconds from the headers
    │       ├── UnconfirmedWriteError      a hosted action's output did not confirm the record it wrote
    │       └── ServerError                5xx
    ├── SchemaError                        field metadata missing or a value not convertible
    │   ├── UnknownObjectTypeError(KeyError)   a name or id not in the catalog
    │   └── UnknownFieldError(KeyError)    a column the object type does not have
    ├── QueryError(ValueError)             a ``where=`` expression that cannot be pushed down exactly
    ├── ValidationError(ValueError)        a frame that cannot become a plan; ``.problems``
    ├── ConfirmationRequired(ValueError)   a big or destructive plan applied without ``confirm=``
    ├── EmptySelectionError(ValueError)    a bulk request that names no records (the API reads "all")
    ├── PushError                          raised only by ``PushResult.raise_for_errors()``
    └── JournalError                       a push journal that cannot be used as it is
        ├── JournalDamaged                 damaged beyond a torn last line; says what is known applied
        ├── JournalLocked                  another process is pushing, resuming or undoing it
        └── JournalMismatch                written for another account or connection

    OntraportWarning(UserWarning)
    ├── IncompleteLoadWarning              rows fetched differ from the count reported
    └── BackendFallbackWarning             a backend feature is unavailable; a slower or plainer route is used

Transports map their failures onto this tree in one place, on status codes and
exit codes, never on message text. Failures of single rows during a push are data
in the result, not exceptions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

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
    "OntraportError",
    "OntraportWarning",
    "PermissionDeniedError",
    "Problem",
    "ProtocolError",
    "PushError",
    "QueryError",
    "RateLimitError",
    "RequestTimeout",
    "SchemaError",
    "ServerError",
    "TransportError",
    "UnconfirmedWriteError",
    "UnknownFieldError",
    "UnknownObjectTypeError",
    "ValidationError",
]


class OntraportError(Exception):
    """Base of every error raised by ontraport-pandas."""

    def __str__(self) -> str:  # KeyError subclasses would otherwise repr() the message
        return str(self.args[0]) if self.args else self.__class__.__name__


class ConfigurationError(OntraportError):
    """Bad or missing settings."""


class NoConnectionError(ConfigurationError):
    """No client was given and no default client is set."""


class MembraneSetupError(ConfigurationError):
    """The membrane CLI is missing, not logged in, not the integration CLI, or the connection is not ready."""


class TransportError(OntraportError):
    """A request could not be completed.

    Attributes
    ----------
    method, path : str or None
        The request that failed (never its credentials).
    """

    def __init__(self, message: str, *, method: str | None = None, path: str | None = None) -> None:
        super().__init__(message)
        self.method = method
        self.path = path


class ConnectionFailed(TransportError):
    """No answer at all: connection refused or dropped, or the CLI crashed."""


class RequestTimeout(TransportError):
    """No answer within the timeout."""


class ProtocolError(TransportError):
    """The answer could not be understood (malformed JSON, unexpected shape)."""


class IncompleteLoadError(TransportError):
    """A load gave up on some pages after their retries; the rows it got are kept.

    Raised from ``op.contacts()`` and the other loads instead of throwing every page
    away. The error of the first page that failed is the ``__cause__``.

    Attributes
    ----------
    partial : pandas.DataFrame or None
        The typed frame of the rows that were loaded (None below the client). For a
        ``cache=True`` refresh the cache is left as it was and this holds the records
        the refresh fetched.
    records : list of dict
        The same rows as wire records. A typed load (``op.contacts()``, ``op.frame()``)
        types its pages as they arrive and lets the raw records go, so there they are the
        partial rows written back to wire form (blank text as null); ``load_records`` keeps
        the rows as the API sent them.
    expected : int
        How many rows the load should have had.
    missing : int
        How many of them are missing.
    failures : list of (int, Exception)
        The ``start`` offset of each page given up on, with its error.
    """

    def __init__(
        self,
        message: str,
        *,
        records: Sequence[Any],
        expected: int,
        missing: int,
        failures: Sequence[tuple[int, BaseException]],
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message, method=method, path=path)
        self.records = list(records)
        self.partial: Any = None
        self.expected = expected
        self.missing = missing
        self.failures = list(failures)


class APIError(TransportError):
    """The API answered with an error status.

    Attributes
    ----------
    status : int
        The HTTP status code.
    body : str
        The (plain-text) error body, as the API sent it.
    headers : Mapping[str, str]
        Response headers, lower-case keys.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        body: str = "",
        headers: Mapping[str, str] | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message, method=method, path=path)
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


class BadRequestError(APIError):
    """HTTP 400."""


class InvalidQueryError(BadRequestError):
    """HTTP 400 ``Invalid query``: the API refused a condition (usually an unknown field)."""


class ActionSchemaError(BadRequestError):
    """A hosted action's own ``inputSchema`` has no place for a field we mean to write. Nothing was sent.

    Attributes
    ----------
    action : str
        The action key (its id is in the message).
    sent : list of str
        The input keys we would have sent (``fields.firstname`` for nested ones).
    accepted : list of str
        The keys the schema declares.
    """

    def __init__(self, message: str, *, action: str, sent: Sequence[str], accepted: Sequence[str]) -> None:
        super().__init__(message, status=400, body=message, method="ACTION", path=action)
        self.action = action
        self.sent = list(sent)
        self.accepted = list(accepted)


class AuthenticationError(APIError):
    """HTTP 401: the App ID and API key do not authenticate."""


class PermissionDeniedError(APIError):
    """HTTP 403: the key's user may not do this, or the object type refuses the verb."""


class NotFoundError(APIError, KeyError):
    """HTTP 404: no such record or route."""


class InvalidValueError(APIError):
    """HTTP 422: a value the API refused, such as an invalid e-mail address."""


class RateLimitError(APIError):
    """HTTP 429: the rate limit is spent.

    Attributes
    ----------
    reset_after : float
        Seconds until the window resets, from ``X-Rate-Limit-Reset``.
    """

    def __init__(self, message: str, *, reset_after: float, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.reset_after = reset_after


class UnconfirmedWriteError(APIError):
    """A hosted action answered, but its output does not confirm the record it was to write.

    Raised when the output has no record id, or a different one: the change may have
    been dropped (hosted actions ignore input properties they do not know).
    """


class ServerError(APIError):
    """HTTP 5xx."""


@dataclass(frozen=True)
class Problem:
    """One problem found while validating a frame: which row, which column, which value, and why."""

    row: Any
    column: str | None
    value: Any
    message: str

    def __str__(self) -> str:
        where = f"row {self.row!r}" if self.row is not None else "frame"
        if self.column is not None:
            where += f", column {self.column!r}"
        if self.value is not None:
            where += f", value {self.value!r}"
        return f"{where}: {self.message}"


class SchemaError(OntraportError):
    """Field metadata is missing, or a value cannot be converted.

    Attributes
    ----------
    problems : list of Problem
        For a conversion: every cell that could not be converted (row, column, value, why).
    """

    def __init__(self, message: str, problems: Sequence[Problem] | None = None) -> None:
        super().__init__(message)
        self.problems: list[Problem] = list(problems or [])


class UnknownObjectTypeError(SchemaError, KeyError):
    """An object type name or id that is not in the catalog."""


class UnknownFieldError(SchemaError, KeyError):
    """A column that the object type does not have."""


class QueryError(OntraportError, ValueError):
    """A ``where=`` expression that cannot be pushed down to the API exactly."""


class ValidationError(OntraportError, ValueError):
    """A frame that cannot become a plan. Nothing was sent.

    Attributes
    ----------
    problems : list of Problem
        Every problem found, each naming the row, the column and the value.
    """

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        lines = [f"{len(self.problems)} problem(s) found; nothing was sent:"]
        lines += [f"  - {p}" for p in self.problems[:50]]
        if len(self.problems) > 50:
            lines.append(f"  … and {len(self.problems) - 50} more (see .problems)")
        super().__init__("\n".join(lines))


class ConfirmationRequired(OntraportError, ValueError):
    """A plan that deletes records, clears many cells or touches many rows was applied without ``confirm=``.

    Attributes
    ----------
    expected : int
        The number to pass as ``confirm=`` (the number of records the plan affects).
    """

    def __init__(self, message: str, expected: int) -> None:
        super().__init__(message)
        self.expected = expected


class EmptySelectionError(OntraportError, ValueError):
    """A bulk delete or action whose selection is empty, refused before it was sent.

    The API reads a collection ``DELETE`` or a tag / sequence / subscribe / pause / task
    action without ``ids``, ``condition`` or ``group_id`` (or with ``ids=0``) as "every
    record of the type". Nothing was sent. ``op.request(..., all_records=True)`` sends
    such a request on purpose.

    Attributes
    ----------
    method, path : str
        The request that was refused.
    """

    def __init__(self, message: str, *, method: str, path: str) -> None:
        super().__init__(message)
        self.method = method
        self.path = path


class PushError(OntraportError):
    """Raised by ``PushResult.raise_for_errors()`` when some operations did not succeed.

    Attributes
    ----------
    result : PushResult
        The full result, failed rows included.
    """

    def __init__(self, message: str, result: Any) -> None:
        super().__init__(message)
        self.result = result


class JournalError(OntraportError):
    """A push journal that cannot be used as it is (see the subclasses). Nothing was sent."""


class JournalDamaged(JournalError):
    """A journal damaged beyond a torn last line: resume and undo refuse to guess.

    The message says which line is damaged and how, what the readable part says was
    applied, and what to do.
    """


class JournalLocked(JournalError):
    """Another process holds the journal (a push, resume or undo running on it).

    Attributes
    ----------
    holder : str
        Who holds it (process id, host, what it is doing), as far as the journal says.
    """

    def __init__(self, message: str, holder: str) -> None:
        super().__init__(message)
        self.holder = holder


class JournalMismatch(JournalError):
    """The journal was written for another account or connection; pass ``force=True`` to use it anyway."""


class OntraportWarning(UserWarning):
    """Base of the toolkit's warnings."""


class IncompleteLoadWarning(OntraportWarning):
    """The rows fetched differ from the count the API reported, and could not be reconciled."""


class BackendFallbackWarning(OntraportWarning):
    """A backend feature is unavailable, so a plainer route is used (said once per client)."""
