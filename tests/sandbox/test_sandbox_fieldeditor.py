"""The field editor: sections and fields read, created, changed and deleted, in-process and served."""

from __future__ import annotations

import pytest
from sandbox_helpers import client_for

from ontraport_pandas.sandbox import create_app

FIELD_KEYS = {"id", "alias", "field", "type", "required", "unique", "editable", "deletable", "options"}


def sections(client, path="Contacts/fieldeditor", **params):
    return client.get(path, params=params).json()["data"]


def all_fields(data):
    return {f["field"]: f for s in data.values() for column in s["fields"] for f in column}


def test_get_lists_sections_keyed_by_id_with_every_field(both):
    data = sections(both)
    assert all(key == str(s["id"]) and isinstance(s["id"], int) for key, s in data.items())
    assert data["1"]["name"] == "Contact Information" and data["1"]["description"] is None
    fields = all_fields(data)
    meta = both.get("Contacts/meta").json()["data"]["0"]["fields"]
    assert set(fields) == set(meta) - {"id"}
    first = fields["firstname"]
    assert set(first) == FIELD_KEYS
    assert (first["alias"], first["type"], first["required"], first["deletable"], first["options"]) == (
        "First Name",
        "text",
        0,
        0,
        "",
    )
    assert fields["f1001"]["options"] == meta["f1001"]["options"] and fields["f1001"]["deletable"] == 1
    assert len({f["id"] for f in fields.values()}) == len(fields)


def test_get_narrowed_by_section_or_field(both):
    one = sections(both, section="lead information")
    assert [s["name"] for s in one.values()] == ["Lead Information"]
    assert sections(both, field="email")["alias"] == "Email"
    assert both.get("Contacts/fieldeditor", params={"field": "nope"}).status_code == 400
    assert both.get("Contacts/fieldeditor", params={"section": "nope"}).status_code == 400


def test_post_creates_a_section_and_fields_that_work_everywhere(both):
    body = {
        "objectID": 0,
        "name": "Studio",
        "description": "Studio preferences",
        "fields": [
            [
                {
                    "alias": "Favourite Class",
                    "type": "drop",
                    "required": 0,
                    "unique": 0,
                    "options": {"add": ["Yoga", "Spin"]},
                },
                {"alias": "Locker Number", "type": "numeric"},
            ]
        ],
    }
    answer = both.post("Contacts/fieldeditor", json=body).json()["data"]
    assert answer["error"] == [] and list(answer["success"].values()) == ["Favourite Class", "Locker Number"]
    drop, number = answer["success"]
    assert drop.startswith("f") and int(number[1:]) == int(drop[1:]) + 1
    studio = sections(both, section="Studio")
    (section,) = studio.values()
    assert section["description"] == "Studio preferences"
    (column,) = section["fields"]
    assert [f["field"] for f in column] == [drop, number]
    options = column[0]["options"]
    assert sorted(options.values()) == ["Spin", "Yoga"]
    meta = both.get("Contacts/meta").json()["data"]["0"]["fields"]
    assert meta[drop]["type"] == "drop" and meta[drop]["options"] == options
    yoga = [k for k, v in options.items() if v == "Yoga"][0]
    both.put("Contacts", json={"id": 3, drop: yoga, number: 12})
    row = both.get("Contact", params={"id": 3}).json()["data"]
    assert (row[drop], row[number]) == (yoga, "12")
    fresh = both.get("Contact", params={"id": 4}).json()["data"]
    assert (fresh[drop], fresh[number]) == ("0", "0")
    cond = f'[{{"field":{{"field":"{number}"}},"op":"=","value":{{"value":"12"}}}}]'
    found = both.get("Contacts", params={"condition": cond, "listFields": f"id,{number}"}).json()["data"]
    assert found == [{"id": "3", number: "12"}]


def test_post_reports_bad_fields_and_saves_the_others(both):
    body = {
        "name": "Contact Information",
        "fields": [
            {"alias": "First Name"},
            {"alias": "", "type": "text"},
            {"alias": "X", "type": "image"},
            {"alias": "Nickname"},
        ],
    }
    answer = both.post("Contacts/fieldeditor", json=body).json()["data"]
    assert list(answer["success"].values()) == ["Nickname"]
    assert [e["alias"] for e in answer["error"]] == ["First Name", "", "X"]
    assert all(e["message"] for e in answer["error"])
    fields = all_fields(sections(both, section="Contact Information"))
    assert fields[next(iter(answer["success"]))]["alias"] == "Nickname"


def test_post_to_an_existing_section_can_be_an_error(make_app):
    app = make_app(fieldeditor_post_existing="error")
    with client_for(app) as client:
        r = client.post("Contacts/fieldeditor", json={"name": "Membership", "fields": [{"alias": "New"}]})
        assert r.status_code == 400 and r.text == "Section already exists"
        assert "New" not in {f["alias"] for f in all_fields(sections(client)).values()}


