"""Serving the sandbox over HTTP on loopback: a threaded ``wsgiref`` server.

- One daemon thread per connection (``ThreadingMixIn``), so a slow request never blocks
  another; the accept loop runs in a background thread started by :func:`serve`.
- Quiet: request lines and handler errors go to ``logging.getLogger(__name__)`` at debug
  level, never to stderr.
- When the app raises :class:`~ontraport_pandas.sandbox.app.DroppedConnection`, the
  connection is closed without a single response byte (the client sees a disconnect).
- Connections are kept alive (HTTP/1.1): a client sends request after request on one
  connection, so an unthrottled benchmark measures the client, not TCP set-up. The server
  closes a connection after a dropped answer, a refusal with unread body, a response
  without a known length, ``Connection: close``, an HTTP/1.0 request without
  ``Connection: keep-alive``, or ``read_timeout`` seconds of silence.
- ``port=0`` picks a free port; ``url`` then names the real one. The server name is the
  host as given (no reverse DNS look-up at start).
- The served app is closed on shutdown only if :func:`serve` created it.
- Every socket read (request line, headers, body) times out after the app's
  ``read_timeout``: a client that announces more body than it sends gets 408 and its
  thread is freed. A request line over 64 KiB is 414, more than 100 header lines 431
  (the standard library's limits), both as plain text. A blank ``Content-Length``, or
  several that disagree, is invalid (400), never read as "no body". After a refusal that left body bytes unread, the
  server reads (and drops) at most 1 MiB of them for at most one second before closing,
  so the client sees the answer rather than a reset connection.
"""

from __future__ import annotations

import logging
import signal
import socketserver
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any, TypeVar, cast
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer

from .app import DroppedConnection, SandboxApp, create_app
from .config import SandboxConfig

__all__ = ["ServedApp", "ServedSandbox", "serve"]

_S = TypeVar("_S", bound="ServedApp")

log = logging.getLogger(__name__)


class _NullStream:
    def write(self, text: str) -> int:
        if text.strip():
            log.debug("wsgiref: %s", text.rstrip())
        return len(text)

    def flush(self) -> None:
        pass


#: Answers after which the connection is closed (a refused body may be left unread).
_CLOSING = ("400", "408", "411", "413")


class _ServerHandler(ServerHandler):
    request_handler: WSGIRequestHandler
    #: What the answer was, kept past ``close()`` (which forgets the status and headers).
    final_status: str = ""
    had_length: bool = False

    def cleanup_headers(self) -> None:
        super().cleanup_headers()
        headers = getattr(self, "headers", None)
        status = str(getattr(self, "status", "") or "")
        closing = self.request_handler.close_connection  # the client asked (or HTTP/1.0)
        if headers is not None and (
            closing or status.startswith(_CLOSING) or "Content-Length" not in headers
        ):
            headers["Connection"] = "close"  # the client must not send another request on it

    def close(self) -> None:
        headers = getattr(self, "headers", None)
        self.final_status = str(getattr(self, "status", "") or "")
        self.had_length = headers is not None and "Content-Length" in headers
        super().close()

    def handle_error(self) -> None:
        if isinstance(sys.exc_info()[1], DroppedConnection):
            self.request_handler.close_connection = True
            return  # nothing written: the socket is closed without a response
        super().handle_error()

    def log_exception(self, exc_info: Any) -> None:
        log.debug("sandbox app error", exc_info=exc_info)


class _RequestHandler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive unless the client or the answer says otherwise
    error_message_format = "%(message)s"
    error_content_type = "text/plain;charset=UTF-8"

    def get_environ(self) -> dict[str, Any]:
        environ = super().get_environ()
        lengths = self.headers.get_all("Content-Length") or []
        if lengths:
            # wsgiref drops a blank Content-Length and keeps the first of several: both are invalid
            values = {value.strip() for value in lengths}
            environ["CONTENT_LENGTH"] = values.pop() if len(values) == 1 and "" not in values else "invalid"
        return environ

    def setup(self) -> None:
        app = self.server.get_app()  # type: ignore[attr-defined]
        super().setup()
        self.connection.settimeout(getattr(getattr(app, "config", None), "read_timeout", 10.0))

    def _drain(self) -> None:
        """Drop what is left of a refused body, briefly, so the client can read the answer."""
        try:
            self.connection.settimeout(0.2)
            deadline = time.monotonic() + 1.0
            left = 1024 * 1024
            while left > 0 and time.monotonic() < deadline:
                chunk = self.connection.recv(min(left, 65536))
                if not chunk:
                    break
                left -= len(chunk)
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature of the base class
        log.debug("%s - %s", self.address_string(), format % args)

    def get_stderr(self) -> Any:
        return _NullStream()

    def handle(self) -> None:
        self.close_connection = True
        self.handle_one_request()
        while not self.close_connection:
            self.handle_one_request()

    def handle_one_request(self) -> None:
        try:
            self.raw_requestline = self.rfile.readline(65537)
        except OSError:  # an idle kept-alive connection timed out, or the client went away
            self.close_connection = True
            return
        if not self.raw_requestline:  # the client closed the connection
            self.close_connection = True
            return
        if len(self.raw_requestline) > 65536:
            self.requestline = ""
            self.request_version = ""
            self.command = ""
            self.send_error(414)
            return
        if not self.parse_request():
            return
        stdin, stdout = cast(IO[bytes], self.rfile), cast(IO[bytes], self.wfile)
        handler = _ServerHandler(stdin, stdout, self.get_stderr(), self.get_environ(), multithread=True)
        handler.request_handler = self
        handler.http_version = "1.1" if self.request_version == "HTTP/1.1" else "1.0"
        handler.run(self.server.get_app())  # type: ignore[attr-defined]
        if not handler.had_length:
            self.close_connection = True  # no length: the end of the body is the end of the connection
        if handler.final_status.startswith(_CLOSING):
            self.close_connection = True
            self.wfile.flush()
            self._drain()


