"""Incremental refresh: keep the last load on disk and fetch only what changed since.

``op.contacts(cache=True)`` stores every record of the type (as the API sent them)
in a small SQLite file per connection and object type. The next call:

1. fetches the records whose ``dlm`` (date last modified) is at or after the newest
   ``dlm`` already cached, minus a lookback (default 120 s) for writes that landed in
   the same second as the previous load;
2. merges them by id;
3. asks ``getInfo`` for the current count. When the merged set has more records than
   the API, some were deleted: it bisects the id range, comparing the server's count
   for each half with the cached ids, and lists the ids of the small ranges that
   differ, so finding a few deletions among many records costs a handful of requests;
4. types the merged records exactly as a full load would.

The cache holds the whole type; ``where=``, ``fields=``, ``sort=`` and ``limit=`` are
applied to the refreshed data, so the frame equals what a full load returns.
Pure orchestration: the SQLite file is local state, not network I/O.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from .loader import PAGE_SIZE, LoadStats, count_records, load_records
from .objects import ObjectType
from .session import Session

__all__ = ["RecordCache", "default_cache_dir", "refresh_records"]

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

    def _db(self, otype: ObjectType) -> sqlite3.Connection:
        self.directory.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.directory / f"type-{otype.id}.sqlite3")
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

    def clear(self, otype: ObjectType | None = None) -> None:
        """Forget the cache of one type, or of every type of this connection."""
        with self._lock:
            if not self.directory.exists():
                return
            for f in self.directory.glob("type-*.sqlite3" if otype is None else f"type-{otype.id}.sqlite3"):
                f.unlink()


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

    def visit(lo: int, hi: int, server: int) -> None:
        local = local_count(lo, hi)
        if local == server:
            return
        if local <= PAGE_SIZE * 2 or hi - lo <= 2:
            present = server_ids(lo, hi)
            i, j = bisect.bisect_left(local_ids, lo), bisect.bisect_left(local_ids, hi)
            deleted.extend(x for x in local_ids[i:j] if x not in present)
            return
        mid = local_ids[bisect.bisect_left(local_ids, lo) + local // 2]
        left = count_records(
            session, otype, condition=_and(_cond(id_field, ">=", lo), _cond(id_field, "<", mid))
        )
        visit(lo, mid, left)
        visit(mid, hi, server - left)

    if local_ids:
        visit(
            local_ids[0], local_ids[-1] + 1, _server_count_in(session, otype, local_ids[0], local_ids[-1] + 1)
        )
    return deleted


def _server_count_in(session: Session, otype: ObjectType, lo: int, hi: int) -> int:
    return count_records(
        session, otype, condition=_and(_cond(otype.id_field, ">=", lo), _cond(otype.id_field, "<", hi))
    )
