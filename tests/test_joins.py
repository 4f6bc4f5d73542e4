"""``op.related(frame, type)``: a frame joined to its related records, through the sandbox."""

from __future__ import annotations

import pandas as pd
import pytest

import ontraport_pandas as opd

LINKS = {
    "deals": "primary_contact",
    "transactions": "contact_id",
    "purchases": "contact_id",
    "tasks": "contact_id",
    "notes": "contact_id",
}


def _expected_counts(contacts, records, link):
    linked = pd.to_numeric(records[link], errors="coerce")
    if "object_type_id" in records.columns:
        linked = linked[records["object_type_id"] == 0]
    per = linked.value_counts()
    return {int(c): max(1, int(per.get(c, 0))) for c in contacts.index}


@pytest.mark.parametrize("what", list(LINKS))
def test_one_row_per_related_record_with_prefixed_columns(op, what):
    contacts = op.contacts(fields=["firstname", "email", "owner", "date"], progress=False)
    records = op.frame(what, progress=False)
    joined = op.related(contacts, what)
    prefix = {"deals": "deal_", "transactions": "transaction_", "purchases": "purchase_"}.get(
        what, what[:-1] + "_"
    )
    # the frame's own columns first, unchanged names; every related column prefixed
    assert list(joined.columns[:4]) == ["firstname", "email", "owner", "date"]
    assert list(joined.columns[4:]) == [prefix + "id", *(prefix + c for c in records.columns)]
    assert joined.columns.is_unique
    # one row per related record, one NA row for a contact with none
    counts = joined.groupby(level=0).size().to_dict()
    assert counts == _expected_counts(contacts, records, LINKS[what])
    assert len(joined) == sum(counts.values())
    # each related cell is the related record's, typed as it loads
    hit = joined[joined[prefix + "id"].notna()]
    assert len(hit) > 0
    ids = hit[prefix + "id"].astype("int64")
    for col in records.columns:
        got = hit[prefix + col]
        want = records.loc[ids, col]
        assert got.dtype == want.dtype, col
        assert got.reset_index(drop=True).equals(want.reset_index(drop=True)) or col in (
            "contact_cat",
            "updateSequence",
            "updateCampaign",
        ), col
    assert (pd.to_numeric(hit[prefix + LINKS[what]]).astype("int64").to_numpy() == ids.index.to_numpy()).all()
    # the contact columns repeat on each of its rows
    assert joined["email"].equals(contacts.loc[joined.index, "email"])
    alone = joined[joined[prefix + "id"].isna()]
    assert alone.index.is_unique and alone[[prefix + c for c in records.columns]].isna().all().all()


def test_deal_columns_never_clash_with_the_contacts(op):
    contacts = op.contacts(progress=False)
    joined = op.related(contacts, "deals", fields=["name", "owner", "date", "sales_stage"])
    assert list(joined.columns[-5:]) == [
        "deal_id",
        "deal_name",
        "deal_owner",
        "deal_date",
        "deal_sales_stage",
    ]
    pd.testing.assert_series_equal(joined["owner"], contacts.loc[joined.index, "owner"])


def test_pushed_down_and_loaded_in_full_give_the_same_frame(op):
    contacts = op.contacts(fields=["firstname"], limit=40, progress=False)
    op.sandbox.reset_log()
    pushed = op.related(contacts, "purchases", fields=["name", "total_price", "status"])
    reads = [t for m, t, s in op.sandbox.request_log if m == "GET" and "Purchases" in t]
    assert reads and all("condition" in t for t in reads if "getInfo" not in t)
    op.related_pushdown_ids = 10
    op.sandbox.reset_log()
    full = op.related(contacts, "purchases", fields=["name", "total_price", "status"])
    reads = [t for m, t, s in op.sandbox.request_log if m == "GET" and "Purchases" in t]
    assert reads and not any("condition" in t for t in reads)
    pd.testing.assert_frame_equal(pushed, full)


def test_tasks_and_notes_join_on_the_records_of_the_frames_type(op):
    deals = op.deals(progress=False)
    deal_id = int(deals.index[0])
    op.request("POST", "Notes", json={"contact_id": deal_id, "object_type_id": 149, "data": "About the deal"})
    on_deals = op.related(deals, "notes", fields=["data"])
    assert on_deals.loc[[deal_id], "note_data"].tolist() == ["About the deal"]
    assert on_deals["note_data"].notna().sum() == 1
    on_contacts = op.related(op.contacts(fields=["firstname"], progress=False), "notes", fields=["data"])
    assert "About the deal" not in set(on_contacts["note_data"].dropna())


def test_labelled_frame_gets_labelled_related_columns(op):
    contacts = op.contacts(fields=["firstname"], labels=True, progress=False)
    joined = op.related(contacts, "deals", fields=["name", "owner"])
    assert list(joined.columns) == ["First Name", "Deal: ID", "Deal: Deal Name", "Deal: Owner"]
    keyed = op.related(contacts, "deals", fields=["name"], labels=False)
    assert list(keyed.columns) == ["First Name", "deal_id", "deal_name"]


def test_a_frame_without_attrs_and_with_new_rows(op):
    contacts = op.contacts(fields=["firstname"], progress=False)
    new = pd.DataFrame({"firstname": ["New"]}, index=pd.Index([pd.NA], dtype="Int64", name="id"))
    frame = pd.concat([contacts, new])
    assert not frame.attrs
    joined = op.related(frame, "deals", fields=["name"])
    assert joined["firstname"].iloc[-1] == "New" and pd.isna(joined["deal_id"].iloc[-1])
    pd.testing.assert_frame_equal(
        joined.iloc[:-1],
        op.related(contacts, "deals", fields=["name"]),
        check_like=True,
        check_dtype=False,  # pandas gives the concat of two string dtypes its own default storage
    )


def test_an_index_that_is_not_the_ids_is_refused(op):
    contacts = op.contacts(fields=["firstname"], limit=10, progress=False)
    op.frame("deals", limit=1, progress=False)
    op.sandbox.reset_log()
    with pytest.raises(opd.ValidationError, match="positional index"):
        op.related(contacts.reset_index(drop=True), "deals", object_type="contacts")
    with pytest.raises(opd.ValidationError, match="e-mail"):
        op.related(
            op.contacts(fields=["email"], limit=5, progress=False).set_index("email"),
            "deals",
            object_type="contacts",
        )
    assert not [t for m, t, s in op.sandbox.request_log if "Deals?" in t]


def test_bad_requests_fail_before_any_records_are_read(op):
    contacts = op.contacts(fields=["firstname"], limit=5, progress=False)
    op.frame("deals", limit=1, progress=False)
    op.frame("products", limit=1, progress=False)
    op.sandbox.reset_log()
    with pytest.raises(opd.UnknownFieldError, match="did you mean"):
        op.related(contacts, "deals", fields=["nmae"])
    with pytest.raises(opd.UnknownFieldError, match="No field of Product"):
        op.related(contacts, "products")
    with pytest.raises(opd.UnknownFieldError, match="owner"):
        op.related(contacts, "deals", on="owner")
    assert not [t for m, t, s in op.sandbox.request_log if "Deals?" in t or "Products?" in t]
    clashing = contacts.assign(deal_name="mine")
    with pytest.raises(opd.ValidationError, match="prefix="):
        op.related(clashing, "deals", fields=["name"])
    other = op.related(clashing, "deals", fields=["name"], prefix="d_")
    assert {"deal_name", "d_name", "d_id"} <= set(other.columns)
