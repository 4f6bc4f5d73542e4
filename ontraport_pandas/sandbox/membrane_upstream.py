"""The simulator's upstream: the sandbox app behind a Membrane connection, and one request into it.

Both routes of the membrane simulator reach Ontraport (here, the sandbox) the same way: ``membrane
request`` in-process (:mod:`~ontraport_pandas.sandbox.membrane`) and the HTTP proxy route
(:mod:`~ontraport_pandas.sandbox.membrane_proxy`). The sandbox package is imported on first use, so
the simulator's commands that never reach it start without pandas.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from .membrane_state import SimState

__all__ = ["Proxied", "proxy_request", "sandbox_app"]


def sandbox_app(state: SimState) -> Any:
    """The sandbox WSGI app over the simulator's sandbox file, with the state's seed, size, limit and latency."""
    from . import SandboxConfig, create_app

    s = state.settings()
    return create_app(
        SandboxConfig(
            seed=int(s["seed"]),
            contacts=int(s["contacts"]),
            path=str(state.sandbox_path),
            rate_limit=None if s["rate_limit"] is None else int(s["rate_limit"]),
            rate_window=float(s["rate_window"]),
            latency=float(s["latency"]),
        )
    )


@dataclass
class Proxied:
    """An upstream answer as the proxy relays it: status, headers and body unchanged."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def body_value(self) -> Any:
        text = self.body.decode("utf-8", errors="replace")
        if "json" in (self.header("content-type") or ""):
            try:
                return json.loads(text)
            except ValueError:
                pass
        return text


def proxy_request(
    app: Any,
    creds: tuple[str, str],
    method: str,
    path: str,
    query: Sequence[tuple[str, str]],
    body: bytes | None = None,
    content_type: str | None = None,
    headers: Sequence[tuple[str, str]] = (),
    *,
    versioned: bool = True,
) -> Proxied:
    """One request into the sandbox WSGI app, as Membrane's proxy would send it to Ontraport.

    ``versioned``: the connector's base URL ends in ``/1`` (else paths arrive exactly as given).
    """
    from . import DroppedConnection

    environ: dict[str, Any] = {
        "REQUEST_METHOD": method.upper(),
        "SCRIPT_NAME": "",
        "PATH_INFO": ("/1/" if versioned else "/") + path.lstrip("/"),
        "QUERY_STRING": urlencode(list(query)),
        "SERVER_NAME": "api.ontraport.com",
        "SERVER_PORT": "443",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "https",
        "wsgi.input": io.BytesIO(body or b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": True,
        "CONTENT_LENGTH": str(len(body or b"")),
        "HTTP_ACCEPT": "application/json",
    }
    if content_type:
        environ["CONTENT_TYPE"] = content_type
    for k, v in headers:
        environ["HTTP_" + k.strip().upper().replace("-", "_")] = v.strip()
    # The connection's credentials go last: a caller cannot override them.
    environ["HTTP_API_APPID"], environ["HTTP_API_KEY"] = creds
    captured: dict[str, Any] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        captured["status"] = int(status.split()[0])
        captured["headers"] = list(response_headers)
        return lambda data: None

    try:
        chunks = app(environ, start_response)
        try:
            payload = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
    except DroppedConnection:
        return Proxied(
            502, [("Content-Type", "text/plain")], b"Bad Gateway: the remote server closed the connection"
        )
    return Proxied(captured["status"], captured["headers"], payload)
