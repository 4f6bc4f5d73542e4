"""Spreadsheet round trips: op.coerce and opd.read_csv type a CSV/Excel/Sheets frame like a loaded one."""

from __future__ import annotations

import io

import pandas as pd
import pytest

import ontraport_pandas as opd
from ontraport_pandas.coerce import parse_list_text

pytestmark = pytest.mark.filterwarnings("ignore::ontraport_pandas.OntraportWarning")


def csv_text(frame: pd.DataFrame) -> str:
    buf = io.StringIO()
    frame.to_csv(buf)
    return buf.getvalue()


def blank_text_as_na(frame: pd.DataFrame) -> pd.DataFrame:
    """A CSV cannot tell empty text from missing text (Ontraport stores both as empty)."""
    out = frame.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.StringDtype):
            out[col] = out[col].mask(out[col] == "")
    return out


def all_types(op) -> list[str]:
    return list(op.objects()["name"])


def test_csv_round_trip_of_every_object_type_is_typed_like_the_load_and_plans_empty(op):
    names = all_types(op)
    assert {"contacts", "deals", "tasks", "transactions", "forms", "tags"} <= set(names)
    for name in names:
        loaded = op.frame(name, progress=False)
        back = opd.read_csv(io.StringIO(csv_text(loaded)), name, client=op)
        expected = blank_text_as_na(loaded)
        pd.testing.assert_frame_equal(back, expected, check_dtype=True, check_index_type=True, obj=name)
        assert op.plan(back).empty, name


def test_an_edited_cell_in_a_csv_plans_as_exactly_that_change_and_is_written(op):
    c = op.contacts(progress=False)
    rid = int(c.index[4])
    text = csv_text(c)
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    row = frame.index[frame["id"] == str(rid)][0]
    frame.loc[row, "firstname"] = "Zebulon"
    back = op.coerce(frame, "contacts")
    plan = op.plan(back)
    changes = plan.to_frame()
    assert len(changes) == 1
    assert plan.counts["update"] == 1
    op_ = plan.ops[0]
    assert (op_.kind, op_.record_id, op_.fields) == ("update", rid, {"firstname": "Zebulon"})
    plan.apply().raise_for_errors()
    assert op.contact(rid)["firstname"] == "Zebulon"
    again = op.contacts(progress=False)
    others = again.drop(index=rid).drop(columns="dlm")
    pd.testing.assert_frame_equal(others, c.drop(index=rid).drop(columns="dlm"))


def test_a_tag_added_in_a_spreadsheet_as_comma_text_becomes_one_tag_call(op):
    c = op.contacts(progress=False)
    tags = op.tags(progress=False)
    names = tags["tag_name"].dropna().tolist()
    rid = int(c.index[c["contact_cat"].map(len) == 0][0])
    frame = pd.read_csv(
        io.StringIO(csv_text(c[["firstname", "contact_cat"]])), dtype=str, keep_default_na=False
    )
    row = frame.index[frame["id"] == str(rid)][0]
    frame.loc[row, "contact_cat"] = f"{names[0]}, {names[1]}"
    plan = op.plan(op.coerce(frame, "contacts"))
    assert plan.counts["update"] == 0
    assert sorted(o.tag for o in plan.ops if o.kind == "add_tags") == sorted(names[:2])
    plan.apply().raise_for_errors()
    assert sorted(op.contact(rid)["contact_cat"]) == sorted(names[:2])


