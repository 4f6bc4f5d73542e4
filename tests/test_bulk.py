"""Bulk operations from frames: task, pause and transaction plans, read back from the sandbox."""

from __future__ import annotations

import dataclasses
import json

import pandas as pd
import pytest

import ontraport_pandas as opd


def raw(op, path, ids, fields):
    params = {"ids": ",".join(map(str, ids)), "listFields": ",".join(["id", *fields]), "range": 50}
    return {int(r["id"]): r for r in op.request("GET", path, params=params)["data"]}


def pending_tasks(op, n):
    tasks = op.tasks(where="status == 'Pending'", progress=False)
    return tasks.sort_index().head(n)


def sent(op):
    return [(m, t.split("?")[0]) for m, t, _ in op.sandbox.request_log if m != "GET"]


# -- tasks --------------------------------------------------------------------------------------


def test_complete_tasks_with_outcome_and_contact_updates_then_undo(op, tmp_path):
    tasks = pending_tasks(op, 3)
    contact = int(tasks["contact_id"].iloc[0])
    plan = op.complete_tasks(tasks, outcome="success", updates={"title": "Called"})
    assert "SANDBOX" in repr(plan) and len(plan.records) == 3 and plan.confirm_required is None
    assert plan.to_frame()["detail"].iloc[0] == "outcome success; title=Called"
    result = plan.apply(journal_dir=str(tmp_path))
    assert result.ok and list(result.frame["record_id"]) == list(tasks.index)
    after = op.tasks(progress=False).loc[tasks.index]
    assert (after["status"] == "Complete").all() and after["date_complete"].notna().all()
    assert op.contact(contact)["title"] == "Called"
    assert {r["outcome"] for r in raw(op, "Tasks", tasks.index, ["outcome"]).values()} == {"success"}
    undone = result.undo(journal_dir=str(tmp_path))
    assert undone.ok
    again = op.tasks(progress=False).loc[tasks.index]
    assert (again["status"] == "Pending").all() and again["date_complete"].isna().all()


def test_cancel_then_undo_restores_each_previous_status(op, tmp_path):
    tasks = op.tasks(progress=False).sort_index()
    mixed = pd.concat(
        [tasks[tasks["status"] == "Pending"].head(2), tasks[tasks["status"] == "Complete"].head(1)]
    )
    result = op.cancel_tasks(mixed).apply(journal_dir=str(tmp_path))
    assert (op.tasks(progress=False).loc[mixed.index, "status"] == "Cancelled").all()
    op.undo(result.journal)
    back = op.tasks(progress=False).loc[mixed.index, "status"]
    assert list(back) == list(mixed["status"])


def test_reschedule_from_edited_due_dates(op, tmp_path):
    tasks = op.tasks(progress=False).sort_index()
    edited = tasks.copy()
    moved = edited.index[:2]
    edited.loc[moved, "date_due"] = pd.Timestamp("2031-01-02 09:30", tz="UTC")
    plan = op.reschedule_tasks(edited)
    assert sorted(plan.records) == sorted(int(i) for i in moved)
    result = plan.apply(journal_dir=str(tmp_path))
    assert result.ok
    after = op.tasks(progress=False)
    assert (after.loc[moved, "date_due"] == pd.Timestamp("2031-01-02 09:30", tz="UTC")).all()
    others = tasks.index[2:]
    pd.testing.assert_series_equal(after.loc[others, "date_due"], tasks.loc[others, "date_due"])
    result.undo(journal_dir=str(tmp_path))
    pd.testing.assert_series_equal(
        op.tasks(progress=False).loc[moved, "date_due"], tasks.loc[moved, "date_due"]
    )


def test_reschedule_refuses_a_cleared_due_date_before_sending(op):
    edited = op.tasks(progress=False).sort_index()
    edited.iloc[0, edited.columns.get_loc("date_due")] = pd.NaT
    op.sandbox.reset_log()
    with pytest.raises(opd.ValidationError) as err:
        op.reschedule_tasks(edited)
    (problem,) = err.value.problems
    assert problem.row == edited.index[0] and problem.column == "date_due"
    assert sent(op) == []


