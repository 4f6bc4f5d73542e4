"""The object catalog: every Ontraport object type the toolkit knows by name.

An :class:`ObjectType` says how to reach a type (named routes such as ``Contacts``
or the generic ``objects?objectID=N`` family), which verbs the API allows on it,
which field holds the record id, and which field is the natural key. Names resolve
once, here: ``"contacts"``, ``"contact"``, ``"Contacts"``, ``0`` and ``"0"`` all
give the same type, and the rest of the code never compares raw strings.

Custom objects (type ids >= 10000) are not known in advance: a :class:`Catalog` is
extended with them from the account's ``objects/meta`` reply.

The verbs follow ontraport-api.md §5 (the W6W reading of the doc's access table):
Tasks cannot be created or deleted; Purchases, Transactions, Forms and Campaign
Builder items, landing pages, open orders and purchase history logs are read-only;
Groups, Orders and Webhooks can only be read and deleted (webhooks are created through
``Webhook/subscribe``); credit cards can be read and updated.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from .errors import UnknownObjectTypeError

__all__ = ["BUILTIN_TYPES", "Catalog", "ObjectType", "resolve"]

ALL_VERBS = frozenset({"GET", "PUT", "POST", "DELETE"})


@dataclass(frozen=True)
class ObjectType:
    """One Ontraport object type.

    Attributes
    ----------
    id : int
        The ``objectID`` (0 for contacts, >= 10000 for custom objects).
    name : str
        The user-facing plural name in snake case (``"contacts"``).
    label : str
        The singular name the API uses in ``meta`` (``"Contact"``).
    singular, plural : str or None
        The named routes (``"Contact"`` / ``"Contacts"``), or None when the type is
        reached only through the generic ``object`` / ``objects`` routes.
    verbs : frozenset of str
        The HTTP verbs the API allows on the type.
    id_field : str
        The field that holds the record id in list rows (``form_id`` for forms).
    natural_key : str or None
        The field ``saveorupdate`` matches on (``email`` for contacts).
    aliases : tuple of str
        Other names that resolve to this type.
    """

    id: int
    name: str
    label: str
    singular: str | None = None
    plural: str | None = None
    verbs: frozenset[str] = ALL_VERBS
    id_field: str = "id"
    natural_key: str | None = None
    aliases: tuple[str, ...] = ()
    custom: bool = False

    @property
    def readable(self) -> bool:
        return "GET" in self.verbs

    @property
    def can_create(self) -> bool:
        return "POST" in self.verbs

    @property
    def can_update(self) -> bool:
        return "PUT" in self.verbs

    @property
    def can_delete(self) -> bool:
        return "DELETE" in self.verbs

    @property
    def read_only(self) -> bool:
        return not (self.can_create or self.can_update or self.can_delete)

    def route(self, *, many: bool = True) -> tuple[str, dict[str, str]]:
        """The path and the extra query parameters that reach this type.

        Parameters
        ----------
        many : bool
            The collection route (``Contacts``) when True, the single-record route
            (``Contact``) when False.
        """
        named = self.plural if many else self.singular
        if named:
            return named, {}
        return ("objects" if many else "object"), {"objectID": str(self.id)}

    def sub_route(self, action: str) -> tuple[str, dict[str, str]]:
        """The path of ``meta``, ``getInfo`` or ``saveorupdate`` for this type."""
        if self.plural:
            return f"{self.plural}/{action}", {}
        return f"objects/{action}", {"objectID": str(self.id)}

    def __str__(self) -> str:
        return self.name


def _t(
    id: int,
    name: str,
    label: str,
    singular: str | None = None,
    plural: str | None = None,
    verbs: str = "GET PUT POST DELETE",
    **kw: object,
) -> ObjectType:
    return ObjectType(id, name, label, singular, plural, frozenset(verbs.split()), **kw)  # type: ignore[arg-type]


BUILTIN_TYPES: tuple[ObjectType, ...] = (
    _t(0, "contacts", "Contact", "Contact", "Contacts", natural_key="email"),
    _t(1, "tasks", "Task", "Task", "Tasks", "GET PUT"),
    _t(2, "users", "User", verbs="GET PUT", aliases=("staff",)),
    _t(3, "groups", "Group", "Group", "Groups", "GET DELETE"),
    _t(5, "sequences", "Sequence"),
    _t(6, "rules", "Rule", "Rule", "Rules"),
    _t(7, "messages", "Message", "Message", "Messages"),
    _t(12, "notes", "Note", "Note", "Notes"),
    _t(14, "tags", "Tag", "Tag", "Tags", id_field="tag_id"),
    _t(16, "products", "Product", "Product", "Products"),
    _t(17, "purchases", "Purchase", "Purchase", "Purchases", "GET"),
    _t(46, "transactions", "Transaction", "Transaction", "Transactions", "GET", aliases=("invoices",)),
    _t(20, "landing_pages", "LandingPage", "LandingPage", "LandingPages", "GET"),
    _t(30, "purchase_history_logs", "PurchaseHistoryLog", "PurchaseHistoryLog", "PurchaseHistoryLogs", "GET"),
    _t(44, "open_orders", "OpenOrder", "OpenOrder", "OpenOrders", "GET"),
    _t(45, "credit_cards", "CreditCard", "CreditCard", "CreditCards", "GET PUT"),
    _t(52, "orders", "Order", "Order", "Orders", "GET DELETE", aliases=("subscriptions",)),
    _t(65, "offers", "Offer", "Offer", "Offers", "GET PUT POST"),
    _t(122, "forms", "Form", "Form", "Forms", "GET", id_field="form_id", aliases=("smartformfe",)),
    _t(
        140,
        "automations",
        "CampaignBuilderItem",
        "CampaignBuilderItem",
        "CampaignBuilderItems",
        "GET",
        aliases=("campaigns", "campaign_builder_items"),
    ),
    _t(145, "webhooks", "Webhook", "Webhook", "Webhooks", "GET DELETE"),
    _t(149, "deals", "Deal", "Deal", "Deals"),
    _t(150, "companies", "Company", "Company", "Companies"),
)


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _keys(t: ObjectType) -> Iterator[str]:
    yield str(t.id)
    for n in (t.name, t.label, t.singular, t.plural, *t.aliases):
        if n:
            k = _norm(n)
            yield k
            if k.endswith("ies"):
                yield k[:-3] + "y"
            elif k.endswith("s"):
                yield k[:-1]


@dataclass(frozen=True)
class Catalog:
    """The object types one account has: the built-in ones plus its custom objects."""

    types: tuple[ObjectType, ...] = BUILTIN_TYPES
    _index: Mapping[str, ObjectType] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[str, ObjectType] = {}
        for t in self.types:
            for k in _keys(t):
                index.setdefault(k, t)
        object.__setattr__(self, "_index", index)

    def resolve(self, obj: ObjectType | str | int) -> ObjectType:
        """Resolve a name, label, route or id to its :class:`ObjectType`.

        Raises
        ------
        UnknownObjectTypeError
            If nothing matches; the message lists the valid names.
        """
        if isinstance(obj, ObjectType):
            return obj
        if isinstance(obj, bool) or not isinstance(obj, (str, int)):
            raise TypeError(f"object type must be a name or an id, not {type(obj).__name__}")
        key = str(obj) if isinstance(obj, int) else _norm(obj)
        found = self._index.get(key)
        if found is None:
            names = ", ".join(sorted(t.name for t in self.types))
            raise UnknownObjectTypeError(
                f"Unknown Ontraport object type {obj!r}. Valid names: {names} (or their numeric ids)."
            )
        return found

    def with_custom(self, meta: Mapping[str, Mapping[str, object]]) -> Catalog:
        """A catalog extended with the custom objects (ids >= 10000) found in an ``objects/meta`` reply."""
        known = {t.id for t in self.types}
        extra: list[ObjectType] = []
        for key, entry in meta.items():
            try:
                type_id = int(key)
            except (TypeError, ValueError):
                continue
            if type_id < 10000 or type_id in known:
                continue
            label = str(entry.get("name") or f"Object{type_id}")
            plural = entry.get("plural") if isinstance(entry.get("plural"), str) else None
            name = re.sub(r"[^a-z0-9]+", "_", str(plural or label).lower()).strip("_")
            if not plural and not name.endswith("s"):
                name += "s"
            extra.append(
                ObjectType(type_id, name, label, plural=None, singular=None, custom=True, natural_key=None)
            )
        return Catalog(self.types + tuple(extra)) if extra else self

    def __iter__(self) -> Iterator[ObjectType]:
        return iter(self.types)

    def __len__(self) -> int:
        return len(self.types)

    def names(self) -> list[str]:
        return [t.name for t in self.types]


DEFAULT_CATALOG = Catalog()


def resolve(obj: ObjectType | str | int, catalog: Iterable[ObjectType] | None = None) -> ObjectType:
    """Resolve an object type against the built-in catalog (or ``catalog``)."""
    cat = (
        catalog
        if isinstance(catalog, Catalog)
        else DEFAULT_CATALOG
        if catalog is None
        else Catalog(tuple(catalog))
    )
    return cat.resolve(obj)
