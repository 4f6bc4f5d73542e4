"""The typed accessors on the sandbox: counts, index, dtypes, filters, fields, sort, limit."""

from __future__ import annotations

import pandas as pd
import pytest

import ontraport_pandas as opd

ACCESSORS = [
    "contacts",
    "tasks",
    "deals",
    "companies",
    "sequences",
    "rules",
    "forms",
    "messages",
    "notes",
    "products",
    "purchases",
    "transactions",
    "offers",
    "tags",
    "groups",
    "automations",
    "campaigns",
]


@pytest.mark.parametrize("name", ACCESSORS)
def test_every_accessor_returns_all_records_typed(op, name):
    frame = getattr(op, name)(progress=False)
    otype = op.session.resolve(name)
    assert len(frame) == op.count(name)
    assert frame.index.name == "id"
    assert str(frame.index.dtype) == "Int64"
    assert frame.index.is_unique and frame.index.is_monotonic_increasing
    fields = op.fields(name)
    for col in frame.columns:
        want = fields.loc[col, "dtype"]
        got = str(frame[col].dtype)
        # numeric fields holding decimals (spam_score) widen to Float64 rather than lose them
        assert got == want or (want == "Int64" and got == "Float64"), col
    assert frame.attrs["ontraport"]["object_type"] == otype.name
    assert frame.attrs["ontraport"]["live"] is False


def test_contacts_have_real_types(op):
    c = op.contacts(progress=False)
    assert isinstance(c["date"].dtype, pd.DatetimeTZDtype)
    assert str(c["f1003"].dtype) == "Int64"
    assert str(c["f1004"].dtype) == "Float64"
    assert str(c["f1006"].dtype) == "boolean"
    assert isinstance(c["f1001"].dtype, pd.CategoricalDtype)
    assert set(op.fields("contacts").loc["f1001", "options"]) == set(c["f1001"].cat.categories)
    assert str(c["email"].dtype) == "string"
    tags = c["contact_cat"]
    assert tags.map(lambda v: isinstance(v, list)).all()
    assert set().union(*tags) <= set(op.tags(progress=False)["tag_name"])
    assert c["date"].isna().sum() == 0


def test_frame_takes_any_name_and_custom_objects(op):
    objects = op.objects()
    custom = objects[objects["custom"]]
    assert len(custom) >= 1
    name = custom["name"].iloc[0]
    frame = op.frame(name, progress=False)
    assert len(frame) == op.count(int(custom.index[0]))
    assert frame.equals(op.frame(int(custom.index[0]), progress=False))


WHERES = [
    ("f1003 > 3", lambda c: c["f1003"] > 3),
    ("f1003 >= 3 and f1003 <= 7", lambda c: (c["f1003"] >= 3) & (c["f1003"] <= 7)),
    ("f1001 == 'Gold'", lambda c: c["f1001"] == "Gold"),
    ("f1001 in ['Gold', 'Silver']", lambda c: c["f1001"].isin(["Gold", "Silver"])),
    ("f1001 not in ['Gold', 'Silver']", lambda c: c["f1001"].notna() & ~c["f1001"].isin(["Gold", "Silver"])),
    ("date >= '2025-06-01'", lambda c: c["date"] >= pd.Timestamp("2025-06-01", tz="UTC")),
    ("f1006 == True", lambda c: c["f1006"] == True),  # noqa: E712
    ("email.str.endswith('@gmail.com')", lambda c: c["email"].str.endswith("@gmail.com")),
    ("lastname.str.startswith('S')", lambda c: c["lastname"].str.startswith("S")),
    ("firstname.str.contains('an')", lambda c: c["firstname"].str.contains("an", regex=False)),
    ("f1005.isna()", lambda c: c["f1005"].isna()),
    ("f1005.notna()", lambda c: c["f1005"].notna()),
    ("f1003 > 5 or f1004 > 500", lambda c: (c["f1003"] > 5) | (c["f1004"] > 500)),
    ("'VIP' in contact_cat", lambda c: c["contact_cat"].map(lambda t: "VIP" in t)),
    ("firstname == 'Kevin'", lambda c: c["firstname"] == "Kevin"),
]


