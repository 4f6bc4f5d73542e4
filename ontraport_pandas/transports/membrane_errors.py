"""What the Membrane CLI prints, read in every dialect the evidence allows; failures mapped in one place.

The CLI's output and error conventions are documented only loosely and partly
contradict each other (membrane-cli.md §3, §4, §7, §8). This module accepts each
documented or inferred form and says which it rests on:

``membrane request … --json`` (:func:`request_response`)
    * ``{status, headers, body}`` (integrate-anything v1.5, DOC): the upstream answer;
    * the body alone (the Ontraport skill's meaning of ``--json``, DOC): a JSON
      envelope is a success unless its ``code`` is not 0 (then the code, when it is an
      HTTP status, else 400); a plain-text body is an Ontraport error body (Ontraport's
      errors are plain text, ontraport-api.md §3), its status read from the documented
      texts (``Invalid query`` 400, ``… do not authenticate`` 401, ``… rate limit`` 429,
      otherwise 400) — an INFERENCE, since the CLI then gives no status;
    * a plain-text CLI error carrying a status code (``Error: Request failed with
      status code 429``, the axios wording the Node CLI would print, INFERRED): that status.

Errors (:func:`failure`)
    * ``{type, key?, message, data?, causedByError?}`` (SDK ``ErrorDataSchema``, SOURCE)
      on stdout or stderr, also wrapped as ``{error: {…}}``;
    * ``{code, message}`` objects (``CONNECTION_DISCONNECTED`` seen in vendor code, DOC):
      the code is read as a lower-case ``key``;
    * ``{error: "<code>", message}`` (the membrane.agency tool, SOURCE): same;
    * plain text: a status code in it is used; otherwise, after a non-zero exit that
      matches nothing, ``membrane status --json`` is asked once whether the user is
      logged in (a logged-out CLI gives :class:`MembraneSetupError`, else the failure is a
      :class:`ConnectionFailed`: nothing says whether the request reached Ontraport, so
      reads retry and writes are treated as ambiguous).

Decisions use exit codes, HTTP statuses and the error JSON's ``type`` / ``key`` /
``code``; the only text read is a status code in a plain-text CLI error and the
documented Ontraport error bodies of the body-only dialect, where nothing else exists.
"""

from __future__ import annotations

import json as _json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ConnectionFailed,
    MembraneSetupError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    TransportError,
)
from .base import Response

__all__ = [
    "ERROR_TYPES",
    "LOGIN_HINT",
    "NOT_READY_KEYS",
    "NOT_READY_STATES",
    "Context",
    "as_error",
    "connect_hint",
    "failure",
    "parse_json_object",
    "proxied_response",
    "request_response",
]

