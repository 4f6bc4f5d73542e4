"""The membrane simulator's HTTP proxy route: ``{METHOD} /connections/{id}/proxy/{path}`` on 127.0.0.1.

Membrane documents a proxy route per connection that returns the upstream status,
headers and body unchanged (membrane-cli.md §4, §8). This serves it over the
simulator's state: the ``Authorization: Bearer`` token must be one that ``membrane
token --json`` minted and not yet expired (else 401 with a Membrane error JSON and
``WWW-Authenticate: Bearer``); the connection must exist (404 JSON) and be ready (400
JSON, ``{code: CONNECTION_DISCONNECTED}`` for a disconnected one) and be an Ontraport
connection (else 400 ``{type: configuration}``, as ``membrane request`` answers); then the request
goes into the sandbox with the connection's stored Ontraport credentials. Failure
switches of kind ``request`` apply: ``rate-limit`` (a proxied 429 with headers),
``exit-nonzero-json-stdout`` (a 500 Membrane error), ``not-logged-in`` (401).

Start it with :func:`serve_proxy` (tests; a background thread) or ``python -m
ontraport_pandas.sandbox.membrane sim serve`` (foreground). While it runs, the
state's ``proxy_url`` setting points at it, so ``membrane credentials --json`` gives
that URL as ``apiUri``. It binds to 127.0.0.1 only.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

from .membrane_dialects import connection_view
from .membrane_state import SimState
from .membrane_upstream import Proxied, proxy_request, sandbox_app
from .server import ServedApp

__all__ = ["ServedProxy", "proxy_app", "serve_proxy"]

StartResponse = Callable[..., Any]


def _json_answer(
    start_response: StartResponse, status: int, payload: dict[str, Any], extra: Iterable[tuple[str, str]] = ()
) -> list[bytes]:
    reason = {400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 500: "Internal Server Error"}
    body = json.dumps(payload).encode("utf-8")
    start_response(
        f"{status} {reason.get(status, 'Error')}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(body))), *extra],
    )
    return [body]


def proxy_app(state: SimState) -> Callable[[dict[str, Any], StartResponse], list[bytes]]:
    """The WSGI app of the proxy route over ``state`` (one sandbox app, shared by every request)."""
    sandbox = sandbox_app(state)
    lock = threading.Lock()

    def app(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        parts = environ.get("PATH_INFO", "").lstrip("/").split("/", 3)
        if len(parts) < 3 or parts[0] != "connections" or parts[2] != "proxy":
            return _json_answer(
                start_response, 404, {"type": "bad_request", "key": "not_found", "message": "No such route"}
            )
        cid = unquote(parts[1])
        path = parts[3] if len(parts) > 3 else ""
        auth = str(environ.get("HTTP_AUTHORIZATION") or "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        mode = state.take_failure("request")
        if mode == "not-logged-in" or not token or not state.token_valid(token):
            return _json_answer(
                start_response,
                401,
                {"type": "bad_request", "key": "not_authenticated", "message": "Invalid or expired token"},
                [("WWW-Authenticate", 'Bearer realm="membrane"')],
            )
        record = state.connection(cid)
        if record is None:
            return _json_answer(
                start_response,
                404,
                {
                    "type": "bad_request",
                    "key": "not_found",
                    "message": f"Connection {cid} not found",
                    "data": {"elementType": "connection"},
                },
            )
        view = connection_view(state.dialects(), record)
        if view.get("disconnected"):
            return _json_answer(
                start_response,
                400,
                {"code": "CONNECTION_DISCONNECTED", "message": f"Connection {cid} is disconnected"},
            )
        if view.get("state") != "READY" or mode == "connection-not-ready":
            return _json_answer(
                start_response,
                400,
                {
                    "type": "connection",
                    "key": "connection_not_ready",
                    "message": f"Connection {cid} is not ready",
                    "data": {"state": view.get("state"), "connectionId": cid},
                },
            )
        if record.get("integrationKey") != "ontraport":
            # As `membrane request` does: the simulator holds an Ontraport sandbox only.
            return _json_answer(
                start_response,
                400,
                {
                    "type": "configuration",
                    "message": f"The simulator serves only Ontraport connections; {cid} is "
                    f"{record.get('integrationKey')}",
                    "data": {"connectionId": cid},
                },
            )
        if mode == "exit-nonzero-json-stdout":
            return _json_answer(
                start_response, 500, {"type": "internal", "message": "Simulated failure (500)"}
            )
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else None
        if mode == "rate-limit":
            r = Proxied(
                429,
                [
                    ("Content-Type", "text/plain"),
                    ("X-Rate-Limit-Limit", "180"),
                    ("X-Rate-Limit-Remaining", "0"),
                    ("X-Rate-Limit-Reset", "1"),
                ],
                b"You have exceeded your maximum rate limit of 180 requests per minute.",
            )
        else:
            with lock:
                creds = state.credentials(cid)
            r = proxy_request(
                sandbox,
                creds,
                environ["REQUEST_METHOD"],
                unquote(path),
                parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True),
                body,
                environ.get("CONTENT_TYPE") or None,
                versioned="base-without-v1" not in state.dialects(),
            )
        headers = [(k, v) for k, v in r.headers if k.lower() not in ("content-length", "connection")]
        start_response(f"{r.status} Proxied", [*headers, ("Content-Length", str(len(r.body)))])
        return [r.body]

    app.close = sandbox.close  # type: ignore[attr-defined]
    return app


class ServedProxy(ServedApp):
    """The proxy route served in a background thread on 127.0.0.1; use as a context manager."""

    def __init__(self, home: str | Path, port: int = 0) -> None:
        self.state = SimState(home)
        self.state.ensure()
        super().__init__(proxy_app(self.state), "127.0.0.1", port, thread_name="membrane-sim-proxy")
        self.url = f"http://127.0.0.1:{self.port}"
        self.state.update_settings(proxy_url=self.url)

    def _closed_down(self) -> None:
        """Close the sandbox behind the route and forget the URL in the state."""
        self.app.close()
        if self.state.settings().get("proxy_url") == self.url:
            self.state.update_settings(proxy_url=None)

    def __repr__(self) -> str:
        return f"<ServedProxy {self.url} {'serving' if self.serving else 'stopped'}>"


def serve_proxy(home: str | Path, *, port: int = 0) -> ServedProxy:
    """Serve the simulator's proxy route for the state in ``home``; returns at once."""
    return ServedProxy(home, port)
