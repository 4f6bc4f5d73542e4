"""Transaction actions answer as Ontraport's fixtures and move the stored status, in-process and served."""

from __future__ import annotations

import json

import pytest
from sandbox_helpers import cond


def status(client, tid):
    return client.get("Transaction", params={"id": tid}).json()["data"]["status"]


def with_status(client, code, n=2):
    rows = client.get(
        "Transactions", params={"condition": cond(("status", "=", code)), "range": 50, "sort": "id"}
    )
    return [int(r["id"]) for r in rows.json()["data"][:n]]


@pytest.mark.parametrize(
    "verb, path, start, end, answer",
    [
        ("PUT", "transaction/refund", "1", "2", "Refunded"),
        ("PUT", "transaction/void", "0", "4", "Voided"),
        ("PUT", "transaction/writeOff", "0", "6", 1),
        ("PUT", "transaction/markPaid", "0", "1", []),
        ("PUT", "transaction/convertToCollections", "0", "8", None),
        ("PUT", "transaction/convertToDecline", "0", "5", None),
    ],
)
def test_status_actions(both, verb, path, start, end, answer):
    ids = with_status(both, start)
    assert len(ids) == 2
    untouched = with_status(both, start, 3)[-1]
    body = both.request(verb, path, json={"ids": ids}).json()
    expected = {"code": 0, "account_id": 50}
    if answer is not None:
        expected = {"code": 0, "data": answer, "account_id": 50}
    assert body == expected
    assert [status(both, i) for i in ids] == [end, end]
    assert status(both, untouched) == start


def test_an_action_leaves_a_transaction_in_another_state_alone(both):
    (paid,) = with_status(both, "1", 1)
    assert both.put("transaction/void", json={"ids": [paid]}).json()["data"] == "Voided"
    assert status(both, paid) == "1"


