"""The ``condition`` grammar: every operator, AND/OR grouping, errors, collation, legacy strings."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sandbox_helpers import client_for, cond

from ontraport_pandas.sandbox.conditions import like_to_glob

N = 40  # contacts in the small sandboxes of this module


@pytest.fixture(scope="module")
def rows_and_client():
    from ontraport_pandas.sandbox import create_app

    app = create_app(contacts=N, rate_limit=None)
    client = client_for(app)
    rows = []
    for start in range(0, N, 50):
        rows += client.get("Contacts", params={"start": start, "sort": "id"}).json()["data"]
    yield rows, client
    client.close()
    app.close()


def ids(client: httpx.Client, condition: str, **params: Any) -> set[int]:
    out: set[int] = set()
    start = 0
    while True:
        response = client.get(
            "Contacts", params={"condition": condition, "listFields": "id", "start": start, **params}
        )
        assert response.status_code == 200, response.text
        page = response.json()["data"]
        out |= {int(r["id"]) for r in page}
        if len(page) < 50:
            return out
        start += 50


def expect(rows: list[dict[str, Any]], predicate) -> set[int]:
    return {int(r["id"]) for r in rows if predicate(r)}


def test_equality_and_inequality_on_numbers_and_text(rows_and_client):
    rows, client = rows_and_client
    assert ids(client, cond(("owner", "=", 2))) == expect(rows, lambda r: r["owner"] == "2")
    assert ids(client, cond(("owner", "<>", "2"))) == expect(rows, lambda r: r["owner"] != "2")
    assert ids(client, cond(("bulk_mail", "=", "-2"))) == expect(rows, lambda r: r["bulk_mail"] == "-2")
    email = next(r["email"] for r in rows if r["email"].strip())
    assert ids(client, cond(("email", "=", email.upper()))) == expect(
        rows, lambda r: r["email"].lower() == email.lower()
    )


@pytest.mark.parametrize("op", [">", "<", ">=", "<="])
def test_ordering_operators_compare_numerically(rows_and_client, op):
    rows, client = rows_and_client
    compare = {">": float.__gt__, "<": float.__lt__, ">=": float.__ge__, "<=": float.__le__}[op]
    assert ids(client, cond(("f1003", op, "9"))) == expect(rows, lambda r: compare(float(r["f1003"]), 9.0))
    middle = sorted(int(r["date"]) for r in rows)[N // 2]
    assert ids(client, cond(("date", op, middle))) == expect(
        rows, lambda r: compare(float(r["date"]), float(middle))
    )


def test_in_and_not_in(rows_and_client):
    rows, client = rows_and_client
    assert ids(client, cond(("id", "IN", [1, 3, 5]))) == {1, 3, 5}
    assert ids(client, cond(("owner", "NOT IN", ["1", "2"]))) == expect(
        rows, lambda r: r["owner"] not in ("1", "2")
    )
    assert ids(client, cond(("country", "IN", ["au", "ca"]))) == expect(
        rows, lambda r: r["country"] in ("AU", "CA")
    )


def test_is_null(rows_and_client):
    rows, client = rows_and_client
    assert ids(client, cond(("company", "IS", "NULL"))) == expect(rows, lambda r: r["company"] is None)
    assert ids(client, cond(("company", "IS NOT", "NULL"))) == expect(
        rows, lambda r: r["company"] is not None
    )
    raw = json.dumps([{"field": {"field": "title"}, "op": "IS", "value": {"value": "NULL"}}])
    assert ids(client, raw) == expect(rows, lambda r: r["title"] is None)


def test_like_with_percent(rows_and_client):
    rows, client = rows_and_client
    assert ids(client, cond(("email", "LIKE", "%@GMAIL.com"))) == expect(
        rows, lambda r: r["email"].lower().endswith("@gmail.com")
    )
    assert ids(client, cond(("contact_cat", "LIKE", "%*/*1*/*%"))) == expect(
        rows, lambda r: "*/*1*/*" in r["contact_cat"]
    )


def test_and_or_left_to_right_and_sql_order(make_app):
    condition = cond(("owner", "=", 1), "OR", ("owner", "=", 2), "AND", ("bulk_mail", "=", 1))
    app_ltr = make_app(contacts=N)
    app_sql = make_app(contacts=N, condition_order="sql")
    with client_for(app_ltr) as ltr, client_for(app_sql) as sql:
        rows = ltr.get("Contacts", params={"range": 50}).json()["data"]
        left_to_right = expect(rows, lambda r: (r["owner"] in ("1", "2")) and r["bulk_mail"] == "1")
        and_first = expect(rows, lambda r: r["owner"] == "1" or (r["owner"] == "2" and r["bulk_mail"] == "1"))
        assert left_to_right != and_first  # the data tells the two readings apart
        assert ids(ltr, condition) == left_to_right
        assert ids(sql, condition) == and_first


def test_nested_groups(rows_and_client):
    rows, client = rows_and_client
    inner = [
        {"field": {"field": "owner"}, "op": "=", "value": {"value": 1}},
        "OR",
        {"field": {"field": "owner"}, "op": "=", "value": {"value": 2}},
    ]
    condition = json.dumps(
        [{"field": {"field": "bulk_mail"}, "op": "=", "value": {"value": 1}}, "AND", inner]
    )
    assert ids(client, condition) == expect(
        rows, lambda r: r["bulk_mail"] == "1" and r["owner"] in ("1", "2")
    )


@pytest.mark.parametrize(
    "condition",
    [
        cond(("nope", "=", 1)),
        "[{]",
        "not json at all ((",
        json.dumps([{"field": {"field": "owner"}, "op": "~", "value": {"value": 1}}]),
        json.dumps([{"field": {"field": "owner"}, "op": "="}]),
        json.dumps([{"field": {"field": "owner"}, "op": "=", "value": {"list": [{"value": 1}]}}]),
        json.dumps([{"field": {"field": "owner"}, "op": "IN", "value": {"list": []}}]),
        json.dumps([{"field": {"field": "owner"}, "op": "IS", "value": "1"}]),
        json.dumps([{"field": {"field": "owner"}, "op": "=", "value": {"value": 1}}, "AND"]),
        json.dumps(
            [
                {"field": {"field": "owner"}, "op": "=", "value": {"value": 1}},
                {"field": {"field": "owner"}, "op": "=", "value": {"value": 2}},
            ]
        ),
        json.dumps(
            [
                {"field": {"field": "owner"}, "op": "=", "value": {"value": 1}},
                "XOR",
                {"field": {"field": "owner"}, "op": "=", "value": {"value": 2}},
            ]
        ),
    ],
)
def test_invalid_conditions_are_400_invalid_query(rows_and_client, condition):
    _, client = rows_and_client
    response = client.get("Contacts", params={"condition": condition})
    assert response.status_code == 400
    assert response.text == "Invalid query"
    assert response.headers["content-type"].startswith("text/plain")
    assert client.get("Contacts/getInfo", params={"condition": condition}).status_code == 400


def test_empty_conditions_mean_everything(rows_and_client):
    _, client = rows_and_client
    assert len(ids(client, "[]")) == N
    assert len(ids(client, "")) == N


def test_legacy_string_form(rows_and_client):
    rows, client = rows_and_client
    assert ids(client, "owner = 2 AND bulk_mail = '1'") == expect(
        rows, lambda r: r["owner"] == "2" and r["bulk_mail"] == "1"
    )
    assert ids(client, "id IN (1, 2, 3) OR email IS NULL") == {1, 2, 3}
    assert ids(client, "(owner = 1 OR owner = 2) AND `bulk_mail` <> 1") == expect(
        rows, lambda r: r["owner"] in ("1", "2") and r["bulk_mail"] != "1"
    )
    assert client.get("Contacts", params={"condition": "owner = = 2"}).status_code == 400


def test_binary_collation(make_app):
    with client_for(make_app(contacts=N, text_collation="binary")) as client:
        rows = client.get("Contacts", params={"range": 50, "sort": "id"}).json()["data"]
        email = next(r["email"] for r in rows if r["email"].strip() and r["email"] != r["email"].upper())
        assert ids(client, cond(("email", "=", email.upper()))) == expect(
            rows, lambda r: r["email"] == email.upper()
        )
        assert ids(client, cond(("email", "=", email))) == expect(rows, lambda r: r["email"] == email)
        assert ids(client, cond(("email", "LIKE", "%@GMAIL.COM"))) == expect(
            rows, lambda r: r["email"].endswith("@GMAIL.COM")
        )
        assert ids(client, cond(("email", "LIKE", "%@gmail.com"))) == expect(
            rows, lambda r: r["email"].endswith("@gmail.com")
        )


def test_like_to_glob():
    assert like_to_glob("%a_b%") == "*a?b*"
    assert like_to_glob("100\\%") == "100%"
    assert like_to_glob("a*b?[c]") == "a[*]b[?][[]c]"


_op = st.sampled_from(["=", "<>", ">", "<", ">=", "<="])
_leaf = st.tuples(st.sampled_from(["owner", "bulk_mail", "f1001", "f1006"]), _op, st.integers(-3, 305))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(_leaf, st.sampled_from(["AND", "OR"])), min_size=1, max_size=4))
def test_flat_conditions_match_a_left_to_right_evaluation(rows_and_client, items):
    rows, client = rows_and_client
    compare = {
        "=": float.__eq__,
        "<>": float.__ne__,
        ">": float.__gt__,
        "<": float.__lt__,
        ">=": float.__ge__,
        "<=": float.__le__,
    }
    parts: list[Any] = []
    for leaf, connector in items:
        parts += [leaf, connector]
    parts = parts[:-1]

    def evaluate(row: dict[str, Any]) -> bool:
        def leaf(spec: tuple[str, str, int]) -> bool:
            name, op, value = spec
            return compare[op](float(row[name]), float(value))

        result = leaf(parts[0])
        for connector, spec in zip(parts[1::2], parts[2::2], strict=True):
            result = (result and leaf(spec)) if connector == "AND" else (result or leaf(spec))
        return result

    assert ids(client, cond(*parts)) == expect(rows, evaluate)