def test_reschedule_needs_the_original_or_due(op):
    edited = op.tasks(progress=False).sort_index().head(2)
    copy = pd.DataFrame(edited.to_dict())  # a frame rebuilt by hand: no original to compare
    with pytest.raises(opd.ValidationError, match="original is unknown"):
        op.reschedule_tasks(copy)
    plan = op.reschedule_tasks(copy, due=pd.Timestamp("2030-05-01"))
    assert len(plan.calls) == 2


def test_reassign_tasks_and_undo(op, tmp_path):
    tasks = pending_tasks(op, 2)
    result = op.reassign_tasks(tasks, 4).apply(journal_dir=str(tmp_path))
    assert (op.tasks(progress=False).loc[tasks.index, "owner"] == 4).all()
    result.undo(journal_dir=str(tmp_path))
    pd.testing.assert_series_equal(op.tasks(progress=False).loc[tasks.index, "owner"], tasks["owner"])
    with pytest.raises(opd.ValidationError):
        op.reassign_tasks(tasks, 0)


def test_assign_task_to_the_contacts_of_a_frame(op, tmp_path):
    contacts = op.contacts(progress=False).sort_index().head(3)
    messages = op.messages(progress=False)
    task_message = int(messages[messages["type"] == "Task"].index[0])
    before = op.count("tasks")
    plan = op.assign_task(contacts, task_message, due_in_days=2, owner=3)
    result = plan.apply(journal_dir=str(tmp_path))
    assert result.ok and op.count("tasks") == before + 3
    new = op.tasks(progress=False).sort_index().tail(3)
    assert sorted(new["contact_id"].tolist()) == sorted(contacts.index.tolist())
    assert (new["owner"] == 3).all() and (new["status"] == "Pending").all()
    with pytest.raises(opd.OntraportError, match="cannot be undone"):
        result.undo()
    email = int(messages[messages["type"] != "Task"].index[0])
    with pytest.raises(opd.ValidationError, match="not a task message"):
        op.assign_task(contacts, email)


def test_task_plans_refuse_frames_of_another_type_or_bad_ids(op):
    contacts = op.contacts(progress=False).head(2)
    with pytest.raises(opd.ValidationError, match="needs a frame of tasks"):
        op.complete_tasks(contacts)
    tasks = pending_tasks(op, 2)
    bad = tasks.reset_index(drop=True)
    bad.index = pd.Index([pd.NA, 5], dtype="Int64")
    with pytest.raises(opd.ValidationError) as err:
        op.cancel_tasks(bad)
    assert err.value.problems[0].message == "is not a record id"
    dup = pd.concat([tasks, tasks.head(1)])
    with pytest.raises(opd.ValidationError, match="more than once"):
        op.cancel_tasks(dup)
    assert op.cancel_tasks(tasks.iloc[0:0]).empty


def test_big_task_plans_need_confirm(op, tmp_path):
    tasks = op.tasks(progress=False)
    plan = op.cancel_tasks(tasks)
    assert plan.confirm_required == len(tasks) > 100
    op.sandbox.reset_log()
    with pytest.raises(opd.ConfirmationRequired) as err:
        plan.apply()
    assert err.value.expected == len(tasks) and sent(op) == []


# -- pauses -----------------------------------------------------------------------


def test_pause_and_unpause_rules_with_undo(op, tmp_path):
    rules = op.rules(progress=False)
    live = rules[rules["pause"] == False].head(2)  # noqa: E712
    result = op.pause(live).apply(journal_dir=str(tmp_path))
    assert result.ok and op.rules(progress=False).loc[live.index, "pause"].all()
    op.undo(result.journal)
    assert not op.rules(progress=False).loc[live.index, "pause"].any()
    with pytest.raises(opd.ValidationError, match="rules, sequences or automations"):
        op.pause(op.contacts(progress=False).head(1))


# -- transactions ---------------------------------------------------------------------------------


