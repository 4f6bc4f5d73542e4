"""Create, update, saveorupdate, delete and the access matrix."""

from __future__ import annotations

import json
import re

import pytest
from sandbox_helpers import FakeClock, client_for, cond

DENIED = "This object type does not allow this action."


def test_create_echoes_fields_as_sent_plus_system_fields(make_app):
    clock = FakeClock(1_800_000_000)
    with client_for(make_app(clock=clock)) as api:
        body = api.post(
            "Contacts",
            json={
                "firstname": "Ada",
                "email": "ada@example.com",
                "f1003": 7,
                "bogus": "x",
                "spent": "99",
                "id": 5,
            },
        ).json()
        data = body["data"]
        assert data["firstname"] == "Ada" and data["f1003"] == 7  # an int stays an int in the echo
        assert "bogus" not in data and "spent" not in data
        assert data["owner"] == "1" and data["date"] == data["dlm"] == "1800000000" and data["dla"] == "0"
        assert re.fullmatch("[A-Z0-9]{7}", data["unique_id"])
        assert data["id"] == "301"
        stored = api.get("Contact", params={"id": 301}).json()["data"]
        assert stored["f1003"] == "7" and stored["spent"] == "0" and stored["company"] is None
        assert stored["unique_id"] == data["unique_id"]


def test_create_allows_duplicate_emails_and_takes_form_bodies(api):
    first = api.post("Contacts", data={"email": "dup@example.com"}).json()["data"]["id"]
    second = api.post("Contacts", data={"email": "dup@example.com", "f1002": "401,403"}).json()["data"]["id"]
    assert first != second
    assert api.get("Contact", params={"id": second}).json()["data"]["f1002"] == "*/*401*/*403*/*"
    found = api.get("object/getByEmail", params={"objectID": 0, "email": " DUP@example.com", "all": 1}).json()
    assert found["data"] == {"ids": [first, second]}
    assert api.get("object/getByEmail", params={"objectID": 0, "email": "dup@example.com"}).json()[
        "data"
    ] == {"id": first}
    missing = api.get("object/getByEmail", params={"objectID": 0, "email": "nobody@nowhere.test"})
    assert missing.status_code == 404


def test_create_with_an_invalid_email_is_422(api):
    response = api.post("Contacts", json={"firstname": "X", "email": "not-an-email"})
    assert response.status_code == 422 and response.text == "Invalid email address"
    assert api.put("Contacts", json={"id": 1, "email": "also bad@x"}).status_code == 422
    assert api.post("Contacts", json={"email": ""}).status_code == 200


def test_create_missing_required_field_is_400(api):
    response = api.post("Products", json={"price": "10.00"})
    assert response.status_code == 400 and response.text.startswith("Missing required field")
    assert api.post("Products", json={"name": "Towel", "price": 12.5}).json()["data"]["price"] == 12.5


def test_country_names_become_codes(api):
    new_id = api.post("Contacts", json={"country": "Australia"}).json()["data"]["id"]
    assert api.get("Contact", params={"id": new_id}).json()["data"]["country"] == "AU"
    attrs = api.put("Contacts", json={"id": new_id, "country": "United States"}).json()["data"]["attrs"]
    assert attrs["country"] == "US"


def test_update_reply_lists_only_changed_fields_plus_dlm_and_id(make_app):
    clock = FakeClock(1_900_000_000)
    with client_for(make_app(clock=clock)) as api:
        before = api.get("Contact", params={"id": 8}).json()["data"]
        body = api.put(
            "Contacts",
            json={"id": "8", "firstname": "Zed", "lastname": before["lastname"], "owner": before["owner"]},
        ).json()
        assert body["data"] == {"attrs": {"firstname": "Zed", "dlm": "1900000000", "id": "8"}}
        clock.advance(100)
        unchanged = api.put("Contacts", json={"id": 8, "firstname": "Zed"}).json()["data"]["attrs"]
        assert unchanged == {"dlm": "1900000000", "id": "8"}  # dlm did not move
        assert api.get("Contact", params={"id": 8}).json()["data"]["dlm"] == "1900000000"


