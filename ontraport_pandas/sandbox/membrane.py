"""A ``membrane``-compatible command over the sandbox: ``python -m ontraport_pandas.sandbox.membrane``.

It lets tests and demos drive the Membrane backend's real subprocess path without a
Membrane account: point the toolkit at it with
``ONTRAPORT_PANDAS_MEMBRANE="python -m ontraport_pandas.sandbox.membrane"`` or
``opd.connect(membrane=True, membrane_command=[sys.executable, "-m", "ontraport_pandas.sandbox.membrane"])``.
It is never installed under the name ``membrane``.

It implements what the toolkit uses, with the output shapes of membrane-cli.md:
``--help``, ``login`` / ``logout`` / ``status``, ``connection list|get``,
``integration list``, ``search``, ``connect``, ``action list|get|run``, ``token``,
``credentials`` and ``request`` (which proxies into the sandbox's WSGI app
in-process, with the connection's stored demo credentials), and an HTTP proxy route
(:mod:`~ontraport_pandas.sandbox.membrane_proxy`). The vendor's evidence allows
several output forms; ``sim dialect <name>`` switches between them
(:data:`~ontraport_pandas.sandbox.membrane_state.DIALECTS`,
:mod:`~ontraport_pandas.sandbox.membrane_dialects`). In the ``standard`` dialect,
failures exit 1 and print the Membrane API's error JSON ``{type, key, message,
data}`` on stdout and one line on stderr (the inferred convention of membrane-cli.md §3).
Every command but ``sim`` first sleeps the ``startup`` setting (a Node CLI's start-up
cost, for benchmarks).

State (login, connections, failure switches, the sandbox file) persists in
``$MEMBRANE_SIM_HOME`` (default ``~/.ontraport-pandas/membrane-sim``) because every
call is a new process; the ``sim`` sub-commands administer it (see ``--help``).

Stdlib only (no pandas, no httpx): start-up stays fast.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

from .membrane_dialects import (
    action_items,
    connection_view,
    error_code,
    find_item,
    from_dialect_input,
    to_dialect_output,
)
from .membrane_proxy import serve_proxy
from .membrane_state import (
    CONNECTORS,
    DIALECTS,
    FAIL_MODES,
    HUBSPOT,
    KINDS,
    ONTRAPORT,
    SimState,
    connection_record,
    iso,
)
from .membrane_upstream import Proxied, proxy_request, sandbox_app

__all__ = ["HELP", "main"]

HELP = """\
membrane (ontraport-pandas membrane SIMULATOR) - a stand-in for Membrane's integration CLI
(@membranehq/cli) over the ontraport-pandas sandbox. Not the real Membrane: no account, no network.

Usage: python -m ontraport_pandas.sandbox.membrane <command> [options] [--json]

