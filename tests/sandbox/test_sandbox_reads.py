"""Collection and single reads: envelope, paging, sort, listFields, search, count, getInfo, meta."""

from __future__ import annotations

import pytest
from sandbox_helpers import SMALL, client_for, cond

from ontraport_pandas.sandbox.model import TYPES


def test_collection_envelope(ro):
    response = ro.get("Contacts", params={"range": 3})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert list(body) == ["code", "data", "account_id", "misc"]
    assert body["code"] == 0 and body["account_id"] == 50 and body["misc"] == []
    assert len(body["data"]) == 3
    record = body["data"][0]
    assert all(v is None or isinstance(v, str) for v in record.values())
    assert record["company"] is None or isinstance(record["company"], str)
    assert record["dla"] == "0" or record["dla"].isdigit()


def test_single_read_and_missing_id(ro):
    body = ro.get("Contact", params={"id": 7}).json()
    assert set(body) == {"code", "data", "account_id"}
    assert body["data"]["id"] == "7"
    assert "f1001" in body["data"] and "unique_id" in body["data"]
    missing = ro.get("Contact", params={"id": 999_999})
    assert missing.status_code == 404 and missing.text == "Object not found"
    assert ro.get("Contact").status_code == 400
    generic = ro.get("object", params={"objectID": 0, "id": 7}).json()
    assert generic["data"] == body["data"]


def test_default_order_is_newest_first_and_configurable(ro, make_app):
    ids = [int(r["id"]) for r in ro.get("Contacts", params={"listFields": "id"}).json()["data"]]
    assert ids == sorted(ids, reverse=True) and ids[0] == SMALL
    with client_for(make_app(contacts=30, default_order="asc")) as client:
        ids = [int(r["id"]) for r in client.get("Contacts", params={"listFields": "id"}).json()["data"]]
        assert ids[:3] == [1, 2, 3]


def test_paging_returns_every_record_exactly_once(ro):
    seen: list[str] = []
    start = 0
    while True:
        page = ro.get(
            "Contacts", params={"start": start, "range": 50, "sort": "id", "listFields": "id"}
        ).json()
        seen += [r["id"] for r in page["data"]]
        if len(page["data"]) < 50:
            break
        start += 50
    assert len(seen) == SMALL and len(set(seen)) == SMALL
    assert seen == [str(i) for i in range(1, SMALL + 1)]


def test_paging_on_a_non_unique_sort_is_stable(ro):
    seen: list[str] = []
    for start in range(0, SMALL, 50):
        page = ro.get("Contacts", params={"start": start, "sort": "owner", "listFields": "id,owner"}).json()
        seen += [r["id"] for r in page["data"]]
    assert sorted(seen, key=int) == [str(i) for i in range(1, SMALL + 1)]


def test_range_is_clamped_to_50(ro):
    assert len(ro.get("Contacts", params={"range": 500}).json()["data"]) == 50
    assert len(ro.get("Contacts", params={"range": 0}).json()["data"]) == 50
    assert ro.get("Contacts", params={"range": "ten"}).status_code == 400
    assert ro.get("Contacts", params={"start": -1}).status_code == 400


def test_sort_numeric_fields_numerically_and_text_case_insensitively(ro):
    rows = ro.get("Contacts", params={"sort": "f1003", "sortDir": "desc", "listFields": "id,f1003"}).json()[
        "data"
    ]
    values = [int(r["f1003"]) for r in rows]
    assert values == sorted(values, reverse=True) and values[0] > 99  # "150" > "99" numerically
    rows = ro.get(
        "Contacts",
        params={
            "sort": "lastname",
            "sortDir": "asc",
            "listFields": "lastname",
            "condition": cond(("lastname", "<>", "")),
        },
    ).json()["data"]
    names = [r["lastname"] for r in rows]
    assert names == sorted(names, key=str.lower)
    assert ro.get("Contacts", params={"sort": "nope"}).status_code == 400


def test_list_fields_in_requested_order_unknown_ignored(ro, make_app):
    rows = ro.get("Contacts", params={"listFields": "email,id,bogus,firstname", "range": 2}).json()["data"]
    assert [list(r) for r in rows] == [["email", "id", "firstname"]] * 2
    with client_for(make_app(contacts=10, unknown_list_fields="error")) as strict:
        response = strict.get("Contacts", params={"listFields": "email,bogus"})
        assert response.status_code == 400 and response.text == "Invalid query"


