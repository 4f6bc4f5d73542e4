"""Deterministic demo data: "Brightpath Studio", a fitness and coaching business on Ontraport.

Everything is generated in code from ``(seed, contacts, demo_now)``; there are no data
files. Each table draws from its own ``random.Random("<seed>:<table>")`` (string seeds are
hashed with SHA-512, independent of ``PYTHONHASHSEED``), so the same settings give
byte-identical data on any machine and any day.

The data is deliberately messy, as real CRM data is:

- ~3 % of contacts share an e-mail with an earlier contact, differing only in case or
  surrounding blanks; ~1 % have no e-mail;
- ~5 % of names in the wrong case (``JOHN``, ``mary``), ~1 % with stray blanks, and
  ~2 % blank or placeholder names (``""``, ``test``, ``N/A``, ``asdf``);
- phones in mixed formats (``(555) 123-4567``, ``555.123.4567``, ``+1 555 123 4567``,
  ``5551234567``); ~2 % invalid states (``Calif.``, ``XX``, ``ny``); some US zip codes
  that lost their leading zero;
- never-set text fields are ``null``; custom fields partly blank; one drop option
  (Membership Level "Platinum") used by nobody; prices mostly with two decimals, a few not.

Sizes scale with ``contacts`` (``n``): companies n/20 (at least 5), deals n/5, tasks n/2,
transactions n/2 (each with 1-2 purchases, about 0.6 n), notes n/3, memberships n/10;
capped at 10k, 40k, 50k, 50k, 50k and 20k so 200,000 contacts still generate quickly.
Ids start at 1 in every table; contacts are created in date order, so ids grow with
``date``. ``spent`` and ``num_purchased`` of a contact add up its paid transactions and
its purchases.
"""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import NamedTuple

from . import demo_words as w
from .demo_catalog import DAY, DemoBase, midnight, money, picker, unique_code
from .demo_commerce import commerce
from .model import INTERESTS, PLAN

__all__ = ["generate", "unique_code"]

_BATCH = 5000


class _Person(NamedTuple):
    """What later tables need to know about a contact."""

    first: str
    last: str
    city: str
    state: str
    zip: str
    date: int


class _Batch:
    def __init__(self, demo: DemoBase, type_id: int) -> None:
        self.demo = demo
        self.type_id = type_id
        self.rows: list[Mapping[str, object]] = []

    def append(self, row: Mapping[str, object]) -> None:
        self.rows.append(row)
        if len(self.rows) >= _BATCH:
            self.flush()

    def flush(self) -> None:
        self.demo.insert(self.type_id, self.rows)
        self.rows = []


