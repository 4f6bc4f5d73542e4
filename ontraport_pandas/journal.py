"""The push journal: one JSON-lines file per push, written as the push happens.

Line kinds:

* ``header``: the push id, object type, connection (never a secret), when it started;
* ``op``: one planned operation and what will be sent (all written before the first request);
* ``before``: an operation's before-image, read from the API just before sending;
* ``event``: ``sending`` just before an operation's request, then its outcome
  (``ok`` with the record ids, ``failed`` with the error, ``conflict``, ``skipped``).

Each line is flushed and fsynced, so after a crash the journal says which
operations finished, which never started, and which were in flight (``sending``
with no outcome): :func:`ontraport_pandas.writer.resume` checks those against the
API before sending anything again, and :func:`ontraport_pandas.writer.undo`
restores the before-images of what was applied.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Journal", "JournalState", "default_journal_dir", "read_journal"]

FINAL = frozenset({"ok", "failed", "conflict", "skipped"})


def default_journal_dir() -> Path:
    """``ONTRAPORT_PANDAS_JOURNAL_DIR``, else ``./ontraport-journal``."""
    return Path(os.environ.get("ONTRAPORT_PANDAS_JOURNAL_DIR") or "ontraport-journal")


def _default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


class Journal:
    """Append-only writer of one push's journal."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._fh = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()

    @classmethod
    def create(cls, directory: str | os.PathLike[str] | None, header: dict[str, Any]) -> Journal:
        folder = Path(directory) if directory is not None else default_journal_dir()
        folder.mkdir(parents=True, exist_ok=True)
        stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        push_id = header.get("push_id") or uuid.uuid4().hex[:10]
        journal = cls(folder / f"push-{stamp}-{push_id}.jsonl")
        journal.write({"type": "header", "version": 1, **header, "push_id": push_id})
        return journal

    def write(self, entry: dict[str, Any]) -> None:
        line = json.dumps(entry, default=_default, separators=(",", ":"))
        with self._lock:
            self._fh.write(line + "\n")
            self._fh.flush()
            os.fsync(self._fh.fileno())

    def event(self, index: int, status: str, **data: Any) -> None:
        self.write({"type": "event", "i": index, "status": status, **data})

    def close(self) -> None:
        with self._lock:
            if not self._fh.closed:
                self._fh.close()


@dataclass
class JournalState:
    """What a journal says: the header, the planned operations and each one's last event."""

    path: Path
    header: dict[str, Any]
    ops: list[dict[str, Any]]
    events: dict[int, dict[str, Any]] = field(default_factory=dict)

    def status(self, index: int) -> str:
        return str(self.events.get(index, {}).get("status", "planned"))

    def unfinished(self) -> Iterator[dict[str, Any]]:
        for op in self.ops:
            if self.status(op["i"]) not in FINAL:
                yield op

    def created_ids(self) -> dict[str, int]:
        """Row label (as text) -> record id, for creates that finished."""
        out: dict[str, int] = {}
        for op in self.ops:
            ev = self.events.get(op["i"], {})
            if op["kind"] == "create" and ev.get("status") == "ok" and ev.get("record_id") is not None:
                out[str(op["row"])] = int(ev["record_id"])
        return out


def read_journal(path: str | os.PathLike[str]) -> JournalState:
    """Parse a journal file (a torn last line, from a crash mid-write, is ignored)."""
    path = Path(path)
    header: dict[str, Any] = {}
    ops: list[dict[str, Any]] = []
    events: dict[int, dict[str, Any]] = {}
    befores: dict[int, dict[str, Any]] = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            kind = entry.get("type")
            if kind == "header":
                header = entry
            elif kind == "op":
                ops.append(entry)
            elif kind == "event":
                events[int(entry["i"])] = entry
            elif kind == "before":  # the before-image read just before sending
                befores[int(entry["i"])] = entry["before"]
    if not header:
        raise ValueError(f"{path} is not an ontraport-pandas push journal (no header line)")
    for op in ops:
        if op["i"] in befores:
            op["before"] = befores[op["i"]]
    return JournalState(path, header, ops, events)