@pytest.mark.parametrize(("expr", "expected"), WHERES, ids=[w[0] for w in WHERES])
def test_where_matches_filtering_the_full_frame(op, expr, expected):
    full = op.contacts(progress=False)
    want = full[expected(full).fillna(False).astype(bool)]
    got = op.contacts(where=expr, progress=False)
    assert len(want) > 0 or expr.endswith("isna()")
    pd.testing.assert_frame_equal(got.drop(columns=[]), want, check_dtype=True)


def test_fields_narrow_the_load(op):
    op.sandbox.reset_log()
    frame = op.contacts(fields=["firstname", "email"], progress=False)
    assert list(frame.columns) == ["firstname", "email"]
    assert len(frame) == op.count("contacts")
    assert any("listFields=" in path for _, path, _ in op.sandbox.request_log)


def test_fields_with_where_on_other_column(op):
    frame = op.contacts(fields=["email"], where="f1003 > 5", progress=False)
    full = op.contacts(progress=False)
    assert list(frame.columns) == ["email"]
    assert frame.index.equals(full[full["f1003"] > 5].index)


def test_sort_and_limit(op):
    frame = op.contacts(sort="-date", limit=7, progress=False)
    full = op.contacts(progress=False)
    assert len(frame) == 7
    assert frame["date"].is_monotonic_decreasing
    assert frame["date"].iloc[0] == full["date"].max()


def test_search(op):
    some = op.contacts(progress=False)["lastname"].dropna()
    name = some[some.str.len() > 4].iloc[0]
    found = op.contacts(search=name, progress=False)
    assert len(found) >= 1
    assert found["lastname"].str.lower().str.contains(name.lower()).any()


def test_unknown_fields_and_bad_expressions_fail_before_any_data_request(op):
    op.contacts(limit=1, progress=False)  # metadata cached
    op.sandbox.reset_log()
    with pytest.raises(opd.UnknownFieldError, match="fristname"):
        op.contacts(fields=["fristname"])
    with pytest.raises(opd.UnknownFieldError):
        op.contacts(where="fristname == 'x'")
    with pytest.raises(opd.QueryError):
        op.contacts(where="f1003 + 1 > 2")
    with pytest.raises(opd.UnknownFieldError):
        op.contacts(sort="nope")
    assert op.sandbox.request_log == []


def test_get_single_records(op):
    c = op.contacts(progress=False)
    rid = int(c.index[3])
    row = op.contact(rid)
    assert row.name == rid
    pd.testing.assert_series_equal(row, c.loc[rid], check_names=False)
    assert op.get("contacts", rid)["email"] == c.loc[rid, "email"]
    email = c["email"].dropna().iloc[5]
    assert op.contact_by_email(email)["email"] == email
    with pytest.raises(opd.NotFoundError):
        op.contact(10**9)
    with pytest.raises(opd.NotFoundError):
        op.contact_by_email("nobody@nowhere.invalid")


def test_count_with_where(op):
    full = op.contacts(progress=False)
    assert op.count("contacts", where="f1003 > 4") == int((full["f1003"] > 4).sum())


def test_fields_frame(op):
    f = op.fields("contacts")
    assert {"label", "type", "dtype", "editable", "required", "options"} <= set(f.columns)
    assert f.loc["email", "type"] == "email"
    assert not f.loc["date", "editable"]


def test_objects_lists_the_catalog(op):
    objects = op.objects()
    assert {"contacts", "tasks", "deals", "automations"} <= set(objects["name"])


def test_served_and_in_process_agree(op, served_op):
    a = op.contacts(progress=False)
    b = served_op.contacts(progress=False)
    pd.testing.assert_frame_equal(a, b)
    assert served_op.live is False and "127.0.0.1" in served_op.name


def test_dropdown_option_zero_is_a_value_not_unset(op):
    c = op.contacts(progress=False)
    assert "Transactional Only" in set(c["bulk_mail"].dropna())  # bulk_mail 0
    assert c["bulk_mail"].notna().all()
    t = op.tasks(progress=False)
    assert "Pending" in set(t["status"].dropna())  # task status 0
    got = op.contacts(where="bulk_mail == 'Transactional Only'", progress=False)
    assert len(got) == int((c["bulk_mail"] == "Transactional Only").sum())
    assert len(op.contacts(where="bulk_mail.isna()", progress=False)) == 0


def test_option_ids_in_where_get_a_helpful_error(op):
    with pytest.raises(opd.QueryError, match="'Opted-in'"):
        op.contacts(where="bulk_mail == 1")
