"""Accessors for landing pages, credit cards, orders, open orders, purchase history and webhooks."""

from __future__ import annotations

import pandas as pd
import pytest


@pytest.mark.parametrize(
    "accessor, type_id, dtypes",
    [
        ("landing_pages", 20, {"name": "string", "visits": "Int64", "published": "boolean"}),
        ("credit_cards", 45, {"status": "category", "exp_year": "Int64", "contact_id": "Int64"}),
        (
            "orders",
            52,
            {"total": "Float64", "status": "category", "payment_next_date": "datetime64[ns, UTC]"},
        ),
        ("open_orders", 44, {"total": "Float64", "transaction_id": "Int64"}),
        ("purchase_history", 30, {"type": "category", "amount": "Float64", "date": "datetime64[ns, UTC]"}),
        ("webhooks", 145, {"event": "string", "url": "string", "last_code": "Int64"}),
    ],
)
def test_new_accessors_are_typed(op, accessor, type_id, dtypes):
    frame = getattr(op, accessor)(progress=False)
    assert len(frame) == op.count(type_id) > 0
    assert frame.index.name == "id" and str(frame.index.dtype) == "Int64"
    assert frame.attrs["ontraport"]["object_type_id"] == type_id
    for column, dtype in dtypes.items():
        assert str(frame[column].dtype) == dtype, column


def test_credit_card_status_labels_and_a_typed_where(op):
    cards = op.credit_cards(where="status == 'Expired'", progress=False)
    assert len(cards) > 0 and set(cards["status"]) == {"Expired"}
    assert "Active (default)" in cards["status"].cat.categories


def test_orders_can_be_deleted_through_a_plan(op):
    orders = op.orders(progress=False).sort_index()
    keep = orders.iloc[1:]
    plan = op.plan(keep, delete_missing=True)
    assert plan.counts["delete"] == 1
    plan.apply(confirm=1)
    after = op.orders(progress=False)
    assert orders.index[0] not in after.index and len(after) == len(orders) - 1
    pd.testing.assert_index_equal(after.sort_index().index, keep.index)
