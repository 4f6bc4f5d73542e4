"""State of the membrane simulator, kept between calls (each call is a new process).

Everything lives in one folder, ``$MEMBRANE_SIM_HOME`` (default
``~/.ontraport-pandas/membrane-sim``):

* ``membrane-sim.sqlite``: the simulated login, the settings, the connections (with
  the sandbox credentials each one holds, never printed), and the failure switches.
  SQLite gives atomic read-modify-write between concurrent processes
  (``BEGIN IMMEDIATE``), so a switch set with ``--times 1`` fails exactly one call;
* ``sandbox.sqlite``: the Ontraport sandbox the connections proxy into (shared with
  ``opd.connect("sandbox", path=…)``; its rate-limit window lives in that file too).

Stdlib only: the simulator must start fast, without pandas or httpx.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .config import DEMO_API_KEY, DEMO_APP_ID

__all__ = [
    "DEFAULT_SETTINGS",
    "DIALECTS",
    "ENV_HOME",
    "FAIL_MODES",
    "GENERIC_MODES",
    "KINDS",
    "SimState",
    "default_home",
]

ENV_HOME = "MEMBRANE_SIM_HOME"

#: The kinds of tenant commands a failure switch can hit.
KINDS = (
    "request",
    "action-run",
    "action-list",
    "connection-list",
    "connection-get",
    "search",
    "connect",
    "token",
)

#: Failure modes that hit every kind of tenant command.
GENERIC_MODES = (
    "not-logged-in",
    "exit-nonzero-json-stdout",
    "exit-nonzero-json-stderr",
    "exit-nonzero-text",
    "malformed-output",
    "crash",
    "hang",
)
#: Every failure mode and the command kinds it hits.
FAIL_MODES: dict[str, tuple[str, ...]] = {
    **{mode: KINDS for mode in GENERIC_MODES},
    "connection-not-ready": ("request", "action-run", "action-list", "connection-get"),
    "unknown-action": ("action-run",),
    "silent-no-op": ("action-run",),
    "rate-limit": ("request", "action-run"),
    "body-only-output": ("request", "action-run", "action-list", "connection-list"),
}

#: The output and behaviour dialects ``sim dialect <name>[,<name>…]`` switches between.
#: Each one is a reading of the vendor evidence that the toolkit must handle (membrane-cli.md §3-§8).
DIALECTS: dict[str, str] = {
    "standard": "request --json prints {status, headers, body}; errors {type, key, message, data} JSON on "
    "stdout and one line on stderr, exit 1; actions listed with ids and keys",
    "body-only": "request prints the body alone (a plain-text Ontraport error body for an upstream error, exit 1)",
    "text-errors": "request prints the body alone; every failure is plain text on stderr "
    "(`Error: Request failed with status code 429`), exit 1",
    "stderr-json": "errors as {type, key, message} JSON on stderr only, exit 1",
    "code-errors": "errors as {code: 'CONNECTION_DISCONNECTED', message} objects on stdout, exit 2",
    "ids-only": "actions listed with ids but no keys; `action run` takes only an id",
    "flat-inputs": "write actions take the record's fields at the top level of their input (declared "
    "standard fields only); unknown input properties are silently ignored",
    "nested-inputs": "write actions nest the record's fields under `record`; unknown input properties are "
    "silently ignored; outputs carry the record as {record: {id}}",
    "no-schemas": "actions listed without inputSchema, and `action get` fails",
    "disconnected": "the demo connection says state READY but disconnected: true; requests through it fail "
    "with {code: CONNECTION_DISCONNECTED}",
    "no-integration-key": "connection records carry integrationId only (no integrationKey, no integration "
    "object); `integration list --search` maps the id",
    "base-without-v1": "the connector's base URL lacks /1: paths reach Ontraport exactly as given",
    "proxy": "`membrane token --json` and `credentials --json` work, and the HTTP proxy route (served by "
    "`sim serve`) checks the bearer token",
}

DEFAULT_SETTINGS: dict[str, Any] = {
    "contacts": 2000,
    "seed": 0,
    "rate_limit": 180,
    "rate_window": 60.0,
    "latency": 0.0,
    "page_size": 25,
    "dialect": "standard",
    "startup": 0.0,
    "token_ttl": 3600.0,
    "proxy_url": None,
    "api_uri": None,
}

ONTRAPORT: dict[str, str] = {"id": "int_ontraport", "key": "ontraport", "name": "Ontraport"}
HUBSPOT: dict[str, str] = {"id": "int_hubspot", "key": "hubspot", "name": "HubSpot"}
CONNECTORS: dict[str, dict[str, Any]] = {
    "cnr_ontraport": {
        "id": "cnr_ontraport",
        "key": "ontraport",
        "name": "Ontraport",
        "appUri": "https://ontraport.com",
        "integration": ONTRAPORT,
    },
    "cnr_hubspot": {
        "id": "cnr_hubspot",
        "key": "hubspot",
        "name": "HubSpot",
        "appUri": "https://hubspot.com",
        "integration": HUBSPOT,
    },
}


def default_home() -> Path:
    env = os.environ.get(ENV_HOME)
    return Path(env).expanduser() if env else Path.home() / ".ontraport-pandas" / "membrane-sim"


def iso(t: float | None = None) -> str:
    t = time.time() if t is None else t
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}Z"


def connection_record(
    cid: str, *, name: str, state: str, connector: str = "cnr_ontraport", created: str | None = None
) -> dict[str, Any]:
    """A connection as the Membrane API describes it (membrane-cli.md §4, ``BaseConnection``)."""
    c = CONNECTORS[connector]
    integ = c["integration"]
    now = created or iso()
    record: dict[str, Any] = {
        "id": cid,
        "name": name,
        "userId": "usr_sim",
        "tenantId": "tnt_sim",
        "isTest": True,
        "connected": state == "READY",
        "state": state,
        "integrationId": integ["id"],
        "integrationKey": integ["key"],
        "connectorId": c["id"],
        "externalAppId": f"app_{integ['key']}",
        "createdAt": now,
        "updatedAt": now,
        "integration": dict(integ),
    }
    if state != "READY":
        record["clientAction"] = {
            "type": "connect",
            "description": f"Enter your {integ['name']} App ID and API key to finish this connection.",
            "agentInstructions": f"Run `membrane connect --connectionId {cid}`.",
        }
    return record


def default_connections() -> list[dict[str, Any]]:
    t = 1767225600.0  # 2026-01-01
    return [
        connection_record("conn_ontraport_demo", name="Ontraport (demo)", state="READY", created=iso(t)),
        connection_record(
            "conn_ontraport_pending",
            name="Ontraport (unfinished)",
            state="CLIENT_ACTION_REQUIRED",
            created=iso(t + 86400),
        ),
        connection_record(
            "conn_hubspot_demo",
            name="HubSpot (demo)",
            state="READY",
            connector="cnr_hubspot",
            created=iso(t + 172800),
        ),
    ]


class SimState:
    """The simulator's persistent state in ``home``."""

    def __init__(self, home: str | os.PathLike[str] | None = None) -> None:
        self.home = Path(home) if home is not None else default_home()
        self.db_path = self.home / "membrane-sim.sqlite"
        self.sandbox_path = self.home / "sandbox.sqlite"

    # -- storage ------------------------------------------------------------------------
    @contextmanager
    def _db(self, *, write: bool = False) -> Iterator[sqlite3.Connection]:
        self.home.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(self.db_path), timeout=60.0, isolation_level=None)
        try:
            conn.execute("PRAGMA busy_timeout = 60000")
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            conn.execute("CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS connections (id TEXT PRIMARY KEY, seq INTEGER NOT NULL, "
                "record TEXT NOT NULL, app_id TEXT, api_key TEXT)"
            )
            conn.execute(
                "CREATE TABLE IF NOT EXISTS failures (seq INTEGER PRIMARY KEY AUTOINCREMENT, mode TEXT NOT NULL, "
                "remaining INTEGER NOT NULL, kinds TEXT NOT NULL DEFAULT '')"
            )
            conn.execute("CREATE TABLE IF NOT EXISTS tokens (token TEXT PRIMARY KEY, expires REAL NOT NULL)")
            conn.execute("CREATE TABLE IF NOT EXISTS runs (id TEXT PRIMARY KEY, record TEXT NOT NULL)")
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        finally:
            conn.close()

    @staticmethod
    def _get(conn: sqlite3.Connection, key: str, default: Any = None) -> Any:
        row = conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    @staticmethod
    def _set(conn: sqlite3.Connection, key: str, value: Any) -> None:
        conn.execute("INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)", (key, json.dumps(value)))

    # -- lifecycle ----------------------------------------------------------------------
    def initialized(self) -> bool:
        if not self.db_path.exists():
            return False
        with self._db() as conn:
            return bool(self._get(conn, "initialized", False))

    def ensure(self) -> None:
        """Initialise with the default settings on first use."""
        if not self.initialized():
            self.init()

    def init(self, **settings: Any) -> dict[str, Any]:
        """Set the settings (defaults for the rest) and reset everything else."""
        merged = {**DEFAULT_SETTINGS, **{k: v for k, v in settings.items() if k in DEFAULT_SETTINGS}}
        with self._db(write=True) as conn:
            conn.execute("DELETE FROM settings")
            self._set(conn, "settings", merged)
        return self.reset()

    def reset(self) -> dict[str, Any]:
        """Fresh demo data from the seed, the default connections, logged in, no failure switches."""
        self.remove_sandbox()
        with self._db(write=True) as conn:
            settings = self._get(conn, "settings") or dict(DEFAULT_SETTINGS)
            self._set(conn, "settings", settings)
            self._set(conn, "logged_in", True)
            self._set(conn, "initialized", True)
            conn.execute("DELETE FROM connections")
            conn.execute("DELETE FROM failures")
            conn.execute("DELETE FROM tokens")
            conn.execute("DELETE FROM runs")
            for n, record in enumerate(default_connections()):
                self._put_connection(conn, record, seq=n)
        return settings

    def remove_sandbox(self) -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            p = Path(str(self.sandbox_path) + suffix)
            if p.exists():
                p.unlink()

    # -- settings and login -------------------------------------------------------------
    def settings(self) -> dict[str, Any]:
        with self._db() as conn:
            return {**DEFAULT_SETTINGS, **(self._get(conn, "settings") or {})}

    def update_settings(self, **changes: Any) -> dict[str, Any]:
        """Change some settings and keep everything else (the sandbox data included)."""
        unknown = set(changes) - set(DEFAULT_SETTINGS)
        if unknown:
            raise ValueError(f"unknown settings {sorted(unknown)}; known: {sorted(DEFAULT_SETTINGS)}")
        with self._db(write=True) as conn:
            settings = {**DEFAULT_SETTINGS, **(self._get(conn, "settings") or {}), **changes}
            self._set(conn, "settings", settings)
        return settings

    def logged_in(self) -> bool:
        with self._db() as conn:
            return bool(self._get(conn, "logged_in", True))

    def set_logged_in(self, value: bool) -> None:
        with self._db(write=True) as conn:
            self._set(conn, "logged_in", bool(value))

    # -- connections --------------------------------------------------------------------
    @staticmethod
    def _put_connection(conn: sqlite3.Connection, record: dict[str, Any], *, seq: int | None = None) -> None:
        if seq is None:
            row = conn.execute("SELECT COALESCE(MAX(seq), -1) + 1 FROM connections").fetchone()
            seq = int(row[0])
            existing = conn.execute("SELECT seq FROM connections WHERE id = ?", (record["id"],)).fetchone()
            if existing is not None:
                seq = int(existing[0])
        conn.execute(
            "INSERT OR REPLACE INTO connections (id, seq, record, app_id, api_key) VALUES (?, ?, ?, ?, ?)",
            (record["id"], seq, json.dumps(record), DEMO_APP_ID, DEMO_API_KEY),
        )

    def connections(self) -> list[dict[str, Any]]:
        with self._db() as conn:
            rows = conn.execute("SELECT record FROM connections ORDER BY seq").fetchall()
        return [json.loads(r[0]) for r in rows]

    def connection(self, cid: str) -> dict[str, Any] | None:
        with self._db() as conn:
            row = conn.execute("SELECT record FROM connections WHERE id = ?", (cid,)).fetchone()
        return None if row is None else json.loads(row[0])

    def credentials(self, cid: str) -> tuple[str, str]:
        with self._db() as conn:
            row = conn.execute("SELECT app_id, api_key FROM connections WHERE id = ?", (cid,)).fetchone()
        if row is None:
            raise KeyError(cid)
        return str(row[0]), str(row[1])

    def set_credentials(self, cid: str, app_id: str, api_key: str) -> None:
        """Change the Ontraport credentials a connection holds (to simulate a revoked key)."""
        with self._db(write=True) as conn:
            conn.execute(
                "UPDATE connections SET app_id = ?, api_key = ? WHERE id = ?", (app_id, api_key, cid)
            )

    def save_run(self, record: dict[str, Any]) -> None:
        """Keep the log of one ``action run`` (read back by ``action-run-log get``)."""
        with self._db(write=True) as conn:
            conn.execute(
                "INSERT OR REPLACE INTO runs (id, record) VALUES (?, ?)", (record["id"], json.dumps(record))
            )

    def run(self, run_id: str) -> dict[str, Any] | None:
        with self._db() as conn:
            row = conn.execute("SELECT record FROM runs WHERE id = ?", (run_id,)).fetchone()
        return None if row is None else json.loads(row[0])

    def save_connection(self, record: dict[str, Any]) -> None:
        with self._db(write=True) as conn:
            self._put_connection(conn, record)

    # -- dialects and tokens ------------------------------------------------------------
    def dialects(self) -> set[str]:
        """The dialect names in force (``standard`` when none other)."""
        raw = str(self.settings().get("dialect") or "standard")
        return {d for d in raw.split(",") if d} or {"standard"}

    def set_dialect(self, names: Iterable[str]) -> list[str]:
        wanted = [n for n in names if n]
        unknown = [n for n in wanted if n not in DIALECTS]
        if unknown:
            raise ValueError(f"unknown dialect(s) {', '.join(unknown)}; known: {', '.join(DIALECTS)}")
        self.update_settings(dialect=",".join(wanted or ["standard"]))
        return sorted(self.dialects())

    def mint_token(self, ttl: float | None = None) -> tuple[str, float]:
        """A new bearer token, valid for ``ttl`` seconds (default: the ``token_ttl`` setting)."""
        import secrets

        token = "simtok_" + secrets.token_hex(16)
        expires = time.time() + float(self.settings()["token_ttl"] if ttl is None else ttl)
        with self._db(write=True) as conn:
            conn.execute("INSERT INTO tokens (token, expires) VALUES (?, ?)", (token, expires))
        return token, expires

    def token_valid(self, token: str) -> bool:
        with self._db() as conn:
            row = conn.execute("SELECT expires FROM tokens WHERE token = ?", (token,)).fetchone()
        return row is not None and float(row[0]) > time.time()

    def revoke_tokens(self) -> None:
        with self._db(write=True) as conn:
            conn.execute("DELETE FROM tokens")

    # -- failure switches ---------------------------------------------------------------
    def add_failure(self, mode: str, times: int, kinds: Iterable[str] = ()) -> None:
        """Fail the next ``times`` matching calls (-1: every call) with ``mode``."""
        if mode not in FAIL_MODES:
            raise ValueError(f"unknown failure mode {mode!r}; known: {', '.join(FAIL_MODES)}")
        with self._db(write=True) as conn:
            conn.execute(
                "INSERT INTO failures (mode, remaining, kinds) VALUES (?, ?, ?)",
                (mode, int(times), ",".join(kinds)),
            )

    def clear_failures(self) -> None:
        with self._db(write=True) as conn:
            conn.execute("DELETE FROM failures")

    def failures(self) -> list[dict[str, Any]]:
        with self._db() as conn:
            rows = conn.execute("SELECT mode, remaining, kinds FROM failures ORDER BY seq").fetchall()
        return [{"mode": m, "remaining": r, "on": [k for k in kinds.split(",") if k]} for m, r, kinds in rows]

    def take_failure(self, kind: str) -> str | None:
        """The failure mode for this call, if a switch matches it (one use is consumed atomically)."""
        if not self.db_path.exists():
            return None
        with self._db(write=True) as conn:
            rows = conn.execute("SELECT seq, mode, remaining, kinds FROM failures ORDER BY seq").fetchall()
            for seq, mode, remaining, kinds in rows:
                wanted = [k for k in kinds.split(",") if k]
                if kind not in FAIL_MODES.get(mode, ()) or (wanted and kind not in wanted):
                    continue
                if remaining == 1:
                    conn.execute("DELETE FROM failures WHERE seq = ?", (seq,))
                elif remaining > 1:
                    conn.execute("UPDATE failures SET remaining = remaining - 1 WHERE seq = ?", (seq,))
                return str(mode)
        return None

    def status(self) -> dict[str, Any]:
        return {
            "home": str(self.home),
            "sandbox": str(self.sandbox_path),
            "loggedIn": self.logged_in(),
            "settings": self.settings(),
            "connections": [
                {"id": c["id"], "name": c["name"], "state": c["state"]} for c in self.connections()
            ],
            "failures": self.failures(),
            "dialects": sorted(self.dialects()),
        }
