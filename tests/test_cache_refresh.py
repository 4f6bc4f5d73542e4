"""Incremental refresh: edits, deletions and creations at once, the deletion search's choices,
the frame kept in memory, and snapshot files written in the background, failed, torn or
written by another process meanwhile."""

from __future__ import annotations

import logging
import math
import pickle
import subprocess
import sys
import textwrap

import pandas as pd
import pytest

import ontraport_pandas as opd
from ontraport_pandas.cache import SearchCosts, _choose_fanout, _estimate

KEY = "one-account"


def _connect(db, cache_dir) -> opd.Ontraport:
    op = opd.connect("sandbox", path=str(db), rate_limit=None, cache_dir=str(cache_dir))
    op.cache_key = KEY
    return op


@pytest.fixture
def store(tmp_path):
    """A sandbox store on disk (1,500 contacts) that other processes can open too."""
    db = tmp_path / "sandbox.sqlite3"
    opd.connect("sandbox", path=str(db), contacts=1500, rate_limit=None).close()
    return db


def _edit_delete_create(op: opd.Ontraport, frame: pd.DataFrame, *, edits: int, deletions: int) -> list[int]:
    ids = [int(i) for i in frame.index]
    for rid in ids[5 :: len(ids) // edits][:edits]:
        op.request("PUT", "Contacts", json={"id": rid, "lastname": f"Edited {rid}"})
    step = len(ids) // deletions
    gone = [ids[0], *ids[step::step][: deletions - 2], ids[-1]]  # both ends and between
    op.request("DELETE", "Contacts", params={"ids": ",".join(map(str, gone))})
    for k in range(deletions):
        op.request("POST", "Contacts", json={"firstname": f"New{k}", "email": f"new{k}@example.com"})
    return gone


def test_edits_deletions_and_creations_at_once_give_what_a_full_load_gives(store, tmp_path):
    op = _connect(store, tmp_path / "cache")
    first = op.contacts(cache=True, progress=False)
    gone = _edit_delete_create(op, first, edits=30, deletions=10)
    op.sandbox.reset_log()
    refreshed = op.contacts(cache=True, progress=False)
    log = list(op.sandbox.request_log)
    full = op.contacts(progress=False)  # read back from the sandbox, not from the cache
    pd.testing.assert_frame_equal(refreshed, full)
    assert not set(gone) & set(refreshed.index.tolist())
    assert sorted(refreshed.loc[refreshed["firstname"].str.startswith("New", na=False), "email"]) == sorted(
        f"new{k}@example.com" for k in range(10)
    )
    assert (refreshed["lastname"].str.startswith("Edited", na=False)).sum() == 30
    # the total, one page of changes, and at most a listing of every id (in one round, 1,500 ids)
    assert len(log) <= 2 + -(-len(full) // 50)
    assert sum("listFields=id" in path or "condition" in path for _, path, _ in log) <= 1 + -(
        -len(full) // 50
    )
    op.close()


def test_the_deletion_search_lists_small_tables_and_splits_wide_or_narrow_by_the_window():
    free = SearchCosts(workers=32, latency=0.1)
    # 300 records, one deletion: listing 6 pages at once beats any split followed by a listing.
    assert _choose_fanout(free, 1, 300, 1) == 0
    # 20,000 records, 10 deletions, no limit: wide splits, few round trips.
    wide = _choose_fanout(free, 1, 20000, 10)
    assert wide >= 8
    # With the window spent every request waits a third of a second: listing every id (400
    # requests) would take over two minutes, and whatever is chosen is the cheapest estimate.
    spent = SearchCosts(workers=32, latency=0.1, budget=0, pace=1 / 3)
    narrow = _choose_fanout(spent, 1, 20000, 10)
    assert narrow >= 2
    assert _estimate(spent, 1, 20000, 10, 0) > 120
    assert all(
        _estimate(spent, 1, 20000, 10, narrow) <= _estimate(spent, 1, 20000, 10, k) + 1e-9
        for k in (2, 4, 8, 64)
    )
    # Listing every id of 20,000 records is 400 requests: never the choice there.
    assert _estimate(free, 1, 20000, 10, 0) > _estimate(free, 1, 20000, 10, wide)
    # A spent window still lists small ranges rather than splitting them further.
    assert _choose_fanout(spent, 10, 60, 1) == 0
    assert free.seconds([64]) == pytest.approx(2 * 0.1 + 64 * free.work)
    assert SearchCosts(workers=8, latency=0.1, budget=10, pace=1.0).seconds([12]) == pytest.approx(
        0.2 + 12 * 0.002 + 2.0
    )
    assert math.isinf(SearchCosts(workers=1, latency=0.1).budget)


def test_the_search_costs_follow_the_limiter():
    op = opd.connect("sandbox", contacts=10, rate_limit=None)
    limiter = op.session.limiter
    limiter.limit, limiter.remaining = 180, 5  # as the last answer's headers said
    costs = SearchCosts.of(op.session, 0.1, 32)
    assert (costs.budget, costs.pace, costs.workers, costs.latency) == (5, 60 / 180, 32, 0.1)
    limiter.limit, limiter.remaining = None, 1 << 30  # a backend that reports no limit
    assert math.isinf(SearchCosts.of(op.session, 0.1, 32).budget)
    op.close()


def test_the_same_client_refreshes_from_its_frame_in_memory_whatever_the_file_holds(store, tmp_path):
    op = _connect(store, tmp_path / "cache")
    first = op.contacts(cache=True, progress=False)
    op.record_cache().flush()
    # Snapshot and records cache gone from disk: only the frame in memory can make the next
    # refresh incremental (without it, every record would be read again).
    for f in (tmp_path / "cache").rglob("type-0.*"):
        f.unlink()
    _edit_delete_create(op, first, edits=5, deletions=4)
    op.sandbox.reset_log()
    again = op.contacts(cache=True, progress=False)
    log = list(op.sandbox.request_log)
    pd.testing.assert_frame_equal(again, op.contacts(progress=False))
    record_pages = [p for _, p, _ in log if p.startswith("/1/Contacts") and "condition" not in p]
    assert record_pages == ["/1/Contacts/getInfo"]  # the total; every other request is selective
    op.close()


def test_a_failed_background_write_is_logged_and_the_next_client_still_gets_the_truth(
    store, tmp_path, caplog
):
    cache_dir = tmp_path / "cache"
    op = _connect(store, cache_dir)
    op.contacts(cache=True, progress=False)
    op.record_cache().flush()
    (snapshot,) = list(cache_dir.rglob("*.frame.pickle"))
    snapshot.unlink()
    snapshot.mkdir()  # the rename onto it fails
    op.request("PUT", "Contacts", json={"id": 7, "lastname": "After the failure"})
    with caplog.at_level(logging.WARNING, logger="ontraport_pandas.cache"):
        refreshed = op.contacts(cache=True, progress=False)
        op.record_cache().flush()
    assert any("could not write the frame snapshot" in r.getMessage() for r in caplog.records)
    full = op.contacts(progress=False)
    pd.testing.assert_frame_equal(refreshed, full)
    assert not list(cache_dir.rglob("*.tmp"))  # the half-written file was removed
    snapshot.rmdir()
    other = _connect(store, cache_dir)  # no snapshot: typed again from the records cache
    pd.testing.assert_frame_equal(other.contacts(cache=True, progress=False), full)
    op.close()
    other.close()


def test_an_interrupted_write_leaves_the_previous_snapshot_whole(store, tmp_path):
    cache_dir = tmp_path / "cache"
    op = _connect(store, cache_dir)
    first = op.contacts(cache=True, progress=False)
    cache = op.record_cache()
    cache.flush()
    (snapshot,) = list(cache_dir.rglob("*.frame.pickle"))
    before = snapshot.read_bytes()
    otype = op.session.resolve("contacts")
    # Pickling stops half-way (after the frame was written out): the snapshot must not change.
    cache._write_frame(otype, first.iloc[:10], {"fingerprint": "x", "broken": lambda: None})
    assert snapshot.read_bytes() == before
    assert not list(cache_dir.rglob("*.tmp"))
    # A writer killed mid-write left its temporary file; the next write clears it away.
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    leftover = snapshot.with_name(f"{snapshot.name}.{int(dead.stdout)}-1.tmp")
    leftover.write_bytes(before[: len(before) // 2])
    op.request("PUT", "Contacts", json={"id": 9, "lastname": "Later"})
    refreshed = op.contacts(cache=True, progress=False)
    cache.flush()
    assert not leftover.exists()
    # A torn snapshot (a copy cut short) is ignored by a new client: the records cache answers.
    snapshot.write_bytes(snapshot.read_bytes()[:1000])
    other = _connect(store, cache_dir)
    full = op.contacts(progress=False)
    pd.testing.assert_frame_equal(refreshed, full)
    pd.testing.assert_frame_equal(other.contacts(cache=True, progress=False), full)
    op.close()
    other.close()


_OTHER_PROCESS = textwrap.dedent(
    """
    import sys
    import ontraport_pandas as opd

    db, cache_dir, key, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    op = opd.connect("sandbox", path=db, rate_limit=None, cache_dir=cache_dir)
    op.cache_key = key
    for k in range(rounds):
        op.request("PUT", "Contacts", json={"id": 20 + k, "lastname": f"Other process {k}"})
        op.contacts(cache=True, progress=False)
        op.record_cache().flush()
    op.close()
    """
)


def test_a_snapshot_written_by_another_process_meanwhile(store, tmp_path):
    cache_dir = tmp_path / "cache"
    op = _connect(store, cache_dir)
    first = op.contacts(cache=True, progress=False)
    # Another process refreshes the same cache (records and snapshot) several times while this
    # one edits, deletes, creates and refreshes from the frame it holds in memory.
    other = subprocess.Popen(
        [sys.executable, "-c", _OTHER_PROCESS, str(store), str(cache_dir), KEY, "4"],
        stderr=subprocess.PIPE,
        text=True,
    )
    _edit_delete_create(op, first, edits=10, deletions=3)
    for _ in range(3):
        op.request("PUT", "Contacts", json={"id": 11, "firstname": "This process"})
        op.contacts(cache=True, progress=False)
    _, err = other.communicate(timeout=300)
    assert other.returncode == 0, err
    op.record_cache().flush()
    full = op.contacts(progress=False)
    pd.testing.assert_frame_equal(op.contacts(cache=True, progress=False), full)
    # Whoever renamed last, the snapshot is whole, and a new client refreshes from it correctly.
    (snapshot,) = list(cache_dir.rglob("*.frame.pickle"))
    with open(snapshot, "rb") as fh:
        saved = pickle.load(fh)
    assert set(saved) == {"frame", "state"}
    assert not list(cache_dir.rglob("*.tmp"))
    fresh = _connect(store, cache_dir)
    pd.testing.assert_frame_equal(fresh.contacts(cache=True, progress=False), full)
    assert fresh.contacts(progress=False).loc[20:23, "lastname"].tolist() == [
        f"Other process {k}" for k in range(4)
    ]
    op.close()
    fresh.close()


def test_the_first_level_is_counted_with_the_changes_and_still_right_without_deletions(tmp_path):
    db = tmp_path / "big.sqlite3"
    op = opd.connect("sandbox", path=str(db), contacts=2500, rate_limit=None, cache_dir=str(tmp_path / "c"))
    first = op.contacts(cache=True, progress=False)
    assert op.record_cache().latency == 0.1  # no refresh measured yet: the first guess

    def id_range_counts() -> int:
        return sum("getInfo" in path and "condition" in path for _, path, _ in op.sandbox.request_log)

    # Only edits: the counts sent beside the changes find nothing to search, and cost nothing more.
    op.request("PUT", "Contacts", json={"id": 40, "lastname": "Only an edit"})
    op.sandbox.reset_log()
    refreshed = op.contacts(cache=True, progress=False)
    speculative = id_range_counts()
    assert speculative >= 1
    assert len(op.sandbox.request_log) == 2 + speculative  # total, changes, the first level's counts
    pd.testing.assert_frame_equal(refreshed, op.contacts(progress=False))
    # Edits, deletions at both ends and creations: the first level counted beside the changes
    # plus the ids created since fall into the search's first ranges.
    op.record_cache().latency = 0.1
    gone = _edit_delete_create(op, first.drop(index=[40]), edits=20, deletions=8)
    refreshed = op.contacts(cache=True, progress=False)
    full = op.contacts(progress=False)
    pd.testing.assert_frame_equal(refreshed, full)
    assert not set(gone) & set(refreshed.index.tolist())
    op.close()
