"""Frames that lost their ``attrs`` in ``pd.concat``, ``merge`` or ``join`` still plan, push and read back."""

from __future__ import annotations

import pandas as pd
import pytest

import ontraport_pandas as opd


def _writes(op):
    return [t for m, t, s in op.sandbox.request_log if m in ("PUT", "POST", "DELETE")]


def _new_rows(data, name="id"):
    n = len(next(iter(data.values())))
    return pd.DataFrame(data, index=pd.Index([pd.NA] * n, dtype="Int64", name=name))


def test_concat_with_new_rows_plans_applies_and_reads_back(op):
    c = op.contacts(progress=False)
    edited = pd.concat([c, _new_rows({"firstname": ["Ada"], "email": ["ada.concat@example.com"]})])
    assert not edited.attrs  # pandas dropped them: the new rows frame had none
    rid = int(c.index[4])
    edited.loc[rid, "lastname"] = "Concatenated"
    plan = op.plan(edited)
    assert sorted((o.kind, tuple(sorted(o.fields))) for o in plan.ops) == [
        ("create", ("email", "firstname")),
        ("update", ("lastname",)),
    ]
    plan.apply().raise_for_errors()
    after = op.contacts(progress=False)
    assert after.at[rid, "lastname"] == "Concatenated"
    made = after[after["email"] == "ada.concat@example.com"]
    assert len(made) == 1 and made["firstname"].iloc[0] == "Ada"
    pd.testing.assert_frame_equal(
        after.loc[c.index.drop(rid)].drop(columns=["dlm"]), c.drop(index=rid).drop(columns=["dlm"])
    )


def test_labelled_frame_concat_with_new_rows(op):
    c = op.contacts(labels=True, progress=False)
    new = _new_rows({"First Name": ["Lab"], "Email": ["lab.concat@example.com"], "City": ["Porto"]})
    edited = pd.concat([c, new])
    assert not edited.attrs
    rid = int(c.index[0])
    edited.loc[rid, "City"] = "Braga"
    plan = op.plan(edited)
    assert sorted(k for o in plan.ops for k in o.fields) == ["city", "city", "email", "firstname"]
    plan.apply().raise_for_errors()
    after = op.contacts(labels=True, progress=False)
    assert after.at[rid, "City"] == "Braga"
    made = after[after["Email"] == "lab.concat@example.com"]
    assert made[["First Name", "City"]].values.tolist() == [["Lab", "Porto"]]


def test_join_of_two_loads_plans_applies_and_reads_back(op):
    names = op.contacts(fields=["firstname", "lastname"], progress=False)
    contact = op.contacts(fields=["email", "f1001"], progress=False)
    joined = names.join(contact)
    assert not joined.attrs
    a, b = int(names.index[1]), int(names.index[2])
    joined.loc[a, "email"] = "joined@example.com"
    joined.loc[b, "firstname"] = "Joined"
    plan = op.plan(joined)
    assert sorted((o.record_id, tuple(o.fields)) for o in plan.ops) == [(a, ("email",)), (b, ("firstname",))]
    plan.apply().raise_for_errors()
    after = op.contacts(progress=False)
    assert after.at[a, "email"] == "joined@example.com" and after.at[b, "firstname"] == "Joined"
    assert after.at[a, "firstname"] == names.at[a, "firstname"]


def test_merge_on_the_id_column_plans_applies_and_reads_back(op):
    names = op.contacts(fields=["firstname", "lastname"], progress=False)
    contact = op.contacts(fields=["email"], progress=False)
    merged = names.reset_index().merge(contact.reset_index(), on="id").set_index("id")
    assert not merged.attrs
    rid = int(names.index[3])
    merged.loc[rid, "lastname"] = "Merged"
    plan = op.plan(merged)
    assert [(o.record_id, list(o.fields)) for o in plan.ops] == [(rid, ["lastname"])]
    plan.apply().raise_for_errors()
    assert op.contact(rid)["lastname"] == "Merged"


def test_merge_of_a_labelled_frame_with_one_of_the_same_load_keeps_attrs(op):
    c = op.contacts(labels=True, progress=False)
    merged = c[["First Name"]].merge(c[["Last Name"]], left_index=True, right_index=True)
    assert merged.attrs["ontraport"]["labels"]["First Name"] == "firstname"
    rid = int(c.index[5])
    merged.loc[rid, "Last Name"] = "SameLoad"
    op.plan(merged).apply().raise_for_errors()
    assert op.contact(rid)["lastname"] == "SameLoad"


