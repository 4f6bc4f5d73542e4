"""The type table: parse_meta, wire -> frame -> wire round trips, coercion and validation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ontraport_pandas.errors import Problem, SchemaError, UnknownFieldError
from ontraport_pandas.schema import (
    TYPE_TABLE,
    FieldSpec,
    ObjectSchema,
    check_column,
    check_frame,
    coerce_column,
    column_to_wire,
    frame_from_records,
    frame_to_records,
    parse_list_wire,
    parse_meta,
    type_table,
    value_to_wire,
)

# ---------------------------------------------------------------------------------------------------------
# A contact-like meta reply with one field of each type (flags in every accepted form)
# ---------------------------------------------------------------------------------------------------------

DROP_OPTIONS = {"1": "Gold", "2": "Silver", "3": "Bronze", "4": "Unused"}
LIST_OPTIONS = {"10": "Red", "11": "Blue", "12": "Green"}
TAGS = {"5": "VIP", "6": "Lead", "8": "Customer"}


def _f(alias: str, ftype: str, **extra: Any) -> dict[str, Any]:
    return {"alias": alias, "type": ftype, "required": 0, "unique": 0, "editable": 1, "deletable": 0, **extra}


META: dict[str, Any] = {
    "0": {
        "name": "Contact",
        "fields": {
            "firstname": _f("First Name", "text"),
            "notes": _f("Notes", "longtext", required="0", editable=None),
            "email": _f("Email", "email", required="1", unique="1"),
            "home_phone": _f("Phone", "phone"),
            "sms_number": _f("SMS", "sms"),
            "website": _f("Website", "url"),
            "address": _f("Address", "address"),
            "profile_image": _f("Image", "image"),
            "state": _f("State", "state"),
            "country": _f("Country", "country"),
            "unique_id": _f("Unique ID", "unique", unique=1, editable=0),
            "fn": _f("Full name", "mergefield", editable=0),
            "f3101": _f("Stock", "related_data", editable=0, extra_data="f2251//f2232//f2304"),
            "bulk_mail": _f("Bulk mail", "numeric"),
            "spent": _f("Spent", "price"),
            "date": _f("Date added", "timestamp"),
            "birthday": _f("Birthday", "fulldate"),
            "f1301": _f("Opted in", "check"),
            "f1001": _f("Level", "drop", options=DROP_OPTIONS),
            "f1002": _f("Colors", "list", options=LIST_OPTIONS),
            "contact_cat": _f("Tags", "subscription", extra_data='{"subModel":14,"x":1}'),
            "owner": _f("Owner", "parent", parent_object=2),
            "f1401": _f("Referrer", "parent", parent_object="0"),
            "f9999": _f("Calculated", "calculated_thing"),
        },
    }
}
LOOKUPS = {"contact_cat": TAGS}


@pytest.fixture(scope="module")
def schema() -> ObjectSchema:
    return parse_meta(META)[0]


SCHEMA = parse_meta(META)[0]
TEXTLIKE = [k for k, s in SCHEMA.fields.items() if s.kind == "text"]

# ---------------------------------------------------------------------------------------------------------
# parse_meta
# ---------------------------------------------------------------------------------------------------------


def test_parse_meta_accepts_int_string_and_null_flags():
    meta = {
        "0": {
            "name": "Contact",
            "fields": {
                "a": {
                    "alias": "A",
                    "type": "text",
                    "required": 1,
                    "unique": "1",
                    "editable": None,
                    "deletable": "0",
                },
                "b": {
                    "alias": "B",
                    "type": "text",
                    "required": "0",
                    "unique": 0,
                    "editable": "0",
                    "deletable": 1,
                },
                "c": {"alias": "C", "type": "text", "required": None, "unique": None, "editable": 1},
                "d": {"alias": "D", "type": "text"},
            },
        }
    }
    s = parse_meta(meta)[0]
    a, b, c, d = (s.field(k) for k in "abcd")
    assert (a.required, a.unique, a.editable, a.deletable) == (True, True, True, False)
    assert (b.required, b.unique, b.editable, b.deletable) == (False, False, False, True)
    assert (c.required, c.unique, c.editable, c.deletable) == (False, False, True, False)
    assert (d.required, d.unique, d.editable, d.deletable) == (False, False, True, False)
    assert b.read_only and not a.read_only


def test_parse_meta_fields(schema):
    assert schema.type_id == 0 and schema.name == "Contact"
    assert list(schema.fields) == list(META["0"]["fields"])
    owner, ref = schema.field("owner"), schema.field("f1401")
    assert owner.parent_object == 2 and ref.parent_object == 0  # int and string forms
    assert schema.field("contact_cat").sub_model == 14
    assert dict(schema.field("f1001").options) == DROP_OPTIONS
    assert list(schema.field("f1001").options) == ["1", "2", "3", "4"]  # meta order
    assert dict(schema.field("firstname").options) == {}
    assert schema.field("unique_id").read_only and schema.field("fn").read_only
    assert schema.field("f3101").read_only
    assert not schema.field("firstname").read_only
    assert schema.field("firstname").label == "First Name"


def test_parse_meta_options_forms_and_unknown_types():
    meta = {
        "7": {
            "name": "X",
            "fields": {
                "o1": {"type": "drop", "options": ""},
                "o2": {"type": "drop", "options": [{"id": 3, "label": "Three"}, [4, "Four"]]},
                "o3": {"type": "list"},
                "o4": {"type": "drop", "options": {5: "Five", "6": None}},
                "o5": {"type": "brand_new_type"},
                "o6": {},
            },
        }
    }
    s = parse_meta({"code": 0, "data": meta, "account_id": 1})[7]  # a whole envelope works too
    assert dict(s.field("o1").options) == {}
    assert dict(s.field("o2").options) == {"3": "Three", "4": "Four"}
    assert dict(s.field("o3").options) == {}
    assert dict(s.field("o4").options) == {"5": "Five", "6": ""}
    assert s.field("o5").type == "brand_new_type" and s.field("o5").dtype == pd.StringDtype("python")
    assert s.field("o6").type == "text" and s.field("o6").label == "o6"


def test_parse_meta_rejects_bad_shapes():
    with pytest.raises(SchemaError):
        parse_meta(["not", "a", "mapping"])  # type: ignore[arg-type]
    with pytest.raises(SchemaError):
        parse_meta({"contacts": {"fields": {}}})
    with pytest.raises(SchemaError):
        parse_meta({"0": {"fields": {"a": "text"}}})


def test_specs_are_frozen_and_hashable(schema):
    spec = schema.field("f1001")
    assert hash(spec) == hash(parse_meta(META)[0].field("f1001"))
    assert spec == parse_meta(META)[0].field("f1001")
    with pytest.raises(AttributeError):
        spec.key = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        spec.options["9"] = "x"  # type: ignore[index]
    hash(schema)


def test_unknown_field_names_close_matches(schema):
    with pytest.raises(UnknownFieldError) as exc:
        schema.field("emial")
    assert "'emial'" in str(exc.value) and "'email'" in str(exc.value)
    with pytest.raises(UnknownFieldError) as exc:
        schema.field("Date Added")  # a label: suggest its key
    assert "'date'" in str(exc.value)
    assert isinstance(exc.value, KeyError)


def test_dtypes(schema):
    assert schema.field("date").dtype == pd.DatetimeTZDtype("ns", "UTC")
    assert schema.field("birthday").dtype == pd.DatetimeTZDtype("ns", "UTC")
    assert schema.field("bulk_mail").dtype == pd.Int64Dtype()
    assert schema.field("owner").dtype == pd.Int64Dtype()
    assert schema.field("spent").dtype == pd.Float64Dtype()
    assert schema.field("f1301").dtype == pd.BooleanDtype()
    assert schema.field("f1002").dtype == "object"
    assert schema.field("contact_cat").dtype == "object"
    for key in TEXTLIKE:
        assert schema.field(key).dtype == pd.StringDtype("python"), key
    drop = schema.field("f1001").dtype
    assert isinstance(drop, pd.CategoricalDtype)
    assert list(drop.categories) == ["Gold", "Silver", "Bronze", "Unused"]
    assert not drop.ordered


def test_type_table_covers_every_documented_type():
    table = type_table()
    assert list(table.columns) == ["ontraport_type", "pandas_dtype", "read", "write"]
    documented = (
        "text longtext email phone sms url numeric price timestamp fulldate check drop list state country "
        "parent subscription mergefield related_data image unique address"
    ).split()
    assert set(documented) <= set(table.ontraport_type)
    assert set(TYPE_TABLE) <= set(table.ontraport_type)
    row = table.set_index("ontraport_type").loc["timestamp"]
    assert row.pandas_dtype == "datetime64[ns, UTC]"


# ---------------------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------------------


def _record(**values: Any) -> dict[str, Any]:
    base: dict[str, Any] = {k: None for k in SCHEMA.fields}
    base.update(values)
    return base


def test_frame_dtypes_index_and_order(schema):
    recs = [
        {"email": "a@b.com", "id": "12", "firstname": "Ann", "date": "1700000000", "zz_extra": "x"},
        {"firstname": None, "id": 13, "email": "", "date": "0", "yy_extra": 5},
    ]
    df = frame_from_records(recs, schema)
    assert list(df.columns) == [
        "firstname",
        "email",
        "date",
        "zz_extra",
        "yy_extra",
    ]  # meta order, then extras
    assert df.index.dtype == pd.Int64Dtype() and df.index.name == "id"
    assert df.index.tolist() == [12, 13]
    assert df.date.dtype == pd.DatetimeTZDtype("ns", "UTC")
    assert df.date.iloc[0] == pd.Timestamp(1700000000, unit="s", tz="UTC")
    assert df.date.isna().tolist() == [False, True]
    assert df.zz_extra.dtype == pd.StringDtype("python") and df.yy_extra.tolist()[1] == "5"
    assert df.firstname.isna().tolist() == [False, True]
    assert df.email.isna().tolist() == [False, True]  # "" is NA, like null


def test_frame_with_columns_keeps_their_order_and_fills_missing(schema):
    recs = [{"id": "1", "firstname": "A"}, {"id": "2"}]
    df = frame_from_records(recs, schema, columns=["bulk_mail", "firstname", "id", "f1002"])
    assert list(df.columns) == ["bulk_mail", "firstname", "f1002"]
    assert df.bulk_mail.isna().all() and df.bulk_mail.dtype == pd.Int64Dtype()
    assert df.firstname.isna().tolist() == [False, True]
    assert df.f1002.tolist() == [[], []]


@pytest.mark.parametrize("columns", [None, ["email", "date", "f1001"]])
def test_empty_records(schema, columns):
    df = frame_from_records([], schema, columns=columns)
    assert len(df) == 0
    expected = columns or [k for k in schema.fields]
    assert list(df.columns) == expected
    for key in expected:
        assert df[key].dtype == schema.field(key).dtype, key
    assert df.index.dtype == pd.Int64Dtype() and df.index.name == "id"
    assert frame_to_records(df, schema) == []


def test_drop_categories_include_unused_options_and_unknown_ids(schema):
    recs = [
        _record(id="1", f1001="2"),
        _record(id="2", f1001="0"),
        _record(id="3", f1001="77"),
        _record(id="4"),
    ]
    df = frame_from_records(recs, schema)
    assert list(df.f1001.cat.categories) == ["Gold", "Silver", "Bronze", "Unused", "77"]
    assert df.f1001.tolist()[0] == "Silver" and df.f1001.tolist()[2] == "77"
    assert df.f1001.isna().tolist() == [False, True, False, True]
    out = frame_to_records(df, schema)
    assert [r["f1001"] for r in out] == ["2", "0", "77", "0"]


def test_duplicate_labels_get_unique_names():
    s = parse_meta({"0": {"name": "C", "fields": {"d": {"type": "drop", "options": {"1": "A", "2": "A"}}}}})[
        0
    ]
    df = frame_from_records([{"id": "1", "d": "1"}, {"id": "2", "d": "2"}], s)
    assert list(df.d.cat.categories) == ["A", "A [2]"]
    assert [r["d"] for r in frame_to_records(df, s)] == ["1", "2"]


def test_list_and_subscription_forms(schema):
    recs = [
        _record(id="1", f1002="*/*10*/*12*/*", contact_cat="*/*5*/*99*/*"),
        _record(id="2", f1002="", contact_cat="*/*"),
        _record(id="3", f1002=None, contact_cat=None),
        _record(id="4", f1002="*/*12*/*10*/*", contact_cat=""),
    ]
    df = frame_from_records(recs, schema, lookups=LOOKUPS)
    assert df.f1002.tolist() == [["Red", "Green"], [], [], ["Green", "Red"]]
    assert df.contact_cat.tolist() == [["VIP", "99"], [], [], []]
    assert df.f1002.iloc[1] is not df.f1002.iloc[2]  # every row its own list
    out = frame_to_records(df, schema, lookups=LOOKUPS)
    assert [r["f1002"] for r in out] == ["*/*10*/*12*/*", "", "", "*/*12*/*10*/*"]
    assert [r["contact_cat"] for r in out] == ["*/*5*/*99*/*", "", "", ""]
    assert parse_list_wire("*/*1*/*2*/*") == ["1", "2"] and parse_list_wire("*/*") == []


def test_other_wire_forms(schema):
    recs = [
        _record(id=1, f1301=1, bulk_mail=7, owner=5, date=1700000000, spent=12.5),
        _record(id=2, f1301="", bulk_mail=None, owner="", date="", spent=None),
        _record(id=3, f1301=0, bulk_mail="0", owner="0", date=None, spent="16.5"),
    ]
    df = frame_from_records(recs, schema)
    assert df.f1301.tolist()[0] is True and df.f1301.tolist()[2] is False and df.f1301.isna().tolist()[1]
    assert df.bulk_mail.tolist()[0] == 7 and df.bulk_mail.tolist()[2] == 0 and df.bulk_mail.isna().tolist()[1]
    assert df.owner.isna().tolist() == [False, True, True]
    assert df.spent.tolist()[0] == 12.5 and df.spent.tolist()[2] == 16.5
    out = frame_to_records(df, schema)
    assert [r["spent"] for r in out] == ["12.50", "", "16.50"]
    assert [r["f1301"] for r in out] == ["1", "0", "0"]  # NA check -> "0"
    assert [r["bulk_mail"] for r in out] == ["7", "", "0"]
    assert [r["owner"] for r in out] == ["5", "0", "0"]
    assert [r["date"] for r in out] == ["1700000000", "0", "0"]


def test_numeric_with_decimals_reads_as_float64_and_round_trips(schema):
    recs = [_record(id="1", bulk_mail="12.5"), _record(id="2", bulk_mail="3"), _record(id="3", bulk_mail="")]
    df = frame_from_records(recs, schema)
    assert df.bulk_mail.dtype == pd.Float64Dtype()
    assert [r["bulk_mail"] for r in frame_to_records(df, schema)] == ["12.5", "3", ""]


def test_bad_wire_values_name_record_field_and_value(schema):
    recs = [_record(id="1", bulk_mail="1"), _record(id="2", bulk_mail="abc"), _record(id="3", date="soon")]
    with pytest.raises(SchemaError) as exc:
        frame_from_records(recs, schema)
    msg = str(exc.value)
    assert "row 2" in msg and "'bulk_mail'" in msg and "'abc'" in msg
    assert "row 3" in msg and "'date'" in msg and "'soon'" in msg
    problems = exc.value.problems  # type: ignore[attr-defined]
    assert [(p.row, p.column, p.value) for p in problems] == [(2, "bulk_mail", "abc"), (3, "date", "soon")]


def test_heterogeneous_records(schema):
    recs = [
        {"id": "1", "bulk_mail": "3"},
        {"id": "2", "date": "5"},
        {"id": "3", "bulk_mail": "", "date": "0"},
    ]
    df = frame_from_records(recs, schema)
    assert df.bulk_mail.tolist()[0] == 3 and df.bulk_mail.isna().tolist() == [False, True, True]
    assert df.date.isna().tolist() == [True, False, True]


def test_inputs_are_not_mutated(schema):
    recs = [_record(id="1", f1002="*/*10*/*", date="5", bulk_mail="")]
    snapshot = [dict(r) for r in recs]
    df = frame_from_records(recs, schema)
    assert recs == snapshot
    before = df.copy(deep=True)
    frame_to_records(df, schema)
    pd.testing.assert_frame_equal(df, before)


# ---------------------------------------------------------------------------------------------------------
# Round trips: canonical wire value -> frame -> wire value is the identity, for every type
# ---------------------------------------------------------------------------------------------------------

INT64 = st.integers(-(2**63), 2**63 - 1)
SECONDS = st.integers(-9223372036, 9223372035).filter(lambda s: s != 0)


def _list_wire(ids: list[str]) -> str:
    return "*/*" + "*/*".join(ids) + "*/*" if ids else ""


def _price_wire(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


UNKNOWN_IDS = st.integers(100, 10**6).map(str)
CANONICAL: dict[str, st.SearchStrategy[Any]] = {
    "text": st.one_of(st.none(), st.text(min_size=1, max_size=12)),  # "" reads as NA: see below
    "numeric": st.one_of(st.just(""), INT64.map(str)),
    "price": st.one_of(st.just(""), st.integers(-(10**15) + 1, 10**15 - 1).map(_price_wire)),
    "date": st.one_of(st.just("0"), SECONDS.map(str)),
    "check": st.sampled_from(["0", "1"]),
    "drop": st.one_of(st.just("0"), st.sampled_from(list(DROP_OPTIONS)), UNKNOWN_IDS),
    "list": st.lists(st.one_of(st.sampled_from(list(LIST_OPTIONS)), UNKNOWN_IDS), max_size=4).map(_list_wire),
    "subscription": st.lists(st.one_of(st.sampled_from(list(TAGS)), UNKNOWN_IDS), max_size=4).map(_list_wire),
    "parent": st.one_of(st.just("0"), st.integers(1, 2**63 - 1).map(str)),
}


def _canonical(key: str) -> st.SearchStrategy[Any]:
    return CANONICAL[SCHEMA.field(key).kind]


@pytest.mark.parametrize("key", list(SCHEMA.fields))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_round_trip_every_field_type(key, data):
    values = data.draw(st.lists(_canonical(key), max_size=25), label=key)
    recs = [{"id": str(i + 1), key: v} for i, v in enumerate(values)]
    df = frame_from_records(recs, SCHEMA, lookups=LOOKUPS)
    assert list(df.columns) == ([key] if recs else [k for k in SCHEMA.fields])
    spec = SCHEMA.field(key)
    if spec.kind != "drop":  # drop categories grow by the unknown ids seen
        assert df[key].dtype == spec.dtype
    assert frame_to_records(df, SCHEMA, lookups=LOOKUPS) == recs
    wire = column_to_wire(df[key], spec, lookups=LOOKUPS.get(key)) if recs else pd.Series([], dtype=object)
    assert wire.tolist() == values


def test_blank_text_reads_as_na_and_writes_as_missing(schema):
    recs = [
        {"id": "1", "firstname": "", "email": "", "state": ""},
        {"id": "2", "firstname": None, "email": None, "state": None},
        {"id": "3", "firstname": " ", "email": "a@b.test", "state": "CA"},
    ]
    df = frame_from_records(recs, schema)
    assert df.email.isna().tolist() == [True, True, False]
    assert df.state.isna().tolist() == [True, True, False]
    assert df.firstname.isna().tolist() == [True, True, False]  # whitespace is data, not blank
    assert df.firstname.loc[3] == " "
    # the frame cannot tell "" from null, so both write as missing (null); an edited "" is the same
    out = frame_to_records(df, schema)
    assert [r["email"] for r in out] == [None, None, "a@b.test"]
    edited = df.assign(email=pd.Series(["", pd.NA, "x@y.test"], index=df.index, dtype=object))
    assert column_to_wire(edited.email, schema.field("email")).tolist() == [None, None, "x@y.test"]
    typed = coerce_column(pd.Series(["", "a", None], dtype="string"), schema.field("email"))
    assert typed.isna().tolist() == [True, False, True]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_round_trip_whole_records(data):
    n = data.draw(st.integers(0, 12))
    ids = data.draw(st.lists(st.integers(1, 2**62), min_size=n, max_size=n, unique=True))
    recs = [{"id": str(i), **{k: data.draw(_canonical(k)) for k in SCHEMA.fields}} for i in ids]
    df = frame_from_records(recs, SCHEMA, lookups=LOOKUPS)
    assert frame_to_records(df, SCHEMA, lookups=LOOKUPS) == recs
    for key, spec in SCHEMA.fields.items():
        if spec.kind != "drop":
            assert df[key].dtype == spec.dtype, key


@settings(max_examples=50, deadline=None)
@given(st.lists(st.one_of(st.just(""), st.floats(allow_nan=False, allow_infinity=False)), max_size=10))
def test_round_trip_numeric_decimals(values):
    def canon(x: float | str) -> str:
        if x == "":
            return ""
        x = float(x) + 0.0  # no negative zero
        return np.format_float_positional(x, trim="-") if x != int(x) or abs(x) >= 2**53 else str(int(x))

    wire = [canon(v) for v in values]
    recs = [{"id": str(i), "bulk_mail": w} for i, w in enumerate(wire)]
    df = frame_from_records(recs, SCHEMA)
    assert [r["bulk_mail"] for r in frame_to_records(df, SCHEMA)] == wire


# ---------------------------------------------------------------------------------------------------------
# Prices, dates, checks: writing values
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, wire",
    [
        (0.1 + 0.2, "0.30"),
        (16.5, "16.50"),
        (19.99, "19.99"),
        (0.10, "0.10"),
        (1000000.01, "1000000.01"),
        (-0.01, "-0.01"),
        (2.675, "2.68"),  # the decimal shown is 2.675: half-even on the cent gives 2.68
        (0.125, "0.12"),  # exactly half a cent: half-even
        (0.135, "0.14"),
        (5, "5.00"),
        ("7.5", "7.50"),
        (Decimal("3.10"), "3.10"),
        (None, ""),
        (np.nan, ""),
    ],
)
def test_price_to_wire_is_exact(schema, value, wire):
    assert value_to_wire(value, schema.field("spent")) == wire


@pytest.mark.parametrize("wire", ["0.10", "19.99", "1000000.01", "0.01", "99999999999.99", "-42.00"])
def test_price_reads_exactly(schema, wire):
    df = frame_from_records([{"id": "1", "spent": wire}], schema)
    assert Decimal(str(df.spent.iloc[0])) == Decimal(wire)
    assert frame_to_records(df, schema)[0]["spent"] == wire


@settings(max_examples=200, deadline=None)
@given(st.integers(-(10**13), 10**13))
def test_price_cents_survive_float_arithmetic(cents):
    x = cents / 100
    assert value_to_wire(x, SCHEMA.field("spent")) == _price_wire(cents)
    assert value_to_wire(x + 0.0, SCHEMA.field("spent")) == _price_wire(cents)


def test_dates_to_wire(schema):
    spec = schema.field("date")
    assert value_to_wire(pd.Timestamp("2025-01-01"), spec) == "1735689600"  # naive = UTC
    assert value_to_wire(pd.Timestamp("2025-01-01 01:00", tz="Europe/Berlin"), spec) == "1735689600"
    assert value_to_wire(dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc), spec) == "1735689600"
    assert value_to_wire(dt.date(2025, 1, 1), spec) == "1735689600"
    assert value_to_wire("2025-01-01T00:00:00+01:00", spec) == "1735686000"
    assert value_to_wire(pd.Timestamp("2025-01-01 00:00:00.9"), spec) == "1735689600"  # floor
    assert value_to_wire(pd.Timestamp("1969-12-31 23:59:59"), spec) == "-1"
    assert value_to_wire(pd.NaT, spec) == "0"
    assert value_to_wire(None, spec) == "0"


def test_tz_aware_columns_are_converted(schema):
    berlin = pd.Series(pd.to_datetime(["2025-06-01 12:00", None]).tz_localize("Europe/Berlin"), index=[5, 6])
    out = coerce_column(berlin, schema.field("date"))
    assert out.dtype == pd.DatetimeTZDtype("ns", "UTC")
    assert out.iloc[0] == pd.Timestamp("2025-06-01 10:00", tz="UTC")
    assert column_to_wire(berlin, schema.field("date")).tolist() == ["1748772000", "0"]


def test_check_and_text_na(schema):
    assert value_to_wire(True, schema.field("f1301")) == "1"
    assert value_to_wire(pd.NA, schema.field("f1301")) == "0"
    assert value_to_wire(pd.NA, schema.field("firstname")) is None
    assert value_to_wire("", schema.field("firstname")) is None  # blank is missing
    assert value_to_wire(12345, schema.field("firstname")) == "12345"
    assert value_to_wire([], schema.field("f1002")) == ""
    assert value_to_wire(["Blue", "Red"], schema.field("f1002")) == "*/*11*/*10*/*"
    assert value_to_wire(["VIP"], schema.field("contact_cat"), lookups=TAGS) == "*/*5*/*"
    assert value_to_wire("Gold", schema.field("f1001")) == "1"
    assert value_to_wire(None, schema.field("f1001")) == "0"
    assert value_to_wire(3, schema.field("owner")) == "3"
    assert value_to_wire(None, schema.field("owner")) == "0"
    assert value_to_wire(None, schema.field("bulk_mail")) == ""
    assert value_to_wire(4.0, schema.field("bulk_mail")) == "4"


@pytest.mark.parametrize(
    "key, value, why",
    [
        ("f1001", "Platinum", "not one of the options"),
        ("f1001", 1, "option label"),
        ("bulk_mail", "abc", "not a number"),
        ("bulk_mail", True, "not a number"),
        ("date", "next tuesday", "not a date"),
        ("date", 1735689600, "a number"),
        ("f1301", "maybe", "True/False"),
        ("f1002", ["Purple"], "not one of the options"),
        ("f1002", "Red", "a list of labels"),
        ("contact_cat", ["Brand new tag"], "no id is known"),
        ("owner", 2.5, "record id"),
        ("firstname", 2.5, "text field takes strings"),
        ("spent", "12,50", "not a number"),
    ],
)
def test_value_to_wire_errors(schema, key, value, why):
    with pytest.raises(SchemaError) as exc:
        value_to_wire(value, schema.field(key), lookups=TAGS if key == "contact_cat" else None)
    msg = str(exc.value)
    assert msg.startswith(f"field {key!r} ({schema.field(key).type}) does not take value {value!r}"), msg
    assert why in msg


# ---------------------------------------------------------------------------------------------------------
# Coercing and checking edited columns
# ---------------------------------------------------------------------------------------------------------


def test_check_column_reports_every_bad_cell(schema):
    edited = pd.Series(["2025-01-01", "x", None, 5, "2025-02-30", ""], index=[10, 11, 12, 13, 14, 15])
    bad = check_column(edited, schema.field("date"))
    assert [(b.row, b.value) for b in bad] == [(11, "x"), (13, 5), (14, "2025-02-30")]
    row, value, message = bad[0]  # unpacks as (row, value, message)
    assert row == 11 and value == "x" and "ISO 8601" in message


def test_coerce_column_raises_naming_row_column_value(schema):
    edited = pd.Series(["1", "two", 3.0, None, "4.5", True], index=pd.Index([7, 8, 9, 10, 11, 12], name="id"))
    with pytest.raises(SchemaError) as exc:
        coerce_column(edited, schema.field("bulk_mail"))
    msg = str(exc.value)
    assert "row 8, column 'bulk_mail', value 'two'" in msg
    assert "row 12, column 'bulk_mail', value True" in msg
    problems = exc.value.problems  # type: ignore[attr-defined]
    assert all(isinstance(p, Problem) for p in problems)
    assert [(p.row, p.column, p.value) for p in problems] == [
        (8, "bulk_mail", "two"),
        (12, "bulk_mail", True),
    ]


def test_coerce_casts_user_edits(schema):
    ints = coerce_column(pd.Series([1.0, None, 3.0]), schema.field("bulk_mail"))
    assert ints.dtype == pd.Int64Dtype() and ints.tolist()[0] == 1 and ints.isna().tolist()[1]
    strs = coerce_column(pd.Series(["1", "", None]), schema.field("bulk_mail"))
    assert strs.dtype == pd.Int64Dtype() and strs.isna().tolist() == [False, True, True]
    dates = coerce_column(pd.Series(["2025-01-01", dt.datetime(2024, 5, 1), None]), schema.field("date"))
    assert dates.dtype == pd.DatetimeTZDtype("ns", "UTC")
    assert dates.iloc[1] == pd.Timestamp("2024-05-01", tz="UTC")
    naive = coerce_column(pd.Series(pd.to_datetime(["2024-05-01"])), schema.field("date"))
    assert naive.iloc[0] == pd.Timestamp("2024-05-01", tz="UTC")
    checks = coerce_column(pd.Series(["1", 0, True, "false", None]), schema.field("f1301"))
    assert checks.dtype == pd.BooleanDtype() and checks.tolist()[:4] == [True, False, True, False]
    drops = coerce_column(pd.Series(["Gold", None, "Unused"]), schema.field("f1001"))
    assert drops.dtype == schema.field("f1001").dtype
    owner = coerce_column(pd.Series([3, 0, None]), schema.field("owner"))
    assert owner.isna().tolist() == [False, True, True]
    prices = coerce_column(pd.Series(["1.5", 2, None]), schema.field("spent"))
    assert prices.dtype == pd.Float64Dtype() and prices.tolist()[:2] == [1.5, 2.0]
    text = coerce_column(pd.Series(["a", None, np.nan]), schema.field("firstname"))
    assert text.dtype == pd.StringDtype("python") and text.isna().tolist() == [False, True, True]
    lists = coerce_column(pd.Series([["Red"], None, "*/*11*/*"]), schema.field("f1002"))
    assert lists.tolist() == [["Red"], [], ["Blue"]]


def test_subscription_unknown_names(schema):
    col = pd.Series([["VIP", "Brand new"], ["Lead"]], index=[1, 2])
    spec = schema.field("contact_cat")
    bad = check_column(col, spec, lookups=TAGS)
    assert [(b.row, b.value) for b in bad] == [(1, ["VIP", "Brand new"])] and "'Brand new'" in bad[0].message
    assert check_column(col, spec, lookups=TAGS, allow_unknown_labels=True) == []
    with pytest.raises(SchemaError, match="no id is known for 'Brand new'"):
        column_to_wire(col, spec, lookups=TAGS)


def test_check_frame_lists_every_bad_cell_of_every_column(schema):
    frame = pd.DataFrame(
        {
            "bulk_mail": pd.array([1, "x", 3], dtype=object),
            "f1001": ["Gold", "Gld", None],
            "date": ["2025-01-01", "2025-01-02", "never"],
            "not_a_field": ["whatever", 1, None],
        },
        index=pd.Index([101, 102, 103], name="id"),
    )
    problems = check_frame(frame, schema)
    assert [(p.row, p.column, p.value) for p in problems] == [
        (102, "bulk_mail", "x"),
        (102, "f1001", "Gld"),
        (103, "date", "never"),
    ]
    assert "'Gold'" in problems[1].message  # lists the options, with a close match


def test_frame_to_records_leaves_out_missing_ids(schema):
    frame = pd.DataFrame(
        {"firstname": pd.array(["New", "Old"], dtype="string")},
        index=pd.Index(pd.array([None, 5], dtype="Int64"), name="id"),
    )
    assert frame_to_records(frame, schema) == [{"firstname": "New"}, {"id": "5", "firstname": "Old"}]


def test_field_spec_defaults():
    spec = FieldSpec("k", "K", "drop", options={1: "One"})
    assert dict(spec.options) == {"1": "One"} and spec.dtype.categories.tolist() == ["One"]
    assert FieldSpec("k", "K", "text").read_only is False
    assert FieldSpec("k", "K", "mergefield").read_only is True


def test_records_of_any_mapping_type(schema):
    from types import MappingProxyType

    recs = [MappingProxyType({"id": "1", "bulk_mail": "4", "f1001": "3"}), MappingProxyType({"id": "2"})]
    df = frame_from_records(recs, schema)
    assert df.bulk_mail.tolist()[0] == 4 and df.bulk_mail.isna().tolist() == [False, True]
    assert df.f1001.tolist()[0] == "Bronze"


def test_large_columns_take_the_repeated_value_path(schema):
    # many rows repeating a few values (a factorized fast path), with blanks, nulls and a NaN among them
    n = 5000
    recs = [
        {"id": str(i + 1), "bulk_mail": ["1", "", None, "2"][i % 4], "spent": ["0.00", "", "1.50"][i % 3]}
        for i in range(n)
    ]
    df = frame_from_records(recs, schema)
    assert df.bulk_mail.isna().sum() == n // 2 and df.bulk_mail.sum() == (n // 4) * 3
    out = frame_to_records(df, schema)
    assert [r["bulk_mail"] for r in out[:4]] == ["1", "", "", "2"]
    assert [r["spent"] for r in out[:3]] == ["0.00", "", "1.50"]
    recs[7]["bulk_mail"] = float("nan")  # a NaN (JSON allows it) is NA too, never a number
    df = frame_from_records(recs, schema)
    assert df.bulk_mail.isna().sum() == n // 2 + 1


def test_cast_first_columns_without_blanks_and_late_surprises(schema):
    # A number-like column with no blank is cast in one go; a blank, a decimal or a bad cell far down
    # the column must still be found (the cast fails there, not at the first row).
    n = 5000
    recs = [
        {"id": str(i + 1), "bulk_mail": str(i), "owner": str(i % 7), "firstname": f"n{i}"} for i in range(n)
    ]
    df = frame_from_records(recs, schema)
    assert df.bulk_mail.dtype == pd.Int64Dtype() and df.bulk_mail.iloc[-1] == n - 1
    assert df.owner.isna().sum() == len(range(0, n, 7))  # "0" is no owner
    assert df.index.dtype == pd.Int64Dtype() and df.index[-1] == n
    late = [dict(r) for r in recs]
    late[-1]["bulk_mail"] = ""
    late[-2]["firstname"] = ""
    late[-3]["firstname"] = 42  # a JSON number in a text field reads as its digits
    df = frame_from_records(late, schema)
    assert df.bulk_mail.isna().tolist()[-2:] == [False, True]
    assert df.firstname.iloc[-2] is pd.NA and df.firstname.iloc[-3] == "42"
    assert df.firstname.dtype == pd.StringDtype("python")
    late[-1]["bulk_mail"] = "2.5"
    assert frame_from_records(late, schema).bulk_mail.dtype == pd.Float64Dtype()
    late[-1]["bulk_mail"] = "1e400"
    with pytest.raises(SchemaError, match=r"row 5000.*bulk_mail.*1e400"):
        frame_from_records(late, schema)
    late[-1]["bulk_mail"] = True  # a JSON boolean is not a number, wherever it is
    with pytest.raises(SchemaError, match="bulk_mail"):
        frame_from_records(late, schema)


def test_list_cells_are_fresh_lists_also_for_json_arrays(schema):
    recs = [
        {"id": "1", "f1002": "*/*10*/*11*/*"},
        {"id": "2", "f1002": "*/*10*/*11*/*"},
        {"id": "3", "f1002": ["10", 12]},
        {"id": "4", "f1002": None},
        {"id": "5", "f1002": "*/*"},
    ]
    df = frame_from_records(recs, schema)
    assert df.f1002.tolist() == [["Red", "Blue"], ["Red", "Blue"], ["Red", "Green"], [], []]
    df.f1002.iloc[0].append("Green")  # rows never share a list object
    assert df.f1002.iloc[1] == ["Red", "Blue"]
    assert df.f1002.iloc[3] is not df.f1002.iloc[4]
