"""Paging in id order seeks by id: the same pages as ``LIMIT/OFFSET``, through writes between pages."""

from __future__ import annotations

import pytest
from sandbox_helpers import AUTH, client_for, cond

from ontraport_pandas.sandbox import create_app


def _ids(client, **params) -> list[int]:
    response = client.get("Contacts", params={"listFields": "id", **params})
    assert response.status_code == 200, response.text
    return [int(r["id"]) for r in response.json()["data"]]


def _pages(client, total: int, size: int = 50, **params) -> list[int]:
    out: list[int] = []
    for start in range(0, total + size, size):
        out += _ids(client, start=start, range=size, **params)
    return out


def _reference(app, where: str = "", args: tuple = (), direction: str = "ASC") -> list[int]:
    with app.store.read() as conn:
        sql = "SELECT id FROM o_0 AS t" + (f" WHERE {where}" if where else "")
        return [r[0] for r in conn.execute(f"{sql} ORDER BY t.id {direction}", list(args))]


@pytest.mark.parametrize("default_order", ["asc", "desc"])
def test_every_page_in_id_order_is_the_offset_page(make_app, default_order):
    app = make_app(contacts=420, default_order=default_order)
    with client_for(app) as client:
        whole = _reference(app, direction=default_order.upper())
        assert _pages(client, 420) == whole  # default order
        assert _pages(client, 420, sort="id", sortDir="desc") == sorted(whole, reverse=True)
        assert _pages(client, 420, sort="id", sortDir="asc") == sorted(whole)
        # pages of odd sizes and starts that are not multiples of the size, out of order
        for start, size in [(7, 13), (419, 50), (200, 1), (0, 50), (33, 50), (420, 5), (10_000, 50)]:
            assert _ids(client, start=start, range=size, sort="id") == sorted(whole)[start : start + size]
        # under a condition that skips records
        odd = cond(("f1003", ">", "4"))
        matching = _reference(app, "CAST(t.f1003 AS REAL) > 4")
        assert 0 < len(matching) < 420
        assert _pages(client, len(matching), sort="id", condition=odd) == matching
        assert _ids(client, start=25, range=50, sort="id", condition=odd) == matching[25:75]


def test_writes_between_pages_move_the_next_page_as_offset_does(make_app):
    app = make_app(contacts=300)
    with client_for(app) as client:
        first = _ids(client, start=100, range=50, sort="id")
        assert first == list(range(101, 151))
        assert client.delete("Contacts", params={"ids": "5,6"}).status_code == 200  # before the page
        created = client.post("Contacts", json={"firstname": "New"}).json()["data"]["id"]
        assert _ids(client, start=100, range=50, sort="id") == list(range(103, 153))
        assert _ids(client, start=250, range=50, sort="id") == [*range(253, 301), int(created)]
        # an update that makes a record stop matching the condition shifts the condition's pages
        high = cond(("id", ">", "50"))
        before = _ids(client, start=10, range=20, sort="id", condition=high)
        assert before == list(range(61, 81))
        assert client.delete("Contact", params={"id": 55}).status_code == 200
        assert _ids(client, start=10, range=20, sort="id", condition=high) == list(range(62, 82))


def test_another_process_writing_the_same_file_moves_the_pages_too(tmp_path):
    path = str(tmp_path / "shared.sqlite3")
    one = create_app(contacts=200, rate_limit=None, path=path)
    two = create_app(contacts=200, rate_limit=None, path=path)  # another store on the file
    try:
        with client_for(one) as a, client_for(two) as b:
            assert _ids(a, start=50, range=10, sort="id") == list(range(51, 61))
            assert b.delete("Contacts", params={"ids": "1,2,3"}).status_code == 200
            assert _ids(a, start=50, range=10, sort="id") == list(range(54, 64))
            assert _ids(a, start=50, range=10, sort="id", sortDir="desc") == list(range(150, 140, -1))
    finally:
        one.close()
        two.close()


def test_pages_in_other_orders_still_page_by_offset(make_app):
    app = make_app(contacts=120)
    with client_for(app, headers=AUTH) as client:
        names = [
            r["id"]
            for start in range(0, 150, 50)
            for r in client.get(
                "Contacts", params={"listFields": "id,lastname", "sort": "lastname", "start": start}
            ).json()["data"]
        ]
        assert sorted(map(int, names)) == list(range(1, 121))
        assert len(set(names)) == 120


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        (">=", "17.5", lambda i: i >= 17.5),
        ("<", "17.5", lambda i: i < 17.5),
        ("=", "17.0", lambda i: i == 17),
        ("!=", "17", lambda i: i != 17),
        (">", "abc", lambda i: i > 0),  # text casts to 0, as for every numeric field
        ("<=", "1e1", lambda i: i <= 10),
    ],
)
def test_id_conditions_compare_numerically_over_the_rowid(make_app, op, value, expected):
    app = make_app(contacts=40)
    with client_for(app) as client:
        assert client.delete("Contacts", params={"ids": "3,17"}).status_code == 200
        got = _ids(client, range=50, sort="id", condition=cond(("id", op, value)))
        assert got == [i for i in range(1, 41) if i not in (3, 17) and expected(i)]
        count = client.get("Contacts/getInfo", params={"condition": cond(("id", op, value))}).json()["data"][
            "count"
        ]
        assert int(count) == len(got)
    from ontraport_pandas.sandbox.conditions import compile_condition
    from ontraport_pandas.sandbox.model import TYPES_BY_ID

    sql, args = compile_condition(cond(("id", ">=", "5"), "AND", ("id", "<", "9")), TYPES_BY_ID[0])
    with app.store.read() as conn:
        plan = conn.execute(f"EXPLAIN QUERY PLAN SELECT COUNT(*) FROM o_0 AS t WHERE {sql}", args).fetchall()
    assert "INTEGER PRIMARY KEY" in str(plan)  # a rowid range, not a scan of the table
