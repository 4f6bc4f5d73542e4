"""The Membrane backend: Ontraport through a Membrane connection, by proxy route or by CLI.

Membrane (getmembrane.com) holds the Ontraport credentials of a *connection*. Two
routes carry REST requests; :func:`open_membrane` picks one (``op.backend`` says which):

* ``"proxy"``: the connection's HTTP proxy route over httpx
  (:class:`~ontraport_pandas.transports.membrane_proxy.MembraneProxyTransport`), with the
  bearer token of ``membrane token --json``. The vendor documents that it returns the
  upstream status, headers and body (DOC), so the limiter sees Ontraport's
  ``X-Rate-Limit-*`` headers and no process starts per page. Used when a token can be
  had and the probe request through it answers;
* ``"cli"``: ``membrane request <connection> <path> …`` (:class:`MembraneTransport`),
  one process per request. Every output dialect is accepted
  (:mod:`~ontraport_pandas.transports.membrane_errors`).

Hosted actions (``op.run_action``, contact pushes) go through ``membrane action run
<id>`` on either route (:class:`~ontraport_pandas.transports.membrane_actions.HostedActions`),
offered to the layers above as the transport's ``hosted`` attribute, which the
session hands on.

At connect:

* readiness: a connection is usable only when ``state`` is ``READY`` (a missing
  state counts as READY, as in older API answers) and neither ``disconnected`` nor
  ``isDefunct`` is true (SDK ``BaseConnection``, SOURCE);
* Ontraport detection: ``integrationKey`` (DOC), ``integration.key`` / ``.name``
  (SOURCE), the connection name, else its ``integrationId`` among the ids that
  ``membrane integration list --search ontraport --json`` finds (asked once);
  otherwise the user must name the connection;
* one cheap probe request (``GET Contacts/getInfo``) records the output dialect and
  whether the connector's base URL already ends in ``/1`` (unknown, membrane-cli.md
  §5): when the plain path answers 404, the ``/1``-prefixed path is tried and kept.
"""

from __future__ import annotations

import logging
import shlex
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from ..errors import (
    BackendFallbackWarning,
    ConfigurationError,
    MembraneSetupError,
    TransportError,
)
from .base import Params, Response
from .membrane_actions import HostedActions, WritesMode, describe
from .membrane_cli import (
    DEFAULT_TIMEOUT,
    ENV_COMMAND,
    INSTALL_HINT,
    MembraneCLI,
    RawText,
    flag,
    positional,
    resolve_command,
)
from .membrane_errors import (
    LOGIN_HINT,
    Context,
    connect_hint,
    refused_credentials,
    request_response,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ENV_COMMAND",
    "INSTALL_HINT",
    "LOGIN_HINT",
    "MembraneCLI",
    "MembraneTransport",
    "Mode",
    "connections_frame",
    "get_connection",
    "is_ontraport",
    "list_connections",
    "open_membrane",
    "probe",
    "resolve_command",
    "state_of",
]

logger = logging.getLogger(__name__)

Mode = Literal["auto", "proxy", "cli"]
MODES = ("auto", "proxy", "cli")
PROBE_PATH = "Contacts/getInfo"


def _prefixed(prefix: str, path: str) -> str:
    return f"{prefix}/{path.lstrip('/')}"


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
    hosted : HostedActions, optional
        Share the connection's hosted actions (else one is made).
    """

    mode = "cli"

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
        hosted: HostedActions | None = None,
    ) -> None:
        if not connection_id or not isinstance(connection_id, str):
            raise ConfigurationError(
                "A Membrane connection id is needed (see `membrane connection list --json`)."
            )
        positional(connection_id, "connection id")
        self.cli = cli or MembraneCLI(command, timeout=timeout, max_concurrency=max_concurrency, env=env)
        self.connection_id = connection_id
        self.live = live
        self.name = name or f"Membrane connection {connection_id}"
        self.path_prefix = "/" + path_prefix.strip("/") if path_prefix.strip("/") else ""
        self.hosted = hosted or HostedActions(self.cli, connection_id)
        #: ``"response"`` ({status, headers, body}) or ``"body"`` (the body alone), once seen.
        self.dialect: str | None = None
        self.note: str | None = None

    def __repr__(self) -> str:
        return f"<MembraneTransport {self.connection_id!r} via {shlex.join(self.cli.command)!r} live={self.live}>"

    @property
    def backend(self) -> str:
        """Which route carries requests, in words."""
        return describe(self)

    @property
    def last_action_run_id(self) -> str | None:
        return self.hosted.last_action_run_id

    def send(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: Any = None,
        timeout: float | None = None,
    ) -> Response:
        import json as _json

        method = method.upper()
        args = ["request", self.connection_id, _prefixed(self.path_prefix, path), "-X", method]
        args += [flag("query", f"{k}={v}") for k, v in (params or {}).items()]
        if json is not None:
            args.append(flag("data", _json.dumps(json, separators=(",", ":"))))
        args.append("--json")
        ctx = Context("request", connection_id=self.connection_id, method=method, path=path)
        value = self.cli.run(args, timeout=timeout, ctx=ctx)
        if isinstance(value, Response):
            return _checked(value, ctx)
        if isinstance(value, RawText):
            response, dialect = request_response(None, value.text)
        else:
            response, dialect = request_response(value, "")
        self.dialect = self.dialect or dialect
        return _checked(response, ctx)

    def run_action(
        self,
        key: str,
        input: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
    ) -> Any:
        """Run a hosted action by key (resolved to its id); return its output."""
        return self.hosted.run(key, input, timeout=timeout)

    def list_actions(self, intent: str | None = None) -> list[dict[str, Any]]:
        """The actions the connection offers (``membrane action list --connectionId … [--intent …] --json``)."""
        return self.hosted.list_actions(intent)

    def list_connections(self) -> list[dict[str, Any]]:
        return self.cli.list_connections()

    def get_connection(self, connection_id: str | None = None) -> dict[str, Any]:
        return self.cli.get_connection(connection_id or self.connection_id)

    def close(self) -> None:
        """Nothing to release: every call is its own process."""


def _checked(response: Response, ctx: Context) -> Response:
    """A proxied answer, unless it means the connection's Ontraport credentials were refused (401)."""
    if response.status == 401:
        raise refused_credentials(ctx.connection_id, f"HTTP 401: {response.text}")
    return response