def test_search_is_a_case_insensitive_substring(ro):
    target = ro.get("Contact", params={"id": 42}).json()["data"]
    needle = target["email"].strip().split("@")[0][:5].upper()
    rows = ro.get("Contacts", params={"search": needle, "listFields": "id,email", "range": 50}).json()["data"]
    assert any(r["id"] == "42" for r in rows)
    assert all(
        any(
            needle.lower() in (v or "").lower()
            for v in ro.get("Contact", params={"id": r["id"]}).json()["data"].values()
        )
        for r in rows[:5]
    )
    assert ro.get("Contacts", params={"search": "zzqqxx-nothing"}).json()["data"] == []


def test_count_true_adds_a_string_count(ro):
    body = ro.get("Contacts", params={"count": "true", "range": 1}).json()
    assert body["count"] == str(SMALL)
    filtered = ro.get("Contacts", params={"count": "true", "condition": cond(("owner", "=", "1"))}).json()
    info = ro.get("Contacts/getInfo", params={"condition": cond(("owner", "=", "1"))}).json()["data"]
    assert filtered["count"] == info["count"] and 0 < int(info["count"]) < SMALL
    assert "count" not in ro.get("Contacts", params={"range": 1}).json()


def test_ids_param(ro):
    rows = ro.get("Contacts", params={"ids": "3,1,2", "sort": "id", "listFields": "id"}).json()["data"]
    assert [r["id"] for r in rows] == ["1", "2", "3"]
    assert ro.get("Contacts", params={"ids": "0", "count": "true"}).json()["count"] == str(SMALL)
    assert ro.get("Contacts", params={"ids": "1,x"}).status_code == 400


def test_get_info_shape_and_sums(ro):
    data = ro.get("Contacts/getInfo").json()["data"]
    assert list(data) == ["listFields", "listFieldSettings", "cardViewSettings", "viewMode", "count"]
    assert data["count"] == str(SMALL)
    assert ro.get("Contacts/getInfo", params={"search": "zzqqxx"}).json()["data"]["count"] == "0"
    assert ro.get("Contacts/getInfo", params={"ids": "1,2,3"}).json()["data"]["count"] == "3"
    tx = ro.get("Transactions/getInfo").json()["data"]
    assert isinstance(tx["sums"]["total"], (int, float)) and tx["sums"]["total"] > 0
    generic = ro.get("objects/getInfo", params={"objectID": 46}).json()["data"]
    assert generic == tx


def test_meta_shape(ro):
    data = ro.get("Contacts/meta").json()["data"]
    assert list(data) == ["0"]
    assert data["0"]["name"] == "Contact"
    fields = data["0"]["fields"]
    assert fields["f1001"]["type"] == "drop" and fields["f1001"]["options"]["304"] == "Platinum"
    assert fields["f1002"]["type"] == "list" and len(fields["f1002"]["options"]) == 8
    assert fields["owner"]["type"] == "parent" and fields["owner"]["parent_object"] == 2
    assert '"subModel":14' in fields["contact_cat"]["extra_data"]
    assert fields["unique_id"] == {
        "alias": "Unique ID",
        "type": "unique",
        "required": 0,
        "unique": 1,
        "editable": 0,
        "deletable": 0,
    }
    for name in ("id", "date", "dlm", "dla", "ip_addy", "spent", "grade"):
        assert fields[name]["editable"] == 0, name
    assert fields["email"]["editable"] == 1
    types = {f["type"] for f in fields.values()}
    assert {"email", "phone", "sms", "url", "state", "country", "parent", "subscription", "unique"} <= types
    assert {"drop", "list", "numeric", "price", "fulldate", "check", "timestamp", "longtext"} <= types


def test_meta_without_object_id_lists_every_type(ro):
    data = ro.get("objects/meta").json()["data"]
    assert set(data) == {str(t.id) for t in TYPES}
    assert data["10000"]["name"] == "Membership"
    assert data["10000"]["fields"]["f2008"]["type"] == "related_data"
    assert data["46"]["name"] == "Invoice"
    assert (
        ro.get("objects/meta", params={"objectID": 14}).json()["data"]["14"]["fields"]["tag_name"]["required"]
        == 1
    )


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("Tasks", {}),
        ("Tags", {}),
        ("Products", {}),
        ("Purchases", {}),
        ("Transactions", {}),
        ("Rules", {}),
        ("Messages", {}),
        ("Notes", {}),
        ("Forms", {}),
        ("Groups", {}),
        ("Offers", {}),
        ("CampaignBuilderItems", {}),
        ("Deals", {}),
        ("Companies", {}),
        ("Memberships", {}),
        ("objects", {"objectID": 5}),
        ("objects", {"objectID": 2}),
    ],
)
def test_every_type_is_readable(ro, path, params):
    body = ro.get(path, params={**params, "range": 2}).json()
    assert body["code"] == 0 and len(body["data"]) == 2


