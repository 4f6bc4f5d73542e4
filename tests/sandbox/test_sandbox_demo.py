"""Demo data: determinism, scale of related objects, the deliberate mess; file-backed state."""

from __future__ import annotations

import re
from collections import Counter, defaultdict

import pytest
from sandbox_helpers import client_for

from ontraport_pandas.sandbox import SandboxApp, create_app

DEMO_NOW = 1793491200
N = 2000


def _dump(app: SandboxApp) -> str:
    with app.store.read() as conn:
        return "\n".join(line for line in conn.iterdump() if "rate_hits" not in line)


def test_same_seed_gives_byte_identical_data_and_another_seed_differs():
    a, b, c = (create_app(contacts=150, seed=s, rate_limit=None) for s in (1, 1, 2))
    try:
        assert _dump(a) == _dump(b)
        assert _dump(a) != _dump(c)
    finally:
        for app in (a, b, c):
            app.close()


@pytest.fixture(scope="module")
def contacts():
    app = create_app(contacts=N, rate_limit=None)
    with app.store.read() as conn:
        cursor = conn.execute("SELECT * FROM o_0 ORDER BY id")
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, r, strict=True)) for r in cursor]
        counts = {
            table: conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in (
                "o_1",
                "o_12",
                "o_14",
                "o_16",
                "o_17",
                "o_46",
                "o_149",
                "o_150",
                "o_10000",
                "o_2",
                "o_3",
            )
        }
        overdue = conn.execute(
            "SELECT COUNT(*) FROM o_1 WHERE status = '0' AND CAST(date_due AS INTEGER) < ?", (DEMO_NOW,)
        ).fetchone()[0]
    app.close()
    return rows, counts, overdue


def test_sizes_scale_with_the_contact_count(contacts):
    rows, counts, _ = contacts
    assert len(rows) == N
    assert counts["o_150"] == N // 20 and counts["o_149"] == N // 5
    assert counts["o_1"] == N // 2 and counts["o_46"] == N // 2 and counts["o_12"] == N // 3
    assert counts["o_10000"] == N // 10 and counts["o_16"] == 20 and counts["o_2"] == 5 and counts["o_3"] == 4
    assert 0.5 * N < counts["o_17"] < 0.7 * N
    assert counts["o_14"] >= 25


def test_dates_are_spread_over_three_years_before_demo_now(contacts):
    rows, _, overdue = contacts
    dates = [int(r["date"]) for r in rows]
    assert min(dates) >= DEMO_NOW - 3 * 365 * 86400 and max(dates) <= DEMO_NOW
    assert dates == sorted(dates)  # ids grow with the creation date
    assert all(int(r["dlm"]) >= int(r["date"]) for r in rows)
    assert overdue > 0


def test_duplicate_emails_differ_only_in_case_or_blanks(contacts):
    rows, _, _ = contacts
    groups: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        if r["email"].strip():
            groups[r["email"].strip().lower()].add(r["email"])
    messy = [forms for forms in groups.values() if len(forms) > 1]
    assert 0.015 * N < sum(len(f) - 1 for f in messy) < 0.05 * N
    assert any(any(f != f.strip() for f in forms) for forms in messy)
    assert any(any(f.upper() == f for f in forms) for forms in messy)
    assert 0 < sum(1 for r in rows if r["email"] == "") < 0.03 * N


def test_names_in_wrong_case_and_placeholders(contacts):
    rows, _, _ = contacts
    upper = sum(1 for r in rows if len(r["firstname"]) > 2 and r["firstname"].isupper())
    lower = sum(
        1
        for r in rows
        if r["firstname"]
        and r["firstname"].islower()
        and r["firstname"] not in ("test", "asdf", "xxx", "none")
    )
    placeholders = sum(
        1 for r in rows if r["firstname"] in ("", "test", "Test", "N/A", "asdf", "xxx", "-", "none")
    )
    assert 0.02 * N < upper + lower < 0.09 * N
    assert 0.01 * N < placeholders < 0.04 * N
    assert any(r["firstname"] != r["firstname"].strip() for r in rows)


