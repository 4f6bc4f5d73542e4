"""Related-record columns (``externs=`` / ``fields=["owner//firstname"]``) on the accessors."""

from __future__ import annotations

import pandas as pd
import pytest

import ontraport_pandas as opd


def test_externs_are_typed_by_the_related_field(op):
    users = op.frame("users", progress=False)
    contacts = op.contacts(externs=["owner//firstname", "owner//date", "owner//role"], progress=False)
    assert str(contacts["owner//firstname"].dtype) == "string"
    assert str(contacts["owner//date"].dtype) == "datetime64[ns, UTC]"
    assert isinstance(contacts["owner//role"].dtype, pd.CategoricalDtype)
    expected = users.loc[contacts["owner"].astype(int), "firstname"].to_numpy()
    assert (contacts["owner//firstname"].to_numpy() == expected).all()
    expected_role = users.loc[contacts["owner"].astype(int), "role"].astype(str).to_numpy()
    assert (contacts["owner//role"].astype(str).to_numpy() == expected_role).all()


def test_paths_in_fields_and_deeper_paths(op):
    members = op.frame(
        "memberships", fields=["f2000", "f2001//owner//lastname", "f2001//contact_cat"], progress=False
    )
    assert list(members.columns) == ["f2000", "f2001//owner//lastname", "f2001//contact_cat"]
    contacts = op.contacts(progress=False)
    users = op.frame("users", progress=False)
    full = op.frame("memberships", fields=["f2001"], progress=False)
    for rid in members.index[:10]:
        contact = contacts.loc[int(full.at[rid, "f2001"])]
        assert members.at[rid, "f2001//owner//lastname"] == users.at[int(contact["owner"]), "lastname"]
        assert sorted(members.at[rid, "f2001//contact_cat"]) == sorted(contact["contact_cat"])


def test_externs_with_fields_where_and_limit(op):
    tasks = op.tasks(
        fields=["subject"],
        externs=["contact_id//email"],
        where="status == 'Pending'",
        limit=5,
        progress=False,
    )
    assert list(tasks.columns) == ["subject", "contact_id//email"] and len(tasks) == 5
    for rid in tasks.index:
        contact_id = op.get("tasks", rid)["contact_id"]
        assert tasks.at[rid, "contact_id//email"] == op.contact(contact_id)["email"]


@pytest.mark.parametrize("path", ["firstname//email", "owner//nope", "nope//firstname", "owner//"])
def test_bad_paths_fail_before_any_records_are_read(op, path):
    op.contacts(fields=["firstname"], limit=1, progress=False)  # metadata cached
    op.sandbox.reset_log()
    with pytest.raises(opd.SchemaError):
        op.contacts(externs=[path], progress=False)
    assert not [t for m, t, s in op.sandbox.request_log if t.startswith("/1/Contacts?")]


def test_externs_and_cache_do_not_mix(op):
    with pytest.raises(ValueError, match="cache"):
        op.contacts(externs=["owner//firstname"], cache=True, progress=False)


def test_a_frame_with_externs_plans_and_pushes_its_own_edits(op):
    contacts = op.contacts(externs=["owner//firstname"], progress=False)
    edited = contacts.copy()
    first = edited.index[0]
    edited.loc[first, "firstname"] = "Zelda"
    plan = op.plan(edited)
    assert plan.counts["update"] == 1 and set(plan.to_frame()["column"]) == {"firstname"}
    plan.apply()
    assert op.contact(first)["firstname"] == "Zelda"


def test_editing_a_related_value_is_refused_naming_the_cell(op):
    contacts = op.contacts(externs=["owner//firstname"], progress=False)
    edited = contacts.copy()
    first = edited.index[0]
    edited.loc[first, "owner//firstname"] = "Someone"
    op.sandbox.reset_log()
    with pytest.raises(opd.ValidationError) as err:
        op.plan(edited)
    (problem,) = err.value.problems
    assert (problem.row, problem.column, problem.value) == (first, "owner//firstname", "Someone")
    assert [m for m, *_ in op.sandbox.request_log if m != "GET"] == []


def test_externs_through_served_http(served_op):
    contacts = served_op.contacts(externs=["owner//email"], limit=3, progress=False)
    assert contacts["owner//email"].str.contains("@").all()


def test_externs_through_the_membrane_simulator(home):
    from .membrane_fixtures import membrane_client

    client = membrane_client(home)
    try:
        contacts = client.contacts(fields=["firstname", "owner//firstname"], limit=3, progress=False)
        assert list(contacts.columns) == ["firstname", "owner//firstname"]
        assert contacts["owner//firstname"].notna().all()
    finally:
        client.close()
