"""Landing pages, credit cards, webhooks, orders, open orders, purchase history logs and form
endpoints: single, collection, getInfo, meta, and their actions, in-process and served."""

from __future__ import annotations

import pytest
from sandbox_helpers import cond

TYPES = [
    (20, "LandingPage", "LandingPages"),
    (30, "PurchaseHistoryLog", "PurchaseHistoryLogs"),
    (44, "OpenOrder", "OpenOrders"),
    (45, "CreditCard", "CreditCards"),
    (52, "Order", "Orders"),
    (145, "Webhook", "Webhooks"),
    (123, "Coupon", "Coupons"),
    (124, "CouponCode", "CouponCodes"),
    (125, "CouponProduct", "CouponProducts"),
]


@pytest.mark.parametrize("type_id, singular, plural", TYPES)
def test_each_type_reads_like_the_others(both, type_id, singular, plural):
    info = both.get(f"{plural}/getInfo").json()["data"]
    count = int(info["count"])
    assert count > 0 and isinstance(info["count"], str) and info["listFields"]
    rows = both.get(plural, params={"range": 50, "sort": "id"}).json()
    assert rows["misc"] == [] and len(rows["data"]) == min(count, 50)
    first = rows["data"][0]
    assert all(v is None or isinstance(v, str) for v in first.values())
    assert both.get(singular, params={"id": first["id"]}).json()["data"] == first
    assert both.get("objects", params={"objectID": type_id, "ids": first["id"]}).json()["data"] == [first]
    meta = both.get(f"{plural}/meta").json()["data"]
    assert list(meta) == [str(type_id)] and meta[str(type_id)]["name"] == singular
    assert set(first) - {"id"} <= set(meta[str(type_id)]["fields"])
    assert both.get(singular, params={"id": 99999999}).status_code == 404


def test_records_point_at_real_records(both):
    card = both.get("CreditCards", params={"range": 1, "sort": "id"}).json()["data"][0]
    assert both.get("Contact", params={"id": card["contact_id"]}).status_code == 200
    order = both.get("Orders", params={"range": 1}).json()["data"][0]
    assert both.get("Transaction", params={"id": order["transaction_id"]}).status_code == 200
    log = both.get("PurchaseHistoryLogs", params={"range": 1}).json()["data"][0]
    assert (
        both.get("Purchase", params={"id": log["purchase_id"]}).json()["data"]["contact_id"]
        == log["contact_id"]
    )
    open_order = both.get("OpenOrders", params={"range": 1}).json()["data"][0]
    t = both.get("Transaction", params={"id": open_order["transaction_id"]}).json()["data"]
    assert t["status"] in ("0", "7")


def test_access_matrix_of_the_new_types(both):
    assert both.post("LandingPages", json={"name": "x"}).status_code == 403
    assert both.delete("PurchaseHistoryLog", params={"id": 1}).status_code == 403
    assert both.put("OpenOrders", json={"id": 1, "total": "1"}).status_code == 403
    assert both.post("Orders", json={"name": "x"}).status_code == 403
    assert both.post("Webhooks", json={"event": "x"}).status_code == 403


def test_orders_can_be_deleted_one_and_many(both):
    ids = [r["id"] for r in both.get("Orders", params={"range": 3, "sort": "id"}).json()["data"]]
    count = int(both.get("Orders/getInfo").json()["data"]["count"])
    assert both.delete("Order", params={"id": ids[0]}).json() == {"code": 0, "account_id": 50}
    assert both.delete("Orders", params={"ids": ",".join(ids[1:])}).json()["data"] == "Deleted"
    assert int(both.get("Orders/getInfo").json()["data"]["count"]) == count - 3
    assert both.get("Order", params={"id": ids[0]}).status_code == 404


def test_credit_card_update_and_default(both):
    rows = both.get("CreditCards", params={"condition": cond(("status", "=", "2")), "range": 1}).json()[
        "data"
    ]
    expired = rows[0]
    cards = both.get(
        "CreditCards", params={"condition": cond(("contact_id", "=", expired["contact_id"])), "sort": "id"}
    ).json()["data"]
    default = [c for c in cards if c["status"] == "3"][0]
    assert both.put("CreditCard/default", json={"id": expired["id"]}).status_code == 400
    both.put("CreditCards", json={"id": expired["id"], "exp_year": "2031", "status": "1"})
    answer = both.put("CreditCard/default", json={"id": expired["id"]}).json()["data"]
    assert answer["id"] == expired["id"] and answer["status"] == "3" and answer["exp_year"] == "2031"
    assert both.get("CreditCard", params={"id": default["id"]}).json()["data"]["status"] == "1"
    assert both.put("CreditCard/default", json={"id": 99999999}).status_code == 400
    assert both.put("CreditCards", json={"id": expired["id"], "last4": "0000"}).json()["data"]["attrs"] == {
        "dlm": answer["dlm"],
        "id": expired["id"],
    }


