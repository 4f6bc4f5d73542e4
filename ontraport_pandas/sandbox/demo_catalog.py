"""The demo account's fixed catalog, and the helpers every demo table is built with.

The catalog does not scale with the contact count: 5 users (the owners), about 34
tags (25 for contacts, the rest for deals, companies and memberships), 20 products,
8 sequences, 10 automations (Campaign Builder items), 15 messages, 12 rules, 6 forms,
8 offers and 4 groups (saved criteria: three on contacts, one on deals).
"""

from __future__ import annotations

import bisect
import itertools
import json
import random
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from . import demo_words as w
from .model import TYPES_BY_ID

__all__ = ["DAY", "DemoBase", "midnight", "money", "offer_json", "picker", "unique_code"]

T = TypeVar("T")
DAY = 86400
_CODE_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


#: The demo rules in Ontraport's rule language, as the official SDK encodes it: one
#: ``(events, conditions, actions)`` triple per rule of ``demo_words.RULES``; several items
#: are joined with ``;``. Ids point at the demo catalog: contact tags 1-25 in
#: ``CONTACT_TAGS`` order (1 Lead, 2 Customer, 3 VIP, 4 Newsletter, 5 Webinar 2026, 7 Free
#: Trial, 8 Cart Abandoned, 13 Referral Partner, 15 Cold Lead, 16 Hot Lead, 17 Do Not
#: Contact, 23 Reactivation), products 1-20 and messages 1-15 in their tables' order.
#: ``field_is_condition_fieldvalue(field,op,value)``: the argument separator is not shown in
#: the docs available; commas were chosen so that ``;`` keeps joining conditions.
RULE_LOGIC: tuple[tuple[str, str, str], ...] = (
    ("Contact_purchases_product(1)", "", "Add_contact_to_category(2)"),
    ("Contact_purchases_product(2)", "", "Remove_contact_from_category(1);Add_contact_to_category(2)"),
    (
        "Contact_purchases_product(6)",
        "field_is_condition_fieldvalue(f1001,=,304)",
        "Send_contact_an_emailmbs(15)",
    ),
    ("Contact_added_to_category(5)", "", "Send_contact_an_emailmbs(4);Add_contact_to_category(4)"),
    ("Contact_added_to_category(17)", "", "Remove_contact_from_category(4)"),
    (
        "Contact_added_to_category(1)",
        "field_is_condition_fieldvalue(owner,=,0)",
        "Add_contact_to_category(16)",
    ),
    (
        "Contact_added_to_category(23)",
        "field_is_condition_fieldvalue(bulk_mail,=,1)",
        "Send_contact_an_emailmbs(14)",
    ),
    ("Contact_added_to_category(8)", "", "Add_contact_to_category(15)"),
    (
        "Contact_added_to_category(4)",
        "field_is_condition_fieldvalue(f1006,=,1)",
        "Add_contact_to_category(16)",
    ),
    (
        "Contact_purchases_product(1)",
        "field_is_condition_fieldvalue(f1001,=,301)",
        "Remove_contact_from_category(7)",
    ),
    (
        "Contact_purchases_product(2)",
        "field_is_condition_fieldvalue(mrcResult,=,1)",
        "Send_contact_an_emailmbs(7)",
    ),
    ("Contact_added_to_category(13)", "", "Send_contact_an_emailmbs(1)"),
)

#: The products of each demo offer: (product index in ``PRODUCTS``, type, payment count,
#: unit, shipped). ``type`` is ``single``, ``subscription`` or ``payment_plan``.
OFFER_LINES: tuple[tuple[tuple[int, str, int, str, bool], ...], ...] = (
    ((0, "subscription", 0, "month", False),),
    ((1, "single", 1, "year", False),),
    ((2, "single", 1, "day", False), (3, "single", 1, "day", False)),
    ((6, "payment_plan", 3, "month", False),),
    ((9, "single", 1, "day", False),),
    ((19, "single", 1, "day", False), (12, "single", 1, "day", True)),
    ((15, "payment_plan", 4, "quarter", False),),
    ((5, "single", 1, "day", False), (11, "single", 1, "day", True)),
)


