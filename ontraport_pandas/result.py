"""The outcome of a push: one row per operation and record, failures as data."""

from __future__ import annotations

import dataclasses
import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pandas as pd

from .errors import PushError
from .journal import Carried, read_journal
from .plan import Plan

__all__ = ["PushResult"]

STATUSES = ("ok", "failed", "unknown", "conflict", "skipped")


@dataclass
class PushResult:
    """What happened to every operation of a pushed plan.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per operation and record: ``op``, ``record_id``, ``row``, ``kind``,
        ``status``, ``fields`` (sent), ``error``. Statuses: ``ok``; ``failed`` (not
        applied, or a tag whose row's create failed); ``unknown`` (a create that got no
        answer and may have been applied, not found when looked up again: never sent
        twice without ``apply(retry_unknown=True)``); ``conflict`` (modified in Ontraport
        since the load, or ``conflict (concurrent)`` in ``error`` when another writer
        changed the record while this push wrote it, with both values); ``skipped``.
    journal : pathlib.Path or None
        The push journal; ``op.resume(journal)`` and ``op.undo(journal)`` take it.
        None when the plan had nothing to send (no journal is written then).
    plan : Plan
        The plan that was applied.
    restored_ids : dict
        For an undo that re-created deleted records: old id -> new id.
    deleted_tags : tuple of str
        For an undo: tags the undone push had created, deleted because no record uses them.
    """

    frame: pd.DataFrame
    journal: Path | None
    plan: Plan = field(repr=False)
    restored_ids: dict[int, int] = field(default_factory=dict)
    deleted_tags: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when every operation succeeded."""
        return bool((self.frame["status"] == "ok").all())

    def summary(self) -> pd.DataFrame:
        """Counts of operations per kind and status."""
        if self.frame.empty:
            return pd.DataFrame(columns=list(STATUSES))
        table = pd.crosstab(self.frame["kind"], self.frame["status"])
        return table.reindex(columns=[s for s in STATUSES if s in table.columns])

    def failed(self) -> Plan:
        """A plan of the operations that failed or whose outcome is unknown.

        ``result.failed().apply()`` retries them. The plan carries what this push (and
        the ones it retried) created, so that tags and memberships of new rows reach their records; a
        create whose outcome is unknown is looked up again before anything is sent.
        """
        retry = self.frame["status"].isin(["failed", "unknown"])
        bad = set(self.frame.loc[retry, "op"].tolist())
        ops = []
        for op in self.plan.ops:
            if op.i not in bad:
                continue
            if op.kind in ("add_tags", "remove_tags", "subscribe", "unsubscribe"):
                failed_rows = set(self.frame.loc[(self.frame["op"] == op.i) & retry, "row"].astype(str))
                op = dataclasses.replace(op, rows=[r for r in op.rows if str(r) in failed_rows])
            else:
                op = dataclasses.replace(op)
            ops.append(op)
        for n, op in enumerate(ops):
            op.i = n
        carried = self.plan.carried or Carried()
        if self.journal is not None:
            carried = carried.then(read_journal(self.journal))
        return Plan(
            self.plan.client,
            self.plan.object_type,
            ops,
            loaded_at=self.plan.loaded_at,
            original_dlm=self.plan.original_dlm,
            on_conflict=self.plan.on_conflict,
            journal_dir=self.plan.journal_dir,
            carried=carried,
        )

    def retry_failed(self, **apply_options: Any) -> PushResult:
        """Send the failed operations again; returns their new result."""
        return self.failed().apply(**apply_options)

    def raise_for_errors(self) -> PushResult:
        """Return itself when every operation succeeded; raise :class:`PushError` otherwise."""
        if self.ok:
            return self
        bad = self.frame[self.frame["status"] != "ok"]
        first = bad.head(5).to_string(index=False, max_colwidth=60)
        raise PushError(
            f"{len(bad)} of {len(self.frame)} operation row(s) did not succeed "
            f"(journal: {self.journal}):\n{first}",
            self,
        )

    def undo(self, **options: Any) -> PushResult:
        """Restore the before-images of what this push applied (see ``op.undo``)."""
        if self.journal is None:  # nothing was sent: nothing to undo
            return self
        return cast(PushResult, self.plan.client.undo(self.journal, **options))

    def created_ids(self) -> dict[Any, int]:
        """Row label -> new record id, for the rows this push created."""
        f = self.frame[(self.frame["kind"] == "create") & (self.frame["status"] == "ok")]
        return {r: int(i) for r, i in zip(f["row"], f["record_id"], strict=True) if not pd.isna(i)}

    def __repr__(self) -> str:
        counts = self.frame["status"].value_counts().to_dict() if len(self.frame) else {}
        text = ", ".join(f"{counts.get(s, 0)} {s}" for s in STATUSES if counts.get(s))
        where = f"journal {self.journal}" if self.journal is not None else "no journal"
        lines = [f"<PushResult {'OK' if self.ok else 'WITH PROBLEMS'}: {text or 'nothing sent'}; {where}>"]
        bad = self.frame[self.frame["status"] != "ok"]
        if len(bad):
            lines.append(bad.head(20).to_string(index=False, max_colwidth=60))
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        esc = html.escape
        frame = self.frame.copy()
        order = {"failed": 0, "unknown": 1, "conflict": 2, "skipped": 3, "ok": 4}
        frame = frame.iloc[frame["status"].map(order).fillna(4).argsort(kind="stable")]
        badge = "LIVE" if self.plan.client.live else "SANDBOX"
        color = "#c62828" if self.plan.client.live else "#2e7d32"
        parts = [
            f'<span style="background:{color};color:white;padding:2px 6px;border-radius:3px">{badge}</span> ',
            f"<b>Push result</b>: {'all operations succeeded' if self.ok else 'some operations did not succeed'}",
            self.summary().to_html(),
            frame.head(200).to_html(index=False, na_rep=""),
            f"<p>journal: <code>{esc(str(self.journal))}</code></p>" if self.journal is not None else "",
        ]
        return "".join(parts)
