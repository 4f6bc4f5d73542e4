"""The Membrane transport: Ontraport through the Membrane CLI (the only module that runs subprocesses).

Membrane (getmembrane.com) holds the Ontraport credentials of a *connection*; its
CLI proxies REST requests (``membrane request <connection> <path> …``) and runs
hosted actions (``membrane action run <key> …``). This module wraps both:

* :class:`MembraneTransport` implements the :class:`~ontraport_pandas.transports.base.Transport`
  protocol over ``membrane request … --json``, so the session's rate limiting,
  retries and error mapping work as over HTTP (a proxied 429 comes back as status
  429 with the ``X-Rate-Limit-*`` headers and is waited out);
* :meth:`MembraneTransport.run_action` / :meth:`MembraneTransport.list_actions` run and
  list hosted actions;
* :func:`list_connections`, :func:`get_connection`, :func:`connections_frame` read the
  connections; :func:`connect_membrane` builds a client (``opd.connect(membrane=…)``).

The executable is ``command=`` (a string split with :func:`shlex.split`, or a list),
else the environment variable ``ONTRAPORT_PANDAS_MEMBRANE`` (``npx @membranehq/cli``,
or ``python -m ontraport_pandas.sandbox.membrane`` for the simulator), else
``membrane``. Before first use its ``--help`` must list both ``action`` and
``request``: another product (membrane.agency) also installs a ``membrane`` command.

Every call is an argv list (never a shell), with stdin closed, in its own process
group, killed with that group when the timeout passes. Nothing secret is ever in
argv: Membrane keeps the credentials. Calls from many threads are bounded by a
semaphore of ``max_concurrency``.

CLI output shapes are documented only loosely (membrane-cli.md §3, §7); every
documented variant is accepted: ``{status, headers, body}`` or the body alone from
``request``; ``{output, actionRunId}`` or the output alone from ``action run``;
``{items, cursor}`` (cursor followed) or a bare list from the list commands. Failures
are mapped in one place, :func:`_failure`, on exit codes and the error JSON's
``type`` / ``key`` (``{type, key, message, data}`` as the Membrane API sends it, on
stdout or stderr), never on message text.
"""

from __future__ import annotations

import errno
import json as _json
import logging
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ontraport_pandas.errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ConnectionFailed,
    MembraneSetupError,
    NotFoundError,
    PermissionDeniedError,
    ProtocolError,
    RateLimitError,
    RequestTimeout,
    ServerError,
    TransportError,
)

from .base import Params, Response

if TYPE_CHECKING:
    import pandas as pd

    from ontraport_pandas.client import Ontraport

__all__ = [
    "ENV_COMMAND",
    "INSTALL_HINT",
    "LOGIN_HINT",
    "MembraneCLI",
    "MembraneTransport",
    "connect_membrane",
    "connections_frame",
    "get_connection",
    "list_connections",
    "resolve_command",
]

logger = logging.getLogger(__name__)

#: Environment variable naming the membrane executable (a command line, split like a shell would).
ENV_COMMAND = "ONTRAPORT_PANDAS_MEMBRANE"
DEFAULT_TIMEOUT = 60.0
#: ``--help`` may be slow the first time (``npx`` downloads the package).
HELP_TIMEOUT = 120.0

INSTALL_HINT = (
    "Install the Membrane CLI with `npm install -g @membranehq/cli@latest`, or tell ontraport-pandas how "
    "to run it: set ONTRAPORT_PANDAS_MEMBRANE (for example `npx @membranehq/cli`) or pass "
    "membrane_command= (e.g. opd.connect(membrane=..., membrane_command='npx @membranehq/cli'))."
)
LOGIN_HINT = (
    "Log in with `membrane login --tenant`. Without a browser: run `membrane login --non-interactive`, "
    "open the URL it prints, then run `membrane login complete <code>` with the code you get."
)
NOT_READY_STATES = frozenset(
    {
        "BUILDING",
        "CLIENT_ACTION_REQUIRED",
        "CONFIGURATION_ERROR",
        "SETUP_FAILED",
        "DISCONNECTING",
        "DISCONNECTED",
    }
)