Commands:
  login [--tenant] [--non-interactive]     simulated login; `login complete <code>` finishes the headless flow
  logout                                   forget the simulated login
  status [--json]                          login state, API URI, simulator home
  connection list [--json] [--limit N] [--cursor C] [--integrationKey K] [--search S]
  connection get <id> [--json]             one connection
  integration list [--search S] [--json]   integrations (id, key, name)
  search <query> [--elementType=connector] [--json]
  connect --connectorId <id> [--name N] [--connectionId <id>] [--json]
                                           create a READY connection (or repair <connectionId>)
  action list --connectionId <id> [--intent "<words>"] [--limit N] [--cursor C] [--json]
  action get <actionId> [--json]           one action with its input schema
  action run <actionId> --connectionId <id> [--input '<json>'] [--json]
                                           run one of the Ontraport connector's actions (by id; by key
                                           too, except in the ids-only dialect)
  request <connectionId> <path> [-X METHOD] [--query k=v]... [-H "K: V"]... [-d '<body>'] [--rawData] [--json]
                                           proxy one Ontraport REST request (path relative to the
                                           connector's base URL); --json prints {status, headers, body},
                                           else the body alone
  token [--json]                           a bearer token for the proxy route (proxy dialect only)
  credentials [--json]                     the API URI and workspace keys (proxy dialect only)

Simulator administration:
  sim init [--contacts N] [--seed S] [--rate-limit N|none] [--rate-window SECONDS] [--latency SECONDS]
           [--page-size N] [--startup SECONDS] [--token-ttl SECONDS] [--logged-out]
                                           new sandbox and default state (prints the status)
  sim reset                                fresh demo data and connections, logged in, no failure switches
  sim fail <mode> [--times N | --forever] [--on KIND[,KIND]]
                                           make the next N matching calls fail; `sim fail clear` removes all
  sim dialect [NAME[,NAME...]]             show or set the output dialect(s) (persisted; see below)
  sim set [--startup S] [--token-ttl S] [--latency S]
                                           change settings, keeping the data
  sim revoke-tokens                        invalidate every token minted so far
  sim serve [--port N]                     serve the HTTP proxy route on 127.0.0.1 (foreground)
  sim status [--json]                      settings, connections, failure switches, dialects, paths

Failure modes: not-logged-in, connection-not-ready, unknown-action, exit-nonzero-json-stdout,
  exit-nonzero-json-stderr, exit-nonzero-text, malformed-output, crash (killed by a signal),
  hang (sleeps past any timeout), rate-limit (a proxied 429), body-only-output (the body alone),
  silent-no-op (an action run that changes nothing and names no record).
Call kinds for --on: request, action-run, action-list, connection-list, connection-get, search,
  connect, token.

Dialects: standard, body-only, text-errors, stderr-json, code-errors, ids-only, flat-inputs,
  nested-inputs, no-schemas, disconnected, no-integration-key, base-without-v1, proxy
  (`sim dialect` describes each).

State lives in $MEMBRANE_SIM_HOME (default ~/.ontraport-pandas/membrane-sim). Flags take
`--flag value` or `--flag=value`. Errors (standard dialect): exit 1, {type, key, message, data}
on stdout, one line on stderr.
"""

#: Flags that take no value.
BOOLEAN_FLAGS = frozenset(
    {
        "json",
        "tenant",
        "non-interactive",
        "wait",
        "rawData",
        "allowMultipleConnections",
        "help",
        "forever",
        "includeArchived",
        "details",
        "logged-out",
    }
)
SHORT_FLAGS = {"-X": "method", "-d": "data", "-H": "header", "-h": "help"}


# ------------------------------------------------------------------------------- argv


@dataclass
class Args:
    pos: list[str] = field(default_factory=list)
    opts: dict[str, list[Any]] = field(default_factory=dict)

    def get(self, name: str, default: Any = None) -> Any:
        values = self.opts.get(name)
        return values[-1] if values else default

    def all(self, name: str) -> list[Any]:
        return list(self.opts.get(name, []))

    def flag(self, name: str) -> bool:
        return bool(self.get(name, False))


def parse(argv: Sequence[str]) -> Args:
    """minimist-like: ``--flag value``, ``--flag=value``, boolean flags, short ``-X``/``-d``/``-H``, ``--``."""
    args = Args()
    i = 0
    while i < len(argv):
        token = argv[i]
        i += 1
        if token == "--":
            args.pos.extend(argv[i:])
            break
        name: str | None = None
        value: Any = None
        if token.startswith("--") and len(token) > 2:
            name, eq, inline = token[2:].partition("=")
            if eq:
                value = inline
        elif token in SHORT_FLAGS:
            name = SHORT_FLAGS[token]
        elif token.startswith("-") and len(token) > 2 and token[:2] in SHORT_FLAGS:
            name, value = SHORT_FLAGS[token[:2]], token[2:]
        if name is None:
            args.pos.append(token)
            continue
        if value is None:
            if name in BOOLEAN_FLAGS:
                value = True
            elif i < len(argv):
                value = argv[i]
                i += 1
            else:
                value = True
        args.opts.setdefault(name, []).append(value)
    return args


# ------------------------------------------------------------------------------- errors and output


class SimError(Exception):
    """A failure printed as Membrane's error JSON."""

    def __init__(
        self,
        type_: str,
        message: str,
        *,
        key: str | None = None,
        data: dict[str, Any] | None = None,
        action_run_id: str | None = None,
        exit_code: int = 1,
    ) -> None:
        super().__init__(message)
        self.payload: dict[str, Any] = {"type": type_, "message": message}
        if key:
            self.payload["key"] = key
        if data:
            self.payload["data"] = data
        if action_run_id:
            self.payload["actionRunId"] = action_run_id
        self.exit_code = exit_code


def _emit(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2) + "\n")


