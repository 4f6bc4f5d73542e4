"""``ontraport-pandas demo``: the main job end to end on a small sandbox."""

from __future__ import annotations

import nbformat
import pandas as pd
import pytest

import ontraport_pandas as opd
from ontraport_pandas.cli import main
from ontraport_pandas.demo import cleanup_contacts
from ontraport_pandas.duplicates import HOLD_TAG

CHARTS = {
    "contact_growth",
    "tag_distribution",
    "subscription_health",
    "deal_pipeline",
    "revenue_by_month",
    "task_status",
    "overdue_tasks",
    "product_sales",
    "product_revenue_by_month",
    "cohorts",
    "lifetime_value",
}


@pytest.mark.slow
def test_demo_command_loads_cleans_and_writes_the_report(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--contacts", "200"]) == 0
    printed = capsys.readouterr().out
    for name in ("contacts", "deals", "transactions", "automations"):
        assert f"\n{name:<14}" in printed
    assert "Plan [SANDBOX]:" in printed and "Applied:" in printed and "failed" not in printed
    assert str(out / "report.ipynb") in printed
    assert {p.stem for p in (out / "charts").glob("*.png")} == CHARTS
    for png in (out / "charts").glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert str(png) in printed
    # The report notebook ran against the cleaned sandbox (kept in the output folder).
    nb = nbformat.read(out / "report.ipynb", as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert len([o for o in outputs if "image/png" in o.get("data", {})]) == len(CHARTS)
    assert (out / "summary.csv").exists()
    assert "Duplicates:" in printed and "Merged: OK" in printed
    with opd.connect("sandbox", path=str(out / "sandbox.sqlite")) as op:
        contacts = op.contacts(progress=False)
        tx = op.transactions(progress=False)
        purchases = op.purchases(progress=False)
        products = op.products(progress=False)
    # duplicates merged: an e-mail is shared only with contacts kept because they own purchases
    email = contacts["email"].str.strip().str.lower()
    shared = email.notna() & (email != "") & email.duplicated(keep=False)
    held = contacts["contact_cat"].map(lambda tags: HOLD_TAG in tags).astype(bool)
    assert held.any()
    assert (shared & ~held).groupby(email).sum().max() <= 1
    # names in proper case, except placeholders, which are reported and left alone
    names = contacts["firstname"].dropna().str.strip()
    placeholders = names.str.lower().isin(["test", "n/a", "asdf", "xxx", "-", "na", "none"])
    assert not ((names.str.len() > 1) & (names.str.isupper() | names.str.islower()) & ~placeholders).any()
    # the report's figures, computed by hand from the sandbox's records
    summary = pd.read_csv(out / "summary.csv").set_index(["area", "metric"])["value"]
    status = tx["status"].astype(object)
    collected = tx.loc[status.isin(["Paid", "Refunded", "Partially refunded"]), "total"].sum()
    refunded = tx.loc[status == "Refunded", "total"].sum()  # partial refunds: no amount in the record
    assert summary[("transactions", "collected")] == f"${collected:,.0f}"
    assert summary[("transactions", "refunded")] == f"${refunded:,.0f}"
    assert summary[("transactions", "net revenue")] == f"${collected - refunded:,.0f}"
    paid = purchases[(purchases["status"] == "Paid").fillna(False).to_numpy(dtype=bool)]
    by_product = paid.groupby("product_id")["total_price"].sum().sort_values(ascending=False)
    best = by_product.index[0]
    assert summary[("purchases", "best-selling product (paid revenue)")] == (
        f"{products.at[best, 'name']} (${by_product.iloc[0]:,.0f})"
    )
    assert by_product.sum() == pytest.approx(float(products["total_income"].sum()))


def test_cleanup_contacts_uses_the_kit_and_does_not_change_its_input():
    frame = pd.DataFrame(
        {
            "firstname": pd.array(["JOHN", "mary ", "McDonald", None], dtype="string"),
            "lastname": pd.array(["smith", "Jones", "o'neil", "test"], dtype="string"),
            "email": pd.array(["a@x.com", " A@X.com", "b@@x.com", None], dtype="string"),
            "office_phone": pd.array(
                ["415.555.2671", "+1 416 555 0199", "0412 345 678", "555-0000"], dtype="string"
            ),
            "home_phone": pd.array([None, None, None, None], dtype="string"),
            "state": pd.array(["Calif.", "ON", "Victoria", "XX"], dtype="string"),
            "zip": pd.array(["94105", "M5V 2T6", "3000", "2165"], dtype="string"),
            "country": pd.array(["US", "CA", "AU", "US"], dtype="string"),
            "contact_cat": [[], ["Lead"], [], []],
        },
        index=pd.Index([1, 2, 3, 4], name="id"),
    )
    before = frame.copy(deep=True)
    edited, stats, problems = cleanup_contacts(frame)
    pd.testing.assert_frame_equal(frame, before)
    assert list(edited["firstname"].fillna("-")) == ["John", "Mary", "McDonald", "-"]
    assert list(edited["lastname"]) == ["Smith", "Jones", "O'Neil", "test"]
    assert list(edited["office_phone"]) == [
        "+1 415-555-2671",
        "+1 416-555-0199",
        "+61 412 345 678",
        "555-0000",
    ]
    assert list(edited["email"].fillna("-")) == ["a@x.com", "a@x.com", "b@@x.com", "-"]
    assert list(edited["state"]) == ["CA", "ON", "VIC", "XX"]
    assert stats["firstname"] == 2 and stats["office_phone"] == 3
    reported = set(zip(problems["row"], problems["column"], strict=True))
    assert {(4, "lastname"), (3, "email"), (4, "office_phone"), (4, "state"), (4, "zip")} <= reported
