"""The frames the writer is given: indexes, new rows, duplicate columns, bad cells, list columns.

Every refusal is checked to happen before anything is sent (no write request reaches the
sandbox); every accepted frame is applied and read back.
"""

from __future__ import annotations

import ast
import io

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ontraport_pandas as opd

VOLATILE = ["dlm"]


def writes(op):
    return [(m, p) for m, p, _ in op.sandbox.request_log if m != "GET"]


def refused(op, frame, **options):
    """The problems ``op.plan(frame)`` raises, after checking that nothing was sent."""
    op.sandbox.reset_log()
    with pytest.raises(opd.ValidationError) as info:
        op.plan(frame, **options)
    assert "nothing was sent" in str(info.value)
    assert writes(op) == []
    return info.value.problems


def with_attrs(frame, loaded):
    frame = frame.copy()
    frame.attrs = loaded.attrs
    return frame


def unchanged(op, loaded):
    after = op.contacts(progress=False)
    pd.testing.assert_frame_equal(after.drop(columns=VOLATILE), loaded.drop(columns=VOLATILE))


# -- 1. an index that is not the record ids ------------------------------------------------
def test_positional_index_is_refused_naming_the_index(op):
    c = op.contacts(progress=False)
    for edited in (
        with_attrs(c.reset_index(drop=True), c),
        with_attrs(pd.concat([c, c.iloc[:0]], ignore_index=True), c),
    ):
        problems = refused(op, edited)
        assert len(problems) == 1, problems  # one problem about the index, not one per cell
        text = str(problems[0])
        assert "the index is not the record ids" in text and "positional" in text
        assert "set_index('id')" in text and "keep the loaded index" in text
    unchanged(op, c)


def test_positional_index_of_editable_columns_does_not_move_values(op):
    # Without read-only columns nothing else would notice: ids 1..n-1 would get their neighbours' names.
    c = op.contacts(fields=["firstname", "lastname"], progress=False)
    problems = refused(op, with_attrs(c.reset_index(drop=True), c))
    assert len(problems) == 1 and "positional" in problems[0].message
    after = op.contacts(fields=["firstname", "lastname"], progress=False)
    pd.testing.assert_frame_equal(after, c)


def test_reset_index_with_id_column_points_to_set_index(op):
    c = op.contacts(progress=False)
    problems = refused(op, with_attrs(c.reset_index(), c))
    assert len(problems) == 1
    assert "It has an 'id' column: restore the index with edited.set_index('id')" in problems[0].message
    # The fix it names works: the same frame with set_index("id") is an empty plan.
    assert op.plan(with_attrs(c.reset_index().set_index("id"), c)).empty


def test_id_column_that_matches_the_index_is_ignored(op):
    c = op.contacts(progress=False)
    edited = c.copy()
    edited["id"] = edited.index
    assert op.plan(edited).empty
    edited.loc[c.index[3], "id"] = 10**7  # disagrees with its index: which one is the record?
    problems = refused(op, edited)
    assert len(problems) == 1 and "differ from the 'id' column" in problems[0].message


def test_original_not_indexed_by_id_is_a_validation_error(op):
    c = op.contacts(progress=False)
    for original in (c.reset_index(drop=True), pd.concat([c, c.iloc[:1].set_axis([np.nan])])):
        problems = refused(op, c, original=original)
        assert len(problems) == 1 and "original frame is not indexed by record id" in problems[0].message


def test_email_and_fractional_indexes_are_refused(op):
    c = op.contacts(progress=False)
    by_email = with_attrs(c[c["email"].notna()].set_index("email"), c)
    problems = refused(op, by_email)
    assert len(problems) == 1 and "index 'email'" in problems[0].message
    assert "e-mail addresses" in problems[0].message

    floats = with_attrs(c.set_axis(c.index.astype("float64") + 0.5), c)
    problems = refused(op, floats)
    assert len(problems) == 1 and "numbers that are not record ids" in problems[0].message
    unchanged(op, c)


