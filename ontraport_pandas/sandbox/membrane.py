"""A ``membrane``-compatible command over the sandbox: ``python -m ontraport_pandas.sandbox.membrane``.

It lets tests and demos drive the Membrane backend's real subprocess path without a
Membrane account: point the toolkit at it with
``ONTRAPORT_PANDAS_MEMBRANE="python -m ontraport_pandas.sandbox.membrane"`` or
``opd.connect(membrane=True, membrane_command=[sys.executable, "-m", "ontraport_pandas.sandbox.membrane"])``.
It is never installed under the name ``membrane``.

It implements the commands membrane-cli.md §2-§3 documents for what the toolkit uses,
with their documented flags and output shapes: ``--help``, ``login`` (also ``start`` /
``complete <code>``; headless when stdin is not a terminal) / ``logout`` / ``status``,
``connection list|get|ensure|create|patch|delete``, ``integration list``, ``search``, ``connect``, ``action
list|get|run``, ``action-run-log get``, ``token``, ``credentials`` and ``request``
(which proxies into the sandbox's WSGI app in-process, with the connection's stored demo
credentials; ``--pathParam`` fills ``{name}`` / ``:name`` path segments), and an HTTP
proxy route (:mod:`~ontraport_pandas.sandbox.membrane_proxy`). The command line is
checked against the documented flags (:mod:`~ontraport_pandas.sandbox.membrane_argv`):
anything else is a usage error, exit 2. ``--json`` prints JSON; without it the output
is a short text (§3), so callers that parse must pass ``--json``. Not simulated:
``connection-request``, ``external-app``,
``agent-session``, ``action create`` and ``workspace`` (unknown commands here). ``act``
runs ``--key`` / ``--id`` actions and ``--api`` requests; ``--code`` is refused. The vendor's evidence allows
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
import shlex
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from typing import Any, NoReturn
from urllib.parse import parse_qsl, quote

from .membrane_argv import BOOLEANS, Args, UsageError, check, command_of, int_flag, parse
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

Every command takes --json (JSON on stdout; without it a short text), --workspaceKey K, --tenantKey K.
Commands:
  login [--tenant] [--apiUri URL] [--clientName N] [--non-interactive]
                                           simulated login; without a terminal (or with --non-interactive,
                                           or `login start`) it prints a consent URL; then
                                           `login complete <code>` finishes it
  logout                                   forget the simulated login
  status                                   login state, API URI, simulator home
  connection list [--limit N] [--cursor C] [--integrationKey K] [--search S]
  connection get <id> [--wait] [--timeout 1-60]
                                           one connection (by id or key)
  connection ensure "<appUrl>" [--name N]  the connection to that app, else a new one (to finish with connect)
  connection create "<intent>" [--name N]  a new connection for the app the intent names (to finish with connect)
  connection patch <id> --data '<json>'    change name, key or meta
  connection delete <id-or-key>            archive a connection
  integration list [--search S] [--limit N] [--cursor C]
  search <query> [--elementType connector|integration|action|app] [--limit 1-100] [--cursor C]
  connect --connectorId <id> | --connectorKey K | --integrationKey K | --integrationId <id>
          [--name N] [--intent "<text>"] [--allowMultipleConnections] [--non-interactive]
                                           create a READY connection
  connect --connectionId <id> | --connectionKey K
                                           repair (re-authenticate) an existing connection
  action list [--connectionId <id> | --connectionKey K] [--intent "<words>"] [--externalAppId <id>]
              [--limit N] [--cursor C]     the connection's actions (intent is ignored without a
                                           connection; catalog actions, --externalAppId, have no key)
  action get <actionId> [--wait] [--timeout 1-60]
                                           one action with its input schema
  action run <actionId> --connectionId <id> [--input '<json>']
                                           run one of the Ontraport connector's actions (by id; by key
                                           too, except in the ids-only dialect); prints {output, actionRunId}
  act --connectionId <id> (--key K | --id <actionId> | --api '{"method","path","query","body"}' | --code JS)
      [--input '<json>'] [--meta '<json>']
                                           the unified form: {output, actionRunId} (--code is refused)
  action-run-log get <actionRunId> [--details]
                                           the record of one action run
  request <connectionId> <path> [-X|--method METHOD] [--query k=v]... [-H|--header "K: V"]...
          [-d|--data '<body>'] [--rawData] [--pathParam name=value]...
                                           proxy one Ontraport REST request (path relative to the
                                           connector's base URL; {name} / :name placeholders filled by
                                           --pathParam); --json prints {status, headers, body}, else
                                           the body alone
  token [--expiresIn 5m|1h|24h] [--manager]
                                           a bearer token for the proxy route (proxy dialect only)
  credentials [--shell]                    the API URI and workspace keys (proxy dialect only)

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
`--flag value` or `--flag=value` (a value that starts with "-" needs the second form). Errors
(standard dialect): exit 1, {type, key, message, data} on stdout, one line on stderr; an unknown
command or option, a missing argument or value, or a number out of range: exit 2, the same shape.
"""

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