def test_form_and_tag_rows_use_their_own_id_key(ro):
    form = ro.get("Forms", params={"range": 1}).json()["data"][0]
    assert "form_id" in form and "id" not in form
    tag = ro.get("Tags", params={"range": 1}).json()["data"][0]
    assert "tag_id" in tag
    assert (
        ro.get("Tags", params={"condition": cond(("tag_id", "=", 1))}).json()["data"][0]["tag_name"] == "Lead"
    )


def test_custom_object_related_data_is_computed(ro):
    row = ro.get("Memberships", params={"range": 1}).json()["data"][0]
    member = ro.get("Contact", params={"id": row["f2001"]}).json()["data"]
    assert row["f2008"] == member["email"]


def test_paths_are_case_sensitive_and_unknown_paths_404(ro):
    assert ro.get("contacts").status_code == 404
    assert ro.get("Contacts/").status_code == 404
    assert ro.get("Sequences").status_code == 404  # only objects?objectID=5
    assert ro.get("Users").status_code == 404
    response = ro.get("http://sandbox/2/Contacts")
    assert response.status_code == 404 and response.headers["content-type"].startswith("text/plain")
    assert ro.post("Contact", json={}).status_code == 404


def test_bad_object_id(ro):
    assert ro.get("objects", params={"objectID": 999}).status_code == 400
    assert ro.get("objects").status_code == 400


def test_group_id_applies_the_saved_criteria(ro):
    groups = ro.get("Groups", params={"listFields": "id,name,object_type_id", "sort": "id"}).json()["data"]
    au = next(g for g in groups if g["name"] == "Australian contacts")
    rows = ro.get("Contacts", params={"group_id": au["id"], "listFields": "country", "range": 50}).json()[
        "data"
    ]
    assert rows and {r["country"] for r in rows} == {"AU"}
    deals = next(g for g in groups if g["object_type_id"] == "149")
    assert ro.get("Contacts", params={"group_id": deals["id"]}).status_code == 400
    open_deals = ro.get(
        "Deals", params={"group_id": deals["id"], "listFields": "sales_stage", "range": 50}
    ).json()["data"]
    assert open_deals and not {r["sales_stage"] for r in open_deals} & {"605", "606"}


def test_search_notes_also_matches_the_text_of_the_records_notes(api):
    phrase = "zebra-lighthouse"
    assert api.post(
        "Notes", data={"contact_id": "12", "data": f"Called: {phrase} plan", "object_type_id": "0"}
    )
    # a deal's note with the phrase: its contact_id is a deal id, not a contact
    api.post("Notes", data={"contact_id": "13", "data": phrase, "object_type_id": "149"})
    query = {"search": phrase.upper(), "listFields": "id"}
    assert api.get("Contacts", params=query).json()["data"] == []
    for flag in ("1", "true"):
        rows = api.get("Contacts", params={**query, "searchNotes": flag}).json()["data"]
        assert rows == [{"id": "12"}]
        info = api.get("Contacts/getInfo", params={**query, "searchNotes": flag}).json()["data"]
        assert info["count"] == "1"
    assert api.get("Contacts", params={**query, "searchNotes": "0"}).json()["data"] == []
    # without search, searchNotes filters nothing
    everything = api.get("Contacts/getInfo", params={"searchNotes": "1"}).json()["data"]["count"]
    assert everything == str(SMALL)
    deals = api.get("Deals", params={**query, "searchNotes": "1"}).json()["data"]
    assert deals == [{"id": "13"}]
    # an action selected by search + searchNotes touches only the matching record
    untouched = {
        r["id"]: r["contact_cat"]
        for r in api.get("Contacts", params={"listFields": "id,contact_cat", "range": 50}).json()["data"]
    }
    answer = api.put(
        "objects/tag", data={"objectID": 0, "search": phrase, "searchNotes": "1", "add_list": "3"}
    )
    assert answer.status_code == 200
    assert "*/*3*/*" in api.get("Contact", params={"id": 12}).json()["data"]["contact_cat"]
    after = {
        r["id"]: r["contact_cat"]
        for r in api.get("Contacts", params={"listFields": "id,contact_cat", "range": 50}).json()["data"]
    }
    assert after == untouched