# Error JSON (Membrane API): key -> status, type -> status (membrane-cli.md §4).
_KEY_STATUS = {
    "not_authenticated": 401,
    "access_denied": 403,
    "not_found": 404,
    "already_exists": 409,
    "rate_limit_exceeded": 429,
}
#: The error ``type`` values of the Membrane API; an exit-0 answer is an error only with one of these.
ERROR_TYPES = frozenset(
    {
        "bad_request",
        "connection",
        "configuration",
        "dependency_error",
        "flow_run",
        "flow_instance_setup",
        "concurrency",
        "internal",
        "action_run",
        "action_instance_setup",
        "unit_run",
        "custom_code",
        "insufficient_credit",
        "openrouter_not_configured",
    }
)
_TYPE_STATUS = {"internal": 500, "dependency_error": 502, "concurrency": 409, "insufficient_credit": 402}
_STATUS_CLASS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
}


def _connect_hint(connection_id: str | None) -> str:
    cid = connection_id or "<connection id>"
    return f"Finish or repair the connection with `membrane connect --connectionId {cid}` (do not create a new one)."


def resolve_command(command: str | Sequence[str] | None = None) -> list[str]:
    """The membrane command line: ``command``, else ``$ONTRAPORT_PANDAS_MEMBRANE``, else ``membrane``."""
    if command is None:
        command = os.environ.get(ENV_COMMAND) or "membrane"
    if isinstance(command, str):
        parts = shlex.split(command, posix=os.name != "nt")
    else:
        parts = [os.fspath(c) for c in command]
    if not parts or not parts[0]:
        raise MembraneSetupError(f"The membrane command is empty. {INSTALL_HINT}")
    return parts


@dataclass(frozen=True)
class CLIInfo:
    """What ``<command> --help`` told about the program."""

    command: tuple[str, ...]
    help: str
    simulator: bool


_HELP_CACHE: dict[tuple[str, ...], CLIInfo] = {}
_HELP_LOCK = threading.Lock()


@dataclass(frozen=True)
class _Context:
    """What a CLI call was for, so that failures can say exactly what to run."""

    what: str  # "request", "action", "actions", "connections", "connection", "help"
    connection_id: str | None = None
    action: str | None = None
    method: str | None = None
    path: str | None = None