def _fail(error: SimError, *, to: str = "stdout", dialects: set[str] | frozenset[str] = frozenset()) -> int:
    """Print a failure in the dialect in force; return the exit code."""
    payload = error.payload
    if "text-errors" in dialects and to == "stdout":
        status = (payload.get("data") or {}).get("status")
        text = f"Request failed with status code {status}" if status else payload["message"]
        sys.stderr.write(f"Error: {text}\n")
        return error.exit_code
    if "code-errors" in dialects and to == "stdout":
        sys.stdout.write(json.dumps({"code": error_code(payload), "message": payload["message"]}) + "\n")
        return 2 if error.exit_code == 1 else error.exit_code
    text = json.dumps(payload)
    if to == "stdout" and "stderr-json" not in dialects:
        sys.stdout.write(text + "\n")
        sys.stderr.write(f"Error: {payload['message']}\n")
    else:
        sys.stderr.write(text + "\n")
    return error.exit_code


def _usage(message: str) -> NoReturn:
    raise SimError("bad_request", f"{message}. See `membrane --help`.", exit_code=2)


def _not_found_connection(cid: str) -> SimError:
    return SimError(
        "bad_request",
        f"Connection {cid} not found",
        key="not_found",
        data={"elementType": "connection", "id": cid},
    )


def _not_ready(cid: str, state: str) -> SimError:
    return SimError(
        "connection",
        f"Connection {cid} is not ready (state {state}); the user must finish it",
        key="connection_not_ready",
        data={"connectionId": cid, "state": state},
    )


# ------------------------------------------------------------------------------- failure switches


def _gate(state: SimState, kind: str, *, action_run_id: str | None = None) -> str | None:
    """Apply a failure switch for this call; return a mode the command itself must act on."""
    mode = state.take_failure(kind)
    if mode == "not-logged-in":
        raise _not_logged_in()
    if mode == "exit-nonzero-json-stdout":
        raise SimError(
            "internal",
            "Simulated failure: the Membrane API answered 500 Internal Server Error",
            action_run_id=action_run_id,
        )
    if mode == "exit-nonzero-json-stderr":
        error = SimError(
            "bad_request",
            "Simulated failure: the Membrane API refused the request",
            action_run_id=action_run_id,
        )
        sys.exit(_fail(error, to="stderr", dialects=state.dialects()))
    if mode == "exit-nonzero-text":
        sys.stdout.write("Something went wrong.\n")
        sys.stderr.write("Error: simulated failure (exit-nonzero-text): socket hang up\n")
        sys.exit(1)
    if mode == "malformed-output":
        sys.stdout.write("<html><body>502 Bad Gateway</body></html>\n")
        sys.exit(0)
    if mode == "crash":
        sys.stdout.write('{"status": 2')
        sys.stdout.flush()
        if hasattr(signal, "SIGKILL"):
            os.kill(os.getpid(), signal.SIGKILL)
        os.abort()
    if mode == "hang":
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
        (state.home / "hang.pids").write_text(f"{os.getpid()} {child.pid}\n")
        time.sleep(3600)
        sys.exit(1)
    if not state.logged_in():
        raise _not_logged_in()
    return mode


