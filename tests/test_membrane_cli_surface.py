"""The membrane simulator's command line against membrane-cli.md, driven as a user's shell would.

Scripts we did not write drive the simulator as they would the real CLI: it must take
exactly the documented commands, flags and inputs, refuse the rest (exit 2, error JSON),
and print the documented shapes (JSON only with ``--json``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .membrane_fixtures import DEMO, sim


def refused(home: Path, *args: str) -> dict[str, Any]:
    """Run a command that must be a usage error; return its error JSON."""
    proc = sim(home, *args, check=False)
    assert proc.returncode == 2, (args, proc.returncode, proc.stdout, proc.stderr)
    error = json.loads(proc.stdout)
    assert error["type"] == "bad_request" and "membrane --help" in error["message"]
    assert proc.stderr.startswith("Error: ")
    return error


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("connection", "list", "--bogus", "--json"), "unknown option --bogus"),
        (("connection", "list", "--includeArchived", "--json"), "unknown option --includeArchived"),
        (
            ("action", "run", "list-contacts", "--connectionId", DEMO, "--inputs", "{}"),
            "unknown option --inputs",
        ),
        (("request", DEMO, "/Contacts", "--verbose"), "unknown option --verbose"),
        (("connections", "list"), "unknown command 'connections'"),
        (("--version",), "unknown option --version"),
        (("connection", "lst"), "unknown connection command 'lst'"),
        (("connection",), "`connection` needs a command"),
        (
            ("action", "run", "list-contacts", "--connectionId", "--json"),
            "--connectionId of `action run` needs a value",
        ),
        (("action", "run", "--connectionId", DEMO, "--json"), "`action run` needs <actionId>"),
        (("connection", "get", "--json"), "`connection get` needs <id>"),
        (("connection", "get", DEMO, "extra", "--json"), "takes no argument 'extra'"),
        (("request", DEMO), "`request` needs <path>"),
        (("connection", "list", "--limit", "abc"), "--limit must be a whole number"),
        (("connection", "list", "--limit", "0"), "--limit must be between 1 and 1000"),
        (("action", "list", "--connectionId", DEMO, "--limit", "1001"), "between 1 and 1000"),
        (("search", "ontraport", "--limit", "101"), "between 1 and 100"),
        (("search", "x" * 201), "1 to 200 characters"),
        (("search", "ontraport", "--elementType", "widget"), "--elementType must be one of"),
        (("connection", "get", DEMO, "--timeout", "61"), "between 1 and 60"),
        (("connection", "list", "--json=yes"), "--json of `connection list` takes no value"),
        (("connect", "--json"), "connect needs one of --connectorId"),
        (("request", DEMO, "/Contacts", "--query", "range"), "--query takes key=value"),
        (("request", DEMO, "/Contacts", "-H", "Accept"), "-H/--header takes"),
        (("request", DEMO, "/Contacts", "-X", "FETCH"), "unknown HTTP method"),
        (("token", "--expiresIn", "forever"), "unknown command 'token'"),
        (("sim", "fail", "crash", "--times", "x"), "--times must be a whole number"),
        (("sim", "init", "--contacts", "many"), "--contacts must be a number"),
    ],
)
def test_undocumented_input_is_a_usage_error(home, args, said):
    assert said in refused(home, *args)["message"]


def test_help_is_printed_without_a_command_and_for_any_command(home):
    for args in ((), ("--help",), ("help",), ("connection", "list", "--help"), ("-h",)):
        proc = sim(home, *args)
        assert "action run <actionId>" in proc.stdout and "request <connectionId> <path>" in proc.stdout


def test_a_usage_error_is_not_a_python_traceback(home):
    proc = sim(home, "action", "list", "--connectionId", DEMO, "--cursor", "--limit", "x", check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_flags_take_both_forms_and_any_position(home):
    a = json.loads(sim(home, "connection", "list", "--limit", "1", "--json").stdout)
    b = json.loads(sim(home, "--json", "connection", "--limit=1", "list").stdout)
    assert a == b and len(a["items"]) == 1 and a["cursor"] == "1"
    assert json.loads(sim(home, "connection", "list", "--cursor", a["cursor"], "--json").stdout)["items"]


def test_workspace_and_tenant_keys_are_accepted_by_every_command(home):
    out = sim(home, "connection", "get", DEMO, "--workspaceKey", "w", "--tenantKey", "t", "--json").stdout
    assert json.loads(out)["id"] == DEMO


def test_a_bad_cursor_is_an_api_error(home):
    proc = sim(home, "connection", "list", "--cursor", "abc", "--json", check=False)
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["type"] == "bad_request" and "cursor" in json.loads(proc.stdout)["message"]


def test_without_json_the_output_is_short_text(home):
    text = sim(home, "connection", "list").stdout
    assert not text.lstrip().startswith(("{", "["))
    assert f"{DEMO}  Ontraport (demo)  READY" in text.splitlines()
    record = sim(home, "connection", "get", DEMO).stdout
    assert f"id: {DEMO}" in record.splitlines() and "state: READY" in record.splitlines()
    run = sim(home, "action", "run", "get-contact", "--connectionId", DEMO, "--input", '{"id": 3}').stdout
    assert not run.lstrip().startswith("{") and "output: " in run and "actionRunId: run_" in run
    hits = sim(home, "search", "ontraport").stdout
    assert hits.splitlines()[0] == "connector  cnr_ontraport  ontraport  Ontraport"


def test_login_without_a_terminal_is_headless(home):
    sim(home, "logout")
    out = sim(home, "login", "--tenant").stdout  # stdin is not a terminal: prints the consent URL
    assert "consent" in out and "membrane login complete SIMCODE" in out
    status = json.loads(sim(home, "status", "--json").stdout)
    assert status["loggedIn"] is False
    bad = sim(home, "login", "complete", "WRONG", check=False)
    assert bad.returncode == 1 and json.loads(bad.stdout)["key"] == "not_authenticated"
    assert json.loads(sim(home, "status", "--json").stdout)["loggedIn"] is False
    sim(home, "login", "complete", "SIMCODE")
    assert json.loads(sim(home, "status", "--json").stdout)["loggedIn"] is True


def test_login_api_uri_is_kept(home):
    sim(home, "login", "--apiUri", "http://127.0.0.1:9/", "start")
    assert json.loads(sim(home, "status", "--json").stdout)["apiUri"] == "http://127.0.0.1:9"
    assert "API http://127.0.0.1:9" in sim(home, "status").stdout


def test_request_path_params_and_inline_query(home):
    def body(*args: str) -> Any:
        return json.loads(sim(home, "request", DEMO, *args, "--json").stdout)

    by_query = body("/Contact", "--query", "id=3")
    assert by_query["status"] == 200 and by_query["body"]["data"]["id"] == "3"
    assert body("/Contact?id=3") == by_query
    assert body("/{type}", "--pathParam", "type=Contact", "--query", "id=3") == by_query
    assert body("/:type", "--pathParam=type=Contact", "--query=id=3") == by_query
    assert body("/Contact", "--query", "id=3", "-H", "Accept: application/json")["body"] == by_query["body"]
    proc = sim(home, "request", DEMO, "/{type}", "--query", "id=3", "--json", check=False)
    assert proc.returncode == 1 and "pathParam" in json.loads(proc.stdout)["message"]


def test_request_data_starting_with_a_dash_needs_the_equals_form(home):
    refused(home, "request", DEMO, "/Contacts", "-X", "PUT", "-d", "-1")
    proc = sim(home, "request", DEMO, "/Contacts", "-X", "PUT", "--data=-1", "--json", check=False)
    assert json.loads(proc.stdout)["status"] == 400  # reached Ontraport, which refuses a body of -1


def test_action_list_ignores_intent_without_a_connection(home):
    every = json.loads(sim(home, "action", "list", "--limit", "100", "--json").stdout)["items"]
    ignored = json.loads(sim(home, "action", "list", "--intent", "tags", "--limit", "100", "--json").stdout)
    assert [i["id"] for i in ignored["items"]] == [i["id"] for i in every] and len(every) == 20
    ranked = sim(home, "action", "list", "--connectionId", DEMO, "--intent", "tags", "--json").stdout
    assert 0 < len(json.loads(ranked)["items"]) < 20


def test_catalog_actions_have_no_key(home):
    items = json.loads(sim(home, "action", "list", "--externalAppId", "app_ontraport", "--json").stdout)[
        "items"
    ]
    assert items and all(i["key"] == "" and i["id"].startswith("act_") for i in items)
    other = json.loads(sim(home, "action", "list", "--externalAppId", "app_other", "--json").stdout)
    assert other == {"items": []}


def test_action_run_log_records_each_run(home):
    ran = json.loads(
        sim(
            home, "action", "run", "get-contact", "--connectionId", DEMO, "--input", '{"id": 3}', "--json"
        ).stdout
    )
    log = json.loads(sim(home, "action-run-log", "get", ran["actionRunId"], "--json").stdout)
    assert log["id"] == ran["actionRunId"] and log["status"] == "success"
    assert log["input"] == {"id": 3} and log["output"] == ran["output"]
    assert log["action"]["key"] == "get-contact" and log["connection"]["id"] == DEMO
    failed = sim(
        home, "action", "run", "get-contact", "--connectionId", DEMO, "--input", "{}", "--json", check=False
    )
    assert failed.returncode == 1
    run_id = json.loads(failed.stdout)["actionRunId"]
    detail = json.loads(sim(home, "action-run-log", "get", run_id, "--details", "--json").stdout)
    assert detail["status"] == "error" and detail["error"]["type"] == "bad_request" and detail["logs"]
    missing = sim(home, "action-run-log", "get", "run_nope", "--json", check=False)
    assert missing.returncode == 1 and json.loads(missing.stdout)["key"] == "not_found"


def test_connect_by_integration_key_and_repair_by_connection_key(home):
    made = json.loads(sim(home, "connect", "--integrationKey", "ontraport", "--json").stdout)
    assert made["state"] == "READY" and made["integrationKey"] == "ontraport"
    unknown = sim(home, "connect", "--connectionKey", "nope", "--json", check=False)
    assert unknown.returncode == 1 and json.loads(unknown.stdout)["key"] == "not_found"


def test_search_finds_integrations_and_pages(home):
    both = json.loads(sim(home, "search", "ontraport", "--json").stdout)["items"]
    assert [i["elementType"] for i in both] == ["connector", "integration"]
    one = json.loads(sim(home, "search", "ontraport", "--limit", "1", "--json").stdout)
    assert len(one["items"]) == 1 and one["cursor"] == "1"


def test_token_expires_in_and_credentials_shell(home):
    sim(home, "sim", "dialect", "proxy")
    short = json.loads(sim(home, "token", "--expiresIn", "5m", "--json").stdout)
    long = json.loads(sim(home, "token", "--expiresIn", "24h", "--manager", "--json").stdout)
    assert short["expiresAt"] < long["expiresAt"]
    refused(home, "token", "--expiresIn", "soon")
    plain = sim(home, "token").stdout.strip()
    assert plain.startswith("simtok_") and "\n" not in plain
    shell = sim(home, "credentials", "--shell").stdout.splitlines()
    assert "export MEMBRANE_WORKSPACE_KEY=sim-workspace" in shell
    assert any(line.startswith("export MEMBRANE_API_URI=") for line in shell)


def test_act_runs_by_key_id_or_api_and_refuses_code(home):
    def act(*args: str) -> Any:
        return sim(home, "act", "--connectionId", DEMO, *args, "--json", check=False)

    by_key = json.loads(act("--key", "get-contact", "--input", '{"id": 3}').stdout)
    by_id = json.loads(act("--id", "act_get_contact", "--input", '{"id": 3}').stdout)
    assert by_key["output"] == by_id["output"] and by_key["output"]["id"] == "3"
    assert by_key["actionRunId"] != by_id["actionRunId"]
    assert json.loads(act("--id", "get-contact").stdout)["key"] == "not_found"  # --id takes ids only
    api = json.loads(
        act("--api", json.dumps({"method": "GET", "path": "/Contact", "query": {"id": 3}})).stdout
    )
    assert api["output"]["data"]["id"] == "3" and api["actionRunId"].startswith("run_")
    missing = act("--api", '{"path": "/Nope"}')
    error = json.loads(missing.stdout)
    assert missing.returncode == 1 and error["type"] == "action_run" and error["actionRunId"]
    assert error["data"]["response"]["status"] == 404
    code = act("--code", "return 1")
    assert code.returncode == 1 and json.loads(code.stdout)["type"] == "custom_code"
    assert (
        "exactly one of" in refused(home, "act", "--connectionId", DEMO, "--key", "a", "--id", "b")["message"]
    )
    assert (
        "--meta must be JSON"
        in refused(home, "act", "--connectionId", DEMO, "--key", "a", "--meta", "{")["message"]
    )


def test_connection_ensure_create_patch_and_delete(home):
    def run(*args: str) -> Any:
        return json.loads(sim(home, "connection", *args, "--json").stdout)

    assert run("ensure", "https://ontraport.com/")["id"] == DEMO  # the first Ontraport connection
    made = run("create", "sync my hubspot contacts", "--name", "CRM")
    assert made["state"] == "CLIENT_ACTION_REQUIRED" and made["integrationKey"] == "hubspot"
    assert (
        made["name"] == "CRM"
        and "membrane connect --connectionId" in made["clientAction"]["agentInstructions"]
    )
    unknown = sim(home, "connection", "ensure", "https://example.com/", "--json", check=False)
    assert unknown.returncode == 1 and json.loads(unknown.stdout)["key"] == "not_found"
    patched = run("patch", DEMO, "--data", '{"name": "Main CRM", "key": "main"}')
    assert patched["name"] == "Main CRM" and run("get", "main")["id"] == DEMO
    bad = sim(home, "connection", "patch", DEMO, "--data", '{"state": "READY"}', "--json", check=False)
    assert bad.returncode == 1 and "Cannot change state" in json.loads(bad.stdout)["message"]
    assert "needs --data" in refused(home, "connection", "patch", DEMO)["message"]
    archived = run("delete", "main")
    assert archived["archivedAt"]
    assert DEMO not in [c["id"] for c in run("list", "--limit", "100")["items"]]
    gone = sim(home, "request", DEMO, "/Contacts", "--json", check=False)
    assert gone.returncode == 1 and json.loads(gone.stdout)["key"] == "not_found"
    fresh = run("ensure", "https://ontraport.com/")  # the pending one, then a new one
    assert fresh["id"] != DEMO and fresh["integrationKey"] == "ontraport"