def test_list_text_forms():
    known = ["Yoga", "Webinar 2025", "Smith, Jones & Co"]
    assert parse_list_text("['Yoga', 'Webinar 2025']", known) == ["Yoga", "Webinar 2025"]
    assert parse_list_text('["Yoga"]', known) == ["Yoga"]
    assert parse_list_text("Yoga, Webinar 2025", known) == ["Yoga", "Webinar 2025"]
    assert parse_list_text("Yoga,Webinar 2025", known) == ["Yoga", "Webinar 2025"]
    assert parse_list_text("Smith, Jones & Co, Yoga", known) == ["Smith, Jones & Co", "Yoga"]
    assert parse_list_text("Smith, Jones & Co", known) == ["Smith, Jones & Co"]
    assert parse_list_text("*/*1*/*2*/*", known) == "*/*1*/*2*/*"
    assert parse_list_text("", known) == [] and parse_list_text(float("nan"), known) == []
    assert parse_list_text("[]", known) == []
    assert parse_list_text("[1, 2]", known) == "[1, 2]"  # not labels: left for the type table to report
    assert parse_list_text("['unclosed", known) == "['unclosed"


def test_every_text_form_of_every_type_is_coerced(op):
    c = op.contacts(progress=False)
    fields = op.fields("contacts")
    drop_col = next(k for k, t in fields["type"].items() if t == "drop" and fields.at[k, "editable"])
    label = fields.at[drop_col, "options"][0]
    rid = int(c.index[0])
    tags = op.tags(progress=False)["tag_name"].dropna().tolist()
    frame = pd.DataFrame(
        {
            "id": [str(rid), "", "new-1"],
            "firstname": ["Ann", "", "Cy"],
            "date": ["2025-01-31 10:00:00+00:00", "2025-02-01T00:00:00Z", ""],
            "bulk_mail": ["TRUE", "no", ""] if fields.at["bulk_mail", "type"] == "check" else ["", "", ""],
            drop_col: [label, "", None],
            "contact_cat": [f"['{tags[0]}']", f"*/*{op.tags(progress=False).index[1]}*/*", ""],
        }
    )
    out = op.coerce(frame, "contacts")
    assert out.index.dtype == "Int64" and out.index.name == "id"
    assert out.index[0] == rid and out.index[1:].isna().all()
    assert str(out["firstname"].dtype) == str(c["firstname"].dtype)
    assert out["firstname"].isna().tolist() == [False, True, False]
    assert out["date"].dtype == c["date"].dtype
    assert out["date"].iloc[1] == pd.Timestamp("2025-02-01", tz="UTC")
    assert out[drop_col].dtype == c[drop_col].dtype
    assert out[drop_col].iloc[0] == label and pd.isna(out[drop_col].iloc[1])
    assert out["contact_cat"].tolist() == [[tags[0]], [tags[1]], []]
    assert frame["id"].tolist() == [str(rid), "", "new-1"]  # the input is not modified


def test_every_unparseable_cell_is_reported_by_row_column_and_value_before_anything_is_written(op):
    c = op.contacts(progress=False)
    rid = int(c.index[0])
    text = csv_text(c.iloc[:5])
    lines = text.splitlines()
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""])
    frame.loc[1, "date"] = "31/01/2025"
    frame.loc[2, "id"] = "abc"
    frame.loc[3, "contact_cat"] = "['No Such Option'"
    frame.loc[4, "f1002"] = "['definitely not an option']"
    path = io.StringIO(frame.to_csv(index=False))
    with pytest.raises(opd.ValidationError) as info:
        opd.read_csv(path, "contacts", client=op)
    found = {(p.row, p.column, str(p.value)) for p in info.value.problems}
    assert (3, "date", "31/01/2025") in found  # spreadsheet rows: the header is row 1
    assert (4, "id", "abc") in found
    assert (5, "contact_cat", "['No Such Option'") in found
    assert (6, "f1002", "['definitely not an option']") in found
    assert len(lines) == 6
    assert op.contacts(progress=False).loc[rid, "date"] == c.loc[rid, "date"]


def test_a_positional_index_without_ids_is_refused_with_the_fix(op):
    c = op.contacts(progress=False).iloc[:3]
    frame = pd.read_csv(io.StringIO(c.to_csv(index=False)), dtype=str)
    with pytest.raises(opd.ValidationError, match="no 'id' column"):
        op.coerce(frame, "contacts")


