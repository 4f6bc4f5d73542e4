"""The push journal: one JSON-lines file per push, written as the push happens.

Line kinds (every line after the header carries ``n``, its position, so a lost line
is noticed):

* ``header``: the push id, object type, how many operations follow, the connection
  and account it was written for (``connection``, ``identity``, ``account_id``; never
  a secret), when it started, and for a retry the ids created by the push it retries
  (``carried``);
* ``op``: one planned operation and what will be sent (all written before the first request);
  a ``subscribe`` / ``unsubscribe`` operation names its ``sub_type`` (``sequence`` or
  ``campaign``) and ``item_id``, and its rows like a tag operation;
* ``before``: an operation's before-image, read from the API just before sending;
  ``tags_before``: the tag field of records whose tags the push changes, in stored order;
* ``lock``: which process opened the journal to push, resume or undo it;
* ``event``: ``sending`` just before an operation's request, then its outcome
  (``ok`` with the record ids, ``failed`` with the error, ``unknown`` when a create
  may have been applied but could not be found, ``conflict``, ``skipped``), with the
  time ``t`` it was written.

Each line is flushed and fsynced, so after a crash the journal says which
operations finished, which never started, and which were in flight (``sending``
with no outcome): :func:`ontraport_pandas.writer.resume` checks those against the
API before sending anything again, and :func:`ontraport_pandas.writer.undo`
restores the before-images of what was applied.

Damage: a crash can tear only the last line (no newline at its end): that line is
skipped. Anything else (a torn or garbled line in the middle, a missing line, bytes
that are not UTF-8, an operation or event that is not shaped as written) raises
:class:`~ontraport_pandas.errors.JournalDamaged` naming the line, what the readable
part says was applied, and what to do.

Locking: :meth:`Journal.lock` takes an exclusive, non-blocking lock on the file
(``flock``; ``msvcrt.locking`` on Windows) for the whole push, resume or undo; a
second caller gets :class:`~ontraport_pandas.errors.JournalLocked` naming the process
that holds it. The operating system drops the lock when that process dies.

Journals hold contact data: files are created ``0600`` and folders the journal
creates ``0700``, whatever the umask.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import JournalDamaged, JournalLocked
from .plan import GROUP_KINDS, MEMBER_KINDS
from .private import private_dir, private_open

__all__ = ["Carried", "Journal", "JournalState", "default_journal_dir", "read_journal"]

VERSION = 2
#: Outcomes after which an operation is not run again by ``resume`` (``unknown`` is looked up again).
FINAL = frozenset({"ok", "failed", "conflict", "skipped"})
#: Every outcome an event may record (besides ``sending``).
STATUSES = ("ok", "failed", "unknown", "conflict", "skipped")


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

    def __init__(self, path: Path, *, next_line: int | None = None) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._fh = private_open(self.path, "a", encoding="utf-8")
        self._n = next_line if next_line is not None else _count_lines(self.path)

    @classmethod
    def create(cls, directory: str | os.PathLike[str] | None, header: dict[str, Any]) -> Journal:
        """Start a new journal in ``directory``, locked by this process, with ``header`` written."""
        folder = Path(directory) if directory is not None else default_journal_dir()
        private_dir(folder)
        stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        push_id = header.get("push_id") or uuid.uuid4().hex[:10]
        journal = cls(folder / f"push-{stamp}-{push_id}.jsonl", next_line=0)
        journal.lock("push", announce=False)
        journal.write({"type": "header", "version": VERSION, **header, "push_id": push_id})
        journal.write(_lock_line("push"))
        return journal

    def lock(self, purpose: str, *, announce: bool = True) -> None:
        """Take the exclusive lock for ``purpose`` (push, resume, undo) or raise :class:`JournalLocked`."""
        if not _try_lock(self._fh.fileno()):
            holder = _holder(self.path)
            self.close()
            raise JournalLocked(
                f"The journal {self.path} is in use by {holder}: wait until it finishes (or, if that "
                f"process is gone, try again: the lock goes with it). Nothing was sent.",
                holder,
            )
        torn = _cut_torn_tail(self.path, self._fh.fileno())
        self._n = _count_lines(self.path)
        if announce:
            # a cut tail is remembered: creates without events may have been sent
            self.write({**_lock_line(purpose), **({"torn": True} if torn else {})})

    def write(self, entry: dict[str, Any]) -> None:
        with self._lock:
            if entry.get("type") != "header":
                entry = {**entry, "n": self._n}
            line = json.dumps(entry, default=_default, separators=(",", ":"))  # ASCII: any text fits
            self._fh.write(line + "\n")
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._n += 1

    def event(self, index: int, status: str, **data: Any) -> None:
        self.write({"type": "event", "i": index, "status": status, "t": round(time.time(), 3), **data})

    def close(self) -> None:
        with self._lock:
            if not self._fh.closed:
                self._fh.close()  # closing the descriptor releases the lock


def _lock_line(purpose: str) -> dict[str, Any]:
    return {
        "type": "lock",
        "purpose": purpose,
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }


def _try_lock(fd: int) -> bool:
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _holder(path: Path) -> str:
    """The last process that announced itself in the journal (the lock's holder, if it wrote yet)."""
    last: dict[str, Any] | None = None
    try:
        for raw in path.read_bytes().splitlines():
            if b'"type":"lock"' not in raw:
                continue
            try:
                entry = json.loads(raw)
            except ValueError:
                continue
            if isinstance(entry, dict):
                last = entry
    except OSError:
        pass
    if last is None:
        return "another process"
    return f"process {last.get('pid')} on {last.get('host')} ({last.get('purpose')} since {last.get('at')})"


def _cut_torn_tail(path: Path, fd: int) -> bool:
    """Drop a last line torn by a crash (no newline at its end), so appended lines stay whole."""
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        os.ftruncate(fd, data.rfind(b"\n") + 1)
        return True
    return False


def _count_lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except OSError:
        return 0


@dataclass(frozen=True)
class Carried:
    """What a retry of a push needs from the pushes before it.

    Attributes
    ----------
    created : dict
        Row label (as text) -> record id, for every create those pushes finished.
    unknown : dict
        Row label (as text) -> ``{"since": epoch, "at": epoch}`` for creates that may
        have been applied (sent at ``since``, still unknown at ``at``).
    own_writes : dict
        Record id -> time (epoch seconds) of the last write those pushes made to it, so
        that a ``dlm`` moved by them is not taken for another writer's change.
    journals : list of str
        The journals they were recorded in, oldest first.
    """

    created: dict[str, int] = field(default_factory=dict)
    unknown: dict[str, dict[str, float]] = field(default_factory=dict)
    own_writes: dict[int, float] = field(default_factory=dict)
    journals: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "unknown": self.unknown,
            "own_writes": {str(k): v for k, v in self.own_writes.items()},
            "journals": list(self.journals),
        }

    @classmethod
    def from_json(cls, data: Any) -> Carried:
        if not isinstance(data, dict):
            return cls()
        return cls(
            {str(k): int(v) for k, v in (data.get("created") or {}).items()},
            {str(k): dict(v) for k, v in (data.get("unknown") or {}).items()},
            {int(k): float(v) for k, v in (data.get("own_writes") or {}).items()},
            tuple(data.get("journals") or ()),
        )

    def then(self, state: JournalState) -> Carried:
        """This history followed by the push recorded in ``state``."""
        created = {**self.created, **state.created_ids()}
        unknown = {k: v for k, v in self.unknown.items() if k not in created}
        own = dict(self.own_writes)
        for o in state.ops:
            ev = state.events.get(o["i"], {})
            status = ev.get("status")
            t = float(ev.get("t") or 0) or time.time()
            if o["kind"] == "create" and status == "unknown":
                if str(o["row"]) not in created:
                    unknown[str(o["row"])] = {"since": float(ev.get("since") or t), "at": t}
            tags = o["kind"] in GROUP_KINDS
            if status != "ok" and not (tags and status in ("sending", "failed")):
                continue
            if tags:
                # a tag or membership call may have been applied even when it failed or its
                # outcome was not recorded
                for rid in ev.get("ids") or []:
                    own[int(rid)] = max(own.get(int(rid), 0.0), t)
            elif ev.get("record_id") is not None:
                rid = int(ev["record_id"])
                own[rid] = max(own.get(rid, 0.0), t)
        return Carried(created, unknown, own, (*self.journals, str(state.path)))