def test_transaction_plans_show_money_and_always_need_confirm(op, tmp_path):
    transactions = op.transactions(progress=False)
    unpaid = transactions[transactions["status"] == "Unpaid"].sort_index().head(2)
    plan = op.transaction_plan(unpaid, "mark_paid")
    assert plan.total == round(float(unpaid["total"].sum()), 2)
    assert plan.to_frame()["amount"].tolist() == unpaid["total"].tolist()
    assert f"{plan.total:,.2f}" in repr(plan) and "amount" in plan._repr_html_()
    op.sandbox.reset_log()
    with pytest.raises(opd.ConfirmationRequired):
        plan.apply()
    assert sent(op) == []
    result = plan.apply(confirm=2, journal_dir=str(tmp_path))
    assert result.ok
    assert (op.transactions(progress=False).loc[unpaid.index, "status"] == "Paid").all()
    with pytest.raises(opd.OntraportError, match="cannot be undone"):
        result.undo()


@pytest.mark.parametrize(
    "action, start, end",
    [("refund", "Paid", "Refunded"), ("void", "Unpaid", "Void"), ("write_off", "Unpaid", "Written off")],
)
def test_transaction_actions_move_the_status(op, tmp_path, action, start, end):
    transactions = op.transactions(progress=False)
    rows = transactions[transactions["status"] == start].head(2)
    plan = op.transaction_plan(rows.drop(columns="total"), action)  # amounts read from the API
    assert plan.total == round(float(rows["total"].sum()), 2)
    plan.apply(confirm=2, journal_dir=str(tmp_path))
    assert (op.transactions(progress=False).loc[rows.index, "status"] == end).all()


def test_resend_invoice_is_one_call_per_transaction(op, tmp_path):
    rows = op.transactions(progress=False).head(3)
    op.sandbox.reset_log()
    result = op.transaction_plan(rows, "resend_invoice").apply(confirm=3, journal_dir=str(tmp_path))
    assert result.ok and sent(op) == [("POST", "/1/transaction/resendInvoice")] * 3


# -- journal, resume, failures ------------------------------------------------------------------------


@pytest.fixture
def faulty(tmp_path):
    """A sandbox whose injected "timeout" fault only delays: it lets the before-image read through."""
    client = opd.connect("sandbox", contacts=300, rate_limit=None, fault_sleep=0)
    yield client
    client.close()


def test_a_lost_answer_to_an_idempotent_call_is_retried(faulty, tmp_path):
    tasks = pending_tasks(faulty, 2)
    faulty.sandbox.inject_faults("timeout", 1)  # the before-image read
    faulty.sandbox.inject_faults("500", 1)  # the task/cancel call: retried
    result = faulty.cancel_tasks(tasks).apply(journal_dir=str(tmp_path))
    assert result.ok
    assert (faulty.tasks(progress=False).loc[tasks.index, "status"] == "Cancelled").all()
    cancels = [t for m, t, s in faulty.sandbox.request_log if t.startswith("/1/task/cancel")]
    assert len(cancels) == 2


def test_a_failed_call_is_data_and_resume_finishes_it(faulty, tmp_path):
    tasks = pending_tasks(faulty, 2)
    faulty.session.retry = dataclasses.replace(faulty.session.retry, attempts=1)
    faulty.sandbox.inject_faults("timeout", 1)
    faulty.sandbox.inject_faults("503", 1)
    failed = faulty.cancel_tasks(tasks).apply(journal_dir=str(tmp_path))
    assert not failed.ok and set(failed.frame["status"]) == {"failed"}
    assert "ServerError" in failed.frame["error"].iloc[0]
    assert (faulty.tasks(progress=False).loc[tasks.index, "status"] == "Pending").all()
    finished = faulty.resume(failed.journal)
    assert finished.ok
    assert (faulty.tasks(progress=False).loc[tasks.index, "status"] == "Cancelled").all()


