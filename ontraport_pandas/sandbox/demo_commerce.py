"""Demo commerce records derived from the transactions: cards, orders, open orders, history.

Run after the transactions and purchases exist, reading them back, so every record
points at real ones:

- credit cards (45): one per contact with a transaction (its default, status 3), and an
  older expired one (status 2) for ~15 %; every transaction's ``cc_id`` is set to the
  contact's default card;
- orders (52): one subscription per contact who bought the Monthly Membership, active
  (1) or cancelled (0), billed monthly, its next payment after ``demo_now`` when active;
- open orders (44): one per unpaid or pending transaction (open, or abandoned after 30 days);
- purchase history logs (30): a purchase entry per purchase, plus a refund entry for
  each refunded transaction and a decline entry for each declined one (capped at 50k);
- landing pages (20) and webhooks (145): a small fixed catalog.

Each table draws from its own seeded stream, like the rest of the demo.
"""

from __future__ import annotations

from .demo_catalog import DAY, DemoBase, money

__all__ = ["commerce"]

LANDING_PAGES = (
    ("Free Trial", "free-trial", "3"),
    ("Summit 2026", "summit", "3"),
    ("Coaching Application", "coaching", "3"),
    ("Yoga Course Sales Page", "yoga-course", "1"),
    ("Old Promo (redirect)", "promo", "2"),
    ("Thank You", "thanks", "3"),
)
WEBHOOKS = (
    ("object_create(0)", "https://hooks.brightpath-studio.com/new-contact"),
    ("sub_tag(3)", "https://hooks.brightpath-studio.com/vip"),
    ("object_update(0)", "https://zapier.example.com/hooks/catch/12345/abcde"),
)
HISTORY_CAP = 50_000


def commerce(demo: DemoBase) -> None:
    """Add the commerce tables to a demo store (inside the caller's transaction)."""
    _landing_pages(demo)
    _webhooks(demo)
    cards = _credit_cards(demo)
    _orders(demo, cards)
    _open_orders(demo)
    _history(demo)


def _landing_pages(demo: DemoBase) -> None:
    rng = demo.rng("landing_pages")
    rows = []
    for name, uri, kind in LANDING_PAGES:
        visits = rng.randrange(300, 30000)
        rows.append(
            {
                "name": name,
                "uri_id": uri,
                "domain": "brightpath.ontralink.com",
                "type": kind,
                "ssl_enabled": "1",
                "published": "0" if kind == "2" else "1",
                "visits": str(visits),
                "conversions": str(int(visits * rng.random() * 0.2)),
                "owner": str(rng.randrange(1, 6)),
                **demo.stamps(rng, demo.start, demo.now - 30 * DAY),
            }
        )
    demo.insert(20, rows)


def _webhooks(demo: DemoBase) -> None:
    rng = demo.rng("webhooks")
    rows = []
    for event, url in WEBHOOKS:
        date = demo.when(rng, demo.start, demo.now - 90 * DAY)
        rows.append(
            {
                "event": event,
                "url": url,
                "data": "",
                "owner": "1",
                "last_code": "200",
                "last_hook": str(demo.when(rng, date)),
                "date": str(date),
            }
        )
    demo.insert(145, rows)