def _rate_limited(run_id: str) -> SimError:
    """The ``rate-limit`` failure switch: an action run that Ontraport answered 429."""
    return SimError(
        "action_run",
        "Rate limit exceeded (simulated): too many requests to Ontraport",
        key="rate_limit_exceeded",
        data={"status": 429, "resetAfter": 1},
        action_run_id=run_id,
    )


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


def _out(args: Args, value: Any) -> None:
    """JSON with ``--json``, else the shorter human-readable form (membrane-cli.md §3)."""
    if args.flag("json"):
        _emit(value)
    else:
        sys.stdout.write(_human(value))


def _line(item: Any) -> str:
    if not isinstance(item, dict):
        return str(item)
    if isinstance(item.get("element"), dict):  # a search hit
        return f"{item.get('elementType')}  " + _line(item["element"])
    words = [str(item[k]) for k in ("id", "key", "name", "state") if item.get(k) not in (None, "")]
    return "  ".join(words) or json.dumps(item)


def _human(value: Any) -> str:
    """A short text form: one line per listed item, ``name: value`` lines for a record."""
    if isinstance(value, dict) and isinstance(value.get("items"), list):
        lines = [_line(i) for i in value["items"]] or ["(none)"]
        if value.get("cursor"):
            lines.append(f"(more: --cursor {value['cursor']})")
        return "\n".join(lines) + "\n"
    if isinstance(value, list):
        return "\n".join(_line(i) for i in value) + "\n" if value else "(none)\n"
    if isinstance(value, dict):
        lines = []
        for k, v in value.items():
            text = v if isinstance(v, str) else json.dumps(v, separators=(",", ":"))
            lines.append(f"{k}: {text}")
        return "\n".join(lines) + "\n"
    return (value if isinstance(value, str) else json.dumps(value)) + "\n"


def _cursor(args: Args) -> int:
    """The offset a ``--cursor`` names (the simulator's cursors are offsets; any other is refused)."""
    raw = args.get("cursor")
    if raw is None:
        return 0
    if not str(raw).isdigit():
        raise SimError("bad_request", f"Invalid cursor {str(raw)[:50]!r}", data={"cursor": str(raw)[:50]})
    return int(str(raw))


def _page(items: list[Any], args: Args, size: int) -> dict[str, Any]:
    start = _cursor(args)
    page: dict[str, Any] = {"items": items[start : start + size]}
    if start + size < len(items):
        page["cursor"] = str(start + size)
    return page


#: The authorization code the simulated consent page hands out (``login complete <code>``).
LOGIN_CODE = "SIMCODE"


def cmd_login(state: SimState, args: Args) -> int:
    words = command_of(args)
    if args.get("apiUri"):
        state.update_settings(api_uri=str(args.get("apiUri")).rstrip("/"))
    if words == ("login", "complete"):
        if args.pos[2] != LOGIN_CODE:
            raise SimError(
                "bad_request",
                "Invalid or expired authorization code; run `membrane login --non-interactive` again",
                key="not_authenticated",
            )
        state.set_logged_in(True)
        sys.stdout.write("Logged in (simulated).\n")
        return 0
    if args.flag("non-interactive") or words == ("login", "start") or not sys.stdin.isatty():
        # Headless: print the consent URL (a stdin that is not a TTY behaves the same, §2).
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