def test_phone_formats_are_mixed(contacts):
    rows, _, _ = contacts
    phones = [r["office_phone"] for r in rows if r["office_phone"]]
    patterns = [
        r"\(\d{3}\) \d{3}-\d{4}",
        r"\d{3}\.\d{3}\.\d{4}",
        r"\+1 \d{3} \d{3} \d{4}",
        r"\d{10}",
        r"\+61 .*|0\d{3} .*",
    ]
    for pattern in patterns:
        assert any(re.fullmatch(pattern, p) for p in phones), pattern


def test_states_countries_and_invalid_states(contacts):
    rows, _, _ = contacts
    countries = Counter(r["country"] for r in rows)
    assert countries["US"] > 0.75 * N and {"AU", "CA", "GB"} <= set(countries)
    bad = sum(1 for r in rows if r["state"] in ("Calif.", "XX", "ny", "Texas", "N/A", "fl", "Mass", "ca "))
    assert 0.005 * N < bad < 0.04 * N
    assert any(r["state"] in ("AU_WA", "AU_NT") for r in rows)


def test_custom_fields_cover_every_type_with_blanks(contacts):
    rows, _, _ = contacts
    levels = Counter(r["f1001"] for r in rows)
    assert {"0", "301", "302", "303"} <= set(levels) and "304" not in levels  # Platinum is never used
    assert any(r["f1002"] == "" for r in rows) and any(
        re.fullmatch(r"(\*/\*\d+)+\*/\*", r["f1002"]) for r in rows
    )
    assert any(r["f1004"] == "0" for r in rows) and any(re.fullmatch(r"\d+\.\d{2}", r["f1004"]) for r in rows)
    assert any(
        re.fullmatch(r"\d+(\.\d)?", r["f1004"]) and "." in r["f1004"] and len(r["f1004"].split(".")[1]) == 1
        for r in rows
    )
    assert any(r["f1005"] == "0" for r in rows) and all(int(r["f1005"]) % 86400 == 0 for r in rows)
    assert {r["f1006"] for r in rows} == {"0", "1"}
    assert any(r["f1008"] is None for r in rows) and any(r["f1008"] and "\n" in r["f1008"] for r in rows)
    assert {r["bulk_mail"] for r in rows} == {"0", "1", "2", "-2", "-5"}
    assert any(r["company"] is None for r in rows) and any(r["birthday"] is None for r in rows)
    assert all(re.fullmatch("[A-Z0-9]{7}", r["unique_id"]) for r in rows)
    assert len({r["unique_id"] for r in rows}) == N
    tags = Counter(len(re.findall(r"\d+", r["contact_cat"])) for r in rows)
    assert set(tags) == {0, 1, 2, 3, 4}


def test_spent_matches_paid_transactions(make_app):
    app = make_app(contacts=100)
    with client_for(app) as api:
        rows = api.get("Contacts", params={"sort": "spent", "sortDir": "desc", "range": 1}).json()["data"]
        top = rows[0]
        paid = api.get(
            "Transactions/getInfo",
            params={
                "condition": f'[{{"field":{{"field":"contact_id"}},"op":"=","value":{{"value":"{top["id"]}"}}}},"AND",{{"field":{{"field":"status"}},"op":"=","value":{{"value":"1"}}}}]'
            },
        ).json()["data"]["sums"]["total"]
        assert float(top["spent"]) == pytest.approx(paid)


def test_a_file_backed_sandbox_keeps_state_across_instances(tmp_path):
    path = str(tmp_path / "state.sqlite")
    first = create_app(path=path, contacts=50, rate_limit=None)
    with client_for(first) as api:
        new_id = api.post("Contacts", json={"firstname": "Persisted", "email": "keep@example.com"}).json()[
            "data"
        ]["id"]
        api.put("Contacts", json={"id": 1, "lastname": "Changed"})
    first.close()
    second = create_app(
        path=path, contacts=50, seed=99, rate_limit=None
    )  # seeded file: reused, not regenerated
    with client_for(second) as api:
        assert api.get("Contact", params={"id": new_id}).json()["data"]["firstname"] == "Persisted"
        assert api.get("Contact", params={"id": 1}).json()["data"]["lastname"] == "Changed"
        assert api.get("Contacts/getInfo").json()["data"]["count"] == "51"
    second.close()
