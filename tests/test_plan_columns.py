"""Plans keep the changed cells of their updates as columns and make the operations on first use.

What these tests hold the columnar plan to: the operations it makes are the ones an eager
plan (a ``Plan`` built from the same operation list) holds, its counts, ``to_frame()`` and
reprs agree with that eager plan, the cells are exactly those the edit changed, and a plan
sent after its operations were made writes what the frame says (read back from the sandbox).
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from ontraport_pandas.diff import _same, diff_frames
from ontraport_pandas.errors import ValidationError
from ontraport_pandas.plan import Plan
from ontraport_pandas.update_cells import UpdateCells

VOLATILE = ["dlm"]


def eager_twin(plan: Plan) -> Plan:
    """A plan with the same operations, built the way result.failed() and resume() build theirs."""
    return Plan(
        plan.client,
        plan.object_type,
        copy.deepcopy(plan.ops),
        loaded_at=plan.loaded_at,
        original_dlm=dict(plan.original_dlm),
        on_conflict=plan.on_conflict,
        journal_dir=plan.journal_dir,
    )


def figures(plan: Plan) -> dict:
    return {
        "counts": plan.counts,
        "records": plan.records_affected,
        "confirm": plan.confirm_required,
        "requests": plan.requests,
        "len": len(plan),
        "empty": plan.empty,
    }


def text_changes(loaded: pd.DataFrame, edited: pd.DataFrame, columns: list[str]) -> dict[int, set[str]]:
    """Per record id, the text columns whose value the edit changed (NA and "" are the same)."""
    out: dict[int, set[str]] = {}
    common = loaded.index.intersection(edited.index)
    for col in columns:
        a = loaded.loc[common, col].astype(object).where(loaded.loc[common, col].notna(), "")
        b = edited.loc[common, col].astype(object).where(edited.loc[common, col].notna(), "")
        for rid in a.index[(a != b).to_numpy()].tolist():
            out.setdefault(int(rid), set()).add(col)
    return out


@pytest.fixture
def edit(op):
    """A loaded frame and an edit with text, number, price, check box and tag changes, clears,
    a new row and a dropped row, with tag changes on rows whose cells changed too."""
    loaded = op.contacts(progress=False)
    edited = loaded.copy()
    ids = loaded.index.tolist()
    edited.loc[ids[0:150], "firstname"] = [f"Name {k}" for k in range(150)]
    edited.loc[ids[20:60], "city"] = pd.NA  # clears, where the city was set
    edited.loc[ids[50:70], "f1003"] = pd.array(range(20), dtype="Int64")
    edited.loc[ids[65:80], "f1004"] = pd.array([12.5] * 15, dtype="Float64")
    edited.loc[ids[75:90], "f1006"] = ~loaded.loc[ids[75:90], "f1006"].fillna(False)
    for rid in ids[10:30]:  # tags added on rows that also change cells, and on rows that do not
        edited.at[rid, "contact_cat"] = [*loaded.at[rid, "contact_cat"], "Column plan tag"]
    for rid in ids[100:105]:
        edited.at[rid, "contact_cat"] = []
    edited = edited.drop(index=ids[-1])
    new = pd.DataFrame(
        {"firstname": ["Column"], "email": ["column.plan@example.com"], "contact_cat": [["Column plan tag"]]},
        index=pd.Index([pd.NA], dtype="Int64", name="id"),
    ).astype({"firstname": loaded["firstname"].dtype, "email": loaded["email"].dtype})
    edited = pd.concat([edited, new])
    edited.attrs = loaded.attrs
    return loaded, edited


def test_operations_made_on_first_use_equal_an_eager_plan(op, edit):
    loaded, edited = edit
    plan = op.plan(edited, delete_missing=True)
    assert isinstance(plan.updates, UpdateCells) and len(plan.updates) > 0  # kept as columns
    lazy = figures(plan)
    frame = plan.to_frame()
    text, html = repr(plan), plan._repr_html_()
    assert plan.updates is not None  # none of the above made the operations
    assert len(frame) > 200 and f"… {len(frame) - 20} more change(s)" in text
    assert f"… {len(frame) - 200} more" in html

    ops = plan.ops
    assert plan.updates is None and plan.ops is ops  # made once, then kept
    assert [o.i for o in ops] == list(range(len(ops)))
    order = {"create": 0, "update": 1, "add_tags": 2, "remove_tags": 2, "subscribe": 3, "unsubscribe": 3}
    ranks = [order.get(o.kind, 4) for o in ops]
    assert ranks == sorted(ranks)
    assert [o.kind for o in ops].count("create") == 1 and [o.kind for o in ops].count("delete") == 1

    eager = eager_twin(plan)
    assert figures(eager) == lazy == figures(plan)
    pd.testing.assert_frame_equal(eager.to_frame(), frame)
    pd.testing.assert_frame_equal(plan.to_frame(), frame)
    assert repr(eager) == text and eager._repr_html_() == html


def test_to_frame_with_a_limit_is_the_head_of_the_whole_frame(op, edit):
    """The first rows alone (what the reprs and the plan widget show), across the creates, the
    updates kept as columns and the tag and delete rows after them, lazy and eager alike."""
    loaded, edited = edit
    plan = op.plan(edited, delete_missing=True)
    whole = plan.to_frame()
    assert plan.changes == len(whole) and plan.updates is not None
    for limit in (0, 1, 2, 150, len(whole) - 5, len(whole), len(whole) + 10):
        pd.testing.assert_frame_equal(plan.to_frame(limit=limit), whole.head(limit))
    assert plan.updates is not None  # still columns
    eager = eager_twin(plan)
    assert eager.changes == len(whole)
    pd.testing.assert_frame_equal(eager.to_frame(limit=len(whole) - 5), whole.head(len(whole) - 5))
    with pytest.raises(ValueError, match="limit"):
        plan.to_frame(limit=-1)


def test_updates_hold_exactly_the_changed_cells(op, edit):
    loaded, edited = edit
    plan = op.plan(edited, delete_missing=True)
    expected = text_changes(loaded, edited.loc[edited.index.notna()], ["firstname", "city"])
    common = loaded.index.intersection(edited.index)
    for col in ("f1003", "f1004", "f1006"):
        was = loaded.loc[common, col].astype(object)
        now = edited.loc[common, col].astype(object)
        was, now = was.where(was.notna(), "NA"), now.where(now.notna(), "NA")
        for rid in common[(was != now).to_numpy()].tolist():
            expected.setdefault(int(rid), set()).add(col)
    updates = {o.record_id: o for o in plan.ops if o.kind == "update"}
    assert {rid: set(o.fields) for rid, o in updates.items()} == expected
    for rid, o in updates.items():
        assert o.row == rid
        assert list(o.fields) == [c for c in loaded.columns if c in o.fields]  # frame column order
        assert set(o.before) == set(o.old) == set(o.new) == set(o.fields)
        assert o.clears == tuple(c for c in o.fields if c == "city")
        if "firstname" in o.fields:
            assert o.fields["firstname"] == o.new["firstname"] == edited.at[rid, "firstname"]
            old = loaded.at[rid, "firstname"]
            assert o.old["firstname"] == (None if pd.isna(old) else old)
        if "city" in o.fields:
            assert o.fields["city"] == "" and o.before["city"] == loaded.at[rid, "city"]
    tagged = {r for o in plan.ops if o.kind in ("add_tags", "remove_tags") for r in o.rows}
    others = {str(o.row) for o in plan.ops if o.kind in ("create", "delete")}
    assert plan.records_affected == len(set(map(str, updates)) | set(map(str, tagged)) | others)


def test_plan_sent_after_its_operations_are_made_writes_the_frame(op, edit):
    loaded, edited = edit
    edited = edited.loc[edited.index.notna()]  # updates and tags only
    plan = op.plan(edited)
    assert plan.updates is not None
    result = plan.apply(confirm=plan.confirm_required)
    assert result.ok
    after = op.contacts(progress=False).loc[edited.index]
    for col in ("firstname", "city", "f1003", "f1004", "f1006"):
        pd.testing.assert_series_equal(after[col], edited[col].astype(after[col].dtype), check_names=False)
    assert after["contact_cat"].map(sorted).tolist() == edited["contact_cat"].map(sorted).tolist()


def test_no_op_plan_of_rebuilt_strings_and_copies(op):
    """Text rebuilt into new string objects (as a CSV round trip does) and copied numbers plan nothing."""
    loaded = op.contacts(progress=False)
    edited = loaded.copy()
    for col in ("firstname", "lastname", "city", "title"):
        rebuilt = [None if pd.isna(v) else ("#" + v)[1:] for v in loaded[col]]
        edited[col] = pd.array(rebuilt, dtype=loaded[col].dtype)
        pairs = list(zip(edited[col].dropna(), loaded[col].dropna(), strict=True))
        assert sum(a is not b for a, b in pairs) > len(pairs) // 2  # (one-letter strings are shared)
    edited["f1003"] = pd.array(loaded["f1003"].to_numpy(dtype=object), dtype="Int64")
    edited["contact_cat"] = [list(v) for v in loaded["contact_cat"]]
    plan = op.plan(edited)
    assert plan.empty and len(plan) == 0 and plan.counts["cells"] == 0 and plan.updates is None
    assert plan.to_frame().empty


@pytest.mark.parametrize(
    ("col", "value"),
    [("firstname", pd.NA), ("firstname", "Zed"), ("f1003", pd.NA), ("f1003", 7), ("f1006", pd.NA)],
)
def test_single_cell_edits_and_clears_are_found(op, col, value):
    loaded = op.contacts(progress=False)
    rid = int(loaded.index[loaded[col].notna()][3])
    if value is not pd.NA and loaded.at[rid, col] == value:
        rid = int(loaded.index[loaded[col].notna() & (loaded[col] != value)][0])
    edited = loaded.copy()
    edited.at[rid, col] = value
    plan = op.plan(edited)
    assert [(o.record_id, list(o.fields)) for o in plan.ops] == [(rid, [col])]
    assert plan.ops[0].clears == ((col,) if value is pd.NA else ())


def test_na_text_set_to_empty_plans_nothing(op):
    loaded = op.contacts(progress=False)
    blank = loaded.index[loaded["city"].isna()]
    assert len(blank)
    edited = loaded.copy()
    edited.loc[blank, "city"] = ""
    assert op.plan(edited).empty


def test_diff_reports_list_columns_left_as_loaded(op):
    loaded = op.contacts(progress=False)
    edited = loaded.copy()
    rid = int(loaded.index[0])
    edited.at[rid, "contact_cat"] = [*loaded.at[rid, "contact_cat"], "Another tag"]
    schema = op.session.schema(op.session.resolve("contacts"))
    otype = op.session.resolve("contacts")
    changes = diff_frames(loaded, edited, schema, otype, lookups=op.session.lookups(otype))
    assert "updateSequence" in changes.unchanged_lists and "updateCampaign" in changes.unchanged_lists
    assert "contact_cat" not in changes.unchanged_lists
    assert len(changes.updates) == 0  # a tag change is no cell to write
    assert [(r.row, r.tags_add) for r in changes.rows] == [(rid, ("Another tag",))]


def test_update_cells_rows_follow_the_first_changed_column_then_the_frame():
    ids = np.array([1, 3, 5, 8])  # ids 3 and 5 change in "a"; 1, 3 and 5 in "b"; 8 in none
    cells = UpdateCells.build(
        ids,
        [
            (
                "a",
                np.array([1, 2]),
                {"wire": ["y", "x"], "before": ["", ""], "old": [None, None], "new": ["y", "x"]},
                np.array([False, False]),
            ),
            (
                "b",
                np.array([0, 1, 2]),
                {
                    "wire": ["", "q", "r"],
                    "before": ["p", "", ""],
                    "old": ["p", None, None],
                    "new": [None, "q", "r"],
                },
                np.array([True, False, False]),
            ),
        ],
    )
    assert cells.ids.tolist() == [3, 5, 1] and cells.cells == 5 and cells.clears == 1
    rows = list(cells.rows())
    assert rows[0] == (
        3,
        {"a": "y", "b": "q"},
        {"a": "", "b": ""},
        {"a": None, "b": None},
        {"a": "y", "b": "q"},
        (),
    )
    assert rows[1][:2] == (5, {"a": "x", "b": "r"})
    assert rows[2] == (1, {"b": ""}, {"b": "p"}, {"b": "p"}, {"b": None}, ("b",))
    assert list(cells.cells_in_order(3)) == [
        (0, "a", None, "y", False),
        (0, "b", None, "q", False),
        (1, "a", None, "x", False),
    ]
    assert len(UpdateCells.build(ids, [])) == 0


def test_plan_from_an_operation_list_still_works(op):
    """Plans built from operations (retries, resume, undo, duplicates) behave as before."""
    loaded = op.contacts(progress=False)
    edited = loaded.copy()
    edited.loc[loaded.index[:3], "lastname"] = ["A", "B", "C"]
    made = op.plan(edited).ops
    plan = Plan(op, op.session.resolve("contacts"), made)
    assert plan.updates is None and plan.ops is made and len(plan) == 3
    assert plan.counts["cells"] == 3 and plan.records_affected == 3
    assert plan.apply().ok
    assert op.contacts(progress=False).loc[loaded.index[:3], "lastname"].tolist() == ["A", "B", "C"]


def test_numbers_are_checked_where_edited_and_on_new_rows(op):
    """Typed number columns are checked only where they differ from the load, and on new rows."""
    loaded = op.contacts(progress=False)
    rid = int(loaded.index[5])
    edited = loaded.copy()
    edited.at[rid, "f1004"] = -np.inf
    new = pd.DataFrame(
        {"firstname": ["Inf"], "email": ["inf@example.com"], "f1004": pd.array([np.inf], dtype="Float64")},
        index=pd.Index([pd.NA], dtype="Int64", name="id"),
    ).astype({"firstname": loaded["firstname"].dtype, "email": loaded["email"].dtype})
    edited = pd.concat([edited, new])
    edited.attrs = loaded.attrs
    op.sandbox.reset_log()
    with pytest.raises(ValidationError) as info:
        op.plan(edited)
    found = {(p.row, p.column, p.value) for p in info.value.problems}
    assert (rid, "f1004", -np.inf) in found and (f"new-{len(loaded)}", "f1004", np.inf) in found
    assert all("not a finite number" in p.message for p in info.value.problems)
    assert [m for m, _, _ in op.sandbox.request_log if m != "GET"] == []


@pytest.mark.parametrize("order", ["loaded", "reversed"])
def test_original_dlm_of_the_updated_rows(op, order):
    """The conflict check's dlm per updated record: unix seconds as loaded, whatever the row order and zone."""
    loaded = op.contacts(progress=False)
    if order == "reversed":
        loaded = loaded.iloc[::-1].copy()
        loaded["dlm"] = loaded["dlm"].dt.tz_convert("Europe/Paris")
    rids = [int(r) for r in loaded.index[[0, 7, 42]]]
    loaded.loc[rids[1], "dlm"] = pd.NaT  # a record whose dlm is unknown is left out
    edited = loaded.copy()
    edited.loc[rids, "lastname"] = ["One", "Two", "Three"]
    plan = op.plan(edited, original=loaded, object_type="contacts")
    want = {r: int(loaded.at[r, "dlm"].timestamp()) for r in (rids[0], rids[2])}
    assert plan.original_dlm == want