def _not_logged_in() -> SimError:
    return SimError(
        "bad_request",
        "Not authenticated. Run `membrane login --tenant`",
        key="not_authenticated",
        data={"status": 401},
    )


# ------------------------------------------------------------------------------- commands


def cmd_login(state: SimState, args: Args) -> int:
    rest = args.pos[1:]
    if rest[:1] == ["complete"]:
        if len(rest) < 2:
            _usage("login complete needs the authorization code")
        state.set_logged_in(True)
        sys.stdout.write("Logged in (simulated).\n")
        return 0
    if args.flag("non-interactive") or rest[:1] == ["start"]:
        sys.stdout.write(
            "Open this URL to approve access (simulated): https://membrane-sim.invalid/consent?code=SIMCODE\n"
            "Then run: membrane login complete SIMCODE\n"
        )
        return 0
    state.set_logged_in(True)
    sys.stdout.write(
        "Logged in (simulated)" + (" with a tenant token" if args.flag("tenant") else "") + ".\n"
    )
    return 0


def cmd_status(state: SimState, args: Args) -> int:
    info = {
        "loggedIn": state.logged_in(),
        "apiUri": "https://membrane-sim.invalid",
        "workspaceKey": "sim-workspace",
        "tenantKey": "sim-tenant",
        "simulator": True,
        "home": str(state.home),
    }
    if args.flag("json"):
        _emit(info)
    else:
        sys.stdout.write(
            f"{'Logged in' if info['loggedIn'] else 'Not logged in'} (simulator, state in {state.home}).\n"
        )
    return 0


def cmd_connection(state: SimState, args: Args) -> int:
    sub = args.pos[1] if len(args.pos) > 1 else ""
    if sub == "list":
        mode = _gate(state, "connection-list")
        dialects = state.dialects()
        conns = [connection_view(dialects, c) for c in state.connections()]
        key = args.get("integrationKey")
        if key:
            conns = [c for c in conns if c.get("integrationKey") == key]
        search = args.get("search")
        if search:
            conns = [c for c in conns if str(search).lower() in str(c.get("name", "")).lower()]
        if mode == "body-only-output":
            _emit(conns)
            return 0
        size = int(args.get("limit") or state.settings()["page_size"])
        start = int(args.get("cursor") or 0)
        page: dict[str, Any] = {"items": conns[start : start + size]}
        if start + size < len(conns):
            page["cursor"] = str(start + size)
        _emit(page)
        return 0
    if sub == "get":
        if len(args.pos) < 3:
            _usage("connection get needs a connection id")
        cid = args.pos[2]
        mode = _gate(state, "connection-get")
        record = state.connection(cid)
        if record is None:
            raise _not_found_connection(cid)
        if mode == "connection-not-ready":
            record = {
                **connection_record(cid, name=record["name"], state="CLIENT_ACTION_REQUIRED"),
                "createdAt": record["createdAt"],
            }
        _emit(connection_view(state.dialects(), record))
        return 0
    _usage(f"unknown connection command {sub!r} (the simulator knows: list, get)")


def cmd_search(state: SimState, args: Args) -> int:
    if len(args.pos) < 2:
        _usage("search needs a query")
    _gate(state, "search")
    query = " ".join(args.pos[1:]).lower()
    element_type = args.get("elementType") or "connector"
    items = []
    if element_type == "connector":
        for c in CONNECTORS.values():
            if query in c["key"] or query in c["name"].lower():
                items.append(
                    {
                        "elementType": "connector",
                        "element": {k: v for k, v in c.items() if k != "integration"},
                    }
                )
    _emit({"items": items})
    return 0


