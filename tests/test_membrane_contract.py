"""Contract: the client over Membrane (the simulator, a real subprocess) behaves as over the in-process sandbox.

Both backends read the same SQLite file, so every answer must be the same frame.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import ontraport_pandas as opd
from ontraport_pandas.transports.membrane import MembraneTransport

from .membrane_fixtures import (
    CONTACTS,
    DEMO,
    SIM,
    init_home,
    membrane_client,
    new_home,
    sim,
)


@pytest.fixture(scope="module")
def shared_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One simulator state for this module's read-only tests."""
    return new_home(tmp_path_factory)


@pytest.fixture(scope="module")
def pair(shared_home: Path) -> Iterator[tuple[Any, Any]]:
    membrane = membrane_client(shared_home, DEMO)
    sandbox = opd.connect("sandbox", path=str(shared_home / "sandbox.sqlite"), rate_limit=None)
    yield membrane, sandbox
    membrane.close()
    sandbox.close()


def plain(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out.attrs = {}
    return out


def test_membrane_client_is_a_membrane_transport(pair):
    membrane, sandbox = pair
    assert isinstance(membrane.transport, MembraneTransport)
    assert membrane.live is False and "Membrane connection conn_ontraport_demo" in membrane.name


def test_contacts_load_the_same_frame(pair):
    membrane, sandbox = pair
    got = membrane.contacts(progress=False)
    want = sandbox.contacts(progress=False)
    assert len(got) == CONTACTS
    pd.testing.assert_frame_equal(plain(got), plain(want), check_dtype=True)
    assert got.attrs["ontraport"]["connection"] == membrane.name


def test_count_and_where_agree(pair):
    membrane, sandbox = pair
    assert membrane.count("contacts") == sandbox.count("contacts") == CONTACTS
    where = "bulk_mail == 'Opted-in' and f1003 > 3"
    assert membrane.count("contacts", where=where) == sandbox.count("contacts", where=where)
    got = membrane.contacts(where=where, fields=["firstname", "email"], progress=False)
    want = sandbox.contacts(where=where, fields=["firstname", "email"], progress=False)
    assert 0 < len(got) < CONTACTS
    pd.testing.assert_frame_equal(plain(got), plain(want))


def test_other_types_and_single_records(pair):
    membrane, sandbox = pair
    pd.testing.assert_frame_equal(plain(membrane.tags(progress=False)), plain(sandbox.tags(progress=False)))
    pd.testing.assert_frame_equal(
        plain(membrane.products(progress=False)), plain(sandbox.products(progress=False))
    )
    email = sandbox.contacts(fields=["email"], limit=3, progress=False)["email"].dropna().iloc[0]
    pd.testing.assert_series_equal(membrane.contact_by_email(email), sandbox.contact_by_email(email))


def test_errors_map_the_same(pair):
    membrane, sandbox = pair
    for op in pair:
        with pytest.raises(opd.UnknownFieldError):
            op.contacts(where="no_such_field == 1", progress=False)
        with pytest.raises(opd.InvalidQueryError):
            op.request(
                "GET",
                "Contacts",
                params={"condition": '[{"field":{"field":"nope"},"op":"=","value":{"value":"1"}}]'},
            )


def test_a_proxied_429_is_waited_out(home):
    op = membrane_client(home, DEMO)
    sim(home, "sim", "fail", "rate-limit", "--on", "request")
    before = op.session.requests_sent
    assert op.count("contacts") == CONTACTS
    assert op.session.requests_sent - before >= 2  # the 429, then the request again
    assert op.session.limiter.waited >= 0.5


def test_the_sandbox_rate_limit_applies_across_processes(tmp_path):
    # 3 requests a second, kept in the sandbox file that every simulator process shares.
    h = init_home(tmp_path / "sim", "--rate-limit", "3", "--rate-window", "1")
    op = membrane_client(h, DEMO, max_workers=4)
    frame = op.contacts(progress=False)
    assert len(frame) == CONTACTS
    assert op.session.requests_sent > 3 and op.session.limiter.waited > 0
    sandbox = opd.connect("sandbox", path=str(h / "sandbox.sqlite"), rate_limit=None)
    pd.testing.assert_frame_equal(plain(frame), plain(sandbox.contacts(progress=False)))
    sandbox.close()


def test_connect_through_opd_connect(home, monkeypatch):
    monkeypatch.setenv("MEMBRANE_SIM_HOME", str(home))
    monkeypatch.setenv("ONTRAPORT_PANDAS_MEMBRANE", shlex.join(SIM))
    op = opd.connect(membrane=True)
    assert op.transport.connection_id == DEMO
    assert op.count("contacts") == CONTACTS


def test_writes_through_membrane_are_read_back_by_the_sandbox(home):
    op = membrane_client(home, DEMO)
    op.request("PUT", "Contacts", json={"id": "7", "lastname": "Through-Membrane"})
    sandbox = opd.connect("sandbox", path=str(home / "sandbox.sqlite"), rate_limit=None)
    assert sandbox.contact(7)["lastname"] == "Through-Membrane"
    sandbox.close()


def test_push_through_membrane_uses_hosted_actions_and_reads_back(home):
    op = membrane_client(home, DEMO)
    c = op.contacts(progress=False)
    edited = c.copy()
    ids = c.index[:4]
    edited.loc[ids, "firstname"] = "Hosted"
    edited.loc[ids[:2], "contact_cat"] = edited.loc[ids[:2], "contact_cat"].map(
        lambda t: [*t, "Via Membrane"]
    )
    new = pd.DataFrame(
        {"firstname": ["Brand"], "email": [c["email"].dropna().iloc[-1].upper()]},
        index=pd.Index([pd.NA], dtype="Int64", name="id"),
    ).astype("string")
    edited = pd.concat([edited, new])
    edited.attrs = c.attrs
    plan = op.plan(edited)
    assert plan.counts["matched_creates"] == 1
    result = plan.apply()
    result.raise_for_errors()
    assert op.transport.last_action_run_id is not None  # hosted actions ran
    sandbox = opd.connect("sandbox", path=str(home / "sandbox.sqlite"), rate_limit=None)
    after = sandbox.contacts(progress=False)
    assert (after.loc[ids, "firstname"] == "Hosted").all()
    assert all("Via Membrane" in after.at[i, "contact_cat"] for i in ids[:2])
    assert len(after) == len(c)  # the create matched on e-mail instead of duplicating
    undone = result.undo()
    undone.raise_for_errors()
    assert (sandbox.contacts(progress=False).loc[ids, "firstname"] == c.loc[ids, "firstname"]).all()
    sandbox.close()
    op.close()