def test_put_updates_fields_and_options_and_moves_them(both):
    made = both.post(
        "Contacts/fieldeditor",
        json={"name": "Extra", "fields": [{"alias": "Size", "type": "list", "options": ["S", "M", "L"]}]},
    )
    (name,) = made.json()["data"]["success"]
    body = {
        "name": "Membership",
        "fields": [
            [
                {
                    "field": name,
                    "alias": "Shirt Size",
                    "required": 1,
                    "options": {"remove": ["M"], "add": ["XL"]},
                },
                {"field": "firstname", "alias": "Given Name"},
            ]
        ],
    }
    answer = both.put("Contacts/fieldeditor", json=body).json()["data"]
    assert answer == {"success": {name: "Shirt Size", "firstname": "Given Name"}, "error": []}
    membership = all_fields(sections(both, section="Membership"))
    assert membership[name]["required"] == 1
    assert sorted(membership[name]["options"].values()) == ["L", "S", "XL"]
    assert all_fields(sections(both, section="Extra")) == {}
    assert both.get("Contacts/meta").json()["data"]["0"]["fields"]["firstname"]["alias"] == "Given Name"
    replaced = both.put(
        "Contacts/fieldeditor",
        json={"name": "Membership", "fields": [{"field": name, "options": {"replace": ["S", "XXL"]}}]},
    )
    assert replaced.json()["data"]["error"] == []
    options = sections(both, field=name)["options"]
    assert sorted(options.values()) == ["S", "XXL"]
    assert both.put("Contacts/fieldeditor", json={"name": "Nope", "fields": []}).status_code == 400
    bad = both.put(
        "Contacts/fieldeditor", json={"name": "Membership", "fields": [{"field": "email", "type": "numeric"}]}
    )
    assert bad.json()["data"]["success"] == {} and bad.json()["data"]["error"]


def test_delete_field_and_section(both):
    made = both.post(
        "Contacts/fieldeditor", json={"name": "Temp", "fields": [{"alias": "Temp field"}]}
    ).json()
    (name,) = made["data"]["success"]
    both.put("Contacts", json={"id": 5, name: "hello"})
    r = both.delete("Contacts/fieldeditor", params={"section": "Temp"})
    assert r.status_code == 400 and r.text == "Section is not empty"
    assert both.delete("Contacts/fieldeditor", params={"field": name}).json()["data"] == "Deleted"
    assert name not in both.get("Contact", params={"id": 5}).json()["data"]
    assert name not in both.get("Contacts/meta").json()["data"]["0"]["fields"]
    assert both.delete("Contacts/fieldeditor", params={"section": "Temp"}).json()["data"] == "Deleted"
    assert "Temp" not in {s["name"] for s in sections(both).values()}
    r = both.delete("Contacts/fieldeditor", params={"field": "email"})
    assert r.status_code == 400 and r.text == "Field cannot be deleted"
    assert both.delete("Contacts/fieldeditor", params={"field": name}).status_code == 400
    assert both.delete("Contacts/fieldeditor").status_code == 400


def test_products_and_the_generic_route(both):
    products = sections(both, "Products/fieldeditor")
    assert "name" in all_fields(products)
    made = both.post(
        "objects/fieldeditor",
        json={"objectID": 10000, "name": "Billing", "fields": [{"alias": "Invoice Email", "type": "email"}]},
    )
    (name,) = made.json()["data"]["success"]
    custom = sections(both, "objects/fieldeditor", objectID=10000)
    assert all_fields(custom)[name]["type"] == "email"
    assert both.put("objects", json={"objectID": 10000, "id": 1, name: "nope"}).status_code == 422
    assert both.get("objects/fieldeditor").status_code == 400
    r = both.post("objects/fieldeditor", json={"objectID": 46, "name": "X", "fields": [{"alias": "Y"}]})
    assert r.status_code == 403


def test_a_second_process_on_the_same_file_sees_new_fields(tmp_path):
    path = str(tmp_path / "shared.sqlite")
    with (
        create_app(contacts=20, rate_limit=None, path=path) as first,
        create_app(contacts=20, rate_limit=None, path=path) as second,
    ):
        with client_for(first) as a, client_for(second) as b:
            assert "Shared Field" not in {f["alias"] for f in all_fields(sections(b)).values()}
            made = a.post(
                "Contacts/fieldeditor", json={"name": "Shared", "fields": [{"alias": "Shared Field"}]}
            )
            (name,) = made.json()["data"]["success"]
            assert all_fields(sections(b))[name]["alias"] == "Shared Field"
            b.put("Contacts", json={"id": 1, name: "from b"})
            assert a.get("Contact", params={"id": 1}).json()["data"][name] == "from b"


@pytest.mark.parametrize("fields", ["not json", 5, [3]])
def test_malformed_fields_are_an_invalid_query(both, fields):
    r = both.post("Contacts/fieldeditor", json={"name": "Bad", "fields": fields})
    assert r.status_code == 400
    assert "Bad" not in {s["name"] for s in sections(both).values()}
