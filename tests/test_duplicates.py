"""Duplicates: found on e-mail, phone and fuzzy names; merged through ordinary plans, read back."""

from __future__ import annotations

import pandas as pd
import pytest

import ontraport_pandas as opd
from ontraport_pandas.duplicates import HOLD_TAG, find_duplicates
from ontraport_pandas.errors import ConfirmationRequired, ValidationError


def _contacts():
    s = lambda *v: pd.array(list(v), dtype="string")  # noqa: E731
    return pd.DataFrame(
        {
            "firstname": s("Jon", "John", "Ann", "Ann", "Test", "test", "Maria", "Mario"),
            "lastname": s("Smith", "Smith", "Lee", "Lee-Park", "N/A", "N/A", "Garcia", "Rossi"),
            "email": s("jon@x.com", " JON@X.com", None, "ann@y.com", "t1@z.com", "t2@z.com", "m@g.com", None),
            "office_phone": s(None, None, "(415) 555-2671", None, None, None, None, None),
            "sms_number": s(None, None, None, "+1 415 555 2671", None, None, None, None),
            "country": s("US", "US", "US", "US", "US", "US", "ES", "IT"),
            "date": pd.to_datetime(
                [
                    "2024-01-01",
                    "2025-01-01",
                    "2023-05-01",
                    "2026-01-01",
                    "2024-01-01",
                    "2024-01-02",
                    "2024-06-01",
                    "2024-06-01",
                ],
                utc=True,
            ),
        },
        index=pd.Index([1, 2, 3, 4, 5, 6, 7, 8], name="id"),
    )


def test_find_duplicates_on_email_phone_and_names():
    groups = find_duplicates(_contacts())
    assert groups["group"].tolist() == [1, 1, 2, 2]
    assert groups.index.tolist() == [1, 2, 3, 4]  # placeholder names (5, 6) are no evidence
    assert groups.loc[2, "matched_on"] == "email, name"  # case and blanks ignored; Jon ~ John
    assert groups.loc[4, "matched_on"] == "phone"  # the same number in two formats and columns
    assert groups.loc[1, "score"] == 100 and groups.loc[3, "score"] == 95
    assert groups["keep"].tolist() == [True, False, True, False]  # the oldest survives by default
    newest = find_duplicates(_contacts(), keep="newest")
    assert newest.loc[[2, 4], "keep"].tolist() == [True, True]
    only_names = find_duplicates(_contacts(), on=["name"], threshold=95)
    assert only_names.empty  # "Jon Smith" / "John Smith" score below 95
    assert find_duplicates(_contacts(), on=["name"], threshold=85).index.tolist() == [1, 2]
    with pytest.raises(ValueError, match="on= takes"):
        find_duplicates(_contacts(), on=["zip"])  # type: ignore[list-item]


def test_groups_join_through_shared_members():
    contacts = _contacts()
    contacts.loc[3, "email"] = "jon@x.com"  # 3 shares 1's e-mail and 4's phone: one group of four
    groups = find_duplicates(contacts, on=["email", "phone"])
    assert set(groups["group"]) == {1} and sorted(groups.index) == [1, 2, 3, 4]


def _blank(v):
    return pd.isna(v) or not str(v).strip()


@pytest.fixture
def op():
    client = opd.connect("sandbox", contacts=300, rate_limit=None)
    yield client
    client.close()


