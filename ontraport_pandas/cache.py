"""Incremental refresh: keep the last load on disk and fetch only what changed since.

``op.contacts(cache=True)`` keeps, per connection and object type, the records as the
API sent them (SQLite) and the typed frame of the last refresh (a pickle in the user's
own cache folder). The next call:

1. asks for the records whose ``dlm`` (date last modified) is at or after the newest
   cached ``dlm``, minus a lookback (default 120 s) for writes that landed in the same
   second as the previous load; the first page carries ``count=true`` and ``getInfo``
   counts every record at the same time, so a few changes cost one round trip;
2. when the API has fewer records than the cache plus the changes, some were deleted:
   it bisects the id range, comparing the server's count for each half with the cached
   ids, and lists the ids of the small ranges that differ, so a few deletions among many
   records cost a handful of requests; each level of the bisection is counted at once on
   the session's threads, so the round trips grow with the depth, not the deletions;
3. types only the changed records and splices them into the cached frame. Whenever that
   could type a column differently from a full conversion (field types or labels changed,
   a number column gained or lost its decimals, a stray dropdown id vanished), every
   record is typed again from the records cache.

The cache holds the whole type; ``where=``, ``fields=``, ``sort=`` and ``limit=`` are
applied to the refreshed frame, so the result equals what a full load returns.
The SQLite and pickle files are local state, not network I/O.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import sqlite3
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd

from .loader import PAGE_SIZE, LoadStats, count_records, load_records
from .objects import ObjectType
from .private import private_dir, private_file, private_open
from .session import Session

__all__ = ["RecordCache", "default_cache_dir", "refresh_frame", "refresh_records"]

logger = logging.getLogger(__name__)

#: Seconds subtracted from the newest cached ``dlm`` when asking for changes.
DEFAULT_LOOKBACK = 120


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

        try:
            private_dir(self.directory)
            path = self._frame_path(otype)
            tmp = path.with_suffix(f".tmp{os.getpid()}-{threading.get_ident()}")
            with gc_paused(), private_open(tmp, "wb") as fh:
                pickle.dump({"frame": frame, "state": state}, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except Exception:  # a snapshot is an optimisation: the records cache still holds the truth
            logger.warning("could not write the frame snapshot of %s", otype.name, exc_info=True)

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
    changed, total = _changed_since(session, otype, since)
    changed_ids = [int(str(r.get(id_field, r.get("id")))) for r in changed]
    known = [int(i) for i in cached.index]
    present = sorted(set(known) | set(changed_ids))
    deleted: list[int] = []
    if len(present) != total:
        deleted = _find_deleted(session, otype, present, total)
    if len(present) - len(deleted) != total:
        logger.info("%s: cache disagrees with the count; typing every record again", otype.name)
        return slow()
    drop = sorted(set(changed_ids) | set(deleted))
    keep = cached.drop(index=pd.Index(drop, dtype=cached.index.dtype), errors="ignore")
    if changed:
        fresh = frame_from_records(
            changed, schema, id_field=id_field, lookups=lookups, columns=list(cached.columns)
        )
        merged = pd.concat([keep, fresh]).sort_index(kind="stable")
    else:
        merged = keep
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


def _find_deleted(session: Session, otype: ObjectType, local_ids: list[int], server_total: int) -> list[int]:
    """Ids present locally but gone from the server, found by bisecting id ranges on counts."""
    import bisect

    id_field = otype.id_field
    path, base = otype.route()
    deleted: list[int] = []

    def local_count(lo: int, hi: int) -> int:
        return bisect.bisect_left(local_ids, hi) - bisect.bisect_left(local_ids, lo)

    def server_ids(lo: int, hi: int) -> set[int]:
        found: set[int] = set()
        start = 0
        while True:
            params = {
                **base,
                "condition": json.dumps(_and(_cond(id_field, ">=", lo), _cond(id_field, "<", hi))),
                "listFields": id_field,
                "sort": id_field,
                "sortDir": "asc",
                "start": start,
                "range": PAGE_SIZE,
            }
            rows = session.data("GET", path, params=params) or []
            found.update(int(r.get(id_field, r.get("id"))) for r in rows)
            if len(rows) < PAGE_SIZE:
                return found
            start += PAGE_SIZE

    def count_in(bounds: tuple[int, int]) -> int:
        lo, hi = bounds
        return count_records(
            session, otype, condition=_and(_cond(id_field, ">=", lo), _cond(id_field, "<", hi))
        )

    # Breadth first: every range of one level is counted (or listed) at once, so 10
    # deletions cost about as many round trips as levels, not one per range visited.
    workers = max(1, session.max_workers)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        if not local_ids:
            return deleted
        full = (local_ids[0], local_ids[-1] + 1)
        level = [(full[0], full[1], count_in(full))]
        while level:
            small: list[tuple[int, int]] = []  # ranges whose ids are listed
            halves: list[tuple[int, int, int, int]] = []  # lo, mid, hi, server count: split in two
            for lo, hi, server in level:
                local = local_count(lo, hi)
                if local == server:
                    continue
                if local <= PAGE_SIZE * 2 or hi - lo <= 2:
                    small.append((lo, hi))
                else:
                    halves.append((lo, local_ids[bisect.bisect_left(local_ids, lo) + local // 2], hi, server))
            listed = pool.map(lambda b: server_ids(*b), small)
            lefts = pool.map(count_in, [(lo, mid) for lo, mid, _, _ in halves])
            for (lo, hi), present in zip(small, listed, strict=True):
                i, j = bisect.bisect_left(local_ids, lo), bisect.bisect_left(local_ids, hi)
                deleted.extend(x for x in local_ids[i:j] if x not in present)
            level = []
            for (lo, mid, hi, server), left in zip(halves, lefts, strict=True):
                level += [(lo, mid, left), (mid, hi, server - left)]
    return sorted(deleted)