def test_resorted_index_is_refused(op):
    c = op.contacts(progress=False)
    resorted = c.sort_values("lastname")
    resorted.index = c.index  # the values of one record now sit under another record's id
    problems = refused(op, with_attrs(resorted, c))
    assert len(problems) == 1
    assert "re-sorted or reassigned" in problems[0].message
    unchanged(op, c)


# -- 2. float labels are ids; only NA marks a new row ---------------------------------------
@pytest.mark.parametrize("label", [np.nan, None])
def test_concat_of_a_new_row_creates_one_record(op, label):
    c = op.contacts(progress=False)
    before = op.count("contacts")
    new = pd.DataFrame(
        {"firstname": ["Nova"], "lastname": ["Appended"], "email": ["nova.appended@example.org"]},
        index=[label],
    )
    edited = with_attrs(pd.concat([c, new]), c)
    assert pd.api.types.is_float_dtype(edited.index.dtype) or edited.index.dtype == object
    plan = op.plan(edited)
    assert plan.counts["create"] == 1 and plan.counts["update"] == 0, plan.counts
    plan.apply().raise_for_errors()
    assert op.count("contacts") == before + 1
    after = op.contacts(progress=False)
    made = after[after["email"] == "nova.appended@example.org"]
    assert len(made) == 1 and made["lastname"].iloc[0] == "Appended"
    old = after.loc[c.index]
    pd.testing.assert_frame_equal(old.drop(columns=VOLATILE), c.drop(columns=VOLATILE))


def test_csv_round_trip_with_one_blank_id(op):
    c = op.contacts(progress=False)
    cols = ["firstname", "lastname", "email"]
    rid = int(c.index[4])
    out = pd.concat(
        [
            c[cols],
            pd.DataFrame(
                {"firstname": ["Csv"], "lastname": ["Row"], "email": ["csv.row@example.org"]},
                index=pd.Index([pd.NA], dtype="Int64", name="id"),
            ),
        ]
    )
    out.loc[rid, "lastname"] = "FromCsv"
    buf = io.StringIO()
    out.to_csv(buf)
    edited = pd.read_csv(io.StringIO(buf.getvalue()), index_col="id", keep_default_na=False, na_values=[""])
    assert pd.api.types.is_float_dtype(edited.index.dtype)  # the blank id made it float
    before = op.count("contacts")
    plan = op.plan(edited, original=c, object_type="contacts")
    assert [(o.kind, o.record_id) for o in plan.ops] == [("create", None), ("update", rid)]
    plan.apply().raise_for_errors()
    assert op.count("contacts") == before + 1
    after = op.contacts(progress=False)
    assert after.loc[rid, "lastname"] == "FromCsv"
    made = after[after["email"] == "csv.row@example.org"]
    # Every column of the new row is sent, also those where no existing row really changed.
    assert made[["firstname", "lastname"]].values.tolist() == [["Csv", "Row"]]


def test_float_index_keeps_updating_by_id(op):
    c = op.contacts(progress=False)
    edited = with_attrs(c.set_axis(c.index.astype("float64")), c)
    assert op.plan(edited).empty
    rid = int(c.index[7])
    edited.loc[float(rid), "firstname"] = "Floaty"
    before = op.count("contacts")
    plan = op.plan(edited)
    assert [(o.kind, o.record_id, list(o.fields)) for o in plan.ops] == [("update", rid, ["firstname"])]
    plan.apply().raise_for_errors()
    assert op.count("contacts") == before
    assert op.contact(rid)["firstname"] == "Floaty"


def test_new_row_forms(op):
    from ontraport_pandas.validation import classify_index

    index = pd.Index(
        [
            12,
            12.0,
            "12",
            "12.0",
            np.nan,
            None,
            pd.NA,
            "",
            -1,
            "-3",
            "new-1",
            "New row",
            0,
            1.5,
            "a@b.co",
            True,
        ],
        dtype=object,
    )
    kinds = classify_index(index).kind.tolist()
    assert kinds == [0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2]
    assert classify_index(index).ids.tolist()[:4] == [12, 12, 12, 12]