def cmd_connect(state: SimState, args: Args) -> int:
    _gate(state, "connect")
    cid = args.get("connectionId")
    if cid:
        record = state.connection(str(cid))
        if record is None:
            raise _not_found_connection(str(cid))
        record = {**record, "state": "READY", "connected": True, "updatedAt": iso()}
        record.pop("clientAction", None)
        state.save_connection(record)
        _emit(record)
        return 0
    wanted = args.get("connectorId") or args.get("connectorKey") or args.get("integrationKey")
    connector = None
    for c in CONNECTORS.values():
        if wanted in (c["id"], c["key"]):
            connector = c["id"]
    if connector is None:
        raise SimError(
            "bad_request",
            f"Connector {wanted!r} not found; find one with `membrane search ontraport --elementType=connector --json`",
            key="not_found",
            data={"elementType": "connector"},
        )
    new_id = "conn_" + uuid.uuid4().hex[:12]
    name = args.get("name") or f"{CONNECTORS[connector]['name']} ({new_id[-6:]})"
    record = connection_record(new_id, name=str(name), state="READY", connector=connector)
    state.save_connection(record)
    _emit(record)
    return 0


def _connection_for(state: SimState, cid: str | None, *, mode: str | None) -> dict[str, Any]:
    if not cid:
        _usage("--connectionId is required")
    record = state.connection(str(cid))
    if record is None:
        raise _not_found_connection(str(cid))
    if mode == "connection-not-ready":
        raise _not_ready(str(cid), "CLIENT_ACTION_REQUIRED")
    if record.get("state") != "READY":
        raise _not_ready(str(cid), str(record.get("state")))
    if connection_view(state.dialects(), record).get("disconnected"):
        raise SimError(
            "connection",
            f"Connection {cid} is disconnected: the user must re-authenticate it",
            key="connection_disconnected",
            data={"connectionId": cid},
        )
    if record.get("integrationKey") != "ontraport":
        raise SimError(
            "configuration",
            f"The simulator serves only Ontraport connections; {cid} is {record.get('integrationKey')}",
            data={"connectionId": cid},
        )
    return record


def cmd_action(state: SimState, args: Args) -> int:
    from ontraport_pandas import actions

    dialects = state.dialects()
    specs = list(actions.ACTIONS.values())
    sub = args.pos[1] if len(args.pos) > 1 else ""
    if sub == "list":
        mode = _gate(state, "action-list")
        cid = args.get("connectionId")
        if cid:
            _connection_for(state, cid, mode=mode)
        items = action_items(dialects, actions.find_actions(args.get("intent")))
        size = int(args.get("limit") or state.settings()["page_size"])
        if mode == "body-only-output":
            _emit(items[:size] if args.get("limit") else items)
            return 0
        start = int(args.get("cursor") or 0)
        page: dict[str, Any] = {"items": items[start : start + size]}
        if start + size < len(items):
            page["cursor"] = str(start + size)
        _emit(page)
        return 0
    if sub == "get":
        if len(args.pos) < 3:
            _usage("action get needs an action id")
        _gate(state, "action-list")
        item = find_item(dialects, specs, args.pos[2])
        if item is None or "no-schemas" in dialects:
            raise SimError(
                "bad_request",
                f"Action {args.pos[2]!r} not found",
                key="not_found",
                data={"elementType": "action", "id": args.pos[2]},
            )
        _emit(action_items(dialects, [actions.ACTIONS[item["key"]]])[0])
        return 0
    if sub != "run":
        _usage(f"unknown action command {sub!r} (the simulator knows: list, get, run)")
    if len(args.pos) < 3:
        _usage("action run needs an action id")
    selector = args.pos[2]
    run_id = "run_" + uuid.uuid4().hex[:16]
    mode = _gate(state, "action-run", action_run_id=run_id)
    cid = args.get("connectionId")
    _connection_for(state, cid, mode=mode)
    item = find_item(dialects, specs, selector)
    if mode == "unknown-action" or item is None:
        raise SimError(
            "bad_request",
            f"Action {selector!r} not found for connection {cid}",
            key="not_found",
            data={"elementType": "action", "selector": selector},
        )
    key = str(item["key"])
    if mode == "rate-limit":
        raise SimError(
            "action_run",
            "Rate limit exceeded (simulated): too many requests to Ontraport",
            key="rate_limit_exceeded",
            data={"status": 429, "resetAfter": 1},
            action_run_id=run_id,
        )
    raw = args.get("input")
    try:
        payload = json.loads(raw) if isinstance(raw, str) and raw.strip() else {}
    except ValueError:
        raise SimError("bad_request", f"--input is not valid JSON: {str(raw)[:100]}") from None
    payload = from_dialect_input(dialects, key, payload)
    if mode == "silent-no-op":  # the action ran, changed nothing and named no record
        _emit({"output": {"success": True}, "actionRunId": run_id})
        return 0
    if key == "update-contact" and isinstance(payload, dict) and not payload.get("fields"):
        output: Any = {"id": str(payload.get("id")), "updated": []}  # nothing it knows: a silent no-op
    else:
        output = _run_action(state, str(cid), key, payload, run_id)
    output = to_dialect_output(dialects, key, output)
    _emit(output if mode == "body-only-output" else {"output": output, "actionRunId": run_id})
    return 0


