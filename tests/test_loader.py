"""Loading completely despite 429 storms, 5xx bursts, dropped connections, timeouts and concurrent edits."""

from __future__ import annotations

import httpx
import pandas as pd
import pytest

import ontraport_pandas as opd
from ontraport_pandas.ratelimit import RateLimiter
from ontraport_pandas.sandbox import create_app
from ontraport_pandas.session import RetryPolicy

from .helpers import client_over, mutating_client


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
    ids = reference.index[:5].tolist()
    op, helper = mutating_client(app, ids)
    frame = op.contacts(progress=False)
    truth = helper.contacts(progress=False)
    pd.testing.assert_frame_equal(frame, truth, check_flags=False)
    assert not set(ids) & set(frame.index)
    assert "late@example.com" in set(frame["email"])
    assert frame.attrs["ontraport"]["stats"]["reconciled"] is True


@pytest.mark.parametrize("sort", ["-id", "id"])
def test_a_reconciled_load_keeps_the_id_order_it_asked_for(reference, sort):
    app = create_app(contacts=300, rate_limit=None)
    ids = [*reference.index[:3].tolist(), *reference.index[-3:].tolist()]
    op, helper = mutating_client(app, ids)
    frame = op.contacts(sort=sort, progress=False)
    truth = helper.contacts(progress=False).sort_index(ascending=sort == "id")
    assert frame.attrs["ontraport"]["stats"]["reconciled"] is True
    pd.testing.assert_frame_equal(frame, truth, check_flags=False)
    assert frame.index.is_monotonic_decreasing if sort == "-id" else frame.index.is_monotonic_increasing


@pytest.mark.parametrize("descending", [True, False])
def test_reconciled_wire_records_keep_the_id_order_asked_for(reference, descending):
    from ontraport_pandas.loader import LoadStats, load_records

    app = create_app(contacts=300, rate_limit=None)
    ids = reference.index[:4].tolist()
    op, helper = mutating_client(app, ids)
    stats = LoadStats()
    rows = load_records(
        op.session, op.session.resolve("contacts"), sort="id", descending=descending, stats=stats
    )
    got = [int(r["id"]) for r in rows]
    truth = sorted(helper.contacts(progress=False).index.tolist(), reverse=descending)
    assert stats.reconciled is True
    assert got == truth


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


def test_cache_finds_scattered_deletions_at_both_ends_and_new_records():
    op = opd.connect("sandbox", contacts=2000, rate_limit=None)
    first = op.contacts(cache=True, progress=False)
    ids = [int(i) for i in first.index]
    gone = [ids[0], ids[-1], *ids[150:1900:200]]  # the first, the last and eight in between
    op.request("DELETE", "Contacts", params={"ids": ",".join(map(str, gone))})
    for k in range(10):
        op.request("POST", "Contacts", json={"firstname": f"New{k}", "email": f"new{k}@example.com"})
    op.sandbox.reset_log()
    refreshed = op.contacts(cache=True, progress=False)
    counts = sum("condition" in path for _, path, _ in op.sandbox.request_log)
    full = op.contacts(progress=False)
    pd.testing.assert_frame_equal(refreshed, full)
    assert not set(gone) & set(refreshed.index.tolist())
    assert (refreshed["firstname"] == "New9").sum() == 1
    assert 0 < counts < 80  # id ranges counted and listed, not every id
    op.close()


def test_cache_keeps_the_last_frame_in_memory_and_writes_the_snapshot_in_the_background(tmp_path):
    app = create_app(contacts=600, rate_limit=None)

    def client() -> opd.Ontraport:
        c = client_over(app)
        c.cache_dir, c.cache_key = str(tmp_path), "one-account"
        return c

    op = client()
    first = op.contacts(cache=True, progress=False)
    cache = op.record_cache()
    cache.flush()
    snapshots = list(tmp_path.rglob("*.frame.pickle"))
    assert len(snapshots) == 1  # on disk once the background write is done
    snapshots[0].write_bytes(b"damaged")  # this client does not read it again: its frame is in memory
    first.loc[first.index[0], "firstname"] = "Edited in place"  # the user's edit stays theirs
    rid = int(first.index[5])
    op.request("PUT", "Contacts", json={"id": rid, "lastname": "Refreshed"})
    op.sandbox.reset_log()
    again = op.contacts(cache=True, progress=False)
    refresh_requests = len(op.sandbox.request_log)
    full = op.contacts(progress=False)
    pd.testing.assert_frame_equal(again, full)
    assert again.loc[rid, "lastname"] == "Refreshed"
    assert refresh_requests <= 3  # incremental: the damaged file did not force a full load
    cache.flush()
    # A new client reads the snapshot the background thread wrote, and refreshes incrementally.
    other = client()
    other.session.meta()
    other.session.lookups("contacts")
    app.reset_log()
    pd.testing.assert_frame_equal(other.contacts(cache=True, progress=False), full)
    assert len(app.request_log) <= 3  # the snapshot was read: an incremental refresh
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