class _Demo(DemoBase):
    def __init__(self, conn: sqlite3.Connection, seed: int, contacts: int, now: int) -> None:
        super().__init__(conn, seed, contacts, now)
        self.company_names: list[str] = []
        self.company_domains: list[str] = []
        self.people: list[_Person] = []

    @contextmanager
    def batches(self, type_id: int) -> Iterator[_Batch]:
        """Rows to append; written every few thousand rows and at the end."""
        batch = _Batch(self, type_id)
        yield batch
        batch.flush()

    def contact_id(self, rng: random.Random) -> int:
        return rng.randrange(1, self.n + 1)

    # ------------------------------------------------------------------ companies

    def companies(self) -> None:
        rng = self.rng("companies")
        count = min(max(self.n // 20, 5 if self.n else 0), 10_000)
        seen: set[str] = set()
        with self.batches(150) as rows:
            for i in range(count):
                a, b = rng.choice(w.COMPANY_A), rng.choice(w.COMPANY_B)
                name = f"{a} {b} {rng.choice(w.COMPANY_C)}".strip()
                if name in seen:
                    name = f"{a} {b} {i}"
                seen.add(name)
                domain = f"{a}{b}".lower() + ".com"
                self.company_names.append(name)
                self.company_domains.append(domain)
                city, state, zip3, area = rng.choice(w.US_CITIES)
                date = self.when(rng, self.start)
                rows.append(
                    {
                        "name": name,
                        "phone": f"({area}) 555-{rng.randrange(1000, 10000)}",
                        "industry": rng.choice(w.INDUSTRIES),
                        "description": f"{name}, customer since {2023 + (date - self.start) // (365 * DAY)}."
                        if rng.random() < 0.5
                        else None,
                        "annual_revenue": money(
                            rng.choice((0, 250_000, 1_200_000, 5_000_000, 40_000_000)) * (0.5 + rng.random())
                        ),
                        "employee_count": str(rng.choice((3, 8, 15, 40, 120, 600, 2500))),
                        "facebook_page": f"https://facebook.com/{domain[:-4]}"
                        if rng.random() < 0.4
                        else None,
                        "instagram_name": f"@{domain[:-4]}" if rng.random() < 0.3 else None,
                        "address": f"{rng.randrange(1, 9999)} {rng.choice(w.STREETS)} {rng.choice(w.STREET_SUFFIXES)}",
                        "city": city,
                        "state": state,
                        "zipcode": f"{zip3}{rng.randrange(100):02d}",
                        "country": "US",
                        "owner": str(rng.randrange(1, 6)),
                        "date": str(date),
                        "dlm": str(self.when(rng, date)),
                        "dla": str(self.when(rng, date)) if rng.random() < 0.6 else "0",
                        "contact_cat": f"*/*{rng.choice(self.company_tag_ids)}*/*"
                        if rng.random() < 0.3
                        else "",
                        "unique_id": self.code(rng),
                    }
                )

    # ------------------------------------------------------------------ contacts

    def contacts(self) -> None:
        rng = self.rng("contacts")
        rand, randrange, choice = rng.random, rng.randrange, rng.choice
        span = self.now - self.start
        dates = sorted(self.start + int(span * (1.0 - rand() ** 1.3)) for _ in range(self.n))
        owner = picker(rng, ("1", "2", "3", "4", "5"), (30, 25, 20, 15, 10))
        bulk_mail = picker(rng, ("1", "2", "0", "-2", "-5"), (55, 15, 17, 8, 5))
        bulk_sms = picker(rng, ("0", "1", "2", "-2"), (60, 25, 8, 7))
        free_domain = picker(rng, w.FREE_DOMAINS, w.FREE_WEIGHTS)
        country = picker(rng, ("US", "AU", "CA", "GB", ""), (85, 6, 5, 3, 1))
        level = picker(rng, ("301", "302", "303", "0"), (35, 25, 10, 30))  # "304" Platinum: never used
        lead = picker(
            rng, ("501", "502", "503", "504", "505", "506", "507", "0"), (18, 20, 12, 14, 16, 4, 4, 12)
        )
        source = picker(rng, ("0", "1", "3"), (20, 50, 30))
        tag_count = picker(rng, (0, 1, 2, 3, 4), (20, 35, 25, 13, 7))
        tag_pick = picker(rng, [self.tag_ids[t] for t in w.CONTACT_TAGS], w.CONTACT_TAG_WEIGHTS)
        interest_ids = list(INTERESTS)
        seen_emails: set[str] = set()
        emails: list[str] = []
        with self.batches(0) as rows:
            for date in dates:
                first, last = choice(w.FIRST_NAMES), choice(w.LAST_NAMES)
                # e-mail, from the clean name (before the mess), or a near-duplicate of an earlier one
                r = rand()
                if emails and r < 0.03:
                    base = emails[randrange(len(emails))]
                    email = (base.upper(), base.capitalize(), f" {base}", f"{base} ")[randrange(4)]
                elif r < 0.04:
                    email = ""
                else:
                    fn, ln = first.lower().replace("'", ""), last.lower().replace("'", "").replace(" ", "")
                    local = (
                        f"{fn}.{ln}",
                        f"{fn}{ln}",
                        f"{fn[0]}{ln}",
                        f"{fn}_{ln}",
                        f"{fn}{randrange(1, 99)}",
                        f"{fn}.{ln}{randrange(60, 100)}",
                    )[randrange(6)]
                    domain = (
                        choice(self.company_domains)
                        if self.company_domains and rand() < 0.25
                        else free_domain()
                    )
                    email = f"{local}@{domain}"
                    while email in seen_emails:
                        email = f"{local}{randrange(2, 999)}@{domain}"
                    seen_emails.add(email)
                    emails.append(email)
                # names with mess
                r = rand()
                if r < 0.02:
                    first, last = choice(w.PLACEHOLDER_NAMES), choice(("", "", "test", "N/A", last))
                elif r < 0.045:
                    first, last = first.upper(), last.upper()
                elif r < 0.07:
                    first, last = first.lower(), last.lower()
                elif r < 0.08:
                    first, last = f"{first} ", f" {last}"
                # address
                ctry = country()
                area = "555"
                if ctry == "US":
                    city, state, zip3, area = choice(w.US_CITIES)
                    zip_code = f"{zip3}{randrange(100):02d}"
                    if zip_code[0] == "0" and rand() < 0.3:
                        zip_code = zip_code.lstrip("0")  # lost in a spreadsheet
                elif ctry == "AU":
                    city, state, zip_code = choice(w.AU_CITIES)
                elif ctry == "CA":
                    city, state, zip_code = choice(w.CA_CITIES)
                elif ctry == "GB":
                    (city, zip_code), state = choice(w.GB_CITIES), ""
                else:
                    city, state, zip_code = "", "", ""
                if state and rand() < 0.02:
                    state = choice(w.BAD_STATES)
                has_address = rand() < 0.8
                if not has_address and rand() < 0.5:
                    city, zip_code = "", ""
                # phones
                digits = f"{area}{randrange(200, 1000)}{randrange(1000, 10000)}"
                if ctry == "AU":
                    m = f"4{randrange(10, 100)}{randrange(100, 1000)}{randrange(100, 1000)}"
                    office = (f"+61 {m[:3]} {m[3:6]} {m[6:]}", f"0{m[:3]} {m[3:6]} {m[6:]}")[randrange(2)]
                    sms = f"+61{m}"
                elif ctry == "GB":
                    tail = randrange(100, 1000)
                    office = (f"+44 20 7946 0{tail}", f"07700 900{tail}")[randrange(2)]
                    sms = f"+447700900{tail}"
                else:
                    a, b, c = digits[:3], digits[3:6], digits[6:]
                    office = (
                        f"({a}) {b}-{c}",
                        f"{a}.{b}.{c}",
                        f"+1 {a} {b} {c}",
                        f"{a}{b}{c}",
                        f"{a}-{b}-{c}",
                    )[randrange(5)]
                    sms = f"+1{digits}"
                office_phone = office if rand() < 0.6 else None
                home_phone = None
                if rand() < 0.25:
                    home_phone = (
                        office
                        if office_phone is None
                        else f"{area}{randrange(200, 1000)}{randrange(1000, 10000)}"
                    )
                # tags, subscriptions, custom fields
                tags: list[int] = []
                for _ in range(tag_count()):
                    tag = tag_pick()
                    if tag not in tags:
                        tags.append(tag)
                interests = ""
                if rand() < 0.6:
                    picked = sorted({choice(interest_ids) for _ in range(randrange(1, 4))})
                    interests = "*/*" + "*/*".join(picked) + "*/*"
                r = rand()
                ltv = (
                    "0"
                    if r < 0.3
                    else f"{randrange(1, 400) / 2:g}"
                    if r < 0.35
                    else money(randrange(20, 5000) + randrange(100) / 100)
                )
                src = source()
                ip = (
                    f"{randrange(11, 223)}.{randrange(256)}.{randrange(256)}.{randrange(1, 255)}"
                    if src == "1" and rand() < 0.8
                    else None
                )
                rows.append(
                    {
                        "firstname": first,
                        "lastname": last,
                        "email": email,
                        "address": f"{randrange(1, 9999)} {choice(w.STREETS)} {choice(w.STREET_SUFFIXES)}"
                        if has_address
                        else None,
                        "address2": choice(("Apt 4B", "Suite 200", "Unit 12", "#3", "PO Box 118"))
                        if has_address and rand() < 0.1
                        else None,
                        "city": city,
                        "state": state,
                        "zip": zip_code,
                        "country": ctry,
                        "birthday": str(midnight(-631152000 + randrange(0, 54 * 365) * DAY))
                        if rand() < 0.3
                        else None,
                        "priority": choice(("0", "0", "0", "0", "8", "9", "10")),
                        "home_phone": home_phone,
                        "sms_number": sms if rand() < 0.4 else None,
                        "office_phone": office_phone,
                        "fax": f"{area}555{randrange(1000, 10000)}" if rand() < 0.03 else None,
                        "company": choice(self.company_names)
                        if self.company_names and rand() < 0.35
                        else None,
                        "title": choice(w.TITLES) if rand() < 0.3 else None,
                        "website": f"https://{email.split('@')[-1].strip()}"
                        if rand() < 0.08 and "@" in email
                        else None,
                        "timezone": w.TIMEZONES.get(state.strip().upper())
                        if ctry == "US" and rand() < 0.5
                        else None,
                        "owner": owner(),
                        "date": str(date),
                        "dla": "0" if rand() < 0.35 else str(date + int((self.now - date) * rand())),
                        "dlm": str(date + int((self.now - date) * rand() ** 2)),
                        "system_source": src,
                        "source_location": "https://brightpath-studio.com/free-trial" if src == "1" else None,
                        "ip_addy": ip,
                        "ip_addy_display": ip,
                        "contact_cat": "*/*" + "*/*".join(map(str, tags)) + "*/*" if tags else "",
                        "updateSequence": f"*/*{randrange(1, len(w.SEQUENCES) + 1)}*/*"
                        if rand() < 0.3
                        else "",
                        "updateCampaign": f"*/*{randrange(1, len(w.CAMPAIGNS) + 1)}*/*"
                        if rand() < 0.4
                        else "",
                        "bulk_mail": bulk_mail(),
                        "bulk_sms": bulk_sms(),
                        "unique_id": self.code(rng),
                        "grade": str(int(rand() ** 3 * 100)),
                        "spent": "0.00",
                        "f1001": level(),
                        "f1002": interests,
                        "f1003": str(int(rand() ** 2 * 150)) if rand() < 0.6 else "0",
                        "f1004": ltv,
                        "f1005": str(midnight(self.now + randrange(-365, 365) * DAY))
                        if rand() < 0.6
                        else "0",
                        "f1006": "1" if rand() < 0.55 else "0",
                        "f1007": str(self.when(rng, date)) if rand() < 0.25 else "0",
                        "f1008": choice(w.GOALS) if rand() < 0.25 else None,
                        "f1009": lead(),
                    }
                )
                self.people.append(_Person(first, last, city, state, zip_code, date))

    # ------------------------------------------------------------------ money

    def transactions(self) -> None:
        """Transactions with their purchases; then the totals on contacts and products."""
        rng = self.rng("transactions")
        count = min(self.n // 2, 50_000)
        status = picker(rng, ("1", "2", "3", "0", "4", "5", "6", "7"), (75, 5, 2, 5, 2, 6, 2, 3))
        product_pick = picker(
            rng, range(len(w.PRODUCTS)), [1.0 / (1 + i % 7) for i in range(len(w.PRODUCTS))]
        )
        spent: dict[int, float] = {}
        purchased: dict[int, int] = {}
        income = [0.0] * len(w.PRODUCTS)
        sold = [0] * len(w.PRODUCTS)
        with self.batches(46) as invoices, self.batches(17) as purchases:
            for invoice in range(1, count + 1):
                contact = self.contact_id(rng)
                person = self.people[contact - 1]
                date = self.when(rng, person.date)
                lines = [
                    (product_pick(), 1 if rng.random() < 0.9 else rng.randrange(2, 4))
                    for _ in range(1 if rng.random() < 0.8 else 2)
                ]
                subtotal = sum(w.PRODUCTS[p][1] * q for p, q in lines)
                tax = round(subtotal * 0.0825, 2) if rng.random() < 0.4 else 0.0
                shipping = (
                    9.95
                    if any(w.PRODUCTS[p][0].startswith(("Brightpath", "Resistance")) for p, _ in lines)
                    else 0.0
                )
                total = subtotal + tax + shipping
                paid = status()
                offer = [
                    {
                        "id": str(p + 1),
                        "name": w.PRODUCTS[p][0],
                        "quantity": str(q),
                        "price": money(w.PRODUCTS[p][1]),
                    }
                    for p, q in lines
                ]
                invoices.append(
                    {
                        "hidden": "0",
                        "status": paid,
                        "contact_id": str(contact),
                        "contact_name": f"{person.first} {person.last}".strip(),
                        "order_id": str(invoice),
                        "form_id": str(rng.choice((0, 0, 1, 2, 3))),
                        "lp_id": "0",
                        "cc_id": str(rng.randrange(1, 50_000)),
                        "gateway_id": "1",
                        "date": str(date),
                        "template_id": "1",
                        "subtotal": money(subtotal),
                        "tax": money(tax),
                        "tax_city": "0.00",
                        "tax_state": money(tax),
                        "tax_county": "0.00",
                        "shipping": money(shipping),
                        "total": money(total),
                        "zip": person.zip,
                        "city": person.city,
                        "state": person.state,
                        "county": "",
                        "external_order_id": "",
                        "oprid": "0",
                        "offer_data": json.dumps({"products": offer}),
                        "last_recharge_date": "0",
                        "recharge_attempts": "0",
                        "recharge": "0",
                    }
                )
                if paid == "1":
                    spent[contact] = spent.get(contact, 0.0) + total
                for p, qty in lines:
                    name, price = w.PRODUCTS[p]
                    purchased[contact] = purchased.get(contact, 0) + 1
                    if paid == "1":
                        income[p] += price * qty
                        sold[p] += qty
                    purchases.append(
                        {
                            "contact_id": str(contact),
                            "product_id": str(p + 1),
                            "name": name,
                            "price": money(price),
                            "quantity": str(qty),
                            "discount": "0.00",
                            "total_price": money(price * qty),
                            "date": str(date),
                            "dlm": str(self.when(rng, date)),
                            "type": "1" if "Monthly" in name else "0",
                            "status": "1" if paid == "1" else "0",
                            "invoice_id": str(invoice),
                            "order_id": str(invoice),
                            "owner": str(rng.randrange(1, 6)),
                            "level1": "0.00",
                            "level2": "0.00",
                        }
                    )
        self.conn.executemany(
            'UPDATE o_0 SET "spent" = ?, "num_purchased" = ? WHERE id = ?',
            [(money(spent.get(c, 0.0)), str(n), c) for c, n in sorted(purchased.items())],
        )
        self.conn.executemany(
            'UPDATE o_16 SET "total_income" = ?, "total_purchases" = ? WHERE id = ?',
            [(money(income[i]), str(sold[i]), i + 1) for i in range(len(w.PRODUCTS))],
        )

    # ------------------------------------------------------------------ pipeline and activity

    def deals(self) -> None:
        rng = self.rng("deals")
        stage = picker(rng, ("601", "602", "603", "604", "605", "606"), (25, 20, 15, 10, 18, 12))
        win = {"601": 10, "602": 25, "603": 50, "604": 75, "605": 100, "606": 0}
        with self.batches(149) as rows:
            for _ in range(min(self.n // 5, 40_000)):
                contact = self.contact_id(rng)
                person = self.people[contact - 1]
                date = self.when(rng, person.date)
                product, price = rng.choice(w.PRODUCTS)
                value = price * rng.choice((1, 1, 2, 5, 10)) * (0.9 + rng.random() * 0.3)
                s = stage()
                company = (
                    rng.randrange(1, len(self.company_names) + 1)
                    if self.company_names and rng.random() < 0.5
                    else 0
                )
                label = (
                    self.company_names[company - 1]
                    if company
                    else f"{person.first} {person.last}".strip() or "Unknown"
                )
                rows.append(
                    {
                        "name": f"{label} - {product}",
                        "value": money(value),
                        "expected_close_date": str(midnight(date + rng.randrange(7, 120) * DAY)),
                        "expected_win_percent": str(win[s]),
                        "primary_contact": str(contact),
                        "company": str(company),
                        "weighted_value": money(value * win[s] / 100),
                        "sales_stage": s,
                        "actual_close_date": str(midnight(self.when(rng, date)))
                        if s in ("605", "606")
                        else "0",
                        "expected_close_timeframe": rng.choice(
                            ("This month", "Next month", "This quarter", "Next quarter", "")
                        ),
                        "deal_size": "611"
                        if value < 300
                        else "612"
                        if value < 1500
                        else "613"
                        if value < 8000
                        else "614",
                        "recent_activity": str(self.when(rng, date)),
                        "owner": str(rng.randrange(1, 6)),
                        "date": str(date),
                        "dlm": str(self.when(rng, date)),
                        "dla": "0",
                        "contact_cat": f"*/*{rng.choice(self.deal_tag_ids)}*/*" if rng.random() < 0.4 else "",
                        "unique_id": self.code(rng),
                    }
                )

    def tasks(self) -> None:
        rng = self.rng("tasks")
        task_messages = [i + 1 for i, m in enumerate(w.MESSAGES) if m[1] == "Task"]
        with self.batches(1) as rows:
            for _ in range(min(self.n // 2, 50_000)):
                contact = self.contact_id(rng)
                assigned = self.when(rng, self.people[contact - 1].date, self.now + 7 * DAY)
                due = assigned + rng.randrange(1, 15) * DAY
                r = rng.random()
                if due < self.now:
                    status = "1" if r < 0.62 else "2" if r < 0.72 else "0"  # the rest: pending and overdue
                else:
                    status = "0" if r < 0.9 else "1"
                subject = rng.choice(w.TASK_SUBJECTS)
                rows.append(
                    {
                        "owner": str(rng.randrange(1, 6)),
                        "drip_id": str(rng.randrange(0, len(w.SEQUENCES) + 1)),
                        "contact_id": str(contact),
                        "step_num": str(rng.randrange(0, 6)),
                        "subject": subject,
                        "date_assigned": str(assigned),
                        "date_due": str(due),
                        "date_complete": str(self.when(rng, assigned, min(due + 5 * DAY, self.now)))
                        if status == "1"
                        else None,
                        "status": status,
                        "type": "0",
                        "details": f"{subject} for contact #{contact}." if rng.random() < 0.5 else "",
                        "item_id": str(rng.choice(task_messages)),
                        "notifications": "",
                        "rules": "",
                        "object_type_id": "0",
                        "object_name": "Contacts",
                    }
                )

    def tracking(self) -> None:
        """The campaigns, lead sources, media, contents and terms behind the ``n_*``/``l_*`` fields."""
        for type_id, names in w.TRACKING.items():
            with self.batches(type_id) as rows:
                for name in names:
                    rows.append({"name": name})

    def coupons(self) -> None:
        """Coupons, their codes (personal ones for some contacts) and the products they apply to."""
        rng = self.rng("coupons")
        products = [(str(r[0]), r[1]) for r in self.conn.execute('SELECT id, "name" FROM o_16 ORDER BY id')]
        start = self.now - 120 * DAY
        coupons, codes, items = [], [], []
        for i, (name, kind, discount, value, shared) in enumerate(w.COUPONS, start=1):
            date = self.when(rng, start, self.now - 30 * DAY)
            issued = 1 if kind == "group" else min(self.n, rng.randrange(5, 25))
            redeemed = rng.randrange(0, issued + 1) if kind == "personal" else rng.randrange(0, 60)
            coupons.append(
                {
                    "name": name,
                    "type": kind,
                    "issued": str(issued),
                    "redeemed": str(redeemed),
                    "remaining": str(max(issued - redeemed, 0)) if kind == "personal" else "0",
                    "total_collected": money(redeemed * rng.uniform(20, 120)),
                    "new_buyers": str(rng.randrange(0, redeemed + 1)),
                    "product_selection": "specific" if i % 2 else "all",
                    "discount_type": discount,
                    "discount_value": value,
                    "discount_description": f"{name}: {value}{'%' if discount == 'percent' else ''} off",
                    "valid_type": "date" if i % 2 else "time",
                    "valid_start_date": str(date) if i % 2 else "0",
                    "valid_end_date": str(date + 90 * DAY) if i % 2 else "0",
                    "valid_timeframe": "0" if i % 2 else "30",
                    "status": "Expired" if i % 2 and date + 90 * DAY < self.now else "Valid",
                    "date": str(date),
                    "deleted": "0",
                    "recurring": "0",
                    "coupon_code": shared or None,
                }
            )
            if kind == "group":
                codes.append(
                    {
                        "coupon_id": str(i),
                        "contact_id": "0",
                        "code": shared,
                        "expiration": "0",
                        "date": str(date),
                        "date_redeemed": "0",
                        "deleted": "0",
                    }
                )
            else:
                for _ in range(issued if self.n else 0):
                    codes.append(
                        {
                            "coupon_id": str(i),
                            "contact_id": str(self.contact_id(rng)),
                            "code": self.code(rng),
                            "expiration": str(date + 60 * DAY),
                            "date": str(date),
                            "date_redeemed": str(self.when(rng, date, date + 60 * DAY))
                            if rng.random() < 0.4
                            else "0",
                            "deleted": "0",
                        }
                    )
            if i % 2 and products:
                for product_id, product_name in rng.sample(products, min(2, len(products))):
                    items.append(
                        {"coupon_id": str(i), "product_id": product_id, "product_name": product_name}
                    )
        self.insert(123, coupons)
        self.insert(124, codes)
        self.insert(125, items)

    def notes(self) -> None:
        rng = self.rng("notes")
        with self.batches(12) as rows:
            for _ in range(min(self.n // 3, 50_000)):
                contact = self.contact_id(rng)
                date = self.when(rng, self.people[contact - 1].date)
                rows.append(
                    {
                        "contact_id": str(contact),
                        "data": rng.choice(w.NOTE_TEXTS),
                        "author": str(rng.randrange(1, 6)),
                        "object_type_id": "0",
                        "date": str(date),
                        "dlm": str(self.when(rng, date) if rng.random() < 0.2 else date),
                    }
                )

    def memberships(self) -> None:
        rng = self.rng("memberships")
        plan = picker(rng, list(PLAN), (50, 35, 15))
        state = picker(rng, ("711", "712", "713", "714"), (60, 10, 20, 10))
        fees = {"701": 49.0, "702": 99.0, "703": 199.0}
        with self.batches(10000) as rows:
            for _ in range(min(self.n // 10, 20_000)):
                contact = self.contact_id(rng)
                person = self.people[contact - 1]
                date = self.when(rng, person.date)
                p = plan()
                seats = 1 if rng.random() < 0.85 else rng.randrange(2, 25)
                rows.append(
                    {
                        "f2000": f"{PLAN[p]} - {person.first} {person.last}".strip(),
                        "f2001": str(contact),
                        "f2002": p,
                        "f2003": str(midnight(date)),
                        "f2004": money(fees[p] * seats) if rng.random() < 0.95 else f"{fees[p] * seats:g}",
                        "f2005": state(),
                        "f2006": str(seats),
                        "f2007": "1" if rng.random() < 0.7 else "0",
                        "owner": str(rng.randrange(1, 6)),
                        "date": str(date),
                        "dlm": str(self.when(rng, date)),
                        "dla": "0",
                        "contact_cat": f"*/*{rng.choice(self.membership_tag_ids)}*/*"
                        if rng.random() < 0.15
                        else "",
                        "unique_id": self.code(rng),
                    }
                )


def generate(conn: sqlite3.Connection, *, seed: int, contacts: int, demo_now: int) -> None:
    """Fill an empty store (inside the caller's transaction) with the demo data."""
    demo = _Demo(conn, seed, contacts, demo_now)
    demo.catalog()
    demo.companies()
    demo.contacts()
    demo.transactions()
    demo.deals()
    demo.tasks()
    demo.notes()
    demo.memberships()
    commerce(demo)
    demo.tracking()
    demo.coupons()