def probe(transport: Any) -> None:
    """Send ``GET Contacts/getInfo`` once; keep the path prefix (``""`` or ``"/1"``) that answers.

    Only a 404 is read (the connector's base URL lacks ``/1``); other answers are left
    to the requests that follow. Failures to answer at all propagate.
    """
    first = transport.send("GET", PROBE_PATH, params={})
    if first.status != 404 or transport.path_prefix:
        return
    transport.path_prefix = "/1"
    second = transport.send("GET", PROBE_PATH, params={})
    if second.status == 404:
        transport.path_prefix = ""
    else:
        logger.info("Membrane connection %s: the connector's base URL lacks /1", transport.connection_id)


# ------------------------------------------------------------------------------- connections


def state_of(conn: Mapping[str, Any]) -> str:
    """The connection's readiness: its ``state``, unless ``archivedAt`` / ``disconnected`` / ``isDefunct`` say otherwise.

    An archived connection (``archivedAt``, SDK ``BaseConnection``; ``membrane connection
    delete`` archives) may still say ``READY`` but is gone: ``"ARCHIVED"``.
    """
    state = str(conn.get("state") or "").upper()
    if conn.get("archivedAt"):
        return "ARCHIVED"
    if conn.get("isDefunct"):
        return "DEFUNCT"
    if conn.get("disconnected") is True:
        return "DISCONNECTED"
    if state:
        return state
    if conn.get("connected") is False:
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


def is_ontraport(conn: Mapping[str, Any], cli: MembraneCLI | None = None) -> bool | None:
    """Whether a connection reaches Ontraport; None when nothing tells (then the user names it)."""
    integ = conn.get("integration")
    keys = [str(conn.get("integrationKey") or "")]
    if isinstance(integ, Mapping):
        keys += [str(integ.get("key") or ""), str(integ.get("name") or "")]
    keys = [k for k in keys if k]
    if keys:
        return any("ontraport" in k.lower() for k in keys)
    if "ontraport" in str(conn.get("name") or "").lower():
        return True
    integration_id = conn.get("integrationId")
    if integration_id and cli is not None:
        return str(integration_id) in cli.integration_ids("ontraport")
    return None


