"""op.fields() with the field editor's sections, and op.create_field() behind confirm=."""

from __future__ import annotations

import httpx
import pandas as pd
import pytest

import ontraport_pandas as opd
from ontraport_pandas.client import Ontraport
from ontraport_pandas.transports.http import HTTPTransport


def test_fields_show_section_alias_and_id(op):
    fields = op.fields("contacts")
    assert fields.loc["firstname", "section"] == "Contact Information"
    assert fields.loc["firstname", "label"] == "First Name"
    assert fields.loc["contact_cat", "section"] == "Sequences and Tags"
    assert fields.loc["f1001", "section"] == "Membership"
    editor = fields.drop(index="id")  # the id key is in meta, not in the field editor
    assert str(fields["field_id"].dtype) == "Int64" and editor["field_id"].notna().all()
    assert editor["field_id"].is_unique and pd.isna(fields.loc["id", "section"])
    products = op.fields("products")
    assert products.loc["name", "section"] == "Product Information"


def test_create_field_needs_confirm_and_then_works_end_to_end(op):
    op.sandbox.reset_log()
    with pytest.raises(opd.ConfirmationRequired, match="confirm=True"):
        op.create_field("contacts", "Favourite Class", "drop", options=["Yoga", "Spin"], section="Studio")
    assert [m for m, *_ in op.sandbox.request_log if m != "GET"] == []
    key = op.create_field(
        "contacts", "Favourite Class", "drop", options=["Yoga", "Spin"], section="Studio", confirm=True
    )
    fields = op.fields("contacts")
    assert fields.loc[key, "label"] == "Favourite Class" and fields.loc[key, "section"] == "Studio"
    assert fields.loc[key, "options"] == ["Yoga", "Spin"]
    contacts = op.contacts(progress=False)
    assert isinstance(contacts[key].dtype, pd.CategoricalDtype) and contacts[key].isna().all()
    edited = contacts.copy()
    first = edited.index[0]
    edited.loc[first, key] = "Spin"
    op.plan(edited).apply()
    assert op.contact(first)[key] == "Spin"
    assert op.contacts(where=f"{key} == 'Spin'", progress=False).index.tolist() == [first]


@pytest.mark.parametrize(
    "args, kwargs, column",
    [
        (("", "text"), {}, "alias"),
        (("First Name", "text"), {}, "alias"),
        (("Mood", "mood"), {}, "type"),
        (("Colour", "drop"), {}, "options"),
        (("Colour", "drop"), {"options": ["Red", "Red"]}, "options"),
        (("Colour", "text"), {"options": ["Red"]}, "options"),
        (("Colour", "text"), {"section": " "}, "section"),
    ],
)
def test_create_field_refuses_bad_input_before_sending(op, args, kwargs, column):
    op.sandbox.reset_log()
    with pytest.raises(opd.ValidationError) as err:
        op.create_field("contacts", *args, confirm=True, **kwargs)
    assert err.value.problems[0].column == column
    assert [m for m, *_ in op.sandbox.request_log if m != "GET"] == []


def test_create_field_on_a_read_only_type_is_a_permission_error(op):
    with pytest.raises(opd.PermissionDeniedError):
        op.create_field("transactions", "Note", "text", confirm=True)


def test_fields_without_a_field_editor_have_empty_sections():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/fieldeditor"):
            return httpx.Response(403, text="Forbidden")
        if request.url.path.endswith("objects/meta"):
            meta = {
                "0": {"name": "Contact", "fields": {"firstname": {"alias": "First Name", "type": "text"}}}
            }
            return httpx.Response(200, json={"code": 0, "data": meta, "account_id": 1})
        return httpx.Response(404, text="Not Found")

    transport = HTTPTransport(
        "a", "k", base_url="http://mock.invalid/1/", transport=httpx.MockTransport(handler)
    )
    op = Ontraport(transport)
    fields = op.fields("contacts")
    assert fields.loc["firstname", "label"] == "First Name"
    assert fields["section"].isna().all()
    op.close()


def test_fields_and_create_field_through_the_membrane_simulator(home):
    from .membrane_fixtures import membrane_client

    client = membrane_client(home)
    try:
        assert client.fields("contacts").loc["email", "section"] == "Contact Information"
        key = client.create_field("contacts", "Shoe Size", "numeric", confirm=True)
        assert client.fields("contacts").loc[key, "section"] == "Custom Fields"
        assert str(client.contacts(fields=[key], limit=2, progress=False)[key].dtype) == "Int64"
    finally:
        client.close()
