"""Safe write-back against the sandbox, reading back after every push."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pandas as pd
import pytest

import ontraport_pandas as opd
from ontraport_pandas.sandbox import create_app

from .helpers import client_over

VOLATILE = ["dlm"]


def reload(op, frame):
    return op.contacts(progress=False).loc[frame.index, frame.columns]


def test_unedited_frame_gives_an_empty_plan(op):
    c = op.contacts(progress=False)
    plan = op.plan(c)
    assert plan.empty and len(plan.to_frame()) == 0
    assert "nothing to write" in repr(plan)


def test_cleanup_of_names_phones_and_tags_round_trips(op):
    c = op.contacts(progress=False)
    edited = c.copy()
    edited["firstname"] = edited["firstname"].str.strip().str.title()
    digits = edited["office_phone"].str.replace(r"\D", "", regex=True)
    edited["office_phone"] = digits.where(
        digits.str.len() != 10, "(" + digits.str[:3] + ") " + digits.str[3:6] + "-" + digits.str[6:]
    )
    vip = edited.index[:40]
    edited.loc[vip, "contact_cat"] = edited.loc[vip, "contact_cat"].map(
        lambda t: sorted(set(t) | {"Cleaned"})
    )
    plan = op.plan(edited)
    counts = plan.counts
    assert counts["update"] > 0 and counts["add_tags"] == 1
    result = plan.apply(confirm=plan.confirm_required)
    result.raise_for_errors()
    after = op.contacts(progress=False)
    pd.testing.assert_series_equal(after["firstname"], edited["firstname"])
    pd.testing.assert_series_equal(after["office_phone"], edited["office_phone"])
    for rid in vip:
        assert set(after.at[rid, "contact_cat"]) == set(edited.at[rid, "contact_cat"])
    assert op.plan(after).empty


def test_only_changed_cells_are_sent(op):
    c = op.contacts(progress=False)
    edited = c.copy()
    rid = int(c.index[0])
    edited.loc[rid, "lastname"] = "Zed"
    op.sandbox.reset_log()
    plan = op.plan(edited)
    assert [(o.kind, o.record_id, list(o.fields)) for o in plan.ops] == [("update", rid, ["lastname"])]
    plan.apply().raise_for_errors()
    assert op.contact(rid)["lastname"] == "Zed"


def test_nan_means_clear_and_on_null_skip_keeps(op):
    c = op.contacts(progress=False)
    has = c[(c["f1003"].fillna(0) > 0) & c["lastname"].notna() & (c["lastname"] != "")].index[:2]
    a, b = int(has[0]), int(has[1])
    edited = c.copy()
    edited.loc[[a, b], "lastname"] = pd.NA
    edited.loc[[a, b], "f1003"] = pd.NA
    skip = op.plan(edited, on_null="skip")
    assert skip.empty
    plan = op.plan(edited)
    assert plan.counts["clears"] == 4
    assert "(clear)" in plan._repr_html_()
    plan.apply().raise_for_errors()
    after = op.contacts(progress=False)
    assert pd.isna(after.loc[a, "lastname"])  # a cleared text field reads back as NA
    assert pd.isna(after.loc[a, "f1003"]) or after.loc[a, "f1003"] == 0


def test_duplicate_email_create_updates_instead_of_duplicating(op):
    c = op.contacts(progress=False)
    existing = c["email"].dropna().iloc[10]
    before = op.count("contacts")
    new = pd.DataFrame(
        {"firstname": ["Dup", "Fresh"], "email": [existing.upper(), "fresh.person@example.org"]},
        index=pd.Index([pd.NA, pd.NA], dtype="Int64", name="id"),
    )
    edited = pd.concat([c, new.astype({"firstname": "string", "email": "string"})])
    edited.attrs = c.attrs
    plan = op.plan(edited)
    creates = [o for o in plan.ops if o.kind == "create"]
    assert len(creates) == 2
    matched = [o for o in creates if o.match_id is not None]
    assert len(matched) == 1 and matched[0].match_id == int(c.index[c["email"] == existing][0])
    assert "will update an existing record" in repr(plan)
    result = plan.apply()
    result.raise_for_errors()
    assert op.count("contacts") == before + 1
    assert op.contact(matched[0].match_id)["firstname"] == "Dup"


def test_every_validation_error_is_raised_before_any_request(op):
    c = op.contacts(progress=False)
    edited = c.copy()
    r0, r1, r2, r3 = (int(x) for x in c.index[:4])
    edited["nosuchfield"] = 1
    edited.loc[r0, "email"] = "not-an-email"
    edited.loc[r1, "date"] = pd.Timestamp("2020-01-01", tz="UTC")
    edited["f1001"] = edited["f1001"].astype(object)
    edited.loc[r2, "f1001"] = "Diamond"
    edited["f1003"] = edited["f1003"].astype(object)
    edited.loc[r3, "f1003"] = "lots"
    dup = edited.iloc[[5]]
    edited = pd.concat([edited, dup])
    op.sandbox.reset_log()
    with pytest.raises(opd.ValidationError) as info:
        op.plan(edited)
    text = str(info.value)
    problems = info.value.problems
    assert any(p.column == "nosuchfield" for p in problems)
    assert any(p.row == r0 and p.column == "email" and p.value == "not-an-email" for p in problems)
    assert any(p.row == r1 and p.column == "date" for p in problems)
    assert any(p.row == r2 and p.column == "f1001" and "Diamond" in str(p) for p in problems)
    assert any(p.row == r3 and p.column == "f1003" and p.value == "lots" for p in problems)
    assert any("duplicate" in p.message for p in problems)
    assert "nothing was sent" in text
    assert [m for m, _, _ in op.sandbox.request_log if m != "GET"] == []


def test_changed_ids_and_read_only_types_refuse_in_the_plan(op):
    c = op.contacts(progress=False)
    edited = c.rename(index={c.index[0]: 10**8})
    with pytest.raises(opd.ValidationError, match="id not in the loaded frame"):
        op.plan(edited)
    t = op.transactions(progress=False)
    t2 = t.copy()
    t2.iloc[0, t2.columns.get_loc("total")] = 1.23
    with pytest.raises(opd.ValidationError, match="cannot be updated"):
        op.plan(t2)


def test_conflicts_are_detected_and_left_alone(op):
    c = op.contacts(progress=False)
    rid = int(c.index[2])
    op.request("PUT", "Contacts", json={"id": rid, "lastname": "ChangedElsewhere"})
    edited = c.copy()
    edited.loc[rid, "lastname"] = "MyEdit"
    edited.loc[int(c.index[3]), "lastname"] = "Other"
    result = op.plan(edited).apply()
    statuses = dict(zip(result.frame["record_id"], result.frame["status"], strict=True))
    assert statuses[rid] == "conflict"
    assert statuses[int(c.index[3])] == "ok"
    assert op.contact(rid)["lastname"] == "ChangedElsewhere"
    with pytest.raises(opd.PushError):
        result.raise_for_errors()
    forced = op.plan(edited, on_conflict="overwrite").apply()
    assert op.contact(rid)["lastname"] == "MyEdit"
    assert (forced.frame["status"] == "ok").all()


def test_grouped_tag_calls(op):
    c = op.contacts(progress=False)
    edited = c.copy()
    edited["contact_cat"] = edited["contact_cat"].map(
        lambda t: [*t, "Bulk Tagged"] if "Bulk Tagged" not in t else t
    )
    plan = op.plan(edited)
    assert plan.confirm_required is None or plan.confirm_required == len(c)
    op.sandbox.reset_log()
    plan.apply(confirm=plan.confirm_required).raise_for_errors()
    tag_calls = [p for m, p, _ in op.sandbox.request_log if "tagByName" in p]
    assert len(tag_calls) == 1
    assert op.count("contacts", where="'Bulk Tagged' in contact_cat") == len(c)


def test_big_or_destructive_plans_need_confirm(op):
    c = op.contacts(progress=False)
    edited = c.drop(index=c.index[:2])
    plan = op.plan(edited, delete_missing=True)
    assert plan.counts["delete"] == 2
    assert "confirm=2" in repr(plan)
    with pytest.raises(opd.ConfirmationRequired) as info:
        plan.apply()
    assert info.value.expected == 2
    assert "(2 delete(s))" in str(info.value) and plan.confirm_reasons == ["2 delete(s)"]
    assert op.count("contacts") == len(c)
    plan.apply(confirm=2).raise_for_errors()
    assert op.count("contacts") == len(c) - 2


def test_a_plan_clearing_many_cells_says_so_when_it_asks_for_confirm(op):
    c = op.contacts(progress=False)
    rows = c.index[c["city"].notna()][:30]
    edited = c.copy()
    edited.loc[rows, "city"] = pd.NA
    plan = op.plan(edited)
    assert plan.confirm_reasons == ["30 cleared cell(s)"]
    with pytest.raises(opd.ConfirmationRequired, match=r"affects 30 record\(s\) \(30 cleared cell\(s\)\)"):
        plan.apply()
    assert op.contacts(progress=False).loc[rows, "city"].notna().all()  # nothing was sent
    small = c.copy()
    small.loc[rows[:3], "city"] = pd.NA
    assert op.plan(small).confirm_reasons == []  # 3 clears need no confirm


def test_undo_restores_the_original_frame(op):
    c = op.contacts(progress=False)
    edited = c.copy()
    ids = c.index[:20]
    edited.loc[ids, "firstname"] = "Undo"
    edited.loc[ids, "contact_cat"] = edited.loc[ids, "contact_cat"].map(lambda t: [*t, "Temp"])
    edited.loc[ids[:5], "f1004"] = 99.99
    result = op.plan(edited).apply()
    result.raise_for_errors()
    undone = result.undo()
    undone.raise_for_errors()
    after = op.contacts(progress=False)
    pd.testing.assert_frame_equal(after.drop(columns=VOLATILE), c.drop(columns=VOLATILE))


def test_undo_from_the_result_writes_its_journal_where_asked_and_restores_the_records(op, tmp_path):
    c = op.contacts(progress=False)
    edited = c.copy()
    ids = c.index[:3]
    edited.loc[ids, "firstname"] = "Undo here"
    result = op.plan(edited).apply(journal_dir=str(tmp_path / "push"))
    result.raise_for_errors()
    undone = result.undo(journal_dir=str(tmp_path / "undo"), progress=False)
    undone.raise_for_errors()
    assert undone.journal is not None and Path(undone.journal).parent == tmp_path / "undo"
    after = op.contacts(progress=False)
    pd.testing.assert_frame_equal(after.drop(columns=VOLATILE), c.drop(columns=VOLATILE))
    assert op.count("contacts") == len(c)  # nothing created or lost by the undo


def test_failed_rows_are_data_and_can_be_retried():
    app = create_app(contacts=120, rate_limit=None)
    broken = {"on": True}
    target = {}

    def fail_one(request):
        if (
            broken["on"]
            and request.method == "PUT"
            and json.loads(request.content).get("id") == target.get("id")
        ):
            return httpx.Response(500, text="Internal Server Error")
        return None

    op = client_over(app, fail_one)
    c = op.contacts(progress=False)
    target["id"] = int(c.index[2])
    edited = c.copy()
    edited.loc[c.index[:6], "lastname"] = "Retry"
    result = op.plan(edited).apply()
    failed = result.frame[result.frame["status"] == "failed"]
    assert not result.ok and failed["record_id"].tolist() == [target["id"]]
    assert failed["error"].str.contains("ServerError").all()
    assert (result.frame["status"] == "ok").sum() == 5
    with pytest.raises(opd.PushError) as info:
        result.raise_for_errors()
    assert info.value.result is result
    broken["on"] = False
    again = result.failed().apply()
    assert len(again.frame) == 1
    again.raise_for_errors()
    assert (op.contacts(progress=False).loc[c.index[:6], "lastname"] == "Retry").all()


def test_journal_records_before_images_and_outcomes(op):
    c = op.contacts(progress=False)
    edited = c.copy()
    rid = int(c.index[0])
    edited.loc[rid, "firstname"] = "Journaled"
    result = op.plan(edited).apply()
    lines = [json.loads(x) for x in result.journal.read_text().splitlines()]
    kinds = [x["type"] for x in lines]
    assert kinds[0] == "header" and "op" in kinds and "event" in kinds
    ops = [x for x in lines if x["type"] == "op"]
    assert ops[0]["fields"] == {"firstname": "Journaled"}
    befores = [x for x in lines if x["type"] == "before"]
    assert befores[0]["before"]["firstname"] == c.loc[rid, "firstname"]
    assert "sandbox-demo-key" not in result.journal.read_text()


def test_accessor_delegates(op):
    c = op.contacts(progress=False)
    edited = c.copy()
    edited.loc[c.index[0], "firstname"] = "Accessor"
    assert len(edited.ontraport.plan()) == 1
    edited.ontraport.push().raise_for_errors()
    assert op.contact(int(c.index[0]))["firstname"] == "Accessor"