# -- 3. problems reported together, before anything is sent --------------------------------
def test_duplicate_columns_inf_surrogate_and_decimals_are_reported_together(op):
    c = op.contacts(progress=False)
    r = [int(x) for x in c.index[:6]]
    edited = c.copy()
    edited.loc[r[0], "f1004"] = np.inf
    edited.loc[r[1], "firstname"] = "Bad\udc80Bytes"
    edited.loc[r[3], "email"] = "not-an-email"
    edited = pd.concat([edited, edited[["lastname"]]], axis=1)  # "lastname" twice
    edited.attrs = c.attrs
    problems = refused(op, edited)
    found = {(p.row, p.column) for p in problems}
    assert (None, "lastname") in found
    assert (r[0], "f1004") in found
    assert (r[1], "firstname") in found
    assert (r[3], "email") in found
    by_col = {p.column: p for p in problems}
    assert "appears 2 times" in by_col["lastname"].message
    assert "not a finite number" in by_col["f1004"].message
    assert "lone surrogate" in by_col["firstname"].message and by_col["firstname"].value == "Bad\udc80Bytes"
    unchanged(op, c)


def test_price_with_more_than_two_decimals_names_the_stored_value(op):
    c = op.contacts(progress=False)
    rid = int(c.index[2])
    edited = c.copy()
    edited.loc[rid, "f1004"] = 12.345
    problems = refused(op, edited)
    assert [(p.row, p.column, p.value) for p in problems] == [(rid, "f1004", 12.345)]
    assert "12.34" in problems[0].message and ".round(2)" in problems[0].message


def test_surrogate_in_a_new_row_and_in_a_tag_name_is_refused(op):
    c = op.contacts(progress=False)
    rid = int(c.index[0])
    edited = c.copy()
    edited.at[rid, "contact_cat"] = ["Caf\udce9"]
    new = pd.DataFrame(
        {"firstname": ["Jos\udce9"], "email": ["jose@example.org"]},
        index=pd.Index([pd.NA], dtype="Int64"),
        dtype=object,  # pandas 3 with pyarrow refuses to store a surrogate in its own string dtype
    )
    edited = with_attrs(pd.concat([edited, new]), c)
    problems = refused(op, edited)
    assert {(p.row, p.column) for p in problems} == {(rid, "contact_cat"), (f"new-{len(c)}", "firstname")}
    assert all("lone surrogate" in p.message for p in problems)
    unchanged(op, c)


def test_required_field_cannot_be_cleared(op):
    d = op.deals(progress=False)
    a, b = (int(x) for x in d.index[:2])
    edited = d.copy()
    edited.loc[a, "name"] = pd.NA
    edited.loc[b, "name"] = "   "
    new = pd.DataFrame({"name": ["  "], "value": [10.0]}, index=pd.Index([pd.NA], dtype="Int64"))
    edited = with_attrs(pd.concat([edited, new]), d)
    op.sandbox.reset_log()
    with pytest.raises(opd.ValidationError) as info:
        op.plan(edited)
    found = {(p.row, p.column) for p in info.value.problems}
    assert {(a, "name"), (b, "name"), (f"new-{len(d)}", "name")} <= found
    assert writes(op) == []
    after = op.deals(progress=False)
    assert after.loc[[a, b], "name"].tolist() == d.loc[[a, b], "name"].tolist()


# -- 4. an all-NA new row ------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore:The behavior of DataFrame concatenation:FutureWarning")  # pandas 2.2
def test_all_na_new_row_needs_allow_empty(op):
    c = op.contacts(progress=False)
    empty = pd.DataFrame(index=pd.Index([pd.NA], dtype="Int64", name="id"), columns=c.columns)
    edited = with_attrs(pd.concat([c, empty]), c)
    problems = refused(op, edited)
    assert len(problems) == 1 and problems[0].row == f"new-{len(c)}"
    assert "allow_empty=True" in problems[0].message
    before = op.count("contacts")
    plan = op.plan(edited, allow_empty=True)
    assert plan.counts["create"] == 1
    plan.apply().raise_for_errors()
    assert op.count("contacts") == before + 1


