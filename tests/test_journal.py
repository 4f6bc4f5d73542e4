"""The push journal: locked while in use, refused when damaged or foreign, private, exact undo."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

import ontraport_pandas as opd
from ontraport_pandas.journal import read_journal
from ontraport_pandas.sandbox import create_app

from .helpers import client_over


def _new_rows(c: pd.DataFrame, n: int, tag: str) -> pd.DataFrame:
    new = pd.DataFrame(
        {"firstname": [f"{tag}{i}" for i in range(n)], "lastname": [tag] * n},
        index=pd.Index([pd.NA] * n, dtype="Int64", name="id"),
    ).astype("string")
    edited = pd.concat([c, new])
    edited.attrs = c.attrs
    return edited


def _writes(op) -> list[tuple[str, str]]:
    return [(m, p) for m, p, _ in op.sandbox.request_log if m != "GET"]


@pytest.fixture
def pushed(op, tmp_path):
    """A finished push on the sandbox: 2 creates, 3 updates, a tag; and the frame as loaded."""
    c = op.contacts(progress=False)
    ids = c.index[:3]
    tagged = c.copy()  # a list into one cell before the new rows (pandas 2.2 refuses it on an NA index)
    tagged.at[ids[0], "contact_cat"] = [*c.at[ids[0], "contact_cat"], "Journal Tag"]
    edited = _new_rows(tagged, 2, "Journal")
    edited.loc[ids, "lastname"] = "Journaled"
    result = op.plan(edited).apply(journal_dir=str(tmp_path / "j"))
    result.raise_for_errors()
    return result, c


# -- locking ------------------------------------------------------------------------------------
SLOW_PUSH = textwrap.dedent(
    """
    import sys
    import pandas as pd
    import ontraport_pandas as opd

    op = opd.connect("sandbox", path=sys.argv[1], contacts=60, rate_limit=None, latency=0.05)
    op.session.max_workers = 1
    c = op.contacts(progress=False)
    new = pd.DataFrame(
        {"firstname": [f"Locked{i}" for i in range(8)], "lastname": ["Locked"] * 8},
        index=pd.Index([pd.NA] * 8, dtype="Int64", name="id"),
    ).astype("string")
    edited = pd.concat([c, new])
    edited.attrs = c.attrs
    edited.loc[c.index[:20], "title"] = "Slow"
    op.plan(edited).apply(journal_dir=sys.argv[2]).raise_for_errors()
    print("DONE", flush=True)
    """
)


def test_a_second_process_cannot_resume_a_journal_in_use(tmp_path):
    db, jdir = str(tmp_path / "s.sqlite3"), tmp_path / "j"
    proc = subprocess.Popen(
        [sys.executable, "-c", SLOW_PUSH, db, str(jdir)], stdout=subprocess.PIPE, text=True
    )
    try:
        journal = None
        for _ in range(3000):  # until the push has announced itself in its journal
            files = sorted(jdir.glob("push-*.jsonl"))
            if files and '"type":"lock"' in files[0].read_text():
                journal = files[0]
                break
            assert proc.poll() is None, "the push finished before the test could try"
            time.sleep(0.01)
        assert journal is not None
        op = opd.connect("sandbox", path=db, contacts=60, rate_limit=None)
        try:
            op.sandbox.reset_log()
            with pytest.raises(opd.JournalLocked) as info:
                op.resume(journal)
            assert f"process {proc.pid}" in str(info.value) and "push" in info.value.holder
            with pytest.raises(opd.JournalLocked):
                op.undo(journal)
            assert _writes(op) == []
            assert proc.wait(120) == 0 and "DONE" in proc.stdout.read()
            # the lock went with the process: resume now finds nothing left to do
            op.resume(journal).raise_for_errors()
            c = op.contacts(progress=False)
            assert (c["lastname"] == "Locked").sum() == 8
            assert len(c) == 68
        finally:
            op.close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout:
            proc.stdout.close()


# -- damage ---------------------------------------------------------------------------------------
def _damaged(path: Path, how: str) -> None:
    data = path.read_bytes()
    lines = data.split(b"\n")[:-1]
    events = [n for n, x in enumerate(lines) if b'"type":"event"' in x]
    if how == "cut-middle":
        cut = lines[: events[0] + 2]
        path.write_bytes(
            b"\n".join(cut) + b"\n" + lines[events[0] + 2][:15] + b"\n" + b"\n".join(lines[-2:]) + b"\n"
        )
    elif how == "garbage-line":
        lines.insert(events[1], b"this is not json")
        path.write_bytes(b"\n".join(lines) + b"\n")
    elif how == "lost-events":
        ok_creates = [n for n in events if b'"status":"ok"' in lines[n] and b'"record_id"' in lines[n]]
        del lines[ok_creates[0]]
        path.write_bytes(b"\n".join(lines) + b"\n")
    elif how == "not-utf8":
        lines[events[2]] = lines[events[2]].replace(b'"status"', b'"\xff\xfestatus"')
        path.write_bytes(b"\n".join(lines) + b"\n")
    elif how == "json-array":
        lines[events[0]] = b"[1, 2, 3]"
        path.write_bytes(b"\n".join(lines) + b"\n")
    elif how == "event-without-index":
        entry = json.loads(lines[events[1]])
        del entry["i"]
        lines[events[1]] = json.dumps(entry, separators=(",", ":")).encode()
        path.write_bytes(b"\n".join(lines) + b"\n")
    elif how == "ids-not-numbers":
        tagged = next(n for n in events if b'"ids":[' in lines[n] and b'"ids":[]' not in lines[n])
        entry = json.loads(lines[tagged])
        entry["ids"] = ["x"]
        lines[tagged] = json.dumps(entry, separators=(",", ":")).encode()
        path.write_bytes(b"\n".join(lines) + b"\n")
    elif how == "op-without-row":
        first_op = next(n for n, x in enumerate(lines) if b'"type":"op"' in x)
        entry = json.loads(lines[first_op])
        del entry["row"]
        lines[first_op] = json.dumps(entry, separators=(",", ":")).encode()
        path.write_bytes(b"\n".join(lines) + b"\n")
    elif how == "whole-file-array":
        path.write_bytes(b"[]\n")
    elif how == "missing-ops":
        ops = [n for n, x in enumerate(lines) if b'"type":"op"' in x]
        path.write_bytes(b"\n".join(lines[: ops[1]]) + b"\n")


@pytest.mark.parametrize(
    "how",
    [
        "cut-middle",
        "garbage-line",
        "lost-events",
        "not-utf8",
        "json-array",
        "event-without-index",
        "ids-not-numbers",
        "op-without-row",
        "whole-file-array",
        "missing-ops",
    ],
)
def test_damaged_journals_stop_resume_and_undo_with_a_clear_error(op, pushed, how):
    result, _ = pushed
    _damaged(result.journal, how)
    count = op.count("contacts")
    op.sandbox.reset_log()
    for action in (op.resume, op.undo):
        with pytest.raises(opd.JournalDamaged) as info:
            action(result.journal)
        text = str(info.value)
        assert "damaged" in text and "Nothing was sent" in text
        if how != "whole-file-array":
            assert "line " in text and ("recorded as applied" in text or "no operation" in text)
    assert _writes(op) == []
    assert op.count("contacts") == count


def test_a_torn_last_line_is_skipped_and_the_push_resumes(op, pushed):
    result, _ = pushed
    data = result.journal.read_bytes()
    result.journal.write_bytes(data + b'{"type":"event","i":0,"sta')  # a crash mid-write
    state = read_journal(result.journal)
    assert state.torn and all(state.status(o["i"]) == "ok" for o in state.ops)
    count = op.count("contacts")
    op.resume(result.journal).raise_for_errors()
    assert op.count("contacts") == count
    read_journal(result.journal)  # the torn tail was cut before new lines were appended


def test_a_torn_journal_looks_for_creates_before_sending_them(op, pushed):
    # Cut right after the op lines: the events of the two finished creates are lost with the tail.
    result, _ = pushed
    lines = result.journal.read_bytes().split(b"\n")
    first_event = next(n for n, x in enumerate(lines) if b'"type":"event"' in x)
    result.journal.write_bytes(b"\n".join(lines[:first_event]) + b"\n" + lines[first_event][:20])
    count = op.count("contacts")
    resumed = op.resume(result.journal)
    resumed.raise_for_errors()
    assert op.count("contacts") == count  # found, not created again
    c = op.contacts(progress=False)
    assert (c["lastname"] == "Journal").sum() == 2


# -- identity -----------------------------------------------------------------------------------
def test_undo_and_resume_refuse_another_connection_unless_forced(tmp_path):
    a = opd.connect("sandbox", path=str(tmp_path / "a.sqlite3"), contacts=40, rate_limit=None)
    b = opd.connect("sandbox", path=str(tmp_path / "b.sqlite3"), contacts=40, rate_limit=None)
    try:
        c = a.contacts(progress=False)
        rid = int(c.index[0])
        edited = c.copy()
        edited.loc[rid, "lastname"] = "OnA"
        result = a.plan(edited).apply()
        result.raise_for_errors()
        header = json.loads(result.journal.read_text().splitlines()[0])
        assert header["identity"].startswith("sandbox-file:") and header["account_id"] == 50
        assert "sandbox-demo-key" not in result.journal.read_text()
        before_b = b.contact(rid)["lastname"]
        b.sandbox.reset_log()
        for action in (b.undo, b.resume):
            with pytest.raises(opd.JournalMismatch, match="force=True"):
                action(result.journal)
        assert _writes(b) == []
        assert b.contact(rid)["lastname"] == before_b
        b.undo(result.journal, force=True).raise_for_errors()
        assert b.contact(rid)["lastname"] == c.loc[rid, "lastname"]
        assert a.contact(rid)["lastname"] == "OnA"
    finally:
        a.close()
        b.close()


def test_another_account_behind_the_same_connection_is_refused(tmp_path):
    a = client_over(create_app(contacts=40, rate_limit=None))
    b = client_over(create_app(contacts=40, rate_limit=None, account_id=51))
    assert a.name == b.name and a.cache_key == b.cache_key  # only the account tells them apart
    try:
        c = a.contacts(progress=False)
        edited = c.copy()
        edited.loc[c.index[0], "lastname"] = "Account50"
        result = a.plan(edited).apply()
        with pytest.raises(opd.JournalMismatch, match="account 50"):
            b.undo(result.journal)
        a.undo(result.journal).raise_for_errors()
    finally:
        for client in (a, b):
            client.close()
            client.sandbox.close()


# -- exact undo ---------------------------------------------------------------------------------
def test_undo_restores_tag_order_and_deletes_the_tags_the_push_created(op):
    c = op.contacts(progress=False)
    rid = int(next(i for i in c.index if len(c.at[i, "contact_cat"]) >= 3))
    other = int(next(i for i in c.index if i != rid))
    tags = list(c.at[rid, "contact_cat"])
    edited = c.copy()
    edited.at[rid, "contact_cat"] = [*tags[1:], "Brand New Tag", "Shared New Tag"]
    edited.at[other, "contact_cat"] = [*c.at[other, "contact_cat"]]
    result = op.plan(edited).apply()
    result.raise_for_errors()
    # a colleague starts using one of the new tags meanwhile: that one stays
    op.request(
        "PUT", "objects/tagByName", json={"objectID": 0, "ids": [other], "add_names": ["Shared New Tag"]}
    )
    undone = result.undo()
    undone.raise_for_errors()
    after = op.contacts(progress=False)
    assert after.at[rid, "contact_cat"] == tags  # same tags, same order
    names = set(op.tags(progress=False)["tag_name"])
    assert "Brand New Tag" not in names and "Shared New Tag" in names
    assert undone.deleted_tags == ("Brand New Tag",)


def test_undoing_a_delete_lists_old_and_new_ids_and_warns(op):
    c = op.contacts(progress=False)
    gone = [int(x) for x in c.index[:2]]
    plan = op.plan(c.drop(index=gone), delete_missing=True)
    result = plan.apply(confirm=plan.confirm_required)
    result.raise_for_errors()
    with pytest.warns(opd.OntraportWarning, match="references to the old ids"):
        undone = result.undo()
    undone.raise_for_errors()
    assert sorted(undone.restored_ids) == sorted(gone)
    after = op.contacts(progress=False)
    for old, new in undone.restored_ids.items():
        assert new not in gone and new in after.index
        assert after.loc[new, "email"] == c.loc[old, "email"]
        assert after.at[new, "contact_cat"] == c.at[old, "contact_cat"]


# -- files ----------------------------------------------------------------------------------------
def test_journal_and_cache_files_are_private_whatever_the_umask(tmp_path):
    old = os.umask(0)
    try:
        op = opd.connect("sandbox", contacts=30, rate_limit=None, cache_dir=str(tmp_path / "cache" / "deep"))
        try:
            c = op.contacts(progress=False, cache=True)
            edited = c.copy()
            edited.loc[c.index[0], "lastname"] = "Private"
            result = op.plan(edited).apply(journal_dir=str(tmp_path / "journals" / "deep"))
        finally:
            op.close()
    finally:
        os.umask(old)
    assert stat.S_IMODE(result.journal.stat().st_mode) == 0o600
    assert stat.S_IMODE(result.journal.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "journals").stat().st_mode) == 0o700
    cached = [p for p in (tmp_path / "cache").rglob("*")]
    assert cached
    for p in cached:
        assert stat.S_IMODE(p.stat().st_mode) == (0o700 if p.is_dir() else 0o600), p


def test_a_push_that_sends_nothing_writes_no_journal(op, tmp_path):
    c = op.contacts(progress=False)
    folder = tmp_path / "nothing"
    result = op.plan(c).apply(journal_dir=str(folder))
    assert result.ok and result.journal is None and len(result.frame) == 0
    assert not folder.exists()
    assert "no journal" in repr(result)
    assert result.undo() is result


def test_an_interrupted_push_resumes_with_a_conflict_check():
    # The push is interrupted (Ctrl-C) at its first update; meanwhile a colleague edits that record.
    now = [time.time()]
    app = create_app(contacts=40, rate_limit=None, clock=lambda: now[0])
    interrupt = {"on": True}

    def ctrl_c(request):
        if interrupt["on"] and request.method == "PUT":
            raise KeyboardInterrupt
        return None

    op = client_over(app, ctrl_c, workers=1)
    try:
        c = op.contacts(progress=False)
        a, b = int(c.index[0]), int(c.index[1])
        edited = c.copy()
        edited.loc[[a, b], "lastname"] = "Resumed Later"
        plan = op.plan(edited)
        with pytest.raises(KeyboardInterrupt):
            plan.apply()
        (journal,) = Path(os.environ["ONTRAPORT_PANDAS_JOURNAL_DIR"]).glob("push-*.jsonl")
        interrupt["on"] = False
        now[0] += 3600  # the colleague's edit comes after the load
        op.request("PUT", "Contacts", json={"id": a, "lastname": "Colleague"})
        resumed = op.resume(journal)
        by_id = resumed.frame.set_index("record_id")["status"]
        assert by_id[a] == "conflict" and by_id[b] == "ok"
        assert op.contact(a)["lastname"] == "Colleague"
        assert op.contact(b)["lastname"] == "Resumed Later"
    finally:
        op.close()
        app.close()


def test_a_journal_folder_that_cannot_be_written_stops_the_push_before_sending(op, tmp_path):
    c = op.contacts(progress=False)
    edited = c.copy()
    edited.loc[c.index[0], "lastname"] = "Unjournaled"
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    op.sandbox.reset_log()
    with pytest.raises(opd.JournalError, match="Nothing was sent"):
        op.plan(edited).apply(journal_dir=str(blocker / "journal"))
    assert _writes(op) == []
    assert op.contact(int(c.index[0]))["lastname"] != "Unjournaled"
