"""The direct proxy route of a Membrane connection, over httpx (no process per request).

The vendor documents ``{METHOD} {api}/connections/{connection}/proxy/{path}``, which
"returns the same status code, headers, and body that the underlying application's
API returns" (membrane-cli.md §4, §8; SDK SOURCE for the route, DOC for the promise).
Requests carry:

* ``Authorization: Bearer <token>``, the token from ``membrane token --json`` (DOC,
  integration-developer skill). It is refreshed before its expiry (``expiresAt`` /
  ``expiresIn`` of the answer, else the JWT's ``exp``), and once after a 401 that
  comes from Membrane (a JSON error body, or a ``WWW-Authenticate: Bearer`` header);
  a 401 with Ontraport's plain-text body means the connection's App ID / API key were
  refused. The token never appears in logs, reprs or error messages;
* ``membrane-api-version: 2025-10-21`` (the SDK's ``LATEST_API_VERSION``, SOURCE).

The API URI is ``MEMBRANE_API_URI`` (SDK, SOURCE) or ``MEMBRANE_API_URL`` (skills,
DOC) from ``env=`` or the environment, else ``apiUri`` of ``membrane credentials
--json`` (DOC), else ``https://api.getmembrane.com``. Membrane-side errors (a JSON
``{type, key, message}`` body) are mapped like the CLI's
(:mod:`~ontraport_pandas.transports.membrane_errors`); Ontraport's answers, rate-limit
headers included, pass through to the session unchanged.
"""

from __future__ import annotations

import json as _json
import logging
import os
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

from ..errors import MembraneSetupError, ProtocolError, TransportError
from .base import Params, Response
from .httpx_errors import HTTPX_ERRORS, from_httpx
from .membrane_actions import describe
from .membrane_errors import LOGIN_HINT, Context, as_error, failure, refused_credentials

if TYPE_CHECKING:
    from .membrane_actions import HostedActions
    from .membrane_cli import MembraneCLI

__all__ = ["API_VERSION", "DEFAULT_API_URI", "MembraneProxyTransport", "TokenSource"]

logger = logging.getLogger(__name__)

API_VERSION = "2025-10-21"
DEFAULT_API_URI = "https://api.getmembrane.com"
#: Refresh a token this many seconds before it expires.
REFRESH_MARGIN = 60.0


class TokenSource:
    """Tokens from ``membrane token --json``, refreshed before expiry or on demand. Never shown."""

    def __init__(self, cli: MembraneCLI, *, clock: Any = time.time) -> None:
        self._cli = cli
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at: float | None = None
        self._tried = False
        self.refreshes = 0

    def __repr__(self) -> str:
        return f"<TokenSource {'set' if self._token else 'empty'}>"

    def available(self) -> bool:
        """Whether a token can be had (asks the CLI once)."""
        try:
            return bool(self.get())
        except MembraneSetupError:
            return False

    def get(self) -> str:
        with self._lock:
            fresh = self._token is not None and (
                self._expires_at is None or self._clock() < self._expires_at - REFRESH_MARGIN
            )
            if fresh:
                assert self._token is not None
                return self._token
            return self._fetch()

    def refresh(self, stale: str | None = None) -> str:
        """A new token, unless another thread already replaced ``stale``."""
        with self._lock:
            if stale is not None and self._token is not None and self._token != stale:
                return self._token
            return self._fetch()

    def _fetch(self) -> str:
        got = self._cli.token()
        self._tried = True
        if got is None:
            self._token = None
            raise MembraneSetupError(f"`membrane token --json` gave no token. {LOGIN_HINT}")
        self.refreshes += 1
        self._token = str(got["token"])
        self._expires_at = got.get("expires_at")
        return self._token


