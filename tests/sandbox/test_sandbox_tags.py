"""Tags by id and by name, the ``contact_cat`` field, tagged-record reads, subscriptions."""

from __future__ import annotations

import pytest
from sandbox_helpers import FakeClock, client_for

PROCESSING = "The tag is now being processed."


def _cat(api, record_id, path="Contact"):
    return api.get(path, params={"id": record_id}).json()["data"]["contact_cat"]


def _tag_id(api, name, object_type=0):
    rows = api.get("Tags", params={"range": 50, "sort": "tag_id"}).json()["data"]
    return next(
        r["tag_id"] for r in rows if r["tag_name"] == name and r["object_type_id"] == str(object_type)
    )


def test_tag_by_name_creates_missing_tags_and_syncs_contact_cat(make_app):
    clock = FakeClock(1_950_000_000)
    with client_for(make_app(clock=clock)) as api:
        api.put("Contacts", json={"id": 1, "contact_cat": ""})
        api.put("Contacts", json={"id": 2, "contact_cat": ""})
        body = api.put(
            "objects/tagByName", json={"objectID": 0, "ids": [1, 2], "add_names": ["VIP", "Brand New Tag"]}
        ).json()
        assert body["data"] == PROCESSING
        vip, new = _tag_id(api, "VIP"), _tag_id(api, "Brand New Tag")
        assert _cat(api, 1) == _cat(api, 2) == f"*/*{vip}*/*{new}*/*"
        clock.advance(10)
        api.put(
            "objects/tagByName", json={"objectID": 0, "ids": [1, 2], "add_names": ["vip"]}
        )  # already there
        assert api.get("Contact", params={"id": 1}).json()["data"]["dlm"] == "1950000000"
        removed = api.request(
            "DELETE",
            "objects/tagByName",
            json={"objectID": 0, "ids": [1], "remove_names": ["VIP", "No Such Tag"]},
        )
        assert removed.json()["data"] == PROCESSING
        assert _cat(api, 1) == f"*/*{new}*/*"
        assert api.get("Contact", params={"id": 1}).json()["data"]["dlm"] == "1950000010"
        api.request(
            "DELETE", "objects/tagByName", json={"objectID": 0, "ids": [1], "remove_names": ["Brand New Tag"]}
        )
        assert _cat(api, 1) == ""
        names = [r["tag_name"] for r in api.get("Tags", params={"range": 50}).json()["data"]]
        assert "No Such Tag" not in names and names.count("Brand New Tag") == 1


def test_tag_by_id_with_comma_strings_and_arrays(api):
    api.put("Contacts", json={"id": 3, "contact_cat": ""})
    assert (
        api.put("objects/tag", data={"objectID": "0", "ids": "3,4", "add_list": "2,5"}).json()["data"]
        == PROCESSING
    )
    assert _cat(api, 3) == "*/*2*/*5*/*"
    api.put("objects/tag", json={"objectID": 0, "ids": [3], "add_list": [7, 999]})  # unknown ids ignored
    assert _cat(api, 3) == "*/*2*/*5*/*7*/*"
    api.request("DELETE", "objects/tag", params={"objectID": 0, "ids": "3", "remove_list": "5"})
    assert _cat(api, 3) == "*/*2*/*7*/*"
    assert api.put("objects/tag", json={"objectID": 0, "add_list": [2]}).status_code == 400  # no ids: refused


def test_tags_on_other_types(api):
    deal = api.get("Deals", params={"range": 1, "sort": "id"}).json()["data"][0]
    api.put("objects/tagByName", json={"objectID": 149, "ids": [deal["id"]], "add_names": ["Upsell"]})
    upsell = _tag_id(api, "Upsell", 149)
    assert f"*/*{upsell}*/*" in _cat(api, deal["id"], "Deal")
    assert api.put("objects/tag", json={"objectID": 1, "ids": [1], "add_list": [1]}).status_code == 400


def test_get_tagged_records_and_count(api):
    lead = _tag_id(api, "Lead")
    rows = api.get(
        "objects/tag", params={"objectID": 0, "tag_id": lead, "listFields": "id,contact_cat", "range": 50}
    ).json()
    assert rows["data"] and all(f"*/*{lead}*/*" in r["contact_cat"] for r in rows["data"])
    count = api.get("objects/tag", params={"objectID": 0, "tag_name": "lead", "count": "true"}).json()[
        "data"
    ]["count"]
    info = api.get("Contacts/getInfo", params={"search": ""}).json()["data"]["count"]
    assert 0 < int(count) < int(info)
    assert api.get("objects/tag", params={"objectID": 0, "tag_name": "Nope", "count": "true"}).json()[
        "data"
    ] == {"count": "0"}
    assert api.get("objects/tag", params={"objectID": 0}).status_code == 400