def _api_uri(state: SimState) -> str:
    settings = state.settings()
    return str(settings.get("api_uri") or settings.get("proxy_url") or "https://membrane-sim.invalid")


def cmd_status(state: SimState, args: Args) -> int:
    info = {
        "loggedIn": state.logged_in(),
        "apiUri": _api_uri(state),
        "workspaceKey": "sim-workspace",
        "tenantKey": "sim-tenant",
        "simulator": True,
        "home": str(state.home),
    }
    if args.flag("json"):
        _emit(info)
    else:
        sys.stdout.write(
            f"{'Logged in' if info['loggedIn'] else 'Not logged in'} (simulator, API {info['apiUri']}, "
            f"state in {state.home}).\n"
        )
    return 0


def cmd_connection(state: SimState, args: Args) -> int:
    sub = command_of(args)[1]
    if sub == "list":
        size = int_flag(args, "limit", 1, 1000) or int(state.settings()["page_size"])
        mode = _gate(state, "connection-list")
        dialects = state.dialects()
        conns = [connection_view(dialects, c) for c in state.connections() if not c.get("archivedAt")]
        key = args.get("integrationKey")
        if key:
            conns = [c for c in conns if c.get("integrationKey") == key]
        search = args.get("search")
        if search:
            conns = [c for c in conns if str(search).lower() in str(c.get("name", "")).lower()]
        if mode == "body-only-output":
            _out(args, conns)
            return 0
        _out(args, _page(conns, args, size))
        return 0
    if sub in ("ensure", "create"):
        return _connection_new(state, args, sub)
    if sub == "patch":
        return _connection_patch(state, args)
    if sub == "delete":
        _gate(state, "connection-get")
        record = _find_connection(state, args.pos[2])
        if record is None or record.get("archivedAt"):
            raise _not_found_connection(args.pos[2])
        record = {**record, "archivedAt": iso(), "updatedAt": iso()}
        state.save_connection(record)
        _out(args, connection_view(state.dialects(), record))
        return 0
    # connection get <id> [--wait] [--timeout <1-60>]: the simulator's connections never stay BUILDING,
    # so --wait returns at once.
    int_flag(args, "timeout", 1, 60)
    cid = args.pos[2]
    mode = _gate(state, "connection-get")
    record = _find_connection(state, cid)
    if record is None:
        raise _not_found_connection(cid)
    if mode == "connection-not-ready":
        record = {
            **connection_record(record["id"], name=record["name"], state="CLIENT_ACTION_REQUIRED"),
            "createdAt": record["createdAt"],
        }
    _out(args, connection_view(state.dialects(), record))
    return 0


def _connector_for(text: str) -> str | None:
    """The connector an app URL (``https://ontraport.com/``) or an intent (``"ontraport contacts"``) names."""
    words = text.lower()
    for cid, c in CONNECTORS.items():
        host = str(c["appUri"]).split("://", 1)[-1].strip("/")
        if host in words or c["key"] in words or c["name"].lower() in words:
            return cid
    return None


def _connection_new(state: SimState, args: Args, sub: str) -> int:
    """``connection ensure "<appUrl>" [--name N]`` (find or create) / ``connection create "<intent>"``.

    ``ensure`` gives the first connection to that app that is not archived, else a new one;
    a new connection needs the user (``CLIENT_ACTION_REQUIRED``: ``membrane connect
    --connectionId <id>`` enters the credentials), as a real one would.
    """
    text = args.pos[2]
    _gate(state, "connect")
    connector = _connector_for(text)
    if connector is None:
        raise SimError(
            "bad_request",
            f"No app found for {text!r} (the simulator knows Ontraport and HubSpot)",
            key="not_found",
            data={"elementType": "app"},
        )
    if sub == "ensure":
        key = CONNECTORS[connector]["integration"]["key"]
        found = next(
            (c for c in state.connections() if c.get("integrationKey") == key and not c.get("archivedAt")),
            None,
        )
        if found is not None:
            _out(args, connection_view(state.dialects(), found))
            return 0
    return _new_connection(state, args, connector, "CLIENT_ACTION_REQUIRED")


