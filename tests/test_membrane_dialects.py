"""The contract suite in every dialect of the membrane simulator (``sim dialect <name>``).

Each dialect is one reading of the vendor's evidence (membrane-cli.md §3-§8): how
``membrane request`` prints its answer, where and how errors are printed, how actions
and their input schemas look, what connection records carry, whether the
connector's base URL ends in ``/1``, and the HTTP proxy route. The same behaviours
must hold in each: the full frame loads (also after a failed CLI call), errors map to
the same classes, a push writes what the sandbox reads back.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import ontraport_pandas as opd
from ontraport_pandas.sandbox.membrane_proxy import serve_proxy
from ontraport_pandas.sandbox.membrane_state import DIALECTS

from .membrane_fixtures import CONTACTS, DEMO, copy_home, env_for, init_home, membrane_client, sim

#: Dialects in which the demo connection is usable.
USABLE = [d for d in DIALECTS if d != "disconnected"]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # A page size of 7 makes the action list (20 items) and the connection list page.
    return init_home(tmp_path_factory.mktemp("dialects") / "sim", "--page-size", "7")


@pytest.fixture
def dialect_home(
    request: pytest.FixtureRequest, template: Path, tmp_path: Path
) -> Iterator[tuple[str, Path]]:
    dialect = request.param
    home = copy_home(template, tmp_path)
    sim(home, "sim", "dialect", dialect)
    served = serve_proxy(home) if dialect == "proxy" else None
    try:
        yield dialect, home
    finally:
        if served is not None:
            served.shutdown()


def sandbox_for(home: Path) -> Any:
    return opd.connect("sandbox", path=str(home / "sandbox.sqlite"), rate_limit=None)


def plain(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out.attrs = {}
    return out


def client(home: Path, **kw: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("error", opd.BackendFallbackWarning)  # the route must be the expected one
        return membrane_client(home, DEMO, **kw)


def expected_mode(dialect: str) -> str:
    return "proxy" if dialect == "proxy" else "cli"


# ------------------------------------------------------------------------------- every dialect


@pytest.mark.parametrize("dialect_home", USABLE, indirect=True)
def test_full_frame_loads_through_failed_calls_and_equals_the_sandbox(dialect_home):
    dialect, home = dialect_home
    op = client(home)
    assert op.transport.mode == expected_mode(dialect)
    assert ("proxy route" if dialect == "proxy" else "membrane request") in op.backend
    assert op.transport.path_prefix == ("/1" if dialect == "base-without-v1" else "")
    op.session.retry = dataclasses.replace(op.session.retry, backoff=0.01)
    # A Membrane-side 5xx as error JSON, then a plain-text "socket hang up": both retried like over HTTP.
    sim(home, "sim", "fail", "exit-nonzero-json-stdout", "--times", "1", "--on", "request")
    sim(home, "sim", "fail", "exit-nonzero-text", "--times", "1", "--on", "request")
    got = op.contacts(progress=False)
    assert '"mode"' not in sim(home, "sim", "status").stdout  # both failures were met
    sandbox = sandbox_for(home)
    pd.testing.assert_frame_equal(plain(got), plain(sandbox.contacts(progress=False)), check_dtype=True)
    assert len(got) == CONTACTS and got.index.is_unique
    sandbox.close()
    op.close()


@pytest.mark.parametrize("dialect_home", USABLE, indirect=True)
def test_errors_and_rate_limits_map_to_the_same_classes(dialect_home):
    dialect, home = dialect_home
    op = client(home)
    bad = '[{"field":{"field":"nope"},"op":"=","value":{"value":"1"}}]'
    # text-errors gives only "status code 400", so the narrower InvalidQueryError can't be told.
    expected = opd.BadRequestError if dialect == "text-errors" else opd.InvalidQueryError
    with pytest.raises(expected):
        op.request("GET", "Contacts", params={"condition": bad})
    with pytest.raises(opd.NotFoundError):
        op.run("no-such-action", {})
    op.session.retry = dataclasses.replace(
        op.session.retry, max_rate_limit_waits=0
    )  # raise, to see the mapping
    sim(home, "sim", "fail", "rate-limit", "--on", "request")
    with pytest.raises(opd.RateLimitError) as info:
        op.request("GET", "Contacts/getInfo")
    assert info.value.status == 429
    if dialect not in ("text-errors", "body-only"):  # the headers came through: the reset is the server's
        assert info.value.reset_after == 1
    op.close()


@pytest.mark.parametrize("dialect_home", USABLE, indirect=True)
def test_a_push_writes_what_the_sandbox_reads_back(dialect_home):
    dialect, home = dialect_home
    if dialect == "no-schemas":
        with pytest.warns(opd.BackendFallbackWarning, match="REST"):
            op = membrane_client(home, DEMO)
            result = _push(op, home)
        assert "contact writes through REST" in op.backend
    else:
        op = client(home)
        result = _push(op, home)
        assert "hosted actions" in op.backend
        assert op.transport.last_action_run_id is not None
    result.raise_for_errors()
    assert set(result.frame["status"]) == {"ok"}
    op.close()


def _push(op: Any, home: Path) -> Any:
    c = op.contacts(progress=False)
    ids = c.index[:3]
    edited = c.copy()
    edited.loc[ids, "firstname"] = "Dialect"
    edited.loc[ids[:2], "contact_cat"] = edited.loc[ids[:2], "contact_cat"].map(lambda t: [*t, "Dialect Tag"])
    new = pd.DataFrame(
        {"firstname": ["Matched"], "email": [c["email"].dropna().iloc[-1].upper()]},
        index=pd.Index([pd.NA], dtype="Int64", name="id"),
    ).astype("string")
    edited = pd.concat([edited, new])
    edited.attrs = c.attrs
    result = op.plan(edited).apply()
    sandbox = sandbox_for(home)
    after = sandbox.contacts(progress=False)
    assert (after.loc[ids, "firstname"] == "Dialect").all()
    assert all("Dialect Tag" in after.at[i, "contact_cat"] for i in ids[:2])
    assert len(after) == len(c)  # the create matched on e-mail
    matched = after[after["email"].str.upper() == new["email"].iloc[0]]
    assert list(matched["firstname"]) == ["Matched"]
    sandbox.close()
    return result


# ------------------------------------------------------------------------------- one dialect each


@pytest.mark.parametrize("dialect_home", ["disconnected"], indirect=True)
def test_ready_but_disconnected_is_not_ready(dialect_home):
    _, home = dialect_home
    with pytest.raises(opd.MembraneSetupError, match=f"membrane connect --connectionId {DEMO}") as info:
        membrane_client(home, DEMO)
    assert "DISCONNECTED" in str(info.value)
    with pytest.raises(opd.MembraneSetupError, match="no READY Membrane connection"):
        membrane_client(home, True)
    # A request through it (bypassing the connect check) is refused the same way.
    from .membrane_fixtures import transport

    with pytest.raises(opd.MembraneSetupError, match="is not ready"):
        transport(home).send("GET", "Contacts/getInfo")


@pytest.mark.parametrize("dialect_home", ["code-errors"], indirect=True)
def test_code_style_errors(dialect_home):
    _, home = dialect_home
    from .membrane_fixtures import PENDING, transport

    with pytest.raises(opd.MembraneSetupError, match=f"membrane connect --connectionId {PENDING}"):
        transport(home, PENDING).send("GET", "Contacts/getInfo")
    sim(home, "sim", "fail", "not-logged-in", "--on", "request")
    with pytest.raises(opd.MembraneSetupError, match="membrane login --tenant"):
        transport(home).send("GET", "Contacts/getInfo")


@pytest.mark.parametrize("dialect_home", ["text-errors", "stderr-json"], indirect=True)
def test_not_logged_in_is_told_apart_in_every_error_placement(dialect_home):
    dialect, home = dialect_home
    from .membrane_fixtures import transport

    t = transport(home)
    t.send("GET", "Contacts/getInfo")
    sim(home, "logout")
    with pytest.raises(opd.MembraneSetupError, match="membrane login --tenant"):
        t.send("GET", "Contacts/getInfo")
    if dialect == "text-errors":
        assert t.cli._logged_in is False  # plain text said nothing: `membrane status --json` was asked


@pytest.mark.parametrize("dialect_home", ["ids-only"], indirect=True)
def test_actions_without_keys_resolve_by_name_and_run_by_id(dialect_home):
    _, home = dialect_home
    op = client(home)
    listed = op.actions()
    assert (listed["key"] == "").all() and listed["id"].str.startswith("act_").all()
    assert len(listed) == 20  # followed the cursor over pages of 7
    full = op.run("get-contact", {"id": 4}, raw=True)  # matched by its name "Get contact"
    assert full["id"] == "4"
    with pytest.raises(opd.NotFoundError) as info:
        op.run("no-such-action", {})
    assert "id act_get_contact" in str(info.value)  # lists what the connection offers
    op.close()


@pytest.mark.parametrize("dialect_home", ["flat-inputs"], indirect=True)
def test_a_field_the_schema_lacks_is_refused_before_anything_is_sent(dialect_home, tmp_path):
    _, home = dialect_home
    op = client(home)
    c = op.contacts(progress=False)
    edited = c.copy()
    rid = c.index[0]
    edited.loc[rid, "firstname"] = "Never"
    edited.loc[rid, "f1003"] = 99  # a custom field the hosted action does not declare
    plan = op.plan(edited)
    with pytest.raises(opd.ActionSchemaError) as info:
        plan.apply(journal_dir=str(tmp_path / "journal"))
    err = info.value
    assert err.action == "update-contact" and "f1003" in err.sent and "firstname" in err.accepted
    assert "act_update_contact" in str(err) and "Nothing was sent" in str(err)
    assert not (tmp_path / "journal").exists() or not any((tmp_path / "journal").iterdir())
    sandbox = sandbox_for(home)
    assert sandbox.contact(int(rid))["firstname"] == c.loc[rid, "firstname"]
    sandbox.close()
    # The same push through REST writes both fields.
    rest = membrane_client(home, DEMO, writes="rest")
    again = rest.contacts(progress=False)
    edited = again.copy()
    edited.loc[rid, "firstname"] = "Never"
    edited.loc[rid, "f1003"] = 99
    rest.plan(edited).apply().raise_for_errors()
    assert "contact writes through REST" in rest.backend
    sandbox = sandbox_for(home)
    row = sandbox.contact(int(rid))
    assert row["firstname"] == "Never" and row["f1003"] == 99
    sandbox.close()


@pytest.mark.parametrize("dialect_home", ["flat-inputs", "nested-inputs"], indirect=True)
def test_the_simulator_ignores_input_its_schema_lacks(dialect_home):
    # Why inputs must follow the schema: the wrong shape "succeeds" and changes nothing.
    dialect, home = dialect_home
    op = client(home)
    before = op.contact(5)["firstname"]
    out = op.run("update-contact", {"id": "5", "fields": {"firstname": "Ignored"}}, raw=True)
    assert op.contact(5)["firstname"] == before
    assert out == (
        {"record": {"id": "5", "updated": []}} if dialect == "nested-inputs" else {"id": "5", "updated": []}
    )
    op.close()


@pytest.mark.parametrize("dialect_home", ["standard"], indirect=True)
def test_an_output_that_does_not_confirm_the_record_fails_the_row(dialect_home):
    _, home = dialect_home
    op = client(home)
    c = op.contacts(progress=False)
    edited = c.copy()
    ids = list(c.index[:2])
    edited.loc[ids, "lastname"] = "Unconfirmed"
    sim(home, "sim", "fail", "silent-no-op", "--times", "1", "--on", "action-run")
    result = op.plan(edited).apply()
    statuses = result.frame["status"].value_counts().to_dict()
    assert statuses == {"ok": 1, "failed": 1}
    failed = result.frame.query("status == 'failed'")
    assert failed["error"].str.contains("without confirming record id").all()
    sandbox = sandbox_for(home)
    after = sandbox.contacts(progress=False).loc[ids, "lastname"]
    assert (after == "Unconfirmed").sum() == 1  # the no-op changed nothing and was not reported ok
    sandbox.close()
    op.close()


@pytest.mark.parametrize("dialect_home", ["no-integration-key"], indirect=True)
def test_ontraport_is_told_by_integration_id(dialect_home):
    _, home = dialect_home
    made = sim(home, "connect", "--connectorId", "cnr_ontraport", "--name", "Sales CRM", "--json")
    import json

    cid = json.loads(made.stdout)["id"]
    op = membrane_client(home, cid)  # no key, no name match: the integration id tells
    assert op.count("contacts") == CONTACTS
    with pytest.raises(opd.MembraneSetupError, match="not Ontraport"):
        membrane_client(home, "conn_hubspot_demo")
    with pytest.raises(opd.MembraneSetupError, match="2 READY Membrane connections to Ontraport"):
        membrane_client(home, True)
    op.close()


def test_every_dialect_is_covered():
    assert set(USABLE) | {"disconnected"} == set(DIALECTS)


def test_sim_dialect_is_persisted_and_checked(tmp_path):
    home = init_home(tmp_path / "sim")
    assert sim(home, "sim", "dialect").stdout.count('"standard"') >= 1
    sim(home, "sim", "dialect", "body-only,ids-only")
    out = sim(home, "sim", "status").stdout
    assert '"body-only"' in out and '"ids-only"' in out
    bad = sim(home, "sim", "dialect", "nope", check=False)
    assert bad.returncode == 2 and "unknown dialect" in bad.stdout
    assert env_for(home)["MEMBRANE_SIM_HOME"] == str(home)
