"""The action catalog: the same 20 actions, inputs and output shapes on the sandbox and through Membrane."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import ontraport_pandas as opd
from ontraport_pandas import actions
from ontraport_pandas.actions import ACTIONS, ActionInputError, find_actions, validate_input

from .membrane_fixtures import DEMO, membrane_client

KEYS = [
    "list-contacts",
    "list-products",
    "list-campaigns",
    "list-tags",
    "list-tasks",
    "get-contact",
    "get-contact-by-email",
    "get-product",
    "get-campaign",
    "get-task",
    "create-contact",
    "create-or-update-contact",
    "create-product",
    "create-tag",
    "create-note",
    "update-contact",
    "update-product",
    "delete-contact",
    "delete-product",
    "add-tags-to-contact",
]


def list_of(op: Any, intent: str | None = None) -> pd.DataFrame:
    method = getattr(op, "actions", None)
    return method(intent) if callable(method) else actions.list_actions(op, intent)


def run(op: Any, key: str, input: dict[str, Any] | None = None, **kw: Any) -> Any:
    method = getattr(op, "run", None)
    return method(key, input, **kw) if callable(method) else actions.run_action(op, key, input, **kw)


def count(op: Any) -> int:
    return int(op.request("GET", "Contacts/getInfo")["data"]["count"])


@pytest.fixture
def both(home: Path) -> Iterator[dict[str, Any]]:
    """The sandbox backend and the Membrane backend over the same SQLite file."""
    sandbox = opd.connect("sandbox", path=str(home / "sandbox.sqlite"), rate_limit=None)
    membrane = membrane_client(home, DEMO)
    yield {"sandbox": sandbox, "membrane": membrane}
    sandbox.close()
    membrane.close()


# ------------------------------------------------------------------------------- the catalog (no I/O)


def test_catalog_has_the_twenty_popular_actions():
    assert list(ACTIONS) == KEYS
    for spec in ACTIONS.values():
        assert spec.input_schema["type"] == "object" and spec.output_schema["type"] == "object"
        item = spec.item()
        assert set(item) >= {"id", "key", "name", "description", "inputSchema", "outputSchema"}


def test_catalog_import_is_pandas_free():
    code = "import sys, ontraport_pandas.actions; print('pandas' in sys.modules, 'httpx' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_intent_search():
    assert [s.key for s in find_actions("list contacts")] == ["list-contacts"]
    assert "get-contact-by-email" in [s.key for s in find_actions("contact by email")]
    assert {s.key for s in find_actions("tags")} >= {"list-tags", "create-tag", "add-tags-to-contact"}
    assert len(find_actions(None)) == 20


def test_input_validation():
    assert validate_input("get-contact", {"id": 3}) == {"id": 3}
    with pytest.raises(ActionInputError, match="missing required input 'id'"):
        validate_input("get-contact", {})
    with pytest.raises(ActionInputError, match="unknown input 'bogus'"):
        validate_input("list-contacts", {"bogus": 1})
    with pytest.raises(ActionInputError, match="must be <= 1000"):
        validate_input("list-contacts", {"limit": 5000})
    with pytest.raises(opd.NotFoundError, match="Valid keys: list-contacts"):
        validate_input("no-such-action", {})


# ------------------------------------------------------------------------------- both backends


def test_actions_list_the_twenty_keys_on_both_backends(both):
    for op in both.values():
        frame = list_of(op)
        assert list(frame.columns) == ["key", "id", "name", "description", "input_schema", "output_schema"]
        assert list(frame["key"]) == KEYS
        assert list(list_of(op, "list contacts")["key"]) == ["list-contacts"]
    sandbox, membrane = list_of(both["sandbox"]), list_of(both["membrane"])
    # On Membrane the id is what `membrane action run` is given; on REST backends it is the key.
    assert list(sandbox["id"]) == KEYS
    assert list(membrane["id"]) == ["act_" + k.replace("-", "_") for k in KEYS]
    pd.testing.assert_frame_equal(sandbox.drop(columns="id"), membrane.drop(columns="id"))


def test_list_contacts_same_frame_and_cursor(both):
    frames = {}
    for name, op in both.items():
        first = run(op, "list-contacts", {"limit": 60, "fields": ["firstname", "email"]})
        assert isinstance(first, pd.DataFrame) and len(first) == 60
        assert first.attrs["ontraport"]["cursor"] == "60"
        rest = run(op, "list-contacts", {"limit": 100, "cursor": first.attrs["ontraport"]["cursor"]})
        assert len(rest) == 60 and rest.attrs["ontraport"]["cursor"] is None
        assert not set(first.index) & set(rest.index)
        frames[name] = first
    first_s, first_m = (f.copy() for f in frames.values())
    first_s.attrs, first_m.attrs = {}, {}
    pd.testing.assert_frame_equal(first_s, first_m)
    raw = {
        name: run(op, "list-contacts", {"limit": 2, "filter": {"bulk_mail": 1}}, raw=True)
        for name, op in both.items()
    }
    assert raw["sandbox"] == raw["membrane"] and set(raw["sandbox"]) == {"records", "cursor"}


def test_get_contact_by_email_same_record(both):
    email = run(both["sandbox"], "list-contacts", {"limit": 1, "fields": ["email"]}, raw=True)["records"][0][
        "email"
    ]
    got = {name: run(op, "get-contact-by-email", {"email": email}) for name, op in both.items()}
    # typed records (a Series of typed values) on both backends, equal value for value
    assert isinstance(got["sandbox"], pd.Series) and got["sandbox"]["email"] == email
    pd.testing.assert_series_equal(got["sandbox"], got["membrane"])
    assert got["sandbox"].attrs["dtypes"] == got["membrane"].attrs["dtypes"]
    for op in both.values():
        with pytest.raises(opd.NotFoundError):
            run(op, "get-contact-by-email", {"email": "nobody@nowhere.invalid"})


def test_create_or_update_contact_matches_on_email(both):
    count0 = count(both["sandbox"])
    for name, op in both.items():
        email = f"upsert-{name}@example.com"
        first = run(op, "create-or-update-contact", {"email": email, "firstname": "Ann"})
        assert set(first) == {"id", "created"} and first["created"] is True
        second = run(op, "create-or-update-contact", {"email": email, "firstname": "Anne"})
        assert second == {"id": first["id"], "created": False}
        record = run(op, "get-contact", {"id": first["id"]})
        assert record["firstname"] == "Anne"
    assert count(both["sandbox"]) == count0 + 2


def test_add_tags_to_contact(both):
    for name, op in both.items():
        out = run(op, "add-tags-to-contact", {"contactId": 3, "tagNames": [f"Tag-{name}", "Shared"]})
        assert out == {"contactIds": ["3"], "tagNames": [f"Tag-{name}", "Shared"]}
    tags = run(both["sandbox"], "list-tags", {"limit": 1000}, raw=True)["records"]
    by_name = {t["tag_name"]: str(t.get("tag_id", t.get("id"))) for t in tags}
    assert {"Tag-sandbox", "Tag-membrane", "Shared"} <= set(by_name)
    contact_cat = run(both["membrane"], "get-contact", {"id": 3}, raw=True)["contact_cat"]
    for tag in ("Tag-sandbox", "Tag-membrane", "Shared"):
        assert f"*/*{by_name[tag]}*/*" in contact_cat
    typed = run(both["membrane"], "get-contact", {"id": 3})["contact_cat"]
    assert {"Tag-sandbox", "Tag-membrane", "Shared"} <= set(typed)


def test_errors_have_the_same_classes(both):
    for name, op in both.items():
        with pytest.raises(opd.NotFoundError) as info:
            run(op, "no-such-action", {})
        assert ("Valid keys" if name == "sandbox" else "membrane action list") in str(info.value)
        with pytest.raises(opd.BadRequestError, match="missing required input 'id'"):
            run(op, "get-contact", {})
        with pytest.raises(opd.NotFoundError):
            run(op, "get-contact", {"id": 999999})


def test_every_action_runs_on_both_backends(both):
    outputs: dict[str, dict[str, Any]] = {}
    for name, op in both.items():
        out: dict[str, Any] = {}
        for key in ("list-products", "list-campaigns", "list-tags", "list-tasks"):
            out[key] = run(op, key, {"limit": 3}, raw=True)
            assert set(out[key]) <= {"records", "cursor"}
        assert isinstance(run(op, "list-tasks", {"limit": 3}), pd.DataFrame)
        for key, listing in (
            ("get-product", "list-products"),
            ("get-campaign", "list-campaigns"),
            ("get-task", "list-tasks"),
        ):
            records = out[listing]["records"]
            if records:
                out[key] = run(op, key, {"id": records[0]["id"]})
                assert str(out[key].name) == str(records[0]["id"])  # a typed record: the id is its name
        contact = run(op, "create-contact", {"email": f"new-{name}@example.com", "firstname": "New"})
        assert set(contact) == {"id"}
        assert run(op, "update-contact", {"id": contact["id"], "fields": {"lastname": "Person"}}) == {
            "id": contact["id"],
            "updated": ["lastname"],
        }
        note = run(op, "create-note", {"contactId": contact["id"], "text": f"Called via {name}"})
        assert set(note) == {"id"}
        tag = run(op, "create-tag", {"name": f"Created-{name}"})
        assert set(tag) == {"id"}
        product = run(op, "create-product", {"name": f"Widget {name}", "price": 12.5})
        assert run(op, "update-product", {"id": product["id"], "fields": {"price": "15"}})["updated"] == [
            "price"
        ]
        assert run(op, "get-product", {"id": product["id"]})["name"] == f"Widget {name}"
        assert run(op, "delete-product", {"id": product["id"]}) == {"id": product["id"], "deleted": True}
        with pytest.raises(opd.NotFoundError):
            run(op, "get-product", {"id": product["id"]})
        assert run(op, "delete-contact", {"id": contact["id"]}) == {"id": contact["id"], "deleted": True}
        outputs[name] = out
    records = {
        name: {k: out.pop(k) for k in list(out) if isinstance(out[k], pd.Series)}
        for name, out in outputs.items()
    }
    assert outputs["sandbox"] == outputs["membrane"]
    assert records["sandbox"].keys() == records["membrane"].keys()
    for key, record in records["sandbox"].items():
        pd.testing.assert_series_equal(record, records["membrane"][key])
