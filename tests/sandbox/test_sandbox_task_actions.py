"""Task actions (task/assign, complete, cancel, reschedule, reopen), in-process and served."""

from __future__ import annotations

import pytest
from sandbox_helpers import cond

NO_DATA = {"code": 0, "account_id": 50}


def task(client, task_id):
    return client.get("Task", params={"id": task_id}).json()["data"]


def tasks_where(client, *items):
    rows = client.get("Tasks", params={"condition": cond(*items), "range": 50, "sort": "id"}).json()["data"]
    return rows


def pending(client, n=3):
    return [int(r["id"]) for r in tasks_where(client, ("status", "=", "0"))[:n]]


def task_message(client):
    rows = client.get("Messages", params={"condition": cond(("type", "=", "Task")), "range": 1}).json()[
        "data"
    ]
    return rows[0]


def test_assign_creates_a_task_per_contact_due_in_n_days(both):
    message = task_message(both)
    before = int(both.get("Tasks/getInfo").json()["data"]["count"])
    owner = both.get("Contact", params={"id": 7}).json()["data"]["owner"]
    body = {"object_type_id": 0, "ids": [7, 8], "message": {"id": message["id"], "due_date": 3}}
    r = both.post("task/assign", json=body)
    assert r.status_code == 200 and r.json() == NO_DATA
    assert int(both.get("Tasks/getInfo").json()["data"]["count"]) == before + 2
    made = tasks_where(both, ("item_id", "=", message["id"]), "AND", ("contact_id", "IN", ["7", "8"]))
    made = [
        t
        for t in made
        if t["status"] == "0" and t["date_complete"] is None and t["object_name"] == "Contacts"
    ]
    new = sorted(made, key=lambda t: int(t["id"]))[-2:]
    assert sorted(t["contact_id"] for t in new) == ["7", "8"]
    for t in new:
        assert t["subject"] == message["subject"]
        assert int(t["date_due"]) - int(t["date_assigned"]) == 3 * 86400
    assert [t["owner"] for t in new if t["contact_id"] == "7"] == [owner]


def test_assign_takes_php_bracket_form_bodies(both):
    message = task_message(both)
    before = int(both.get("Tasks/getInfo").json()["data"]["count"])
    body = f"object_type_id=0&ids[0]=9&message[id]={message['id']}&message[due_date]=1&message[task_owner]=3"
    r = both.post("task/assign", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.json() == NO_DATA
    new = both.get("Tasks", params={"range": 1, "sort": "id", "sortDir": "desc"}).json()["data"][0]
    assert int(both.get("Tasks/getInfo").json()["data"]["count"]) == before + 1
    assert (new["contact_id"], new["owner"]) == ("9", "3")


@pytest.mark.parametrize(
    "body",
    [
        {"object_type_id": 0, "ids": [7], "message": {"id": 1}},  # an e-mail, not a task message
        {"object_type_id": 0, "ids": [7], "message": {"due_date": 1}},
        {"object_type_id": 0, "ids": [7]},
    ],
)
def test_assign_refuses_a_message_that_is_not_a_task(both, body):
    before = int(both.get("Tasks/getInfo").json()["data"]["count"])
    r = both.post("task/assign", json=body)
    assert r.status_code == 400 and r.text == "Invalid message"
    assert int(both.get("Tasks/getInfo").json()["data"]["count"]) == before


def test_assign_without_a_selection_is_refused(both):
    message = task_message(both)
    before = int(both.get("Tasks/getInfo").json()["data"]["count"])
    r = both.post("task/assign", json={"object_type_id": 0, "message": {"id": message["id"]}})
    assert r.status_code == 400
    assert int(both.get("Tasks/getInfo").json()["data"]["count"]) == before


def test_complete_with_outcome_and_field_updates_on_the_contact(both):
    ids = pending(both, 2)
    contact = task(both, ids[0])["contact_id"]
    body = {"object_type_id": 1, "ids": ids, "data": {"outcome": ":=success", "title": "Called back"}}
    r = both.post("task/complete", json=body)
    assert r.json() == NO_DATA
    for tid in ids:
        t = task(both, tid)
        assert t["status"] == "1" and t["outcome"] == "success" and t["date_complete"].isdigit()
    assert both.get("Contact", params={"id": contact}).json()["data"]["title"] == "Called back"


def test_complete_with_an_invalid_email_writes_nothing(both):
    ids = pending(both, 1)
    r = both.post("task/complete", json={"ids": ids, "data": {"email": "not-an-email"}})
    assert r.status_code == 422
    assert task(both, ids[0])["status"] == "0"


def test_complete_keeps_the_first_completion_date(both):
    done = tasks_where(both, ("status", "=", "1"))[0]
    both.post("task/complete", json={"ids": [done["id"]]})
    assert task(both, done["id"])["date_complete"] == done["date_complete"]


def test_cancel_and_reopen(both):
    ids = pending(both, 2)
    assert both.post("task/cancel", json={"objectID": 0, "ids": ids}).json() == NO_DATA
    assert [task(both, i)["status"] for i in ids] == ["2", "2"]
    both.post("task/complete", json={"ids": ids[:1]})
    assert both.post("task/reopen", json={"ids": ids}).json() == NO_DATA
    for i in ids:
        t = task(both, i)
        assert t["status"] == "0" and t["date_complete"] is None
    untouched = pending(both, 5)[-1]
    assert task(both, untouched)["status"] == "0"


def test_cancel_by_condition_touches_only_the_matching_tasks(both):
    ids = pending(both, 3)
    both.post("task/cancel", json={"condition": cond(("id", "IN", [str(i) for i in ids[:2]]))})
    assert [task(both, i)["status"] for i in ids] == ["2", "2", "0"]


def test_reschedule_moves_the_due_date_only(both):
    (tid,) = pending(both, 1)
    before = task(both, tid)
    assert both.post("task/reschedule", json={"id": tid, "newtime": 1900000000}).json() == NO_DATA
    after = task(both, tid)
    assert after["date_due"] == "1900000000"
    assert {k: v for k, v in after.items() if k != "date_due"} == {
        k: v for k, v in before.items() if k != "date_due"
    }
    assert both.post("task/reschedule", json={"id": 99999999, "newtime": 1}).status_code == 400
    assert both.post("task/reschedule", json={"id": tid}).status_code == 400
    assert both.post("task/reschedule", json={"id": tid, "newtime": "soon"}).status_code == 400


def test_task_actions_without_ids_change_nothing(both):
    statuses = [t["status"] for t in both.get("Tasks", params={"range": 50, "sort": "id"}).json()["data"]]
    for path in ("task/complete", "task/cancel", "task/reopen"):
        assert both.post(path, json={"objectID": 1}).status_code == 400
    again = [t["status"] for t in both.get("Tasks", params={"range": 50, "sort": "id"}).json()["data"]]
    assert again == statuses