def test_webhook_subscribe_and_unsubscribe(both):
    count = int(both.get("Webhooks/getInfo").json()["data"]["count"])
    hook = both.post("Webhook/subscribe", json={"event": "sub_tag(2)", "url": "https://example.com/h"}).json()
    assert set(hook["data"]) == {"url", "event", "id", "owner"}
    assert hook["data"]["url"] == "https://example.com/h" and hook["data"]["event"] == "sub_tag(2)"
    stored = both.get("Webhook", params={"id": hook["data"]["id"]}).json()["data"]
    assert stored["event"] == "sub_tag(2)"
    assert int(both.get("Webhooks/getInfo").json()["data"]["count"]) == count + 1
    form = "event=object_create(0)&url=http://example.com/x"
    r = both.post(
        "Webhook/subscribe", content=form, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert r.json()["data"]["event"] == "object_create(0)"
    assert both.delete("Webhook/unsubscribe", params={"id": hook["data"]["id"]}).json()["data"] == "Deleted"
    assert both.get("Webhook", params={"id": hook["data"]["id"]}).status_code == 404
    assert both.delete("Webhook/unsubscribe", params={"id": hook["data"]["id"]}).status_code == 404
    assert both.delete("Webhook/unsubscribe").status_code == 400


@pytest.mark.parametrize(
    "body, text",
    [
        ({"event": "Drop Table", "url": "https://example.com"}, "Invalid event"),
        ({"url": "https://example.com"}, "Invalid event"),
        ({"event": "sub_tag(1)", "url": "ftp://example.com"}, "Invalid URL"),
        ({"event": "sub_tag(1)"}, "Invalid URL"),
    ],
)
def test_webhook_subscribe_refuses_bad_input(both, body, text):
    count = int(both.get("Webhooks/getInfo").json()["data"]["count"])
    r = both.post("Webhook/subscribe", json=body)
    assert r.status_code == 400 and r.text == text
    assert int(both.get("Webhooks/getInfo").json()["data"]["count"]) == count


def test_landing_page_hosted_url(both):
    page = both.get("LandingPages", params={"range": 1}).json()["data"][0]
    url = both.get("landingPage/getHostedURL", params={"id": page["id"]}).json()["data"]
    assert url == f"https://{page['domain']}/{page['uri_id']}"
    assert both.get("landingPage/getHostedURL", params={"id": 99999}).status_code == 404


def test_form_html_and_blocks(both):
    forms = both.get("Forms", params={"range": 50, "sort": "form_id"}).json()["data"]
    html = both.get("form", params={"id": forms[0]["form_id"]}).json()["data"]
    assert html.startswith("<form") and forms[0]["formname"] in html
    assert both.get("form", params={"id": 99999}).status_code == 404
    blocks = both.get("Form/getAllFormBlocks").json()["data"]
    ontraforms = [f for f in forms if f["type"] == "11"]
    assert blocks == {f"f{f['form_id']}": f["formname"] for f in ontraforms}
    name = ontraforms[0]["formname"]
    found = both.get("Form/getBlocksByFormName", params={"name": name.upper()}).json()["data"]
    assert found == {"block_ids": [f"f{f['form_id']}" for f in ontraforms if f["formname"] == name]}
    assert both.get("Form/getBlocksByFormName", params={"name": "nope"}).json()["data"] == {"block_ids": []}
    assert both.get("Form/getBlocksByFormName").status_code == 400


def test_meta_by_name(both):
    by_id = both.get("objects/meta", params={"format": "byId"}).json()["data"]
    by_name = both.get("objects/meta", params={"format": "byName"}).json()["data"]
    assert set(by_name) == {entry["name"] for entry in by_id.values()}
    assert by_name["Contact"] == by_id["0"] and by_name["Invoice"] == by_id["46"]
    one = both.get("Contacts/meta", params={"format": "byName"}).json()["data"]
    assert list(one) == ["Contact"]
    assert both.get("objects/meta", params={"format": "weird"}).status_code == 400


TRACKING = {"n_campaign": 75, "n_lead_source": 76, "n_medium": 77, "n_content": 78, "n_term": 79}


def _tracking_names(api, type_id):
    rows = api.get("objects", params={"objectID": type_id, "range": 50}).json()["data"]
    return {r["name"]: r["id"] for r in rows}


def test_tracking_types_are_readable_and_read_only(ro):
    meta = ro.get("objects/meta").json()["data"]
    for type_id in TRACKING.values():
        assert meta[str(type_id)]["fields"]["name"]["type"] == "text"
        assert _tracking_names(ro, type_id)
    assert "Google" in _tracking_names(ro, 76)
    contact_meta = meta["0"]["fields"]
    for name, type_id in TRACKING.items():
        assert contact_meta[name]["parent_object"] == type_id
    assert ro.post("objects", json={"objectID": 76, "name": "Nope"}).status_code == 403


def test_use_utm_names_takes_names_for_the_tracking_fields(api):
    google = _tracking_names(api, 76)["Google"]
    body = {
        "email": "utm@example.com",
        "n_lead_source": " google ",
        "l_lead_source": "Google",
        "n_campaign": "Spring Relaunch 2027",
        "n_medium": "cpc",
        "n_term": "",
        "use_utm_names": "true",
    }
    created = api.post("Contacts", json=body).json()["data"]
    assert created["n_lead_source"] == " google " and created["use_utm_names"] == "true"
    row = api.get("Contact", params={"id": created["id"]}).json()["data"]
    assert row["n_lead_source"] == row["l_lead_source"] == google
    campaigns = _tracking_names(api, 75)
    assert row["n_campaign"] == campaigns["Spring Relaunch 2027"]  # a new name makes a new record
    assert row["n_medium"] == _tracking_names(api, 77)["cpc"] and row["n_term"] == "0"
    # an id still works with the flag, and the same new name is not created twice
    again = api.post(
        "Contacts/saveorupdate",
        data={
            "email": "utm@example.com",
            "n_campaign": "spring relaunch 2027",
            "n_content": "",
            "use_utm_names": 1,
        },
    ).json()["data"]["attrs"]
    assert "n_campaign" not in again
    assert len(_tracking_names(api, 75)) == len(campaigns)
    api.put("Contacts", json={"id": created["id"], "l_lead_source": "Facebook", "use_utm_names": True})
    row = api.get("Contact", params={"id": created["id"]}).json()["data"]
    assert row["l_lead_source"] == _tracking_names(api, 76)["Facebook"]
    api.put("Contacts", json={"id": created["id"], "l_lead_source": google, "use_utm_names": "true"})
    assert api.get("Contact", params={"id": created["id"]}).json()["data"]["l_lead_source"] == google
    # without the flag a name is not an id: stored as 0, and no tracking record is made
    plain = api.post(
        "Contacts", json={"email": "plain@example.com", "n_campaign": "Another Campaign"}
    ).json()["data"]
    assert api.get("Contact", params={"id": plain["id"]}).json()["data"]["n_campaign"] == "0"
    assert "Another Campaign" not in _tracking_names(api, 75)


def test_coupons_codes_and_products_point_at_each_other(both):
    coupons = {r["id"]: r for r in both.get("Coupons", params={"range": 50}).json()["data"]}
    assert all(c["discount_type"] in ("flat", "percent", "trial") for c in coupons.values())
    codes = both.get("CouponCodes", params={"range": 50}).json()["data"]
    assert codes and all(code["coupon_id"] in coupons for code in codes)
    personal = [code for code in codes if code["contact_id"] != "0"]
    assert personal and all(coupons[code["coupon_id"]]["type"] == "personal" for code in personal)
    for code in personal[:3]:
        assert both.get("Contact", params={"id": code["contact_id"]}).status_code == 200
    for item in both.get("CouponProducts", params={"range": 50}).json()["data"]:
        product = both.get("Product", params={"id": item["product_id"]}).json()["data"]
        assert item["coupon_id"] in coupons and item["product_name"] == product["name"]
    # coupons are read and deleted; codes and products only read
    assert both.post("Coupons", json={"name": "x"}).status_code == 403
    assert both.put("CouponCodes", json={"id": codes[0]["id"], "code": "X"}).status_code == 403
    assert both.delete("CouponProduct", params={"id": 1}).status_code == 403
    gone = next(iter(coupons))
    assert both.delete("Coupon", params={"id": gone}).status_code == 200
    assert both.get("Coupon", params={"id": gone}).status_code == 404