def test_update_can_bump_dlm_even_when_nothing_changed(make_app):
    clock = FakeClock(1_900_000_000)
    with client_for(make_app(clock=clock, dlm_on_unchanged=True)) as api:
        first = api.get("Contact", params={"id": 3}).json()["data"]["firstname"]
        assert (
            api.put("Contacts", json={"id": 3, "firstname": first}).json()["data"]["attrs"]["dlm"]
            == "1900000000"
        )


def test_update_by_unique_id_and_id_wins(api):
    one = api.get("Contact", params={"id": 1}).json()["data"]
    attrs = api.put("Contacts", json={"unique_id": one["unique_id"].lower(), "title": "Boss"}).json()["data"][
        "attrs"
    ]
    assert attrs["id"] == "1" and attrs["title"] == "Boss"
    attrs = api.put("Contacts", json={"id": 2, "unique_id": one["unique_id"], "title": "Boss"}).json()[
        "data"
    ]["attrs"]
    assert attrs["id"] == "2"


@pytest.mark.parametrize(
    "body", [{"firstname": "x"}, {"id": 999_999, "firstname": "x"}, {"unique_id": "NOPE123"}]
)
def test_update_of_a_missing_record_is_400_object_not_found(api, body):
    response = api.put("Contacts", json=body)
    assert response.status_code == 400 and response.text == "Object not found"


def test_saveorupdate_matches_on_email_case_insensitively(api):
    target = api.get(
        "Contacts", params={"condition": cond(("email", "LIKE", "%@%")), "sort": "id", "range": 1}
    ).json()
    target = target["data"][0]
    body = api.post(
        "Contacts/saveorupdate", data={"email": "  " + target["email"].strip().upper(), "lastname": "Matched"}
    ).json()
    attrs = body["data"]["attrs"]
    assert attrs["lastname"] == "Matched" and attrs["id"] == target["id"]
    assert "email" in attrs  # the stored e-mail was overwritten with the form sent
    created = api.post(
        "Contacts/saveorupdate", data={"email": "brand.new@example.com", "firstname": "N"}
    ).json()
    assert created["data"]["firstname"] == "N" and created["data"]["id"] == "301"


def test_saveorupdate_matches_unique_id_first_and_never_id(api):
    a, b = (api.get("Contact", params={"id": i}).json()["data"] for i in (1, 2))
    body = api.post(
        "objects/saveorupdate",
        json={"objectID": 0, "unique_id": b["unique_id"], "email": a["email"], "title": "U"},
    )
    assert body.json()["data"]["attrs"]["id"] == "2"
    by_id = api.post("Contacts/saveorupdate", json={"id": 1, "firstname": "OnlyId"}).json()["data"]
    assert "attrs" not in by_id and by_id["id"] == "301"


def test_saveorupdate_ignore_blanks(api):
    target = api.post(
        "Contacts", json={"email": "blank@example.com", "firstname": "Keep", "lastname": "Me"}
    ).json()["data"]
    kept = api.post(
        "Contacts/saveorupdate",
        data={"email": "blank@example.com", "firstname": "", "lastname": "New", "ignore_blanks": "1"},
    ).json()["data"]["attrs"]
    assert kept == {"lastname": "New", "dlm": kept["dlm"], "id": target["id"]}
    wiped = api.post("Contacts/saveorupdate", json={"email": "blank@example.com", "firstname": ""}).json()[
        "data"
    ]["attrs"]
    assert wiped["firstname"] == ""


def test_saveorupdate_on_deals_by_unique_id(api):
    deal = api.get("Deals", params={"range": 1}).json()["data"][0]
    attrs = api.post("Deals/saveorupdate", json={"unique_id": deal["unique_id"], "name": "Renamed"}).json()[
        "data"
    ]["attrs"]
    assert attrs == {"name": "Renamed", "dlm": attrs["dlm"], "id": deal["id"]}