def _credit_cards(demo: DemoBase) -> dict[int, int]:
    """Cards per contact; returns contact id -> default card id."""
    rng = demo.rng("credit_cards")
    contacts = demo.conn.execute(
        'SELECT c.id, c."firstname", c."lastname", c."address", c."city", c."state", c."zip", c."country",'
        ' MIN(CAST(t."date" AS INTEGER)) FROM o_46 AS t JOIN o_0 AS c ON c.id = CAST(t."contact_id" AS INTEGER)'
        " GROUP BY c.id ORDER BY c.id"
    ).fetchall()
    rows = []
    owners: list[int] = []
    for contact_id, first, last, address, city, state, zip_, country, first_paid in contacts:
        expired = rng.random() < 0.15
        for default in (False, True) if expired else (True,):
            year = int(1970 + (demo.now / DAY) // 365.25)
            exp_year = year + rng.randrange(1, 5) if default else year - rng.randrange(1, 3)
            date = int(first_paid) - (400 * DAY if not default else 0)
            rows.append(
                {
                    "contact_id": str(contact_id),
                    "firstname": first,
                    "lastname": last,
                    "last4": f"{rng.randrange(10000):04d}",
                    "type": rng.choice(("1", "1", "1", "2", "2", "3", "4")),
                    "exp_month": str(rng.randrange(1, 13)),
                    "exp_year": str(exp_year),
                    "address": address,
                    "address2": None,
                    "city": city,
                    "state": state,
                    "zip": zip_,
                    "country": country,
                    "status": "3" if default else "2",
                    "invoice_id": "0",
                    "date": str(date),
                    "dlm": str(date),
                }
            )
            owners.append(contact_id if default else -1)
    demo.insert(45, rows)
    defaults = {contact: i + 1 for i, contact in enumerate(owners) if contact > 0}
    demo.conn.executemany(
        'UPDATE o_46 SET "cc_id" = ? WHERE "contact_id" = ?',
        [(str(card), str(contact)) for contact, card in defaults.items()],
    )
    return defaults


def _orders(demo: DemoBase, cards: dict[int, int]) -> None:
    rng = demo.rng("orders")
    subs = demo.conn.execute(
        'SELECT CAST(p."contact_id" AS INTEGER), MIN(CAST(p."invoice_id" AS INTEGER)), MIN(CAST(p."date" AS INTEGER)),'
        ' COUNT(*), p."price" FROM o_17 AS p WHERE p."product_id" = \'1\' GROUP BY p."contact_id"'
        ' ORDER BY CAST(p."contact_id" AS INTEGER)'
    ).fetchall()
    rows = []
    for contact_id, invoice, date, count, price in subs:
        active = rng.random() < 0.7
        months = max(1, (demo.now - int(date)) // (30 * DAY))
        rows.append(
            {
                "contact_id": str(contact_id),
                "offer_id": "1",
                "product_id": "1",
                "name": "Monthly Membership",
                "cc_id": str(cards.get(contact_id, 0)),
                "gateway_id": "1",
                "affiliate": "0",
                "status": "1" if active else "0",
                "total": price or money(49.0),
                "unit": "month",
                "count": str(months if active else max(1, min(months, count + rng.randrange(0, 6)))),
                "payment_next_date": str(demo.now + rng.randrange(1, 30) * DAY) if active else "0",
                "transaction_id": str(invoice),
                "date": str(date),
                "dlm": str(demo.when(rng, int(date))),
            }
        )
    demo.insert(52, rows)


def _open_orders(demo: DemoBase) -> None:
    rng = demo.rng("open_orders")
    unpaid = demo.conn.execute(
        'SELECT id, "contact_id", "form_id", "total", CAST("date" AS INTEGER) FROM o_46'
        " WHERE \"status\" IN ('0', '7') ORDER BY id"
    ).fetchall()
    rows = []
    for tid, contact_id, form_id, total, date in unpaid:
        rows.append(
            {
                "contact_id": contact_id,
                "transaction_id": str(tid),
                "offer_id": str(rng.randrange(1, 9)),
                "form_id": form_id,
                "total": total,
                "status": "2" if demo.now - int(date) > 30 * DAY else "0",
                "date": str(date),
                "dlm": str(date),
            }
        )
    demo.insert(44, rows)


def _history(demo: DemoBase) -> None:
    rng = demo.rng("purchase_history")
    purchases = demo.conn.execute(
        'SELECT p.id, p."contact_id", p."product_id", p."invoice_id", p."name", p."total_price",'
        ' CAST(p."date" AS INTEGER), t."status" FROM o_17 AS p'
        ' LEFT JOIN o_46 AS t ON t.id = CAST(p."invoice_id" AS INTEGER) ORDER BY p.id'
    ).fetchall()
    rows: list[dict[str, object]] = []
    for pid, contact_id, product_id, invoice, name, amount, date, status in purchases:
        events = [("1", f"Purchased {name}", amount, date)]
        if status == "2":
            events.append(("2", f"Refunded {name}", amount, demo.when(rng, date)))
        elif status == "5":
            events[0] = ("4", f"Payment declined for {name}", amount, date)
        for kind, text, money_, when in events:
            if len(rows) >= HISTORY_CAP:
                break
            rows.append(
                {
                    "contact_id": contact_id,
                    "purchase_id": str(pid),
                    "product_id": product_id,
                    "invoice_id": invoice,
                    "type": kind,
                    "description": text,
                    "amount": money_,
                    "date": str(when),
                }
            )
    demo.insert(30, rows)