def offer_json(
    name: str, lines: Sequence[tuple[int, str, int, str, bool]], rng: random.Random
) -> dict[str, object]:
    """The offer JSON a real offer carries (products with prices, shipping, tax, totals)."""
    products = []
    subtotal = 0.0
    for index, (product, kind, count, unit, shipped) in enumerate(lines):
        title, price = w.PRODUCTS[product]
        total = price * (count if kind == "payment_plan" else 1)
        subtotal += total
        products.append(
            {
                "quantity": "1",
                "minQuantity": "1",
                "maxQuantity": "99",
                "total": money(total),
                "shipping": "true" if shipped else "false",
                "tax": "true" if price < 100 else "false",
                "price": [
                    {
                        "price": money(price),
                        "payment_count": str(count),
                        "unit": unit,
                        "id": str(rng.randrange(1000, 9999)),
                    }
                ],
                "type": kind,
                "quantityEditable": "false",
                "index": str(index),
                "name": title,
                "id": str(product + 1),
                "uid": unique_code(rng).lower(),
            }
        )
    shipping = any(line[4] for line in lines)
    grand = round(subtotal + (7.95 if shipping else 0.0), 2)
    return {
        "products": products,
        "taxes": [],
        "shipping": [{"id": "1", "name": "Standard", "price": "7.95", "form_id": None}] if shipping else None,
        "delay": 0,
        "invoice_template": 1,
        "subTotal": round(subtotal, 2),
        "grandTotal": grand,
        "hasTaxes": False,
        "hasShipping": shipping,
        "paypalValid": True,
        "offerCoupon": False,
        "coupon": None,
        "shipping_charge_reoccurring_orders": False,
        "resorted": None,
        "name": name,
    }


def unique_code(rng: random.Random) -> str:
    """A 7-character upper-case code like Ontraport's ``unique_id`` (``3WA57PX``)."""
    value = rng.randrange(36**7)
    chars = []
    for _ in range(7):
        value, digit = divmod(value, 36)
        chars.append(_CODE_CHARS[digit])
    return "".join(chars)


def picker(rng: random.Random, items: Sequence[T], weights: Sequence[float]) -> Callable[[], T]:
    """A weighted choice that is cheap to call many times."""
    cumulative = list(itertools.accumulate(weights))
    total = cumulative[-1]
    rand = rng.random

    def pick() -> T:
        return items[bisect.bisect_right(cumulative, rand() * total)]

    return pick


def money(x: float) -> str:
    return f"{x:.2f}"


def midnight(ts: int) -> int:
    return ts - ts % DAY