def test_delete_one_and_many(api):
    body = api.delete("Contact", params={"id": 5}).json()
    assert body == {"code": 0, "account_id": 50}
    assert api.get("Contact", params={"id": 5}).status_code == 404
    assert api.delete("Contact", params={"id": 5}).status_code == 404
    assert api.request("DELETE", "Contacts", params={"ids": "6,7"}).json()["data"] == "Deleted"
    gone = api.request("DELETE", "Contacts", json={"condition": json.loads(cond(("owner", "=", 5)))}).json()
    assert gone["data"] == "Deleted"
    assert (
        api.get("Contacts/getInfo", params={"condition": cond(("owner", "=", 5))}).json()["data"]["count"]
        == "0"
    )
    left = int(api.get("Contacts/getInfo").json()["data"]["count"])
    assert 0 < left < 297
    assert api.request("DELETE", "objects", params={"objectID": 0}).json()["data"] == "Deleted"
    assert api.get("Contacts/getInfo").json()["data"]["count"] == "0"
    new_id = api.post("Contacts", json={"firstname": "After"}).json()["data"]["id"]
    assert new_id == "301"  # ids are never reused


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "Transactions", {"total": "1"}),
        ("PUT", "Purchases", {"id": 1, "name": "x"}),
        ("DELETE", "Forms", None),
        ("POST", "CampaignBuilderItems", {"name": "x"}),
        ("POST", "Tasks", {"subject": "x"}),
        ("DELETE", "Task", None),
        ("DELETE", "Tasks", None),
        ("POST", "Groups", {"name": "x"}),
        ("PUT", "Groups", {"id": 1, "name": "x"}),
        ("DELETE", "Offers", None),
    ],
)
def test_refused_verbs_are_403(api, method, path, body):
    params = {"id": 1} if body is None else None
    response = api.request(method, path, json=body, params=params)
    assert response.status_code == 403 and response.text == DENIED


def test_allowed_writes_on_other_types(api):
    assert api.put("Tasks", json={"id": 1, "status": 1}).json()["data"]["attrs"]["status"] == "1"
    assert api.delete("Group", params={"id": 1}).status_code == 200
    assert api.post("Offers", json={"name": "New offer", "data": '{"products": []}'}).status_code == 200
    assert api.post("objects", json={"objectID": 5, "name": "New sequence"}).status_code == 200
    assert api.post("Notes", json={"contact_id": 1, "data": "hello"}).status_code == 200


def test_access_overrides(make_app):
    with client_for(make_app(contacts=10, access={"sequences": "GET", "Tasks": "GET PUT POST"})) as api:
        assert api.post("objects", json={"objectID": 5, "name": "x"}).status_code == 403
        assert api.post("Tasks", json={"subject": "now allowed"}).status_code == 200
    with pytest.raises(ValueError):
        make_app(contacts=10, access={"nonsense": "GET"})


def test_message_route(api):
    created = api.post("message", json={"type": "e-mail", "alias": "Hello", "subject": "Hi"}).json()["data"]
    assert isinstance(created["id"], int) and created["date"].isdigit()
    assert api.post("message", json={"alias": "No type"}).status_code == 400
    updated = api.put("message", json={"id": created["id"], "type": "e-mail", "subject": "Hi again"}).json()
    assert updated["data"] == {"id": str(created["id"]), "date": created["date"]}
    assert api.get("Message", params={"id": created["id"]}).json()["data"]["subject"] == "Hi again"
    assert api.put("message", json={"id": created["id"], "subject": "x"}).status_code == 400


def test_tag_names_are_unique_per_type(api):
    assert api.post("Tags", json={"tag_name": "Brand New"}).status_code == 200
    duplicate = api.post("Tags", json={"tag_name": "brand new"})
    assert duplicate.status_code == 400
    assert api.post("Tags", json={"tag_name": "Brand New", "object_type_id": 149}).status_code == 200