@dataclass
class JournalState:
    """What a journal says: the header, the planned operations and each one's last event."""

    path: Path
    header: dict[str, Any]
    ops: list[dict[str, Any]]
    events: dict[int, dict[str, Any]] = field(default_factory=dict)
    tags_before: dict[int, str] = field(default_factory=dict)
    lines: int = 0
    #: The last line was torn (a crash mid-write, or a cut file): resume looks before re-sending creates.
    torn: bool = False

    def status(self, index: int) -> str:
        return str(self.events.get(index, {}).get("status", "planned"))

    def unfinished(self) -> Iterator[dict[str, Any]]:
        for op in self.ops:
            if self.status(op["i"]) not in FINAL:
                yield op

    @property
    def carried(self) -> Carried:
        """What the pushes before this one (when it is a retry) left behind."""
        return Carried.from_json(self.header.get("carried"))

    def created_ids(self) -> dict[str, int]:
        """Row label (as text) -> record id, for creates that finished."""
        out: dict[str, int] = {}
        for op in self.ops:
            ev = self.events.get(op["i"], {})
            if op["kind"] == "create" and ev.get("status") == "ok" and ev.get("record_id") is not None:
                out[str(op["row"])] = int(ev["record_id"])
        return out

    def applied_summary(self) -> str:
        """What the journal says was applied, in one sentence."""
        counts: dict[str, int] = {}
        for op in self.ops:
            if self.status(op["i"]) == "ok":
                counts[op["kind"]] = counts.get(op["kind"], 0) + 1
        created = sorted(self.created_ids().values())
        if not counts:
            return "no operation is recorded as applied"
        text = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
        if created:
            shown = ", ".join(map(str, created[:20])) + (" …" if len(created) > 20 else "")
            text += f" (created record ids: {shown})"
        return f"recorded as applied: {text}"