def test_merge_plan_through_the_sandbox(op, tmp_path):
    contacts = op.contacts(progress=False)
    groups = op.duplicates(contacts, on=["email"])
    assert len(groups) >= 4
    merge = op.plan_merge(groups)
    decisions = merge.decisions
    survivors = decisions.index[decisions["role"] == "survivor"].tolist()
    deleted = decisions.index[decisions["role"] == "deleted"].tolist()
    kept = decisions.index[decisions["role"] == "kept"].tolist()
    assert survivors and deleted and kept
    purchases = op.purchases(progress=False)
    transactions = op.transactions(progress=False)
    owners = set(purchases["contact_id"].dropna()) | set(transactions["contact_id"].dropna())
    assert not set(deleted) & owners  # nobody owning read-only records is deleted
    assert all("not deleted" in why for why in decisions.loc[kept, "why"])
    notes_before = op.notes(progress=False)
    deals_before = op.deals(progress=False)
    with pytest.raises(ConfirmationRequired):
        merge.apply(progress=False, journal_dir=str(tmp_path))
    assert len(op.contacts(progress=False)) == len(contacts)  # nothing was sent

    result = merge.apply(confirm=merge.confirm_required, progress=False, journal_dir=str(tmp_path))
    assert result.ok, result.frame[result.frame["status"] != "ok"]
    assert result.manifest.exists()
    after = op.contacts(progress=False)
    assert not set(deleted) & set(after.index)
    assert set(kept) <= set(after.index)
    for i in kept:
        assert HOLD_TAG in after.at[i, "contact_cat"]
    group_of = decisions["group"]
    for sid in survivors:
        members = group_of.index[group_of == group_of[sid]]
        union = {t for i in members for t in contacts.at[i, "contact_cat"]}
        assert set(after.at[sid, "contact_cat"]) == union
        for column in ("company", "title", "city"):
            if _blank(contacts.at[sid, column]):  # blanks filled from the duplicates
                others = [
                    contacts.at[i, column] for i in members if i != sid and not _blank(contacts.at[i, column])
                ]
                if others:
                    assert after.at[sid, column] in others
            else:
                assert after.at[sid, column] == contacts.at[sid, column]
        for column in ("updateSequence", "updateCampaign"):
            union = {t for i in members for t in contacts.at[i, column]}
            assert set(after.at[sid, column]) == union
    survivor_of = {i: sid for sid in survivors for i in group_of.index[group_of == group_of[sid]]}
    notes = op.notes(progress=False)
    for nid, cid in notes_before["contact_id"].items():
        if cid in set(deleted) | set(kept):
            assert notes.at[nid, "contact_id"] == survivor_of[cid]  # moved to the survivor
    deals = op.deals(progress=False)
    for did, cid in deals_before["primary_contact"].items():
        if cid in set(deleted) | set(kept):
            assert deals.at[did, "primary_contact"] == survivor_of[cid]
    pd.testing.assert_series_equal(op.purchases(progress=False)["contact_id"], purchases["contact_id"])

    # undo: survivors' values and tags back, duplicates recreated, references pointed at them
    result.undo(progress=False)
    restored = op.contacts(progress=False)
    for sid in survivors:
        assert set(restored.at[sid, "contact_cat"]) == set(contacts.at[sid, "contact_cat"])
        assert set(restored.at[sid, "updateSequence"]) == set(contacts.at[sid, "updateSequence"])
    assert len(restored) == len(contacts)
    back = op.notes(progress=False)
    emails = restored["email"]
    for nid, cid in notes_before["contact_id"].items():
        if cid in set(deleted):
            now = back.at[nid, "contact_id"]
            assert now not in survivors and emails[now] == contacts.at[cid, "email"]


def test_merge_honours_the_reviewed_frame_and_rules(op, tmp_path):
    contacts = op.contacts(progress=False)
    groups = op.duplicates(contacts, on=["email"])
    first = groups[groups["group"] == groups["group"].iloc[0]].copy()
    loser = first.index[~first["keep"]][0]
    first["keep"] = first.index == loser  # the reviewer picks another survivor
    merge = op.plan_merge(first, values={"firstname": "newest"})
    assert merge.decisions.loc[loser, "role"] == "survivor"
    both = first.copy()
    both["keep"] = True
    with pytest.raises(ValidationError, match="survivors"):
        op.plan_merge(both)
    twice = pd.concat([first, first.assign(group=99)])
    with pytest.raises(ValidationError, match="two groups"):
        op.plan_merge(twice)
    with pytest.raises(ValidationError, match="unknown rule"):
        op.plan_merge(first, values={"firstname": "loudest"})  # type: ignore[dict-item]
    by_rule = op.plan_merge(first, keep="most_complete")
    assert by_rule.decisions["role"].eq("survivor").sum() == 1
    assert "MergePlan" in repr(merge) and "<table" in merge._repr_html_()
    assert set(merge.to_frame()["object"]) <= {"contacts", "notes.contact_id", "deals.primary_contact"}


def test_merge_through_the_membrane_simulator(home, tmp_path):
    from .membrane_fixtures import membrane_client

    op = membrane_client(home)
    try:
        groups = op.duplicates(on=["email"])
        merge = op.plan_merge(groups)
        deleted = merge.decisions.index[merge.decisions["role"] == "deleted"].tolist()
        result = merge.apply(confirm=merge.confirm_required, progress=False, journal_dir=str(tmp_path))
        assert result.ok
        after = op.contacts(progress=False)
        assert not set(deleted) & set(after.index)
        kept = merge.decisions.index[merge.decisions["role"] == "kept"]
        assert all(HOLD_TAG in after.at[i, "contact_cat"] for i in kept)
    finally:
        op.close()


