"""The SQLite store: one table per object type, one TEXT column per field.

Values are kept as strings, as the real API returns them (``NULL`` for never-set
text fields). Record ids are ``INTEGER PRIMARY KEY AUTOINCREMENT``, so a deleted id is
never handed out again (MySQL's auto-increment behaves the same).

Concurrency: one connection per store, opened with ``check_same_thread=False`` and
guarded by one lock; every request does its database work inside one transaction
(``BEGIN IMMEDIATE`` for writes), and nothing sleeps while holding the lock. A file
store uses WAL and a generous ``busy_timeout`` so several processes can share it: the
rate-limit window lives in the same file (table ``rate_hits``), so processes sharing a
``path`` share the limit.

Paging in id order seeks instead of walking ``OFFSET`` rows: the first time a query is
asked for a page past its first (``start > 0``), the ids it matches are listed once, in
order, and kept with the store's data generation; a page at ``start`` then reads only the
rows between the ids at ``start`` and ``start + range - 1``. The generation is a counter
that triggers on every object table bump on each insert, update and delete (by any
process sharing the file), so a write between two pages makes the next page list the ids
again: the answers are exactly what ``LIMIT ? OFFSET ?`` gives. Other orders page with
``LIMIT``/``OFFSET``. At most ``POSITION_QUERIES`` queries' ids are kept (least recently
used dropped).

A file that was already seeded is reused as it is (table ``sandbox_meta`` records the
seed and size it was generated with); seeding happens under the write lock, so two
processes starting together on a new file seed it once.
"""

from __future__ import annotations

import logging
import math
import sqlite3
import threading
from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass

from .model import TYPES, ObjectType

__all__ = ["RateState", "Store"]

log = logging.getLogger(__name__)

Row = dict[str, "str | None"]

_INDEXES = (
    'CREATE INDEX IF NOT EXISTS o_0_email ON o_0 ("email" COLLATE NOCASE)',
    'CREATE INDEX IF NOT EXISTS o_0_email_key ON o_0 (lower(trim("email")))',
    'CREATE INDEX IF NOT EXISTS o_0_dlm ON o_0 (CAST("dlm" AS REAL))',
    'CREATE INDEX IF NOT EXISTS o_0_date ON o_0 (CAST("date" AS REAL))',
    'CREATE INDEX IF NOT EXISTS o_0_unique ON o_0 ("unique_id")',
    'CREATE INDEX IF NOT EXISTS o_149_unique ON o_149 ("unique_id")',
    'CREATE INDEX IF NOT EXISTS o_150_unique ON o_150 ("unique_id")',
    'CREATE INDEX IF NOT EXISTS o_10000_unique ON o_10000 ("unique_id")',
    'CREATE INDEX IF NOT EXISTS o_14_name ON o_14 ("object_type_id", "tag_name" COLLATE NOCASE)',
)


#: How many queries' ordered ids the store keeps for seeking pages.
POSITION_QUERIES = 32

_ID_ORDERS = {"t.id ASC": "ASC", "t.id DESC": "DESC"}


_BUMP = (
    "INSERT INTO sandbox_generation (name, n) VALUES ('data', 1) ON CONFLICT (name) DO UPDATE SET n = n + 1"
)


def _generation_triggers(otype: ObjectType) -> list[str]:
    bump = _BUMP
    return [
        f"CREATE TRIGGER IF NOT EXISTS {otype.table}_gen_{event.lower()} AFTER {event} ON {otype.table} "
        f"BEGIN {bump}; END"
        for event in ("INSERT", "UPDATE", "DELETE")
    ]


@dataclass(frozen=True)
class RateState:
    """The rolling window of one App ID after a request was (or was not) counted."""

    allowed: bool
    limit: int
    remaining: int
    reset: int


def _table_sql(otype: ObjectType) -> str:
    columns = ["id INTEGER PRIMARY KEY AUTOINCREMENT"]
    for f in otype.stored_fields:
        default = "" if f.default is None else " DEFAULT '" + f.default.replace("'", "''") + "'"
        columns.append(f'"{f.name}" TEXT{default}')
    return f"CREATE TABLE IF NOT EXISTS {otype.table} ({', '.join(columns)})"