LOGIN_HINT = (
    "Log in with `membrane login --tenant`. Without a browser: run `membrane login --non-interactive`, "
    "open the URL it prints, then run `membrane login complete <code>` with the code you get."
)
#: Connection states that need the user (SDK ``state`` values and the vendor UI's ``ERROR`` / ``DISCONNECTED``).
NOT_READY_STATES = frozenset(
    {
        "BUILDING",
        "CLIENT_ACTION_REQUIRED",
        "CONFIGURATION_ERROR",
        "SETUP_FAILED",
        "DISCONNECTING",
        "DISCONNECTED",
        "ERROR",
        "DEFUNCT",
        "ARCHIVED",
    }
)
#: Error keys / codes meaning the connection needs the user.
NOT_READY_KEYS = frozenset(
    {
        "connection_is_defunct",
        "access_token_expired",
        "connection_not_ready",
        "connection_disconnected",
        "connection_defunct",
    }
)
_LOGIN_KEYS = frozenset({"not_authenticated", "unauthenticated", "unauthorized", "not_logged_in"})
_KEY_STATUS = {
    "not_authenticated": 401,
    "access_denied": 403,
    "forbidden": 403,
    "not_found": 404,
    "already_exists": 409,
    "rate_limit_exceeded": 429,
    "too_many_requests": 429,
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
#: ``status code 429`` / ``status 429`` / ``HTTP 429`` in a plain-text CLI error.
_STATUS_IN_TEXT = re.compile(
    r"\b(?:status(?: code)?|HTTP(?:/\d(?:\.\d)?)?)[ :=]+([1-5]\d\d)\b", re.IGNORECASE
)
#: Ontraport's plain-text error bodies (ontraport-api.md §3) -> status, for the body-only dialect.
_ONTRAPORT_TEXTS: tuple[tuple[re.Pattern[str], int], ...] = (
    (re.compile(r"do not authenticate", re.IGNORECASE), 401),
    (re.compile(r"rate limit", re.IGNORECASE), 429),
    (re.compile(r"^\s*Object not found", re.IGNORECASE), 400),
    (re.compile(r"^\s*Invalid ", re.IGNORECASE), 400),
)


def connect_hint(connection_id: str | None) -> str:
    cid = connection_id or "<connection id>"
    return f"Finish or repair the connection with `membrane connect --connectionId {cid}` (do not create a new one)."


@dataclass(frozen=True)
class Context:
    """What a CLI call was for, so that failures can say exactly what to run."""

    what: str  # "request", "action", "actions", "connections", "connection", "help", "token", ...
    connection_id: str | None = None
    action: str | None = None
    method: str | None = None
    path: str | None = None

    @property
    def command(self) -> str:
        return {
            "request": "request",
            "action": "action run",
            "actions": "action list",
            "connections": "connection list",
            "connection": "connection get",
        }.get(self.what, self.what)


# ------------------------------------------------------------------------------- parsing


def parse_json_object(text: str) -> dict[str, Any] | None:
    """The JSON object in ``text`` (the whole text, else its last line that is one)."""
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


def as_error(value: Any, *, strict: bool = False) -> dict[str, Any] | None:
    """The error object in a CLI answer (normalised to ``type``/``key``/``message``/``data``), or None.

    ``strict`` (for answers of a call that exited 0) accepts only the documented error
    types and ``{code: "<UPPER_CASE>", message}`` objects.
    """
    if not isinstance(value, dict):
        return None
    inner = value.get("error")
    if isinstance(inner, dict) and ("message" in inner or "type" in inner or "code" in inner):
        merged = as_error(inner) or dict(inner)
        merged.setdefault("actionRunId", value.get("actionRunId"))
        return merged
    if isinstance(inner, str) and "message" in value and "status" not in value:
        return {"key": inner.lower(), "message": value.get("message"), "data": value.get("data")}
    type_ = value.get("type")
    if isinstance(type_, str) and "message" in value and "output" not in value and "status" not in value:
        if not strict or type_ in ERROR_TYPES:
            return value
    code = value.get("code")
    if isinstance(code, str) and re.fullmatch(r"[A-Za-z][A-Za-z0-9_.-]*", code) and "message" in value:
        # {code: "CONNECTION_DISCONNECTED", message}: never an Ontraport envelope (its code is a number).
        out = dict(value)
        key = code.lower().replace("-", "_").replace(".", "_")
        out.setdefault("key", key)
        if key in ERROR_TYPES:  # {code: "INTERNAL"}: the error type itself
            out.setdefault("type", key)
        return out
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


def body_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    return _json.dumps(body, separators=(",", ":")).encode("utf-8")


def proxied_response(value: Any) -> Response | None:
    """A ``{status, headers, body}`` object (possibly nested as ``response``) as a :class:`Response`."""
    if not isinstance(value, Mapping):
        return None
    if isinstance(value.get("response"), Mapping):
        return proxied_response(value["response"])
    status = _int(value.get("status", value.get("statusCode")))
    if status is None or not 100 <= status <= 599:
        return None
    if not any(k in value for k in ("body", "headers", "data")):
        return None
    body = value["body"] if "body" in value else value.get("data")
    return Response(status, _headers(value.get("headers")), body_bytes(body))


def status_in_text(text: str) -> int | None:
    """The HTTP status a plain-text CLI error names (``… status code 429``), if any."""
    match = _STATUS_IN_TEXT.search(text)
    return int(match.group(1)) if match else None


def _ontraport_text_status(text: str) -> int:
    for pattern, status in _ONTRAPORT_TEXTS:
        if pattern.search(text):
            return status
    return 400


def request_response(value: Any, raw: str) -> tuple[Response, str]:
    """The upstream answer in what ``membrane request`` printed (exit 0), and the dialect seen.

    ``value`` is the decoded JSON (``None`` when ``raw`` is not JSON). The dialect is
    ``"response"`` for ``{status, headers, body}`` and ``"body"`` for the body alone.
    """
    proxied = proxied_response(value)
    if proxied is not None:
        return proxied, "response"
    if value is None or isinstance(value, str):
        text = raw if value is None else value
        if text.strip().startswith("<"):
            return Response(502, {"content-type": "text/html"}, body_bytes(text)), "body"
        return Response(
            _ontraport_text_status(text), {"content-type": "text/plain"}, body_bytes(text)
        ), "body"
    if isinstance(value, dict) and "code" in value:
        code = _int(value.get("code"))
        if code not in (None, 0):
            status = code if code is not None and 400 <= code <= 599 else 400
            return Response(status, {"content-type": "application/json"}, body_bytes(value)), "body"
    return Response(200, {"content-type": "application/json"}, body_bytes(value)), "body"


# ------------------------------------------------------------------------------- failures


def refused_credentials(connection_id: str | None, detail: str) -> MembraneSetupError:
    cid = connection_id or "<connection id>"
    return MembraneSetupError(
        f"Ontraport refused the App ID / API key held by Membrane connection {cid} ({detail.strip()[:200]}). "
        f"Re-enter them with `membrane connect --connectionId {cid}`."
    )


def failure(
    rc: int,
    out: bytes,
    err: bytes,
    ctx: Context,
    *,
    error: dict[str, Any] | None = None,
    logged_in: Callable[[], bool | None] | None = None,
) -> Exception | Response:
    """Map one failed CLI call to an exception (or, for a proxied HTTP answer, a :class:`Response`).

    The one place where CLI failures meet the exception tree. ``logged_in`` is asked
    (once per CLI) only when a non-zero exit matches nothing else.
    """
    out_text = out.decode("utf-8", errors="replace").strip()
    err_text = err.decode("utf-8", errors="replace").strip()
    if error is None:
        error = as_error(parse_json_object(out_text)) or as_error(parse_json_object(err_text))
    where = {"method": ctx.method, "path": ctx.path}
    if error is None and ctx.what == "request":
        # A CLI that exits non-zero for a non-2xx proxied answer but still prints {status, headers, body}.
        proxied = proxied_response(parse_json_object(out_text))
        if proxied is not None:
            return proxied
    if error is None:
        status = status_in_text(err_text) or status_in_text(out_text)
        text = err_text or out_text or "(no output)"
        if status is not None:
            if status == 401 and logged_in is not None and logged_in() is False:
                # "status code 401" alone could be Membrane's or Ontraport's: the login state tells.
                return MembraneSetupError(f"The membrane CLI is not logged in ({text[:200]}). {LOGIN_HINT}")
            if ctx.what == "request":
                return Response(status, {"content-type": "text/plain"}, body_bytes(text))
            return _from_status(status, text, ctx, {})
        if ctx.what == "request" and out_text and not err_text and not out_text.startswith(("{", "[")):
            # The body alone of an upstream error, printed on stdout.
            return request_response(None, out_text)[0]
        if logged_in is not None and logged_in() is False:
            return MembraneSetupError(f"The membrane CLI is not logged in ({text[:200]}). {LOGIN_HINT}")
        return ConnectionFailed(
            f"`membrane {ctx.command}` failed with exit code {rc}: {text[:500]}",
            **where,
        )
    return _from_error(rc, error, out_text, err_text, ctx)


def _from_error(
    rc: int, error: dict[str, Any], out_text: str, err_text: str, ctx: Context
) -> Exception | Response:
    cid = ctx.connection_id
    type_ = str(error.get("type") or "")
    key = str(error.get("key") or error.get("code") or "").lower()
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
    if key in _LOGIN_KEYS or (status == 401 and type_ not in ("action_run", "connection")):
        return MembraneSetupError(f"The membrane CLI is not logged in ({message}). {LOGIN_HINT}")
    if status == 401:  # Ontraport refused the App ID / API key that the connection holds
        return refused_credentials(cid, message)
    # 2. the connection needs the user (not READY, disconnected, defunct, expired token)
    if key != "rate_limit_exceeded" and (
        state in NOT_READY_STATES or key in NOT_READY_KEYS or type_ == "connection"
    ):
        shown = f" (state {state})" if state else ""
        return MembraneSetupError(
            f"Membrane connection {cid or '?'} is not ready{shown}: {message}. {connect_hint(cid)}"
        )
    # 3. a proxied HTTP answer carried inside the error: let the session map it like over HTTP
    if ctx.what == "request":
        # The upstream answer nested in the error (SDK: data.response), or an error object that is
        # itself {status, headers, body}; a Membrane error's own ``data`` (details) is no answer.
        proxied = proxied_response(data)
        if proxied is None and ("body" in error or "headers" in error or "response" in error):
            proxied = proxied_response(error)
        if proxied is not None:
            return proxied
        guess = status or _KEY_STATUS.get(key) or _TYPE_STATUS.get(type_)
        if guess is not None and (guess >= 500 or guess == 429):
            # A rate limit or a Membrane-side failure of the proxy: the session waits or retries.
            headers = _headers(data.get("headers"))
            reset = _seconds(data.get("resetAfter"))
            if reset is not None:
                headers.setdefault("x-rate-limit-reset", f"{reset:g}")
            return Response(guess, headers, message.encode("utf-8"))
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
    text = f"`membrane {ctx.command}` failed ({label}): {message}{run_note}"
    if ctx.what == "action" and ctx.action:
        text = f"Action {ctx.action!r} on connection {cid} failed ({label}): {message}{run_note}"
    reset = _seconds(data.get("resetAfter"))
    if reset is None:
        reset = _seconds(_headers(data.get("headers")).get("x-rate-limit-reset"))
    return _from_status(status, text, ctx, {"reset": reset, "body": message})


def _from_status(status: int, text: str, ctx: Context, extra: Mapping[str, Any]) -> Exception:
    kwargs: dict[str, Any] = {
        "status": status,
        "body": extra.get("body", text),
        "method": ctx.method or ("ACTION" if ctx.what == "action" else None),
        "path": ctx.path or ctx.action,
    }
    if status == 429:
        reset = extra.get("reset")
        reset = 60.0 if reset is None else float(reset)
        return RateLimitError(text + f" Resets in {reset:g} s.", reset_after=reset, **kwargs)
    if status >= 500:
        return ServerError(text, **kwargs)
    if status == 401:
        return MembraneSetupError(f"The membrane CLI is not logged in ({text}). {LOGIN_HINT}")
    return _STATUS_CLASS.get(status, APIError)(text, **kwargs)


def not_json(ctx: Context, text: str) -> TransportError:
    from ..errors import ProtocolError

    return ProtocolError(
        f"`membrane {ctx.command}` printed something that is not JSON: {text[:200]!r}. "
        "Check that the membrane CLI is up to date (`npm install -g @membranehq/cli@latest`).",
        method=ctx.method,
        path=ctx.path,
    )