def test_reviewed_frame_survives_reset_index_and_csv(op, tmp_path):
    groups = op.duplicates(on=["email"])
    base = op.plan_merge(groups).decisions
    csv = tmp_path / "groups.csv"
    groups.to_csv(csv)
    for frame in (groups.reset_index(), pd.read_csv(csv)):
        pd.testing.assert_frame_equal(op.plan_merge(frame).decisions, base)


def test_merge_stops_before_deleting_when_a_reference_does_not_move(op, tmp_path):
    groups = op.duplicates(on=["email"])
    merge = op.plan_merge(groups)
    moves = [p for name, p in merge.steps if name == "notes.contact_id"]
    assert moves
    note = moves[0].ops[0].record_id
    op.request("PUT", "Notes", json={"id": note, "data": "edited meanwhile"})  # a conflict appears
    contacts = op.contacts(progress=False)
    result = merge.apply(confirm=merge.confirm_required, progress=False, journal_dir=str(tmp_path))
    assert not result.ok and "no contact was deleted" in result.stopped
    assert [name for name, _ in result.results] == ["notes.contact_id"]
    after = op.contacts(progress=False)
    pd.testing.assert_index_equal(after.index, contacts.index)  # nobody deleted
    pd.testing.assert_series_equal(after["contact_cat"], contacts["contact_cat"])  # nor merged
    assert op.notes(progress=False).at[note, "data"] == "edited meanwhile"


def test_a_similar_name_does_not_chain_unrelated_contacts():
    s = lambda *v: pd.array(list(v), dtype="string")  # noqa: E731
    contacts = pd.DataFrame(
        {
            "firstname": s("John", "Jon", "Mary", "Johnny", "Jonn"),
            "lastname": s("Smith", "Smith", "Smith", "Walker", "Walker"),
            "email": s("a@x.com", "b@x.com", "B@x.com", "c@x.com", "d@x.com"),
        },
        index=pd.Index([1, 2, 3, 4, 5], name="id"),
    )
    groups = find_duplicates(contacts, on=["email", "name"], threshold=85)
    # 2 and 3 share an e-mail; 1 resembles 2 by name but not 3, so it stays out of their group
    assert groups.index.tolist() == [2, 3, 4, 5]
    assert groups.loc[[2, 3], "group"].nunique() == 1 and groups.loc[[4, 5], "group"].nunique() == 1
    assert groups.loc[4, "matched_on"] == "name"


def test_phone_and_name_matching_name_the_extra_when_it_is_missing():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "for m in ('phonenumbers', 'rapidfuzz'):\n"
        "    sys.modules[m] = None\n"
        "import pandas as pd\n"
        "from ontraport_pandas.duplicates import find_duplicates\n"
        "frame = pd.DataFrame({'email': ['a@b.co', 'A@b.co'], 'firstname': ['a', 'a'],\n"
        "                      'lastname': ['b', 'b'], 'home_phone': ['1', '1']}, index=[1, 2])\n"
        "print(find_duplicates(frame, on=['email'])['group'].tolist())\n"
        "for on in (['phone'], ['name']):\n"
        "    try:\n"
        "        find_duplicates(frame, on=on)\n"
        "    except ImportError as e:\n"
        "        print(e)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    lines = out.stdout.splitlines()
    assert lines[0] == "[1, 1]"  # e-mails need no extra
    assert len(lines) == 3
    assert all('pip install "ontraport-pandas[clean]"' in line for line in lines[1:])


def test_records_are_loaded_in_chunks_of_ids(op):
    from ontraport_pandas.duplicates import load_where_in

    notes = op.notes(progress=False)
    owners = sorted(set(notes["contact_id"].dropna().astype(int)))[:40]
    expected = notes[notes["contact_id"].isin(owners)]
    chunked = load_where_in(op, "notes", "contact_id", owners, chunk=7)
    pd.testing.assert_frame_equal(chunked.sort_index(), expected.sort_index())
    assert chunked.attrs["ontraport"]["object_type"] in ("notes", 12)
    edited = chunked.copy()
    edited.iloc[0, edited.columns.get_loc("data")] = "changed"
    plan = op.plan(edited, original=chunked)
    assert plan.counts["update"] == 1 and plan.counts["delete"] == 0
