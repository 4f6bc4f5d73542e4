"""The HTTP transport: httpx to the Ontraport REST API, or into the sandbox's WSGI app.

The same class serves three ways:

* the real API at ``https://api.ontraport.com/1/`` with ``Api-Appid`` / ``Api-Key``;
* a sandbox served on loopback (``ontraport-pandas sandbox serve``);
* the embedded sandbox in-process, through :func:`sandbox_transport`, which puts
  ``httpx.WSGITransport`` under the same client, so the sandbox exercises the very
  code path used against the real API.

Failures of the connection itself (refused, dropped, timed out) are mapped here,
in :meth:`HTTPTransport.send`; answers with an error status are mapped by
:func:`~ontraport_pandas.transports.base.raise_for_status` one layer up.
The API key lives only in the client's default headers: it never appears in a
repr, a log line or an error message, and an error we raise never leads back to it:
httpx's exception (whose ``.request`` carries the headers) is replaced by a copy
without the request, chained as ``__cause__``, with no ``__context__``. User info in
the base URL (``http://user:secret@host/1/``) is taken out of the URL and sent as
Basic auth, so it is in no URL that httpx logs or the toolkit shows.
"""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx

from ..errors import TransportError
from .base import Params, Response, display_url
from .httpx_errors import HTTPX_ERRORS, from_httpx

__all__ = ["DEFAULT_BASE_URL", "DEFAULT_TIMEOUT", "HTTPTransport", "sandbox_transport"]

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.ontraport.com/1/"
#: Ontraport support says answers can take up to 60 s (the official SDK's timeout).
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)


class HTTPTransport:
    """Send Ontraport REST requests with httpx.

    Parameters
    ----------
    app_id, api_key : str
        The credentials, sent as ``Api-Appid`` and ``Api-Key`` headers.
    base_url : str
        The API root, ending in ``/1/``.
    timeout : float or httpx.Timeout
        Per-request timeout.
    transport : httpx.BaseTransport, optional
        An httpx transport to send through (``httpx.MockTransport`` in tests,
        ``httpx.WSGITransport`` for the in-process sandbox).
    live : bool
        Whether this reaches real Ontraport data (shown as LIVE in previews).
    name : str, optional
        A label for reprs and logs.
    """

    def __init__(
        self,
        app_id: str,
        api_key: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
        live: bool = True,
        name: str | None = None,
        max_connections: int = 16,
    ) -> None:
        if not app_id or not api_key:
            from ..errors import ConfigurationError

            raise ConfigurationError(
                "Both an App ID and an API key are needed: pass app_id= and api_key=, or set "
                "ONTRAPORT_APP_ID and ONTRAPORT_API_KEY."
            )
        if not base_url.endswith("/"):
            base_url += "/"
        # User info in the URL becomes Basic auth, and the URL keeps no credential: it is what
        # httpx logs, puts in its errors, and what the toolkit shows.
        user, password = _userinfo(base_url)
        #: The API root, without user info.
        self.base_url = display_url(base_url)
        self.app_id = app_id
        self.live = live
        self.name = display_url(name) if name else f"Ontraport API at {self.base_url} (app {app_id})"
        self._secrets = tuple(v for v in (api_key, password) if v and len(v) >= 4)
        self._client = httpx.Client(
            base_url=self.base_url,
            headers={"Api-Appid": app_id, "Api-Key": api_key, "Accept": "application/json"},
            auth=None if user is None else httpx.BasicAuth(user, password or ""),
            timeout=timeout,
            transport=transport,
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"<HTTPTransport {self.base_url} app_id={self.app_id!r} live={self.live}>"

    def send(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: Any = None,
        timeout: float | None = None,
    ) -> Response:
        if self._client.is_closed:
            raise TransportError(
                f"{method} {path}: this connection was closed (op.close()); connect again.",
                method=method,
                path=path,
            )
        kwargs: dict[str, Any] = {"params": dict(params or {})}
        if json is not None:
            kwargs["json"] = json
        if timeout is not None:
            kwargs["timeout"] = timeout
        started = time.perf_counter()
        failure: TransportError | None = None
        cause: Exception | None = None
        try:
            r = self._client.request(method, path.lstrip("/"), **kwargs)
        except HTTPX_ERRORS as exc:
            failure, cause = from_httpx(exc, method, path, scrub=self._scrub)
        if failure is not None:
            # Raised outside the ``except`` blocks, so that neither ``__cause__`` nor
            # ``__context__`` leads back to httpx's request object and its Api-Key header.
            raise failure from cause
        logger.debug("%s %s -> %s in %.3fs", method, path, r.status_code, time.perf_counter() - started)
        return Response(r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.content)

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def close(self) -> None:
        self._client.close()


def _userinfo(url: str) -> tuple[str | None, str | None]:
    """The (percent-decoded) user and password of a URL, or ``(None, None)``."""
    try:
        parts = urlsplit(url)
        if "@" not in parts.netloc:
            return None, None
        user, password = parts.username, parts.password
    except ValueError:
        return None, None
    return unquote(user or ""), None if password is None else unquote(password)


class _SandboxWSGITransport(httpx.WSGITransport):
    """``httpx.WSGITransport`` that turns the sandbox's simulated dropped connection into httpx's own error."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        from ..sandbox import DroppedConnection

        try:
            return super().handle_request(request)
        except DroppedConnection as exc:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.") from exc


def sandbox_transport(app: Any, *, app_id: str, api_key: str, **kwargs: Any) -> HTTPTransport:
    """An :class:`HTTPTransport` that sends into a sandbox WSGI app in-process (no socket)."""
    return HTTPTransport(
        app_id,
        api_key,
        base_url="http://sandbox.invalid/1/",
        transport=_SandboxWSGITransport(app=app),
        live=False,
        name="Sandbox (demo data, in-process)",
        **kwargs,
    )
