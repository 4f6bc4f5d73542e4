"""Time and cost up front: request counts and ETAs of plans and loads."""

from __future__ import annotations

import re

import pandas as pd
import pytest

import ontraport_pandas as opd
from ontraport_pandas import writer
from ontraport_pandas.eta import MEMBER_BATCH, READ_BATCH, TAG_BATCH, estimate, format_duration
from ontraport_pandas.ratelimit import RateLimiter
from ontraport_pandas.transports.base import RateLimitInfo


def limiter(limit: int | None, remaining: int | None) -> RateLimiter:
    lim = RateLimiter()
    lim.update(RateLimitInfo(limit=limit, remaining=remaining, reset=30.0))
    return lim


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "under a minute"),
        (59.4, "under a minute"),
        (60, "about 1 min"),
        (7 * 60 + 10, "about 7 min"),
        (2 * 3600 + 10 * 60, "about 2 h 10 min"),
        (3600, "about 1 h"),
        (5 * 3600 + 7 * 60, "about 5 h 10 min"),
        (5 * 3600 + 56 * 60, "about 6 h"),
    ],
)
def test_durations_read_as_a_person_says_them(seconds, text):
    assert format_duration(seconds) == text


def test_the_estimate_follows_what_the_limiter_learnt():
    # 1,240 requests at 180 a minute with the window spent: 1,240 / 3 per second ≈ 6.9 min
    e = estimate(1240, limiter(180, 0))
    assert str(e) == "≈ 1,240 requests, about 7 min"
    assert e.limit == 180 and e.window == 60
    # the free part of the window goes at once
    assert estimate(180, limiter(180, 180), latency=0).seconds == 0
    assert estimate(360, limiter(180, 180), latency=0).seconds == pytest.approx(60)
    # nothing learnt yet: Ontraport's documented 180 a minute
    assert estimate(540, RateLimiter(), latency=0).seconds == pytest.approx(120)
    # a limiter that knows a different window and limit
    lim = limiter(60, 0)
    lim.window = 10.0  # type: ignore[attr-defined]
    assert estimate(120, lim, latency=0).seconds == pytest.approx(20)
    # no limit reported: latency bound, shared by the workers
    free = RateLimiter()
    free.update(None)
    assert estimate(100, free, workers=4, latency=0.4).seconds == pytest.approx(10)
    assert "no rate limit reported" in repr(estimate(100, free))
    assert str(estimate(1, limiter(180, 0))).startswith("≈ 1 request,")
    with pytest.raises(ValueError):
        estimate(-1)


def test_the_batches_match_the_writer():
    assert (
        READ_BATCH == writer.BATCH and TAG_BATCH == writer.TAG_BATCH and MEMBER_BATCH == writer.MEMBER_BATCH
    )


def test_a_plans_request_count_is_what_apply_sends(op):
    c = op.contacts(progress=False)
    edited = c.copy()
    for rid in c.index[:60]:  # two read batches
        edited.at[rid, "firstname"] = f"Renamed {rid}"
    tagged = c.index[c["contact_cat"].map(len) > 0][:2]
    for rid in tagged:
        edited.at[rid, "contact_cat"] = edited.at[rid, "contact_cat"][1:]
    untagged = c.index[c["contact_cat"].map(len) == 0][:3]
    for rid in untagged:
        edited.at[rid, "contact_cat"] = ["Estimated"]
    new = pd.DataFrame(
        {"firstname": ["Nia"], "email": ["nia.estimate@example.org"], "contact_cat": [["Estimated"]]},
        index=pd.Index([pd.NA], dtype="Int64"),
    )
    gone = c.index[-2:]
    edited = pd.concat([edited.drop(index=gone), new])
    edited.attrs = c.attrs
    plan = op.plan(edited, delete_missing=True)
    assert plan.counts["update"] == 60 and plan.counts["create"] == 1 and plan.counts["delete"] == 2
    before = op.session.requests_sent
    plan.apply(confirm=plan.confirm_required).raise_for_errors()
    assert op.session.requests_sent - before == plan.requests
    after = op.contacts(progress=False)
    assert after.loc[c.index[:60], "firstname"].tolist() == [f"Renamed {rid}" for rid in c.index[:60]]
    assert not set(gone) & set(after.index)
    assert all("Estimated" in after.at[rid, "contact_cat"] for rid in untagged)


def test_plans_show_requests_and_eta_in_repr_html_and_summary():
    op = opd.connect("sandbox", contacts=1300, rate_limit=180)
    try:
        c = op.contacts(progress=False)
        assert op.session.limiter.limit == 180
        edited = c.assign(firstname=c["firstname"].fillna("").astype("string") + " x")
        plan = op.plan(edited)
        n = plan.requests
        assert n == 1300 + 2 * (1300 // 50)  # conflict read, updates, read-back
        pattern = rf"≈ {n:,} requests, about [67] min"
        assert re.search(pattern, plan.summary())
        assert re.search(pattern, repr(plan))
        assert re.search(pattern, plan._repr_html_())
        assert "≈" not in op.plan(c).summary()  # an empty plan sends nothing
    finally:
        op.close()


def test_op_estimate_says_what_a_load_costs_before_it_starts(op, capsys):
    e = op.estimate("contacts")
    n = op.count("contacts")
    assert e.rows == n and e.requests == 1 + -(-n // 50)
    frame = op.contacts(progress=False)
    assert frame.attrs["ontraport"]["stats"]["requests"] == e.requests
    limited = op.estimate("contacts", limit=120)
    assert limited.rows == 120 and limited.requests == 1 + 3
    where = op.estimate("contacts", where="bulk_mail == 'Opted-in'")
    assert where.rows == op.count("contacts", where="bulk_mail == 'Opted-in'")
    with pytest.raises(opd.UnknownFieldError):
        op.estimate("contacts", where="no_such_column == 1")
    op.contacts(progress=True)
    err = capsys.readouterr().err
    # the bar starts once the count is known: the pages still to fetch
    assert f"contacts (≈ {e.requests - 1} requests, under a minute ({n:,} rows))" in err