class Store:
    """SQLite state of one sandbox (in memory, or in a file shared between processes)."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.lock = threading.RLock()
        self.closed = False
        self.conn = sqlite3.connect(
            path or ":memory:", check_same_thread=False, isolation_level=None, timeout=120.0
        )
        if path:
            self.conn.execute("PRAGMA busy_timeout = 120000")
            self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute("PRAGMA synchronous = NORMAL")
        with self.write() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS sandbox_meta (key TEXT PRIMARY KEY, value TEXT)")
            conn.execute("CREATE TABLE IF NOT EXISTS rate_hits (app_id TEXT NOT NULL, t REAL NOT NULL)")
            conn.execute("CREATE INDEX IF NOT EXISTS rate_hits_app ON rate_hits (app_id, t)")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS sandbox_generation (name TEXT PRIMARY KEY, n INTEGER NOT NULL)"
            )
            for otype in TYPES:
                conn.execute(_table_sql(otype))
                for sql in _generation_triggers(otype):
                    conn.execute(sql)
        self._positions: OrderedDict[tuple[object, ...], array[int]] = OrderedDict()

    def close(self) -> None:
        with self.lock:
            if not self.closed:
                self.closed = True
                self.conn.close()

    # ------------------------------------------------------------------ transactions

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[sqlite3.Connection]:
        with self.lock:
            if self.closed:
                raise RuntimeError("the sandbox store is closed")
            self.conn.execute(begin)
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    def read(self) -> AbstractContextManager[sqlite3.Connection]:
        """A consistent read transaction (several SELECTs see one state)."""
        return self._transaction("BEGIN")

    def write(self) -> AbstractContextManager[sqlite3.Connection]:
        """A write transaction, holding the database's write lock from the start."""
        return self._transaction("BEGIN IMMEDIATE")

    # ------------------------------------------------------------------ seeding

    def seed_once(self, describe: Mapping[str, str], generate: Callable[[sqlite3.Connection], None]) -> bool:
        """Run ``generate`` unless the store was seeded already; returns whether it ran."""
        with self.write() as conn:
            row = conn.execute("SELECT value FROM sandbox_meta WHERE key = 'seeded'").fetchone()
            if row is None:
                # No trigger per seeded row: the generation is bumped once for the whole seed.
                for otype in TYPES:
                    for event in ("insert", "update", "delete"):
                        conn.execute(f"DROP TRIGGER IF EXISTS {otype.table}_gen_{event}")
                generate(conn)
                for otype in TYPES:
                    for sql in _generation_triggers(otype):
                        conn.execute(sql)
                conn.execute(_BUMP)
                conn.executemany(
                    "INSERT OR REPLACE INTO sandbox_meta (key, value) VALUES (?, ?)",
                    [("seeded", "1"), *describe.items()],
                )
            else:
                log.debug("reusing seeded sandbox store %s", self.path)
            for sql in _INDEXES:  # after the bulk insert: faster than maintaining them row by row
                conn.execute(sql)
        return row is None

    # ------------------------------------------------------------------ primitives (inside a transaction)

    @staticmethod
    def select(
        conn: sqlite3.Connection,
        otype: ObjectType,
        keys: Sequence[str],
        where: str = "",
        params: Sequence[object] = (),
        order: str = "t.id DESC",
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Row]:
        """Rows as dicts keyed by ``keys`` (field names or the id key), values as strings."""
        exprs = [otype.column(k) or "NULL" for k in keys]
        sql = f"SELECT {', '.join(exprs)} FROM {otype.table} AS t"
        if where:
            sql += f" WHERE {where}"
        sql += f" ORDER BY {order}"
        args = list(params)
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            args += [limit, offset]
        out: list[Row] = []
        id_positions = [i for i, k in enumerate(keys) if k in ("id", otype.id_key)]
        for row in conn.execute(sql, args):
            record = dict(zip(keys, row, strict=True))
            for i in id_positions:
                record[keys[i]] = str(row[i])
            out.append(record)
        return out

    def select_page(
        self,
        conn: sqlite3.Connection,
        otype: ObjectType,
        keys: Sequence[str],
        where: str,
        params: Sequence[object],
        order: str,
        limit: int,
        offset: int,
    ) -> list[Row]:
        """One page, as ``select(..., limit, offset)`` answers it, sought by id in id order."""
        direction = _ID_ORDERS.get(order)
        if direction is None or offset <= 0 or not all(isinstance(p, (str, int, float)) for p in params):
            return Store.select(conn, otype, keys, where, params, order, limit, offset)
        ids = self._ordered_ids(conn, otype, where, params, direction)
        if offset >= len(ids):
            return []
        first, last = ids[offset], ids[min(offset + limit, len(ids)) - 1]
        low, high = (first, last) if direction == "ASC" else (last, first)
        bounded = "t.id >= ? AND t.id <= ?" + (f" AND ({where})" if where else "")
        return Store.select(conn, otype, keys, bounded, [low, high, *params], order, limit, 0)

    def _ordered_ids(
        self,
        conn: sqlite3.Connection,
        otype: ObjectType,
        where: str,
        params: Sequence[object],
        direction: str,
    ) -> array[int]:
        row = conn.execute("SELECT n FROM sandbox_generation WHERE name = 'data'").fetchone()
        key = (otype.table, where, tuple(params), direction, 0 if row is None else int(row[0]))
        with self.lock:
            ids = self._positions.get(key)
            if ids is not None:
                self._positions.move_to_end(key)
                return ids
        sql = f"SELECT t.id FROM {otype.table} AS t" + (f" WHERE {where}" if where else "")
        ids = array("q", (r[0] for r in conn.execute(f"{sql} ORDER BY t.id {direction}", list(params))))
        with self.lock:
            self._positions[key] = ids
            while len(self._positions) > POSITION_QUERIES:
                self._positions.popitem(last=False)
        return ids

    @staticmethod
    def count(
        conn: sqlite3.Connection, otype: ObjectType, where: str = "", params: Sequence[object] = ()
    ) -> int:
        sql = f"SELECT COUNT(*) FROM {otype.table} AS t" + (f" WHERE {where}" if where else "")
        return int(conn.execute(sql, list(params)).fetchone()[0])

    @staticmethod
    def ids(
        conn: sqlite3.Connection,
        otype: ObjectType,
        where: str = "",
        params: Sequence[object] = (),
        order: str = "t.id ASC",
    ) -> list[int]:
        sql = (
            f"SELECT t.id FROM {otype.table} AS t"
            + (f" WHERE {where}" if where else "")
            + f" ORDER BY {order}"
        )
        return [int(r[0]) for r in conn.execute(sql, list(params))]

    @staticmethod
    def get(conn: sqlite3.Connection, otype: ObjectType, record_id: int) -> Row | None:
        rows = Store.select(conn, otype, otype.record_keys(), "t.id = ?", [record_id])
        return rows[0] if rows else None

    @staticmethod
    def insert(conn: sqlite3.Connection, otype: ObjectType, values: Mapping[str, str | None]) -> int:
        if not values:
            cur = conn.execute(f"INSERT INTO {otype.table} DEFAULT VALUES")
        else:
            names = ", ".join(f'"{c}"' for c in values)
            marks = ", ".join("?" * len(values))
            cur = conn.execute(f"INSERT INTO {otype.table} ({names}) VALUES ({marks})", list(values.values()))
        assert cur.lastrowid is not None
        return int(cur.lastrowid)

    @staticmethod
    def update(
        conn: sqlite3.Connection, otype: ObjectType, record_id: int, values: Mapping[str, str | None]
    ) -> None:
        if values:
            sets = ", ".join(f'"{c}" = ?' for c in values)
            conn.execute(f"UPDATE {otype.table} SET {sets} WHERE id = ?", [*values.values(), record_id])

    @staticmethod
    def delete_ids(conn: sqlite3.Connection, otype: ObjectType, ids: Sequence[int]) -> int:
        deleted = 0
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            marks = ", ".join("?" * len(chunk))
            deleted += conn.execute(f"DELETE FROM {otype.table} WHERE id IN ({marks})", chunk).rowcount
        return deleted

    # ------------------------------------------------------------------ rate limit

    @staticmethod
    def rate(
        conn: sqlite3.Connection, app_id: str, now: float, limit: int, window: float, consume: bool
    ) -> RateState:
        """Count (if ``consume``) one request of ``app_id`` in its rolling window.

        ``reset`` is the whole seconds until the oldest counted request leaves the
        window (rounded up), 0 when the window is empty.
        """
        conn.execute("DELETE FROM rate_hits WHERE app_id = ? AND t <= ?", (app_id, now - window))
        used, oldest = conn.execute(
            "SELECT COUNT(*), MIN(t) FROM rate_hits WHERE app_id = ?", (app_id,)
        ).fetchone()
        allowed = used < limit
        if consume and allowed:
            conn.execute("INSERT INTO rate_hits (app_id, t) VALUES (?, ?)", (app_id, now))
            used += 1
            oldest = now if oldest is None else oldest
        reset = 0 if oldest is None else max(1, math.ceil(oldest + window - now))
        return RateState(allowed=allowed, limit=limit, remaining=max(0, limit - used), reset=reset)