class MembraneProxyTransport:
    """Ontraport REST requests through the connection's Membrane proxy route, over httpx.

    Parameters
    ----------
    connection_id : str
        The Membrane connection.
    api_uri : str
        The Membrane API root (see :meth:`api_uri`).
    tokens : TokenSource
        Where bearer tokens come from.
    timeout : float
        Seconds per request.
    hosted : HostedActions, optional
        The connection's hosted actions (they run through the CLI).
    transport : httpx.BaseTransport, optional
        For tests: an ``httpx.MockTransport``.
    """

    mode = "proxy"

    def __init__(
        self,
        connection_id: str,
        *,
        api_uri: str,
        tokens: TokenSource,
        timeout: float = 60.0,
        max_connections: int = 16,
        live: bool = True,
        name: str | None = None,
        path_prefix: str = "",
        hosted: HostedActions | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.connection_id = connection_id
        self.api_uri: str = api_uri.rstrip("/")
        self.live = live
        self.name = name or f"Membrane connection {connection_id}"
        self.path_prefix = "/" + path_prefix.strip("/") if path_prefix.strip("/") else ""
        self.hosted = hosted
        self.dialect = "response"
        self.note: str | None = None
        self._tokens = tokens
        self._client = httpx.Client(
            timeout=timeout,
            transport=transport,
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            headers={"membrane-api-version": API_VERSION, "accept": "application/json"},
        )

    def __repr__(self) -> str:
        return f"<MembraneProxyTransport {self.connection_id!r} at {self.api_uri!r} live={self.live}>"

    @staticmethod
    def find_api_uri(cli: MembraneCLI, env: Mapping[str, str] | None = None) -> str:
        """``MEMBRANE_API_URI`` / ``MEMBRANE_API_URL``, else ``membrane credentials --json``, else the default."""
        for source in (env or {}, os.environ):
            for name in ("MEMBRANE_API_URI", "MEMBRANE_API_URL"):
                if source.get(name):
                    return str(source[name])
        creds = cli.credentials()
        for name in ("apiUri", "apiUrl", "api_uri"):
            if creds.get(name):
                return str(creds[name])
        return DEFAULT_API_URI

    @property
    def backend(self) -> str:
        return describe(self)

    @property
    def last_action_run_id(self) -> str | None:
        return self.hosted.last_action_run_id if self.hosted is not None else None

    def _url(self, path: str) -> str:
        full = f"{self.path_prefix}/{path.lstrip('/')}".lstrip("/")
        return (
            f"{self.api_uri}/connections/{quote(self.connection_id, safe='')}/proxy/{quote(full, safe='/')}"
        )

    def send(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: Any = None,
        timeout: float | None = None,
    ) -> Response:
        method = method.upper()
        ctx = Context("request", connection_id=self.connection_id, method=method, path=path)
        content = None if json is None else _json.dumps(json, separators=(",", ":")).encode("utf-8")
        headers = {"content-type": "application/json"} if content is not None else {}
        token = self._tokens.get()
        for attempt in (1, 2):
            unsent: TransportError | None = None
            cause: Exception | None = None
            try:
                r = self._client.request(
                    method,
                    self._url(path),
                    params=dict(params or {}),
                    content=content,
                    headers={**headers, "authorization": f"Bearer {token}"},
                    timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
                )
            except HTTPX_ERRORS as exc:
                unsent, cause = from_httpx(
                    exc, method, path, via=f" through the Membrane proxy at {self.api_uri}"
                )
            if unsent is not None:  # raised outside the except block: no link back to httpx's request
                raise unsent from cause
            response = Response(r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.content)
            error = self._membrane_error(response)
            if r.status_code == 401 and (
                error is not None or "bearer" in response.headers.get("www-authenticate", "").lower()
            ):
                if attempt == 1:
                    logger.info("Membrane proxy answered 401: refreshing the token")
                    token = self._tokens.refresh(stale=token)
                    continue
                raise MembraneSetupError(
                    f"The Membrane API refused a fresh token from `membrane token --json` (HTTP 401). {LOGIN_HINT}"
                )
            if r.status_code == 401:
                raise refused_credentials(self.connection_id, f"HTTP 401: {response.text}")
            if error is not None and r.status_code < 500 and r.status_code != 429:
                mapped = failure(1, response.content, b"", ctx, error=error)
                if isinstance(mapped, Response):
                    return mapped
                raise mapped
            return response
        raise ProtocolError("unreachable")  # pragma: no cover

    @staticmethod
    def _membrane_error(response: Response) -> dict[str, Any] | None:
        """The Membrane error object of a non-2xx answer (Ontraport's own errors are plain text)."""
        if response.status < 400 or "json" not in response.headers.get("content-type", ""):
            return None
        try:
            value = _json.loads(response.content)
        except ValueError:
            return None
        error = as_error(value)
        if error is not None and isinstance(value, dict):
            error.setdefault("status", response.status)
        return error

    def close(self) -> None:
        self._client.close()