def test_a_record_loaded_twice_is_compared_with_its_first_load(op):
    first = op.contacts(progress=False)
    rid = int(first.index[6])
    op.request("PUT", "Contacts", json={"id": rid, "lastname": "ChangedElsewhere"})
    later = op.contacts(progress=False)  # a later load sees the change (and its newer dlm)
    assert later.at[rid, "dlm"] > first.at[rid, "dlm"]
    edited = pd.concat([first, _new_rows({"firstname": ["Late"], "lastname": ["Comer"]})])
    edited.loc[rid, "firstname"] = "Stale"
    result = op.plan(edited).apply()
    statuses = dict(zip(result.frame["record_id"], result.frame["status"], strict=False))
    assert statuses[rid] == "conflict"
    stored = op.contact(rid)
    assert stored["lastname"] == "ChangedElsewhere" and stored["firstname"] == first.at[rid, "firstname"]


def test_types_that_fit_equally_are_refused(op):
    contacts = op.contacts(fields=["owner"], progress=False)
    deals = op.deals(fields=["owner"], progress=False)
    ids = contacts.index.intersection(deals.index)[:3]
    frame = pd.DataFrame({"owner": contacts.loc[ids, "owner"]})
    assert not frame.attrs
    with pytest.raises(opd.ValidationError, match="object_type="):
        op.plan(frame)
    plan = op.plan(frame.assign(owner=frame["owner"]), object_type="deals")
    assert [o.record_id for o in plan.ops] == [
        int(i) for i in ids if deals.at[i, "owner"] != contacts.at[i, "owner"]
    ]


def test_delete_missing_needs_the_load(op):
    c = op.contacts(progress=False)
    edited = pd.concat([c.iloc[:-3], _new_rows({"firstname": ["X"]})])
    op.sandbox.reset_log()
    with pytest.raises(opd.ValidationError, match="delete_missing"):
        op.plan(edited, delete_missing=True)
    assert _writes(op) == []


def test_a_frame_of_another_client_is_not_matched_with_this_clients_loads(op):
    other = opd.connect("sandbox", contacts=50, rate_limit=None)
    try:
        theirs = other.contacts(progress=False)
    finally:
        other.close()
    op.contacts(progress=False)
    edited = theirs.copy()
    edited.iloc[0, edited.columns.get_loc("lastname")] = "Nope"
    with pytest.raises(opd.ValidationError, match="not loaded by this client"):
        op.plan(edited)


def test_without_any_load_the_error_asks_for_object_type(op):
    frame = pd.DataFrame({"firstname": ["A"]}, index=pd.Index([3], dtype="Int64", name="id"))
    with pytest.raises(opd.ValidationError, match="object_type="):
        op.plan(frame)


def test_a_frame_of_new_rows_only_creates_them_even_with_loads(op):
    op.contacts(progress=False)
    frame = _new_rows(
        {"firstname": ["Only", "New"], "email": ["only.new1@example.com", "only.new2@example.com"]}
    )
    plan = op.plan(frame, delete_missing=True)
    assert [o.kind for o in plan.ops] == ["create", "create"]
    plan.apply().raise_for_errors()
    after = op.contacts(progress=False)
    assert set(after.loc[after["email"].str.startswith("only.new", na=False), "firstname"]) == {"Only", "New"}


def test_concat_of_two_loads_of_the_same_type(op):
    first = op.contacts(where="id <= 100", progress=False)
    second = op.contacts(where="id > 100", progress=False)
    both = pd.concat([first, second])
    assert not both.attrs
    a, b = int(first.index[0]), int(second.index[0])
    both.loc[a, "firstname"] = "FromFirst"
    both.loc[b, "firstname"] = "FromSecond"
    plan = op.plan(both)
    assert sorted((o.record_id, tuple(o.fields)) for o in plan.ops) == [
        (a, ("firstname",)),
        (b, ("firstname",)),
    ]
    plan.apply().raise_for_errors()
    after = op.contacts(progress=False)
    assert after.at[a, "firstname"] == "FromFirst" and after.at[b, "firstname"] == "FromSecond"


def test_cells_a_concat_fills_with_na_are_clears_unless_on_null_skip(op):
    names = op.contacts(fields=["firstname", "lastname"], where="id <= 5", progress=False)
    emails = op.contacts(fields=["firstname", "email"], where="id > 5 and id <= 10", progress=False)
    both = pd.concat([names, emails])  # rows 1-5 have no email, rows 6-10 no lastname: NA
    assert not both.attrs
    # the loads of rows 1-5 never held their e-mails, nor 6-10 their last names: nothing to clear
    assert op.plan(both).empty
    op.contacts(progress=False)  # a full load: now the stored values are known
    cleared = op.plan(both)
    assert cleared.counts["clears"] == 10
    assert op.plan(both, on_null="skip").empty