class DemoBase:
    """Shared state of one generation run, and the catalog tables."""

    def __init__(self, conn: sqlite3.Connection, seed: int, contacts: int, now: int) -> None:
        self.conn = conn
        self.seed = seed
        self.n = contacts
        self.now = now
        self.start = now - 3 * 365 * DAY
        self.codes: set[str] = set()
        self.tag_ids: dict[str, int] = {}
        self.deal_tag_ids: list[int] = []
        self.company_tag_ids: list[int] = []
        self.membership_tag_ids: list[int] = []

    def rng(self, table: str) -> random.Random:
        """An independent, seeded stream per table: changing one table leaves the others alone."""
        return random.Random(f"{self.seed}:{table}")

    def code(self, rng: random.Random) -> str:
        while True:
            value = unique_code(rng)
            if value not in self.codes:
                self.codes.add(value)
                return value

    def when(self, rng: random.Random, after: int, before: int | None = None) -> int:
        """A moment between ``after`` and ``before`` (default: ``demo_now``)."""
        before = self.now if before is None else before
        return after + int(rng.random() * max(1, before - after))

    def insert(self, type_id: int, rows: Sequence[Mapping[str, object]]) -> None:
        """Insert rows given as dicts (all with the keys of the first)."""
        if not rows:
            return
        columns = list(rows[0])
        names = ", ".join(f'"{c}"' for c in columns)
        marks = ", ".join(f":{c}" for c in columns)
        self.conn.executemany(f"INSERT INTO {TYPES_BY_ID[type_id].table} ({names}) VALUES ({marks})", rows)

    def stamps(self, rng: random.Random, after: int, before: int | None = None) -> dict[str, str]:
        """``date`` and ``dlm`` (``dlm`` >= ``date``) as strings."""
        date = self.when(rng, after, before)
        return {"date": str(date), "dlm": str(self.when(rng, date))}

    # ------------------------------------------------------------------ the catalog

    def catalog(self) -> None:
        rng = self.rng("catalog")
        t0 = self.start - 200 * DAY
        self.users(t0)
        self.tags()
        self.products(rng, t0)
        self.automation(rng, t0)
        self.messages(rng, t0)
        self.rules(rng, t0)
        self.forms(rng, t0)
        self.offers(rng, t0)
        self.groups(rng)

    def users(self, t0: int) -> None:
        rows = []
        for i, (first, last, email, role) in enumerate(w.USERS):
            date = t0 + i * 40 * DAY
            rows.append(
                {
                    "firstname": first,
                    "lastname": last,
                    "email": email,
                    "reports_to": "1" if i else "0",
                    "phone": f"+1 512 555 01{i + 10:02d}",
                    "language": "en",
                    "timezone": "America/Chicago",
                    "role": role,
                    "date": str(date),
                    "dlm": str(date + (i + 1) * 17 * DAY),
                }
            )
        self.insert(2, rows)

    def tags(self) -> None:
        groups = [
            ("0", w.CONTACT_TAGS),
            ("149", w.DEAL_TAGS),
            ("150", w.COMPANY_TAGS),
            ("10000", w.MEMBERSHIP_TAGS),
        ]
        rows = [{"tag_name": name, "object_type_id": type_id} for type_id, names in groups for name in names]
        self.insert(14, rows)
        ids = iter(range(1, len(rows) + 1))
        self.tag_ids = {name: next(ids) for name in w.CONTACT_TAGS}
        self.deal_tag_ids = [next(ids) for _ in w.DEAL_TAGS]
        self.company_tag_ids = [next(ids) for _ in w.COMPANY_TAGS]
        self.membership_tag_ids = [next(ids) for _ in w.MEMBERSHIP_TAGS]

    def products(self, rng: random.Random, t0: int) -> None:
        rows = []
        for name, price in w.PRODUCTS:
            rows.append(
                {
                    "name": name,
                    "price": money(price),
                    "description": f"{name} at Brightpath Studio.",
                    "sku": f"BP-{rng.randrange(10000):04d}",
                    "product_group": "0",
                    "taxable": "1" if price < 100 else "0",
                    "deleted": "0",
                    "owner": str(rng.randrange(1, 6)),
                    **self.stamps(rng, t0, self.start + 400 * DAY),
                }
            )
        self.insert(16, rows)

    def automation(self, rng: random.Random, t0: int) -> None:
        sequences = []
        for name in w.SEQUENCES:
            sequences.append(
                {
                    "name": name,
                    "object_type_id": "0",
                    "pause": "1" if rng.random() < 0.2 else "0",
                    "subscribers": str(rng.randrange(40, 4000)),
                    "owner": str(rng.randrange(1, 6)),
                    **self.stamps(rng, t0, self.now - 300 * DAY),
                }
            )
        self.insert(5, sequences)
        campaigns = []
        for name in w.CAMPAIGNS:
            paused = rng.random() < 0.2
            subs = rng.randrange(20, 3000)
            campaigns.append(
                {
                    "name": name,
                    **self.stamps(rng, t0, self.now - 100 * DAY),
                    "object_type_id": "0",
                    "pause": "1" if paused else "0",
                    "deleted": "false",
                    "state": "paused" if paused else "live",
                    "subs": str(subs),
                    "subs_ever": str(subs + rng.randrange(0, 5000)),
                    "element_num": str(rng.randrange(4, 40)),
                    "todos": str(rng.randrange(0, 12)),
                }
            )
        self.insert(140, campaigns)

    def messages(self, rng: random.Random, t0: int) -> None:
        rows = []
        for alias, kind, subject in w.MESSAGES:
            sent = rng.randrange(0, 20000) if kind in ("e-mail", "sms") else 0
            opened = int(sent * (0.2 + rng.random() * 0.3))
            stamps = self.stamps(rng, t0, self.now - 30 * DAY)
            rows.append(
                {
                    "alias": alias,
                    "type": kind,
                    "subject": subject,
                    "last_save": stamps["dlm"],
                    **stamps,
                    "mcsent": str(sent),
                    "mcopened": str(opened),
                    "mcclicked": str(int(opened * 0.3)),
                    "mcabuse": str(rng.randrange(0, 4)),
                    "mcunsub": str(int(sent * 0.004)),
                    "spam_score": f"{rng.random() * 3:.1f}",
                    "object_type_id": "0",
                    "owner": str(rng.randrange(1, 6)),
                    "from": "Brightpath Studio",
                    "send_from": "hello@brightpath-studio.com",
                    "send_to": "",
                    "send_out_name": "Brightpath Studio",
                    "reply_to_email": "hello@brightpath-studio.com",
                    "message_body": None
                    if kind == "sms"
                    else f"<p>Hi [First Name],</p><p>{subject}</p><p>- The Brightpath team</p>",
                    "plaintext": f"Hi [First Name], {subject or alias}. Reply STOP to opt out."
                    if kind == "sms"
                    else None,
                    "transactional_email": "1" if alias in ("Receipt", "Payment Failed") else "0",
                }
            )
        self.insert(7, rows)

    def rules(self, rng: random.Random, t0: int) -> None:
        rows = []
        for i, name in enumerate(w.RULES):
            events, conditions, actions = RULE_LOGIC[i % len(RULE_LOGIC)]
            stamps = self.stamps(rng, t0, self.now - 60 * DAY)
            rows.append(
                {
                    "name": name,
                    "events": events,
                    "conditions": conditions,
                    "actions": actions,
                    "pause": "1" if i in (4, 9) else "0",
                    "last_action": str(self.when(rng, int(stamps["date"]))),
                    "drip_id": str(rng.randrange(0, 9)),
                    "object_type_id": "0",
                    **stamps,
                }
            )
        self.insert(6, rows)

    def forms(self, rng: random.Random, t0: int) -> None:
        rows = []
        for name, kind in w.FORMS:
            visits = rng.randrange(500, 40000)
            fills = int(visits * (0.02 + rng.random() * 0.2))
            rows.append(
                {
                    "formname": name,
                    "type": kind,
                    "tags": f"*/*{rng.randrange(1, 8)}*/*",
                    "redirect": "https://brightpath-studio.com/thanks",
                    "owner": str(rng.randrange(1, 6)),
                    "fillouts": str(fills),
                    "visits": str(visits),
                    "unique_visits": str(int(visits * 0.7)),
                    "unique_fillouts": str(int(fills * 0.9)),
                    "json_raw_object": json.dumps({"formname": name, "fields": ["firstname", "email"]}),
                    "object_type_id": "0",
                    **self.stamps(rng, t0, self.now - 60 * DAY),
                }
            )
        self.insert(122, rows)

    def offers(self, rng: random.Random, t0: int) -> None:
        rows = []
        for i, name in enumerate(w.OFFERS):
            rows.append(
                {
                    "name": name,
                    "public": "1" if i % 3 else "0",
                    "data": json.dumps(offer_json(name, OFFER_LINES[i % len(OFFER_LINES)], rng)),
                    "referenced": str(rng.randrange(0, 50)),
                    "owner": str(rng.randrange(1, 6)),
                    **self.stamps(rng, t0, self.now - 30 * DAY),
                }
            )
        self.insert(65, rows)

    def groups(self, rng: random.Random) -> None:
        def one(field: str, op: str, value: object) -> list[dict[str, object]]:
            if isinstance(value, list):
                return [
                    {"field": {"field": field}, "op": op, "value": {"list": [{"value": v} for v in value]}}
                ]
            return [{"field": {"field": field}, "op": op, "value": {"value": value}}]

        vip = self.tag_ids["VIP"]
        saved = [
            ("VIP contacts", "0", one("contact_cat", "LIKE", f"%*/*{vip}*/*%")),
            ("Newsletter subscribers", "0", one("bulk_mail", "IN", [1, 2])),
            ("Australian contacts", "0", one("country", "=", "AU")),
            ("Open deals", "149", one("sales_stage", "NOT IN", [605, 606])),
        ]
        rows = []
        for name, type_id, criteria in saved:
            rows.append(
                {
                    "name": name,
                    "object_type_id": type_id,
                    "criteria": json.dumps(criteria),
                    "owner": str(rng.randrange(1, 6)),
                    **self.stamps(rng, self.start, self.now - 30 * DAY),
                }
            )
        self.insert(3, rows)