# -- 16. list-valued columns take lists ----------------------------------------------------
def test_csv_round_trip_of_tags_is_refused_with_the_cause(op):
    c = op.contacts(progress=False)
    buf = io.StringIO()
    lists = ["contact_cat", "updateSequence", "updateCampaign", "f1002"]
    c[["firstname", *lists]].to_csv(buf)
    back = pd.read_csv(io.StringIO(buf.getvalue()), index_col="id", keep_default_na=False)
    tagged = [int(x) for x in c.index[c["contact_cat"].map(len) > 0][:3]]
    problems = refused(op, back, original=c, object_type="contacts")
    cols = {p.column for p in problems}
    assert cols == set(lists)
    tag_rows = {p.row: p for p in problems if p.column == "contact_cat"}
    assert set(tagged) <= set(tag_rows)
    assert "CSV or spreadsheet round trip" in tag_rows[tagged[0]].message
    assert tag_rows[tagged[0]].value == str(c.at[tagged[0], "contact_cat"])
    after = op.contacts(progress=False)
    assert after.loc[tagged, "contact_cat"].tolist() == c.loc[tagged, "contact_cat"].tolist()
    # Parsed back into lists, the same frame is an empty plan.
    for col in lists:
        back[col] = back[col].map(ast.literal_eval)
    assert op.plan(back, original=c, object_type="contacts").empty


def test_a_plain_string_in_a_list_column_is_refused(op):
    c = op.contacts(progress=False)
    rid = int(c.index[1])
    edited = c.copy()
    edited.at[rid, "contact_cat"] = "Yoga"
    problems = refused(op, edited)
    assert [(p.row, p.column, p.value) for p in problems] == [(rid, "contact_cat", "Yoga")]
    assert "not a string" in problems[0].message


def test_removing_tags_from_many_rows_needs_confirm(op):
    c = op.contacts(progress=False)
    tagged = c.index[c["contact_cat"].map(len) > 0][:30]
    assert len(tagged) == 30
    edited = c.copy()
    edited.loc[tagged, "contact_cat"] = pd.Series([[] for _ in tagged], index=tagged, dtype=object)
    plan = op.plan(edited)
    assert plan.counts["clears"] == 0 and plan.counts["tag_removals"] >= 30
    need = plan.confirm_required
    assert need == 30
    op.sandbox.reset_log()
    with pytest.raises(opd.ConfirmationRequired) as info:
        plan.apply()
    # the message says what makes the plan destructive (not "0 delete(s), 0 cleared cell(s)")
    removed = plan.counts["tag_removals"]
    assert f"{removed} tag(s) removed from rows" in str(info.value)
    assert "delete" not in str(info.value) and "cleared" not in str(info.value)
    assert plan.confirm_reasons == [f"{removed} tag(s) removed from rows"]
    assert f"big or destructive ({removed} tag(s) removed from rows)" in repr(plan)
    assert writes(op) == []
    plan.apply(confirm=need).raise_for_errors()
    after = op.contacts(progress=False)
    assert after.loc[tagged, "contact_cat"].map(len).eq(0).all()


def test_na_tags_with_on_null_skip_keep_the_tags(op):
    c = op.contacts(progress=False)
    tagged = c.index[c["contact_cat"].map(len) > 0][:2]
    edited = c.copy()
    edited.loc[tagged, "contact_cat"] = pd.Series([None, None], index=tagged, dtype=object)
    assert op.plan(edited, on_null="skip").empty
    assert op.plan(edited).counts["tag_removals"] >= 2