def _run_action(state: SimState, cid: str, key: str, payload: Any, run_id: str) -> Any:
    from ontraport_pandas import actions
    from ontraport_pandas.errors import (
        APIError,
        AuthenticationError,
        BadRequestError,
        NotFoundError,
        OntraportError,
        PermissionDeniedError,
        RateLimitError,
        ServerError,
    )

    app = sandbox_app(state)
    creds = state.credentials(cid)
    classes: dict[int, type[APIError]] = {
        400: BadRequestError,
        401: AuthenticationError,
        403: PermissionDeniedError,
        404: NotFoundError,
    }

    def call(method: str, path: str, *, params: Any = None, json: Any = None) -> Any:
        query = [(str(k), _param(v)) for k, v in (params or {}).items() if v is not None]
        body = None if json is None else _dumps(json)
        r = proxy_request(app, creds, method, path, query, body, "application/json" if body else None)
        text = r.body.decode("utf-8", errors="replace")
        kwargs: dict[str, Any] = {"status": r.status, "body": text, "method": method, "path": path}
        if r.status == 429:
            reset = float(r.header("x-rate-limit-reset") or 60)
            raise RateLimitError(f"{method} {path} -> HTTP 429: {text}", reset_after=reset, **kwargs)
        if r.status >= 500:
            raise ServerError(f"{method} {path} -> HTTP {r.status}: {text}", **kwargs)
        if r.status >= 300:
            raise classes.get(r.status, APIError)(f"{method} {path} -> HTTP {r.status}: {text}", **kwargs)
        envelope = r.body_value()
        if not isinstance(envelope, dict):
            raise ServerError(f"{method} {path}: not a JSON envelope: {text[:200]}", **kwargs)
        return envelope.get("data")

    try:
        return actions.execute(call, key, payload)
    except actions.ActionInputError as exc:
        raise SimError("bad_request", str(exc), data={"key": key}, action_run_id=run_id) from None
    except RateLimitError as exc:
        raise SimError(
            "action_run",
            str(exc),
            key="rate_limit_exceeded",
            data={"status": 429, "resetAfter": exc.reset_after},
            action_run_id=run_id,
        ) from None
    except APIError as exc:
        raise SimError("action_run", str(exc), data={"status": exc.status}, action_run_id=run_id) from None
    except OntraportError as exc:
        raise SimError("internal", str(exc), action_run_id=run_id) from None
    finally:
        app.close()


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode("utf-8")


