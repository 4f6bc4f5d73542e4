"""Types on the sandbox's demo data: blank text is NA, columns that meta undersells are typed,
and single-record actions return typed records."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from ontraport_pandas.schema import TRANSACTION_STATUS, parse_meta

EMPTY_EMAIL = [{"field": {"field": "email"}, "op": "=", "value": {"value": ""}}]


def _raw_count(op, condition) -> int:
    info = op.request("GET", "Contacts/getInfo", params={"condition": json.dumps(condition)})
    return int(info["data"]["count"])


def test_contacts_without_an_email_are_na(op):
    blank = _raw_count(op, EMPTY_EMAIL)
    assert blank > 0  # the demo data stores some e-mails as ""
    contacts = op.contacts(progress=False)
    assert int(contacts.email.isna().sum()) == blank
    assert not (contacts.email == "").any()
    # the same rows through where=, counted and loaded
    pushed = op.contacts(where="email.isna()", progress=False)
    assert sorted(pushed.index) == sorted(contacts.index[contacts.email.isna()])
    assert op.count("contacts", where="email.isna()") == blank
    assert op.count("contacts", where="email.notna()") == len(contacts) - blank


def test_clearing_text_with_blank_or_na_reads_back_na(op):
    contacts = op.contacts(progress=False)
    ids = contacts.index[contacts.office_phone.notna()][:2].tolist()
    edited = contacts.copy()
    edited.loc[ids[0], "office_phone"] = ""
    edited.loc[ids[1], "office_phone"] = pd.NA
    plan = op.plan(edited)
    assert len(plan.ops) == 2
    plan.apply(confirm=plan.confirm_required).raise_for_errors()
    after = op.contacts(progress=False)
    assert after.loc[ids, "office_phone"].isna().all()
    # the stored value is "" for both (what Ontraport clears with), and it reads as NA
    raw = op.request("GET", "Contact", params={"id": ids[1]})["data"]
    assert raw["office_phone"] in ("", None)
    assert op.plan(after).empty


def test_form_tags_are_tag_names(op):
    forms = op.forms(progress=False)
    tags = op.tags(progress=False)
    contact_tags = tags[tags.object_type_id == 0]
    names = dict(zip(contact_tags.index.astype(str), contact_tags.tag_name, strict=True))
    raw = op.request("GET", "Forms", params={"range": 50, "listFields": "form_id,tags"})["data"]
    assert raw and all(isinstance(cell, list) for cell in forms.tags)
    for record in raw:
        ids = [i for i in str(record["tags"]).split("*/*") if i]
        assert forms.loc[int(record["form_id"]), "tags"] == [names.get(i, i) for i in ids]
    assert any(forms.tags.map(len) > 0)
    assert all(isinstance(name, str) and not name.isdigit() for cell in forms.tags for name in cell)


def test_campaign_deleted_is_boolean(op):
    campaigns = op.campaigns(progress=False)
    assert campaigns.deleted.dtype == pd.BooleanDtype()
    raw = op.request("GET", "CampaignBuilderItems", params={"range": 50, "listFields": "id,deleted"})["data"]
    want = {int(r["id"]): r["deleted"] == "true" for r in raw}
    assert {k: bool(campaigns.deleted.loc[k]) for k in want} == want
    assert campaigns.loc[~campaigns.deleted].shape[0] == len(campaigns) - int(campaigns.deleted.sum())


@pytest.mark.parametrize("accessor", ["purchases", "transactions"])
def test_purchase_and_transaction_status_are_labelled(op, accessor):
    frame = getattr(op, accessor)(progress=False)
    status = frame.status
    assert isinstance(status.dtype, pd.CategoricalDtype)
    assert list(status.cat.categories[: len(TRANSACTION_STATUS)]) == list(TRANSACTION_STATUS.values())
    plural = {"purchases": "Purchases", "transactions": "Transactions"}[accessor]
    raw = op.request("GET", plural, params={"range": 50, "listFields": "id,status"})["data"]
    for record in raw:
        assert status.loc[int(record["id"])] == TRANSACTION_STATUS[str(record["status"])]
    assert set(status.dropna()) <= {"Paid", "Unpaid", "Refunded", "Partially refunded", "Void"} | set(
        TRANSACTION_STATUS.values()
    )
    assert (status == "Paid").any()


def test_known_fields_never_override_a_typed_meta():
    meta = {
        "17": {
            "name": "Purchase",
            "fields": {"status": {"alias": "Status", "type": "drop", "options": {"1": "Done", "2": "Open"}}},
        },
        "140": {"name": "Campaign", "fields": {"deleted": {"alias": "Deleted", "type": "timestamp"}}},
        "122": {"name": "Form", "fields": {"tags": {"alias": "Tags", "type": "text"}}},
    }
    schemas = parse_meta(meta)
    assert dict(schemas[17].field("status").options) == {"1": "Done", "2": "Open"}
    assert schemas[140].field("deleted").type == "timestamp"
    tags = schemas[122].field("tags")
    assert (tags.type, tags.sub_model, tags.tag_object_type) == ("subscription", 14, 0)


def test_get_contact_action_returns_a_typed_record(op):
    record = op.run("get-contact", {"id": 1})
    assert isinstance(record, pd.Series)
    assert record.name == 1
    full = op.contacts(progress=False)
    dtypes = record.attrs["dtypes"]
    assert {k: str(v) for k, v in dtypes.items()} == {k: str(v) for k, v in full.dtypes.items()}
    rebuilt = record.to_frame().T.astype(dtypes)
    rebuilt.index = pd.Index([1], dtype="Int64", name="id")
    pd.testing.assert_frame_equal(rebuilt, full.loc[[1]], check_categorical=False)
    assert isinstance(record["date"], pd.Timestamp) and record["date"].tz is not None
    assert isinstance(record["contact_cat"], list)
    assert record.attrs["ontraport"]["action"] == "get-contact"
    # raw=True still answers the wire record
    assert isinstance(op.run("get-contact", {"id": 1}, raw=True)["date"], str)


def test_get_actions_for_other_types_are_typed(op):
    product = op.run("get-product", {"id": 1})
    assert isinstance(product, pd.Series)
    assert isinstance(product["price"], float)
    by_email = op.contacts(progress=False).email.dropna().iloc[0]
    found = op.run("get-contact-by-email", {"email": by_email})
    assert isinstance(found, pd.Series) and found["email"] == by_email


def test_a_frame_cached_by_the_previous_typing_is_typed_again(op, monkeypatch):
    from ontraport_pandas import schema

    blank = _raw_count(op, EMPTY_EMAIL)
    # a frame kept on disk by a version that read "" as "": its fingerprint is of that version
    monkeypatch.setattr(schema, "TYPING_VERSION", schema.TYPING_VERSION - 1)
    first = op.contacts(cache=True, progress=False)
    otype = op.session.resolve("contacts")
    cache = op.record_cache()
    frame, state = cache.load_frame(otype)
    old = frame.copy()
    old.loc[old.email.isna(), "email"] = ""
    cache.store_frame(otype, old, state)
    monkeypatch.undo()
    again = op.contacts(cache=True, progress=False)
    assert int(again.email.isna().sum()) == blank and not (again.email == "").any()
    pd.testing.assert_frame_equal(again, first, check_flags=False)