class _ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True

    def server_bind(self) -> None:
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)
        self.setup_environ()

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("connection error from %s", client_address, exc_info=True)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


@contextmanager
def _stop_signals() -> Iterator[None]:
    """SIGINT and SIGTERM raise KeyboardInterrupt in the main thread while the block runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    names = [name for name in ("SIGINT", "SIGTERM") if hasattr(signal, name)]
    kept = {name: signal.signal(getattr(signal, name), _interrupt) for name in names}
    try:
        yield
    finally:
        for name, handler in kept.items():
            signal.signal(getattr(signal, name), handler)


class ServedApp:
    """A WSGI app served on loopback by the keep-alive handler above, in a background thread.

    The shared life cycle of :class:`ServedSandbox` and the membrane simulator's proxy
    route: start at once, :meth:`shutdown` (idempotent; closes the socket, joins the
    thread, then :meth:`_closed_down`), :meth:`serve_forever`, and use as a context manager.
    """

    def __init__(self, app: Any, host: str, port: int, *, thread_name: str) -> None:
        self.app = app
        self._server = _ThreadingServer((host, port), _RequestHandler)
        self._server.set_app(app)
        self._closed = threading.Event()
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=thread_name,
            daemon=True,
        )
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def serving(self) -> bool:
        return not self._closed.is_set()

    def shutdown(self) -> None:
        """Stop serving and close the socket (then what :meth:`_closed_down` adds)."""
        if self._closed.is_set():
            return
        self._closed.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        self._closed_down()

    def _closed_down(self) -> None:
        """What a subclass releases once the server has stopped."""

    def serve_forever(self) -> None:
        """Block until :meth:`shutdown` is called, or Ctrl-C or ``SIGTERM`` shuts it down.

        In the main thread both signals are taken for the time of the call (the earlier
        handlers come back after), also when the process started with SIGINT ignored, as a
        shell does for a background job.
        """
        with _stop_signals():
            try:
                while not self._closed.wait(0.5):
                    pass
            except KeyboardInterrupt:
                self.shutdown()

    def __enter__(self: _S) -> _S:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()


class ServedSandbox(ServedApp):
    """A sandbox served over HTTP in a background thread; use as a context manager.

    Attributes
    ----------
    url
        Base URL of the API, e.g. ``"http://127.0.0.1:8765/1/"``.
    app
        The served :class:`SandboxApp` (for ``inject_faults``, ``request_log`` …).
    """

    app: SandboxApp

    def __init__(self, app: SandboxApp, host: str, port: int, *, owns_app: bool) -> None:
        self._owns_app = owns_app
        super().__init__(app, host, port, thread_name="ontraport-sandbox")
        shown = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown}:{self.port}/1/"
        log.debug("sandbox serving at %s", self.url)

    def _closed_down(self) -> None:
        if self._owns_app:  # the app is closed only if serve() created it
            self.app.close()

    def __repr__(self) -> str:
        return f"<ServedSandbox {self.url} {'serving' if self.serving else 'stopped'}>"


def serve(
    config_or_app: SandboxConfig | SandboxApp | None = None, *, host: str = "127.0.0.1", port: int = 8765
) -> ServedSandbox:
    """Serve a sandbox over HTTP in a background thread; returns at once.

    Examples
    --------
    >>> with serve(SandboxConfig(contacts=20), port=0) as served:
    ...     served.url.startswith("http://127.0.0.1:")
    True
    """
    if isinstance(config_or_app, SandboxApp):
        return ServedSandbox(config_or_app, host, port, owns_app=False)
    return ServedSandbox(create_app(config_or_app), host, port, owns_app=True)
