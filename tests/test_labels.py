"""Columns named by Ontraport labels (``labels=True``): loaded, edited, planned, pushed and read back."""

from __future__ import annotations

import pandas as pd
import pytest

import ontraport_pandas as opd
from ontraport_pandas.labels import label_map


def _puts(op):
    return [t for m, t, s in op.sandbox.request_log if m in ("PUT", "POST", "DELETE")]


def test_columns_are_labels_and_stay_unambiguous(op):
    keyed = op.contacts(progress=False)
    named = op.contacts(labels=True, progress=False)
    assert "Membership Level" in named.columns and "First Name" in named.columns
    assert "f1001" not in named.columns and "firstname" not in named.columns
    # Two fields labelled "IP Address": both carry their key, and every name is one field.
    assert {"IP Address [ip_addy]", "IP Address [ip_addy_display]"} <= set(named.columns)
    assert named.columns.is_unique and len(named.columns) == len(keyed.columns)
    mapping = named.attrs["ontraport"]["labels"]
    assert mapping["Membership Level"] == "f1001" and mapping["IP Address [ip_addy]"] == "ip_addy"
    # Same values and dtypes, column for column.
    back = named.rename(columns=mapping)
    pd.testing.assert_frame_equal(back, keyed, check_like=False)


def test_same_name_for_a_field_with_or_without_fields(op):
    some = op.frame("contacts", fields=["ip_addy", "f1001"], labels=True, progress=False)
    assert list(some.columns) == ["IP Address [ip_addy]", "Membership Level"]
    deals = op.deals(labels=True, limit=3, progress=False)
    schema = op.session.schema(op.session.resolve("deals"))
    assert list(deals.columns) == [label_map(schema)[k] for k in op.deals(limit=3, progress=False).columns]


def test_a_label_that_is_another_fields_key_gets_the_suffix():
    from ontraport_pandas.schema import FieldSpec, ObjectSchema

    schema = ObjectSchema(
        0,
        "Contact",
        {
            "email": FieldSpec("email", "Email", "email"),
            "f1": FieldSpec("f1", "email", "text"),
            "f2": FieldSpec("f2", "Notes", "text"),
            "f3": FieldSpec("f3", "notes", "text"),
            "f4": FieldSpec("f4", "", "text"),
        },
    )
    names = label_map(schema)
    assert names == {
        "email": "Email [email]",
        "f1": "email [f1]",
        "f2": "Notes [f2]",
        "f3": "notes [f3]",
        "f4": "f4",
    }


def test_labels_option_is_checked(op):
    with pytest.raises(TypeError, match="labels"):
        op.contacts(labels="yes", progress=False)


def test_labelled_frame_plans_applies_and_reads_back(op):
    named = op.contacts(labels=True, progress=False)
    levels = list(named["Membership Level"].cat.categories)
    rid, other = named.index[0], named.index[1]
    edited = named.copy()
    edited.loc[rid, "First Name"] = "Zelda"
    edited.loc[other, "Membership Level"] = (
        levels[-1] if named.at[other, "Membership Level"] != levels[-1] else levels[0]
    )
    edited.loc[other, "City"] = "Lisbon"
    plan = op.plan(edited)
    assert sorted(k for o in plan.ops for k in o.fields) == ["city", "f1001", "firstname"]
    plan.apply().raise_for_errors()
    after = op.contacts(labels=True, progress=False)
    assert after.at[rid, "First Name"] == "Zelda"
    assert after.at[other, "Membership Level"] == edited.at[other, "Membership Level"]
    assert after.at[other, "City"] == "Lisbon"
    untouched = after.drop(index=[rid, other]).drop(columns=["Date Modified"])
    expected = named.drop(index=[rid, other]).drop(columns=["Date Modified"])
    pd.testing.assert_frame_equal(untouched, expected)
    # A second plan of the pushed frame against a fresh load is empty.
    assert op.plan(after).empty