# -- 17. the plan shows what will be stored --------------------------------------------------
def test_plan_shows_stored_values_for_clears_and_prices(op):
    c = op.contacts(progress=False)
    has = c[(c["f1003"].fillna(0) > 0) & c["f1006"].fillna(False) & (c["f1004"].fillna(0) > 0)].index
    rid, other = int(has[0]), int(c.index[c.index != has[0]][0])
    edited = c.copy()
    edited.loc[rid, ["f1003", "f1006", "f1004"]] = pd.NA
    edited.loc[other, "f1004"] = 16.5
    plan = op.plan(edited)
    shown = plan.to_frame().set_index(["record_id", "column"])
    assert shown.loc[(rid, "f1003"), "new"] == 0
    assert shown.loc[(rid, "f1006"), "new"] is False or shown.loc[(rid, "f1006"), "new"] == False  # noqa: E712
    assert shown.loc[(rid, "f1004"), "new"] == 0.0
    assert shown.loc[(other, "f1004"), "new"] == 16.5
    assert "0 (clear)" in plan._repr_html_()
    plan.apply().raise_for_errors()
    after = op.contacts(progress=False)
    assert after.loc[rid, "f1003"] == 0 and not after.loc[rid, "f1006"] and after.loc[rid, "f1004"] == 0
    assert after.loc[other, "f1004"] == 16.5


def test_whitespace_only_changes_are_visible(op):
    c = op.contacts(progress=False)
    rid = int(c.index[c["firstname"].notna()][0])
    name = c.loc[rid, "firstname"]
    edited = c.copy()
    edited.loc[rid, "firstname"] = name + " "
    plan = op.plan(edited)
    assert f"'{name} '" in repr(plan) and f"'{name}'" in repr(plan)
    assert f"&#x27;{name} &#x27;" in plan._repr_html_()


def test_matched_create_shows_the_current_values_as_old(op):
    c = op.contacts(progress=False)
    rid = int(c.index[c["email"].notna() & c["firstname"].notna()][3])
    email = c.loc[rid, "email"]
    new = pd.DataFrame(
        {"firstname": ["Replaced"], "email": [email.upper()]}, index=pd.Index([pd.NA], dtype="Int64")
    )
    plan = op.plan(with_attrs(pd.concat([c, new]), c))
    (create,) = [o for o in plan.ops if o.kind == "create"]
    assert create.match_id == rid
    assert create.old == {"firstname": c.loc[rid, "firstname"], "email": email}
    shown = plan.to_frame().set_index("column")
    assert shown.loc["firstname", "old"] == c.loc[rid, "firstname"]
    assert shown.loc["firstname", "new"] == "Replaced"


# -- the index, whatever pandas did to it: a property ----------------------------------------
@pytest.fixture(scope="module")
def small():
    client = opd.connect("sandbox", contacts=40, rate_limit=None)
    yield client, client.contacts(progress=False)
    client.close()


NEW_LABELS = st.sampled_from([np.nan, None, pd.NA, "new-a", -1])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    order=st.permutations(list(range(40))),
    keep=st.integers(min_value=1, max_value=40),
    new_label=NEW_LABELS,
    cast=st.sampled_from(["as loaded", "float", "object", "str"]),
    positional=st.booleans(),
)
def test_plan_creates_exactly_the_new_rows_whatever_the_index(
    small, order, keep, new_label, cast, positional
):
    op, c = small
    rows = c.iloc[order[:keep]]
    new = pd.DataFrame({"firstname": ["Prop"], "email": ["prop@example.org"]}, index=[new_label])
    edited = pd.concat([rows, new])
    if cast == "float":
        edited.index = pd.Index(pd.to_numeric(edited.index.to_series(), errors="coerce").to_numpy(float))
    elif cast == "object":
        edited.index = edited.index.astype(object)
    elif cast == "str":
        edited.index = pd.Index([str(x) if isinstance(x, (int, np.integer)) else x for x in edited.index])
    if cast == "float" and isinstance(new_label, str):
        edited = edited.iloc[:-1]  # "new-a" is no number; the float cast made it NA above
        edited = pd.concat([edited, new.set_axis([np.nan])])
    if positional:
        edited = edited.reset_index(drop=True)
    edited.attrs = c.attrs
    if positional:
        with pytest.raises(opd.ValidationError) as info:
            op.plan(edited)
        assert len(info.value.problems) == 1 and "positional" in info.value.problems[0].message
        return
    plan = op.plan(edited)
    assert plan.counts["create"] == 1 and plan.counts["update"] == 0, plan.counts
    assert plan.counts["delete"] == 0 and plan.counts["add_tags"] == plan.counts["remove_tags"] == 0


