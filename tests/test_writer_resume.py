"""A push killed mid-way in a subprocess resumes from its journal with no duplicates; hypothesis round trips."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ontraport_pandas as opd

PUSH_SCRIPT = textwrap.dedent(
    """
    import sys
    import pandas as pd
    import ontraport_pandas as opd

    op = opd.connect("sandbox", path=sys.argv[1], contacts=150, rate_limit=None, latency=0.03)
    op.session.max_workers = 2
    c = op.contacts(progress=False)
    edited = c.copy()
    ids = c.index[:60]
    edited.loc[ids, "lastname"] = "Resumed"
    edited.loc[ids[:30], "contact_cat"] = edited.loc[ids[:30], "contact_cat"].map(lambda t: [*t, "Resume Tag"])
    new = pd.DataFrame(
        {"firstname": [f"New{i}" for i in range(12)], "email": [f"resume{i}@example.org" for i in range(12)]},
        index=pd.Index([pd.NA] * 12, dtype="Int64", name="id"),
    ).astype("string")
    edited = pd.concat([edited, new])
    edited.attrs = c.attrs
    plan = op.plan(edited)
    print("PLANNED", len(plan.ops), flush=True)
    plan.apply(confirm=plan.confirm_required)
    print("DONE", flush=True)
    """
)


def _events(journal_dir: Path) -> tuple[Path | None, int]:
    files = sorted(journal_dir.glob("push-*.jsonl"))
    if not files:
        return None, 0
    text = files[0].read_text()
    return files[0], text.count('"status":"ok"')


def test_push_killed_mid_way_resumes_without_duplicates(tmp_path):
    db = str(tmp_path / "sandbox.sqlite3")
    journal_dir = tmp_path / "journal"
    env = {**os.environ, "ONTRAPORT_PANDAS_JOURNAL_DIR": str(journal_dir)}
    proc = subprocess.Popen(
        [sys.executable, "-c", PUSH_SCRIPT, db], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 120
        journal = None
        while time.monotonic() < deadline:
            journal, oks = _events(journal_dir)
            if oks >= 20:
                break
            assert proc.poll() is None, "the push finished before it could be interrupted"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert journal is not None
    _, oks_at_kill = _events(journal_dir)
    from ontraport_pandas.journal import read_journal

    state = read_journal(journal)
    updates_done = sum(1 for o in state.ops if o["kind"] == "update" and state.status(o["i"]) == "ok")

    op = opd.connect("sandbox", path=db, contacts=150, rate_limit=None)
    try:
        before_resume = op.count("contacts")
        op.sandbox.reset_log()
        result = op.resume(journal)
        result.raise_for_errors()
        assert len(result.frame) >= oks_at_kill
        c = op.contacts(progress=False)
        # every create exactly once
        for i in range(12):
            assert (c["email"] == f"resume{i}@example.org").sum() == 1
        assert len(c) == 150 + 12
        assert before_resume <= len(c)
        first60 = c.sort_index().iloc[:60]
        assert (first60["lastname"] == "Resumed").all()
        assert first60.iloc[:30]["contact_cat"].map(lambda t: t.count("Resume Tag") == 1).all()
        # ops that had finished before the kill were not sent again
        puts = [p for m, p, _ in op.sandbox.request_log if m == "PUT" and p.startswith("/1/Contacts")]
        assert len(puts) <= 60 - updates_done + 2  # at most the ones in flight at the kill are checked again
        # and undo of the original push restores the lastnames
        op.undo(journal).raise_for_errors()
        assert not (op.contacts(progress=False)["lastname"] == "Resumed").any()
        assert op.count("contacts") == 150
    finally:
        op.close()


EDITABLE_TEXT = ["firstname", "lastname", "city", "title"]


@st.composite
def edits(draw):
    n = draw(st.integers(min_value=1, max_value=6))
    out = []
    for _ in range(n):
        row = draw(st.integers(min_value=0, max_value=39))
        kind = draw(st.sampled_from(["text", "numeric", "price", "drop", "check", "date", "tags", "clear"]))
        if kind == "text":
            value = draw(
                st.text(alphabet=st.characters(min_codepoint=65, max_codepoint=122), min_size=1, max_size=12)
            )
            out.append((row, draw(st.sampled_from(EDITABLE_TEXT)), value))
        elif kind == "numeric":
            out.append((row, "f1003", draw(st.integers(min_value=0, max_value=10_000))))
        elif kind == "price":
            out.append((row, "f1004", draw(st.integers(min_value=0, max_value=10**7)) / 100))
        elif kind == "drop":
            out.append((row, "f1001", draw(st.sampled_from(["Bronze", "Silver", "Gold", "Platinum"]))))
        elif kind == "check":
            out.append((row, "f1006", draw(st.booleans())))
        elif kind == "date":
            secs = draw(st.integers(min_value=946684800, max_value=1893456000))
            out.append((row, "f1007", pd.Timestamp(secs, unit="s", tz="UTC")))
        elif kind == "tags":
            out.append(
                (
                    row,
                    "contact_cat",
                    draw(
                        st.lists(st.sampled_from(["VIP", "Lead", "Hyp A", "Hyp B"]), max_size=3, unique=True)
                    ),
                )
            )
        else:
            # a clear: NA, or (text) the "" a user types; blank and missing are one thing
            col = draw(
                st.sampled_from(["f1003", "f1004", "f1001", "f1006", "f1007", "contact_cat", *CLEARABLE])
            )
            blank = draw(st.sampled_from([None, ""])) if col in CLEARABLE else None
            out.append((row, col, CLEAR if blank is None else ""))
    return out


CLEAR = object()
CLEARABLE = [*EDITABLE_TEXT, "email", "office_phone"]


@pytest.fixture(scope="module")
def hyp_op():
    client = opd.connect("sandbox", contacts=40, rate_limit=None)
    yield client
    client.close()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=edits())
def test_plan_apply_reload_equals_the_edited_frame(hyp_op, changes, tmp_path_factory):
    op = hyp_op
    c = op.contacts(progress=False)
    edited = c.copy()
    want = c.copy()  # what reads back: the edit, with blank text as NA
    for row, col, value in changes:
        rid = c.index[row]
        if col == "contact_cat":
            cleared = [] if value is CLEAR else value
            edited.at[rid, col] = cleared
            want.at[rid, col] = list(cleared)
        elif value is CLEAR:
            edited.loc[rid, col] = pd.NA
            # Ontraport has no empty number or check box: a cleared one reads back as 0 / False
            want.loc[rid, col] = {"f1003": 0, "f1004": 0.0, "f1006": False}.get(col, pd.NA)
        elif value == "":
            edited.loc[rid, col] = ""
            want.loc[rid, col] = pd.NA
        else:
            edited.loc[rid, col] = value
            want.loc[rid, col] = value
    plan = op.plan(edited)
    plan.apply(
        confirm=plan.confirm_required, journal_dir=str(tmp_path_factory.mktemp("j"))
    ).raise_for_errors()
    after = op.contacts(progress=False)
    cols = [col for col in edited.columns if col not in ("dlm",)]
    got, want = after[cols], want[cols]
    for col in ("contact_cat",):
        got = got.assign(**{col: got[col].map(sorted)})
        want = want.assign(**{col: want[col].map(sorted)})
    pd.testing.assert_frame_equal(got, want, check_flags=False)
    assert op.plan(after).empty


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.integers(min_value=0, max_value=39), max_size=5))
def test_unedited_copies_plan_nothing(hyp_op, rows):
    c = hyp_op.contacts(progress=False)
    edited = c.copy()
    for r in rows:  # assigning the same value is not a change
        edited.loc[c.index[r], "firstname"] = c.loc[c.index[r], "firstname"]
    assert hyp_op.plan(edited).empty