def test_malformed_body_is_400(api):
    response = api.post("Contacts", content=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and response.text == "Invalid request body"


def test_values_are_normalised_like_mysql_columns(api):
    new_id = api.post(
        "Contacts",
        json={
            "f1003": "3.7",
            "f1005": "",
            "f1006": True,
            "f1004": 180.0,
            "birthday": None,
            "contact_cat": [3, 1],
        },
    ).json()["data"]["id"]
    row = api.get("Contact", params={"id": new_id}).json()["data"]
    assert (row["f1003"], row["f1005"], row["f1006"], row["f1004"]) == ("4", "0", "1", "180")
    assert row["birthday"] is None and row["contact_cat"] == "*/*3*/*1*/*"


def _ids(api, path="Contacts", **params):
    out, start = [], 0
    while True:
        page = api.get(path, params={"listFields": "id", "start": start, "sort": "id", **params}).json()[
            "data"
        ]
        out += [int(r["id"]) for r in page]
        if len(page) < 50:
            return out
        start += 50


def test_bulk_delete_honours_start_range_and_sort_when_sent(api):
    everything = _ids(api)
    owned = cond(("owner", "=", "1"))
    matching = _ids(api, condition=owned)
    # the page a GET with the same parameters shows is exactly what is deleted
    page = {"condition": owned, "sort": "id", "sortDir": "asc", "start": 2, "range": 3}
    shown = [int(r["id"]) for r in api.get("Contacts", params={**page, "listFields": "id"}).json()["data"]]
    assert len(shown) == 3
    assert api.request("DELETE", "Contacts", params=page).json()["data"] == "Deleted"
    assert _ids(api) == [i for i in everything if i not in shown]
    assert _ids(api, condition=owned) == [i for i in matching if i not in shown]
    # a range above the maximum is clamped as on reads; default order is newest first
    before = _ids(api)
    api.request("DELETE", "objects", json={"objectID": 0, "ids": "0", "range": 500})
    assert _ids(api) == before[:-50]
    # without start/range every matching record goes, as before
    api.request("DELETE", "Contacts", params={"condition": owned})
    assert _ids(api, condition=owned) == []


def test_tag_and_subscription_actions_honour_start_and_range(api):
    rows = api.get("Contacts", params={"sort": "id", "range": 10, "listFields": "id,contact_cat"}).json()[
        "data"
    ]
    before = {r["id"]: r["contact_cat"] for r in rows}
    tag = api.post("Tags", data={"tag_name": "Paged action"}).json()["data"]["tag_id"]
    answer = api.put(
        "objects/tag", data={"objectID": 0, "ids": "0", "add_list": tag, "sort": "id", "start": 4, "range": 2}
    )
    assert answer.status_code == 200
    tagged = api.get("objects/tag", params={"objectID": 0, "tag_id": tag, "listFields": "id"}).json()["data"]
    assert sorted(int(r["id"]) for r in tagged) == [5, 6]
    after = api.get("Contacts", params={"sort": "id", "range": 10, "listFields": "id,contact_cat"}).json()[
        "data"
    ]
    assert {r["id"]: r["contact_cat"] for r in after if r["id"] not in ("5", "6")} == {
        k: v for k, v in before.items() if k not in ("5", "6")
    }
    named = api.put(
        "objects/tagByName",
        json={"objectID": 0, "ids": [1, 2, 3, 4], "add_names": ["Paged by name"], "sort": "id", "range": 1},
    )
    assert named.status_code == 200
    by_name = api.get("objects/tag", params={"objectID": 0, "tag_name": "Paged by name", "listFields": "id"})
    assert by_name.json()["data"] == [{"id": "1"}]
    assert (
        api.put("objects/tag", data={"objectID": 0, "ids": "1", "add_list": tag, "start": -1}).status_code
        == 400
    )


@pytest.mark.parametrize(
    ("path", "body", "text"),
    [
        (
            "Rules",
            {"events": "Contact_added_to_category(1)", "actions": "Add_contact_to_category(2)"},
            "Missing required field(s): object_type_id",
        ),
        ("Offers", {"name": "No data", "public": 1}, "Missing required field(s): data"),
        ("Offers", {"name": "Bad data", "data": "not json"}, "Invalid offer data"),
        ("Offers", {"name": "List data", "data": "[1, 2]"}, "Invalid offer data"),
    ],
)
def test_creates_need_the_fields_the_api_requires(api, path, body, text):
    count = api.get(f"{path}/getInfo").json()["data"]["count"]
    refused = api.post(path, json=body)
    assert (refused.status_code, refused.text) == (400, text)
    assert api.get(f"{path}/getInfo").json()["data"]["count"] == count
    meta = api.get(f"{path}/meta").json()["data"]
    (fields,) = (entry["fields"] for entry in meta.values())
    assert fields["object_type_id" if path == "Rules" else "data"]["required"] == 1


def test_rule_and_offer_creates_with_their_required_fields(api):
    rule = api.post(
        "Rules",
        data={
            "events": "Contact_added_to_category(1)",
            "actions": "Add_contact_to_category(2)",
            "object_type_id": "0",
        },
    ).json()["data"]
    assert api.get("Rule", params={"id": rule["id"]}).json()["data"]["object_type_id"] == "0"
    offer = api.post("Offers", json={"name": "Bundle", "data": '{"products": [{"id": "1"}]}', "public": 1})
    stored = api.get("Offer", params={"id": offer.json()["data"]["id"]}).json()["data"]
    assert json.loads(stored["data"]) == {"products": [{"id": "1"}]}
    # an update may leave data alone, but may not replace it with something that is not an offer
    first = api.get("Offers", params={"range": 1, "listFields": "id,data"}).json()["data"][0]
    assert api.put("Offers", json={"id": first["id"], "name": "Renamed"}).status_code == 200
    refused = api.put("Offers", json={"id": first["id"], "data": "{broken"})
    assert (refused.status_code, refused.text) == (400, "Invalid offer data")
    assert api.get("Offer", params={"id": first["id"]}).json()["data"]["data"] == first["data"]


def _first(api, **where):
    rows = api.get("Contacts", params={"listFields": "id,bulk_mail,bulk_sms", "range": 50}).json()["data"]
    return next(r for r in rows if all(r[k] == v for k, v in where.items()))


@pytest.mark.parametrize("how", ["put", "saveorupdate"])
def test_an_update_cannot_opt_a_contact_in(api, how):
    transactional = _first(api, bulk_mail="0")
    opted_in = _first(api, bulk_mail="1")
    sms_out = _first(api, bulk_sms="0")

    def update(record, **fields):
        if how == "put":
            return api.put("Contacts", json={"id": record["id"], **fields})
        code = api.get("Contact", params={"id": record["id"]}).json()["data"]["unique_id"]
        return api.post("Contacts/saveorupdate", json={"unique_id": code, **fields})

    def stored(record):
        row = api.get("Contact", params={"id": record["id"]}).json()["data"]
        return row["bulk_mail"], row["bulk_sms"]

    # opting in (or double opt-in) through the API is ignored: not stored, not in attrs
    answer = update(transactional, bulk_mail=1, title="Opt-in attempt")
    assert answer.status_code == 200
    assert "bulk_mail" not in answer.json()["data"]["attrs"]
    assert answer.json()["data"]["attrs"]["title"] == "Opt-in attempt"
    assert stored(transactional)[0] == "0"
    assert "bulk_mail" not in update(opted_in, bulk_mail="2").json()["data"]["attrs"]
    assert stored(opted_in)[0] == "1"
    assert "bulk_sms" not in update(sms_out, bulk_sms=1).json()["data"]["attrs"]
    assert stored(sms_out)[1] == "0"
    # setting 0 (transactional only / SMS opt-out) is allowed
    assert update(opted_in, bulk_mail=0, bulk_sms="0").status_code == 200
    assert stored(opted_in) == ("0", "0")
    # a new contact may be created opted in
    created = api.post("Contacts", json={"email": "new.optin@example.com", "bulk_mail": 1}).json()["data"]
    assert api.get("Contact", params={"id": created["id"]}).json()["data"]["bulk_mail"] == "1"


def test_opt_in_updates_can_be_refused_instead(make_app):
    with client_for(make_app(opt_in_updates="error")) as api:
        record = _first(api, bulk_mail="0")
        refused = api.put("Contacts", json={"id": record["id"], "bulk_mail": "1", "title": "Nope"})
        assert (refused.status_code, refused.text) == (400, "bulk_mail can only be set to 0 through the API")
        row = api.get("Contact", params={"id": record["id"]}).json()["data"]
        assert row["bulk_mail"] == "0" and row["title"] != "Nope"
        assert api.put("Contacts", json={"id": record["id"], "bulk_mail": "0"}).status_code == 200


@pytest.mark.parametrize(
    ("path", "record", "field"),
    [("Products", 1, "name"), ("Tags", 1, "tag_name"), ("Rules", 1, "events"), ("Offers", 1, "name")],
)
def test_an_update_cannot_blank_a_required_field(api, path, record, field):
    single = path[:-1]
    before = api.get(single, params={"id": record}).json()["data"]
    for blank in ("", "   ", None):
        refused = api.put(path, json={"id": record, field: blank})
        assert (refused.status_code, refused.text) == (400, f"Missing required field(s): {field}")
    assert api.get(single, params={"id": record}).json()["data"] == before
    # a value is still taken
    assert api.put(path, json={"id": record, field: "Renamed"}).status_code == 200
    assert api.get(single, params={"id": record}).json()["data"][field] == "Renamed"
