"""A bulk request that names no records never reaches the wire (the API reads it as "all")."""

from __future__ import annotations

import pytest

import ontraport_pandas as opd
from ontraport_pandas.selection import check_selection, selects_records
from ontraport_pandas.writer import _Sender


def count(op) -> int:
    return int(op.request("GET", "Contacts/getInfo")["data"]["count"])


def writes(op) -> list[tuple[str, str, int]]:
    return [entry for entry in op.sandbox.request_log if entry[0] != "GET"]


@pytest.mark.parametrize(
    "params",
    [
        None,
        {"ids": ""},
        {"ids": []},
        {"ids": ["", " "]},
        {"ids": 0},
        {"ids": "0"},
        {"ids": "5,0"},
        {"group_id": 0},
        {"group_ids": "0"},
        {"performAll": 1},
        {"condition": "[]"},
        {"condition": ""},
        {"search": "  "},
    ],
)
def test_selection_that_means_every_record(params):
    assert selects_records(params) is not None
    with pytest.raises(opd.EmptySelectionError):
        check_selection("DELETE", "Contacts", params)
    check_selection("DELETE", "Contacts", params, all_records=True)


@pytest.mark.parametrize(
    "params, body",
    [
        ({"ids": "3,4"}, None),
        ({"ids[0]": "3"}, None),
        (None, {"ids": [3]}),
        (None, {"ids[0]": 3}),
        ({"condition": '[{"field":{"field":"id"},"op":"=","value":{"value":"3"}}]'}, None),
        ({"condition": "email='a@b.c'"}, None),
        ({"group_id": "7"}, None),
        ({"search": "smith"}, None),
    ],
)
def test_selection_that_names_records(params, body):
    assert selects_records(params, body) is None
    check_selection("DELETE", "objects", params, body)
    check_selection("PUT", "objects/tag", params, body)


def test_only_bulk_requests_are_checked():
    check_selection("GET", "Contacts", None)
    check_selection("DELETE", "Contact", {"id": "4"})
    check_selection("DELETE", "Contacts/fieldeditor", {"field": "f1001"})
    check_selection("PUT", "Contacts", None, {"id": 4, "firstname": "A"})
    check_selection("POST", "task/reschedule", None, {"id": 3, "newtime": 1})
    with pytest.raises(opd.EmptySelectionError, match="task to reschedule"):
        check_selection("POST", "task/reschedule", None, {"newtime": 1})
    for path in (
        "objects/tagByName",
        "objects/sequence",
        "objects/subscribe",
        "objects/pause",
        "task/complete",
    ):
        with pytest.raises(opd.EmptySelectionError, match="no ids, no condition and no group_id"):
            check_selection("PUT", path, {"objectID": 0}, {"add_list": [1]})


@pytest.mark.parametrize(
    "method, path, kwargs",
    [
        ("DELETE", "Contacts", {}),
        ("DELETE", "objects", {"params": {"objectID": 0}}),
        ("DELETE", "Contacts", {"params": {"ids": ""}}),
        ("DELETE", "objects", {"params": {"objectID": 0, "ids": 0}}),
        ("PUT", "objects/tag", {"json": {"objectID": 0, "ids": [], "add_list": [1]}}),
        ("PUT", "objects/tagByName", {"json": {"objectID": 0, "ids": [], "add_names": ["X"]}}),
        (
            "DELETE",
            "objects/subscribe",
            {"json": {"objectID": 0, "remove_list": [1], "sub_type": "sequence"}},
        ),
        ("POST", "objects/pause", {"json": {"objectID": 5}}),
        ("POST", "task/cancel", {"json": {"objectID": 1, "ids": []}}),
    ],
)
def test_request_refuses_an_empty_selection_before_sending(op, method, path, kwargs):
    total = count(op)
    op.sandbox.reset_log()
    with pytest.raises(opd.EmptySelectionError, match="Nothing was sent"):
        op.request(method, path, **kwargs)
    assert op.sandbox.request_log == []
    assert count(op) == total


def test_request_with_all_records_sends_it(op):
    assert count(op) > 0
    op.request("DELETE", "Contacts", all_records=True)
    assert count(op) == 0


def test_a_writer_bug_that_empties_the_id_list_cannot_reach_the_wire(op):
    contacts = op.session.resolve("contacts")
    before = op.contacts(progress=False)
    sender = _Sender(op, contacts)
    op.sandbox.reset_log()
    with pytest.raises(opd.EmptySelectionError):
        sender.delete([])
    with pytest.raises(opd.EmptySelectionError):
        sender.tags([], "VIP", add=True)
    with pytest.raises(opd.EmptySelectionError):
        sender.tags([], "VIP", add=False)
    assert writes(op) == []
    after = op.contacts(progress=False)
    assert list(after.index) == list(before.index)
    assert after["contact_cat"].map(sorted).tolist() == before["contact_cat"].map(sorted).tolist()


def test_targeted_delete_still_deletes_exactly_the_ids(op):
    ids = sorted(op.contacts(progress=False).index)[:2]
    total = count(op)
    op.request("DELETE", "Contacts", params={"ids": ids})
    assert count(op) == total - 2
    rows = op.request("GET", "Contacts", params={"ids": ids})["data"]
    assert rows == []


def test_the_refusal_over_served_http(served_op, served):
    with pytest.raises(opd.EmptySelectionError):
        served_op.request("DELETE", "objects", params={"objectID": 0, "ids": []})
    assert int(served_op.request("GET", "Contacts/getInfo")["data"]["count"]) > 0