def _new_connection(state: SimState, args: Args, connector: str, status: str) -> int:
    """Save a new connection of ``connector`` in ``status`` (named ``--name`` or after the connector)
    and print it."""
    new_id = "conn_" + uuid.uuid4().hex[:12]
    name = args.get("name") or f"{CONNECTORS[connector]['name']} ({new_id[-6:]})"
    record = connection_record(new_id, name=str(name), state=status, connector=connector)
    state.save_connection(record)
    _out(args, record)
    return 0


#: What ``connection patch --data`` may change.
PATCHABLE = ("name", "key", "meta")


def _connection_patch(state: SimState, args: Args) -> int:
    if args.get("data") is None:
        _usage("connection patch needs --data '<json>'")
    try:
        changes = json.loads(str(args.get("data")))
    except ValueError:
        _usage("--data must be JSON")
    if not isinstance(changes, dict):
        _usage("--data must be a JSON object")
    unknown = sorted(set(changes) - set(PATCHABLE))
    if unknown:
        raise SimError(
            "bad_request",
            f"Cannot change {', '.join(unknown)} of a connection (only {', '.join(PATCHABLE)})",
            data={"fields": unknown},
        )
    _gate(state, "connection-get")
    record = _find_connection(state, args.pos[2])
    if record is None or record.get("archivedAt"):
        raise _not_found_connection(args.pos[2])
    record = {**record, **changes, "updatedAt": iso()}
    state.save_connection(record)
    _out(args, connection_view(state.dialects(), record))
    return 0


def _find_connection(state: SimState, selector: str) -> dict[str, Any] | None:
    """A connection by id, else by key (the API's ``{idOrKey}``, membrane-cli.md §4)."""
    record = state.connection(selector)
    if record is None:
        record = next((c for c in state.connections() if c.get("key") and c.get("key") == selector), None)
    return record


#: Element types of ``membrane search`` (SDK enum values, lower case; membrane-cli.md §3).
ELEMENT_TYPES = ("connector", "integration", "action", "app")


def cmd_search(state: SimState, args: Args) -> int:
    query = " ".join(args.pos[1:])
    if not 1 <= len(query.strip()) <= 200:
        _usage("the search query must be 1 to 200 characters")
    size = int_flag(args, "limit", 1, 100) or 100
    element_type = args.get("elementType")
    if element_type is not None and element_type not in ELEMENT_TYPES:
        _usage(f"--elementType must be one of {', '.join(ELEMENT_TYPES)}, not {element_type!r}")
    _gate(state, "search")
    needle = query.strip().lower()
    items: list[dict[str, Any]] = []
    if element_type in (None, "connector"):
        for c in CONNECTORS.values():
            if needle in c["key"] or needle in c["name"].lower():
                items.append(
                    {
                        "elementType": "connector",
                        "element": {k: v for k, v in c.items() if k != "integration"},
                    }
                )
    if element_type in (None, "integration"):
        for i in (ONTRAPORT, HUBSPOT):
            if needle in i["key"] or needle in i["name"].lower():
                items.append({"elementType": "integration", "element": dict(i)})
    _out(args, _page(items, args, size))
    return 0


CONNECT_TARGETS = (
    "connectorId",
    "connectorKey",
    "integrationKey",
    "integrationId",
    "connectionId",
    "connectionKey",
)


