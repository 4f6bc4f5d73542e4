"""Figures the benchmarks share: the fastest schedule the rate limit allows, and run summaries.

The fastest schedule follows the sandbox's rules (``sandbox/store.py``): a rolling window of
``limit`` counted requests per ``window`` seconds, a counted request leaving the window
exactly ``window`` seconds after it was counted, and a request counted ``latency`` seconds
after it was sent. Whatever a client does, its ``i``-th request cannot be counted before
the window has a free slot, so the time at which the last of ``n`` requests is counted is a
lower bound for any client, with any number of threads, starting from the same window.
"""

from __future__ import annotations

import statistics
from collections import deque
from collections.abc import Sequence

__all__ = ["even_window", "fastest_schedule", "summary"]


def fastest_schedule(
    n: int, *, limit: int | None, window: float = 60.0, latency: float = 0.0, prefill: Sequence[float] = ()
) -> float:
    """Seconds from the start until the last of ``n`` requests can be counted.

    ``prefill`` holds the count times (seconds relative to the start, so negative) of the
    requests already in the window when the client starts.
    """
    if n <= 0:
        return 0.0
    if limit is None:
        return latency
    hits: deque[float] = deque(sorted(t for t in prefill if t > -window))
    t = latency
    for _ in range(n):
        while hits and hits[0] + window <= t:
            hits.popleft()
        if len(hits) >= limit:
            # wait until enough of the oldest leave; the window is full, so the oldest one goes next
            t = max(t, hits[len(hits) - limit] + window)
            while hits and hits[0] + window <= t:
                hits.popleft()
        hits.append(t)
    return t


def even_window(limit: int, window: float = 60.0) -> list[float]:
    """A full window in steady state: ``limit`` requests counted evenly over the last ``window`` s."""
    return [-window + (k + 1) * window / limit for k in range(limit)]


def summary(values: Sequence[float], unit: str = "s", digits: int = 2) -> str:
    """``median X s (range a–b s over N runs)``: best alone flatters, so the spread is shown."""
    if not values:
        return "n/a"
    med = statistics.median(values)
    if len(values) == 1:
        return f"{med:.{digits}f} {unit} (1 run)"
    return (
        f"median {med:.{digits}f} {unit} (range {min(values):.{digits}f}–{max(values):.{digits}f} {unit} "
        f"over {len(values)} runs)"
    )