def test_deleting_a_tag_removes_it_from_records(api):
    api.put("objects/tagByName", json={"objectID": 0, "ids": [9], "add_names": ["Temporary"]})
    temp = _tag_id(api, "Temporary")
    assert f"*/*{temp}*/*" in _cat(api, 9)
    api.delete("Tag", params={"id": temp})
    assert f"*/*{temp}*/*" not in _cat(api, 9)


def test_sequences_and_automations(api):
    api.put("Contacts", json={"id": 10, "updateSequence": "", "updateCampaign": ""})
    body = api.put("objects/sequence", json={"objectID": 0, "ids": [10], "add_list": [2, 3]}).json()
    assert body["data"] == "The subscription is now being processed."
    api.put("objects/subscribe", json={"objectID": 0, "ids": [10], "add_list": [4]})
    api.put("objects/subscribe", json={"objectID": 0, "ids": [10], "add_list": [1], "sub_type": "sequence"})
    row = api.get("Contact", params={"id": 10}).json()["data"]
    assert row["updateSequence"] == "*/*2*/*3*/*1*/*" and row["updateCampaign"] == "*/*4*/*"
    api.request("DELETE", "objects/sequence", json={"objectID": 0, "ids": [10], "remove_list": [3]})
    assert api.get("Contact", params={"id": 10}).json()["data"]["updateSequence"] == "*/*2*/*1*/*"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", "objects/tag", {"objectID": 0, "ids": "1,2"}),
        ("PUT", "objects/tag", {"objectID": 0, "ids": "1,2", "add_list": ""}),
        ("DELETE", "objects/tag", {"objectID": 0, "ids": "1,2", "remove_list": []}),
        ("DELETE", "objects/tag", {"objectID": 0, "ids": "1,2", "add_list": "1"}),
        ("PUT", "objects/tagByName", {"objectID": 0, "ids": [1, 2]}),
        ("PUT", "objects/tagByName", {"objectID": 0, "ids": [1, 2], "add_names": ["", " "]}),
        ("DELETE", "objects/tagByName", {"objectID": 0, "ids": [1, 2], "remove_names": []}),
        ("PUT", "objects/sequence", {"objectID": 0, "ids": "1,2", "remove_list": "1"}),
        ("DELETE", "objects/sequence", {"objectID": 0, "ids": "1,2"}),
        ("PUT", "objects/subscribe", {"objectID": 0, "ids": "1,2", "sub_type": "sequence"}),
        ("DELETE", "objects/subscribe", {"objectID": 0, "ids": "1,2"}),
    ],
)
def test_an_action_without_its_list_is_refused(api, method, path, body):
    fields = "id,contact_cat,updateSequence,updateCampaign"
    before = api.get("Contacts", params={"ids": "1,2", "listFields": fields}).json()["data"]
    tags = api.get("Tags/getInfo").json()["data"]["count"]
    refused = api.request(method, path, json=body)
    assert (refused.status_code, refused.text) == (400, "Invalid query")
    assert api.get("Contacts", params={"ids": "1,2", "listFields": fields}).json()["data"] == before
    assert api.get("Tags/getInfo").json()["data"]["count"] == tags


@pytest.mark.parametrize("ids", ["1,2", "1", 1])
def test_tag_by_name_needs_ids_as_an_array(api, ids):
    before = {i: _cat(api, i) for i in (1, 2)}
    tags = api.get("Tags/getInfo").json()["data"]["count"]
    for method in ("PUT", "DELETE"):
        names = "add_names" if method == "PUT" else "remove_names"
        refused = api.request(
            method, "objects/tagByName", json={"objectID": 0, "ids": ids, names: ["Array Only"]}
        )
        assert (refused.status_code, refused.text) == (400, "Invalid query")
    assert {i: _cat(api, i) for i in (1, 2)} == before
    assert api.get("Tags/getInfo").json()["data"]["count"] == tags
    # PHP bracket keys are an array too, as is a JSON list of strings
    form = api.put("objects/tagByName", data={"objectID": "0", "ids[0]": "1", "add_names[0]": "Array Only"})
    assert form.status_code == 200
    assert (
        api.put(
            "objects/tagByName", json={"objectID": 0, "ids": ["2"], "add_names": ["Array Only"]}
        ).status_code
        == 200
    )
    tagged = api.get(
        "objects/tag", params={"objectID": 0, "tag_name": "Array Only", "listFields": "id"}
    ).json()["data"]
    assert sorted(r["id"] for r in tagged) == ["1", "2"]
