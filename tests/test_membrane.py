"""The Membrane transport through the real subprocess path: the membrane simulator, every failure mode."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import stat
import sys
import threading
import time
from pathlib import Path

import pytest

import ontraport_pandas as opd
from ontraport_pandas.session import RetryPolicy
from ontraport_pandas.transports.base import Response
from ontraport_pandas.transports.membrane import (
    MembraneCLI,
    MembraneTransport,
    connections_frame,
    list_connections,
    resolve_command,
)

from .membrane_fixtures import (
    DEMO,
    HUBSPOT,
    PENDING,
    SIM,
    env_for,
    membrane_client,
    sim,
    transport,
)


def fail(home: Path, mode: str, *extra: str) -> None:
    sim(home, "sim", "fail", mode, *extra)


def write_program(path: Path, source: str) -> Path:
    path.write_text(f"#!{sys.executable}\n{source}")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


# ------------------------------------------------------------------------------- the program


def test_the_simulator_is_recognised_as_the_integration_cli():
    info = MembraneCLI(SIM).info()
    assert info.simulator
    assert "action" in info.help and "request" in info.help


def test_command_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("ONTRAPORT_PANDAS_MEMBRANE", shlex.join(SIM))
    assert resolve_command() == SIM
    monkeypatch.delenv("ONTRAPORT_PANDAS_MEMBRANE")
    assert resolve_command() == ["membrane"]
    assert resolve_command("npx @membranehq/cli") == ["npx", "@membranehq/cli"]


@pytest.mark.skipif(os.name != "posix", reason="a shebang script")
def test_another_program_called_membrane_is_refused(tmp_path):
    fake = write_program(
        tmp_path / "membrane",
        "print('membrane - e-commerce back-office plugin')\n"
        "print('Commands: connect <oauth-client-key>, credentials <key>, disconnect, catalog, hook')\n",
    )
    with pytest.raises(opd.MembraneSetupError) as info:
        MembraneTransport(DEMO, command=str(fake)).send("GET", "Contacts")
    message = str(info.value)
    assert "not Membrane's integration CLI" in message
    assert "npm install -g @membranehq/cli@latest" in message


def test_a_python_without_the_module_is_named_and_not_blamed_on_another_product(tmp_path):
    # What the README's setting did with the system python: the module is not importable there.
    command = ["python3", "-m", "ontraport_pandas_is_not_installed_here"]
    with pytest.raises(opd.MembraneSetupError) as info:
        MembraneCLI(command).info()
    message = str(info.value)
    found = shutil.which("python3")
    assert found and f"(executable: {found})" in message
    assert "exited with code 1" in message and "No module named" in message
    assert repr(sys.executable) in message  # the interpreter to use instead
    assert "Another product" not in message


def test_the_readme_sets_the_simulator_with_the_venv_interpreter():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert 'ONTRAPORT_PANDAS_MEMBRANE="python -m' not in readme
    assert 'shlex.join([sys.executable, "-m", "ontraport_pandas.sandbox.membrane"])' in readme


@pytest.mark.parametrize("command", ["membrane-not-installed-anywhere", "/nonexistent/dir/membrane"])
def test_missing_executable_says_how_to_install(command):
    with pytest.raises(opd.MembraneSetupError) as info:
        MembraneCLI(command).info()
    message = str(info.value)
    assert "npm install -g @membranehq/cli@latest" in message
    assert "ONTRAPORT_PANDAS_MEMBRANE" in message and "npx @membranehq/cli" in message


def test_connect_reports_a_missing_executable(monkeypatch):
    monkeypatch.setenv("ONTRAPORT_PANDAS_MEMBRANE", "membrane-not-installed-anywhere")
    with pytest.raises(opd.MembraneSetupError, match="npm install -g @membranehq/cli@latest"):
        opd.connect(membrane=DEMO)


# ------------------------------------------------------------------------------- request output forms


def test_request_full_response_form(home):
    r = transport(home).send(
        "GET",
        "Contacts/getInfo",
        params={"condition": '[{"field":{"field":"id"},"op":">","value":{"value":"100"}}]'},
    )
    assert isinstance(r, Response) and r.status == 200
    assert r.headers["content-type"] == "application/json"
    assert r.headers["x-rate-limit-limit"]  # lower-cased names
    assert all(k == k.lower() for k in r.headers)
    assert r.json()["data"]["count"] == "20"


def test_request_body_only_form(home):
    fail(home, "body-only-output")
    t = transport(home)
    r = t.send("GET", "Contacts/getInfo")
    assert r.status == 200 and "x-rate-limit-limit" not in r.headers and t.dialect == "body"
    assert r.json()["data"]["count"] == "120"


def test_request_sends_a_json_body(home):
    t = transport(home)
    r = t.send("PUT", "Contacts", json={"id": "5", "firstname": "Zed"})
    assert r.status == 200 and r.json()["data"]["attrs"]["firstname"] == "Zed"
    assert t.send("GET", "Contact", params={"id": "5"}).json()["data"]["firstname"] == "Zed"


def test_proxied_error_statuses_come_back_as_responses(home):
    r = transport(home).send(
        "GET", "Contacts", params={"condition": '[{"field":{"field":"nope"},"op":"=","value":{"value":"1"}}]'}
    )
    assert r.status == 400 and r.text == "Invalid query"


# ------------------------------------------------------------------------------- failure modes


def test_not_logged_in(home):
    fail(home, "not-logged-in")
    with pytest.raises(opd.MembraneSetupError) as info:
        transport(home).send("GET", "Contacts/getInfo")
    message = str(info.value)
    assert "membrane login --tenant" in message
    assert "membrane login --non-interactive" in message and "membrane login complete <code>" in message


def test_logged_out_cli_fails_at_connect(home):
    sim(home, "logout")
    with pytest.raises(opd.MembraneSetupError, match="membrane login --tenant"):
        membrane_client(home, DEMO)
    sim(home, "login", "--tenant")  # stdin is not a terminal here: the headless flow, still logged out
    with pytest.raises(opd.MembraneSetupError, match="membrane login --tenant"):
        membrane_client(home, DEMO)
    sim(home, "login", "complete", "SIMCODE")
    assert membrane_client(home, DEMO).transport.connection_id == DEMO


def test_connection_not_ready_switch(home):
    fail(home, "connection-not-ready", "--on", "request")
    with pytest.raises(opd.MembraneSetupError) as info:
        transport(home).send("GET", "Contacts/getInfo")
    assert f"membrane connect --connectionId {DEMO}" in str(info.value)
    assert "CLIENT_ACTION_REQUIRED" in str(info.value)


def test_connection_not_ready_record(home):
    with pytest.raises(opd.MembraneSetupError) as info:
        membrane_client(home, PENDING)
    assert f"membrane connect --connectionId {PENDING}" in str(info.value)
    # Requests through it fail the same way (the error JSON carries the state).
    with pytest.raises(opd.MembraneSetupError, match=f"membrane connect --connectionId {PENDING}"):
        transport(home, PENDING).send("GET", "Contacts/getInfo")
    # Repairing it makes it usable.
    sim(home, "connect", "--connectionId", PENDING, "--json")
    assert membrane_client(home, PENDING).request("GET", "Contacts/getInfo")["data"]["count"] == "120"


def test_connection_not_ready_seen_by_connect(home):
    fail(home, "connection-not-ready", "--on", "connection-get")
    with pytest.raises(opd.MembraneSetupError, match=f"membrane connect --connectionId {DEMO}"):
        membrane_client(home, DEMO)


def test_unknown_action(home):
    t = transport(home)
    fail(home, "unknown-action")
    with pytest.raises(opd.NotFoundError) as info:
        t.run_action("list-contacts", {"limit": 1})
    assert f"membrane action list --connectionId {DEMO} --json" in str(info.value)
    with pytest.raises(opd.NotFoundError, match="'no-such-action'"):
        t.run_action("no-such-action", {})


def test_exit_nonzero_json_on_stdout_keeps_the_action_run_id(home):
    fail(home, "exit-nonzero-json-stdout", "--on", "action-run")
    with pytest.raises(opd.APIError) as info:
        transport(home).run_action("list-contacts", {"limit": 1})
    assert isinstance(info.value, opd.ServerError)
    message = str(info.value)
    assert "Simulated failure" in message
    assert "action run run_" in message and "membrane action-run-log get run_" in message


def test_exit_nonzero_json_on_stderr(home):
    fail(home, "exit-nonzero-json-stderr")
    with pytest.raises(opd.BadRequestError, match="refused the request"):
        transport(home).send("GET", "Contacts/getInfo")


def test_exit_nonzero_text(home):
    fail(home, "exit-nonzero-text")
    with pytest.raises(opd.TransportError) as info:
        transport(home).send("GET", "Contacts/getInfo")
    assert not isinstance(info.value, opd.APIError)
    assert "exit code 1" in str(info.value) and "socket hang up" in str(info.value)
    assert info.value.method == "GET" and info.value.path == "Contacts/getInfo"


def test_malformed_output(home):
    # A request's stdout may be the body alone: an HTML page is a gateway error (502, retried) ...
    fail(home, "malformed-output", "--on", "request")
    r = transport(home).send("GET", "Contacts/getInfo")
    assert r.status == 502 and "Bad Gateway" in r.text
    # ... while any other command must print JSON.
    fail(home, "malformed-output", "--on", "connection-get")
    with pytest.raises(opd.ProtocolError, match="not JSON"):
        transport(home).get_connection()


@pytest.mark.skipif(os.name != "posix", reason="signals")
def test_crash_is_a_failed_connection(home):
    fail(home, "crash")
    with pytest.raises(opd.ConnectionFailed, match="SIGKILL"):
        transport(home).send("GET", "Contacts/getInfo")


def test_a_crashed_read_is_retried_by_the_session(home):
    fail(home, "crash", "--on", "request")
    op = membrane_client(home, DEMO)
    op.session.retry = RetryPolicy(backoff=0.01)
    assert op.request("GET", "Contacts/getInfo")["data"]["count"] == "120"


def _alive(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    if status.exists():
        try:
            state = next(line for line in status.read_text().splitlines() if line.startswith("State:"))
        except (OSError, StopIteration):
            return False
        return "zombie" not in state and "(dead)" not in state
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.skipif(os.name != "posix", reason="process groups")
def test_hang_times_out_and_the_process_group_is_killed(home):
    fail(home, "hang")
    t = transport(home, timeout=2.0)
    t.cli.info()  # the --help check is not part of the timed call
    with pytest.raises(opd.RequestTimeout, match="no answer within 2 s"):
        t.send("GET", "Contacts/getInfo")
    pids = [int(p) for p in (home / "hang.pids").read_text().split()]
    assert len(pids) == 2  # the simulator and a child it started
    deadline = time.monotonic() + 5
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(p) for p in pids)


def test_proxied_429_is_a_response_with_the_headers(home):
    fail(home, "rate-limit")
    r = transport(home).send("GET", "Contacts/getInfo")
    assert r.status == 429
    assert r.headers["x-rate-limit-remaining"] == "0" and r.headers["x-rate-limit-reset"] == "1"


def test_rate_limited_action_raises_rate_limit_error(home):
    fail(home, "rate-limit", "--on", "action-run")
    with pytest.raises(opd.RateLimitError) as info:
        transport(home).run_action("list-contacts", {"limit": 1})
    assert info.value.reset_after == 1


# ------------------------------------------------------------------------------- connections


def test_connection_list_follows_the_cursor(tmp_path):
    h = tmp_path / "sim"
    sim(h, "sim", "init", "--contacts", "10", "--rate-limit", "none", "--page-size", "1")
    ids = [c["id"] for c in list_connections(SIM, env=env_for(h))]
    assert ids == [DEMO, PENDING, HUBSPOT]


def test_connection_list_as_a_bare_list(home):
    fail(home, "body-only-output", "--on", "connection-list")
    assert [c["id"] for c in list_connections(SIM, env=env_for(home))] == [DEMO, PENDING, HUBSPOT]


def test_connections_frame(home):
    frame = connections_frame(SIM, env=env_for(home))
    assert list(frame.columns) == ["id", "name", "state", "integration", "created", "updated"]
    assert list(frame["state"]) == ["READY", "CLIENT_ACTION_REQUIRED", "READY"]
    assert list(frame["integration"]) == ["Ontraport", "Ontraport", "HubSpot"]
    assert str(frame["created"].dtype).startswith("datetime64") and frame["created"].dt.year.iloc[0] == 2026


def test_connect_true_picks_the_only_ready_ontraport_connection(home):
    op = membrane_client(home, True)
    assert op.transport.connection_id == DEMO
    assert op.name == f"Membrane connection {DEMO} (Ontraport, simulator)"
    assert op.live is False
    created = json.loads(sim(home, "connect", "--connectorId", "cnr_ontraport", "--json").stdout)
    with pytest.raises(opd.MembraneSetupError) as info:
        membrane_client(home, True)
    message = str(info.value)
    assert "2 READY Membrane connections to Ontraport" in message
    assert DEMO in message and created["id"] in message and PENDING in message


def test_connect_rejects_other_integrations_and_unknown_ids(home):
    with pytest.raises(opd.MembraneSetupError, match="HubSpot connection, not Ontraport"):
        membrane_client(home, HUBSPOT)
    with pytest.raises(opd.MembraneSetupError, match="membrane connection list --json"):
        membrane_client(home, "conn_does_not_exist")


def test_search_and_connect_commands(home):
    found = json.loads(sim(home, "search", "ontraport", "--elementType=connector", "--json").stdout)
    connector = found["items"][0]["element"]["id"]
    created = json.loads(sim(home, "connect", f"--connectorId={connector}", "--json").stdout)
    assert created["state"] == "READY"
    assert membrane_client(home, created["id"]).request("GET", "Contacts/getInfo")["data"]["count"] == "120"


def test_simulator_error_json_on_stdout_and_a_line_on_stderr(home):
    proc = sim(home, "connection", "get", "conn_nope", "--json", check=False)
    assert proc.returncode == 1
    error = json.loads(proc.stdout)
    assert error["type"] == "bad_request" and error["key"] == "not_found"
    assert proc.stderr.strip().startswith("Error:") and len(proc.stderr.strip().splitlines()) == 1


# ------------------------------------------------------------------------------- concurrency


@pytest.mark.skipif(os.name != "posix", reason="a shebang script")
def test_concurrent_calls_are_bounded(tmp_path):
    spool = tmp_path / "spool"
    spool.mkdir()
    fake = write_program(
        tmp_path / "fake-membrane",
        "import json, os, sys, time\n"
        "if '--help' in sys.argv:\n"
        "    print('Commands: action, request, connection'); sys.exit(0)\n"
        f"spool = {str(spool)!r}\n"
        "mine = os.path.join(spool, str(os.getpid()))\n"
        "open(mine, 'w').close()\n"
        "time.sleep(0.3)\n"
        "seen = len(os.listdir(spool))\n"
        "os.remove(mine)\n"
        "print(json.dumps({'status': 200, 'headers': {}, 'body': {'code': 0, 'data': seen}}))\n",
    )
    t = MembraneTransport(DEMO, command=[str(fake)], max_concurrency=2)
    seen: list[int] = []

    def one() -> None:
        seen.append(t.send("GET", "Contacts").json()["data"])

    threads = [threading.Thread(target=one) for _ in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(seen) == 6 and max(seen) <= 2


def test_action_list_both_forms_and_intent(home):
    t = transport(home)
    assert len(t.list_actions()) == 20
    assert [a["key"] for a in t.list_actions("list contacts")] == ["list-contacts"]
    fail(home, "body-only-output", "--on", "action-list")
    items = t.list_actions()
    assert len(items) == 20 and {"key", "inputSchema", "outputSchema"} <= set(items[0])


def test_action_run_both_forms(home):
    t = transport(home)
    full = t.run_action("get-contact", {"id": 4})
    assert full["id"] == "4" and t.last_action_run_id.startswith("run_")
    fail(home, "body-only-output", "--on", "action-run")
    assert t.run_action("get-contact", {"id": 4}) == full


def test_refused_ontraport_credentials_say_reconnect(home):
    from ontraport_pandas.sandbox.membrane_state import SimState

    SimState(home).set_credentials(DEMO, "2_revoked", "revoked-key")
    t = transport(home)
    with pytest.raises(opd.MembraneSetupError, match=f"`membrane connect --connectionId {DEMO}`"):
        t.send("GET", "Contacts/getInfo")
    with pytest.raises(opd.MembraneSetupError, match="Ontraport refused the App ID / API key"):
        t.run_action("get-contact", {"id": 1})
    sim(home, "connect", "--connectionId", DEMO, "--json")  # re-entering them repairs the connection
    assert t.send("GET", "Contacts/getInfo").status == 200
