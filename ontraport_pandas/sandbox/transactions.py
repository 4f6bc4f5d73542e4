"""Transaction actions: refund, void, write-off, rerun, mark paid, collections, orders, manual charges.

Answers follow Ontraport's fixtures (``ontraport-api.md`` §6.2): ``refund`` ->
``"Refunded"``, ``void`` -> ``"Voided"``, ``writeOff`` and ``rerun`` -> ``1``,
``rerunCommission`` -> ``"Re-ran commissions"``, ``markPaid`` -> ``[]``,
``resendInvoice`` -> ``""``, ``convertToCollections`` / ``convertToDecline`` -> no
``data``; ``processManual`` -> ``{"result_code":1,"transaction_id":"…","external_txn":"…",
"message":"Success!","invoice_id":N}``. Transactions stay read-only through the generic
routes; these actions are how their status changes. Choices where the doc is unsure:

- Every action selects transactions by ``ids`` / ``condition`` / ``group_id`` (an ``id``
  alone counts as ``ids``); no selection is 400 ``Invalid query``. Ids that do not exist
  are ignored.
- Status codes (0 unpaid, 1 paid, 2 refunded, 3 partially refunded, 4 void, 5 declined,
  6 written off, 7 pending, 8 in collections) move as the UI offers them; a transaction
  in any other state is left as it is, and the answer is the same:

  ============================  ==================  ========
  action                        from                to
  ============================  ==================  ========
  refund                        1, 3                2
  void                          0, 7                4
  writeOff                      0, 5, 7, 8          6
  markPaid                      0, 5, 6, 7, 8       1
  convertToCollections          0, 5                8
  convertToDecline              0, 7                5
  rerun                         5, 8 (and 0)        1, or 5 with ``rerun_outcome="declined"``
  ============================  ==================  ========

  ``rerun`` also counts ``recharge_attempts`` and sets ``last_recharge_date``.
  ``rerunCommission`` and ``resendInvoice`` change nothing stored.
- ``GET transaction/order?id=<order_id>`` answers the order's offer (the transaction's
  ``offer_data``) plus ``order_id``, ``transaction_id``, ``contact_id`` and ``status``;
  an unknown order is 404 ``Object not found``. ``PUT transaction/order`` with ``offer``
  (an object; ``offer.order_id`` or ``id`` names the order) replaces the offer, recomputes
  ``subtotal`` and ``total``, and answers like the GET.
- ``PUT CreditCard/default`` with ``id`` makes that card the contact's default (status
  3; the contact's previous default becomes active, 1) and answers the card as a single
  read would. An expired or hidden card is 400 ``Invalid credit card``; an unknown id 400
  ``Object not found``.
- ``processManual`` needs a ``contact_id`` of an existing contact (else 400 ``Invalid
  Contact ID``) and an ``offer`` with at least one product (else 400 ``Invalid offer``).
  Each product line is ``{"id", "quantity", "price": [{"price"}] or "price"}``; ``taxes``
  (``[{"rate": 8.25}]``) and ``shipping`` (``[{"price": "9.95"}]``) are optional.
  ``chargeNow`` ``"chargeNow"`` or ``"chargeLog"`` records a paid transaction, anything
  else an unpaid one. One purchase (17) per product line is recorded against it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from .conditions import InvalidQuery
from .handlers import NOT_FOUND, Api, Reply, _int
from .model import TYPES_BY_ID, ObjectType
from .store import Store
from .tasks import as_object
from .values import as_text
from .wire import ApiError

__all__ = ["TransactionEndpoints"]

TRANSACTIONS = TYPES_BY_ID[46]
PURCHASES = TYPES_BY_ID[17]
CONTACTS = TYPES_BY_ID[0]

#: action -> (statuses it applies to, new status)
MOVES: dict[str, tuple[frozenset[str], str]] = {
    "refund": (frozenset({"1", "3"}), "2"),
    "void": (frozenset({"0", "7"}), "4"),
    "writeOff": (frozenset({"0", "5", "7", "8"}), "6"),
    "markPaid": (frozenset({"0", "5", "6", "7", "8"}), "1"),
    "convertToCollections": (frozenset({"0", "5"}), "8"),
    "convertToDecline": (frozenset({"0", "7"}), "5"),
}
REPLIES: dict[str, Any] = {
    "refund": "Refunded",
    "void": "Voided",
    "writeOff": 1,
    "markPaid": [],
    "convertToCollections": None,
    "convertToDecline": None,
}


def _money(value: float) -> str:
    return f"{value:.2f}"


def _number(value: object) -> float:
    try:
        return float(as_text(value) or 0)
    except ValueError:
        raise ApiError(400, "Invalid offer") from None


def _line_price(line: Mapping[str, Any]) -> float:
    price = line.get("price")
    if isinstance(price, list):
        price = price[0].get("price") if price and isinstance(price[0], Mapping) else None
    return _number(price)


def _totals(offer: Mapping[str, Any]) -> tuple[float, float, float]:
    products = offer.get("products")
    if not isinstance(products, list) or not products or not all(isinstance(p, Mapping) for p in products):
        raise ApiError(400, "Invalid offer")
    subtotal = sum(_line_price(p) * _number(p.get("quantity") or 1) for p in products)
    taxes = offer.get("taxes")
    tax = 0.0
    for item in taxes if isinstance(taxes, list) else []:
        if isinstance(item, Mapping):
            tax += subtotal * _number(item.get("rate")) / 100
    shipping_items = offer.get("shipping")
    shipping = 0.0
    for item in shipping_items if isinstance(shipping_items, list) else []:
        if isinstance(item, Mapping):
            shipping += _number(item.get("price"))
    return round(subtotal, 2), round(tax, 2), round(shipping, 2)


class TransactionEndpoints(Api):
    """The ``transaction/*`` actions."""

    def _transaction_ids(self, conn: Any, params: Mapping[str, Any]) -> list[int]:
        if params.get("ids") in (None, "", []) and params.get("id") not in (None, ""):
            params = {**params, "ids": params["id"]}
        where, args = self.selection(conn, TRANSACTIONS, params, action=True)
        return Store.ids(conn, TRANSACTIONS, where, args)

    def _move(self, action: str, params: Mapping[str, Any]) -> Reply:
        allowed, new = MOVES[action]
        with self.store.write() as conn:
            for tid in self._transaction_ids(conn, params):
                row = Store.get(conn, TRANSACTIONS, tid)
                if row is not None and row.get("status") in allowed:
                    Store.update(conn, TRANSACTIONS, tid, {"status": new})
        reply = REPLIES[action]
        return Reply() if reply is None else Reply(reply)

    def transaction_refund(self, otype: ObjectType | None, params: Mapping[str, Any]) -> Reply:
        return self._move("refund", params)

    def transaction_void(self, otype: ObjectType | None, params: Mapping[str, Any]) -> Reply:
        return self._move("void", params)

    def transaction_write_off(self, otype: ObjectType | None, params: Mapping[str, Any]) -> Reply:
        return self._move("writeOff", params)

    def transaction_mark_paid(self, otype: ObjectType | None, params: Mapping[str, Any]) -> Reply:
        return self._move("markPaid", params)

    def transaction_collections(self, otype: ObjectType | None, params: Mapping[str, Any]) -> Reply:
        return self._move("convertToCollections", params)

    def transaction_decline(self, otype: ObjectType | None, params: Mapping[str, Any]) -> Reply:
        return self._move("convertToDecline", params)

    def transaction_rerun(self, otype: ObjectType | None, params: Mapping[str, Any]) -> Reply:
        new = "1" if self.config.rerun_outcome == "paid" else "5"
        now = self.now()
        with self.store.write() as conn:
            for tid in self._transaction_ids(conn, params):
                row = Store.get(conn, TRANSACTIONS, tid)
                if row is None or row.get("status") not in ("0", "5", "8"):
                    continue
                attempts = str(int(row.get("recharge_attempts") or 0) + 1)
                Store.update(
                    conn,
                    TRANSACTIONS,
                    tid,
                    {"status": new, "recharge_attempts": attempts, "last_recharge_date": now},
                )
        return Reply(1)

    def transaction_rerun_commission(self, otype: ObjectType | None, params: Mapping[str, Any]) -> Reply:
        with self.store.read() as conn:
            self._transaction_ids(conn, params)
        return Reply("Re-ran commissions")

    def transaction_resend_invoice(self, otype: ObjectType | None, params: Mapping[str, Any]) -> Reply:
        with self.store.read() as conn:
            self._transaction_ids(conn, params)
        return Reply("")

    # ------------------------------------------------------------------ orders

    def _order(self, conn: Any, order_id: int) -> dict[str, Any]:
        rows = Store.select(
            conn, TRANSACTIONS, TRANSACTIONS.record_keys(), 't."order_id" = ?', [str(order_id)], "t.id ASC", 1
        )
        if not rows:
            raise ApiError(404, NOT_FOUND)
        row = rows[0]
        try:
            offer = json.loads(row.get("offer_data") or "{}")
        except ValueError:
            offer = {}
        out = dict(offer) if isinstance(offer, dict) else {"products": offer}
        out.update(
            {
                "order_id": str(order_id),
                "transaction_id": str(row["id"]),
                "contact_id": row.get("contact_id"),
                "status": row.get("status"),
            }
        )
        return out

    def transaction_order(self, otype: ObjectType | None, params: Mapping[str, Any]) -> Reply:
        if params.get("id") in (None, ""):
            raise InvalidQuery("transaction/order needs the order id")
        with self.store.read() as conn:
            return Reply(self._order(conn, _int(params["id"])))

    def transaction_order_update(self, otype: ObjectType | None, params: Mapping[str, Any]) -> Reply:
        offer = as_object(params.get("offer"), "offer")
        order = offer.get("order_id", params.get("id"))
        if order in (None, ""):
            raise InvalidQuery("transaction/order needs offer.order_id")
        order_id = _int(order)
        subtotal, tax, shipping = _totals(offer)
        stored = {
            k: v for k, v in offer.items() if k not in ("order_id", "transaction_id", "contact_id", "status")
        }
        with self.store.write() as conn:
            current = self._order(conn, order_id)
            Store.update(
                conn,
                TRANSACTIONS,
                int(current["transaction_id"]),
                {
                    "offer_data": json.dumps(stored),
                    "subtotal": _money(subtotal),
                    "tax": _money(tax),
                    "shipping": _money(shipping),
                    "total": _money(subtotal + tax + shipping),
                },
            )
            return Reply(self._order(conn, order_id))

    # ------------------------------------------------------------------ cards

    def card_default(self, otype: ObjectType | None, params: Mapping[str, Any]) -> Reply:
        cards = TYPES_BY_ID[45]
        card_id = self.record_id(cards, params)
        with self.store.write() as conn:
            card = Store.get(conn, cards, card_id)
            if card is None:
                raise ApiError(400, NOT_FOUND)
            if card.get("status") not in ("1", "3"):
                raise ApiError(400, "Invalid credit card")
            now = self.now()
            others = Store.ids(
                conn,
                cards,
                't."contact_id" = ? AND t."status" = \'3\' AND t.id <> ?',
                [card.get("contact_id"), card_id],
            )
            for other in others:
                Store.update(conn, cards, other, {"status": "1", "dlm": now})
            if card.get("status") != "3":
                Store.update(conn, cards, card_id, {"status": "3", "dlm": now})
            return Reply(Store.get(conn, cards, card_id))

    # ------------------------------------------------------------------ manual charge

    def transaction_process_manual(self, otype: ObjectType | None, params: Mapping[str, Any]) -> Reply:
        try:
            contact_id = _int(params.get("contact_id"))
        except InvalidQuery:
            raise ApiError(400, "Invalid Contact ID") from None
        offer = as_object(params.get("offer"), "offer")
        subtotal, tax, shipping = _totals(offer)
        paid = as_text(params.get("chargeNow")).strip() in ("chargeNow", "chargeLog")
        now = self.now()
        with self.store.write() as conn:
            contact = Store.get(conn, CONTACTS, contact_id)
            if contact is None:
                raise ApiError(400, "Invalid Contact ID")
            order_id = (
                int(
                    conn.execute('SELECT COALESCE(MAX(CAST("order_id" AS INTEGER)), 0) FROM o_46').fetchone()[
                        0
                    ]
                )
                + 1
            )
            billing = params.get("billing_address")
            address = billing if isinstance(billing, Mapping) else {}
            tid = Store.insert(
                conn,
                TRANSACTIONS,
                {
                    "hidden": "0",
                    "status": "1" if paid else "0",
                    "contact_id": str(contact_id),
                    "contact_name": " ".join(
                        p for p in (contact.get("firstname"), contact.get("lastname")) if p
                    ),
                    "order_id": str(order_id),
                    "cc_id": as_text(params.get("cc_id") or 0),
                    "gateway_id": as_text(params.get("gateway_id") or 0),
                    "date": now,
                    "template_id": as_text(params.get("invoice_template") or 1),
                    "subtotal": _money(subtotal),
                    "tax": _money(tax),
                    "tax_state": _money(tax),
                    "shipping": _money(shipping),
                    "total": _money(subtotal + tax + shipping),
                    "zip": as_text(address.get("zip") or contact.get("zip") or ""),
                    "city": as_text(address.get("city") or contact.get("city") or ""),
                    "state": as_text(address.get("state") or contact.get("state") or ""),
                    "offer_data": json.dumps(offer),
                },
            )
            self._purchases(conn, offer["products"], contact_id, tid, order_id, now)
        return Reply(
            {
                "result_code": 1,
                "transaction_id": str(tid),
                "external_txn": f"SBX-{tid:08d}",
                "message": "Success!",
                "invoice_id": tid,
            }
        )

    def _purchases(
        self,
        conn: Any,
        lines: Sequence[Mapping[str, Any]],
        contact_id: int,
        tid: int,
        order_id: int,
        now: str,
    ) -> None:
        products = TYPES_BY_ID[16]
        for line in lines:
            product_id = as_text(line.get("id") or 0)
            product = Store.get(conn, products, _int(product_id)) if product_id.isdigit() else None
            quantity = _number(line.get("quantity") or 1)
            price = _line_price(line)
            Store.insert(
                conn,
                PURCHASES,
                {
                    "contact_id": str(contact_id),
                    "product_id": product_id,
                    "name": as_text(line.get("name") or (product or {}).get("name") or ""),
                    "price": _money(price),
                    "quantity": str(int(quantity)),
                    "total_price": _money(price * quantity),
                    "date": now,
                    "dlm": now,
                    "type": "1" if line.get("type") == "subscription" else "0",
                    "status": "1",
                    "invoice_id": str(tid),
                    "order_id": str(order_id),
                },
            )
