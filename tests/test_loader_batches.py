"""Loads type their pages in batches as they arrive: the frame equals one typed at once, raw rows are let go."""

from __future__ import annotations

import json

import httpx
import pandas as pd
import pytest

import ontraport_pandas as opd
from ontraport_pandas import loader
from ontraport_pandas.sandbox import create_app
from ontraport_pandas.schema import SchemaError, frame_from_records
from ontraport_pandas.session import RetryPolicy

from .helpers import client_over, mutating_client


class _Recording(loader.TypedPages):
    """TypedPages that remembers how many rows it ever held untyped and how many batches it typed."""

    instances: list[_Recording] = []

    def __init__(self, builder):
        super().__init__(builder)
        self.most_held = 0
        self.batches = 0
        _Recording.instances.append(self)

    def add(self, rows):
        super().add(rows)
        self.most_held = max(self.most_held, len(self._buffer))

    def flush(self):
        if self._buffer:
            self.batches += 1
        super().flush()


@pytest.fixture
def small_batches(monkeypatch):
    _Recording.instances = []
    monkeypatch.setattr(_Recording, "min_batch", 1)
    monkeypatch.setattr(_Recording, "max_batch", 60)
    monkeypatch.setattr(loader, "TypedPages", _Recording)
    return _Recording.instances


@pytest.fixture(scope="module")
def app():
    return create_app(contacts=300, rate_limit=None)


@pytest.fixture(scope="module")
def at_once(app):
    """Every raw record of the type, typed in one pass (the reference)."""
    op = client_over(app)
    records = []
    for start in range(0, 300, 50):
        records += op.session.data(
            "GET", "Contacts", params={"start": start, "range": 50, "sort": "id", "sortDir": "asc"}
        )
    schema = op.session.schema(op.session.resolve("contacts"))
    return frame_from_records(records, schema, lookups=op.session.lookups("contacts"))


@pytest.mark.parametrize("workers", [1, 4])
def test_a_load_typed_in_small_batches_equals_typing_at_once(app, at_once, small_batches, workers):
    op = client_over(app, workers=workers)
    frame = op.contacts(progress=False)
    pd.testing.assert_frame_equal(frame, at_once, check_flags=False, check_exact=True)
    sink = small_batches[-1]
    assert sink.batches >= 3  # typed as the pages came (never more than 60 rows held), not at the end
    assert sink.most_held < 60


def test_where_fields_sort_and_limit_on_batches(app, at_once, small_batches):
    op = client_over(app, workers=2)
    frame = op.contacts(where="f1003 > 4", fields=["email", "date"], sort="-date", limit=40, progress=False)
    expected = at_once.loc[at_once["f1003"] > 4, ["email", "date"]]
    expected = expected.sort_index().sort_values("date", ascending=False, kind="stable", na_position="last")
    pd.testing.assert_frame_equal(frame, expected.iloc[:40], check_flags=False)
    assert small_batches[-1].batches >= 2


def test_reconcile_drops_deleted_and_adds_created_rows_of_a_batched_load(small_batches):
    app = create_app(contacts=300, rate_limit=None)
    reference = client_over(app).contacts(progress=False)
    ids = [*reference.index[:3].tolist(), *reference.index[120:122].tolist()]  # in typed and untyped batches
    op, helper = mutating_client(app, ids, at=150)
    frame = op.contacts(progress=False)
    pd.testing.assert_frame_equal(frame, helper.contacts(progress=False), check_flags=False)
    assert not set(ids) & set(frame.index) and "late@example.com" in set(frame["email"])
    assert frame.attrs["ontraport"]["stats"]["reconciled"] is True
    assert frame.attrs["ontraport"]["stats"]["rows"] == len(frame) == 300 - 5 + 1


def test_a_failed_load_gives_typed_rows_and_their_wire_form(app, at_once, small_batches):
    def page_200_is_down(request):
        if request.url.path == "/1/Contacts" and request.url.params.get("start") == "200":
            return httpx.Response(503, text="Service Unavailable")
        return None

    op = client_over(app, page_200_is_down, workers=1)
    op.session.retry = RetryPolicy(attempts=2, backoff=0.0)
    with pytest.raises(opd.IncompleteLoadError) as info:
        op.contacts(progress=False)
    err = info.value
    assert not set(range(201, 251)) & set(err.partial.index) and err.missing == 300 - len(err.partial)
    assert set(range(1, 201)) <= set(err.partial.index)
    pd.testing.assert_frame_equal(err.partial, at_once.loc[err.partial.index], check_flags=False)
    # the raw records were let go while typing: err.records is the partial frame in wire form
    assert [int(r["id"]) for r in err.records] == err.partial.index.tolist()
    schema = op.session.schema(op.session.resolve("contacts"))
    again = frame_from_records(err.records, schema, lookups=op.session.lookups("contacts"))
    pd.testing.assert_frame_equal(again, err.partial, check_flags=False)


def test_a_bad_wire_value_in_a_late_page_names_row_column_and_value(app, small_batches):
    inner = client_over(app)

    def corrupt_page_250(request):
        if request.url.path == "/1/Contacts" and request.url.params.get("start") == "250":
            params = dict(request.url.params)
            rows = inner.session.data("GET", "Contacts", params=params)
            rows[3]["f1003"] = "lots"
            body = json.dumps({"code": 0, "data": rows, "account_id": 1})
            return httpx.Response(200, text=body, headers={"Content-Type": "application/json"})
        return None

    op = client_over(app, corrupt_page_250, workers=2)
    with pytest.raises(SchemaError, match=r"row 254.*'f1003'.*'lots'"):
        op.contacts(progress=False)
