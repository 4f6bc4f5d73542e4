"""connect(tz=…): dates load in local time, write back as the same instants, reports bucket locally."""

from __future__ import annotations

import zoneinfo

import pandas as pd
import pytest

import ontraport_pandas as opd
from ontraport_pandas import reports

ZONE = "Australia/Sydney"  # UTC+10/+11: a month boundary in UTC is mid-morning there
SANDBOX = {"contacts": 120, "rate_limit": None}


@pytest.fixture
def pair():
    utc = opd.connect("sandbox", **SANDBOX)
    local = opd.connect("sandbox", tz=ZONE, **SANDBOX)
    yield utc, local
    utc.close()
    local.close()


def test_default_is_utc(pair):
    utc, _ = pair
    assert utc.tz == "UTC"
    assert str(utc.contacts(progress=False)["date"].dtype) == "datetime64[ns, UTC]"


def test_dates_load_in_the_zone_as_the_same_instants(pair):
    utc, local = pair
    a, b = utc.contacts(progress=False), local.contacts(progress=False)
    for col, dtype in b.dtypes.items():
        if isinstance(dtype, pd.DatetimeTZDtype):
            assert str(dtype.tz) == ZONE, col
            pd.testing.assert_series_equal(b[col].dt.tz_convert("UTC"), a[col])
    assert b.attrs["ontraport"]["snapshot"]
    # single records and get-* actions too
    assert str(local.contact(1)["date"].tz) == ZONE
    record = local.run("get-contact", {"id": 1})
    assert str(record["date"].tz) == ZONE
    assert str(record.attrs["dtypes"]["date"].tz) == ZONE
    listed = local.run("list-contacts", {"limit": 3})
    assert str(listed["date"].dtype.tz) == ZONE


def test_a_tzinfo_works_too():
    op = opd.connect("sandbox", tz=zoneinfo.ZoneInfo("America/New_York"), **SANDBOX)
    assert str(op.contacts(progress=False)["date"].dtype.tz) == "America/New_York"
    op.close()


@pytest.mark.parametrize("bad", ["Mars/Olympus", "", 5, "UTC+25"])
def test_a_bad_zone_is_refused_before_any_io(bad, tmp_path):
    # membrane= with a missing CLI would fail with MembraneSetupError if anything ran first
    with pytest.raises(opd.ConfigurationError, match="tz="):
        opd.connect(membrane="conn_x", membrane_command=str(tmp_path / "no-such-cli"), tz=bad)


def test_local_dates_write_back_as_the_same_instants(pair):
    _, local = pair
    contacts = local.contacts(progress=False)
    assert local.plan(contacts).empty  # the zone alone is no change
    rid = int(contacts.index[0])
    when = pd.Timestamp("2026-03-01 00:30", tz=ZONE)  # still 28 February in UTC
    edited = contacts.copy()
    edited.loc[rid, "f1007"] = when
    plan = local.plan(edited)
    assert len(plan.ops) == 1
    plan.apply().raise_for_errors()
    raw = local.request("GET", "Contact", params={"id": rid})["data"]
    assert int(raw["f1007"]) == int(when.timestamp())
    after = local.contacts(progress=False)
    assert after.loc[rid, "f1007"] == when and str(after["f1007"].dtype.tz) == ZONE
    assert local.plan(after).empty


def test_reports_bucket_months_in_the_local_zone(pair):
    utc, local = pair
    t_utc = utc.transactions(progress=False)
    t_local = local.transactions(progress=False)
    # the wall-clock month of each transaction in its own zone
    for frame in (t_utc, t_local):
        table = reports.revenue_table(frame)
        # collected money: the charge went through (refunds are subtracted in their own column)
        paid = frame[frame["status"].isin(["Paid", "Partially refunded", "Refunded"]).to_numpy(dtype=bool)]
        months = paid["date"].dt.tz_localize(None).dt.to_period("M").dt.start_time
        want = paid["total"].astype(float).groupby(months).sum()
        got = table["collected"][table["collected"] != 0]
        pd.testing.assert_series_equal(
            got.astype(float), want[want != 0], check_names=False, check_index_type=False, check_freq=False
        )


def test_a_sale_just_after_midnight_local_counts_for_the_local_month():
    when = pd.Timestamp("2025-02-28 14:30", tz="UTC")  # 1 March 01:30 in Sydney
    frame = pd.DataFrame(
        {"date": pd.DatetimeIndex([when]).tz_convert(ZONE), "status": ["Paid"], "total": [10.0]},
        index=pd.Index([1], name="id"),
    )
    assert reports.revenue_table(frame).index[0] == pd.Timestamp("2025-03-01")
    in_utc = frame.assign(date=frame["date"].dt.tz_convert("UTC"))
    assert reports.revenue_table(in_utc).index[0] == pd.Timestamp("2025-02-01")


def test_cached_and_filtered_loads_are_in_the_zone_too(pair):
    _, local = pair
    full = local.contacts(progress=False)
    first = local.contacts(cache=True, progress=False)
    again = local.contacts(cache=True, progress=False)
    for frame in (first, again):
        pd.testing.assert_frame_equal(frame, full, check_flags=False)
    some = local.contacts(where="date >= '2020-01-01'", fields=["date"], progress=False)
    assert str(some["date"].dtype.tz) == ZONE
