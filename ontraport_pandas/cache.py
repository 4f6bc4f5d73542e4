"""Incremental refresh: keep the last load on disk and fetch only what changed since.

``op.contacts(cache=True)`` keeps, per connection and object type, the records as the
API sent them (SQLite) and the typed frame of the last refresh (a pickle in the user's
own cache folder). The next call:

1. asks for the records whose ``dlm`` (date last modified) is at or after the newest
   cached ``dlm``, minus a lookback (default 120 s) for writes that landed in the same
   second as the previous load; the first page carries ``count=true`` and ``getInfo``
   counts every record at the same time, so a few changes cost one round trip;
2. when the API has fewer records than the cache plus the changes, some were deleted:
   it splits the id range at the cached ids' quantiles, compares the server's count of
   each part with the cached ids, and splits again or lists (``listFields=id``) the parts
   that differ. Each level's requests go at once, and each level chooses between listing
   and splitting in 2 to 64 parts by :class:`SearchCosts`: the round trips (latency as
   measured by the changes' request, up to ``DELETION_SEARCH_WORKERS`` in flight) and the
   requests past the rate-limit window's ``Remaining``, paced at ``RATE_WINDOW / limit``
   seconds each. A small table is listed whole in one round; many records with free
   requests get wide splits (few rounds); a spent window gets the fewest requests. The
   API documents no bulk "deleted since" listing and no page larger than 50, so counting
   id ranges is the documented way to find deletions. When requests are free, the first
   level's counts go with the request for changes (ids are never handed out twice, so
   the ids created since lie above the cached ones, in the last range);
3. types only the changed records and splices them into the cached frame. Whenever that
   could type a column differently from a full conversion (field types or labels changed,
   a number column gained or lost its decimals, a stray dropdown id vanished), every
   record is typed again from the records cache.

The typed frame of the last refresh is kept in memory per client (a later call on the same
client refreshes from it without reading the snapshot file) and written to the snapshot
file by a background thread after the frame is returned: pickled to a temporary file of
its own (process and thread in the name), flushed to disk, then renamed over the snapshot
atomically, so a crash mid-write leaves the previous snapshot whole and two processes
writing at once leave one of their snapshots, never a mix; a torn or foreign file is
ignored (the records cache still holds the truth). Any consistent snapshot is a valid
starting point: the refresh asks for changes since its own newest ``dlm``.

The cache holds the whole type; ``where=``, ``fields=``, ``sort=`` and ``limit=`` are
applied to the refreshed frame, so the result equals what a full load returns.
The SQLite and pickle files are local state, not network I/O.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import pickle
import sqlite3
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .loader import PAGE_SIZE, LoadStats, count_records, load_records
from .objects import ObjectType
from .private import private_dir, private_file, private_open
from .session import Session

__all__ = ["RecordCache", "default_cache_dir", "refresh_frame", "refresh_records"]

logger = logging.getLogger(__name__)

#: Seconds subtracted from the newest cached ``dlm`` when asking for changes.
DEFAULT_LOOKBACK = 120

#: Length of the API's rolling rate-limit window in seconds (180 requests a minute).
RATE_WINDOW = 60.0

#: Requests the deletion search keeps in flight; None: ``SEARCH_WORKERS_PER_WORKER`` times the
#: session's ``max_workers``, at most ``MAX_SEARCH_WORKERS``. Its answers are a count or 50 ids,
#: so more of them travel at once than record pages do; the rate limiter still paces them all.
DELETION_SEARCH_WORKERS: int | None = None
SEARCH_WORKERS_PER_WORKER = 4
MAX_SEARCH_WORKERS = 32


def default_cache_dir() -> Path:
    """``ONTRAPORT_PANDAS_CACHE_DIR``, else ``$XDG_CACHE_HOME/ontraport-pandas`` (``~/.cache/…``)."""
    env = os.environ.get("ONTRAPORT_PANDAS_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "ontraport-pandas"


class RecordCache:
    """The cached records of one connection, one SQLite file per object type."""

    def __init__(self, directory: str | os.PathLike[str], connection_key: str) -> None:
        digest = hashlib.sha256(connection_key.encode()).hexdigest()[:16]
        self.directory = Path(directory) / digest
        self._lock = threading.Lock()
        # The last typed frame of each type, kept in memory for this client, and the
        # snapshot files being written in the background (off the refresh's critical path).
        self._frames: dict[int, tuple[pd.DataFrame, dict[str, Any]]] = {}
        self._writer: ThreadPoolExecutor | None = None
        self._pending: dict[int, Future[None]] = {}
        #: Seconds of one round trip, as the last refresh measured it (its first guess: 0.1 s).
        self.latency = 0.1

    def refresh_frame(
        self,
        session: Session,
        otype: ObjectType,
        *,
        schema: Any,
        lookups: Mapping[str, Mapping[str, str]],
        progress: bool | None = None,
        stats: LoadStats | None = None,
    ) -> pd.DataFrame:
        """The typed frame of every current record of ``otype`` (see :func:`refresh_frame`)."""
        return refresh_frame(
            session, otype, self, schema=schema, lookups=lookups, progress=progress, stats=stats
        )

    def _db(self, otype: ObjectType) -> sqlite3.Connection:
        private_dir(self.directory)
        db = sqlite3.connect(private_file(self.directory / f"type-{otype.id}.sqlite3"))
        db.execute(
            "CREATE TABLE IF NOT EXISTS records (id INTEGER PRIMARY KEY, dlm INTEGER, body TEXT NOT NULL)"
        )
        db.execute("CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT)")
        return db

    def load(self, otype: ObjectType) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
        """The cached records by id, and the cache's state (``fields``, ``synced_at``)."""
        from .schema import gc_paused

        with self._lock, gc_paused():  # thousands of small dicts, no cycles to collect
            db = self._db(otype)
            try:
                records = {
                    str(i): json.loads(b) for i, b in db.execute("SELECT id, body FROM records ORDER BY id")
                }
                state = dict(db.execute("SELECT key, value FROM state"))
            finally:
                db.close()
        return records, state

    def store(self, otype: ObjectType, records: Sequence[dict[str, Any]], state: dict[str, str]) -> None:
        """Replace the cached records of a type."""
        id_field = otype.id_field
        rows = [
            (int(str(r.get(id_field, r.get("id")))), _dlm(r), json.dumps(r, separators=(",", ":")))
            for r in records
        ]
        with self._lock:
            db = self._db(otype)
            try:
                with db:
                    db.execute("DELETE FROM records")
                    db.executemany("INSERT INTO records VALUES (?, ?, ?)", rows)
                    db.execute("DELETE FROM state")
                    db.executemany("INSERT INTO state VALUES (?, ?)", list(state.items()))
            finally:
                db.close()

    def update(
        self,
        otype: ObjectType,
        upserts: Sequence[dict[str, Any]],
        deleted: Sequence[str],
        state: dict[str, str],
    ) -> None:
        """Write only what changed: upsert some records, drop the deleted ids."""
        id_field = otype.id_field
        rows = [
            (int(str(r.get(id_field, r.get("id")))), _dlm(r), json.dumps(r, separators=(",", ":")))
            for r in upserts
        ]
        with self._lock:
            db = self._db(otype)
            try:
                with db:
                    db.executemany("INSERT OR REPLACE INTO records VALUES (?, ?, ?)", rows)
                    db.executemany("DELETE FROM records WHERE id = ?", [(int(i),) for i in deleted])
                    db.executemany("INSERT OR REPLACE INTO state VALUES (?, ?)", list(state.items()))
            finally:
                db.close()

    def _frame_path(self, otype: ObjectType) -> Path:
        return self.directory / f"type-{otype.id}.frame.pickle"

    def load_frame(self, otype: ObjectType) -> tuple[pd.DataFrame, dict[str, Any]] | None:
        """The typed frame of the last refresh and its state, if there is one.

        This client's last frame comes from memory; otherwise the snapshot file, a pickle
        written by this cache into the user's own cache folder, is read.
        """
        from .schema import gc_paused

        held = self._frames.get(otype.id)
        if held is not None:
            return held[0].copy(deep=not _copy_on_write()), dict(held[1])
        self.flush(otype)
        path = self._frame_path(otype)
        if not path.exists():
            return None
        try:
            with self._lock, gc_paused(), open(path, "rb") as fh:
                saved = pickle.load(fh)
            return saved["frame"], saved["state"]
        except Exception:  # a torn or foreign file: ignore it, the records cache still holds the truth
            logger.info("ignoring an unreadable frame snapshot %s", path)
            return None

    def store_frame(self, otype: ObjectType, frame: pd.DataFrame, state: dict[str, Any]) -> None:
        """Keep the typed frame in memory and write its snapshot file in the background.

        The copy kept is this cache's own (a user's in-place edit of the returned frame
        cannot reach it); the file is written atomically by one background thread, and
        :meth:`flush` waits for it.
        """
        kept = frame.copy(deep=not _copy_on_write())
        with self._lock:
            self._frames[otype.id] = (kept, dict(state))
            if self._writer is None:
                self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="opd-snapshot")
            self._pending[otype.id] = self._writer.submit(self._write_frame, otype, kept, dict(state))

    def _write_frame(self, otype: ObjectType, frame: pd.DataFrame, state: dict[str, Any]) -> None:
        from .schema import gc_paused

        path = self._frame_path(otype)
        # A name of its own per process and thread: two writers never share a half-written file.
        tmp = path.with_name(f"{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
        try:
            private_dir(self.directory)
            _remove_stale_temporaries(self.directory)
            with gc_paused(), private_open(tmp, "wb") as fh:
                pickle.dump({"frame": frame, "state": state}, fh, protocol=pickle.HIGHEST_PROTOCOL)
                fh.flush()
                os.fsync(fh.fileno())  # on disk before the rename makes it the snapshot
            os.replace(tmp, path)  # atomic: readers see the old snapshot or the new one, never a mix
        except Exception:  # a snapshot is an optimisation: the records cache still holds the truth
            logger.warning("could not write the frame snapshot of %s", otype.name, exc_info=True)
            try:
                tmp.unlink(missing_ok=True)
            except OSError:
                pass

    def flush(self, otype: ObjectType | None = None) -> None:
        """Wait until the snapshot files being written (of one type, or all) are on disk."""
        with self._lock:
            pending = [f for t, f in self._pending.items() if otype is None or t == otype.id]
        for future in pending:
            future.result()

    def clear(self, otype: ObjectType | None = None) -> None:
        """Forget the cache of one type, or of every type of this connection."""
        self.flush(otype)
        with self._lock:
            if otype is None:
                self._frames.clear()
            else:
                self._frames.pop(otype.id, None)
            if not self.directory.exists():
                return
            pattern = "type-*" if otype is None else f"type-{otype.id}.*"
            for f in self.directory.glob(pattern):
                f.unlink()


#: A temporary snapshot file this old was left by a writer that died (a crash, a kill).
STALE_TEMPORARY = 3600.0


def _remove_stale_temporaries(directory: Path) -> None:
    """Delete the half-written snapshot files of writers that died, so they do not pile up."""
    now = time.time()
    for leftover in directory.glob("type-*.frame.pickle.*.tmp"):
        try:
            pid = int(leftover.name.rsplit(".", 2)[-2].split("-")[0])
            dead = pid != os.getpid() and not _alive(pid)
            if dead or now - leftover.stat().st_mtime > STALE_TEMPORARY:
                leftover.unlink()
        except (OSError, ValueError):
            continue


def _alive(pid: int) -> bool:
    if os.name == "nt":
        return True  # os.kill would end the process there: only the file's age counts
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists, under another user
    return True


def _copy_on_write() -> bool:
    """Whether pandas copies on write (always from pandas 3): then a shallow copy is private."""
    if int(pd.__version__.split(".")[0]) >= 3:
        return True
    return bool(pd.get_option("mode.copy_on_write") is True)


def _dlm(record: dict[str, Any]) -> int:
    try:
        return int(record.get("dlm") or 0)
    except (TypeError, ValueError):
        return 0


def _cond(field: str, op: str, value: Any) -> dict[str, Any]:
    return {"field": {"field": field}, "op": op, "value": {"value": str(value)}}


def _and(*items: dict[str, Any]) -> list[Any]:
    out: list[Any] = []
    for item in items:
        if out:
            out.append("AND")
        out.append(item)
    return out


def refresh_records(
    session: Session,
    otype: ObjectType,
    cache: RecordCache,
    *,
    lookback: int = DEFAULT_LOOKBACK,
    progress: bool | None = None,
    stats: LoadStats | None = None,
) -> list[dict[str, Any]]:
    """Every current record of a type, fetching only what changed since the cached load."""
    stats = stats if stats is not None else LoadStats()
    started = time.perf_counter()
    sent0 = session.requests_sent
    id_field = otype.id_field
    cached, state = cache.load(otype)
    if not cached or "dlm" not in session.schema(otype).fields:
        records = load_records(session, otype, progress=progress, stats=stats)
        cache.store(otype, records, {"synced_at": str(time.time()), "mode": "full"})
        return records

    newest = max(_dlm(r) for r in cached.values())
    since = max(0, newest - lookback)
    # The current total is asked for while the changed records load: two round trips in all.
    with ThreadPoolExecutor(max_workers=1) as pool:
        total_future = pool.submit(count_records, session, otype)
        changed = load_records(
            session, otype, condition=[_cond("dlm", ">=", since)], progress=progress, reconcile=False
        )
        total = total_future.result()
    merged = dict(cached)
    for row in changed:
        merged[str(row.get(id_field, row.get("id")))] = row
    deleted: list[str] = []
    if len(merged) != total:
        deleted = [str(i) for i in _find_deleted(session, otype, sorted(int(i) for i in merged), total)]
        for rid in deleted:
            merged.pop(rid, None)
        logger.info("%s: %d deleted records found by id bisection", otype.name, len(deleted))
    records = [merged[k] for k in sorted(merged, key=int)]
    if len(records) != total:
        # Something moved under us (records created after the changes were read): fall back to a full load.
        logger.info(
            "%s: cache disagrees with the count (%d vs %d); full reload", otype.name, len(records), total
        )
        records = load_records(session, otype, progress=progress, stats=stats)
        cache.store(otype, records, {"synced_at": str(time.time()), "mode": "full"})
    else:
        cache.update(otype, changed, deleted, {"synced_at": str(time.time()), "mode": "incremental"})
    stats.count = total
    stats.rows = len(records)
    stats.requests = session.requests_sent - sent0
    stats.seconds = time.perf_counter() - started
    return records


def _fingerprint(schema: Any, lookups: Mapping[str, Mapping[str, str]]) -> str:
    """What the typing of a frame depends on: the type table's version, field types, options, labels."""
    from .schema import TYPING_VERSION

    parts: list[Any] = [TYPING_VERSION]
    parts += [
        (k, f.type, tuple(dict(f.options).items()), tuple(sorted((lookups.get(k) or {}).items())))
        for k, f in schema.fields.items()
    ]
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def _same_typing(merged: pd.DataFrame, cached: pd.DataFrame, schema: Any) -> bool:
    """True when ``merged`` has exactly the dtypes a full conversion of its records would give."""
    if list(merged.columns) != list(cached.columns):
        return False
    for col in merged.columns:
        a, b = merged[col].dtype, cached[col].dtype
        if str(a) != str(b):
            return False
        spec = schema.fields.get(col)
        if spec is None:
            continue
        if isinstance(a, pd.CategoricalDtype):
            # categories are the options plus ids found in the data: an extra one must still be present
            extra = set(a.categories) - set(dict(spec.options).values())
            if extra and not extra <= set(merged[col].dropna().unique()):
                return False
        elif spec.type == "numeric" and str(a) == "Float64":
            values = merged[col].dropna()
            if len(values) and bool((values % 1 == 0).all()):
                return False  # the decimals are gone: a full conversion would give Int64
    return True


def refresh_frame(
    session: Session,
    otype: ObjectType,
    cache: RecordCache,
    *,
    schema: Any,
    lookups: Mapping[str, Mapping[str, str]],
    lookback: int = DEFAULT_LOOKBACK,
    progress: bool | None = None,
    stats: LoadStats | None = None,
) -> pd.DataFrame:
    """The typed frame of every current record, fetching and typing only what changed.

    The typed frame of the last refresh is kept beside the records. When the field
    types and labels are unchanged, the changed records are typed alone and spliced
    in, and the deleted ones dropped; whenever the splice could type a column
    differently from a full conversion (a number column that gained or lost its
    decimals, a stray dropdown id), the records are typed again from scratch.
    """
    from .schema import frame_from_records

    stats = stats if stats is not None else LoadStats()
    started = time.perf_counter()
    sent0 = session.requests_sent
    id_field = otype.id_field
    fingerprint = _fingerprint(schema, lookups)

    def slow() -> pd.DataFrame:
        records = refresh_records(session, otype, cache, lookback=lookback, progress=progress, stats=stats)
        frame = frame_from_records(records, schema, id_field=id_field, lookups=lookups)
        cache.store_frame(otype, frame, {"fingerprint": fingerprint})
        return frame

    snapshot = cache.load_frame(otype)
    if snapshot is None or snapshot[1].get("fingerprint") != fingerprint or "dlm" not in schema.fields:
        return slow()
    cached, _ = snapshot
    if len(cached) == 0 or "dlm" not in cached.columns:
        return slow()
    dlm = cached["dlm"].dropna()
    newest = int(dlm.max().timestamp()) if len(dlm) else 0
    since = max(0, newest - lookback)
    known = sorted(int(i) for i in cached.index)
    workers = _search_workers(session)
    cuts = _speculative_cuts(known, SearchCosts.of(session, cache.latency, workers))
    asked = time.perf_counter()
    with ThreadPoolExecutor(max_workers=max(1, len(cuts)), thread_name_prefix="opd-deletions") as pool:
        # The first level of the deletion search is counted while the changes load.
        edges = [known[0], *cuts]
        counting = [
            pool.submit(_count_between, session, otype, a, b) for a, b in zip(edges[:-1], cuts, strict=True)
        ]
        changed, total = _changed_since(session, otype, since)
        counted = [f.result() for f in counting]
    # One round trip, or two when more than a page changed: what the deletion search plans with.
    latency = (time.perf_counter() - asked) / (2 if len(changed) > PAGE_SIZE else 1)
    cache.latency = latency
    changed_ids = [int(str(r.get(id_field, r.get("id")))) for r in changed]
    present = sorted(set(known) | set(changed_ids))
    deleted: list[int] = []
    if len(present) != total:
        first_level = None
        if cuts and present[0] == known[0]:
            first_level = [(a, b, c) for a, b, c in zip(edges[:-1], cuts, counted, strict=True)]
            first_level.append((cuts[-1], present[-1] + 1, total - sum(counted)))
        deleted = _find_deleted(
            session, otype, present, total, latency=latency, workers=workers, first_level=first_level
        )
    if len(present) - len(deleted) != total:
        logger.info("%s: cache disagrees with the count; typing every record again", otype.name)
        return slow()
    drop = pd.Index(sorted(set(changed_ids) | set(deleted)), dtype=cached.index.dtype)
    if changed:
        fresh = frame_from_records(
            changed, schema, id_field=id_field, lookups=lookups, columns=list(cached.columns)
        )
        # One concatenation and one take in id order (not a drop, a concat and a sort: three copies).
        combined = pd.concat([cached, fresh])
        rows = np.concatenate(
            [np.flatnonzero(~cached.index.isin(drop)), np.arange(len(cached), len(combined))]
        )
        merged = combined.take(rows[np.argsort(combined.index.to_numpy()[rows], kind="stable")])
    else:
        merged = cached.drop(index=drop, errors="ignore")
    merged.index.name = cached.index.name
    merged.attrs = {}
    cache.update(
        otype, changed, [str(i) for i in deleted], {"synced_at": str(time.time()), "mode": "incremental"}
    )
    if not _same_typing(merged, cached, schema):
        return slow()
    cache.store_frame(otype, merged, {"fingerprint": fingerprint})
    stats.count = total
    stats.rows = len(merged)
    stats.requests = session.requests_sent - sent0
    stats.seconds = time.perf_counter() - started
    return merged


def _changed_since(session: Session, otype: ObjectType, since: int) -> tuple[list[dict[str, Any]], int]:
    """Records modified since ``since`` and the current total, in one round trip when few changed.

    The first page of changes is asked for with ``count=true`` while ``getInfo`` counts every
    record; the other pages of changes (if more than 50 changed) follow concurrently.
    """
    path, base = otype.route()
    condition = json.dumps([_cond("dlm", ">=", since)])
    params = {**base, "condition": condition, "sort": otype.id_field, "sortDir": "asc", "range": PAGE_SIZE}

    def page(start: int, with_count: bool = False) -> dict[str, Any]:
        extra = {"count": "true"} if with_count else {}
        return session.call("GET", path, params={**params, "start": start, **extra})

    with ThreadPoolExecutor(max_workers=max(2, session.max_workers)) as pool:
        total_future = pool.submit(count_records, session, otype)
        first = page(0, with_count=True)
        rows: list[dict[str, Any]] = list(first.get("data") or [])
        try:
            matching: int | None = int(first["count"])
        except (KeyError, TypeError, ValueError):
            matching = None  # the API did not count: page until a short page
        if matching is not None:
            starts = range(PAGE_SIZE, matching, PAGE_SIZE)
            for more in pool.map(lambda start: page(start).get("data") or [], starts):
                rows.extend(more)
        else:
            start, last = PAGE_SIZE, len(rows)
            while last == PAGE_SIZE:
                more = page(start).get("data") or []
                rows.extend(more)
                start, last = start + PAGE_SIZE, len(more)
        total = total_future.result()
    seen: set[str] = set()
    unique = []
    for r in rows:
        rid = str(r.get(otype.id_field, r.get("id")))
        if rid not in seen:
            seen.add(rid)
            unique.append(r)
    return unique, total


@dataclass(frozen=True)
class SearchCosts:
    """What one round trip and one request cost now, for choosing how to find deletions.

    ``workers`` requests travel at once; a round of ``r`` requests takes
    ``ceil(r / workers)`` round trips of ``latency`` seconds. The first ``budget``
    requests go at once (the rate-limit window's ``Remaining``); each one past it waits
    ``pace`` seconds (the window's length over its limit). Every request also costs
    ``work`` seconds of encoding, answering and decoding, which concurrency does not hide
    on a small machine; it also makes the fewer requests win a tie.
    """

    workers: int
    latency: float
    budget: float = math.inf
    pace: float = 0.0
    work: float = 0.002

    def seconds(self, rounds: Sequence[float]) -> float:
        """Estimated wall time of rounds of this many requests each, one round after the other."""
        total = used = 0.0
        for r in rounds:
            if r <= 0:
                continue
            total += math.ceil(r / self.workers) * self.latency + r * self.work
            total += (max(0.0, used + r - self.budget) - max(0.0, used - self.budget)) * self.pace
            used += r
        return total

    @classmethod
    def of(cls, session: Session, latency: float, workers: int) -> SearchCosts:
        limiter = session.limiter
        limit, remaining = limiter.limit, limiter.remaining
        if remaining is None or remaining >= 1 << 29:
            return cls(workers, latency)  # no limit reported (or none known yet)
        budget = max(0, remaining - limiter.in_flight - limiter.safety)
        pace = RATE_WINDOW / limit if limit else 0.0
        return cls(workers, latency, float(budget), pace)


def _listing_requests(present: float) -> float:
    return max(1.0, math.ceil(present / PAGE_SIZE))


FANOUTS = (2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64)


def _rounds(ranges: float, size: float, gone: float, fanout: int) -> list[float]:
    """Requests per round to resolve ``ranges`` ranges of ``size`` local ids, ``gone`` deleted in each.

    Policy: list a range once listing it is no dearer than one more split, otherwise split
    every range in ``fanout`` parts (``fanout - 1`` counts; the last part's count is the
    rest), assuming the deletions fall in different parts (the worst case).
    """
    rounds: list[float] = []
    while True:
        listing = _listing_requests(size - gone)
        if fanout < 2 or listing <= fanout - 1 or size <= 2:
            rounds.append(ranges * listing)
            return rounds
        rounds.append(ranges * (fanout - 1))
        hit = min(gone, fanout)
        ranges, size, gone = ranges * hit, size / fanout, max(1.0, gone / hit)


def _estimate(costs: SearchCosts, ranges: float, size: float, gone: float, fanout: int) -> float:
    """Seconds to resolve the ranges splitting in ``fanout`` now (0: listing them now).

    The levels after this one are planned again when their counts are in, so they are
    estimated with whichever single fanout suits them best.
    """
    first = _rounds(ranges, size, gone, fanout)[:1]
    if fanout < 2 or len(_rounds(ranges, size, gone, fanout)) == 1:
        return costs.seconds(first)
    hit = min(gone, fanout)
    rest = (ranges * hit, size / fanout, max(1.0, gone / hit))
    later = min(costs.seconds(first + _rounds(*rest, k)) for k in (0, *FANOUTS))
    return later


def _choose_fanout(costs: SearchCosts, ranges: int, size: float, gone: float) -> int:
    """The split that finishes soonest (0: list the ranges now); ties go to fewer requests."""
    best, best_cost = 0, _estimate(costs, ranges, size, gone, 0)
    for fanout in FANOUTS:
        if fanout > size:
            break
        cost = _estimate(costs, ranges, size, gone, fanout)
        if cost < best_cost - 1e-9:
            best, best_cost = fanout, cost
    return best


def _find_deleted(
    session: Session,
    otype: ObjectType,
    local_ids: list[int],
    server_total: int,
    *,
    latency: float = 0.1,
    workers: int | None = None,
    first_level: Sequence[tuple[int, int, int]] | None = None,
) -> list[int]:
    """Ids present locally but gone from the server, in as few round trips as the limit allows.

    The id range is split at the local ids' quantiles and each part counted; the parts
    whose server count differs from the local one are split again or listed
    (``listFields=id``), whichever :class:`SearchCosts` says finishes sooner: wide
    splits when requests are free (no limit, or room left in the window), splits in
    two when each request waits for the window. Listing every id is the same choice
    taken at the first level. Each level's requests go at once. ``first_level`` gives
    ranges (``lo``, ``hi``, server count) already counted, covering every local id.
    """
    import bisect

    id_field = otype.id_field
    path, base = otype.route()
    deleted: list[int] = []
    if not local_ids:
        return deleted
    workers = workers or _search_workers(session)

    def between(lo: int, hi: int) -> list[Any]:
        return _and(_cond(id_field, ">=", lo), _cond(id_field, "<", hi))

    def local_count(lo: int, hi: int) -> int:
        return bisect.bisect_left(local_ids, hi) - bisect.bisect_left(local_ids, lo)

    def list_page(task: tuple[int, int, int]) -> list[int]:
        lo, hi, start = task
        params = {
            **base,
            "condition": json.dumps(between(lo, hi)),
            "listFields": id_field,
            "sort": id_field,
            "sortDir": "asc",
            "start": start,
            "range": PAGE_SIZE,
        }
        rows = session.data("GET", path, params=params) or []
        return [int(r.get(id_field, r.get("id"))) for r in rows]

    def count_in(bounds: tuple[int, int]) -> int:
        return _count_between(session, otype, *bounds)

    def call(task: tuple[str, Any]) -> Any:
        kind, arg = task
        return count_in(arg) if kind == "count" else list_page(arg)

    def run(tasks: list[tuple[str, Any]]) -> list[Any]:
        return list(pool.map(call, tasks))

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="opd-deletions") as pool:
        level = list(first_level or [(local_ids[0], local_ids[-1] + 1, server_total)])
        while level:
            costs = SearchCosts.of(session, latency, workers)
            todo = [(lo, hi, srv, local_count(lo, hi)) for lo, hi, srv in level]
            todo = [t for t in todo if t[3] != t[2]]
            if not todo:
                break
            size = sum(t[3] for t in todo) / len(todo)
            gone = max(1.0, sum(t[3] - t[2] for t in todo) / len(todo))
            fanout = _choose_fanout(costs, len(todo), size, gone)
            tasks: list[tuple[str, Any]] = []
            plan: list[tuple[str, int, int, int, list[int]]] = []
            for lo, hi, srv, local in todo:
                i = bisect.bisect_left(local_ids, lo)
                parts = min(fanout, local)
                if parts < 2 or hi - lo <= 2 or _listing_requests(srv) <= parts - 1:
                    starts = list(range(0, srv, PAGE_SIZE))
                    plan.append(("list", lo, hi, len(starts), []))
                    tasks += [("list", (lo, hi, s)) for s in starts]
                    continue
                cuts = sorted({local_ids[i + local * k // parts] for k in range(1, parts)} - {lo})
                edges = [lo, *cuts, hi]
                plan.append(("split", lo, hi, srv, edges))
                tasks += [("count", (a, b)) for a, b in zip(edges[:-2], edges[1:-1], strict=True)]
            answers = iter(run(tasks))
            level = []
            for kind, lo, hi, n, edges in plan:
                if kind == "list":
                    present = {x for _ in range(n) for x in next(answers)}
                    i, j = bisect.bisect_left(local_ids, lo), bisect.bisect_left(local_ids, hi)
                    deleted.extend(x for x in local_ids[i:j] if x not in present)
                    continue
                rest = n
                for a, b in zip(edges[:-2], edges[1:-1], strict=True):
                    c = next(answers)
                    level.append((a, b, c))
                    rest -= c
                level.append((edges[-2], edges[-1], rest))
    return sorted(deleted)


def _count_between(session: Session, otype: ObjectType, lo: int, hi: int) -> int:
    """The server's count of records with ``lo <= id < hi``."""
    id_field = otype.id_field
    return count_records(session, otype, condition=_and(_cond(id_field, ">=", lo), _cond(id_field, "<", hi)))


def _speculative_cuts(known: Sequence[int], costs: SearchCosts) -> list[int]:
    """Where to split the cached ids for counts sent with the request for changes.

    Deletions cannot be known before the total arrives, but when requests are free (no
    limit, or plenty left in the window) counting the first level of the search at the
    same time saves a round trip; its ``fanout - 1`` counts are wasted when nothing was
    deleted. None when the window is tight or the table small enough to list.
    """
    n = len(known)
    fanout = _choose_fanout(costs, 1, n, 1)
    if fanout < 2 or costs.budget < 4 * fanout + 20:
        return []
    return sorted({known[n * k // fanout] for k in range(1, fanout)} - {known[0]})


def _search_workers(session: Session) -> int:
    """Requests the deletion search keeps in flight (counts are tiny answers)."""
    if DELETION_SEARCH_WORKERS is not None:
        return max(1, DELETION_SEARCH_WORKERS)
    return max(1, min(MAX_SEARCH_WORKERS, SEARCH_WORKERS_PER_WORKER * session.max_workers))
