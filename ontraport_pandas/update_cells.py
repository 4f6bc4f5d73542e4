"""The changed cells of a plan's updates, kept column by column.

A big edit changes hundreds of thousands of cells. :func:`~ontraport_pandas.diff.diff_frames`
finds them a column at a time, so it hands them over the same way: per column, which
updated rows changed, and their wire values (sent), before-images (for undo), old and new
display values and clear flags. :class:`UpdateCells` keeps those arrays; the counts a plan
shows (updates, cells, clears, records, requests) and the rows of ``plan.to_frame()`` come
from them directly, and the per-row dictionaries of an update
(:class:`~ontraport_pandas.plan.Operation`) are built only when the operations themselves
are needed (sending, the journal, iteration), by :meth:`UpdateCells.rows`.

The updated rows are ordered as the diff meets them: by the first column (in frame order)
in which each row changed, then by position in the frame. Within a row, the cells keep the
frame's column order. This module is pure data: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["ColumnCells", "UpdateCells"]


@dataclass(frozen=True)
class ColumnCells:
    """The changed cells of one column: ``rows[k]`` is the position (in
    :attr:`UpdateCells.ids`) of the row whose cell ``k`` changed."""

    column: str
    rows: np.ndarray
    wire: Sequence[Any]
    before: Sequence[Any]
    old: Sequence[Any]
    new: Sequence[Any]
    clear: np.ndarray

    def __len__(self) -> int:
        return len(self.rows)


@dataclass(frozen=True)
class UpdateCells:
    """Changed cells of existing records, column by column (see the module docstring).

    Attributes
    ----------
    ids : numpy.ndarray
        The record id of each updated row (int64, unique), in plan order.
    columns : tuple of ColumnCells
        One entry per column with at least one changed cell, in frame order.
    """

    ids: np.ndarray
    columns: tuple[ColumnCells, ...]

    @classmethod
    def empty(cls) -> UpdateCells:
        return cls(np.empty(0, dtype="int64"), ())

    @classmethod
    def build(
        cls, ids: np.ndarray, parts: Sequence[tuple[str, np.ndarray, Mapping[str, Sequence[Any]], np.ndarray]]
    ) -> UpdateCells:
        """Assemble from ``(column, positions, values, clear)`` per column, in frame order.

        ``positions`` are increasing positions in ``ids`` (the record ids of the rows that
        could change); ``values`` holds the ``wire``, ``before``, ``old`` and ``new``
        sequences, aligned with ``positions``.
        """
        parts = [p for p in parts if len(p[1])]
        if not parts:
            return cls.empty()
        ids = np.asarray(ids, dtype="int64")
        # Plan order: by the first column a row changed in, then by position; no sort needed.
        rank = np.full(len(ids), -1, dtype=np.intp)
        taken = 0
        for _, positions, _, _ in parts:
            fresh = positions[rank[positions] < 0]
            rank[fresh] = np.arange(taken, taken + len(fresh), dtype=np.intp)
            taken += len(fresh)
        order = np.empty(taken, dtype=np.intp)
        placed = np.flatnonzero(rank >= 0)
        order[rank[placed]] = placed
        columns = tuple(
            ColumnCells(
                column,
                rank[positions],
                values["wire"],
                values["before"],
                values["old"],
                values["new"],
                np.asarray(clear, dtype=bool),
            )
            for column, positions, values, clear in parts
        )
        return cls(ids[order], columns)

    # -- figures -------------------------------------------------------------------------
    def __len__(self) -> int:
        """The number of updated rows (one update each)."""
        return len(self.ids)

    @property
    def cells(self) -> int:
        return sum(len(c) for c in self.columns)

    @property
    def clears(self) -> int:
        return sum(int(c.clear.sum()) for c in self.columns)

    # -- per row ----------------------------------------------------------------------------
    def rows(
        self,
    ) -> Iterator[
        tuple[int, dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any], tuple[str, ...]]
    ]:
        """Per updated row, in plan order: ``(record_id, wire, before, old, new, clears)``."""
        n = len(self.ids)
        wire: list[dict[str, Any]] = []
        before: list[dict[str, Any]] = []
        old: list[dict[str, Any]] = []
        new: list[dict[str, Any]] = []
        clears: list[tuple[str, ...]] = [()] * n
        for c in self.columns:
            col = c.column
            # Rows are ordered by the first column they changed in, so the rows this column
            # changes first are the next ones, in this column's order: their dictionaries are
            # made here; the other rows get this column's cell added.
            fresh = c.rows >= len(wire)
            if bool(fresh.all()):
                first, more = range(len(c)), []
            else:
                first, more = np.flatnonzero(fresh).tolist(), np.flatnonzero(~fresh).tolist()
            for made, values in ((wire, c.wire), (before, c.before), (old, c.old), (new, c.new)):
                if isinstance(first, range):
                    made.extend([{col: v} for v in values])
                else:
                    made.extend([{col: values[t]} for t in first])
            for t in more:
                k = int(c.rows[t])
                wire[k][col] = c.wire[t]
                before[k][col] = c.before[t]
                old[k][col] = c.old[t]
                new[k][col] = c.new[t]
            for k in c.rows[c.clear].tolist():
                clears[k] = (*clears[k], col)
        yield from zip(self.ids.tolist(), wire, before, old, new, clears, strict=True)

    def cell_order(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every cell in plan order (by row, then column): ``(row, column_number, index)``,
        where cell ``t`` is ``self.columns[column_number[t]]``'s cell ``index[t]``."""
        if not self.columns:
            empty = np.empty(0, dtype=np.intp)
            return empty, empty, empty
        rows = np.concatenate([c.rows for c in self.columns])
        col_no = np.concatenate([np.full(len(c), j, dtype=np.intp) for j, c in enumerate(self.columns)])
        index = np.concatenate([np.arange(len(c), dtype=np.intp) for c in self.columns])
        order = np.lexsort((col_no, rows))
        return rows[order], col_no[order], index[order]

    def cells_in_order(self, limit: int | None = None) -> Iterator[tuple[int, str, Any, Any, bool]]:
        """The first ``limit`` cells (all by default) in plan order: ``(row, column, old, new, clear)``,
        ``row`` being the position in :attr:`ids`."""
        rows, col_no, index = self.cell_order()
        if limit is not None:
            rows, col_no, index = rows[:limit], col_no[:limit], index[:limit]
        cols = self.columns
        for k, j, t in zip(rows.tolist(), col_no.tolist(), index.tolist(), strict=True):
            c = cols[j]
            yield k, c.column, c.old[t], c.new[t], bool(c.clear[t])
