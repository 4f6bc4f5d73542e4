"""Loading completely despite 429 storms, 5xx bursts, dropped connections, timeouts and concurrent edits."""

from __future__ import annotations

import httpx
import pandas as pd
import pytest

import ontraport_pandas as opd
from ontraport_pandas.sandbox import create_app
from ontraport_pandas.session import RetryPolicy

from .helpers import client_over


@pytest.fixture
def reference(op):
    return op.contacts(progress=False)


def test_429_storm_during_a_load_still_gives_the_full_frame(op, reference):
    op.sandbox.inject_faults("429", 6)
    frame = op.contacts(progress=False)
    pd.testing.assert_frame_equal(frame, reference)


def test_5xx_burst_and_dropped_connections(op, reference):
    # Four faults in a row: the retry budget (five tries) of the request they land on is not spent.
    op.sandbox.inject_faults("503", 2)
    op.sandbox.inject_faults("drop", 1)
    op.sandbox.inject_faults("500", 1)
    frame = op.contacts(progress=False)
    pd.testing.assert_frame_equal(frame, reference)


def test_random_faults_still_give_the_full_frame(reference):
    faulty = opd.connect("sandbox", contacts=300, rate_limit=None, fault_rate=0.15, fault_seed=3)
    faulty.session.retry = RetryPolicy(attempts=8, backoff=0.01, max_backoff=0.05)
    try:
        frame = faulty.contacts(progress=False)
    finally:
        faulty.close()
    pd.testing.assert_frame_equal(frame, reference)


def test_timeouts_are_retried(reference):
    app = create_app(contacts=300, rate_limit=None)
    calls = {"n": 0}

    def maybe_timeout(request):
        if request.url.path == "/1/Contacts":
            calls["n"] += 1
            if calls["n"] % 3 == 1:
                raise httpx.ReadTimeout("no answer", request=request)
        return None

    op = client_over(app, maybe_timeout)
    frame = op.contacts(progress=False)
    pd.testing.assert_frame_equal(frame, reference, check_flags=False)
    assert calls["n"] > len(frame) // 50


def test_records_deleted_and_added_during_the_load_are_reconciled(reference):
    app = create_app(contacts=300, rate_limit=None)
    state = {"done": False}
    helper = client_over(app)
    ids = reference.index[:5].tolist()

    def mutate_after_first_page(request):
        if (
            request.url.path == "/1/Contacts"
            and request.url.params.get("start") == "50"
            and not state["done"]
        ):
            state["done"] = True
            helper.request("DELETE", "Contacts", params={"ids": ",".join(map(str, ids))})
            helper.request("POST", "Contacts", json={"firstname": "Late", "email": "late@example.com"})
        return None

    op = client_over(app, mutate_after_first_page, workers=1)
    frame = op.contacts(progress=False)
    truth = helper.contacts(progress=False)
    pd.testing.assert_frame_equal(frame, truth, check_flags=False)
    assert not set(ids) & set(frame.index)
    assert "late@example.com" in set(frame["email"])
    assert frame.attrs["ontraport"]["stats"]["reconciled"] is True


def test_rate_limit_is_respected_and_waited_out():
    limited = opd.connect("sandbox", contacts=300, rate_limit=4, rate_window=1.0)
    try:
        frame = limited.contacts(progress=False)
        assert len(frame) == limited.count("contacts")
        statuses = [s for _, _, s in limited.sandbox.request_log]
        assert statuses.count(429) <= 2  # the limiter paces requests instead of hammering
    finally:
        limited.close()


def test_cache_returns_what_a_full_load_returns_after_creates_updates_deletes():
    op = opd.connect("sandbox", contacts=2000, rate_limit=None)
    first = op.contacts(cache=True, progress=False)
    pd.testing.assert_frame_equal(first, op.contacts(progress=False))
    ids = first.index[:3].tolist()
    op.request("DELETE", "Contacts", params={"ids": ",".join(map(str, ids))})
    op.request("PUT", "Contacts", json={"id": int(first.index[10]), "firstname": "Changed"})
    op.request("POST", "Contacts", json={"firstname": "New", "email": "new.person@example.com"})
    op.sandbox.reset_log()
    refreshed = op.contacts(cache=True, progress=False)
    incremental_requests = len(op.sandbox.request_log)
    full = op.contacts(progress=False)
    pd.testing.assert_frame_equal(refreshed, full)
    assert refreshed.loc[int(first.index[10]), "firstname"] == "Changed"
    assert incremental_requests < len(full) // 50 / 2  # a fraction of a full load's requests
    op.close()


def test_cache_with_where_and_fields(op):
    op.contacts(cache=True, progress=False)
    got = op.contacts(cache=True, where="f1003 > 4", fields=["email"], progress=False)
    want = op.contacts(where="f1003 > 4", fields=["email"], progress=False)
    pd.testing.assert_frame_equal(got, want)


def test_cache_follows_renamed_tags_and_many_changes_without_a_count():
    import json as _json

    app = create_app(contacts=400, rate_limit=None)

    def strip_count(request):
        # an API that ignores count=true: the refresh pages until a short page instead
        if request.url.path == "/1/Contacts" and request.url.params.get("count") == "true":
            from ontraport_pandas.transports.http import _SandboxWSGITransport

            response = _SandboxWSGITransport(app=app).handle_request(request)
            body = _json.loads(response.read())
            body.pop("count", None)
            return httpx.Response(200, json=body, headers=dict(response.headers))
        return None

    op = client_over(app, strip_count)
    first = op.contacts(cache=True, progress=False)
    tags = op.tags(progress=False)
    tag_id = int(tags[tags["tag_name"] == "VIP"].index[0])
    op.request("PUT", "Tags", json={"id": tag_id, "tag_name": "Very Important"})
    ids = first.index[:120].tolist()  # more than two pages of changes
    for rid in ids:
        op.request("PUT", "Contacts", json={"id": int(rid), "title": f"T{rid}"})
    op.session.forget_lookups()
    refreshed = op.contacts(cache=True, progress=False)
    full = op.contacts(progress=False)
    pd.testing.assert_frame_equal(refreshed, full, check_flags=False)
    assert any("Very Important" in t for t in refreshed["contact_cat"])
    assert (refreshed.loc[ids, "title"] == [f"T{r}" for r in ids]).all()