def cmd_request(state: SimState, args: Args) -> int:
    if len(args.pos) < 3:
        _usage("request needs a connection id and a path")
    cid, path = args.pos[1], args.pos[2]
    mode = _gate(state, "request")
    _connection_for(state, cid, mode=mode)
    method = str(args.get("method") or "GET").upper()
    query: list[tuple[str, str]] = []
    for item in args.all("query"):
        k, _, v = str(item).partition("=")
        query.append((k, v))
    headers: list[tuple[str, str]] = []
    for item in args.all("header"):
        k, _, v = str(item).partition(":")
        headers.append((k, v))
    data = args.get("data")
    body: bytes | None = None
    content_type = next((v.strip() for k, v in headers if k.strip().lower() == "content-type"), None)
    if isinstance(data, str):
        body = data.encode("utf-8")
        if not args.flag("rawData"):
            try:
                body = _dumps(json.loads(data))
                content_type = "application/json"
            except ValueError:
                content_type = content_type or "application/x-www-form-urlencoded"
    dialects = state.dialects()
    if mode == "rate-limit":
        s = state.settings()
        limit = str(s["rate_limit"] or 180)
        r = Proxied(
            429,
            [
                ("Content-Type", "text/plain; charset=utf-8"),
                ("X-Rate-Limit-Limit", limit),
                ("X-Rate-Limit-Remaining", "0"),
                ("X-Rate-Limit-Reset", "1"),
            ],
            f"You have exceeded your maximum rate limit of {limit} requests per minute.".encode(),
        )
    else:
        app = sandbox_app(state)
        try:
            r = proxy_request(
                app,
                state.credentials(cid),
                method,
                path,
                query,
                body,
                content_type,
                headers,
                versioned="base-without-v1" not in dialects,
            )
        finally:
            app.close()
    if "text-errors" in dialects and r.status >= 400:
        sys.stderr.write(f"Error: Request failed with status code {r.status}\n")
        return 1
    if mode == "body-only-output" or not args.flag("json") or dialects & {"body-only", "text-errors"}:
        value = r.body_value()
        sys.stdout.write((value if isinstance(value, str) else json.dumps(value)) + "\n")
        return 0 if (mode == "body-only-output" or r.status < 400) else 1
    _emit({"status": r.status, "headers": dict(r.headers), "body": r.body_value()})
    return 0


def cmd_token(state: SimState, args: Args) -> int:
    if "proxy" not in state.dialects():
        _usage("unknown command 'token'")
    _gate(state, "token")
    token, expires = state.mint_token()
    _emit({"token": token, "expiresAt": iso(expires)})
    return 0


def cmd_credentials(state: SimState, args: Args) -> int:
    if "proxy" not in state.dialects():
        _usage("unknown command 'credentials'")
    _gate(state, "token")
    _emit(
        {
            "apiUri": state.settings().get("proxy_url") or "https://membrane-sim.invalid",
            "workspaceKey": "sim-workspace",
            "workspaceSecret": "sim-workspace-secret-never-print",
            "tenantKey": "sim-tenant",
        }
    )
    return 0


def cmd_integration(state: SimState, args: Args) -> int:
    sub = args.pos[1] if len(args.pos) > 1 else ""
    if sub != "list":
        _usage(f"unknown integration command {sub!r} (the simulator knows: list)")
    _gate(state, "search")
    search = str(args.get("search") or "").lower()
    items = [dict(i) for i in (ONTRAPORT, HUBSPOT) if search in i["key"] or search in i["name"].lower()]
    _emit({"items": items})
    return 0


