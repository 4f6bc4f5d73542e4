"""op.related joins a frame to its related records with prefixed columns."""

from __future__ import annotations

import pandas as pd
import pytest

import ontraport_pandas as opd


def test_contacts_to_their_deals_one_row_per_pair_with_prefixed_columns(op):
    contacts = op.contacts(progress=False).iloc[:80]
    deals = op.deals(progress=False)
    joined = op.related(contacts, "deals")
    assert {"deals_id", "deals_owner", "deals_date"} <= set(joined.columns)
    assert "owner" in joined.columns and "date" in joined.columns  # the frame's own, untouched
    mine = deals[deals["primary_contact"].isin(contacts.index)]
    assert sorted(joined["deals_id"].dropna().astype(int)) == sorted(mine.index.astype(int))
    for did, row in mine.iterrows():
        got = joined[joined["deals_id"] == did]
        assert got.index.tolist() == [row["primary_contact"]]
    without = set(contacts.index) - set(mine["primary_contact"])
    assert without <= set(joined.index[joined["deals_id"].isna()])
    inner = op.related(contacts, "deals", how="inner")
    assert len(inner) == len(mine) and inner["deals_id"].notna().all()


def test_deals_to_their_contact_many_to_one(op):
    deals = op.deals(progress=False)
    contacts = op.contacts(progress=False)
    joined = op.related(deals, "contacts")
    assert joined.index.equals(deals.index)
    linked = deals["primary_contact"].dropna()
    for did, cid in linked.items():
        got, want = joined.at[did, "contacts_email"], contacts.at[cid, "email"]
        assert (pd.isna(got) and pd.isna(want)) or (not pd.isna(got) and got == want)
    assert joined.loc[deals["primary_contact"].isna(), "contacts_email"].isna().all()


@pytest.mark.parametrize("other", ["tasks", "transactions", "purchases", "notes"])
def test_contacts_to_each_related_type(op, other):
    contacts = op.contacts(progress=False)
    related = op.frame(other, progress=False)
    joined = op.related(contacts, other, how="inner")
    expected = related[related["contact_id"].isin(contacts.index)]
    assert sorted(joined[f"{other}_id"].astype(int)) == sorted(expected.index.astype(int))


def test_ambiguous_or_missing_links_are_refused(op):
    users = op.frame("users", progress=False)
    tasks = op.frame("tasks", progress=False)
    joined = op.related(tasks, "users")  # tasks.owner -> users
    assert {f"users_{c}" for c in users.columns} <= set(joined.columns)
    assert joined.index.equals(tasks.index)
    with pytest.raises(opd.ValidationError, match="several fields"):
        op.related(users, "users")  # users.reports_to, both ways
    reports = op.related(users, "users", on="reports_to")  # a type linked to itself: who points at each row
    for uid, rid in reports["users_id"].dropna().items():
        assert users.at[rid, "reports_to"] == uid
    with pytest.raises(opd.ValidationError, match="no field links"):
        op.related(op.tags(progress=False), "products")
    with pytest.raises(opd.ValidationError, match="does not link"):
        op.related(op.deals(progress=False), "contacts", on="firstname")
    with pytest.raises(opd.ValidationError, match="object_type="):
        op.related(pd.DataFrame({"a": [1]}), "deals")


def test_a_positional_index_is_refused_not_joined_to_other_records(op):
    contacts = op.contacts(progress=False)
    with pytest.raises(opd.ValidationError, match="not the record ids"):
        op.related(contacts.reset_index(drop=True), "deals")
    with pytest.raises(opd.ValidationError, match="not the record ids"):
        op.related(contacts.reset_index(), "deals")
