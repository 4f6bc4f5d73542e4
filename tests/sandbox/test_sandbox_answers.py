"""Answers shaped as Ontraport's own fixtures show them (issue: answers to correct)."""

from __future__ import annotations

import json
import re

RULE_ITEM = re.compile(r"^[A-Za-z_]+\([^()]*\)$")
#: Rule-language names seen in the official SDK's fixtures and docs.
KNOWN = {
    "Contact_added_to_category",
    "Contact_purchases_product",
    "Add_contact_to_category",
    "Remove_contact_from_category",
    "Send_contact_an_emailmbs",
    "field_is_condition_fieldvalue",
}


def test_single_form_has_integer_ids_and_dates_and_deleted_false(ro):
    listed = ro.get("Forms", params={"range": 1}).json()["data"][0]
    assert isinstance(listed["form_id"], str) and isinstance(listed["date"], str)
    one = ro.get("Form", params={"id": listed["form_id"]}).json()["data"]
    for name in ("form_id", "date", "dlm", "object_type_id"):
        assert isinstance(one[name], int), name
        assert str(one[name]) == listed[name]
    assert one["deleted"] == "false"
    assert one["formname"] == listed["formname"]


def test_put_message_answers_id_and_created_date(api):
    created = api.post("message", json={"type": "e-mail", "alias": "A", "subject": "S"}).json()["data"]
    body = api.put("message", json={"id": str(created["id"]), "type": "e-mail", "alias": "B"}).json()
    assert body["data"] == {"id": str(created["id"]), "date": created["date"]}
    assert api.get("Message", params={"id": created["id"]}).json()["data"]["alias"] == "B"
    assert api.put("message", json={"id": "999999", "type": "e-mail"}).status_code == 400


def test_demo_rules_use_the_rule_language(ro):
    rules = ro.get("Rules", params={"range": 50}).json()["data"]
    assert len(rules) == 12
    seen = set()
    tag_ids = {t["tag_id"] for t in ro.get("Tags", params={"range": 50}).json()["data"]}
    for rule in rules:
        assert rule["events"] and rule["actions"]
        for part in ("events", "conditions", "actions"):
            for item in filter(None, rule[part].split(";")):
                assert RULE_ITEM.match(item), item
                name, arg = item[:-1].split("(", 1)
                seen.add(name)
                assert name in KNOWN, item
                if name.endswith("category"):
                    assert arg in tag_ids
    assert {"Contact_added_to_category", "Contact_purchases_product", "Send_contact_an_emailmbs"} <= seen
    assert "field_is_condition_fieldvalue" in seen


def test_demo_offers_carry_the_full_offer_json(ro):
    offers = ro.get("Offers", params={"range": 50}).json()["data"]
    assert len(offers) == 8
    products = {p["id"]: p for p in ro.get("Products", params={"range": 50}).json()["data"]}
    for offer in offers:
        data = json.loads(offer["data"])
        assert data["invoice_template"] == 1
        assert data["shipping_charge_reoccurring_orders"] is False
        assert data["name"] == offer["name"]
        total = 0.0
        for line in data["products"]:
            assert line["shipping"] in ("true", "false") and line["tax"] in ("true", "false")
            assert line["type"] in ("single", "subscription", "payment_plan")
            assert line["name"] == products[line["id"]]["name"]
            (price,) = line["price"]
            assert set(price) >= {"price", "payment_count", "unit"}
            assert price["price"] == products[line["id"]]["price"]
            total += float(line["total"])
        assert abs(data["subTotal"] - total) < 0.005


def test_contact_create_replies_say_use_utm_names(api):
    created = api.post("Contacts", json={"firstname": "Utm", "email": "utm@example.com"}).json()["data"]
    assert created["use_utm_names"] == "false"
    upsert = api.post("Contacts/saveorupdate", json={"email": "new-utm@example.com"}).json()["data"]
    assert upsert["use_utm_names"] == "false" and "id" in upsert
    named = api.post("Contacts", json={"email": "n@example.com", "use_utm_names": "true"}).json()["data"]
    assert named["use_utm_names"] == "true"
    matched = api.post("Contacts/saveorupdate", json={"email": "utm@example.com", "city": "Austin"}).json()
    assert "attrs" in matched["data"] and "use_utm_names" not in matched["data"]["attrs"]
    other = api.post("Products", json={"name": "No utm"}).json()["data"]
    assert "use_utm_names" not in other


def test_message_type_must_be_one_the_api_knows(api):
    stored = {}
    for sent, label in (("email", "e-mail"), ("Template", "Template"), ("SMS", "sms"), ("task", "Task")):
        answer = api.post("message", json={"type": sent, "alias": f"kind {sent}"})
        assert answer.status_code == 200, answer.text
        stored[sent] = api.get("Message", params={"id": answer.json()["data"]["id"]}).json()["data"]["type"]
        assert stored[sent] == label
    before = api.get("Messages/getInfo").json()["data"]["count"]
    for bad in ("carrier-pigeon", "", "emails"):
        refused = api.post("message", data={"type": bad, "alias": "x"})
        assert refused.status_code == 400
        assert refused.text in ("Invalid message type", "Missing required field(s): type")
        assert refused.headers["content-type"].startswith("text/plain")
    assert api.get("Messages/getInfo").json()["data"]["count"] == before
    # an update is refused as well, and leaves the message as it was
    one = api.get("Messages", params={"range": 1, "listFields": "id,type,alias"}).json()["data"][0]
    refused = api.put("message", json={"id": one["id"], "type": "fax", "alias": "changed"})
    assert refused.status_code == 400 and refused.text == "Invalid message type"
    again = api.get("Message", params={"id": one["id"]}).json()["data"]
    assert (again["type"], again["alias"]) == (one["type"], one["alias"])
    # a task message made through the API can be assigned
    task_message = api.get(
        "Messages",
        params={
            "condition": json.dumps(
                [{"field": {"field": "alias"}, "op": "=", "value": {"value": "kind task"}}]
            ),
            "listFields": "id",
        },
    ).json()["data"][0]
    assigned = api.post(
        "task/assign", json={"object_type_id": 0, "ids": [3], "message": {"id": task_message["id"]}}
    )
    assert assigned.status_code == 200, assigned.text
