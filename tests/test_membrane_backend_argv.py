"""The Membrane backend's argv as the CLI's parser (minimist, membrane-cli.md §1) reads it.

With minimist, ``--flag value`` leaves the flag empty when the value starts with a dash,
and reads the value as flags of its own; the backend must pass such values whole.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

import ontraport_pandas as opd
from ontraport_pandas.transports.membrane import state_of
from ontraport_pandas.transports.membrane_cli import MembraneCLI

from .membrane_fixtures import DEMO, SIM, env_for, membrane_client, sim

#: A stand-in CLI whose connection list pages with a cursor that starts with a dash (base64url
#: cursors may), parsing its argv as minimist does.
FAKE = """
import json, sys
from ontraport_pandas.sandbox.membrane_argv import BOOLEANS, parse
args = parse(sys.argv[1:], BOOLEANS)
if args.flag("help"):
    print("membrane: action, request, connection")
    sys.exit(0)
with open(sys.argv[0] + ".log", "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
cursor = args.get("cursor")
if cursor is True:
    print(json.dumps({"type": "bad_request", "message": "option --cursor needs a value"}))
    sys.exit(2)
if args.pos[:2] == ["connection", "list"]:
    if cursor is None:
        print(json.dumps({"items": [{"id": "c1", "state": "READY"}], "cursor": "-Ab3"}))
    elif cursor == "-Ab3":
        print(json.dumps({"items": [{"id": "c2", "state": "READY"}]}))
    else:
        print(json.dumps({"type": "bad_request", "message": "bad cursor " + str(cursor)}))
        sys.exit(1)
    sys.exit(0)
sys.exit(2)
"""


def test_a_cursor_starting_with_a_dash_reaches_the_cli_whole(tmp_path):
    script = tmp_path / "fake_membrane.py"
    script.write_text(FAKE)
    cli = MembraneCLI([sys.executable, str(script)], env={"PYTHONPATH": str(Path.cwd())})
    assert [c["id"] for c in cli.list_connections()] == ["c1", "c2"]
    calls = [json.loads(line) for line in Path(str(script) + ".log").read_text().splitlines()]
    assert calls[-1] == ["connection", "list", "--json", "--cursor=-Ab3"]


def test_an_intent_starting_with_a_dash_is_passed_whole(home):
    op = membrane_client(home, DEMO)
    try:
        dashed = op.actions(intent="-tags")
        plain = op.actions(intent="tags")
    finally:
        op.close()
    assert list(dashed["key"]) == list(plain["key"]) and 0 < len(plain) < 20


def test_a_connection_id_that_the_cli_would_read_as_an_option_is_refused(home):
    with pytest.raises(opd.ConfigurationError, match="starts with '-'"):
        membrane_client(home, "--json")
    with pytest.raises(opd.ConfigurationError, match="starts with '-'"):
        membrane_client(home, "-x")


def test_writes_and_queries_pass_through_the_equals_form(home):
    op = membrane_client(home, DEMO)
    try:
        op.run("update-contact", {"id": 4, "fields": {"firstname": "-Dash"}})
        assert op.contact(4)["firstname"] == "-Dash"
        assert len(op.contacts(where="firstname == '-Dash'", progress=False)) == 1
    finally:
        op.close()
    got = json.loads(sim(home, "request", DEMO, "/Contact", "--query=id=4", "--json").stdout)
    assert got["body"]["data"]["firstname"] == "-Dash"


TOKEN_CLI = """
import sys
if "--help" in sys.argv:
    print("membrane: action, request, token")
elif sys.argv[1:3] == ["token", "--json"]:
    print(sys.argv[0].endswith("bare.py") and "{token}" or "Error: something else went wrong here")
"""


@pytest.mark.parametrize("name", ["bare.py", "other.py"])
def test_a_bare_token_on_stdout_is_taken_and_never_shown(tmp_path, caplog, name):
    import base64
    import time

    claims = (
        base64.urlsafe_b64encode(json.dumps({"exp": int(time.time()) + 600}).encode()).decode().rstrip("=")
    )
    token = f"eyJhbGciOiJIUzI1NiJ9.{claims}.c2lnbmF0dXJlLW5vdC1jaGVja2Vk"
    script = tmp_path / name
    script.write_text(TOKEN_CLI.replace("{token}", token))
    cli = MembraneCLI([sys.executable, str(script)])
    got = cli.token()
    if name == "bare.py":
        assert got is not None and got["token"] == token
        assert got["expires_at"] == pytest.approx(time.time() + 600, abs=5)
    else:
        assert got is None  # a line of text is no token
    assert token not in caplog.text and token not in repr(cli)


def test_an_archived_connection_is_not_ready_and_says_so(home):
    sim(home, "connection", "delete", DEMO, "--json")
    record = json.loads(sim(home, "connection", "get", DEMO, "--json").stdout)
    assert record["state"] == "READY" and record["archivedAt"]  # still says READY
    with pytest.raises(opd.MembraneSetupError, match="was deleted") as info:
        membrane_client(home, DEMO)
    assert "membrane connection list --json" in str(info.value)
    assert state_of(record) == "ARCHIVED"
    listed = MembraneCLI(SIM, env=env_for(home)).list_connections()
    assert DEMO not in [c["id"] for c in listed]  # the CLI lists live connections only