def cmd_connect(state: SimState, args: Args) -> int:
    given = [f for f in CONNECT_TARGETS if args.get(f) is not None]
    if not given:
        _usage("connect needs one of " + ", ".join(f"--{f}" for f in CONNECT_TARGETS))
    _gate(state, "connect")
    existing = args.get("connectionId") or args.get("connectionKey")
    if existing:
        record = _find_connection(state, str(existing))
        if record is None:
            raise _not_found_connection(str(existing))
        record = {**record, "state": "READY", "connected": True, "updatedAt": iso()}
        record.pop("clientAction", None)
        state.save_connection(record)
        _out(args, record)
        return 0
    connector = None
    for c in CONNECTORS.values():
        integ = c["integration"]
        if (
            args.get("connectorId") in (c["id"],)
            or args.get("connectorKey") in (c["key"],)
            or args.get("integrationKey") in (integ["key"],)
            or args.get("integrationId") in (integ["id"],)
        ):
            connector = c["id"]
    if connector is None:
        wanted = next(args.get(f) for f in given)
        raise SimError(
            "bad_request",
            f"Connector {wanted!r} not found; find one with `membrane search ontraport --elementType=connector --json`",
            key="not_found",
            data={"elementType": "connector"},
        )
    return _new_connection(state, args, connector, "READY")


def _connection_for(state: SimState, args: Args, *, mode: str | None) -> dict[str, Any]:
    """The connection ``--connectionId`` (or ``--connectionKey``) names, ready for tenant calls."""
    cid = args.get("connectionId") or args.get("connectionKey")
    if not cid:
        _usage("--connectionId (or --connectionKey) is required")
    return _ready_connection(state, str(cid), mode=mode)


def _ready_connection(state: SimState, cid: str, *, mode: str | None) -> dict[str, Any]:
    record = _find_connection(state, cid)
    if record is None or record.get("archivedAt"):
        raise _not_found_connection(cid)
    cid = str(record["id"])
    if mode == "connection-not-ready":
        raise _not_ready(cid, "CLIENT_ACTION_REQUIRED")
    if record.get("state") != "READY":
        raise _not_ready(cid, str(record.get("state")))
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
    sub = command_of(args)[1]
    if sub == "list":
        size = int_flag(args, "limit", 1, 1000) or int(state.settings()["page_size"])
        mode = _gate(state, "action-list")
        if args.get("connectionId") or args.get("connectionKey"):
            _connection_for(state, args, mode=mode)
            items = action_items(dialects, actions.find_actions(args.get("intent")))
        else:
            # "intent is ignored unless a connection is given"; catalog actions (--externalAppId) have no key.
            app = args.get("externalAppId")
            if app is not None and app != "app_ontraport":
                items = []
            else:
                items = action_items(dialects, specs)
            if app is not None:
                items = [{**i, "key": ""} for i in items]
        if mode == "body-only-output":
            _out(args, items[:size] if args.get("limit") else items)
            return 0
        _out(args, _page(items, args, size))
        return 0
    if sub == "get":
        int_flag(args, "timeout", 1, 60)
        _gate(state, "action-list")
        item = find_item(dialects, specs, args.pos[2])
        if item is None or "no-schemas" in dialects:
            raise SimError(
                "bad_request",
                f"Action {args.pos[2]!r} not found",
                key="not_found",
                data={"elementType": "action", "id": args.pos[2]},
            )
        _out(args, action_items(dialects, [actions.ACTIONS[item["key"]]])[0])
        return 0
    return _run_selected(state, args, args.pos[2])