def _listing(conns: Sequence[Mapping[str, Any]]) -> str:
    if not conns:
        return "  (none)"
    return "\n".join(
        f"  - {c.get('id')}  {c.get('name') or ''!s}  [{state_of(c)}]  {_integration(c)}".rstrip()
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
            "state": state_of(c),
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


def _pick(cli: MembraneCLI, connection: str | bool) -> dict[str, Any]:
    if connection is True:
        conns = cli.list_connections()
        ontraport = [c for c in conns if is_ontraport(c, cli)]
        ready = [c for c in ontraport if state_of(c) == "READY"]
        if len(ready) == 1:
            return ready[0]
        if not ontraport:
            unknown = [c for c in conns if is_ontraport(c, cli) is None]
            fix = (
                "Name the connection: opd.connect(membrane='<connection id>') (nothing in these records says "
                "which integration they use)."
                if unknown
                else "Create one with `membrane search ontraport --elementType=connector --json`, then "
                "`membrane connect --connectorId <id> --json`."
            )
            problem = "no Membrane connection known to be Ontraport"
        elif not ready:
            fix = connect_hint(str(ontraport[0].get("id")))
            problem = "no READY Membrane connection to Ontraport"
        else:
            fix = "Pick one: opd.connect(membrane='<connection id>')."
            problem = f"{len(ready)} READY Membrane connections to Ontraport"
        raise MembraneSetupError(f"There is {problem}. {fix}\nConnections:\n{_listing(conns)}")
    if isinstance(connection, str) and connection.strip():
        conn = cli.get_connection(connection.strip())
        if is_ontraport(conn, cli) is False:
            raise MembraneSetupError(
                f"Membrane connection {conn.get('id')} is a {_integration(conn) or 'non-Ontraport'} connection, "
                "not Ontraport. Find yours with `membrane connection list --json` (or opd.connections())."
            )
        return conn
    raise ConfigurationError(
        f"membrane= takes a connection id or True, not {connection!r}; list them with opd.connections()."
    )


def open_membrane(
    connection: str | bool,
    *,
    command: str | Sequence[str] | None = None,
    timeout: float | None = None,
    max_workers: int = 8,
    env: Mapping[str, str] | None = None,
    mode: Mode = "auto",
    writes: WritesMode = "auto",
) -> Any:
    """The transport for a Membrane connection (``opd.connect(membrane=…)`` wraps it in a client).

    Parameters
    ----------
    connection : str or True
        A connection id, or True for the only READY connection to Ontraport.
    command : str or list of str, optional
        The membrane executable (default ``$ONTRAPORT_PANDAS_MEMBRANE`` or ``membrane``).
    timeout : float, optional
        Seconds one CLI call or proxied request may take (default 60).
    max_workers : int
        Requests in flight at once (also the CLI calls running at once).
    env : mapping, optional
        Extra environment variables for the CLI (and ``MEMBRANE_API_URI`` for the proxy route).
    mode : {"auto", "proxy", "cli"}
        ``"auto"``: the proxy route when ``membrane token --json`` gives a token and the
        probe through it answers, else the CLI's ``request`` (said once, with the reason).
    writes : {"auto", "actions", "rest"}
        How pushes write contacts (see :mod:`~ontraport_pandas.transports.membrane_actions`).

    Raises
    ------
    MembraneSetupError
        The CLI is missing, is another program, is not logged in; the connection does not
        exist, is not READY or is not an Ontraport connection; ``True`` matched none or
        several connections; ``mode="proxy"`` and no token. The message says what to run.
    """
    if mode not in MODES:
        raise ConfigurationError(f"membrane_mode must be one of {', '.join(MODES)}, not {mode!r}")
    cli = MembraneCLI(
        command, timeout=DEFAULT_TIMEOUT if timeout is None else timeout, max_concurrency=max_workers, env=env
    )
    info = cli.info()
    conn = _pick(cli, connection)
    cid = str(conn["id"])
    state = state_of(conn)
    if state == "ARCHIVED":
        raise MembraneSetupError(
            f"Membrane connection {cid} was deleted (archived at {conn.get('archivedAt')}). Pick another "
            "with `membrane connection list --json` (or opd.connections()), or make a new one with "
            '`membrane connection ensure "https://ontraport.com/" --json` and `membrane connect '
            "--connectionId <id>`."
        )
    if state != "READY":
        raise MembraneSetupError(
            f"Membrane connection {cid} is not ready (state {state}). {connect_hint(cid)}"
        )
    label = _integration(conn) or "Ontraport"
    if label.lower() == "ontraport":
        label = "Ontraport"
    name = f"Membrane connection {cid} ({label}{', simulator' if info.simulator else ''})"
    hosted = HostedActions(cli, cid, writes=writes)
    reason = None
    if mode in ("auto", "proxy"):
        from .membrane_proxy import MembraneProxyTransport, TokenSource

        tokens = TokenSource(cli)
        api_uri = MembraneProxyTransport.find_api_uri(cli, env)
        if tokens.available():
            proxy = MembraneProxyTransport(
                cid,
                api_uri=api_uri,
                tokens=tokens,
                timeout=DEFAULT_TIMEOUT if timeout is None else timeout,
                max_connections=max(16, max_workers),
                live=not info.simulator,
                name=name,
                hosted=hosted,
            )
            try:
                probe(proxy)
                return proxy
            except (TransportError, MembraneSetupError) as exc:
                proxy.close()
                if mode == "proxy":
                    raise
                reason = f"the proxy route at {api_uri} did not answer the probe ({exc})"
        else:
            if mode == "proxy":
                raise MembraneSetupError(
                    f"`membrane token --json` gave no token, so the proxy route can't be used. {LOGIN_HINT}"
                )
            reason = "`membrane token --json` gave no token"
    transport = MembraneTransport(cid, cli=cli, live=not info.simulator, name=name, hosted=hosted)
    try:
        probe(transport)
    except TransportError as exc:  # a passing fault: the requests that follow retry and report it
        logger.info("Membrane connection %s: the probe request failed (%s)", cid, exc)
    if reason is not None:
        transport.note = f"proxy route not used: {reason}"
        if mode == "auto":
            logger.info("Membrane connection %s: CLI requests, because %s", cid, reason)
            if "did not answer" in reason:
                warnings.warn(
                    f"Membrane connection {cid}: {reason}; requests go through `membrane request` instead "
                    "(one process per request).",
                    BackendFallbackWarning,
                    stacklevel=3,
                )
    return transport
