"""Run the Membrane CLI: one checked argv per call, bounded concurrency, killed on timeout.

The executable is ``command=`` (a string split with :func:`shlex.split`, or a list),
else the environment variable ``ONTRAPORT_PANDAS_MEMBRANE`` (``npx @membranehq/cli``,
or ``python -m ontraport_pandas.sandbox.membrane`` for the simulator), else
``membrane``. Before first use its ``--help`` must list both ``action`` and
``request``: another product (membrane.agency) also installs a ``membrane`` command
(membrane-cli.md §0).

Every call is an argv list (never a shell), with stdin closed, in its own process
group, killed with that group when the timeout passes. Nothing secret is ever in
argv: Membrane keeps the credentials, and the token of ``membrane token --json`` is
read from stdout and never logged. What the CLI prints is read by
:mod:`~ontraport_pandas.transports.membrane_errors`.
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
from typing import Any

from ..errors import (
    ConfigurationError,
    ConnectionFailed,
    MembraneSetupError,
    ProtocolError,
    RequestTimeout,
    TransportError,
)
from .base import Response
from .membrane_errors import Context, as_error, failure, not_json

__all__ = [
    "DEFAULT_TIMEOUT",
    "ENV_COMMAND",
    "INSTALL_HINT",
    "MembraneCLI",
    "RawText",
    "flag",
    "positional",
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


#: A bearer token printed bare: a JWT (``xxx.yyy.zzz``) or an opaque token such as ``pat-…``.
_BARE_TOKEN = re.compile(r"[A-Za-z0-9._~+/=-]{16,4096}")


def flag(name: str, value: str) -> str:
    """One ``--name=value`` argv element.

    The CLI parses its argv with minimist (membrane-cli.md §1), where ``--name value``
    leaves the flag without a value when the value starts with a dash (a cursor such as
    ``-Ab3``, an intent such as ``-tags``) and reads the value as flags of its own. The
    ``=`` form carries any value, and every documented parser accepts it.
    """
    return f"--{name}={value}"


def positional(value: str, what: str) -> str:
    """A positional argument, refused when the CLI would read it as a flag (it starts with ``-``)."""
    if value.startswith("-"):
        raise ConfigurationError(
            f"The Membrane {what} {value!r} starts with '-', so the membrane CLI would read it as an "
            "option; Membrane's ids never do. Check the id (`membrane connection list --json`)."
        )
    return value


@dataclass(frozen=True)
class RawText:
    """What a ``request`` printed when it was not JSON (the body alone of a plain-text answer)."""

    text: str


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
        self._logged_in: bool | None = None
        self._logged_in_checked = False
        self._integrations: dict[str, set[str]] = {}

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
        rc, out, err = self._exec([*self.command[1:], "--help"], HELP_TIMEOUT, Context("help"))
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
    def _exec(self, args: Sequence[str], timeout: float, ctx: Context) -> tuple[int, bytes, bytes]:
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

    def run(self, args: Sequence[str], *, timeout: float | None = None, ctx: Context) -> Any:
        """Run ``<command> args…`` and return its stdout as JSON.

        For ``request`` calls the answer may also be a :class:`Response` (a proxied
        error the session maps like over HTTP) or :class:`RawText` (a body that is not
        JSON). Other failures raise what :func:`membrane_errors.failure` maps them to.
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
            mapped = failure(rc, out, err, ctx, logged_in=self.logged_in)
            if isinstance(mapped, Response):
                return mapped
            raise mapped
        text = out.decode("utf-8", errors="replace").strip()
        try:
            value = _json.loads(text)
        except ValueError:
            if ctx.what in ("request", "token"):
                return RawText(text)
            raise not_json(ctx, text) from None
        error = as_error(value, strict=True)
        if error is not None:
            mapped = failure(rc, out, err, ctx, error=error, logged_in=self.logged_in)
            if isinstance(mapped, Response):
                return mapped
            raise mapped
        return value

    def logged_in(self) -> bool | None:
        """Whether ``membrane status --json`` says the user is logged in (asked once; None: unknown)."""
        with self._count_lock:
            if self._logged_in_checked:
                return self._logged_in
            self._logged_in_checked = True
        result: bool | None = None
        try:
            rc, out, _err = self._exec(["status", "--json"], min(self.timeout, 30.0), Context("status"))
        except TransportError:
            rc, out = -1, b""
        if rc == 0:
            text = out.decode("utf-8", errors="replace")
            try:
                value = _json.loads(text)
            except ValueError:
                value = None
            if isinstance(value, dict):
                for key in ("loggedIn", "isLoggedIn", "authenticated", "logged_in"):
                    if isinstance(value.get(key), bool):
                        result = bool(value[key])
                        break
                else:
                    if value.get("user") or value.get("token") or value.get("accessToken"):
                        result = True
            elif re.search(r"not logged in", text, re.IGNORECASE):
                result = False
        with self._count_lock:
            self._logged_in = result
        return result

    def token(self) -> dict[str, Any] | None:
        """A fresh token from ``membrane token --json``: ``{"token", "expires_at"}``, or None if none is given.

        Accepted answers: ``{token|accessToken|access_token|jwt, expiresAt|expires_at|exp|expiresIn}``,
        a JSON string, or the bare token on one line (then the expiry is the JWT's ``exp``).
        The token is never logged; a CLI without the command (or logged out) gives None.
        """
        try:
            value = self.run(["token", "--json"], ctx=Context("token"))
        except (MembraneSetupError, TransportError):
            return None
        token: Any = value
        expires: Any = None
        if isinstance(value, RawText):
            # The bare token on one line (a CLI that prints the JWT it minted even with --json);
            # anything else is not taken, and never shown.
            text = value.text.strip()
            token = text if _BARE_TOKEN.fullmatch(text) else None
        if isinstance(value, dict):
            token = next(
                (value[k] for k in ("token", "accessToken", "access_token", "jwt") if value.get(k)), None
            )
            expires = next(
                (value[k] for k in ("expiresAt", "expires_at", "exp") if value.get(k) is not None), None
            )
            if expires is None and value.get("expiresIn") is not None:
                try:
                    expires = time.time() + float(value["expiresIn"])
                except (TypeError, ValueError):
                    expires = None
        if not isinstance(token, str) or not token.strip():
            return None
        return {"token": token.strip(), "expires_at": _epoch(expires) or _jwt_exp(token)}

    def credentials(self) -> dict[str, Any]:
        """``membrane credentials --json`` (the API URI and the workspace/tenant keys), or {} if unavailable."""
        try:
            value = self.run(["credentials", "--json"], ctx=Context("credentials"))
        except (MembraneSetupError, TransportError):
            return {}
        return dict(value) if isinstance(value, dict) else {}

    def integration_ids(self, search: str) -> set[str]:
        """Ids of the integrations ``membrane integration list --search <search> --json`` finds (cached)."""
        with self._count_lock:
            cached = self._integrations.get(search)
        if cached is not None:
            return cached
        found: set[str] = set()
        try:
            items = self.list_items(
                ["integration", "list", flag("search", search)], ctx=Context("integrations")
            )
        except (MembraneSetupError, TransportError):
            items = []
        for item in items:
            text = " ".join(str(item.get(k) or "") for k in ("key", "name", "appUri", "baseUri")).lower()
            if search.lower() in text and item.get("id"):
                found.add(str(item["id"]))
        with self._count_lock:
            self._integrations[search] = found
        return found

    def list_items(
        self, args: Sequence[str], *, ctx: Context, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Run a list command; accept ``{items, cursor}`` (following the cursor) or a bare list."""
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            page_args = [*args, "--json"] + ([flag("cursor", cursor)] if cursor else [])
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
        return self.list_items(["connection", "list"], ctx=Context("connections"))

    def get_connection(self, connection_id: str) -> dict[str, Any]:
        """One connection record (``membrane connection get <id> --json``)."""
        value = self.run(
            ["connection", "get", positional(connection_id, "connection id"), "--json"],
            ctx=Context("connection", connection_id=connection_id),
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


def _epoch(value: Any) -> float | None:
    """Seconds since the epoch from a number (seconds or milliseconds) or an ISO 8601 string."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value) / (1000.0 if value > 1e11 else 1.0)
    if isinstance(value, str):
        try:
            return _epoch(float(value))
        except ValueError:
            pass
        import datetime as _dt

        try:
            parsed = _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=_dt.timezone.utc)
        return parsed.timestamp()
    return None


def _jwt_exp(token: str) -> float | None:
    """The ``exp`` claim of a JWT (read, not verified: only to refresh in time)."""
    import base64

    parts = token.split(".")
    if len(parts) != 3 or token.startswith("pat-"):
        return None
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = _json.loads(base64.urlsafe_b64decode(payload.encode("ascii")))
    except (ValueError, UnicodeDecodeError):
        return None
    return _epoch(claims.get("exp")) if isinstance(claims, dict) else None