def _run_selected(state: SimState, args: Args, selector: str, *, by: str | None = None) -> int:
    """Run one action by id or key (``by``: only that one) on ``--connectionId``; print ``{output, actionRunId}``."""
    from ontraport_pandas import actions

    dialects = state.dialects()
    specs = list(actions.ACTIONS.values())
    run_id = "run_" + uuid.uuid4().hex[:16]
    mode = _gate(state, "action-run", action_run_id=run_id)
    record = _connection_for(state, args, mode=mode)
    cid = str(record["id"])
    item = find_item(dialects, specs, selector)
    if item is not None and by is not None and item[by] != selector:
        item = None
    if mode == "unknown-action" or item is None:
        raise SimError(
            "bad_request",
            f"Action {selector!r} not found for connection {cid}",
            key="not_found",
            data={"elementType": "action", "selector": selector},
        )
    key = str(item["key"])
    raw = args.get("input")
    try:
        payload = json.loads(raw) if isinstance(raw, str) and raw.strip() else {}
    except ValueError:
        raise SimError("bad_request", f"--input is not valid JSON: {str(raw)[:100]}") from None
    log = {
        "id": run_id,
        "status": "error",
        "input": payload,
        "action": {"id": item["id"], "key": key, "name": item["name"]},
        "connection": {"id": cid, "name": record.get("name")},
        "integration": {"key": "ontraport"},
        "createdAt": iso(),
    }
    try:
        if mode == "rate-limit":
            raise _rate_limited(run_id)
        payload = from_dialect_input(dialects, key, payload)
        if mode == "silent-no-op":  # the action ran, changed nothing and named no record
            output: Any = {"success": True}
        elif key == "update-contact" and isinstance(payload, dict) and not payload.get("fields"):
            output = {"id": str(payload.get("id")), "updated": []}  # nothing it knows: a silent no-op
        else:
            output = _run_action(state, cid, key, payload, run_id)
        if mode != "silent-no-op":
            output = to_dialect_output(dialects, key, output)
    except SimError as error:
        state.save_run({**log, "error": error.payload})
        raise
    state.save_run({**log, "status": "success", "output": output})
    _out(args, output if mode == "body-only-output" else {"output": output, "actionRunId": run_id})
    return 0


def cmd_act(state: SimState, args: Args) -> int:
    """``act --connectionId <id> --key K | --id I | --api '<json>' | --code '<js>' [--input …] [--meta …]`` (§3).

    ``--key`` / ``--id`` run a connector action as ``action run`` does. ``--api`` sends
    ``{method, path, query?, headers?, body?}`` through the connection: the output is
    Ontraport's body; a non-2xx answer is an ``action_run`` error carrying the upstream
    answer as ``data.response`` (the SDK's form for upstream HTTP errors). ``--code`` is
    refused (``custom_code``): the simulator runs no JavaScript.
    """
    chosen = [f for f in ("key", "id", "api", "code") if args.get(f) is not None]
    if len(chosen) != 1:
        _usage("act needs exactly one of --key, --id, --api, --code")
    if args.get("meta") is not None:
        try:
            json.loads(str(args.get("meta")))
        except ValueError:
            _usage("--meta must be JSON")
    which = chosen[0]
    if which in ("key", "id"):
        return _run_selected(state, args, str(args.get(which)), by=which)
    run_id = "run_" + uuid.uuid4().hex[:16]
    mode = _gate(state, "action-run", action_run_id=run_id)
    record = _connection_for(state, args, mode=mode)
    if which == "code":
        raise SimError(
            "custom_code", "The simulator runs no custom code; use --key, --id or --api", action_run_id=run_id
        )
    try:
        spec = json.loads(str(args.get("api")))
    except ValueError:
        spec = None
    if not isinstance(spec, dict) or not isinstance(spec.get("path"), str):
        raise SimError(
            "bad_request", "--api must be a JSON object with a path (and method, query, headers, body)"
        )
    method = str(spec.get("method") or "GET").upper()
    query = [(str(k), _param(v)) for k, v in (spec.get("query") or {}).items() if v is not None]
    headers = [(str(k), str(v)) for k, v in (spec.get("headers") or {}).items()]
    body = None if spec.get("body") is None else _dumps(spec["body"])
    if mode == "rate-limit":
        raise _rate_limited(run_id)
    app = sandbox_app(state)
    try:
        r = proxy_request(
            app,
            state.credentials(str(record["id"])),
            method,
            spec["path"],
            query,
            body,
            "application/json" if body is not None else None,
            headers,
            versioned="base-without-v1" not in state.dialects(),
        )
    finally:
        app.close()
    if r.status >= 300:
        raise SimError(
            "action_run",
            f"{method} {spec['path']} -> HTTP {r.status}",
            data={"response": {"status": r.status, "headers": dict(r.headers), "data": r.body_value()}},
            action_run_id=run_id,
        )
    _out(args, {"output": r.body_value(), "actionRunId": run_id})
    return 0