def test_ids_from_the_index_and_from_floats_after_reset_index_and_concat(op):
    c = op.contacts(progress=False)
    new = pd.DataFrame({"firstname": ["New"], "lastname": ["Person"], "email": ["new.person@example.org"]})
    edited = pd.concat([c[["firstname", "lastname", "email"]].iloc[:3].reset_index(), new], ignore_index=True)
    assert edited["id"].dtype == "float64" or str(edited["id"].dtype) == "Int64"
    back = op.coerce(
        edited.to_csv(index=False) and pd.read_csv(io.StringIO(edited.to_csv(index=False))), "contacts"
    )
    assert back.index[:3].tolist() == c.index[:3].tolist() and pd.isna(back.index[3])
    plan = op.plan(back)
    assert plan.counts["create"] == 1 and plan.counts["update"] == 0
    result = plan.apply()
    result.raise_for_errors()
    found = op.contacts(where="email == 'new.person@example.org'", progress=False)
    assert found["firstname"].tolist() == ["New"]
    indexed = op.coerce(c[["firstname"]].iloc[:2].astype(object), "contacts")  # ids from the index
    assert indexed.index.tolist() == c.index[:2].tolist()


def test_an_export_older_than_the_record_is_a_conflict_not_an_overwrite(op):
    c = op.contacts(progress=False)
    rid = int(c.index[2])
    exported = csv_text(c)
    op.push(_one_cell(c, rid, "lastname", "ChangedInOntraport")).raise_for_errors()
    frame = pd.read_csv(io.StringIO(exported), dtype=str, keep_default_na=False)
    frame.loc[frame["id"] == str(rid), "firstname"] = "FromTheSheet"
    result = op.plan(op.coerce(frame, "contacts"), on_conflict="skip").apply()
    after = op.contact(rid)
    assert after["firstname"] == c.at[rid, "firstname"]
    assert after["lastname"] == "ChangedInOntraport"
    assert "conflict" in set(result.frame["status"].astype(str))


def _one_cell(c: pd.DataFrame, rid: int, col: str, value: object) -> pd.DataFrame:
    edited = c.copy()
    edited.at[rid, col] = value
    return edited


def test_unreadable_files_raise_a_library_error(op, tmp_path):
    with pytest.raises(opd.ValidationError, match="cannot be read as CSV"):
        opd.read_csv(tmp_path / "missing.csv", "contacts", client=op)
    with pytest.raises(opd.UnknownObjectTypeError):
        op.coerce(pd.DataFrame({"id": ["1"]}), "no_such_type")


def test_duplicate_columns_are_refused(op):
    frame = pd.DataFrame([["1", "a", "b"]], columns=["id", "firstname", "firstname"])
    with pytest.raises(opd.ValidationError, match="more than once"):
        op.coerce(frame, "contacts")


def test_the_writer_points_list_text_to_coerce(op):
    c = op.contacts(progress=False)
    back = pd.read_csv(io.StringIO(csv_text(c[["contact_cat"]])), index_col="id", keep_default_na=False)
    with pytest.raises(opd.ValidationError) as info:
        op.plan(back, original=c, object_type="contacts")
    assert any("op.coerce" in p.message for p in info.value.problems)


def test_a_text_field_that_pandas_read_as_numbers_is_refused_with_the_fix(op):
    c = op.contacts(progress=False)
    rid = int(c.index[0])
    text = f"id,zip,firstname\n{rid},02967,N/A\n"
    guessed = pd.read_csv(io.StringIO(text))  # pandas' guesses: zip 2967, firstname NaN
    with pytest.raises(opd.ValidationError) as info:
        op.coerce(guessed, "contacts")
    (problem,) = info.value.problems
    assert problem.column == "zip" and "opd.read_csv" in problem.message
    exact = opd.read_csv(io.StringIO(text), "contacts", client=op)
    assert exact.at[rid, "zip"] == "02967" and exact.at[rid, "firstname"] == "N/A"
    op.plan(exact).apply().raise_for_errors()
    stored = op.contact(rid)
    assert (stored["zip"], stored["firstname"]) == ("02967", "N/A")