def test_a_fresh_frame_is_created_once_its_index_is_na(op):
    fresh = pd.DataFrame(
        {"firstname": ["Fresh", "Frame"], "email": ["fresh.one@example.org", "fresh.two@example.org"]}
    )
    problems = refused(op, fresh, object_type="contacts")
    assert "give each an NA index label" in problems[0].message
    fresh.index = pd.Index([pd.NA] * len(fresh), dtype="Int64")
    before = op.count("contacts")
    plan = op.plan(fresh, object_type="contacts")
    assert plan.counts["create"] == 2
    plan.apply().raise_for_errors()
    assert op.count("contacts") == before + 2
    after = op.contacts(progress=False)
    assert set(after.loc[after["email"].str.startswith("fresh.", na=False), "firstname"]) == {
        "Fresh",
        "Frame",
    }


def test_an_id_column_of_text_that_is_no_id_is_refused(op):
    c = op.contacts(progress=False)
    edited = c.copy()
    edited["id"] = [str(x) for x in c.index]
    assert op.plan(edited).empty  # the ids as text still agree with the index
    edited.loc[c.index[0], "id"] = "abc"
    problems = refused(op, edited)
    assert len(problems) == 1 and "differ from the 'id' column" in problems[0].message


def test_preview_names_tag_removals_and_shows_whitespace(op):
    pytest.importorskip("ipywidgets")
    from ontraport_pandas.widgets import PlanPreview

    c = op.contacts(progress=False)
    tagged = c.index[c["contact_cat"].map(len) > 0][:30]
    rid = int(c.index[c["firstname"].notna()][0])
    edited = c.copy()
    edited.loc[tagged, "contact_cat"] = pd.Series([[] for _ in tagged], index=tagged, dtype=object)
    edited.loc[rid, "firstname"] = c.loc[rid, "firstname"] + "  "
    preview = PlanPreview(edited.pipe(op.plan))
    assert preview.confirm is not None and "tags from rows" in preview.confirm.description
    assert f"&#x27;{c.loc[rid, 'firstname']}  &#x27;" in preview.diff.value


def test_only_edited_cells_are_planned_among_blank_text_and_missing_timestamps(op):
    c = op.contacts(progress=False)
    assert c["f1005"].isna().any() and c["address2"].isna().any()  # NaT and NA on both sides
    edited = c.copy()
    r = [int(x) for x in c.index[:2]]
    edited.loc[r[0], "f1005"] = pd.Timestamp("2030-01-02 03:04:05", tz="UTC")
    edited.loc[r[1], "firstname"] = "Zed-" + str(c.loc[r[1], "firstname"])
    plan = op.plan(edited)
    assert plan.counts["update"] == 2 and plan.counts["cells"] == 2
    back = plan.apply(confirm=plan.confirm_required)
    back.raise_for_errors()
    fresh = op.contacts(progress=False)
    assert fresh.loc[r[0], "f1005"] == pd.Timestamp("2030-01-02 03:04:05", tz="UTC")
    assert fresh.loc[r[1], "firstname"] == edited.loc[r[1], "firstname"]
    assert op.plan(fresh, original=fresh).counts["cells"] == 0


