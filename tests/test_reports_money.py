"""Money definitions of ontraport_pandas.reports, each checked against a frame computed by hand."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from ontraport_pandas import reports  # noqa: E402


def _tx(rows):
    frame = pd.DataFrame(rows, columns=["id", "contact_id", "date", "status", "total", "refund"])
    frame["date"] = pd.to_datetime(frame["date"], utc=True)
    frame["total"] = frame["total"].astype("Float64")
    frame["refund"] = frame["refund"].astype("Float64")
    frame["contact_id"] = frame["contact_id"].astype("Int64")
    frame["status"] = frame["status"].astype("category")
    return frame.set_index("id")


TX = _tx(
    [
        (1, 10, "2026-01-05", "Paid", 100.0, None),
        (2, 11, "2026-01-09", "Refunded", 50.0, None),
        (3, 12, "2026-01-12", "Declined", 30.0, None),
        (4, 10, "2026-01-20", "Unpaid", 20.0, None),
        (5, 11, "2026-02-03", "Partially refunded", 80.0, 30.0),
        (6, 12, "2026-02-14", "Void", 70.0, None),
        (7, 12, "2026-02-15", "Written off", 15.0, None),
        (8, 13, "2026-02-16", "Pending", 12.0, None),
        (9, 13, "2026-04-02", "Refunded", 40.0, None),
    ]
)


def test_transaction_money_follows_the_states():
    money = reports.transaction_money(TX, refund_amount="refund")
    expected = pd.DataFrame(
        {
            "collected": [100.0, 50.0, 0.0, 0.0, 80.0, 0.0, 0.0, 0.0, 40.0],
            "refunded": [0.0, 50.0, 0.0, 0.0, 30.0, 0.0, 0.0, 0.0, 40.0],
            "net": [100.0, 0.0, 0.0, 0.0, 50.0, 0.0, 0.0, 0.0, 0.0],
        },
        index=TX.index,
    )
    pd.testing.assert_frame_equal(money[["collected", "refunded", "net"]], expected)
    assert money["refund_known"].all()


def test_revenue_table_against_hand_computed_months():
    table = reports.revenue_table(TX, refund_amount="refund")
    expected = pd.DataFrame(
        {
            "collected": [150.0, 80.0, 0.0, 40.0],
            "refunded": [50.0, 30.0, 0.0, 40.0],
            "net": [100.0, 50.0, 0.0, 0.0],
            "transactions": np.array([2, 1, 0, 1], dtype="int64"),
            "unknown_refunds": np.array([0, 0, 0, 0], dtype="int64"),
        },
        index=pd.DatetimeIndex(["2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01"], name="month"),
    )
    pd.testing.assert_frame_equal(table, expected, check_freq=False)
    assert (table["net"] >= 0).all()  # a month with only a refund is 0, not negative


def test_partial_refund_without_an_amount_is_not_guessed():
    table = reports.revenue_table(TX)
    feb = table.loc["2026-02-01"]
    assert feb["collected"] == 80.0 and feb["refunded"] == 0.0 and feb["unknown_refunds"] == 1
    capped = reports.transaction_money(TX, refund_amount=pd.Series({5: 500.0}))
    assert capped.at[5, "refunded"] == 80.0  # never more than the total
    ax = reports.revenue_by_month(TX)
    assert any("unknown amount" in t.get_text() for t in ax.texts)


def test_states_read_from_codes_and_any_case():
    codes = TX.assign(status=[1, 2, 5, 0, 3, 4, 6, 7, 2])
    lower = TX.assign(status=TX["status"].astype(str).str.lower())
    for frame in (codes, lower):
        pd.testing.assert_frame_equal(
            reports.revenue_table(frame, refund_amount="refund"),
            reports.revenue_table(TX, refund_amount="refund"),
        )


PURCHASES = pd.DataFrame(
    {
        "product_id": pd.array([1, 1, 2, 2, 3], dtype="Int64"),
        "name": ["Mat", "Mat", "Plan", "Plan", "Ball"],
        "quantity": pd.array([1, 2, 1, 1, 4], dtype="Int64"),
        "total_price": pd.array([20.0, 40.0, 99.0, 99.0, 8.0], dtype="Float64"),
        "status": pd.array([1, 1, 0, 1, 0], dtype="Int64"),
        "invoice_id": pd.array([1, 5, 2, 1, 3], dtype="Int64"),
        "date": pd.to_datetime(
            ["2026-01-05", "2026-02-03", "2026-01-09", "2026-01-05", "2026-01-12"], utc=True
        ),
    },
    index=pd.Index([101, 102, 103, 104, 105], name="id"),
)


def test_product_revenue_counts_paid_purchases_only():
    table = reports.product_table(PURCHASES)
    assert table["product"].tolist() == ["Plan", "Mat"]
    assert table["revenue"].tolist() == [99.0, 60.0]
    assert table["units"].tolist() == [1, 3]
    # by the transactions: invoice 1 is Paid, 5 Partially refunded, 2 Refunded, 3 Declined
    by_tx = reports.product_table(PURCHASES, transactions=TX)
    assert by_tx["product"].tolist() == ["Plan", "Mat"]
    assert by_tx["revenue"].tolist() == [99.0, 20.0]


def test_product_month_table_against_hand_computed():
    table = reports.product_month_table(PURCHASES)
    expected = pd.DataFrame(
        {"Plan": [99.0, 0.0], "Mat": [20.0, 40.0]},
        index=pd.DatetimeIndex(["2026-01-01", "2026-02-01"], name="month"),
    )
    expected.columns.name = "product"
    pd.testing.assert_frame_equal(table, expected, check_freq=False)


CONTACTS = pd.DataFrame(
    {
        "date": pd.to_datetime(
            ["2025-12-20", "2026-01-02", "2026-01-30", "2026-01-31", "2026-03-01"], utc=True
        ),
        "f_plan": pd.Categorical(["Basic", "Pro", "Pro", None, "Basic"]),
        "contact_cat": [["VIP"], [], ["VIP", "Lead"], ["Lead"], []],
    },
    index=pd.Index([10, 11, 12, 13, 14], name="id"),
)


def test_cohorts_against_hand_computed():
    # first purchases (money collected): 10 on 2026-01-05, 11 on 2026-01-09, 13 on 2026-04-02;
    # 12 only has declined, void and written-off transactions, 14 none.
    table = reports.cohort_table(CONTACTS, TX, months=4, values="count", now="2026-04-30")
    assert list(table.index) == list(pd.date_range("2025-12-01", "2026-03-01", freq="MS"))
    assert table["contacts"].tolist() == [1, 3, 0, 1]
    dec, jan, feb, mar = (table.iloc[i] for i in range(4))
    assert dec[[0, 1, 2, 3]].tolist() == [0.0, 1.0, 1.0, 1.0]  # bought in the month after signup
    assert jan[[0, 1, 2, 3]].tolist() == [1.0, 1.0, 1.0, 2.0]  # 13 bought in month 3 (April)
    assert feb[[0, 1]].tolist() == [0.0, 0.0]
    assert mar[0] == 0.0 and np.isnan(mar[2]) and np.isnan(mar[3])  # not over yet on 30 April
    share = reports.cohort_table(CONTACTS, TX, months=4, now="2026-04-30")
    assert share.loc["2026-01-01", 3] == pytest.approx(2 / 3)


def test_lifetime_value_against_hand_computed():
    ltv = reports.ltv_table(CONTACTS, TX, refund_amount="refund")
    assert ltv["ltv"].to_dict() == {10: 100.0, 11: 50.0, 12: 0.0, 13: 0.0, 14: 0.0}
    assert ltv["collected"].to_dict() == {10: 100.0, 11: 130.0, 12: 0.0, 13: 40.0, 14: 0.0}
    assert ltv["purchases"].to_dict() == {10: 1, 11: 2, 12: 0, 13: 1, 14: 0}
    seg = reports.ltv_by_segment(CONTACTS, TX, "f_plan", refund_amount="refund")
    assert seg.loc["Basic"].tolist() == [2, 1, 100.0, 50.0, 100.0]
    assert seg.loc["Pro"].tolist() == [2, 1, 50.0, 25.0, 50.0]
    assert seg.loc["(not set)", "customers"] == 1 and seg.loc["(not set)", "ltv"] == 0.0
    tags = reports.ltv_by_segment(CONTACTS, TX, "contact_cat", refund_amount="refund")
    assert tags.loc["VIP", "ltv"] == 100.0 and tags.loc["VIP", "contacts"] == 2
    assert tags.loc["Lead", "contacts"] == 2 and tags.loc["(not set)", "contacts"] == 2
    report = reports.lifetime_value(CONTACTS, TX, segment="f_plan", refund_amount="refund")
    assert [p.get_width() for p in report.ax.patches][::-1] == seg["ltv_per_contact"].tolist()[:3]
