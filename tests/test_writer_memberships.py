"""Sequence and automation membership edits in ``op.plan``: grouped subscribe calls, read back from the sandbox.

Every write test reloads the contacts (or reads the raw field) from the sandbox afterwards.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

import ontraport_pandas as opd
from ontraport_pandas.journal import read_journal
from ontraport_pandas.sandbox import create_app

from .helpers import client_over


@pytest.fixture
def app():
    sandbox = create_app(contacts=60, rate_limit=None, fault_sleep=0.05)
    yield sandbox
    sandbox.close()


def names(op, kind="sequences"):
    frame = op.sequences(progress=False) if kind == "sequences" else op.automations(progress=False)
    return frame["name"].tolist()


def raw_members(op, ids, column="updateSequence"):
    params = {"ids": ",".join(map(str, ids)), "listFields": f"id,{column}", "range": 50}
    rows = op.request("GET", "Contacts", params=params)["data"]
    return {int(r["id"]): [x for x in str(r.get(column) or "").split("*/*") if x] for r in rows}


def joiners(frame, name, n=3, column="updateSequence"):
    """``n`` rows of ``frame`` that are not in ``name`` yet."""
    return [i for i in frame.index if name not in frame.at[i, column]][:n]


def membership_edit(op):
    contacts = op.contacts(progress=False).sort_index()
    edited = contacts.copy()
    name = names(op)[0]
    rows = joiners(contacts, name)
    for i in rows:
        edited.at[i, "updateSequence"] = [*edited.at[i, "updateSequence"], name]
    holder = next(i for i in contacts.index if contacts.at[i, "updateSequence"] and i not in rows)
    dropped = contacts.at[holder, "updateSequence"][0]
    edited.at[holder, "updateSequence"] = contacts.at[holder, "updateSequence"][1:]
    return contacts, edited, name, rows, holder, dropped


def sent(op):
    return [(m, t.split("?")[0]) for m, t, _ in op.sandbox.request_log if m != "GET"]


# -- planning ----------------------------------------------------------------------------------------


def test_plan_groups_membership_edits_by_sequence_with_other_edits(op):
    contacts, edited, name, rows, holder, dropped = membership_edit(op)
    automation = names(op, "automations")[0]
    camp_rows = joiners(contacts, automation, 2, "updateCampaign")
    for i in camp_rows:
        edited.at[i, "updateCampaign"] = [*edited.at[i, "updateCampaign"], automation]
    edited.at[rows[0], "lastname"] = "Member"
    plan = op.plan(edited)
    kinds = [(o.kind, o.column, o.item) for o in plan.ops]
    assert kinds[0] == ("update", None, None)
    assert kinds[1] == ("subscribe", "updateCampaign", automation)  # grouped by column, then by id
    assert sorted(kinds[2:]) == [
        ("subscribe", "updateSequence", name),
        ("unsubscribe", "updateSequence", dropped),
    ]
    by_item = {(o.kind, o.item): o for o in plan.ops if o.kind in ("subscribe", "unsubscribe")}
    assert sorted(by_item[("subscribe", name)].rows) == sorted(rows)
    assert by_item[("subscribe", name)].sub_type == "sequence"
    assert by_item[("subscribe", automation)].sub_type == "campaign"
    assert by_item[("unsubscribe", dropped)].rows == [holder]
    c = plan.counts
    assert (c["subscribe"], c["unsubscribe"], c["member_rows"], c["unsubscriptions"]) == (2, 1, 6, 1)
    assert plan.confirm_required is None
    frame = plan.to_frame()
    mine = frame[frame["kind"] == "subscribe"]
    assert set(mine["column"]) == {"updateSequence", "updateCampaign"}
    assert set(mine.loc[mine["column"] == "updateSequence", "record_id"]) == set(rows)
    leave = frame[frame["kind"] == "unsubscribe"].iloc[0]
    assert (leave["old"], leave["record_id"]) == (dropped, holder) and pd.isna(leave["new"])
    shown = repr(plan)
    assert "SANDBOX" in shown and "2 subscription(s) and 1 unsubscription(s)" in shown
    assert "membership ops" in plan._repr_html_()
    # nothing sent while planning
    assert op.plan_memberships(edited).to_frame().equals(frame)


def test_unedited_membership_lists_plan_nothing_even_reordered(op):
    contacts = op.contacts(progress=False)
    edited = contacts.copy()
    multi = [i for i in contacts.index if len(contacts.at[i, "updateSequence"]) > 1]
    for i in multi[:3]:
        edited.at[i, "updateSequence"] = list(reversed(contacts.at[i, "updateSequence"]))
    assert op.plan(edited).empty


def test_unknown_names_and_ids_are_refused_naming_row_column_value(op):
    op.sandbox.reset_log()
    edited = op.contacts(progress=False).sort_index()
    first, second = edited.index[:2]
    edited.at[first, "updateCampaign"] = ["No Such Automation"]
    edited.at[second, "updateSequence"] = [*edited.at[second, "updateSequence"], "9999"]
    with pytest.raises(opd.ValidationError) as err:
        op.plan(edited)
    found = {(p.row, p.column): p for p in err.value.problems}
    assert set(found) == {(first, "updateCampaign"), (second, "updateSequence")}
    assert "No Such Automation" in str(found[(first, "updateCampaign")].value)
    assert found[(second, "updateSequence")].value == "9999"
    assert "no sequence with the id 9999" in found[(second, "updateSequence")].message
    assert sent(op) == []


def test_a_string_in_the_membership_column_is_refused(op):
    edited = op.contacts(progress=False)
    rid = int(edited.index[0])
    edited.at[rid, "updateSequence"] = names(op)[0]
    with pytest.raises(opd.ValidationError) as err:
        op.plan(edited)
    (problem,) = err.value.problems
    assert (problem.row, problem.column) == (rid, "updateSequence")


def test_a_csv_round_trip_of_the_membership_columns_is_refused_like_tags(op, tmp_path):
    contacts = op.contacts(progress=False)
    path = tmp_path / "contacts.csv"
    contacts[["firstname", "updateSequence", "updateCampaign"]].to_csv(path)
    back = pd.read_csv(path, index_col="id", keep_default_na=False)
    op.sandbox.reset_log()
    with pytest.raises(opd.ValidationError) as err:
        op.plan(back, original=contacts, object_type="contacts")
    members = [i for i in contacts.index if contacts.at[i, "updateSequence"]]
    problems = {(p.row, p.column): p for p in err.value.problems}
    assert {c for _, c in problems} == {"updateSequence", "updateCampaign"}
    assert "CSV or spreadsheet round trip" in problems[(members[0], "updateSequence")].message
    assert sent(op) == []
    after = op.contacts(progress=False)
    assert after.loc[members, "updateSequence"].tolist() == contacts.loc[members, "updateSequence"].tolist()


def test_a_membership_column_added_to_a_frame_loaded_without_it_is_refused(op):
    contacts = op.contacts(fields=["firstname"], progress=False)
    edited = contacts.copy()
    edited["updateSequence"] = pd.Series([[names(op)[0]]] * len(edited), index=edited.index, dtype=object)
    with pytest.raises(opd.ValidationError) as err:
        op.plan(edited)
    (problem,) = err.value.problems
    assert problem.column == "updateSequence" and "was not loaded" in problem.message


def test_duplicated_membership_columns_and_a_lost_index_are_refused_cleanly(op):
    contacts, edited, name, rows, holder, dropped = membership_edit(op)
    op.sandbox.reset_log()
    doubled = pd.concat([edited, edited[["updateSequence"]]], axis=1)
    doubled.attrs = edited.attrs
    with pytest.raises(opd.ValidationError) as err:
        op.plan(doubled)
    assert {p.column for p in err.value.problems} == {"updateSequence"}
    assert any("duplicate" in p.message.lower() for p in err.value.problems)
    positional = edited.reset_index(drop=True)
    positional.attrs = edited.attrs
    with pytest.raises(opd.ValidationError) as err:
        op.plan(positional, original=contacts)
    assert len(err.value.problems) == 1 and "index" in err.value.problems[0].message
    assert sent(op) == []


def test_on_null_skip_keeps_memberships_and_clear_leaves_them(op):
    contacts = op.contacts(progress=False)
    rid = next(i for i in contacts.index if contacts.at[i, "updateSequence"])
    edited = contacts.copy()
    edited["updateSequence"] = edited["updateSequence"].astype(object)
    edited.at[rid, "updateSequence"] = None
    assert op.plan(edited, on_null="skip").empty
    plan = op.plan(edited)
    left = {o.item for o in plan.ops if o.kind == "unsubscribe"}
    assert left == set(contacts.at[rid, "updateSequence"])
    assert all(o.rows == [rid] for o in plan.ops)


def test_many_unsubscriptions_need_confirm(op):
    contacts = op.contacts(progress=False)
    members = [i for i in contacts.index if contacts.at[i, "updateSequence"]][:30]
    assert len(members) == 30
    edited = contacts.copy()
    for i in members:
        edited.at[i, "updateSequence"] = []
    plan = op.plan(edited)
    assert plan.counts["unsubscriptions"] >= 30 and plan.confirm_required == 30
    op.sandbox.reset_log()
    with pytest.raises(opd.ConfirmationRequired, match="row\\(s\\) leaving a sequence or automation"):
        plan.apply()
    assert sent(op) == []
    plan.apply(confirm=30).raise_for_errors()
    assert all(not v for v in raw_members(op, members).values())


# -- applying ----------------------------------------------------------------------------------------


def test_apply_sends_one_call_per_sequence_and_reload_shows_memberships_then_undo(app, tmp_path):
    calls = []

    def record(request):
        if request.method != "GET":
            calls.append((request.method, request.url.path, json.loads(request.content or b"{}")))

    op = client_over(app, record)
    contacts, edited, name, rows, holder, dropped = membership_edit(op)
    result = op.plan(edited).apply(journal_dir=str(tmp_path))
    result.raise_for_errors()
    assert [(m, p) for m, p, _ in calls] == [
        ("PUT", "/1/objects/subscribe"),
        ("DELETE", "/1/objects/subscribe"),
    ]
    put = calls[0][2]
    assert put["sub_type"] == "sequence" and put["objectID"] == 0
    assert sorted(put["ids"]) == sorted(rows) and len(put["add_list"]) == 1
    assert calls[1][2]["ids"] == [holder] and "remove_list" in calls[1][2]
    assert set(result.frame["status"]) == {"ok"}
    assert sorted(result.frame.loc[result.frame["kind"] == "subscribe", "record_id"]) == sorted(rows)
    after = op.contacts(progress=False)
    assert all(name in after.at[i, "updateSequence"] for i in rows)
    assert dropped not in after.at[holder, "updateSequence"]
    # the journal holds the new kinds and reads back strictly
    state = read_journal(result.journal)
    assert [o["kind"] for o in state.ops] == ["subscribe", "unsubscribe"]
    undone = op.undo(result.journal)
    undone.raise_for_errors()
    assert sorted(undone.frame["kind"].unique()) == ["subscribe", "unsubscribe"]
    back = op.contacts(progress=False)
    for i in [*rows, holder]:
        assert sorted(back.at[i, "updateSequence"]) == sorted(contacts.at[i, "updateSequence"])


def test_a_new_row_joins_its_sequence_once_created(op):
    contacts = op.contacts(progress=False)
    name = names(op)[1]
    new = pd.DataFrame(
        {"firstname": ["Newbie"], "email": ["newbie.member@example.org"]},
        index=pd.Index([pd.NA], dtype="Int64", name="id"),
    ).astype("string")
    new["updateSequence"] = pd.Series([[name]], index=new.index, dtype=object)
    edited = pd.concat([contacts, new])
    edited.attrs = contacts.attrs
    plan = op.plan(edited)
    assert [o.kind for o in plan.ops] == ["create", "subscribe"]
    result = plan.apply()
    result.raise_for_errors()
    rid = int(result.created_ids()[plan.ops[0].row])
    assert op.contacts(progress=False).at[rid, "updateSequence"] == [name]
    assert result.frame.loc[result.frame["kind"] == "subscribe", "record_id"].tolist() == [rid]


def test_an_interrupted_create_leaves_its_subscription_waiting_with_it(app):
    op = client_over(app)
    contacts = op.contacts(progress=False)
    name = names(op)[0]
    new = pd.DataFrame({"firstname": ["Waits"]}, index=pd.Index([pd.NA], dtype="Int64", name="id")).astype(
        "string"
    )
    new["updateSequence"] = pd.Series([[name]], index=new.index, dtype=object)
    edited = pd.concat([contacts, new])
    edited.attrs = contacts.attrs
    app.inject_faults("drop", 1, method="POST", path="Contacts")  # a create is not re-sent blindly
    result = op.plan(edited).apply()
    statuses = dict(zip(result.frame["kind"], result.frame["status"], strict=True))
    assert statuses == {"create": "unknown", "subscribe": "failed"}
    again = result.failed().apply(retry_unknown=True)
    again.raise_for_errors()
    made = op.contacts(progress=False)
    made = made[made["firstname"] == "Waits"]
    assert len(made) == 1 and made["updateSequence"].iloc[0] == [name]


# -- lost answers, retries, resume -------------------------------------------------------------------


def test_a_lost_answer_is_sent_again_and_the_memberships_are_there(app):
    op = client_over(app)
    contacts, edited, name, rows, holder, dropped = membership_edit(op)
    app.inject_faults("lost", 1, method="PUT", path="objects/subscribe")  # applied, answer lost
    app.reset_log()
    result = op.plan(edited).apply()
    result.raise_for_errors()
    puts = [p for m, p, _ in app.request_log if m == "PUT" and "subscribe" in p]
    assert len(puts) == 2  # sent again: a subscription is a set operation
    current = raw_members(op, rows)
    after = op.contacts(progress=False)
    assert all(after.at[i, "updateSequence"].count(name) == 1 for i in rows)
    assert all(len(current[i]) == len(set(current[i])) for i in rows)


def test_a_failed_subscribe_is_retried_by_failed_apply(app):
    op = client_over(app)
    contacts, edited, name, rows, holder, dropped = membership_edit(op)
    app.inject_faults(
        "drop", op.session.retry.attempts, method="PUT", path="objects/subscribe"
    )  # never reaches the server
    result = op.plan(edited).apply()
    frame = result.frame
    assert set(frame.loc[frame["kind"] == "subscribe", "status"]) == {"failed"}
    assert set(frame.loc[frame["kind"] == "unsubscribe", "status"]) == {"ok"}
    assert all(name not in op.contacts(progress=False).at[i, "updateSequence"] for i in rows)
    retry = result.failed()
    assert [(o.kind, sorted(o.rows)) for o in retry.ops] == [("subscribe", sorted(rows))]
    again = retry.apply()
    again.raise_for_errors()
    after = op.contacts(progress=False)
    assert all(after.at[i, "updateSequence"].count(name) == 1 for i in rows)
    assert dropped not in after.at[holder, "updateSequence"]
    # undone newest first: the retry's subscribe, then the first push's unsubscribe (its
    # failed subscribe never reached the server: the records show no change to reverse)
    op.undo(again.journal).raise_for_errors()
    back = op.contacts(progress=False)
    assert all(name not in back.at[i, "updateSequence"] for i in rows)
    assert dropped not in back.at[holder, "updateSequence"]
    app.reset_log()
    op.undo(result.journal).raise_for_errors()
    writes = [(m, p.split("?")[0]) for m, p, _ in app.request_log if m != "GET"]
    assert writes == [("PUT", "/1/objects/subscribe")]  # the holder joins again, nothing else
    final = op.contacts(progress=False)
    for i in [*rows, holder]:
        assert sorted(final.at[i, "updateSequence"]) == sorted(contacts.at[i, "updateSequence"])


def test_undo_of_a_failed_call_reverses_only_what_the_records_show(app):
    op = client_over(app)
    contacts, edited, name, rows, holder, dropped = membership_edit(op)
    # applied every time, the answer always lost: failed, though the records joined
    app.inject_faults("lost", op.session.retry.attempts, method="PUT", path="objects/subscribe")
    result = op.plan(edited).apply()
    frame = result.frame
    assert set(frame.loc[frame["kind"] == "subscribe", "status"]) == {"failed"}
    assert all(name in op.contacts(progress=False).at[i, "updateSequence"] for i in rows)
    undone = op.undo(result.journal)
    undone.raise_for_errors()
    back = op.contacts(progress=False)
    for i in [*rows, holder]:
        assert sorted(back.at[i, "updateSequence"]) == sorted(contacts.at[i, "updateSequence"])


def _cut_after_sending(journal, kind):
    """The journal as a crash would leave it: cut right after the ``sending`` event of the first ``kind`` op."""
    lines = journal.read_text().splitlines(keepends=True)
    state = read_journal(journal)
    index = next(o["i"] for o in state.ops if o["kind"] == kind)
    for n, line in enumerate(lines):
        entry = json.loads(line)
        if entry.get("type") == "event" and entry.get("i") == index and entry.get("status") == "sending":
            journal.write_text("".join(lines[: n + 1]))
            return
    raise AssertionError("no sending event")


def test_resume_after_a_crash_in_flight_finishes_the_memberships(app, tmp_path):
    op = client_over(app, workers=1)
    contacts, edited, name, rows, holder, dropped = membership_edit(op)
    edited.at[rows[0], "lastname"] = "Crashed"
    # the subscribe call never arrived; the push "dies" while it is in flight
    app.inject_faults("drop", op.session.retry.attempts, method="PUT", path="objects/subscribe")
    result = op.plan(edited).apply(journal_dir=str(tmp_path))
    _cut_after_sending(result.journal, "subscribe")
    state = read_journal(result.journal)
    assert state.status(next(o["i"] for o in state.ops if o["kind"] == "subscribe")) == "sending"
    assert state.status(next(o["i"] for o in state.ops if o["kind"] == "unsubscribe")) == "planned"
    app.reset_log()
    resumed = op.resume(result.journal)
    resumed.raise_for_errors()
    writes = [(m, p.split("?")[0]) for m, p, _ in app.request_log if m != "GET"]
    assert ("PUT", "/1/Contacts") not in writes  # the finished update is not sent again
    assert sorted(writes) == sorted([("PUT", "/1/objects/subscribe"), ("DELETE", "/1/objects/subscribe")])
    after = op.contacts(progress=False)
    assert after.at[rows[0], "lastname"] == "Crashed"
    assert all(after.at[i, "updateSequence"].count(name) == 1 for i in rows)
    assert dropped not in after.at[holder, "updateSequence"]
    op.undo(result.journal).raise_for_errors()
    back = op.contacts(progress=False)
    for i in [*rows, holder]:
        assert sorted(back.at[i, "updateSequence"]) == sorted(contacts.at[i, "updateSequence"])


def test_the_journal_refuses_a_membership_operation_of_the_wrong_shape(op, tmp_path):
    contacts, edited, name, rows, holder, dropped = membership_edit(op)
    result = op.plan(edited).apply(journal_dir=str(tmp_path))
    lines = result.journal.read_text().splitlines()
    for bad in ({"sub_type": "tag"}, {"item_id": None}):
        damaged = []
        for line in lines:
            entry = json.loads(line)
            if entry.get("type") == "op" and entry["kind"] == "subscribe":
                entry.update(bad)
            damaged.append(json.dumps(entry))
        path = tmp_path / "damaged.jsonl"
        path.write_text("\n".join(damaged) + "\n")
        with pytest.raises(opd.JournalDamaged):
            read_journal(path)


# -- the Membrane backend ----------------------------------------------------------------------------


def test_memberships_through_the_membrane_proxy_read_back_and_undo(home):
    from .membrane_fixtures import DEMO, membrane_client

    op = membrane_client(home, DEMO)
    try:
        contacts, edited, name, rows, holder, dropped = membership_edit(op)
        plan = op.plan(edited)
        assert sorted(o.kind for o in plan.ops) == ["subscribe", "unsubscribe"]
        result = plan.apply()
        result.raise_for_errors()
        sandbox = opd.connect("sandbox", path=str(home / "sandbox.sqlite"), rate_limit=None)
        try:
            after = sandbox.contacts(progress=False)
            assert all(after.at[i, "updateSequence"].count(name) == 1 for i in rows)
            assert dropped not in after.at[holder, "updateSequence"]
            result.undo().raise_for_errors()
            back = sandbox.contacts(progress=False)
            for i in [*rows, holder]:
                assert sorted(back.at[i, "updateSequence"]) == sorted(contacts.at[i, "updateSequence"])
        finally:
            sandbox.close()
    finally:
        op.close()
