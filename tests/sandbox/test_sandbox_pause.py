"""objects/pause and objects/unpause for rules, sequences and automations, in-process and served."""

from __future__ import annotations

import pytest

NO_DATA = {"code": 0, "account_id": 50}


def rows(client, type_id):
    return client.get("objects", params={"objectID": type_id, "range": 50, "sort": "id"}).json()["data"]


@pytest.mark.parametrize("type_id", [5, 6, 140])
def test_pause_then_unpause(both, type_id):
    live = [r["id"] for r in rows(both, type_id) if r["pause"] == "0"][:2]
    others = {r["id"]: r["pause"] for r in rows(both, type_id) if r["id"] not in live}
    assert both.post("objects/pause", json={"objectID": type_id, "ids": live}).json() == NO_DATA
    after = {r["id"]: r for r in rows(both, type_id)}
    assert [after[i]["pause"] for i in live] == ["1", "1"]
    assert {i: after[i]["pause"] for i in others} == others
    if type_id == 140:
        assert [after[i]["state"] for i in live] == ["paused", "paused"]
    assert both.post("objects/unpause", json={"objectID": type_id, "ids": live}).json() == NO_DATA
    again = {r["id"]: r for r in rows(both, type_id)}
    assert [again[i]["pause"] for i in live] == ["0", "0"]


def test_pause_by_bracket_query_and_unchanged_dlm(both):
    paused = [r for r in rows(both, 6) if r["pause"] == "1"][0]
    live = [r for r in rows(both, 6) if r["pause"] == "0"][0]
    r = both.post(f"objects/pause?objectID=6&ids[0]={paused['id']}&ids[1]={live['id']}")
    assert r.json() == NO_DATA
    after = {x["id"]: x for x in rows(both, 6)}
    assert after[paused["id"]]["dlm"] == paused["dlm"]
    assert after[live["id"]]["pause"] == "1"


def test_pause_refuses_types_without_pause_and_empty_selections(both):
    assert both.post("objects/pause", json={"objectID": 0, "ids": [1]}).status_code == 400
    before = rows(both, 6)
    assert both.post("objects/pause", json={"objectID": 6}).status_code == 400
    assert rows(both, 6) == before
