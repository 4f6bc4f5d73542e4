import pytest

import ontraport_pandas as opd
from ontraport_pandas.objects import BUILTIN_TYPES, Catalog, resolve


@pytest.mark.parametrize("name", ["contacts", "Contacts", "contact", "Contact", 0, "0", "CONTACTS"])
def test_contact_names_resolve_to_one_type(name):
    assert resolve(name).id == 0


@pytest.mark.parametrize(
    ("name", "type_id"),
    [
        ("tasks", 1),
        ("deals", 149),
        ("companies", 150),
        ("company", 150),
        ("sequences", 5),
        ("rules", 6),
        ("forms", 122),
        ("messages", 7),
        ("notes", 12),
        ("products", 16),
        ("purchases", 17),
        ("transactions", 46),
        ("offers", 65),
        ("tags", 14),
        ("groups", 3),
        ("automations", 140),
        ("campaigns", 140),
        ("CampaignBuilderItems", 140),
    ],
)
def test_every_catalog_type_resolves(name, type_id):
    assert resolve(name).id == type_id


def test_unknown_name_lists_valid_ones():
    with pytest.raises(opd.UnknownObjectTypeError) as info:
        resolve("contactz")
    message = str(info.value)
    assert "contactz" in message
    for t in BUILTIN_TYPES:
        assert t.name in message
    assert isinstance(info.value, KeyError)


def test_access_matrix():
    assert resolve("tasks").verbs == {"GET", "PUT"}
    for name in ("transactions", "purchases", "automations", "forms"):
        assert resolve(name).read_only
    assert resolve("contacts").can_create and resolve("contacts").can_delete
    assert not resolve("groups").can_create and resolve("groups").can_delete


def test_id_field_and_natural_key():
    assert resolve("forms").id_field == "form_id"
    assert resolve("contacts").natural_key == "email"
    assert resolve("deals").id_field == "id"


def test_routes_named_and_generic():
    assert resolve("contacts").route() == ("Contacts", {})
    assert resolve("contacts").route(many=False) == ("Contact", {})
    assert resolve("sequences").route() == ("objects", {"objectID": "5"})
    assert resolve("sequences").sub_route("getInfo") == ("objects/getInfo", {"objectID": "5"})
    assert resolve("contacts").sub_route("meta") == ("Contacts/meta", {})


def test_custom_objects_join_from_meta():
    catalog = Catalog().with_custom({"0": {"name": "Contact"}, "10005": {"name": "Dispense", "fields": {}}})
    custom = catalog.resolve("dispenses")
    assert custom.id == 10005 and custom.custom
    assert catalog.resolve(10005) is custom
    assert custom.route() == ("objects", {"objectID": "10005"})


def test_resolve_rejects_other_types():
    with pytest.raises(TypeError):
        resolve(1.5)  # type: ignore[arg-type]