# -- retry budgets per page, partial loads ------------------------------------------------------


@pytest.fixture(scope="module")
def big_reference():
    clean = opd.connect("sandbox", contacts=5000, rate_limit=None)
    try:
        yield clean.contacts(progress=False)
    finally:
        clean.close()


def test_5000_contacts_load_completely_at_a_40_percent_fault_rate(big_reference):
    # One request at a time makes the fault sequence deterministic; this seed has runs of
    # five and more faults in a row, which a budget of five tries per request did not survive.
    faulty = opd.connect(
        "sandbox",
        contacts=5000,
        rate_limit=None,
        fault_rate=0.4,
        fault_seed=2,
        max_workers=1,
        retries=RetryPolicy(backoff=0.0),  # the default budget, without the pauses
    )
    try:
        frame = faulty.contacts(progress=False)
        statuses = [s for _, _, s in faulty.sandbox.request_log]
    finally:
        faulty.close()
    assert len(frame) == 5000
    pd.testing.assert_frame_equal(frame, big_reference)
    assert len([s for s in statuses if s != 200]) > 0.3 * len(statuses)  # the faults did happen


def test_retries_sets_the_policy():
    op = opd.connect("sandbox", contacts=120, rate_limit=None, retries=0)
    try:
        assert op.session.retry == RetryPolicy(attempts=1)
        op.contacts(progress=False)
        op.sandbox.reset_log()
        op.sandbox.inject_faults("503", 1)
        with pytest.raises(opd.ServerError):
            op.contacts(progress=False)
        assert [s for _, _, s in op.sandbox.request_log] == [503]  # no retry
    finally:
        op.close()
    op = opd.connect("sandbox", contacts=120, rate_limit=None, retries=RetryPolicy(attempts=3, backoff=0.0))
    try:
        op.sandbox.inject_faults("502", 2)
        assert len(op.contacts(progress=False)) == 120
    finally:
        op.close()
    for bad in (-1, 1.5, "3", True):
        with pytest.raises(opd.ConfigurationError, match="retries="):
            opd.connect("sandbox", contacts=10, retries=bad)


def test_a_load_that_still_fails_keeps_the_rows_it_got(reference):
    app = create_app(contacts=300, rate_limit=None)
    tries = []

    def page_100_is_down(request):
        if request.url.path == "/1/Contacts" and request.url.params.get("start") == "100":
            tries.append(1)
            return httpx.Response(503, text="Service Unavailable")
        return None

    op = client_over(app, page_100_is_down, workers=1)
    op.session.retry = RetryPolicy(backoff=0.0)
    with pytest.raises(opd.IncompleteLoadError) as info:
        op.contacts(progress=False)
    err = info.value
    assert len(tries) == 12  # the page's own budget, spent
    assert isinstance(err, opd.TransportError) and isinstance(err.__cause__, opd.ServerError)
    failed = dict(err.failures)
    assert isinstance(failed[100], opd.ServerError)
    assert err.expected == 300 and err.missing == 300 - len(err.partial) >= 50
    assert f"loaded {len(err.partial)} of 300 records; {err.missing} are missing" in str(err)
    # The rows that did arrive are kept, typed exactly as a full load types them.
    assert set(reference.index[:100]) <= set(err.partial.index)
    pd.testing.assert_frame_equal(err.partial, reference.loc[err.partial.index], check_flags=False)
    # Pages not started when page 100 was given up on are not fetched at all.
    assert len(err.partial) + 50 * (len(failed) - 1) == 250
    assert op.session.limiter.in_flight == 0


def test_a_partial_load_with_where_and_fields_types_the_partial_rows(reference):
    app = create_app(contacts=300, rate_limit=None)

    def second_page_is_down(request):
        if request.url.path == "/1/Contacts" and request.url.params.get("start") == "50":
            raise httpx.ConnectError("refused")
        return None

    op = client_over(app, second_page_is_down, workers=2)
    op.session.retry = RetryPolicy(attempts=2, backoff=0.0)
    with pytest.raises(opd.IncompleteLoadError) as info:
        op.contacts(where="f1003 > 4", fields=["email"], progress=False)
    partial = info.value.partial
    expected = reference.loc[reference["f1003"] > 4, ["email"]]
    pd.testing.assert_frame_equal(
        partial, expected.loc[expected.index.isin(partial.index)], check_flags=False
    )
    assert isinstance(info.value.__cause__, opd.ConnectionFailed)
    assert 0 < len(partial) < len(expected) and info.value.missing >= 1


