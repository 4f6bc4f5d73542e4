"""``externs`` adds related records' values to collection rows, in-process and served."""

from __future__ import annotations


def by_id(client, path, type_id=None, **params):
    if type_id is not None:
        params["objectID"] = type_id
    rows = client.get(path, params={"range": 50, "sort": "id", **params}).json()["data"]
    return {r.get("id", r.get("form_id")): r for r in rows}


def test_owner_firstname_on_contacts(both):
    users = by_id(both, "objects", 2)
    rows = both.get("Contacts", params={"range": 20, "externs": "owner//firstname,owner//email"}).json()[
        "data"
    ]
    assert rows
    for row in rows:
        assert row["owner//firstname"] == users[row["owner"]]["firstname"]
        assert row["owner//email"] == users[row["owner"]]["email"]
        assert list(row)[-2:] == ["owner//firstname", "owner//email"]


def test_two_levels_deep_and_with_list_fields(both):
    users = by_id(both, "objects", 2)
    members = both.get(
        "Memberships", params={"range": 20, "listFields": "f2000,f2001", "externs": "f2001//owner//lastname"}
    ).json()["data"]
    for row in members:
        assert list(row) == ["f2000", "f2001", "f2001//owner//lastname"]
        contact = both.get("Contact", params={"id": row["f2001"]}).json()["data"]
        assert row["f2001//owner//lastname"] == users[contact["owner"]]["lastname"]


def test_externs_on_tasks_and_on_a_computed_field(both):
    tasks = both.get("Tasks", params={"range": 10, "externs": "contact_id//email,contact_id//id"}).json()[
        "data"
    ]
    for t in tasks:
        contact = both.get("Contact", params={"id": t["contact_id"]}).json()["data"]
        assert t["contact_id//email"] == contact["email"]
        assert t["contact_id//id"] == t["contact_id"]


def test_missing_or_unserved_relations_are_null(both):
    rows = both.get("Contacts", params={"range": 5, "externs": "n_lead_source//name"}).json()["data"]
    assert all(r["n_lead_source//name"] is None for r in rows)
    both.put("Contacts", json={"id": 1, "owner": 0})
    row = both.get("Contacts", params={"ids": 1, "externs": "owner//firstname"}).json()["data"][0]
    assert row["owner//firstname"] is None


def test_bad_paths_are_an_invalid_query(both):
    for path in ("firstname//email", "owner//nope", "nope//firstname", "owner", "owner//", "//email"):
        r = both.get("Contacts", params={"externs": path})
        assert r.status_code == 400 and r.text == "Invalid query", path


def test_externs_through_objects_tag_and_the_generic_route(both):
    users = by_id(both, "objects", 2)
    rows = both.get("objects", params={"objectID": 0, "range": 5, "externs": "owner//firstname"}).json()[
        "data"
    ]
    assert all(r["owner//firstname"] == users[r["owner"]]["firstname"] for r in rows)
    tagged = both.get(
        "objects/tag", params={"objectID": 0, "tag_id": 1, "range": 5, "externs": "owner//firstname"}
    ).json()["data"]
    assert tagged and all("owner//firstname" in r for r in tagged)