def cmd_action_run_log(state: SimState, args: Args) -> int:
    """``action-run-log get <actionRunId> [--details]``: the record of one ``action run`` (§3)."""
    run_id = args.pos[2]
    _gate(state, "action-list")
    run = state.run(run_id)
    if run is None:
        raise SimError(
            "bad_request",
            f"Action run {run_id} not found",
            key="not_found",
            data={"elementType": "action-run-log", "id": run_id},
        )
    if args.flag("details"):
        error = run.get("error") or {}
        run["logs"] = [
            {
                "level": "info",
                "message": f"Running action {run['action']['key']} on {run['connection']['id']}",
            },
            {"level": "error", "message": error.get("message")}
            if error
            else {"level": "info", "message": "Action finished"},
        ]
    _out(args, run)
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


def _path_params(path: str, pairs: list[str]) -> str:
    """Fill ``{name}`` / ``:name`` placeholders from ``--pathParam name=value`` (membrane-cli.md §3, §8).

    A placeholder left without a value is refused (the request would reach a wrong URL);
    a parameter the path does not use is ignored, as the API's ``pathParameters`` would.
    """
    values: dict[str, str] = {}
    for pair in pairs:
        key, eq, value = str(pair).partition("=")
        if not eq or not key:
            _usage(f"--pathParam takes name=value, not {pair!r}")
        values[key] = value
    out = []
    for segment in path.split("/"):
        name = segment[1:-1] if segment.startswith("{") and segment.endswith("}") else None
        if name is None and segment.startswith(":") and len(segment) > 1:
            name = segment[1:]
        if name is not None:
            if name not in values:
                raise SimError(
                    "bad_request",
                    f'Path parameter {name!r} of {path!r} has no value; pass --pathParam "{name}=…"',
                    data={"path": path, "parameter": name},
                )
            segment = quote(values[name], safe="")
        out.append(segment)
    return "/".join(out)


def cmd_request(state: SimState, args: Args) -> int:
    cid, path = args.pos[1], args.pos[2]
    method = str(args.get("method") or "GET").upper()
    if method not in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"):
        _usage(f"unknown HTTP method {method!r}")
    path, _, inline_query = path.partition("?")
    query: list[tuple[str, str]] = parse_qsl(inline_query, keep_blank_values=True)
    for item in args.all("query"):
        k, eq, v = str(item).partition("=")
        if not eq or not k:
            _usage(f"--query takes key=value, not {item!r}")
        query.append((k, v))
    headers: list[tuple[str, str]] = []
    for item in args.all("header"):
        k, colon, v = str(item).partition(":")
        if not colon or not k.strip():
            _usage(f'-H/--header takes "Name: value", not {item!r}')
        headers.append((k.strip(), v.strip()))
    mode = _gate(state, "request")
    record = _ready_connection(state, cid, mode=mode)
    path = _path_params(path, args.all("pathParam"))
    data = args.get("data")
    body: bytes | None = None
    content_type = next((v for k, v in headers if k.lower() == "content-type"), None)
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
                state.credentials(str(record["id"])),
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


#: ``--expiresIn`` values (membrane-cli.md §2 shows ``5m|1h|24h``): a number and a unit.
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _expires_in(raw: Any) -> float | None:
    if raw is None:
        return None
    text = str(raw).strip()
    number, unit = text[:-1], text[-1:]
    if unit.isdigit():
        number, unit = text, "s"
    if unit not in _UNITS or not number.isdigit() or int(number) <= 0:
        _usage(f"--expiresIn takes a duration such as 5m, 1h or 24h, not {text!r}")
    seconds = int(number) * _UNITS[unit]
    if seconds > 30 * 86400:
        _usage(f"--expiresIn may be at most 30d, not {text!r}")
    return float(seconds)


def cmd_token(state: SimState, args: Args) -> int:
    if "proxy" not in state.dialects():
        _usage("unknown command 'token'")
    ttl = _expires_in(args.get("expiresIn"))
    _gate(state, "token")
    token, expires = state.mint_token(ttl)
    value = {"token": token, "expiresAt": iso(expires)}
    if args.flag("json"):
        _emit(value)
    else:
        sys.stdout.write(token + "\n")
    return 0


