"""The transport contract and the one place where API answers become exceptions.

A transport carries one Ontraport REST request (method, path, query, JSON body)
and returns the answer (status, headers, body). Everything above it (paging,
typing, writing) is written once and works over every backend.

:func:`raise_for_status` maps status codes to the exception tree of
:mod:`ontraport_pandas.errors`; every backend that proxies the REST API (HTTP, the
in-process sandbox, the Membrane CLI's ``request``) funnels its answers through it.
It decides on status codes, never on message text (the one exception, ``Invalid
query``, only picks a narrower subclass of the 400 error).
"""

from __future__ import annotations

import ipaddress
import json as _json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlsplit, urlunsplit

from ..errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    InvalidQueryError,
    InvalidValueError,
    NotFoundError,
    PermissionDeniedError,
    ProtocolError,
    RateLimitError,
    ServerError,
)

__all__ = [
    "HostedActions",
    "RateLimitInfo",
    "Response",
    "Transport",
    "display_url",
    "is_loopback",
    "raise_for_status",
    "rate_limit_info",
]

Params = Mapping[str, str]


@dataclass(frozen=True)
class Response:
    """One answer from the API.

    Attributes
    ----------
    status : int
        The HTTP status code.
    headers : Mapping[str, str]
        Response headers with lower-case names.
    content : bytes
        The body.
    """

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    content: bytes = b""

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The decoded JSON body; :class:`ProtocolError` if it is not JSON."""
        try:
            return _json.loads(self.content)
        except ValueError as exc:
            raise ProtocolError(f"Expected a JSON body, got: {self.text[:200]!r}") from exc
        except RecursionError:
            raise ProtocolError(f"The JSON body is nested too deeply to parse: {self.text[:100]!r}") from None


@runtime_checkable
class Transport(Protocol):
    """What every backend implements.

    Attributes
    ----------
    name : str
        Short description for reprs and logs (never a secret).
    live : bool
        True when requests reach real Ontraport data (False for the sandbox).
    """

    name: str
    live: bool

    def send(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: Any = None,
        timeout: float | None = None,
    ) -> Response:
        """Send one request; ``path`` is relative to the API base (``"Contacts"``)."""
        ...

    def close(self) -> None:
        """Release what the transport holds."""
        ...


def display_url(url: str) -> str:
    """``url`` without its user info (``http://user:secret@host/1/`` -> ``http://host/1/``).

    Every URL the toolkit shows (reprs, ``df.attrs``, journal headers, log lines) goes
    through this: a credential written into a base URL must not travel any further.
    A URL that cannot be parsed is shown as ``<unparsable URL>``.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "<unparsable URL>"
    if "@" not in parts.netloc:
        return url
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None else f"{host}:{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def is_loopback(url: str) -> bool:
    """True when ``url`` points at this machine (``localhost``, ``127.0.0.0/8``, ``::1``), user info or not."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return False
    if not host:
        return False
    host = host.rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@runtime_checkable
class HostedActions(Protocol):
    """What a backend with hosted actions offers (Membrane): the transport's ``hosted`` attribute.

    The session hands it to the writer and the action catalog (``session.hosted``), so
    no module above ``transports/`` needs to know the concrete backend.
    """

    last_action_run_id: str | None

    def run(self, key: str, input: Mapping[str, Any] | None = None, *, timeout: float | None = None) -> Any:
        """Run an action by key (resolved to its id); return its output."""
        ...

    def list_actions(self, intent: str | None = None) -> list[dict[str, Any]]:
        """The actions the connection offers (items with ``id``, ``key``, ``name``, schemas)."""
        ...

    def uses_actions(self, key: str) -> bool:
        """Whether pushes write through this action (False: through REST)."""
        ...

    def check(self, key: str, fields: Any = (), *, tags: bool = False, many: bool = False) -> None:
        """Raise before anything is sent when the action's schema has no place for these fields."""
        ...

    def update(self, record_id: int, fields: Mapping[str, Any]) -> None: ...

    def upsert(self, fields: Mapping[str, Any]) -> int: ...

    def add_tags(self, ids: Any, tag: str) -> None: ...

    def delete(self, record_id: int) -> None: ...


@dataclass(frozen=True)
class RateLimitInfo:
    """The ``X-Rate-Limit-*`` headers of one response."""

    limit: int | None
    remaining: int | None
    reset: float | None


def _num(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def rate_limit_info(headers: Mapping[str, str]) -> RateLimitInfo | None:
    """Read the rate-limit headers (case-insensitively); None when absent."""
    h = {k.lower(): v for k, v in headers.items()}
    limit, remaining, reset = (
        _num(h.get("x-rate-limit-limit")),
        _num(h.get("x-rate-limit-remaining")),
        _num(h.get("x-rate-limit-reset")),
    )
    if limit is None and remaining is None and reset is None:
        return None
    return RateLimitInfo(
        None if limit is None else int(limit), None if remaining is None else int(remaining), reset
    )


_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    422: InvalidValueError,
    429: RateLimitError,
}

_HINTS: dict[int, str] = {
    401: " Check the App ID and API key (ONTRAPORT_APP_ID / ONTRAPORT_API_KEY).",
    403: " The key's user may lack permission, or the object type does not allow this verb.",
    429: " The rate limit is spent.",
}


def raise_for_status(response: Response, *, method: str, path: str) -> Response:
    """Raise the matching :class:`APIError` for a non-2xx response; return it otherwise."""
    status = response.status
    if 200 <= status < 300:
        return response
    body = response.text.strip()
    short = body[:300]
    message = f"{method} {path} -> HTTP {status}: {short or '(empty body)'}{_HINTS.get(status, '')}"
    kwargs: dict[str, Any] = {
        "status": status,
        "body": body,
        "headers": response.headers,
        "method": method,
        "path": path,
    }
    if status == 429:
        info = rate_limit_info(response.headers)
        reset = info.reset if info and info.reset is not None else 60.0
        raise RateLimitError(message + f" Resets in {reset:g} s.", reset_after=max(0.0, reset), **kwargs)
    if status == 400 and body.lower().startswith("invalid query"):
        raise InvalidQueryError(message, **kwargs)
    if status >= 500:
        raise ServerError(message, **kwargs)
    cls = _BY_STATUS.get(status, APIError)
    raise cls(message, **kwargs)
