"""PHP bracket parameters (``ids[0]=1``) are lists in query strings and form bodies."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from ontraport_pandas.sandbox.params import MAX_DEPTH, decode_pairs

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def contact_ids(client) -> list[int]:
    out: list[int] = []
    start = 0
    while True:
        rows = client.get("Contacts", params={"listFields": "id", "start": start, "range": 50}).json()["data"]
        out += [int(r["id"]) for r in rows]
        if len(rows) < 50:
            return sorted(out)
        start += 50


def test_decode_pairs_follows_php():
    assert decode_pairs([("ids[0]", "1"), ("ids[1]", "7")]) == {"ids": ["1", "7"]}
    assert decode_pairs([("ids[]", "1"), ("ids[]", "2")]) == {"ids": ["1", "2"]}
    assert decode_pairs([("ids[5]", "3"), ("ids[1]", "2")]) == {"ids": ["2", "3"]}
    assert decode_pairs([("message[id]", "5"), ("message[due_date]", "3")]) == {
        "message": {"id": "5", "due_date": "3"}
    }
    assert decode_pairs([("data[f][0]", "a"), ("data[f][1]", "b")]) == {"data": {"f": ["a", "b"]}}
    # the later of a plain and a bracketed value wins, as in PHP
    assert decode_pairs([("ids", "1,2"), ("ids[0]", "9")]) == {"ids": ["9"]}
    assert decode_pairs([("ids[0]", "9"), ("ids", "1,2")]) == {"ids": "1,2"}
    assert decode_pairs([("a]b", "x")]) == {"a]b": "x"}


@pytest.mark.parametrize("key", ["ids[0", "ids[0]x", "[0]", "ids" + "[0]" * (MAX_DEPTH + 1)])
def test_decode_pairs_refuses_malformed_keys(key):
    with pytest.raises(ValueError):
        decode_pairs([(key, "1")])


def test_delete_with_bracket_ids_deletes_only_those(api):
    before = contact_ids(api)
    target = before[:2]
    query = urlencode({"objectID": 0, "ids[0]": target[0], "ids[1]": target[1]})
    r = api.delete(f"objects?{query}")
    assert r.status_code == 200 and r.json()["data"] == "Deleted"
    assert contact_ids(api) == before[2:]


def test_delete_with_bracket_ids_in_a_form_body(api):
    before = contact_ids(api)
    body = urlencode({"ids[0]": before[-1]})
    r = api.request("DELETE", "Contacts", content=body, headers=FORM)
    assert r.status_code == 200
    assert contact_ids(api) == before[:-1]


def test_get_with_bracket_ids_returns_only_those(api):
    ids = contact_ids(api)[:3]
    query = urlencode({f"ids[{i}]": v for i, v in enumerate(ids)})
    rows = api.get(f"Contacts?{query}&listFields=id").json()["data"]
    assert sorted(int(r["id"]) for r in rows) == ids


def test_tag_action_with_bracket_lists_in_a_form_body(api):
    ids = contact_ids(api)[:2]
    tag = api.post("Tags", json={"tag_name": "Bracketed", "object_type_id": 0}).json()["data"]["tag_id"]
    body = urlencode({"objectID": 0, "ids[0]": ids[0], "ids[1]": ids[1], "add_list[0]": tag})
    r = api.put("objects/tag", content=body, headers=FORM)
    assert r.json()["data"] == "The tag is now being processed."
    tagged = api.get("objects/tag", params={"objectID": 0, "tag_id": tag, "listFields": "id"}).json()["data"]
    assert sorted(int(r["id"]) for r in tagged) == ids


@pytest.mark.parametrize("query", ["objectID=0&ids[0=5", "objectID=0&ids" + "[0]" * (MAX_DEPTH + 1) + "=5"])
def test_malformed_bracket_key_is_refused_and_deletes_nothing(api, query):
    before = contact_ids(api)
    r = api.delete(f"objects?{query}")
    assert r.status_code == 400 and r.text == "Invalid request body"
    assert contact_ids(api) == before


def test_bracket_ids_that_are_not_integers_are_an_invalid_query(api):
    before = contact_ids(api)
    r = api.delete("objects?" + urlencode({"objectID": 0, "ids[a]": "x"}))
    assert r.status_code == 400
    assert contact_ids(api) == before


def test_json_array_and_comma_string_select_the_same(api):
    ids = contact_ids(api)[:2]
    a = api.get("Contacts", params={"ids": ",".join(map(str, ids)), "listFields": "id"}).json()["data"]
    b = api.get(
        "Contacts?" + urlencode({"ids[]": ids[0]}) + "&" + urlencode({"ids[]": ids[1]}) + "&listFields=id"
    )
    assert sorted(r["id"] for r in a) == sorted(r["id"] for r in b.json()["data"])
    body = json.dumps({"objectID": 0, "ids": ids})
    r = api.request("DELETE", "objects", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 200
    assert not set(ids) & set(contact_ids(api))