def test_one_bad_call_does_not_stop_the_others(op, tmp_path):
    tasks = pending_tasks(op, 1)
    frame = pd.concat([tasks, tasks.rename(index={tasks.index[0]: 99999999})])
    frame.attrs = tasks.attrs
    result = op.reschedule_tasks(frame, due=pd.Timestamp("2032-03-04", tz="UTC")).apply(
        journal_dir=str(tmp_path)
    )
    status = dict(zip(result.frame["record_id"], result.frame["status"], strict=True))
    assert status == {int(tasks.index[0]): "ok", 99999999: "failed"}
    assert "Object not found" in result.frame.set_index("record_id").at[99999999, "error"]
    assert op.tasks(progress=False).at[tasks.index[0], "date_due"] == pd.Timestamp("2032-03-04", tz="UTC")


def test_an_interrupted_assign_is_not_sent_twice(op, tmp_path):
    contacts = op.contacts(progress=False).sort_index().head(2)
    messages = op.messages(progress=False)
    task_message = int(messages[messages["type"] == "Task"].index[0])
    plan = op.assign_task(contacts, task_message)
    op.sandbox.reset_log()
    op.sandbox.inject_faults("drop", 1)
    result = plan.apply(journal_dir=str(tmp_path))
    assert [m for m, t, s in op.sandbox.request_log if t.startswith("/1/task/assign")] == ["POST"]
    assert not result.ok and "may have been applied" in result.frame["error"].iloc[0]
    count = op.count("tasks")
    lines = [json.loads(x) for x in open(result.journal, encoding="utf-8")]
    assert lines[0]["kind"] == "bulk" and lines[0]["action"] == "assign_task"
    again = op.resume(result.journal)
    assert op.count("tasks") == count and not again.ok


def test_bulk_plans_through_served_http(served_op, tmp_path):
    tasks = served_op.tasks(where="status == 'Pending'", progress=False).sort_index().head(2)
    served_op.complete_tasks(tasks).apply(journal_dir=str(tmp_path))
    assert (served_op.tasks(progress=False).loc[tasks.index, "status"] == "Complete").all()


def test_bulk_plans_through_the_membrane_simulator(home, tmp_path):
    from .membrane_fixtures import membrane_client

    client = membrane_client(home)
    try:
        tasks = client.tasks(where="status == 'Pending'", progress=False).sort_index().head(2)
        result = client.complete_tasks(tasks, outcome="reached").apply(journal_dir=str(tmp_path))
        assert result.ok
        assert (client.tasks(progress=False).loc[tasks.index, "status"] == "Complete").all()
        with pytest.raises(opd.EmptySelectionError):
            client.request("DELETE", "Contacts", params={"ids": ""})
        result.undo(journal_dir=str(tmp_path))
        assert (client.tasks(progress=False).loc[tasks.index, "status"] == "Pending").all()
    finally:
        client.close()


def test_a_frame_back_from_csv_still_plans(op, tmp_path):
    tasks = pending_tasks(op, 2)
    path = tmp_path / "tasks.csv"
    tasks.to_csv(path)
    back = pd.read_csv(path, index_col="id")
    result = op.cancel_tasks(back).apply(journal_dir=str(tmp_path))
    assert result.ok
    assert (op.tasks(progress=False).loc[tasks.index, "status"] == "Cancelled").all()


def test_resume_after_a_crash_mid_apply_and_a_torn_journal(op, tmp_path):
    tasks = pending_tasks(op, 3)
    plan = op.cancel_tasks(tasks)
    result = plan.apply(journal_dir=str(tmp_path))
    # Rebuild the journal as a crash would have left it: the call marked "sending", a torn last line.
    lines = open(result.journal, encoding="utf-8").read().splitlines()
    kept = [x for x in lines if json.loads(x).get("status") != "ok"]
    torn = tmp_path / "torn.jsonl"
    torn.write_text("\n".join(kept) + '\n{"type":"event","i":0,"sta', encoding="utf-8")
    op.reopen_tasks(tasks).apply(journal_dir=str(tmp_path))  # as if the cancel never reached the server
    finished = op.resume(torn)
    assert finished.ok
    assert (op.tasks(progress=False).loc[tasks.index, "status"] == "Cancelled").all()
