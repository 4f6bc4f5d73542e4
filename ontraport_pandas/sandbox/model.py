"""The server-side object types of the sandbox: ids, routes, access and field definitions.

This module is the single source of what ``objects/meta`` reports and of which
columns the store creates. It follows ``ontraport-api.md`` §5 and §9; where the doc
is unsure, these choices were made:

- Field order follows the doc's field lists; the id key comes first in every record.
  Tags use ``tag_id`` and forms ``form_id`` as the id key (in lists and single reads);
  conditions and ``sort`` accept both ``id`` and that key.
- Tasks carry an ``outcome`` text field (not in the doc's field list) where
  ``task/complete`` keeps the outcome it was given.
- Transactions' ``status`` adds ``"8"`` In collections to the community client's
  mapping 0-7 (``transaction/convertToCollections``; the real code is unknown).
- Tasks, transactions and tags have no ``date``/``dlm`` (none in Ontraport's own
  fixtures); so their update replies carry no ``dlm``.
- Groups (3) store their saved criteria as condition JSON in a ``criteria`` field
  (the real field list is unknown); ``group_id=N`` applies it.
- ``bulk_mail``/``bulk_sms`` are ``drop`` fields whose options are the documented states.
- The tracking fields (``n_lead_source`` …) are ``parent`` fields pointing at the tracking
  types 75-79 (campaign, lead source, medium, content, term), read-only and reached through
  ``objects?objectID=…`` only; each has just a ``name``. Their meta names follow the official
  SDK's constants (``MarketingCampaign``, ``LeadSource``, ``Medium``, ``Content``, ``Term``);
  the real field lists are not documented.
- Required fields (400 when missing on create): Product ``name``, Tag ``tag_name``,
  Offer ``name``/``data``, Message ``type``, Rule ``events``/``actions``/``object_type_id``
  (the SDK's required parameters), Deal ``name``, Company ``name``. Contacts require nothing.
  An offer's ``data`` must be a JSON object in a string (the SDK encodes it so), else 400
  ``Invalid offer data``.
- The custom object is 10000 "Membership" (routes ``Membership``/``Memberships``), with a
  computed ``related_data`` field (``f2008``, the member's e-mail) read through SQL.
- Coupons (123) are read and deleted, their codes (124) and products (125) only read, as the
  .NET client offers them (routes ``Coupon(s)``, ``CouponCode(s)``, ``CouponProduct(s)``); the
  fields are that client's. ``type`` is ``group`` (one shared ``coupon_code``) or ``personal``
  (one code per contact); ``discount_type`` ``flat``/``percent``/``trial``; ``valid_type``
  ``date``/``time``; ``status`` ``Valid``/``NotValid``/``Expired``/``ReachedLimit``.
- Landing pages (20), purchase history logs (30) and open orders (44) are read-only;
  credit cards (45) GET/PUT; orders (52) GET/DELETE; webhooks (145) GET/DELETE (created by
  ``Webhook/subscribe``). Their field lists are not documented: the fields here are the
  ones the UI shows (card ``last4``/``type`` read-only; order ``status`` 0 cancelled,
  1 active, 2 completed, 3 paused; history ``type`` 1 purchase, 2 refund, 3 cancellation,
  4 decline, 5 rebill; card ``status`` 0 hidden, 1 active, 2 expired, 3 active default).
- Defaults of a new record: numeric-like types ``"0"``, ``list``/``subscription`` ``""``,
  text ``null`` (never set), except where a field says otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

__all__ = [
    "ACCESS_VERBS",
    "CUSTOM_OBJECT_ID",
    "Field",
    "NUMERIC_TYPES",
    "ObjectType",
    "TYPES",
    "TYPES_BY_ID",
    "access_matrix",
]

#: Types compared and sorted as numbers (the stored value is still a string).
NUMERIC_TYPES = frozenset({"numeric", "price", "timestamp", "fulldate", "check", "drop", "parent"})
#: Types searched by ``search=``.
SEARCH_TYPES = frozenset({"text", "email", "phone", "sms"})
ACCESS_VERBS = ("GET", "PUT", "POST", "DELETE")
CUSTOM_OBJECT_ID = 10000

_UNSET = object()


@dataclass(frozen=True)
class Field:
    """One field of an object type, as ``meta`` describes it."""

    name: str
    alias: str
    type: str
    required: bool = False
    unique: bool = False
    editable: bool = True
    deletable: bool = False
    options: tuple[tuple[str, str], ...] = ()
    parent_object: int | None = None
    extra_data: str | None = None
    default: str | None = None
    #: SQL expression for a computed (read-only) field; ``{t}`` is the table's name.
    computed: str | None = None

    @property
    def numeric(self) -> bool:
        return self.type in NUMERIC_TYPES

    @property
    def searchable(self) -> bool:
        return self.type in SEARCH_TYPES and self.computed is None

    def meta(self) -> dict[str, object]:
        out: dict[str, object] = {
            "alias": self.alias,
            "type": self.type,
            "required": int(self.required),
            "unique": int(self.unique),
            "editable": int(self.editable),
            "deletable": int(self.deletable),
        }
        if self.type in ("drop", "list"):
            out["options"] = dict(self.options)
        if self.parent_object is not None:
            out["parent_object"] = self.parent_object
        if self.extra_data is not None:
            out["extra_data"] = self.extra_data
        return out


def _f(
    name: str,
    alias: str,
    type_: str = "text",
    *,
    required: bool = False,
    unique: bool = False,
    editable: bool = True,
    deletable: bool = False,
    options: Mapping[str, str] | None = None,
    parent: int | None = None,
    extra: str | None = None,
    default: object = _UNSET,
    computed: str | None = None,
) -> Field:
    if default is _UNSET:
        if type_ in NUMERIC_TYPES:
            default = "0"
        elif type_ in ("list", "subscription"):
            default = ""
        else:
            default = None
    assert default is None or isinstance(default, str)
    return Field(
        name=name,
        alias=alias,
        type=type_,
        required=required,
        unique=unique,
        editable=editable and computed is None,
        deletable=deletable,
        options=tuple((options or {}).items()),
        parent_object=parent,
        extra_data=extra,
        default=default,
        computed=computed,
    )


def _ro(name: str, alias: str, type_: str = "text", **kw: object) -> Field:
    return _f(name, alias, type_, editable=False, **kw)  # type: ignore[arg-type]


@dataclass(frozen=True, eq=False)
class ObjectType:
    """One object type: its id, names, routes, access and fields."""

    id: int
    name: str  # the name in meta ("Contact", "Invoice", "SmartFormFE")
    key: str  # access key ("contacts")
    singular: str | None  # named route for one record, or None (generic routes only)
    plural: str | None
    fields: tuple[Field, ...]
    access: frozenset[str]
    id_key: str = "id"
    match_field: str | None = None  # saveorupdate's unique field besides unique_id
    info_fields: tuple[str, ...] = ()  # getInfo listFields (the UI's default columns)
    by_name: Mapping[str, Field] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {f.name: f for f in self.fields})

    @property
    def table(self) -> str:
        return f"o_{self.id}"

    def field(self, name: str) -> Field | None:
        return self.by_name.get(name)

    def has(self, name: str) -> bool:
        return name in self.by_name

    def column(self, name: str) -> str | None:
        """SQL expression of a field (table alias ``t``), or ``None`` for an unknown name."""
        if name in ("id", self.id_key):
            return "t.id"
        f = self.by_name.get(name)
        if f is None:
            return None
        if f.computed is not None:
            return f.computed.format(t="t")
        return f't."{name}"'

    def is_numeric(self, name: str) -> bool:
        if name in ("id", self.id_key):
            return True
        f = self.by_name.get(name)
        return f is not None and f.numeric

    @property
    def stored_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.computed is None)

    @property
    def taggable(self) -> bool:
        return "contact_cat" in self.by_name

    @property
    def has_unique_id(self) -> bool:
        return "unique_id" in self.by_name

    def record_keys(self) -> list[str]:
        """Keys of a full record, id key first."""
        return [self.id_key, *(f.name for f in self.fields)]


# --------------------------------------------------------------------------- fields

_BULK_MAIL = {
    "0": "Transactional Only",
    "1": "Opted-in",
    "2": "Double opt-in",
    "-2": "Hard bounce",
    "-5": "Under review",
}
_BULK_SMS = {"0": "Unconfirmed", "1": "Opted-in", "2": "Double opt-in", "-2": "Hard bounce"}


def _orm_common(tags_alias: str) -> list[Field]:
    """Fields common to contacts, deals, companies and custom objects (§9)."""
    sub = '{"subModel":%d}'
    return [
        _f("owner", "Owner", "parent", parent=2, default="1"),
        _ro("date", "Date Added", "timestamp"),
        _ro("dla", "Date of Last Activity", "timestamp"),
        _ro("dlm", "Date Modified", "timestamp"),
        _ro("system_source", "System Source", "numeric"),
        _ro("source_location", "Source Location"),
        _ro("ip_addy", "IP Address"),
        _ro("ip_addy_display", "IP Address"),
        _ro("import_id", "Import ID", "numeric"),
        _f("contact_cat", tags_alias, "subscription", extra=sub % 14),
        _f("updateSequence", "Sequences", "subscription", extra=sub % 5),
        _f("updateCampaign", "Automations", "subscription", extra=sub % 140),
        _f("bulk_mail", "Bulk Email Status", "drop", options=_BULK_MAIL),
        _f("bulk_sms", "Bulk SMS Status", "drop", options=_BULK_SMS),
        _ro("bindex", "Bindex", "numeric"),
        _f("profile_image", "Profile Image", "image"),
        _ro("unique_id", "Unique ID", "unique", unique=True),
    ]


#: Options of the contact custom fields (ids are account-wide option ids, as in Ontraport).
MEMBERSHIP_LEVEL = {"301": "Bronze", "302": "Silver", "303": "Gold", "304": "Platinum"}
INTERESTS = {
    "401": "Yoga",
    "402": "Nutrition",
    "403": "Running",
    "404": "Strength Training",
    "405": "Meditation",
    "406": "Cycling",
    "407": "Swimming",
    "408": "Pilates",
}
LEAD_SOURCE = {
    "501": "Google Ads",
    "502": "Facebook",
    "503": "Referral",
    "504": "Webinar",
    "505": "Organic Search",
    "506": "Trade Show",
    "507": "Partner",
}
SALES_STAGE = {
    "601": "Prospecting",
    "602": "Qualified",
    "603": "Proposal",
    "604": "Negotiation",
    "605": "Won",
    "606": "Lost",
}
DEAL_SIZE = {"611": "Small", "612": "Medium", "613": "Large", "614": "Enterprise"}
PLAN = {"701": "Basic", "702": "Pro", "703": "Premium"}
MEMBERSHIP_STATUS = {"711": "Active", "712": "Paused", "713": "Cancelled", "714": "Expired"}
TASK_STATUS = {"0": "Pending", "1": "Complete", "2": "Cancelled"}
TRANSACTION_STATUS = {
    "0": "Unpaid",
    "1": "Paid",
    "2": "Refunded",
    "3": "Partially refunded",
    "4": "Void",
    "5": "Declined",
    "6": "Written off",
    "7": "Pending",
    "8": "In collections",
}

_CONTACT = [
    _f("firstname", "First Name"),
    _f("lastname", "Last Name"),
    _f("email", "Email", "email"),
    _f("address", "Address"),
    _f("address2", "Address 2"),
    _f("city", "City"),
    _f("state", "State", "state"),
    _f("zip", "Zip Code"),
    _f("country", "Country", "country"),
    _f("birthday", "Birthday", "fulldate", default=None),
    _f("priority", "Priority", "drop", options={"8": "High", "9": "Medium", "10": "Low"}),
    _f("home_phone", "Home Phone", "phone"),
    _f("sms_number", "SMS Number", "sms"),
    _f("office_phone", "Office Phone", "phone"),
    _f("fax", "Fax", "phone"),
    _f("company", "Company"),
    _f("title", "Job Title"),
    _f("website", "Website", "url"),
    _f("timezone", "Timezone"),
    _ro("freferrer", "First Referrer", "parent", parent=36),
    _ro("lreferrer", "Last Referrer", "parent", parent=36),
    _f("n_lead_source", "Lead Source (first)", "parent", parent=76),
    _f("n_campaign", "Campaign (first)", "parent", parent=75),
    _f("n_content", "Content (first)", "parent", parent=78),
    _f("n_medium", "Medium (first)", "parent", parent=77),
    _f("n_term", "Term (first)", "parent", parent=79),
    _f("l_lead_source", "Lead Source (last)", "parent", parent=76),
    _f("l_campaign", "Campaign (last)", "parent", parent=75),
    _f("l_content", "Content (last)", "parent", parent=78),
    _f("l_medium", "Medium (last)", "parent", parent=77),
    _f("l_term", "Term (last)", "parent", parent=79),
    _f("referral_page", "Referring Page"),
    _ro("aff_sales", "Affiliate Sales", "numeric"),
    _ro("aff_amount", "Affiliate Amount", "price"),
    _f("program_id", "Partner Program", "numeric"),
    _f("aff_paypal", "PayPal Address", "email"),
    _ro("mrcAmount", "Most Recent Charge Amount", "price"),
    _ro("mrcUnpaid", "Unpaid Amount", "price"),
    _ro("mriInvoiceNum", "Most Recent Invoice Number", "numeric"),
    _ro("mriInvoiceTotal", "Most Recent Invoice Total", "price"),
    _ro("ccType", "Card Type", "numeric"),
    _ro("ccExpirationMonth", "Card Expiration Month", "numeric"),
    _ro("ccExpirationYear", "Card Expiration Year", "numeric"),
    _ro("ccExpirationDate", "Card Expiration Date", "fulldate"),
    _ro("ccNumber", "Card Number (last 4)"),
    _ro("mrcResult", "Most Recent Charge Result", "numeric"),
    _ro("last_inbound_sms", "Last Inbound SMS"),
    _ro("time_since_dla", "Time Since Last Activity", "numeric"),
    _f("facebook_link", "Facebook", "url"),
    _f("instagram_link", "Instagram", "url"),
    _f("linkedin_link", "LinkedIn", "url"),
    _f("twitter_link", "Twitter", "url"),
    _ro("spent", "Total Spent", "price"),
    _ro("grade", "Score", "numeric"),
    _ro("num_purchased", "Number of Purchases", "numeric"),
    *_orm_common("Contact Tags"),
    _f("f1001", "Membership Level", "drop", options=MEMBERSHIP_LEVEL, deletable=True),
    _f("f1002", "Interests", "list", options=INTERESTS, deletable=True),
    _f("f1003", "Classes Attended", "numeric", deletable=True),
    _f("f1004", "Lifetime Value", "price", deletable=True),
    _f("f1005", "Renewal Date", "fulldate", deletable=True),
    _f("f1006", "Completed Onboarding", "check", deletable=True),
    _f("f1007", "Last Webinar Attended", "timestamp", deletable=True),
    _f("f1008", "Goals", "longtext", deletable=True),
    _f("f1009", "Lead Source", "drop", options=LEAD_SOURCE, deletable=True),
]

_TASK = [
    _f("owner", "Assignee", "parent", parent=2, default="1"),
    _f("drip_id", "Sequence", "parent", parent=5),
    _f("contact_id", "Contact", "parent", parent=0),
    _f("step_num", "Step", "numeric"),
    _f("subject", "Subject"),
    _f("date_assigned", "Date Assigned", "timestamp"),
    _f("date_due", "Date Due", "timestamp"),
    _f("date_complete", "Date Completed", "timestamp", default=None),
    _f("status", "Status", "drop", options=TASK_STATUS),
    _f("type", "Type", "drop", options={"0": "Normal", "-1": "Fulfillment"}),
    _f("details", "Details", "longtext"),
    _f("hidden", "Hidden", "check"),
    _f("call_outcome_id", "Call Outcome", "numeric"),
    _f("outcome", "Outcome"),
    _f("item_id", "Task Message", "parent", parent=7),
    _f("notifications", "Notifications"),
    _f("rules", "Rules"),
    _f("object_type_id", "Object Type", "numeric"),
    _f("object_name", "Object Name"),
]

_USER = [
    _f("firstname", "First Name"),
    _f("lastname", "Last Name"),
    _f("email", "Email", "email"),
    _f("reports_to", "Reports To", "parent", parent=2),
    _f("phone", "Phone", "phone"),
    _f("language", "Language"),
    _f("timezone", "Timezone"),
    _f(
        "role", "Role", "drop", options={"1": "Admin", "2": "Sales Manager", "3": "Sales Rep", "4": "Support"}
    ),
    _ro("date", "Date Added", "timestamp"),
    _ro("dlm", "Date Modified", "timestamp"),
]

_GROUP = [
    _f("name", "Name"),
    _f("object_type_id", "Object Type", "numeric"),
    _f("criteria", "Criteria", "longtext"),
    _f("owner", "Owner", "parent", parent=2, default="1"),
    _ro("date", "Date Added", "timestamp"),
    _ro("dlm", "Date Modified", "timestamp"),
]

_SEQUENCE = [
    _f("name", "Name"),
    _f("object_type_id", "Object Type", "numeric"),
    _f("pause", "Paused", "check"),
    _ro("subscribers", "Subscribers", "numeric"),
    _f("owner", "Owner", "parent", parent=2, default="1"),
    _ro("date", "Date Added", "timestamp"),
    _ro("dlm", "Date Modified", "timestamp"),
]

_RULE = [
    _f("name", "Name"),
    _f("events", "Events", required=True),
    _f("conditions", "Conditions"),
    _f("actions", "Actions", required=True),
    _f("pause", "Paused", "check"),
    _ro("last_action", "Last Action", "timestamp"),
    _f("drip_id", "Sequence", "parent", parent=5),
    _f("object_type_id", "Object Type", "numeric", required=True),
    _ro("date", "Date Added", "timestamp"),
    _ro("dlm", "Date Modified", "timestamp"),
]

_MESSAGE = [
    _f("alias", "Name"),
    _f("type", "Type", required=True),
    _f("subject", "Subject"),
    _ro("last_save", "Last Saved", "timestamp"),
    _ro("date", "Date Added", "timestamp"),
    _ro("dlm", "Date Modified", "timestamp"),
    _ro("mcsent", "Sent", "numeric"),
    _ro("mcopened", "Opened", "numeric"),
    _ro("mcclicked", "Clicked", "numeric"),
    _ro("mcabuse", "Complaints", "numeric"),
    _ro("mcunsub", "Unsubscribed", "numeric"),
    _ro("spam_score", "Spam Score", "numeric"),
    _f("object_type_id", "Object Type", "numeric"),
    _f("owner", "Owner", "parent", parent=2, default="1"),
    _f("from", "From"),
    _f("send_from", "Send From", "email"),
    _f("send_to", "Send To"),
    _f("send_out_name", "Send Out Name"),
    _f("reply_to_email", "Reply-To", "email"),
    _f("message_body", "Body", "longtext"),
    _f("plaintext", "Plain Text", "longtext"),
    _f("transactional_email", "Transactional", "check"),
]

_NOTE = [
    _f("contact_id", "Contact", "parent", parent=0),
    _f("data", "Note", "longtext"),
    _f("author", "Author", "parent", parent=2),
    _f("object_type_id", "Object Type", "numeric"),
    _ro("date", "Date Added", "timestamp"),
    _ro("dlm", "Date Modified", "timestamp"),
]

_TAG = [
    _f("tag_name", "Tag Name", required=True),
    _f("object_type_id", "Object Type", "numeric"),
]

_PRODUCT = [
    _f("name", "Name", required=True),
    _f("price", "Price", "price"),
    _f("description", "Description", "longtext"),
    _f("sku", "SKU"),
    _f("external_id", "External ID"),
    _f("product_group", "Product Group", "numeric"),
    _f("taxable", "Taxable", "check"),
    _f("deleted", "Deleted", "check"),
    _ro("total_income", "Total Income", "price"),
    _ro("total_purchases", "Total Purchases", "numeric"),
    _f("owner", "Owner", "parent", parent=2, default="1"),
    _ro("date", "Date Added", "timestamp"),
    _ro("dlm", "Date Modified", "timestamp"),
]

_PURCHASE = [
    _f("contact_id", "Contact", "parent", parent=0),
    _f("product_id", "Product", "parent", parent=16),
    _f("name", "Name"),
    _f("description", "Description", "longtext"),
    _f("price", "Price", "price"),
    _f("quantity", "Quantity", "numeric"),
    _f("discount", "Discount", "price"),
    _f("total_price", "Total", "price"),
    _ro("date", "Date", "timestamp"),
    _ro("dlm", "Date Modified", "timestamp"),
    _f(
        "type",
        "Type",
        "drop",
        options={"0": "One-time", "1": "Subscription", "2": "Payment plan", "3": "Trial"},
    ),
    _f("status", "Status", "numeric"),
    _f("invoice_id", "Invoice", "parent", parent=46),
    _f("order_id", "Order", "numeric"),
    _f("subscription_id", "Subscription", "numeric"),
    _f("package_id", "Package", "numeric"),
    _f("affiliate_id", "Affiliate", "numeric"),
    _f("affiliate", "Affiliate Name"),
    _f("oprid", "Partner", "numeric"),
    _f("owner", "Owner", "parent", parent=2, default="1"),
    _f("coupon_id", "Coupon", "numeric"),
    _f("coupon_code_id", "Coupon Code", "numeric"),
    _f("coupon_name", "Coupon Name"),
    _f("coupon_code", "Coupon Code Text"),
    _f("level1", "Level 1 Commission", "price"),
    _f("level2", "Level 2 Commission", "price"),
]

_TRANSACTION = [
    _f("hidden", "Hidden", "check"),
    _f("status", "Status", "drop", options=TRANSACTION_STATUS),
    _f("contact_id", "Contact", "parent", parent=0),
    _f("contact_name", "Contact Name"),
    _f("order_id", "Order", "numeric"),
    _f("form_id", "Form", "parent", parent=122),
    _f("lp_id", "Landing Page", "numeric"),
    _f("cc_id", "Credit Card", "numeric"),
    _f("gateway_id", "Gateway", "numeric"),
    _ro("date", "Date", "timestamp"),
    _f("template_id", "Invoice Template", "numeric"),
    _f("subtotal", "Subtotal", "price"),
    _f("tax", "Tax", "price"),
    _f("tax_city", "City Tax", "price"),
    _f("tax_state", "State Tax", "price"),
    _f("tax_county", "County Tax", "price"),
    _f("shipping", "Shipping", "price"),
    _f("total", "Total", "price"),
    _f("zip", "Zip Code"),
    _f("city", "City"),
    _f("state", "State", "state"),
    _f("county", "County"),
    _f("external_order_id", "External Order ID"),
    _f("oprid", "Partner", "numeric"),
    _f("offer_data", "Offer Data", "longtext"),
    _f("last_recharge_date", "Last Recharge", "timestamp"),
    _f("recharge_attempts", "Recharge Attempts", "numeric"),
    _f("recharge", "Recharge", "check"),
]

_OFFER = [
    _f("name", "Name", required=True),
    _f("public", "Public", "check"),
    _f("data", "Offer Data", "longtext", required=True),
    _ro("referenced", "Referenced", "numeric"),
    _f("owner", "Owner", "parent", parent=2, default="1"),
    _ro("date", "Date Added", "timestamp"),
    _ro("dlm", "Date Modified", "timestamp"),
]

_FORM = [
    _f("formname", "Form Name"),
    _f("type", "Type", "drop", options={"10": "SmartForm", "11": "ONTRAform"}),
    _f("tags", "Tags"),
    _f("redirect", "Redirect", "url"),
    _f("owner", "Owner", "parent", parent=2, default="1"),
    _ro("fillouts", "Fillouts", "numeric"),
    _ro("visits", "Visits", "numeric"),
    _ro("unique_visits", "Unique Visits", "numeric"),
    _ro("unique_fillouts", "Unique Fillouts", "numeric"),
    _f("json_raw_object", "Form Data", "longtext"),
    _f("object_type_id", "Object Type", "numeric"),
    _ro("date", "Date Added", "timestamp"),
    _ro("dlm", "Date Modified", "timestamp"),
]

_CAMPAIGN = [
    _f("name", "Name"),
    _ro("date", "Date Added", "timestamp"),
    _ro("dlm", "Date Modified", "timestamp"),
    _f("object_type_id", "Object Type", "numeric"),
    _f("pause", "Paused", "check"),
    _ro("deleted", "Deleted"),
    _ro("state", "State"),
    _ro("subs", "Subscribers", "numeric"),
    _ro("subs_ever", "Subscribers Ever", "numeric"),
    _ro("element_num", "Elements", "numeric"),
    _ro("todos", "To-dos", "numeric"),
]

_DEAL = [
    _f("name", "Deal Name", required=True),
    _f("value", "Value", "price"),
    _f("expected_close_date", "Expected Close Date", "fulldate"),
    _f("expected_win_percent", "Expected Win %", "numeric"),
    _f("primary_contact", "Primary Contact", "parent", parent=0),
    _f("company", "Company", "parent", parent=150),
    _ro("weighted_value", "Weighted Value", "price"),
    _f("sales_stage", "Sales Stage", "drop", options=SALES_STAGE),
    _f("actual_close_date", "Actual Close Date", "fulldate"),
    _f("expected_close_timeframe", "Close Timeframe"),
    _f("deal_size", "Deal Size", "drop", options=DEAL_SIZE),
    _ro("recent_activity", "Recent Activity", "timestamp"),
    *_orm_common("Deal Tags"),
]

_COMPANY = [
    _f("name", "Company Name", required=True),
    _f("phone", "Phone", "phone"),
    _f("industry", "Industry"),
    _f("description", "Description", "longtext"),
    _f("annual_revenue", "Annual Revenue", "price"),
    _f("employee_count", "Employees", "numeric"),
    _f("facebook_page", "Facebook Page", "url"),
    _f("instagram_name", "Instagram"),
    _f("address", "Address"),
    _f("city", "City"),
    _f("state", "State", "state"),
    _f("zipcode", "Zip Code"),
    _f("country", "Country", "country"),
    *_orm_common("Company Tags"),
]

_MEMBERSHIP = [
    *_orm_common("Membership Tags"),
    _f("f2000", "Membership Name", deletable=True),
    _f("f2001", "Member", "parent", parent=0, deletable=True),
    _f("f2002", "Plan", "drop", options=PLAN, deletable=True),
    _f("f2003", "Start Date", "fulldate", deletable=True),
    _f("f2004", "Monthly Fee", "price", deletable=True),
    _f("f2005", "Membership Status", "drop", options=MEMBERSHIP_STATUS, deletable=True),
    _f("f2006", "Seats", "numeric", deletable=True),
    _f("f2007", "Auto Renew", "check", deletable=True),
    _f(
        "f2008",
        "Member Email",
        "related_data",
        deletable=True,
        extra="f2001//email",
        computed='(SELECT c."email" FROM o_0 AS c WHERE c.id = {t}."f2001")',
    ),
]

CARD_TYPE = {"1": "Visa", "2": "Mastercard", "3": "American Express", "4": "Discover"}
CARD_STATUS = {"0": "Hidden", "1": "Active", "2": "Expired", "3": "Active (default)"}
ORDER_STATUS = {"0": "Cancelled", "1": "Active", "2": "Completed", "3": "Paused"}
HISTORY_TYPE = {"1": "Purchase", "2": "Refund", "3": "Cancellation", "4": "Decline", "5": "Rebill"}
PAGE_TYPE = {"1": "Code mode", "2": "Redirect", "3": "ONTRApage"}

_LANDING_PAGE = [
    _f("name", "Name"),
    _f("uri_id", "Path"),
    _f("domain", "Domain"),
    _f("type", "Type", "drop", options=PAGE_TYPE),
    _f("ssl_enabled", "SSL", "check"),
    _f("published", "Published", "check"),
    _ro("visits", "Visits", "numeric"),
    _ro("conversions", "Conversions", "numeric"),
    _f("owner", "Owner", "parent", parent=2, default="1"),
    _ro("date", "Date Added", "timestamp"),
    _ro("dlm", "Date Modified", "timestamp"),
]

_CREDIT_CARD = [
    _f("contact_id", "Contact", "parent", parent=0),
    _f("firstname", "First Name"),
    _f("lastname", "Last Name"),
    _ro("last4", "Last 4"),
    _ro("type", "Card Type", "drop", options=CARD_TYPE),
    _f("exp_month", "Expiration Month", "numeric"),
    _f("exp_year", "Expiration Year", "numeric"),
    _f("address", "Address"),
    _f("address2", "Address 2"),
    _f("city", "City"),
    _f("state", "State", "state"),
    _f("zip", "Zip Code"),
    _f("country", "Country", "country"),
    _f("status", "Status", "drop", options=CARD_STATUS),
    _ro("invoice_id", "Last Invoice", "parent", parent=46),
    _ro("date", "Date Added", "timestamp"),
    _ro("dlm", "Date Modified", "timestamp"),
]

_WEBHOOK = [
    _f("event", "Event", required=True),
    _f("url", "URL", "url", required=True),
    _f("data", "Data", "longtext"),
    _f("owner", "Owner", "parent", parent=2, default="1"),
    _ro("last_code", "Last Response Code", "numeric"),
    _ro("last_hook", "Last Sent", "timestamp"),
    _ro("date", "Date Added", "timestamp"),
]

_COUPON = [
    _f("name", "Name", required=True),
    _f("type", "Type"),
    _ro("issued", "Issued", "numeric"),
    _ro("redeemed", "Redeemed", "numeric"),
    _ro("remaining", "Remaining", "numeric"),
    _ro("total_collected", "Total Collected", "price"),
    _ro("new_buyers", "New Buyers", "numeric"),
    _f("product_selection", "Products"),
    _f("discount_type", "Discount Type"),
    _f("discount_value", "Discount", "price"),
    _f("discount_description", "Discount Description"),
    _f("valid_type", "Valid By"),
    _f("valid_start_date", "Valid From", "timestamp"),
    _f("valid_end_date", "Valid Until", "timestamp"),
    _f("valid_timeframe", "Valid For (days)", "numeric"),
    _f("status", "Status"),
    _ro("date", "Date Added", "timestamp"),
    _f("deleted", "Deleted", "check"),
    _f("recurring", "Recurring", "check"),
    _f("coupon_code", "Coupon Code"),
]

_COUPON_CODE = [
    _f("coupon_id", "Coupon", "parent", parent=123),
    _f("contact_id", "Contact", "parent", parent=0),
    _f("code", "Code"),
    _f("expiration", "Expires", "timestamp"),
    _ro("date", "Date Added", "timestamp"),
    _f("date_redeemed", "Date Redeemed", "timestamp"),
    _f("deleted", "Deleted", "check"),
]

_COUPON_PRODUCT = [
    _f("coupon_id", "Coupon", "parent", parent=123),
    _f("product_id", "Product", "parent", parent=16),
    _f("product_name", "Product Name"),
]

#: Tracking objects behind the contacts' ``n_*``/``l_*`` fields: (id, meta name, key, alias).
_TRACKING = (
    (75, "MarketingCampaign", "campaigns", "Campaign"),
    (76, "LeadSource", "leadsources", "Lead Source"),
    (77, "Medium", "media", "Medium"),
    (78, "Content", "contents", "Content"),
    (79, "Term", "terms", "Term"),
)

_ORDER = [
    _f("contact_id", "Contact", "parent", parent=0),
    _f("offer_id", "Offer", "parent", parent=65),
    _f("product_id", "Product", "parent", parent=16),
    _f("name", "Name"),
    _f("cc_id", "Credit Card", "parent", parent=45),
    _f("gateway_id", "Gateway", "numeric"),
    _f("affiliate", "Affiliate", "numeric"),
    _f("status", "Status", "drop", options=ORDER_STATUS),
    _f("total", "Amount", "price"),
    _f("unit", "Billing Unit"),
    _f("count", "Payments Made", "numeric"),
    _f("payment_next_date", "Next Payment", "timestamp"),
    _f("transaction_id", "First Invoice", "parent", parent=46),
    _ro("date", "Date Added", "timestamp"),
    _ro("dlm", "Date Modified", "timestamp"),
]

_OPEN_ORDER = [
    _f("contact_id", "Contact", "parent", parent=0),
    _f("transaction_id", "Invoice", "parent", parent=46),
    _f("offer_id", "Offer", "parent", parent=65),
    _f("form_id", "Form", "parent", parent=122),
    _f("total", "Total", "price"),
    _f("status", "Status", "drop", options={"0": "Open", "1": "Completed", "2": "Abandoned"}),
    _ro("date", "Date Added", "timestamp"),
    _ro("dlm", "Date Modified", "timestamp"),
]

_PURCHASE_HISTORY = [
    _f("contact_id", "Contact", "parent", parent=0),
    _f("purchase_id", "Purchase", "parent", parent=17),
    _f("product_id", "Product", "parent", parent=16),
    _f("invoice_id", "Invoice", "parent", parent=46),
    _f("type", "Event", "drop", options=HISTORY_TYPE),
    _f("description", "Description"),
    _f("amount", "Amount", "price"),
    _ro("date", "Date", "timestamp"),
]

_FULL = "GET PUT POST DELETE"


def _type(
    id_: int,
    name: str,
    key: str,
    routes: tuple[str, str] | None,
    fields: Iterable[Field],
    access: str,
    **kw: object,
) -> ObjectType:
    singular, plural = routes if routes else (None, None)
    return ObjectType(
        id=id_,
        name=name,
        key=key,
        singular=singular,
        plural=plural,
        fields=tuple(fields),
        access=frozenset(access.split()),
        **kw,  # type: ignore[arg-type]
    )


TYPES: tuple[ObjectType, ...] = (
    _type(
        0,
        "Contact",
        "contacts",
        ("Contact", "Contacts"),
        _CONTACT,
        _FULL,
        match_field="email",
        info_fields=("fn", "email", "office_phone", "date", "grade", "dla", ""),
    ),
    _type(
        1, "Task", "tasks", ("Task", "Tasks"), _TASK, "GET PUT", info_fields=("subject", "date_due", "status")
    ),
    _type(2, "User", "users", None, _USER, "GET PUT", info_fields=("firstname", "lastname", "email")),
    _type(3, "Group", "groups", ("Group", "Groups"), _GROUP, "GET DELETE", info_fields=("name",)),
    _type(5, "Sequence", "sequences", None, _SEQUENCE, _FULL, info_fields=("name", "subscribers")),
    _type(6, "Rule", "rules", ("Rule", "Rules"), _RULE, _FULL, info_fields=("name", "pause", "date")),
    _type(
        7,
        "Message",
        "messages",
        ("Message", "Messages"),
        _MESSAGE,
        _FULL,
        info_fields=("alias", "type", "date"),
    ),
    _type(12, "Note", "notes", ("Note", "Notes"), _NOTE, _FULL, info_fields=("data", "date")),
    _type(14, "Tag", "tags", ("Tag", "Tags"), _TAG, _FULL, id_key="tag_id", info_fields=("tag_name",)),
    _type(16, "Product", "products", ("Product", "Products"), _PRODUCT, _FULL, info_fields=("name", "price")),
    _type(
        17, "Purchase", "purchases", ("Purchase", "Purchases"), _PURCHASE, "GET", info_fields=("name", "date")
    ),
    _type(
        46,
        "Invoice",
        "transactions",
        ("Transaction", "Transactions"),
        _TRANSACTION,
        "GET",
        info_fields=("date", "status", "contact_name", "total"),
    ),
    _type(
        20,
        "LandingPage",
        "landingpages",
        ("LandingPage", "LandingPages"),
        _LANDING_PAGE,
        "GET",
        info_fields=("name", "domain", "visits", "conversions"),
    ),
    _type(
        30,
        "PurchaseHistoryLog",
        "purchasehistorylogs",
        ("PurchaseHistoryLog", "PurchaseHistoryLogs"),
        _PURCHASE_HISTORY,
        "GET",
        info_fields=("date", "type", "description", "amount"),
    ),
    _type(
        44,
        "OpenOrder",
        "openorders",
        ("OpenOrder", "OpenOrders"),
        _OPEN_ORDER,
        "GET",
        info_fields=("date", "contact_id", "total", "status"),
    ),
    _type(
        45,
        "CreditCard",
        "creditcards",
        ("CreditCard", "CreditCards"),
        _CREDIT_CARD,
        "GET PUT",
        info_fields=("contact_id", "last4", "type", "exp_month", "exp_year", "status"),
    ),
    _type(
        52,
        "Order",
        "orders",
        ("Order", "Orders"),
        _ORDER,
        "GET DELETE",
        info_fields=("name", "contact_id", "total", "payment_next_date", "status"),
    ),
    _type(65, "Offer", "offers", ("Offer", "Offers"), _OFFER, "GET PUT POST", info_fields=("name",)),
    _type(
        122,
        "SmartFormFE",
        "forms",
        ("Form", "Forms"),
        _FORM,
        "GET",
        id_key="form_id",
        info_fields=("formname", "type", "date", "fillouts"),
    ),
    _type(
        140,
        "CampaignBuilder",
        "campaignbuilderitems",
        ("CampaignBuilderItem", "CampaignBuilderItems"),
        _CAMPAIGN,
        "GET",
        info_fields=("name", "state", "date", "dlm", "subs", "subs_ever", "element_num", "todos"),
    ),
    _type(
        123,
        "Coupon",
        "coupons",
        ("Coupon", "Coupons"),
        _COUPON,
        "GET DELETE",
        info_fields=("name", "discount_type", "discount_value", "status"),
    ),
    _type(
        124,
        "CouponCode",
        "couponcodes",
        ("CouponCode", "CouponCodes"),
        _COUPON_CODE,
        "GET",
        info_fields=("code", "coupon_id", "contact_id", "date_redeemed"),
    ),
    _type(
        125,
        "CouponProduct",
        "couponproducts",
        ("CouponProduct", "CouponProducts"),
        _COUPON_PRODUCT,
        "GET",
        info_fields=("coupon_id", "product_name"),
    ),
    *(
        _type(type_id, name, key, None, [_f("name", alias, required=True)], "GET", info_fields=("name",))
        for type_id, name, key, alias in _TRACKING
    ),
    _type(
        145,
        "Webhook",
        "webhooks",
        ("Webhook", "Webhooks"),
        _WEBHOOK,
        "GET DELETE",
        info_fields=("event", "url", "last_code"),
    ),
    _type(
        149,
        "Deal",
        "deals",
        ("Deal", "Deals"),
        _DEAL,
        _FULL,
        info_fields=("name", "value", "sales_stage", "expected_close_date"),
    ),
    _type(
        150,
        "Company",
        "companies",
        ("Company", "Companies"),
        _COMPANY,
        _FULL,
        info_fields=("name", "phone", "industry"),
    ),
    _type(
        CUSTOM_OBJECT_ID,
        "Membership",
        "memberships",
        ("Membership", "Memberships"),
        _MEMBERSHIP,
        _FULL,
        info_fields=("f2000", "f2001", "f2002", "f2005"),
    ),
)

TYPES_BY_ID: dict[int, ObjectType] = {t.id: t for t in TYPES}


def _access_key(text: str) -> str:
    return text.strip().lower().replace("_", "").replace(" ", "")


def access_matrix(overrides: Mapping[str, str]) -> dict[int, frozenset[str]]:
    """The access matrix with ``overrides`` applied.

    Keys may be the type's key (``"sequences"``), its meta name (``"Sequence"``), a route
    name (``"Contacts"``, ``"Contact"``) or its id (``"5"``); values list verbs separated by
    blanks or commas. Unknown keys or verbs raise ``ValueError``.
    """
    names: dict[str, int] = {}
    for t in TYPES:
        for alias in (t.key, t.name, t.singular, t.plural, str(t.id)):
            if alias:
                names[_access_key(alias)] = t.id
    matrix = {t.id: t.access for t in TYPES}
    for key, verbs in overrides.items():
        type_id = names.get(_access_key(str(key)))
        if type_id is None:
            raise ValueError(f"unknown object type in access override: {key!r}")
        allowed = frozenset(v.upper() for v in str(verbs).replace(",", " ").split())
        bad = allowed - set(ACCESS_VERBS)
        if bad:
            raise ValueError(f"unknown verbs in access override for {key!r}: {sorted(bad)}")
        matrix[type_id] = allowed
    return matrix