def test_mark_paid_by_single_id_and_by_bracket_form_body(both):
    a, b = with_status(both, "0")
    assert both.put("transaction/markPaid", json={"id": a}).json()["data"] == []
    body = f"ids[0]={b}"
    r = both.put(
        "transaction/markPaid", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert r.json()["data"] == []
    assert (status(both, a), status(both, b)) == ("1", "1")


def test_rerun_charges_a_declined_transaction_again(both):
    (tid,) = with_status(both, "5", 1)
    before = both.get("Transaction", params={"id": tid}).json()["data"]
    assert both.post("transaction/rerun", json={"ids": [tid]}).json()["data"] == 1
    after = both.get("Transaction", params={"id": tid}).json()["data"]
    assert after["status"] == "1"
    assert int(after["recharge_attempts"]) == int(before["recharge_attempts"]) + 1
    assert after["last_recharge_date"] != before["last_recharge_date"]


def test_rerun_outcome_declined_is_configurable(make_app):
    from sandbox_helpers import client_for

    app = make_app(rerun_outcome="declined")
    with client_for(app) as client:
        (tid,) = with_status(client, "5", 1)
        client.post("transaction/rerun", json={"ids": [tid]})
        assert status(client, tid) == "5"


def test_rerun_commission_and_resend_invoice_change_nothing(both):
    (tid,) = with_status(both, "1", 1)
    before = both.get("Transaction", params={"id": tid}).json()["data"]
    assert both.put("transaction/rerunCommission", json={"ids": [tid]}).json()["data"] == "Re-ran commissions"
    assert both.post("transaction/resendInvoice", json={"id": tid}).json()["data"] == ""
    assert both.get("Transaction", params={"id": tid}).json()["data"] == before


@pytest.mark.parametrize("path", ["transaction/refund", "transaction/void", "transaction/markPaid"])
def test_actions_without_a_selection_are_refused(both, path):
    statuses = [r["status"] for r in both.get("Transactions", params={"range": 50}).json()["data"]]
    assert both.put(path, json={}).status_code == 400
    assert [r["status"] for r in both.get("Transactions", params={"range": 50}).json()["data"]] == statuses


def test_transactions_stay_read_only_through_the_generic_routes(both):
    (tid,) = with_status(both, "1", 1)
    assert both.put("Transactions", json={"id": tid, "status": "2"}).status_code == 403


def test_order_read_and_update(both):
    row = both.get("Transactions", params={"range": 1, "sort": "id"}).json()["data"][0]
    order = both.get("transaction/order", params={"id": row["order_id"]}).json()["data"]
    assert order["transaction_id"] == row["id"] and order["order_id"] == row["order_id"]
    assert order["products"] == json.loads(row["offer_data"])["products"]
    offer = {
        "order_id": row["order_id"],
        "products": [{"id": "3", "quantity": "2", "price": [{"price": "10.00"}]}],
    }
    updated = both.put("transaction/order", json={"offer": offer}).json()["data"]
    assert updated["products"] == offer["products"]
    stored = both.get("Transaction", params={"id": row["id"]}).json()["data"]
    assert (stored["subtotal"], stored["total"]) == ("20.00", "20.00")
    assert both.get("transaction/order", params={"id": 99999999}).status_code == 404
    bad = both.put("transaction/order", json={"offer": {"order_id": row["order_id"], "products": []}})
    assert bad.status_code == 400
    assert both.get("Transaction", params={"id": row["id"]}).json()["data"]["total"] == "20.00"


def test_process_manual_records_a_paid_transaction_and_purchases(both):
    count = int(both.get("Transactions/getInfo").json()["data"]["count"])
    purchases = int(both.get("Purchases/getInfo").json()["data"]["count"])
    offer = {
        "products": [
            {"id": "1", "quantity": 2, "price": [{"price": "49.00"}]},
            {"id": "12", "quantity": 1, "price": "16.50"},
        ],
        "taxes": [{"rate": 10}],
        "shipping": [{"price": "5.00"}],
    }
    body = {"contact_id": 4, "chargeNow": "chargeNow", "gateway_id": 1, "invoice_template": 1, "offer": offer}
    data = both.post("transaction/processManual", json=body).json()["data"]
    assert data["result_code"] == 1 and data["message"] == "Success!"
    assert isinstance(data["transaction_id"], str) and data["invoice_id"] == int(data["transaction_id"])
    t = both.get("Transaction", params={"id": data["transaction_id"]}).json()["data"]
    assert (t["status"], t["contact_id"], t["subtotal"], t["tax"], t["shipping"], t["total"]) == (
        "1",
        "4",
        "114.50",
        "11.45",
        "5.00",
        "130.95",
    )
    assert int(both.get("Transactions/getInfo").json()["data"]["count"]) == count + 1
    assert int(both.get("Purchases/getInfo").json()["data"]["count"]) == purchases + 2
    made = both.get(
        "Purchases", params={"condition": cond(("invoice_id", "=", data["transaction_id"]))}
    ).json()
    assert sorted(p["total_price"] for p in made["data"]) == ["16.50", "98.00"]


@pytest.mark.parametrize(
    "body, text",
    [
        ({"contact_id": 99999999, "offer": {"products": [{"id": "1", "price": "1"}]}}, "Invalid Contact ID"),
        ({"offer": {"products": [{"id": "1", "price": "1"}]}}, "Invalid Contact ID"),
        ({"contact_id": 4, "offer": {"products": []}}, "Invalid offer"),
        ({"contact_id": 4, "offer": {"products": [{"id": "1", "price": "abc"}]}}, "Invalid offer"),
    ],
)
def test_process_manual_refuses_bad_input_and_records_nothing(both, body, text):
    count = int(both.get("Transactions/getInfo").json()["data"]["count"])
    r = both.post("transaction/processManual", json=body)
    assert r.status_code == 400 and r.text == text
    assert int(both.get("Transactions/getInfo").json()["data"]["count"]) == count


def test_process_manual_without_charge_is_unpaid(both):
    offer = {"products": [{"id": "2", "quantity": 1, "price": [{"price": "499.00"}]}]}
    data = both.post("transaction/processManual", json={"contact_id": 5, "offer": offer}).json()["data"]
    assert status(both, data["transaction_id"]) == "0"