def cmd_sim(state: SimState, args: Args) -> int:
    sub = args.pos[1] if len(args.pos) > 1 else "status"
    if sub == "init":
        settings: dict[str, Any] = {}
        for flag, key, conv in (
            ("contacts", "contacts", int),
            ("seed", "seed", int),
            ("rate-window", "rate_window", float),
            ("latency", "latency", float),
            ("page-size", "page_size", int),
            ("startup", "startup", float),
            ("token-ttl", "token_ttl", float),
        ):
            if args.get(flag) is not None:
                settings[key] = conv(args.get(flag))
        if args.get("rate-limit") is not None:
            raw = str(args.get("rate-limit")).lower()
            settings["rate_limit"] = None if raw in ("none", "0", "off", "") else int(raw)
        state.init(**settings)
        if args.flag("logged-out"):
            state.set_logged_in(False)
        sandbox_app(state).close()  # seed the demo data now, not on the first request
        _emit(state.status())
        return 0
    if sub == "reset":
        state.ensure()
        state.reset()
        sandbox_app(state).close()
        _emit(state.status())
        return 0
    if sub == "fail":
        if len(args.pos) < 3:
            _usage(f"sim fail needs a mode: {', '.join(FAIL_MODES)} (or clear)")
        mode = args.pos[2]
        state.ensure()
        if mode in ("clear", "none"):
            state.clear_failures()
            _emit(state.failures())
            return 0
        if mode not in FAIL_MODES:
            _usage(f"unknown failure mode {mode!r}; known: {', '.join(FAIL_MODES)}")
        kinds = [k for k in str(args.get("on") or "").split(",") if k]
        bad = [k for k in kinds if k not in KINDS]
        if bad:
            _usage(f"unknown call kind(s) {', '.join(bad)}; known: {', '.join(KINDS)}")
        times = -1 if args.flag("forever") else int(args.get("times") or 1)
        state.add_failure(mode, times, kinds)
        _emit(state.failures())
        return 0
    if sub == "status":
        state.ensure()
        _emit(state.status())
        return 0
    if sub == "dialect":
        state.ensure()
        if len(args.pos) >= 3:
            try:
                state.set_dialect(",".join(args.pos[2:]).split(","))
            except ValueError as exc:
                _usage(str(exc))
        _emit({"dialects": sorted(state.dialects()), "known": DIALECTS})
        return 0
    if sub == "set":
        state.ensure()
        changes: dict[str, Any] = {}
        for flag, key, conv in (
            ("startup", "startup", float),
            ("token-ttl", "token_ttl", float),
            ("latency", "latency", float),
        ):
            if args.get(flag) is not None:
                changes[key] = conv(args.get(flag))
        _emit(state.update_settings(**changes))
        return 0
    if sub == "revoke-tokens":
        state.ensure()
        state.revoke_tokens()
        _emit({"tokens": 0})
        return 0
    if sub == "serve":
        state.ensure()
        served = serve_proxy(state.home, port=int(args.get("port") or 0))
        sys.stdout.write(json.dumps({"apiUri": served.url}) + "\n")
        sys.stdout.flush()
        served.serve_forever()
        return 0
    _usage(f"unknown sim command {sub!r} (init, reset, fail, status, dialect, set, revoke-tokens, serve)")


COMMANDS = {
    "login": cmd_login,
    "status": cmd_status,
    "connection": cmd_connection,
    "connections": cmd_connection,
    "search": cmd_search,
    "connect": cmd_connect,
    "action": cmd_action,
    "request": cmd_request,
    "token": cmd_token,
    "credentials": cmd_credentials,
    "integration": cmd_integration,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run one simulator command; returns the exit code."""
    args = parse(list(sys.argv[1:] if argv is None else argv))
    if not args.pos or args.flag("help") or args.pos[0] == "help":
        sys.stdout.write(HELP)
        return 0
    state = SimState()
    command = args.pos[0]
    dialects: set[str] = set()
    try:
        if command == "sim":
            return cmd_sim(state, args)
        state.ensure()
        settings = state.settings()
        dialects = state.dialects()
        if float(settings.get("startup") or 0) > 0:
            time.sleep(float(settings["startup"]))  # a Node CLI's start-up, for benchmarks
        if command == "logout":
            state.set_logged_in(False)
            sys.stdout.write("Logged out (simulated).\n")
            return 0
        handler = COMMANDS.get(command)
        if handler is None:
            _usage(f"unknown command {command!r}")
        return handler(state, args)
    except SimError as error:
        return _fail(error, dialects=dialects)


if __name__ == "__main__":
    sys.exit(main())