def cmd_credentials(state: SimState, args: Args) -> int:
    if "proxy" not in state.dialects():
        _usage("unknown command 'credentials'")
    _gate(state, "token")
    value = {
        "apiUri": _api_uri(state),
        "workspaceKey": "sim-workspace",
        "workspaceSecret": "sim-workspace-secret-never-print",
        "tenantKey": "sim-tenant",
    }
    if args.flag("shell"):
        names = {
            "apiUri": "MEMBRANE_API_URI",
            "workspaceKey": "MEMBRANE_WORKSPACE_KEY",
            "workspaceSecret": "MEMBRANE_WORKSPACE_SECRET",
            "tenantKey": "MEMBRANE_TENANT_KEY",
        }
        sys.stdout.write("".join(f"export {names[k]}={shlex.quote(v)}\n" for k, v in value.items()))
        return 0
    _out(args, value)
    return 0


def cmd_integration(state: SimState, args: Args) -> int:
    size = int_flag(args, "limit", 1, 1000) or 100
    _gate(state, "search")
    search = str(args.get("search") or "").lower()
    items = [dict(i) for i in (ONTRAPORT, HUBSPOT) if search in i["key"] or search in i["name"].lower()]
    _out(args, _page(items, args, size))
    return 0


def _number(conv: Any, flag: str, raw: Any) -> Any:
    try:
        value = conv(str(raw))
    except ValueError:
        raise UsageError(f"--{flag} must be a number, not {raw!r}") from None
    if value < 0:
        raise UsageError(f"--{flag} must not be negative, not {raw!r}")
    return value


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
                settings[key] = _number(conv, flag, args.get(flag))
        if args.get("rate-limit") is not None:
            raw = str(args.get("rate-limit")).lower()
            settings["rate_limit"] = (
                None if raw in ("none", "0", "off", "") else _number(int, "rate-limit", raw)
            )
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
        times = -1 if args.flag("forever") else (int_flag(args, "times", 1, 1_000_000) or 1)
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
                changes[key] = _number(conv, flag, args.get(flag))
        _emit(state.update_settings(**changes))
        return 0
    if sub == "revoke-tokens":
        state.ensure()
        state.revoke_tokens()
        _emit({"tokens": 0})
        return 0
    if sub == "serve":
        state.ensure()
        served = serve_proxy(state.home, port=int_flag(args, "port", 0, 65535) or 0)
        sys.stdout.write(json.dumps({"apiUri": served.url}) + "\n")
        sys.stdout.flush()
        served.serve_forever()
        return 0
    _usage(f"unknown sim command {sub!r} (init, reset, fail, status, dialect, set, revoke-tokens, serve)")


HANDLERS = {
    "login": cmd_login,
    "status": cmd_status,
    "connection": cmd_connection,
    "search": cmd_search,
    "connect": cmd_connect,
    "action": cmd_action,
    "action-run-log": cmd_action_run_log,
    "act": cmd_act,
    "request": cmd_request,
    "token": cmd_token,
    "credentials": cmd_credentials,
    "integration": cmd_integration,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run one simulator command; returns the exit code."""
    args = parse(list(sys.argv[1:] if argv is None else argv), BOOLEANS)
    if args.flag("help") or args.pos == ["help"] or not (args.pos or args.opts):
        sys.stdout.write(HELP)
        return 0
    state = SimState()
    command = args.pos[0] if args.pos else ""
    dialects: set[str] = set()
    try:
        try:
            if not args.pos:
                raise UsageError(f"unknown option --{next(iter(args.opts))} (no command given)")
            check(args, command_of(args))
        except UsageError as exc:
            _usage(str(exc))
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
        return HANDLERS[command](state, args)
    except UsageError as exc:
        return _fail(
            SimError("bad_request", f"{exc}. See `membrane --help`.", exit_code=2), dialects=dialects
        )
    except SimError as error:
        return _fail(error, dialects=dialects)


if __name__ == "__main__":
    sys.exit(main())
