"""Retries never duplicate or lose work: lost answers, unknown creates, tags of new rows, own writes.

Every test reads the records back from the sandbox after the retries.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import random

import httpx
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import ontraport_pandas as opd
from ontraport_pandas.sandbox import create_app
from ontraport_pandas.transports.http import _SandboxWSGITransport

from .helpers import client_over
from .test_writer_resume import CLEAR, edits


def _with_new_rows(c: pd.DataFrame, rows: dict[str, list]) -> pd.DataFrame:
    n = len(next(iter(rows.values())))
    new = pd.DataFrame(rows, index=pd.Index([pd.NA] * n, dtype="Int64", name="id"))
    for col in new.columns:
        if col != "contact_cat":
            new[col] = new[col].astype(c[col].dtype)
    edited = pd.concat([c, new])
    edited.attrs = c.attrs
    return edited


def _named(op, lastname: str) -> pd.DataFrame:
    c = op.contacts(progress=False)
    return c[c["lastname"] == lastname]


@pytest.fixture
def app():
    sandbox = create_app(contacts=60, rate_limit=None, fault_sleep=0.5)
    yield sandbox
    sandbox.close()


def test_identical_new_rows_whose_second_answer_is_lost_make_two_records(app):
    op = client_over(app, workers=1)
    c = op.contacts(progress=False)
    before = op.count("contacts")
    edited = _with_new_rows(c, {"firstname": ["Twin", "Twin"], "lastname": ["Lost", "Lost"]})
    app.inject_faults(
        "lost", method="POST", path="Contacts", skip=1
    )  # the 2nd create commits, its answer is lost
    result = op.plan(edited).apply()
    creates = result.frame[result.frame["kind"] == "create"]
    assert creates["status"].tolist() == ["ok", "ok"]
    assert creates["record_id"].nunique() == 2
    result.failed().apply().raise_for_errors()
    assert op.count("contacts") == before + 2
    twins = _named(op, "Lost")
    assert len(twins) == 2 and sorted(twins.index) == sorted(creates["record_id"].tolist())


def test_a_create_the_server_commits_late_is_found_after_the_delay(app):
    op = client_over(app, workers=1)
    op.session.retry = dataclasses.replace(
        op.session.retry, verify_delay=1.5
    )  # longer than the server's 0.5 s
    c = op.contacts(progress=False)
    before = op.count("contacts")
    edited = _with_new_rows(c, {"firstname": ["Slow"], "lastname": ["Commit"]})
    app.inject_faults("late", method="POST", path="Contacts")
    result = op.plan(edited).apply()
    result.raise_for_errors()
    assert result.failed().empty
    assert op.count("contacts") == before + 1
    assert _named(op, "Commit").index.tolist() == result.frame["record_id"].tolist()


def test_an_unknown_create_is_looked_up_again_and_never_resent_silently(app):
    op = client_over(app, workers=1)
    op.session.retry = dataclasses.replace(
        op.session.retry, verify_delay=0.1
    )  # shorter than the server's 0.5 s: the first look finds nothing
    c = op.contacts(progress=False)
    before = op.count("contacts")
    edited = _with_new_rows(c, {"firstname": ["Maybe"], "lastname": ["Unknown"]})
    app.inject_faults("late", method="POST", path="Contacts")
    result = op.plan(edited).apply()
    row = result.frame.iloc[0]
    assert row["status"] == "unknown" and not result.ok
    assert "retry_unknown=True" in row["error"]
    app.wait_late()  # the server finishes the create after all
    assert op.count("contacts") == before + 1
    retry = result.failed()
    assert [o.kind for o in retry.ops] == ["create"]
    again = retry.apply()  # looks first, finds it, sends nothing
    again.raise_for_errors()
    assert op.count("contacts") == before + 1
    assert again.frame["record_id"].tolist() == _named(op, "Unknown").index.tolist()


def test_an_unknown_create_that_was_not_applied_needs_retry_unknown(app):
    op = client_over(app, workers=1)
    c = op.contacts(progress=False)
    before = op.count("contacts")
    edited = _with_new_rows(c, {"firstname": ["Never"], "lastname": ["Arrived"]})
    app.inject_faults("drop", method="POST", path="Contacts")  # dropped before the server saw it
    result = op.plan(edited).apply()
    assert result.frame["status"].tolist() == ["unknown"]
    still = result.failed().apply()
    assert still.frame["status"].tolist() == ["unknown"]
    assert op.count("contacts") == before  # nothing was re-sent without the user's decision
    with pytest.warns(opd.OntraportWarning, match="no known outcome"):
        assert result.undo().journal is None  # nothing known to undo, and it says why
    app.reset_log()
    done = still.failed().apply(retry_unknown=True)
    done.raise_for_errors()
    assert [m for m, p, _ in app.request_log if m == "POST"] == ["POST"]
    assert op.count("contacts") == before + 1
    assert len(_named(op, "Arrived")) == 1


def test_tags_of_a_failed_create_are_failed_and_the_retry_tags_the_new_record(app):
    op = client_over(app)
    c = op.contacts(progress=False)
    before = op.count("contacts")
    edited = _with_new_rows(
        c,
        {"firstname": ["Tagged"], "lastname": ["Newrow"], "email": ["tagged.newrow@example.org"]},
    )
    edited.at[edited.index[-1], "contact_cat"] = ["Retry Tag"]
    app.inject_faults("500", 5, method="POST", path="Contacts/saveorupdate")  # every attempt refused
    result = op.plan(edited).apply()
    statuses = dict(zip(result.frame["kind"], result.frame["status"], strict=True))
    assert statuses == {"create": "unknown", "add_tags": "failed"}
    assert op.count("contacts") == before
    again = result.failed().apply()
    again.raise_for_errors()
    rec = _named(op, "Newrow")
    assert len(rec) == 1 and rec["contact_cat"].iloc[0] == ["Retry Tag"]
    assert op.count("contacts") == before + 1


def test_a_retry_knows_the_ids_its_push_created(app):
    op = client_over(app)
    c = op.contacts(progress=False)
    before = op.count("contacts")
    edited = _with_new_rows(c, {"firstname": ["Made"], "lastname": ["Untagged"]})
    edited.at[edited.index[-1], "contact_cat"] = ["Late Tag"]
    app.inject_faults("500", 5, method="PUT", path="objects/tagByName")
    result = op.plan(edited).apply()
    statuses = dict(zip(result.frame["kind"], result.frame["status"], strict=True))
    assert statuses == {"create": "ok", "add_tags": "failed"}
    retry = result.failed()
    assert [o.kind for o in retry.ops] == ["add_tags"]
    again = retry.apply()
    again.raise_for_errors()
    rec = _named(op, "Untagged")
    assert len(rec) == 1 and rec["contact_cat"].iloc[0] == ["Late Tag"]
    assert again.frame["record_id"].tolist() == rec.index.tolist()
    assert op.count("contacts") == before + 1


def test_the_push_own_tag_call_is_not_a_conflict_for_its_retry(app):
    op = client_over(app)
    c = op.contacts(progress=False)
    rid = int(c.index[4])
    edited = c.copy()
    edited.loc[rid, "lastname"] = "Finished"
    edited.at[rid, "contact_cat"] = [*c.at[rid, "contact_cat"], "Own Write"]
    app.inject_faults("500", 5, method="PUT", path="Contacts")  # the update fails; the tag call works
    result = op.plan(edited).apply()
    statuses = dict(zip(result.frame["kind"], result.frame["status"], strict=True))
    assert statuses == {"update": "failed", "add_tags": "ok"}
    again = result.failed().apply()
    again.raise_for_errors()
    after = op.contact(rid)
    assert after["lastname"] == "Finished"
    assert "Own Write" in op.contacts(progress=False).at[rid, "contact_cat"]


def test_a_colleague_edit_after_the_push_is_still_a_conflict_for_its_retry(app):
    op = client_over(app)
    c = op.contacts(progress=False)
    rid = int(c.index[5])
    edited = c.copy()
    edited.loc[rid, "lastname"] = "Mine"
    edited.at[rid, "contact_cat"] = [*c.at[rid, "contact_cat"], "Own Write"]
    app.inject_faults("500", 5, method="PUT", path="Contacts")
    result = op.plan(edited).apply()
    op.request("PUT", "Contacts", json={"id": rid, "lastname": "Colleague"})
    again = result.failed().apply()
    assert again.frame["status"].tolist() == ["conflict"]
    assert op.contact(rid)["lastname"] == "Colleague"


def test_an_update_whose_answer_was_lost_is_read_back(app):
    op = client_over(app)
    c = op.contacts(progress=False)
    rid = int(c.index[6])
    edited = c.copy()
    edited.loc[rid, "lastname"] = "Applied"
    app.inject_faults("lost", 5, method="PUT", path="Contacts")  # applied every time, never answered
    result = op.plan(edited).apply()
    result.raise_for_errors()
    assert op.contact(rid)["lastname"] == "Applied"
    lines = [json.loads(x) for x in result.journal.read_text().splitlines()]
    assert any(x.get("status") == "ok" and x.get("verified") for x in lines)


def test_an_update_not_applied_is_failed_and_its_retry_applies_it(app):
    op = client_over(app)
    c = op.contacts(progress=False)
    rid = int(c.index[7])
    edited = c.copy()
    edited.loc[rid, "lastname"] = "Second"
    app.inject_faults("drop", 5, method="PUT", path="Contacts")
    result = op.plan(edited).apply()
    assert result.frame["status"].tolist() == ["failed"]
    assert "not stored" in result.frame["error"].iloc[0]
    assert op.contact(rid)["lastname"] != "Second"
    result.failed().apply().raise_for_errors()
    assert op.contact(rid)["lastname"] == "Second"


def test_an_applied_update_reported_failed_is_ok_on_retry_not_conflict(app):
    # The first push's answers are lost and its read-back fails too: "failed", although applied.
    op = client_over(app)
    c = op.contacts(progress=False)
    rid = int(c.index[8])
    edited = c.copy()
    edited.loc[rid, "lastname"] = "AlreadyThere"
    app.inject_faults("lost", 5, method="PUT", path="Contacts")
    app.inject_faults("500", 5, method="GET", path="Contacts", skip=1)  # after the conflict check
    result = op.plan(edited).apply()
    assert result.frame["status"].tolist() == ["failed"]
    assert op.contact(rid)["lastname"] == "AlreadyThere"
    app.reset_log()
    again = result.failed().apply()
    again.raise_for_errors()
    assert not [p for m, p, _ in app.request_log if m == "PUT"]  # verified, not sent again
    assert op.contact(rid)["lastname"] == "AlreadyThere"


def test_another_writer_in_the_same_window_is_a_concurrent_conflict():
    app = create_app(contacts=60, rate_limit=None)
    wsgi = _SandboxWSGITransport(app=app)
    target: dict[str, int] = {}
    other = client_over(app)

    def handler(request: httpx.Request) -> httpx.Response:
        if (
            request.method == "PUT"
            and request.url.path.endswith("/Contacts")
            and json.loads(request.content).get("id") == target.get("id")
        ):
            target.pop("id")
            response = wsgi.handle_request(request)
            response.read()
            # another writer saves the same record right after this push did
            other.request("PUT", "Contacts", json={"id": target["rid"], "lastname": "Theirs"})
            return response
        return wsgi.handle_request(request)

    from ontraport_pandas.client import Ontraport
    from ontraport_pandas.sandbox import DEMO_API_KEY, DEMO_APP_ID
    from ontraport_pandas.session import RetryPolicy, Session
    from ontraport_pandas.transports.http import HTTPTransport

    transport = HTTPTransport(
        DEMO_APP_ID,
        DEMO_API_KEY,
        base_url="http://sandbox.invalid/1/",
        transport=httpx.MockTransport(handler),
        live=False,
    )
    op = Ontraport(transport, session=Session(transport, retry=RetryPolicy(backoff=0.01)))
    try:
        c = op.contacts(progress=False)
        rid, calm = int(c.index[3]), int(c.index[4])
        target.update(id=rid, rid=rid)
        edited = c.copy()
        edited.loc[[rid, calm], "lastname"] = "Ours"
        result = op.plan(edited).apply()
        by_id = result.frame.set_index("record_id")
        assert by_id.at[calm, "status"] == "ok"
        assert by_id.at[rid, "status"] == "conflict"
        error = by_id.at[rid, "error"]
        assert "conflict (concurrent)" in error and "Ours" in error and "Theirs" in error
        assert op.contact(rid)["lastname"] == "Theirs"
        assert op.contact(calm)["lastname"] == "Ours"
    finally:
        op.close()
        app.close()


# -- plan -> apply -> reload under injected faults ----------------------------------------------
class _Faults:
    """Random faults on writes only (reads are retried by the session anyway)."""

    def __init__(self) -> None:
        self.rng = random.Random(0)
        self.rate = 0.0

    def __call__(self, request: httpx.Request) -> httpx.Response | None:
        if request.method == "GET" or self.rng.random() >= self.rate:
            return None
        kind = self.rng.choice(["lost", "drop", "500"])
        if kind == "500":
            return httpx.Response(500, text="Internal Server Error")
        if kind == "drop":
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        self.wsgi.handle_request(request).read()  # applied, then the answer is lost
        raise httpx.ReadError("connection reset while reading the answer")


_RUNS = itertools.count()


@pytest.fixture(scope="module")
def faulty():
    sandbox = create_app(contacts=40, rate_limit=None)
    faults = _Faults()
    faults.wsgi = _SandboxWSGITransport(app=sandbox)
    op = client_over(sandbox, faults)
    op.session.retry = dataclasses.replace(op.session.retry, attempts=2)
    yield op, faults
    op.close()
    sandbox.close()


@st.composite
def new_rows(draw):
    n = draw(st.integers(min_value=0, max_value=3))
    rows = []
    for k in range(n):
        twin = k > 0 and draw(st.booleans())
        with_email = not twin and draw(st.booleans())
        tags = draw(st.lists(st.sampled_from(["VIP", "Hyp New"]), max_size=2, unique=True))
        rows.append((twin, with_email, tags))
    return rows


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # shrinking re-runs whole pushes: too slow
)
@given(changes=edits(), rows=new_rows(), seed=st.integers(min_value=0, max_value=10**6))
def test_plan_apply_reload_under_faults_with_retries_until_done(faulty, changes, rows, seed):
    op, faults = faulty
    faults.rate = 0.0
    c = op.contacts(progress=False)
    before = len(c)
    edited = c.copy()
    for row, col, value in changes:
        rid = c.index[row]
        if col == "contact_cat":
            edited.at[rid, col] = [] if value is CLEAR else value
        elif value is CLEAR or value is None:
            # Ontraport has no empty number or check box: clear them as what reads back
            edited.loc[rid, col] = {"f1003": 0, "f1004": 0.0, "f1006": False}.get(col, pd.NA)
        else:
            edited.loc[rid, col] = value
    marker = f"P{seed}r{next(_RUNS)}"  # unique per run: a replayed example must not meet its own rows
    firsts, lasts, emails, tag_lists = [], [], [], []
    for k, (twin, with_email, tags) in enumerate(rows):
        firsts.append(firsts[-1] if twin else f"{marker}n{k}")
        lasts.append(marker)
        emails.append(f"{marker.lower()}.{k}@example.org" if with_email else None)
        tag_lists.append(tags)
    if rows:
        edited = _with_new_rows(
            edited, {"firstname": firsts, "lastname": lasts, "email": emails, "contact_cat": tag_lists}
        )
    plan = op.plan(edited)
    faults.rng, faults.rate = random.Random(seed), 0.5
    result = plan.apply(confirm=plan.confirm_required)
    for _ in range(15):
        if result.ok:
            break
        assert not (result.frame["status"] == "conflict").any(), result.frame
        retry = result.failed()
        result = retry.apply(confirm=retry.confirm_required, retry_unknown=True)
    faults.rate = 0.0
    assert result.ok, result.frame
    after = op.contacts(progress=False)
    # no duplicates: exactly the new rows were created, twins included
    made = after[after["lastname"] == marker]
    assert len(after) == before + len(rows)
    assert sorted(made["firstname"]) == sorted(firsts)
    for email, tags in zip(emails, tag_lists, strict=True):
        if email is not None:
            rec = made[made["email"] == email]
            assert len(rec) == 1 and sorted(rec["contact_cat"].iloc[0]) == sorted(tags)
    old = after.loc[c.index]
    cols = [col for col in edited.columns if col != "dlm"]
    got, want = old[cols], edited.loc[c.index, cols]
    for col in cols:  # blank text reads back as NA: blank and missing are one thing
        if isinstance(want[col].dtype, pd.StringDtype):
            want[col] = want[col].mask(want[col].str.strip() == "")
    got = got.assign(contact_cat=got["contact_cat"].map(sorted))
    want = want.assign(contact_cat=want["contact_cat"].map(sorted))
    pd.testing.assert_frame_equal(got, want, check_flags=False)
    # clean up the created rows so that the next example starts from the same number
    if len(made):
        cleanup = op.plan(after.drop(index=made.index), delete_missing=True)
        cleanup.apply(confirm=cleanup.confirm_required).raise_for_errors()


def test_a_whitespace_only_change_is_sent_not_taken_as_already_stored(app):
    op = client_over(app)
    rid = int(op.contacts(progress=False).index[9])
    op.request("PUT", "Contacts", json={"id": rid, "firstname": "Padded ", "f1003": "0"})
    c = op.contacts(progress=False)
    edited = c.copy()
    edited.loc[rid, "firstname"] = "Padded"
    result = op.plan(edited).apply()
    result.raise_for_errors()
    assert op.contact(rid)["firstname"] == "Padded"
    assert op.contacts(progress=False).loc[rid, "firstname"] == "Padded"


def test_a_delete_whose_answer_was_lost_is_verified_gone(app):
    op = client_over(app)
    c = op.contacts(progress=False)
    gone, kept = [int(x) for x in c.index[:2]], len(c) - 2
    plan = op.plan(c.drop(index=gone), delete_missing=True)
    app.inject_faults("lost", 5, method="DELETE", path="Contacts")  # deleted, never answered
    result = plan.apply(confirm=plan.confirm_required)
    result.raise_for_errors()
    assert op.count("contacts") == kept
    assert not set(gone) & set(op.contacts(progress=False).index)


def test_a_delete_that_never_arrived_is_failed_and_retried(app):
    op = client_over(app)
    c = op.contacts(progress=False)
    gone = [int(c.index[3])]
    plan = op.plan(c.drop(index=gone), delete_missing=True)
    app.inject_faults("drop", 5, method="DELETE", path="Contacts")
    result = plan.apply(confirm=plan.confirm_required)
    assert result.frame["status"].tolist() == ["failed"]
    assert op.count("contacts") == len(c)
    retry = result.failed()
    retry.apply(confirm=retry.confirm_required).raise_for_errors()
    assert op.count("contacts") == len(c) - 1


def test_a_create_matching_an_existing_email_whose_answer_was_lost(app):
    op = client_over(app)
    c = op.contacts(progress=False)
    existing = int(c["email"].dropna().index[0])
    email = str(c.loc[existing, "email"])
    edited = _with_new_rows(c, {"firstname": ["Matched"], "email": [email]})
    app.inject_faults("lost", 5, method="POST", path="Contacts/saveorupdate")  # applied, never answered
    result = op.plan(edited).apply()
    result.raise_for_errors()
    assert result.frame["record_id"].tolist() == [existing]
    assert op.count("contacts") == len(c)
    assert op.contact(existing)["firstname"] == "Matched"


def test_a_tag_call_applied_without_answer_is_not_a_conflict_for_the_retry(app):
    op = client_over(app)
    c = op.contacts(progress=False)
    rid = int(c.index[10])
    edited = c.copy()
    edited.loc[rid, "lastname"] = "Both"
    edited.at[rid, "contact_cat"] = [*c.at[rid, "contact_cat"], "Lost Answer Tag"]
    app.inject_faults("500", 5, method="PUT", path="Contacts")  # the update fails
    app.inject_faults("lost", 5, method="PUT", path="objects/tagByName")  # the tag call applies, unanswered
    result = op.plan(edited).apply()
    statuses = dict(zip(result.frame["kind"], result.frame["status"], strict=True))
    assert statuses == {"update": "failed", "add_tags": "failed"}
    again = result.failed().apply()
    again.raise_for_errors()
    assert op.contact(rid)["lastname"] == "Both"
    assert op.contacts(progress=False).at[rid, "contact_cat"].count("Lost Answer Tag") == 1


def test_a_create_answered_with_garbage_is_unknown_and_found():
    app = create_app(contacts=40, rate_limit=None)
    wsgi = _SandboxWSGITransport(app=app)

    def garble(request: httpx.Request) -> httpx.Response | None:
        if request.method == "POST" and request.url.path.endswith("/Contacts"):
            wsgi.handle_request(request).read()  # the create is applied...
            return httpx.Response(200, text='{"code":0,"data":')  # ...and answered with broken JSON
        return None

    op = client_over(app, garble)
    try:
        c = op.contacts(progress=False)
        edited = _with_new_rows(c, {"firstname": ["Garbled"], "lastname": ["Answer"]})
        result = op.plan(edited).apply()
        result.raise_for_errors()
        assert op.count("contacts") == len(c) + 1
        assert _named(op, "Answer").index.tolist() == result.frame["record_id"].tolist()
    finally:
        op.close()
        app.close()


def test_applying_the_same_plan_twice_creates_nothing_twice(app):
    op = client_over(app)
    c = op.contacts(progress=False)
    rid = int(c.index[11])
    edited = _with_new_rows(c, {"firstname": ["Rerun"], "lastname": ["Cell"]})
    edited.loc[rid, "lastname"] = "Rerun"
    plan = op.plan(edited)
    first = plan.apply()
    first.raise_for_errors()
    second = plan.apply()  # a notebook cell run again
    second.raise_for_errors()
    assert op.count("contacts") == len(c) + 1
    assert second.created_ids() == first.created_ids()
    second.undo().raise_for_errors()  # the record was created by the first push: it stays
    assert op.count("contacts") == len(c) + 1
    first.undo().raise_for_errors()
    assert op.count("contacts") == len(c)
    assert op.contact(rid)["lastname"] == c.loc[rid, "lastname"]