def test_an_interrupted_load_stops_at_once_and_the_next_load_works(reference):
    app = create_app(contacts=300, rate_limit=None)
    state = {"pages": 0, "interrupt": True}

    def interrupt_third_page(request):
        if request.url.path == "/1/Contacts" and "start" in request.url.params:
            state["pages"] += 1
            if state["pages"] == 3 and state["interrupt"]:
                raise KeyboardInterrupt
        return None

    op = client_over(app, interrupt_third_page, workers=1)
    with pytest.raises(KeyboardInterrupt):
        op.contacts(progress=False)
    assert state["pages"] == 3  # one worker: no page after the interrupted one was fetched
    state["interrupt"] = False
    pd.testing.assert_frame_equal(op.contacts(progress=False), reference, check_flags=False)


def test_a_reconcile_that_fails_keeps_the_rows_it_got(reference):
    app = create_app(contacts=300, rate_limit=None)
    helper = client_over(app)
    ids = reference.index[:5].tolist()
    state = {"done": False}

    def delete_then_refuse_id_lists(request):
        params = request.url.params
        if request.url.path != "/1/Contacts":
            return None
        if params.get("listFields") == "id":  # the id listing of the reconcile
            return httpx.Response(502, text="Bad Gateway")
        if params.get("start") == "50" and not state["done"]:
            state["done"] = True
            helper.request("DELETE", "Contacts", params={"ids": ",".join(map(str, ids))})
        return None

    op = client_over(app, delete_then_refuse_id_lists, workers=1)
    op.session.retry = RetryPolicy(attempts=3, backoff=0.0)
    with pytest.raises(opd.IncompleteLoadError, match="reconciling by id failed") as info:
        op.contacts(progress=False)
    err = info.value
    assert isinstance(err.__cause__, opd.ServerError) and err.expected == 300
    assert 0 < len(err.partial) < 300 and err.missing == 300 - len(err.partial)
    survivors = reference.drop(index=ids)
    kept = err.partial.index.intersection(survivors.index)
    pd.testing.assert_frame_equal(err.partial.loc[kept], survivors.loc[kept], check_flags=False)


def test_a_429_that_reports_the_whole_window_costs_one_early_probe_not_a_minute(reference):
    # Fake time for both sides: the sandbox's rolling window and the client's limiter.
    now = {"t": 1_800_000_000.0}
    app = create_app(contacts=300, rate_limit=180, clock=lambda: now["t"])
    op = client_over(app, workers=1)
    waits = []

    def wait(cond, seconds):
        waits.append(seconds)
        now["t"] += seconds

    op.session.limiter = RateLimiter(clock=lambda: now["t"], wait=wait)
    op.contacts(limit=1, progress=False)  # metadata and a first page: the window holds a few requests
    app.reset_log()
    app.inject_faults("429", 1)  # a 429 saying "60 s to reset" while the window has 170 slots free
    frame = op.contacts(progress=False)
    pd.testing.assert_frame_equal(frame, reference, check_flags=False)
    statuses = [s for _, _, s in app.request_log]
    assert statuses.count(429) == 1
    assert sum(waits) == pytest.approx(1.0)  # one early probe after a second, then full speed


def test_a_page_refused_outright_is_not_reported_as_retried(reference):
    app = create_app(contacts=300, rate_limit=None)
    calls = []

    def key_revoked_mid_load(request):
        if request.url.path == "/1/Contacts" and request.url.params.get("start") == "150":
            calls.append(1)
            return httpx.Response(401, text="Your App ID and API Key do not authenticate.")
        return None

    op = client_over(app, key_revoked_mid_load, workers=1)
    with pytest.raises(opd.IncompleteLoadError) as info:
        op.contacts(progress=False)
    assert calls == [1]  # a refusal is not retried...
    assert "1 page(s) failed" in str(info.value) and "tries" not in str(info.value)  # ...nor said to be
    assert isinstance(info.value.__cause__, opd.AuthenticationError)
    assert set(reference.index[:150]) <= set(info.value.partial.index)


def test_faults_429s_and_a_tight_limit_together_leak_no_slot(reference):
    op = opd.connect(
        "sandbox",
        contacts=300,
        rate_limit=30,
        rate_window=1.0,
        fault_rate=0.3,
        fault_kinds=("500", "drop", "429"),
        fault_seed=11,
        retries=RetryPolicy(backoff=0.0),
    )
    try:
        frame = op.contacts(progress=False)
        statuses = [s for _, _, s in op.sandbox.request_log]
        assert op.session.limiter.in_flight == 0 and not op.session.limiter.held
    finally:
        op.close()
    pd.testing.assert_frame_equal(frame, reference)
    assert len([s for s in statuses if s != 200]) >= 2  # faults did land on this load