class MembraneCLI:
    """Run one membrane command line: checks it, bounds concurrency, kills on timeout, maps failures.

    Parameters
    ----------
    command : str or list of str, optional
        The executable (see :func:`resolve_command`).
    timeout : float
        Seconds one call may take before its process group is killed.
    max_concurrency : int
        Calls running at once (from any number of threads).
    env : mapping, optional
        Variables added to the environment of every call.
    """

    def __init__(
        self,
        command: str | Sequence[str] | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_concurrency: int = 8,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.command = resolve_command(command)
        self.timeout = float(timeout)
        self.env = dict(env) if env else None
        self.max_concurrency = max(1, int(max_concurrency))
        self._slots = threading.BoundedSemaphore(self.max_concurrency)
        self._count_lock = threading.Lock()
        self.calls = 0

    def __repr__(self) -> str:
        return f"<MembraneCLI {shlex.join(self.command)!r}>"

    # -- the program ----------------------------------------------------------------
    def _argv0(self) -> str:
        exe = self.command[0]
        path = (self.env or {}).get("PATH") or os.environ.get("PATH")
        found = shutil.which(exe, path=path)
        if found is None:
            where = "was not found" if os.sep not in exe and "/" not in exe else "is not an executable file"
            raise MembraneSetupError(f"The membrane command {exe!r} {where}. {INSTALL_HINT}")
        return found

    def info(self) -> CLIInfo:
        """Check (once per command line) that the program is Membrane's integration CLI."""
        key = tuple(self.command)
        with _HELP_LOCK:
            cached = _HELP_CACHE.get(key)
        if cached is not None:
            return cached
        rc, out, err = self._exec([*self.command[1:], "--help"], HELP_TIMEOUT, _Context("help"))
        text = (out + b"\n" + err).decode("utf-8", errors="replace")
        if rc < 0:
            raise ConnectionFailed(f"`{shlex.join([*self.command, '--help'])}` was killed by signal {-rc}.")
        if not (re.search(r"\baction\b", text) and re.search(r"\brequest\b", text)):
            raise MembraneSetupError(self._not_the_cli(rc, text))
        info = CLIInfo(key, text, simulator="simulator" in text.lower())
        with _HELP_LOCK:
            _HELP_CACHE[key] = info
        return info

    def _not_the_cli(self, rc: int, text: str) -> str:
        """Why ``--help`` did not look like the integration CLI, naming the executable that ran."""
        found = self._argv0()
        ran = f"`{shlex.join(self.command)}` (executable: {found})"
        said = " ".join(text.split())[:200]
        if rc != 0:
            message = f"{ran} failed: `--help` exited with code {rc} and said {said!r}."
            if "No module named" in text and "python" in os.path.basename(found).lower():
                message += (
                    f" That Python cannot import the module; run it with the interpreter of the "
                    f"environment where ontraport-pandas is installed, e.g. {sys.executable!r}."
                )
            return f"{message} {INSTALL_HINT}"
        return (
            f"{ran} is not Membrane's integration CLI: its --help lists no `action` and `request` "
            f"commands (it said: {said!r}). Another product (membrane.agency) also installs a "
            f"command called `membrane`. {INSTALL_HINT}"
        )

    # -- running ----------------------------------------------------------------------
    def _exec(self, args: Sequence[str], timeout: float, ctx: _Context) -> tuple[int, bytes, bytes]:
        argv = [self._argv0(), *self.command[1:], *args]
        env = None
        if self.env:
            env = {**os.environ, **self.env}
        posix = os.name == "posix"
        with self._slots:
            with self._count_lock:
                self.calls += 1
            started = time.perf_counter()
            try:
                proc = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    env=env,
                    start_new_session=posix,
                )
            except FileNotFoundError as exc:
                raise MembraneSetupError(
                    f"The membrane command {self.command[0]!r} was not found. {INSTALL_HINT}"
                ) from exc
            except PermissionError as exc:
                raise MembraneSetupError(
                    f"The membrane command {argv[0]!r} cannot be run (permission denied). {INSTALL_HINT}"
                ) from exc
            except OSError as exc:
                if exc.errno == errno.E2BIG:
                    raise TransportError(
                        "The request is too large to pass to the membrane CLI on its command line; "
                        "send fewer records per request.",
                        method=ctx.method,
                        path=ctx.path,
                    ) from exc
                raise ConnectionFailed(
                    f"Could not start {argv[0]!r}: {exc}", method=ctx.method, path=ctx.path
                ) from exc
            try:
                out, err = proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired as exc:
                _kill_group(proc)
                raise RequestTimeout(
                    f"`membrane {_describe(args)}` gave no answer within {timeout:g} s and was stopped. "
                    "Raise the timeout (opd.connect(membrane=..., timeout=...)) if the API is slow.",
                    method=ctx.method,
                    path=ctx.path,
                ) from exc
            except BaseException:
                _kill_group(proc)
                raise
            logger.debug(
                "membrane %s -> exit %s in %.3fs",
                _describe(args),
                proc.returncode,
                time.perf_counter() - started,
            )
            return proc.returncode, out, err

    def run(self, args: Sequence[str], *, timeout: float | None = None, ctx: _Context) -> Any:
        """Run ``<command> args…`` and return its stdout as JSON (or a :class:`Response` for proxied errors).

        Raises the exception that :func:`_failure` maps a failure to.
        """
        self.info()
        rc, out, err = self._exec(args, self.timeout if timeout is None else timeout, ctx)
        if rc < 0 or rc >= 0xC0000000:  # killed by a signal (POSIX) or crashed (Windows NTSTATUS)
            name = _signal_name(-rc) if rc < 0 else hex(rc)
            raise ConnectionFailed(
                f"`membrane {_describe(args)}` crashed (killed by {name}) without an answer. "
                f"Run it in a terminal to see why: {shlex.join([*self.command, *args])}",
                method=ctx.method,
                path=ctx.path,
            )
        if rc != 0:
            failure = _failure(rc, out, err, ctx)
            if isinstance(failure, Response):
                return failure
            raise failure
        text = out.decode("utf-8", errors="replace").strip()
        try:
            value = _json.loads(text)
        except ValueError:
            raise ProtocolError(
                f"`membrane {_describe(args)}` printed something that is not JSON: {text[:200]!r}. "
                "Check that the membrane CLI is up to date (`npm install -g @membranehq/cli@latest`).",
                method=ctx.method,
                path=ctx.path,
            ) from None
        error = _as_error(value, strict=True)
        if error is not None:
            failure = _failure(rc, out, err, ctx, error=error)
            if isinstance(failure, Response):
                return failure
            raise failure
        return value

    def list_items(
        self, args: Sequence[str], *, ctx: _Context, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Run a list command; accept ``{items, cursor}`` (following the cursor) or a bare list."""
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            page_args = [*args, "--json"] + (["--cursor", cursor] if cursor else [])
            value = self.run(page_args, ctx=ctx)
            if isinstance(value, list):
                items.extend(value)
                return items
            if not isinstance(value, dict) or not isinstance(value.get("items"), list):
                raise ProtocolError(f"`membrane {_describe(args)}` returned {str(value)[:200]!r}, not a list")
            items.extend(value["items"])
            cursor = value.get("cursor")
            if not cursor or cursor in seen or (limit is not None and len(items) >= limit):
                return items
            seen.add(str(cursor))
            cursor = str(cursor)

    # -- connections ------------------------------------------------------------------
    def list_connections(self) -> list[dict[str, Any]]:
        """Every connection of the logged-in tenant (``membrane connection list --json``)."""
        return self.list_items(["connection", "list"], ctx=_Context("connections"))

    def get_connection(self, connection_id: str) -> dict[str, Any]:
        """One connection record (``membrane connection get <id> --json``)."""
        value = self.run(
            ["connection", "get", connection_id, "--json"],
            ctx=_Context("connection", connection_id=connection_id),
        )
        if isinstance(value, dict) and isinstance(value.get("connection"), dict):
            value = value["connection"]
        if not isinstance(value, dict) or "id" not in value:
            raise ProtocolError(f"`membrane connection get {connection_id}` returned {str(value)[:200]!r}")
        return value


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Kill the child and everything it started (its process group), then reap it."""
    try:
        if os.name == "posix":
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
    except (ProcessLookupError, PermissionError, OSError):
        pass
    try:
        proc.communicate(timeout=5)
    except (subprocess.TimeoutExpired, ValueError, OSError):
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
        proc.wait()


def _signal_name(num: int) -> str:
    try:
        return signal.Signals(num).name
    except ValueError:
        return f"signal {num}"


def _describe(args: Sequence[str]) -> str:
    """The command words of a call, for messages (no JSON payloads)."""
    words: list[str] = []
    for a in args:
        if a.startswith("-"):
            break
        words.append(a)
    return " ".join(words[:4])


# ------------------------------------------------------------------------------- failures


def _parse_json_object(text: str) -> dict[str, Any] | None:
    text = text.strip()
    if not text:
        return None
    candidates = [text] + [line for line in reversed(text.splitlines()) if line.strip().startswith("{")]
    for candidate in candidates:
        try:
            value = _json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None


def _as_error(value: Any, *, strict: bool = False) -> dict[str, Any] | None:
    """The error object in a CLI answer, or None when the answer is not an error.

    ``strict`` (for answers of a call that exited 0) accepts only the documented error types.
    """
    if not isinstance(value, dict):
        return None
    inner = value.get("error")
    if isinstance(inner, dict) and ("message" in inner or "type" in inner):
        merged = dict(inner)
        merged.setdefault("actionRunId", value.get("actionRunId"))
        return merged
    if isinstance(inner, str) and "message" in value and "status" not in value:
        return {"key": inner, "message": value.get("message"), "data": value.get("data")}
    type_ = value.get("type")
    if isinstance(type_, str) and "message" in value and "output" not in value and "status" not in value:
        if not strict or type_ in ERROR_TYPES:
            return value
    return None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _seconds(value: Any) -> float | None:
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return None


def _headers(raw: Any) -> dict[str, str]:
    if not isinstance(raw, Mapping):
        return {}
    out: dict[str, str] = {}
    for k, v in raw.items():
        if isinstance(v, (list, tuple)):
            v = ", ".join(str(x) for x in v)
        out[str(k).lower()] = "" if v is None else str(v)
    return out


def _body_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    return _json.dumps(body, separators=(",", ":")).encode("utf-8")


def _proxied_response(value: Any) -> Response | None:
    """A ``{status, headers, body}`` object (possibly nested as ``response``) as a :class:`Response`."""
    if not isinstance(value, Mapping):
        return None
    if isinstance(value.get("response"), Mapping):
        return _proxied_response(value["response"])
    status = _int(value.get("status", value.get("statusCode")))
    if status is None or not 100 <= status <= 599:
        return None
    if not any(k in value for k in ("body", "headers", "data")):
        return None
    body = value["body"] if "body" in value else value.get("data")
    return Response(status, _headers(value.get("headers")), _body_bytes(body))


def _failure(
    rc: int, out: bytes, err: bytes, ctx: _Context, *, error: dict[str, Any] | None = None
) -> Exception | Response:
    """Map one failed CLI call to an exception (or, for a proxied HTTP answer, a :class:`Response`).

    The one place where CLI failures meet the exception tree. Decisions use the exit
    code and the error JSON's ``type`` / ``key`` / ``data``, never the message text.
    """
    out_text = out.decode("utf-8", errors="replace").strip()
    err_text = err.decode("utf-8", errors="replace").strip()
    if error is None:
        error = _as_error(_parse_json_object(out_text)) or _as_error(_parse_json_object(err_text))
    cid = ctx.connection_id
    where = {"method": ctx.method, "path": ctx.path}
    command = {
        "request": "request",
        "action": "action run",
        "actions": "action list",
        "connections": "connection list",
        "connection": "connection get",
    }.get(ctx.what, ctx.what)
    if error is None and ctx.what == "request":
        # A CLI that exits non-zero for a non-2xx proxied answer but still prints {status, headers, body}.
        proxied = _proxied_response(_parse_json_object(out_text))
        if proxied is not None:
            return proxied
    if error is None:
        text = err_text or out_text or "(no output)"
        return TransportError(
            f"`membrane {command}` failed with exit code {rc}: {text[:500]}",
            **where,
        )

    type_ = str(error.get("type") or "")
    key = str(error.get("key") or error.get("code") or "")
    message = str(error.get("message") or err_text or out_text or f"exit code {rc}")
    data = error.get("data") if isinstance(error.get("data"), Mapping) else {}
    assert isinstance(data, Mapping)
    run_id = error.get("actionRunId") or data.get("actionRunId")
    status = _int(error.get("status")) or _int(data.get("status"))
    state = str(data.get("state") or data.get("connectionState") or "")
    run_note = (
        f" (action run {run_id}; details: `membrane action-run-log get {run_id} --details --json`)"
        if run_id
        else ""
    )

    # 1. the CLI is not logged in
    if key == "not_authenticated" or (status == 401 and type_ not in ("action_run", "connection")):
        return MembraneSetupError(f"The membrane CLI is not logged in ({message}). {LOGIN_HINT}")
    if status == 401:  # Ontraport refused the App ID / API key that the connection holds
        return _refused_credentials(cid, message)
    # 2. the connection needs the user (not READY, defunct, expired token)
    if key != "rate_limit_exceeded" and (
        state in NOT_READY_STATES
        or key in ("connection_is_defunct", "access_token_expired", "connection_not_ready")
        or type_ == "connection"
    ):
        shown = f" (state {state})" if state else ""
        return MembraneSetupError(
            f"Membrane connection {cid or '?'} is not ready{shown}: {message}. {_connect_hint(cid)}"
        )
    # 3. a proxied HTTP answer carried inside the error: let the session map it like over HTTP
    if ctx.what == "request":
        proxied = _proxied_response(data) or _proxied_response(error)
        if proxied is not None:
            return proxied
        if key == "rate_limit_exceeded":
            return Response(429, _headers(data.get("headers")), message.encode("utf-8"))
    # 4. an unknown action or connection (the selector failed, not a run)
    if key == "not_found" and type_ != "action_run":
        if ctx.what == "action" and data.get("elementType") != "connection":
            return NotFoundError(
                f"Membrane has no action {ctx.action!r} on connection {cid}: {message}. List the actions this "
                f"connection offers with `membrane action list --connectionId {cid} --json` (or op.actions()).",
                status=404,
                body=message,
                method="ACTION",
                path=ctx.action,
            )
        if cid:
            return MembraneSetupError(
                f"There is no Membrane connection {cid!r} ({message}). List yours with "
                "`membrane connection list --json`, or create one with `membrane search ontraport "
                "--elementType=connector --json` and `membrane connect --connectorId <id> --json`."
            )
    # 5. any other error answer
    if status is None:
        status = _KEY_STATUS.get(key) or _TYPE_STATUS.get(type_) or 400
    label = "/".join(p for p in (type_, key) if p) or "error"
    text = f"`membrane {command}` failed ({label}): {message}{run_note}"
    if ctx.what == "action" and ctx.action:
        text = f"Action {ctx.action!r} on connection {cid} failed ({label}): {message}{run_note}"
    kwargs: dict[str, Any] = {
        "status": status,
        "body": message,
        "method": ctx.method or ("ACTION" if ctx.what == "action" else None),
        "path": ctx.path or ctx.action,
    }
    if status == 429:
        reset = _seconds(data.get("resetAfter"))
        if reset is None:
            reset = _seconds(_headers(data.get("headers")).get("x-rate-limit-reset"))
        reset = 60.0 if reset is None else reset
        return RateLimitError(text + f" Resets in {reset:g} s.", reset_after=reset, **kwargs)
    if status >= 500:
        return ServerError(text, **kwargs)
    return _STATUS_CLASS.get(status, APIError)(text, **kwargs)


def _refused_credentials(connection_id: str | None, detail: str) -> MembraneSetupError:
    cid = connection_id or "<connection id>"
    return MembraneSetupError(
        f"Ontraport refused the App ID / API key held by Membrane connection {cid} ({detail.strip()[:200]}). "
        f"Re-enter them with `membrane connect --connectionId {cid}`."
    )


def _checked(response: Response, ctx: _Context) -> Response:
    """A proxied answer, unless it means the connection's Ontraport credentials were refused (401)."""
    if response.status == 401:
        raise _refused_credentials(ctx.connection_id, f"HTTP 401: {response.text}")
    return response


# ------------------------------------------------------------------------------- transport


class MembraneTransport:
    """Send Ontraport REST requests through ``membrane request`` (the CLI's proxy).

    Parameters
    ----------
    connection_id : str
        The Membrane connection to Ontraport.
    command : str or list of str, optional
        The membrane executable (see :func:`resolve_command`).
    timeout : float
        Seconds one CLI call may take; then its process group is killed (RequestTimeout).
    max_concurrency : int
        CLI calls running at once.
    live : bool
        Whether this reaches real Ontraport data (False for the simulator).
    name : str, optional
        A label for reprs and logs.
    env : mapping, optional
        Extra environment variables for the CLI (the simulator's ``MEMBRANE_SIM_HOME`` in tests).
    path_prefix : str
        Put before every path (``"/1"`` if the connector's base URL lacks the API version).
    cli : MembraneCLI, optional
        Share an already checked CLI runner.
    """

    def __init__(
        self,
        connection_id: str,
        *,
        command: str | Sequence[str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_concurrency: int = 8,
        live: bool = True,
        name: str | None = None,
        env: Mapping[str, str] | None = None,
        path_prefix: str = "",
        cli: MembraneCLI | None = None,
    ) -> None:
        if not connection_id or not isinstance(connection_id, str):
            raise ConfigurationError(
                "A Membrane connection id is needed (see `membrane connection list --json`)."
            )
        self.cli = cli or MembraneCLI(command, timeout=timeout, max_concurrency=max_concurrency, env=env)
        self.connection_id = connection_id
        self.live = live
        self.name = name or f"Membrane connection {connection_id}"
        self.path_prefix = "/" + path_prefix.strip("/") if path_prefix.strip("/") else ""
        self.last_action_run_id: str | None = None

    def __repr__(self) -> str:
        return f"<MembraneTransport {self.connection_id!r} via {shlex.join(self.cli.command)!r} live={self.live}>"

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
        args = ["request", self.connection_id, f"{self.path_prefix}/{path.lstrip('/')}", "-X", method]
        for k, v in (params or {}).items():
            args += ["--query", f"{k}={v}"]
        if json is not None:
            args += ["-d", _json.dumps(json, separators=(",", ":"))]
        args.append("--json")
        ctx = _Context("request", connection_id=self.connection_id, method=method, path=path)
        value = self.cli.run(args, timeout=timeout, ctx=ctx)
        if isinstance(value, Response):
            return _checked(value, ctx)
        proxied = _proxied_response(value)
        if proxied is not None:
            return _checked(proxied, ctx)
        # The body alone (the other documented meaning of --json): a success answer.
        return Response(200, {}, _body_bytes(value))

    def run_action(
        self,
        key: str,
        input: Mapping[str, Any] | None = None,
        *,
        connection_id: str | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Run a hosted action (``membrane action run <key> --connectionId … --input … --json``); return its output."""
        cid = connection_id or self.connection_id
        args = [
            "action",
            "run",
            key,
            "--connectionId",
            cid,
            "--input",
            _json.dumps(dict(input or {})),
            "--json",
        ]
        value = self.cli.run(args, timeout=timeout, ctx=_Context("action", connection_id=cid, action=key))
        if isinstance(value, Response):  # pragma: no cover - only request contexts return responses
            raise ProtocolError(f"action {key}: unexpected proxied answer")
        if isinstance(value, dict) and "output" in value:
            self.last_action_run_id = value.get("actionRunId")
            return value["output"]
        self.last_action_run_id = None
        return value

    def list_actions(
        self, intent: str | None = None, *, connection_id: str | None = None
    ) -> list[dict[str, Any]]:
        """The actions the connection offers (``membrane action list --connectionId … [--intent …] --json``)."""
        cid = connection_id or self.connection_id
        args = ["action", "list", "--connectionId", cid]
        if intent:
            args += ["--intent", intent]
        return self.cli.list_items(args, ctx=_Context("actions", connection_id=cid))

    def list_connections(self) -> list[dict[str, Any]]:
        return self.cli.list_connections()

    def get_connection(self, connection_id: str | None = None) -> dict[str, Any]:
        return self.cli.get_connection(connection_id or self.connection_id)

    def close(self) -> None:
        """Nothing to release: every call is its own process."""


# ------------------------------------------------------------------------------- connections


def _state(conn: Mapping[str, Any]) -> str:
    state = conn.get("state")
    if state:
        return str(state)
    if conn.get("isDefunct") or conn.get("disconnected") or conn.get("connected") is False:
        return "DISCONNECTED"
    return "READY"


def _integration(conn: Mapping[str, Any]) -> str:
    integ = conn.get("integration")
    if isinstance(integ, Mapping):
        for k in ("name", "key"):
            if integ.get(k):
                return str(integ[k])
    for k in ("integrationKey", "integrationName", "connectorKey", "externalAppKey"):
        if conn.get(k):
            return str(conn[k])
    return ""


def _is_ontraport(conn: Mapping[str, Any]) -> bool:
    integ = conn.get("integration")
    texts = [_integration(conn), str(conn.get("name") or "")]
    if isinstance(integ, Mapping):
        texts += [str(integ.get("key") or ""), str(integ.get("name") or "")]
    texts.append(str(conn.get("integrationKey") or ""))
    return any("ontraport" in t.lower() for t in texts)


def _listing(conns: Sequence[Mapping[str, Any]]) -> str:
    if not conns:
        return "  (none)"
    return "\n".join(
        f"  - {c.get('id')}  {c.get('name') or ''!s}  [{_state(c)}]  {_integration(c)}".rstrip()
        for c in conns
    )


def list_connections(
    command: str | Sequence[str] | None = None, *, env: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    """Every Membrane connection of the logged-in tenant, as dicts (``membrane connection list --json``)."""
    return MembraneCLI(command, env=env).list_connections()


def get_connection(
    connection_id: str, command: str | Sequence[str] | None = None, *, env: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """One Membrane connection record (``membrane connection get <id> --json``)."""
    return MembraneCLI(command, env=env).get_connection(connection_id)


def connections_frame(
    command: str | Sequence[str] | None = None, *, env: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """The Membrane connections as a DataFrame: id, name, state, integration, created, updated.

    This is ``opd.connections()``.
    """
    import pandas as pd

    rows = [
        {
            "id": c.get("id"),
            "name": c.get("name"),
            "state": _state(c),
            "integration": _integration(c),
            "created": c.get("createdAt"),
            "updated": c.get("updatedAt"),
        }
        for c in list_connections(command, env=env)
    ]
    frame = pd.DataFrame(rows, columns=["id", "name", "state", "integration", "created", "updated"])
    for col in ("created", "updated"):
        frame[col] = pd.to_datetime(frame[col], utc=True, errors="coerce", format="ISO8601")
    return frame


def connect_membrane(
    connection: str | bool,
    *,
    command: str | Sequence[str] | None = None,
    timeout: float | None = None,
    max_workers: int = 8,
    env: Mapping[str, str] | None = None,
) -> Ontraport:
    """A client that reaches Ontraport through a Membrane connection (``opd.connect(membrane=…)``).

    Parameters
    ----------
    connection : str or True
        A connection id, or True for the only READY connection to Ontraport.
    command : str or list of str, optional
        The membrane executable (default ``$ONTRAPORT_PANDAS_MEMBRANE`` or ``membrane``).
    timeout : float, optional
        Seconds one CLI call may take (default 60).
    max_workers : int
        Requests in flight at once (also the CLI calls running at once).
    env : mapping, optional
        Extra environment variables for the CLI.

    Raises
    ------
    MembraneSetupError
        The CLI is missing, is another program, is not logged in; the connection does not
        exist, is not READY or is not an Ontraport connection; or ``True`` matched none or
        several connections. The message says what to run.
    """
    from ontraport_pandas.client import Ontraport

    cli = MembraneCLI(
        command, timeout=DEFAULT_TIMEOUT if timeout is None else timeout, max_concurrency=max_workers, env=env
    )
    info = cli.info()
    if connection is True:
        conns = cli.list_connections()
        ontraport = [c for c in conns if _is_ontraport(c)]
        ready = [c for c in ontraport if _state(c) == "READY"]
        if len(ready) != 1:
            if not ontraport:
                fix = (
                    "Create one with `membrane search ontraport --elementType=connector --json`, then "
                    "`membrane connect --connectorId <id> --json`."
                )
                problem = "no Membrane connection to Ontraport"
            elif not ready:
                fix = _connect_hint(str(ontraport[0].get("id")))
                problem = "no READY Membrane connection to Ontraport"
            else:
                fix = "Pick one: opd.connect(membrane='<connection id>')."
                problem = f"{len(ready)} READY Membrane connections to Ontraport"
            raise MembraneSetupError(f"There is {problem}. {fix}\nConnections:\n{_listing(conns)}")
        conn = ready[0]
    elif isinstance(connection, str) and connection.strip():
        conn = cli.get_connection(connection.strip())
        if not _is_ontraport(conn) and _integration(conn):
            raise MembraneSetupError(
                f"Membrane connection {conn.get('id')} is a {_integration(conn)} connection, not Ontraport. "
                "Find yours with `membrane connection list --json` (or opd.connections())."
            )
    else:
        raise ConfigurationError(
            f"membrane= takes a connection id or True, not {connection!r}; list them with opd.connections()."
        )
    cid = str(conn["id"])
    state = _state(conn)
    if state != "READY":
        raise MembraneSetupError(
            f"Membrane connection {cid} is not ready (state {state}). {_connect_hint(cid)}"
        )
    label = _integration(conn) or "Ontraport"
    if label.lower() == "ontraport":
        label = "Ontraport"
    transport = MembraneTransport(
        cid,
        cli=cli,
        live=not info.simulator,
        name=f"Membrane connection {cid} ({label}{', simulator' if info.simulator else ''})",
    )
    return Ontraport(transport, max_workers=max_workers)