# -- opting a contact in: Ontraport lets an update only set bulk_mail / bulk_sms to 0 --------------------
def test_an_update_that_opts_contacts_in_is_refused_before_anything_is_sent(op):
    c = op.contacts(progress=False)
    mail = op.session.schema(op.session.resolve("contacts")).field("bulk_mail").options
    sms = op.session.schema(op.session.resolve("contacts")).field("bulk_sms").options
    out_mail = c.index[c["bulk_mail"] != mail["1"]][0]
    out_sms = c.index[c["bulk_sms"] != sms["1"]][0]
    edited = c.copy()
    edited.loc[out_mail, "bulk_mail"] = mail["1"]  # Opted-in
    edited.loc[out_sms, "bulk_sms"] = sms["1"]
    edited.loc[c.index[5], "lastname"] = "Still not sent"
    op.sandbox.reset_log()
    with pytest.raises(opd.ValidationError) as info:
        op.plan(edited)
    found = {(p.row, p.column, p.value) for p in info.value.problems}
    assert found == {(out_mail, "bulk_mail", mail["1"]), (out_sms, "bulk_sms", sms["1"])}
    assert "does not let the API opt a contact in" in str(info.value)
    assert writes(op) == []
    unchanged(op, c)  # the lastname edit was not sent either


def test_an_update_may_opt_contacts_out_and_a_create_may_opt_in(op):
    c = op.contacts(progress=False)
    mail = op.session.schema(op.session.resolve("contacts")).field("bulk_mail").options
    sms = op.session.schema(op.session.resolve("contacts")).field("bulk_sms").options
    opted_in = c.index[c["bulk_mail"] == mail["1"]][:2].tolist()
    edited = c.copy()
    edited.loc[opted_in, "bulk_mail"] = mail["0"]  # Transactional Only
    edited.loc[opted_in, "bulk_sms"] = sms["0"]
    new = pd.DataFrame(
        {"email": ["optin@example.com"], "bulk_mail": [mail["2"]], "bulk_sms": [sms["1"]]},
        index=pd.Index([pd.NA], dtype="Int64", name="id"),
    ).astype({"bulk_mail": c["bulk_mail"].dtype, "bulk_sms": c["bulk_sms"].dtype})
    result = op.plan(with_attrs(pd.concat([edited, new]), c)).apply()
    assert result.ok
    after = op.contacts(progress=False)
    assert after.loc[opted_in, "bulk_mail"].tolist() == [mail["0"]] * 2
    assert after.loc[opted_in, "bulk_sms"].tolist() == [sms["0"]] * 2
    created = after[after["email"] == "optin@example.com"]
    assert created["bulk_mail"].tolist() == [mail["2"]] and created["bulk_sms"].tolist() == [sms["1"]]


def test_a_csv_round_trip_of_opted_in_contacts_plans_nothing_and_an_opt_out_goes_through(op, tmp_path):
    c = op.contacts(progress=False)
    mail = op.session.schema(op.session.resolve("contacts")).field("bulk_mail").options
    opted_in = c.index[c["bulk_mail"] == mail["1"]]
    assert len(opted_in) >= 2
    path = tmp_path / "contacts.csv"
    c.to_csv(path)
    back = opd.read_csv(path, "contacts", client=op)
    assert len(op.plan(back)) == 0  # unchanged opted-in cells are not an opt-in
    back.loc[opted_in[0], "bulk_mail"] = mail["0"]
    back.loc[opted_in[1], "bulk_mail"] = mail["2"]  # double opt-in: refused, by row, column and value
    problems = refused(op, back)
    assert [(p.row, p.column, p.value) for p in problems] == [(opted_in[1], "bulk_mail", mail["2"])]
    back.loc[opted_in[1], "bulk_mail"] = mail["1"]
    op.plan(back).apply().raise_for_errors()
    after = op.contacts(progress=False)
    assert (
        after.loc[opted_in[0], "bulk_mail"] == mail["0"] and after.loc[opted_in[1], "bulk_mail"] == mail["1"]
    )
