"""where=, sort= and count() against the sandbox: long lists, the forms pandas users write, exact counts.

Every filtered load is compared with the same filter written in pandas on the full frame.
"""

from __future__ import annotations

import inspect
from urllib.parse import parse_qs, quote, urlsplit

import pandas as pd
import pytest

import ontraport_pandas as opd
from ontraport_pandas.query import compile_where, split_condition

from .test_accessors import ACCESSORS


@pytest.fixture
def full(op):
    return op.contacts(progress=False)


def _conditions(op) -> list[str]:
    """The condition parameter of every data request in the sandbox's log."""
    out = []
    for _, target, _ in op.sandbox.request_log:
        query = parse_qs(urlsplit(target).query)
        out.extend(query.get("condition", []))
    return out


def _same_rows(got: pd.DataFrame, want: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(got.sort_index(), want.sort_index())


# -- item 4: long conditions, deep and long expressions --------------------------------------------------


def test_long_in_list_over_http_is_split_and_exact(served_op):
    full = served_op.contacts(progress=False)
    real = full["email"].dropna().unique().tolist()[:150]
    emails = real + [f"nobody{i:05d}@nowhere.invalid" for i in range(2850)]  # 3,000: ~120 kB of URL
    got = served_op.contacts(where=f"email in {emails!r}", progress=False)
    _same_rows(got, full[full["email"].isin(emails).fillna(False).astype(bool)])
    assert served_op.count("contacts", where="email in @emails") == len(got)


def test_split_requests_stay_short_and_merge_exactly(op, full):
    op.max_condition_chars = 400
    names = sorted(full["lastname"].dropna().unique().tolist())[:60]
    states = ["CA", "TX", "NY", "FL"]
    where = "lastname in @names and state in @states or f1003 > 5"
    op.sandbox.reset_log()
    got = op.contacts(where=where, progress=False)
    sent = _conditions(op)
    assert len(set(sent)) > 2  # the condition went out in several parts
    assert all(len(quote(c, safe="")) <= 400 for c in sent)
    want = full[
        (full["lastname"].isin(names) & full["state"].isin(states)).fillna(False)
        | (full["f1003"] > 5).fillna(False)
    ]
    _same_rows(got, want)
    assert op.count("contacts", where=where) == len(want)


def test_long_not_in_list_is_a_superset_finished_in_pandas(op, full):
    op.max_condition_chars = 300
    ids = [int(i) for i in full.index[::3]]
    got = op.contacts(where="id not in @ids", progress=False)
    _same_rows(got, full[~full.index.isin(ids)])
    assert op.count("contacts", where="id not in @ids") == len(got)


def test_split_condition_parts():
    def item(op, values):
        return {"field": {"field": "email"}, "op": op, "value": {"list": [{"value": v} for v in values]}}

    big = item("IN", [f"user{i}@example.com" for i in range(400)])
    small = {"field": {"field": "state"}, "op": "=", "value": {"value": "CA"}}
    parts, exact = split_condition([small, "AND", big], 2000)
    assert exact and len(parts) > 1
    values = [v["value"] for p in parts for v in p[2]["value"]["list"]]
    assert values == [v["value"] for v in big["value"]["list"]]
    assert all(p[0] == small and p[1] == "AND" for p in parts)
    parts, exact = split_condition([small, "OR", big], 2000)
    assert exact and parts[0] == [small] and all("AND" not in p for p in parts)
    parts, exact = split_condition([small, "AND", item("NOT IN", [f"u{i}" for i in range(900)])], 2000)
    assert not exact and parts == [[small]]
    assert split_condition([small], 10) == ([[]], False)  # nothing fits: no condition, a superset
    assert split_condition([small, "OR", small], 10_000) == ([[small, "OR", small]], True)


@pytest.mark.parametrize(
    "expr",
    [
        "not " * 5000 + "firstname == 'a'",
        "~" * 5000 + "(firstname == 'a')",
        "(" * 300 + "spent == 1" + ")" * 300,
        " and ".join(["(spent == 1 or (spent == 2"] * 40) + "))" * 40,
    ],
)
def test_deep_expressions_raise_query_error(op, expr):
    op.contacts(limit=1, progress=False)
    op.sandbox.reset_log()
    with pytest.raises(opd.QueryError, match="deep|nest"):
        op.contacts(where=expr, progress=False)
    assert op.sandbox.request_log == []


def test_even_number_of_nots_in_a_long_chain_compiles(op, full):
    got = op.contacts(where="not " * 400 + "state == 'CA'", progress=False)
    _same_rows(got, full[(full["state"] == "CA").fillna(False)])


def test_thousands_of_terms_compile_to_one_in_list(op, full):
    ids = [int(i) for i in full.index[:4000:2]]
    ors = " or ".join(f"id == {i}" for i in ids)
    bars = " | ".join(f"(id == {i})" for i in ids)
    schema = op.session.schema(op.session.resolve("contacts"))
    for expr in (ors, bars):
        c = compile_where(expr, schema)
        assert c.condition[0]["op"] == "IN" and len(c.condition) == 1
    _same_rows(op.contacts(where=bars, progress=False), full.loc[ids])


def test_too_long_expression_raises(op, monkeypatch):
    import ontraport_pandas.query as q

    monkeypatch.setattr(q, "MAX_EXPRESSION_CHARS", 100)
    with pytest.raises(opd.QueryError, match="characters long"):
        op.contacts(where="state == 'CA' or " * 10 + "state == 'TX'", progress=False)


# -- item 7: the forms pandas users write ----------------------------------------------------------------


def test_text_not_equal_is_exact(op, full):
    got = op.contacts(where="state != 'CA'", progress=False)
    _same_rows(got, full[(full["state"] != "CA").fillna(False)])
    assert op.count("contacts", where="state != 'CA'") == len(got)


def test_not_in_a_tag_list(op, full):
    got = op.contacts(where="'Lead' not in contact_cat", progress=False)
    _same_rows(got, full[~full["contact_cat"].map(lambda tags: "Lead" in tags).astype(bool)])
    both = op.contacts(where="'Lead' not in contact_cat and state == 'CA'", progress=False)
    assert set(both.index) == set(got.index[(got["state"] == "CA").fillna(False).to_numpy()])


@pytest.mark.parametrize(
    ("inclusive", "lo", "hi"),
    [("both", True, True), ("neither", False, False), ("left", True, False), ("right", False, True)],
)
def test_between(op, full, inclusive, lo, hi):
    a, b = full["date"].quantile(0.25), full["date"].quantile(0.75)
    got = op.contacts(
        where=f"date.between('{a.isoformat()}', '{b.isoformat()}', inclusive='{inclusive}')", progress=False
    )
    _same_rows(got, full[full["date"].between(a, b, inclusive=inclusive).fillna(False)])
    n = op.contacts(where="f1003.between(2, 6)", progress=False)
    _same_rows(n, full[full["f1003"].between(2, 6).fillna(False)])
    outside = op.contacts(where="not f1003.between(2, 6)", progress=False)
    _same_rows(outside, full[(~full["f1003"].between(2, 6)).fillna(False) & full["f1003"].notna()])


def test_str_contains_case_and_regex(op, full):
    got = op.contacts(where="firstname.str.contains('AN', case=False)", progress=False)
    _same_rows(got, full[full["firstname"].str.contains("AN", case=False).fillna(False).astype(bool)])
    assert len(got) > 0
    rx = op.contacts(where=r"email.str.contains('^[a-d].*\\.com$')", progress=False)
    _same_rows(rx, full[full["email"].str.contains(r"^[a-d].*\.com$").fillna(False).astype(bool)])
    pct = op.contacts(where="email.str.contains('_', regex=False)", progress=False)
    _same_rows(pct, full[full["email"].str.contains("_", regex=False).fillna(False).astype(bool)])
    with pytest.raises(opd.QueryError, match="not a regular expression"):
        op.contacts(where="email.str.contains('(')", progress=False)


def test_at_variables_from_the_caller_and_params(op, full):
    wanted_state = "TX"
    limit_spent = 1  # noqa: F841 - read through @limit_spent
    got = op.contacts(where="state == @wanted_state and spent >= @limit_spent", progress=False)
    want = full[((full["state"] == "TX") & (full["spent"] >= 1)).fillna(False)]
    _same_rows(got, want)
    via_params = op.contacts(where="state == @s and spent >= @m", params={"s": "TX", "m": 1}, progress=False)
    _same_rows(via_params, want)
    # params win over the caller's variables; strings holding "@" are left alone
    wanted_state = "CA"  # noqa: F841 - read through @wanted_state
    got = op.contacts(where="state == @wanted_state", params={"wanted_state": "NY"}, progress=False)
    assert set(got["state"]) == {"NY"}
    at = op.contacts(where="email.str.contains('@')", progress=False)
    assert len(at) == full["email"].str.contains("@", regex=False).fillna(False).sum()
    since = pd.Timestamp(full["date"].median())
    _same_rows(op.frame("contacts", where="date >= @since", progress=False), full[full["date"] >= since])
    assert op.count("contacts", where="date >= @since") == int((full["date"] >= since).sum())
    states = pd.Series(["CA", "NY"])  # noqa: F841 - read through @states
    _same_rows(
        op.contacts(where="state.isin(@states)", progress=False), full[full["state"].isin(["CA", "NY"])]
    )


def test_undefined_at_variable_fails_before_any_request(op):
    op.contacts(limit=1, progress=False)
    op.sandbox.reset_log()
    with pytest.raises(opd.QueryError, match=r"@nobody_has_this is not defined.*params="):
        op.contacts(where="state == @nobody_has_this", progress=False)
    with pytest.raises(opd.QueryError, match="params="):
        op.contacts(params={"x": 1}, progress=False)
    with pytest.raises(opd.QueryError, match="holds several values"):
        op.contacts(where="state == @v", params={"v": ["CA"]}, progress=False)
    with pytest.raises(opd.QueryError, match="not a list"):
        op.contacts(where="state in @v", params={"v": "CA"}, progress=False)
    assert op.sandbox.request_log == []


def test_unpushable_parts_never_mention_a_missing_option(op, full):
    where = "(state == 'CA' or f1003 > 5) and (spent > 1 or f1003 < 2)"
    got = op.contacts(where=where, progress=False)
    s, f, sp = full["state"], full["f1003"], full["spent"]
    want = full[(((s == "CA") | (f > 5)) & ((sp > 1) | (f < 2))).fillna(False)]
    _same_rows(got, want)
    schema = op.session.schema(op.session.resolve("contacts"))
    with pytest.raises(opd.QueryError) as exc:
        compile_where("state != 'CA'", schema)
    assert "compile_where(..., partial=True)" in str(exc.value)


# -- item 8: count agrees with the load ------------------------------------------------------------------


@pytest.mark.parametrize(
    "where",
    [
        "firstname == 'brenda'",
        "firstname in ['joe', 'cynthia', 'Danielle']",
        "email.str.contains('example')",
        "lastname.str.startswith('B')",
        "state != 'CA' and f1003 > 2",
        "f1003 > 2",
        "'Lead' in contact_cat",
    ],
)
def test_count_equals_len_of_the_load(op, where):
    assert op.count("contacts", where=where) == len(op.contacts(where=where, progress=False))


def test_exact_counts_ask_getinfo_only(op):
    op.count("contacts", where="f1003 > 2")
    op.sandbox.reset_log()
    op.count("contacts", where="f1003 > 2")
    assert [t.split("?")[0] for _, t, _ in op.sandbox.request_log] == ["/1/Contacts/getInfo"]


# -- item 5: sort by several columns ---------------------------------------------------------------------


def _pandas_sorted(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    cols = [k.lstrip("-") for k in keys]
    return frame.sort_values(
        cols, ascending=[not k.startswith("-") for k in keys], kind="stable", na_position="last"
    )


@pytest.mark.parametrize(
    "keys", [["lastname", "firstname"], ["-state", "lastname"], ["f1001", "-spent", "id"], ["state", "-id"]]
)
def test_sort_by_several_columns(op, full, keys):
    got = op.contacts(sort=keys, progress=False)
    want = _pandas_sorted(full, keys)  # "id" names the index
    cols = [k.lstrip("-") for k in keys if k.lstrip("-") != "id"]
    pd.testing.assert_frame_equal(got[cols], want[cols])
    if keys == ["state", "-id"]:
        for _, group in got.groupby("state", sort=False):
            assert group.index.is_monotonic_decreasing


def test_sort_several_with_limit_and_where_is_exact(op, full):
    got = op.contacts(sort=["lastname", "-firstname"], limit=25, where="f1003 > 1", progress=False)
    want = _pandas_sorted(full[(full["f1003"] > 1).fillna(False)], ["lastname", "-firstname"]).iloc[:25]
    pd.testing.assert_frame_equal(got, want)
    few = op.contacts(sort=["lastname", "firstname"], limit=10, fields=["email"], progress=False)
    assert list(few.columns) == ["email"]
    assert list(few.index) == list(_pandas_sorted(full, ["lastname", "firstname"]).index[:10])


def test_bad_sort_fails_before_any_request(op):
    op.contacts(limit=1, progress=False)
    op.sandbox.reset_log()
    with pytest.raises(opd.UnknownFieldError, match="lastnme"):
        op.contacts(sort=["firstname", "lastnme"])
    with pytest.raises(opd.QueryError, match="holds lists"):
        op.contacts(sort=["firstname", "contact_cat"])
    with pytest.raises(opd.QueryError, match="twice"):
        op.contacts(sort=["firstname", "-firstname"])
    with pytest.raises(opd.QueryError):
        op.contacts(sort=[])
    assert op.sandbox.request_log == []


def test_single_key_sort_as_a_list_is_the_single_key_sort(op):
    pd.testing.assert_frame_equal(
        op.contacts(sort=["-date"], limit=7, progress=False),
        op.contacts(sort="-date", limit=7, progress=False),
    )


def test_sort_after_a_split_load(op, full):
    op.max_condition_chars = 300
    ids = [int(i) for i in full.index[::2]]
    got = op.contacts(where="id in @ids", sort="lastname", progress=False)
    names = got["lastname"]
    assert names.dropna().is_monotonic_increasing
    assert names.isna().sum() > 0 and names.iloc[-names.isna().sum() :].isna().all()  # blanks last
    assert sorted(got.index) == sorted(ids)


# -- item 12: accessor signatures and docs ---------------------------------------------------------------


OPTIONS = ["where", "fields", "search", "sort", "limit", "progress", "cache", "params", "externs", "labels"]


@pytest.mark.parametrize("name", ACCESSORS)
def test_accessors_show_their_options(op, name):
    method = getattr(op, name)
    sig = inspect.signature(method)
    assert list(sig.parameters) == OPTIONS
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in sig.parameters.values())
    assert sig.parameters["limit"].default is None and sig.parameters["cache"].default is False
    doc = inspect.getdoc(method) or ""
    for option in OPTIONS:
        assert f"\n{option} :" in doc
    assert "Returns\n-------" in doc and "**options" not in str(sig)
    frame_sig = inspect.signature(op.frame)
    assert list(frame_sig.parameters) == ["object_type", *OPTIONS]


def test_accessors_refuse_unknown_options_by_name(op):
    with pytest.raises(TypeError, match=r"contacts\(\).*'wher'"):
        op.contacts(wher="state == 'CA'")
    with pytest.raises(TypeError, match="deals"):
        op.deals("x")


def test_accessor_equals_frame(op):
    pd.testing.assert_frame_equal(
        op.deals(where="id > 3", sort="-id", limit=4, progress=False),
        op.frame("deals", where="id > 3", sort="-id", limit=4, progress=False),
    )


def test_cached_loads_apply_the_same_filters_and_sorts(op, full):
    where = "state != 'CA' and firstname.str.contains('a', case=False)"
    keys = ["state", "-lastname"]
    plain = op.contacts(where=where, sort=keys, progress=False)
    op.contacts(cache=True, progress=False)  # fills the cache
    cached = op.contacts(where=where, sort=keys, cache=True, progress=False)
    pd.testing.assert_frame_equal(cached, plain)
    want = _pandas_sorted(
        full[((full["state"] != "CA") & full["firstname"].str.contains("a", case=False)).fillna(False)], keys
    )
    pd.testing.assert_frame_equal(plain, want)


def test_empty_lists_from_variables(op, full):
    none: list[str] = []  # noqa: F841 - read through @none
    assert op.contacts(where="email in @none", progress=False).empty
    assert op.count("contacts", where="email in @none or state == 'CA'") == int((full["state"] == "CA").sum())
    _same_rows(op.contacts(where="email not in @none", progress=False), full[full["email"].notna()])
    _same_rows(
        op.contacts(where="f1003.isin(@none) or f1003 > 5", params={"none": ()}, progress=False),
        full[(full["f1003"] > 5).fillna(False)],
    )
    with pytest.raises(opd.QueryError, match="empty list"):
        op.contacts(where="email in []", progress=False)


def test_a_split_load_shows_one_progress_bar(op, full, capsys):
    pytest.importorskip("tqdm")
    op.max_condition_chars = 300
    ids = [int(i) for i in full.index[::2]]
    got = op.contacts(where="id in @ids", progress=True)
    _same_rows(got, full.loc[ids])
    err = capsys.readouterr().err
    assert "condition in parts" in err
    assert "contacts:" not in err.replace("contacts (condition in parts)", "")