def test_problems_name_the_labelled_columns(op):
    named = op.contacts(labels=True, progress=False)
    edited = named.copy()
    edited.loc[named.index[2], "Email"] = "not-an-email"
    edited.loc[named.index[3], "Membership Level"] = pd.NA
    edited["Membership Level"] = edited["Membership Level"].cat.add_categories(["Platinum Plus"])
    edited.loc[named.index[3], "Membership Level"] = "Platinum Plus"
    op.sandbox.reset_log()
    with pytest.raises(opd.ValidationError) as info:
        op.plan(edited)
    columns = {(p.row, p.column) for p in info.value.problems}
    assert (named.index[2], "Email") in columns
    assert (named.index[3], "Membership Level") in columns
    assert "'Email'" in str(info.value) and "f1001" not in str(info.value)
    assert _puts(op) == []


def test_a_label_and_its_key_both_present_is_refused(op):
    named = op.contacts(labels=True, progress=False)
    edited = named.assign(firstname=named["First Name"])
    op.sandbox.reset_log()
    with pytest.raises(opd.ValidationError) as info:
        op.plan(edited)
    text = str(info.value)
    assert "'firstname'" in text and "'First Name'" in text
    assert _puts(op) == []


def test_labelled_related_columns_are_read_only(op):
    named = op.contacts(externs=["owner//firstname"], fields=["firstname"], labels=True, progress=False)
    assert list(named.columns) == ["First Name", "Owner → First Name"]
    edited = named.copy()
    edited.loc[named.index[0], "Owner → First Name"] = "Someone"
    with pytest.raises(opd.ValidationError) as info:
        op.plan(edited)
    assert [p.column for p in info.value.problems] == ["Owner → First Name"]
    unchanged = named.copy()
    unchanged.loc[named.index[0], "First Name"] = "Ann"
    plan = op.plan(unchanged)
    assert [list(o.fields) for o in plan.ops] == [["firstname"]]


def test_a_duplicated_label_column_and_a_lost_index_are_reported_by_label(op):
    named = op.contacts(labels=True, progress=False)
    doubled = pd.concat([named, named[["Last Name"]]], axis=1)
    doubled.attrs = named.attrs
    op.sandbox.reset_log()
    with pytest.raises(opd.ValidationError) as info:
        op.plan(doubled)
    assert [(p.column, "appears 2 times" in p.message) for p in info.value.problems] == [("Last Name", True)]
    with pytest.raises(opd.ValidationError, match="positional index"):
        op.plan(named.reset_index(drop=True))
    assert _puts(op) == []


def test_labelled_frame_without_attrs_maps_back_from_the_schema(op):
    named = op.contacts(labels=True, progress=False)
    rid = int(named.index[7])
    bare = named.copy()
    bare.attrs = {}
    bare.loc[rid, "City"] = "Faro"
    bare.loc[rid, "Membership Level"] = pd.NA
    plan = op.plan(bare)
    assert sorted(k for o in plan.ops for k in o.fields) == sorted(
        ["city", *(["f1001"] if pd.notna(named.at[rid, "Membership Level"]) else [])]
    )
    plan.apply(confirm=plan.confirm_required).raise_for_errors()
    stored = op.contact(rid)
    assert stored["city"] == "Faro" and pd.isna(stored["f1001"])


def test_keyed_and_labelled_switch_names_and_both_plan(op):
    keyed = op.contacts(fields=["firstname", "f1001", "ip_addy"], progress=False)
    named = keyed.ontraport.labelled()
    assert list(named.columns) == ["First Name", "Membership Level", "IP Address [ip_addy]"]
    back = named.ontraport.keyed()
    pd.testing.assert_frame_equal(back, keyed)
    assert "labels" not in back.attrs["ontraport"]
    rid = int(named.index[0])
    named.loc[rid, "First Name"] = "Switched"
    op.plan(named).apply().raise_for_errors()
    assert op.contact(rid)["firstname"] == "Switched"
    assert keyed.ontraport.keyed() is not keyed and keyed.ontraport.keyed().equals(keyed)