@pytest.mark.parametrize(
    "dtype", ["object", pd.StringDtype("python"), pd.StringDtype("pyarrow"), "category", "mixed"]
)
def test_cell_comparison_treats_na_alike_whatever_the_storage(dtype):
    """NA equals NA (None, pd.NA, NaN alike), text compares by value (not by object), nothing else is equal."""
    a_vals = ["Ann", None, "Bo", None, "x", "Ann ", "Cy"]
    b_vals = [("#Ann")[1:], None, "Bo", "", "y", "Ann", np.nan]
    want = [True, True, True, False, False, False, False]
    if dtype == "mixed":
        a = pd.Series(a_vals, dtype=pd.StringDtype("python"))
        b = pd.Series(b_vals, dtype=object)
    else:
        a, b = pd.Series(a_vals, dtype=dtype), pd.Series(b_vals, dtype=dtype)
    assert _same(a, b).tolist() == want
    assert _same(a, a.copy()).tolist() == [True] * len(a_vals)


def test_list_cells_compare_na_and_empty_lists_alike():
    a = pd.Series([["a"], [], None, ["a", "b"], pd.NA, np.nan, ["b"]], dtype=object)
    b = pd.Series([["a"], None, [], ["b", "a"], [], np.nan, ["b", "c"]], dtype=object)
    assert _same(a, b).tolist() == [True, True, True, False, True, True, False]
    assert _same(a, a.copy()).all()