def read_journal(path: str | os.PathLike[str]) -> JournalState:
    """Parse a journal file; a torn last line (from a crash mid-write) is skipped.

    Raises
    ------
    JournalDamaged
        For any other damage, naming the line and what is known to be applied.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise JournalDamaged(f"Cannot read the journal {path}: {exc}") from exc
    header: dict[str, Any] = {}
    ops: list[dict[str, Any]] = []
    events: dict[int, dict[str, Any]] = {}
    befores: dict[int, dict[str, Any]] = {}
    tags_before: dict[int, str] = {}
    lines = raw.split(b"\n")
    torn_tail = lines[-1] != b""  # the file does not end with a newline: its last line is torn
    if not torn_tail:
        lines = lines[:-1]
    damage: list[str] = []
    expected_n = 0
    count = 0
    torn = False
    for number, line in enumerate(lines, start=1):
        last = number == len(lines)
        problem = None
        entry: Any = None
        try:
            entry = json.loads(line.decode("utf-8"))
        except UnicodeDecodeError:
            problem = "bytes that are not UTF-8"
        except ValueError:
            problem = "not valid JSON" if line.strip() else "an empty line"
        if problem is None and not isinstance(entry, dict):
            problem = f"a JSON {type(entry).__name__}, not a journal entry"
        if problem is not None:
            if last and torn_tail:
                torn = True
                break  # torn by a crash mid-write: the only damage a journal may have
            damage.append(f"line {number} is {problem}")
            break
        count += 1
        kind = entry.get("type")
        if kind == "header":
            if number != 1:
                damage.append(f"line {number} is a second header")
                break
            header = entry
            continue
        if not header:
            damage.append(f"line {number} comes before any header")
            break
        if not _is_int(header.get("object_type_id")):
            damage.append("its header does not name the object type")
            break
        if header.get("version", 1) >= 2:
            if entry.get("n") != expected_n + 1:
                damage.append(
                    f"line {number} is entry {entry.get('n')!r} where entry {expected_n + 1} was expected "
                    "(lines are missing or out of order)"
                )
                break
            expected_n = int(entry["n"])
        problem = _check_entry(entry, len(ops), bulk=header.get("kind") == "bulk")
        if problem is not None:
            damage.append(f"line {number} ({kind or 'untyped'} entry) {problem}")
            break
        if kind == "op":
            ops.append(entry)
        elif kind == "event":
            events[int(entry["i"])] = entry
        elif kind == "before":  # the before-image read just before sending
            befores[int(entry["i"])] = entry["before"]
        elif kind == "lock" and entry.get("torn"):
            torn = True
        elif kind == "tags_before":
            tags_before.update({int(k): str(v or "") for k, v in entry["values"].items()})
    if not header and not damage:
        damage.append("there is no header line: this is not an ontraport-pandas push journal")
    if header and not damage:
        planned = header.get("ops")
        if isinstance(planned, int) and len(ops) < planned:
            damage.append(
                f"it ends after line {len(lines)}, listing {len(ops)} of the {planned} planned operations"
            )
        for i in events:
            if not 0 <= i < len(ops):
                damage.append(f"an event names operation {i}, which the journal does not list")
                break
    for op in ops:
        if op["i"] in befores:
            op["before"] = befores[op["i"]]
    state = JournalState(path, header, ops, events, tags_before, count, torn)
    if damage:
        raise JournalDamaged(
            f"The journal {path} is damaged: {damage[0]}. Its readable part says: "
            f"{state.applied_summary()}. Nothing was sent. Compare the records with what you meant "
            "to write (reload them), then plan the remaining changes again from a fresh load; "
            "resume and undo cannot trust this journal."
        )
    return state


def _check_entry(entry: dict[str, Any], n_ops: int, *, bulk: bool = False) -> str | None:
    kind = entry.get("type")
    if bulk and kind == "op":  # a bulk operation's call (see ontraport_pandas.bulk.BulkCall)
        if entry.get("i") != n_ops:
            return f"is operation {entry.get('i')!r} where operation {n_ops} was expected"
        if not isinstance(entry.get("kind"), str) or not isinstance(entry.get("path"), str):
            return "has no action or path"
        ids = entry.get("ids")
        if not isinstance(ids, list) or not all(_is_int(x) for x in ids):
            return "has ids of the wrong shape"
        if not isinstance(entry.get("body", {}), dict):
            return "has a body of the wrong shape"
        return None
    if bulk and kind == "befores":
        records = entry.get("records")
        if not isinstance(records, dict) or not all(_is_int(k) for k in records):
            return "is not shaped as before-images"
        return None
    if kind == "op":
        if entry.get("i") != n_ops:
            return f"is operation {entry.get('i')!r} where operation {n_ops} was expected"
        if entry.get("kind") not in ("create", "update", "delete", *GROUP_KINDS):
            return f"has an unknown kind {entry.get('kind')!r}"
        if not isinstance(entry.get("fields", {}), dict) or not isinstance(entry.get("rows", []), list):
            return "has fields or rows of the wrong shape"
        if "row" not in entry:
            return "has no row label"
        if entry["kind"] in ("update", "delete") and not _is_int(entry.get("record_id")):
            return "has no record id"
        if entry["kind"] in ("add_tags", "remove_tags") and not isinstance(entry.get("tag"), str):
            return "has no tag name"
        if entry["kind"] in MEMBER_KINDS:
            if entry.get("sub_type") not in ("sequence", "campaign"):
                return f"has a sub_type {entry.get('sub_type')!r} that is neither sequence nor campaign"
            if not _is_int(entry.get("item_id")):
                return "has no sequence or automation id"
        if entry.get("match_id") is not None and not _is_int(entry.get("match_id")):
            return "has a match id that is not a number"
        return None
    if kind == "event":
        if not _is_int(entry.get("i")):
            return "does not say which operation it is about"
        if entry.get("status") not in (*STATUSES, "sending"):
            return f"has an unknown status {entry.get('status')!r}"
        if entry.get("record_id") is not None and not _is_int(entry.get("record_id")):
            return f"has a record id that is not a number: {entry.get('record_id')!r}"
        ids = entry.get("ids", [])
        if not isinstance(ids, list) or not all(_is_int(x) for x in ids):
            return "has ids of the wrong shape"
        return None
    if kind == "before":
        if not _is_int(entry.get("i")) or not isinstance(entry.get("before"), dict):
            return "is not shaped as a before-image"
        return None
    if kind == "tags_before":
        values = entry.get("values")
        if not isinstance(values, dict) or not all(_is_int(k) for k in values):
            return "is not shaped as tag before-images"
        return None
    if kind in ("lock", "end"):
        return None
    return f"has an unknown type {kind!r}"


def _is_int(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, str) and value.isdigit()
