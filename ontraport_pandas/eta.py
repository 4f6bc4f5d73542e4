"""How many requests a load or a push takes, and about how long at the account's rate limit.

Pure arithmetic, no I/O: the callers (:class:`~ontraport_pandas.plan.Plan`, the loader,
``op.estimate``) count the requests; :func:`estimate` turns a count into an
:class:`Estimate` using what the shared :class:`~ontraport_pandas.ratelimit.RateLimiter`
has learnt from the server's ``X-Rate-Limit-*`` headers.

The model
---------
Ontraport allows ``limit`` requests per rolling ``window`` (180 a minute; the window is
not reported, so it is taken as 60 seconds unless the limiter knows better, as
``limiter.window``). The first ``remaining`` requests go at once; every further one waits
for a slot, so ``n`` requests take about ``max(0, n - remaining) * window / limit`` seconds,
or ``n * latency / workers`` seconds when that is longer (``latency`` defaults to 0.3 s,
a typical Ontraport answer; the requests of a load or push run ``workers`` at a time).
Before the first answer the limiter knows nothing; the estimate then assumes Ontraport's
documented 180 a minute with the whole window free. A backend that reports no limit
(the sandbox without one) is bound by latency alone.

Durations are shown rounded, the way a person says them: ``"under a minute"``,
``"about 7 min"``, ``"about 2 h 10 min"``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

__all__ = [
    "DEFAULT_LATENCY",
    "DEFAULT_LIMIT",
    "DEFAULT_WINDOW",
    "MEMBER_BATCH",
    "READ_BATCH",
    "TAG_BATCH",
    "Estimate",
    "estimate",
    "format_duration",
]

#: Ontraport's documented limit: 180 requests a minute per account.
DEFAULT_LIMIT = 180
DEFAULT_WINDOW = 60.0
#: Seconds per request when the rate limit is not what binds.
DEFAULT_LATENCY = 0.3
#: Records read (or deleted) per request by id.
READ_BATCH = 50
#: Records per tag-by-name call (no cap is documented; Ontraport processes tag calls in the background).
TAG_BATCH = 2500
#: Records per subscribe / unsubscribe call.
MEMBER_BATCH = 500
_NO_LIMIT = 1 << 29  # what the limiter records for a backend that reports none


@dataclass(frozen=True)
class Estimate:
    """Requests and expected duration of a load or a push.

    Attributes
    ----------
    requests : int
        API requests it takes (an estimate for a push: lost answers add read-backs).
    seconds : float
        Expected wall time at the rate limit.
    limit : int or None
        Requests per window the estimate assumed (None: no limit reported).
    window : float
        The rate-limit window in seconds.
    rows : int or None
        For a load: the rows it will fetch (at most; a ``where`` finished in pandas keeps fewer).
    """

    requests: int
    seconds: float
    limit: int | None
    window: float = DEFAULT_WINDOW
    rows: int | None = None

    @property
    def duration(self) -> str:
        """:attr:`seconds` as a person says it (``"about 7 min"``)."""
        return format_duration(self.seconds)

    def __str__(self) -> str:
        text = f"≈ {self.requests:,} request{'s' if self.requests != 1 else ''}, {self.duration}"
        if self.rows is not None:
            text += f" ({self.rows:,} row{'s' if self.rows != 1 else ''})"
        return text

    def __repr__(self) -> str:
        rate = f"{self.limit} per {self.window:g}s" if self.limit else "no rate limit reported"
        return f"<Estimate {self} at {rate}>"


def format_duration(seconds: float) -> str:
    """``"under a minute"``, ``"about 7 min"``, ``"about 2 h 10 min"``."""
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"a duration is a finite number of seconds >= 0, not {seconds!r}")
    if seconds < 60:
        return "under a minute"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"about {minutes} min"
    hours, rest = divmod(minutes, 60)
    rest = int(round(rest / 10.0) * 10) if hours >= 3 else rest
    if rest == 60:
        hours, rest = hours + 1, 0
    return f"about {hours} h" + (f" {rest} min" if rest else "")


def estimate(
    requests: int,
    limiter: Any = None,
    *,
    workers: int = 1,
    latency: float = DEFAULT_LATENCY,
    rows: int | None = None,
) -> Estimate:
    """The :class:`Estimate` of ``requests`` API requests through ``limiter``.

    Parameters
    ----------
    requests : int
        How many requests.
    limiter : RateLimiter, optional
        The session's limiter: its ``limit``, ``remaining`` and (if it has one) ``window``.
        Without one, Ontraport's documented 180 a minute with the window free.
    workers : int
        Requests in flight at once.
    latency : float
        Seconds per request.
    rows : int, optional
        Shown with the estimate (loads).
    """
    if requests < 0:
        raise ValueError(f"requests must be >= 0, not {requests}")
    window = float(getattr(limiter, "window", None) or DEFAULT_WINDOW)
    limit = getattr(limiter, "limit", None)
    remaining = getattr(limiter, "remaining", None)
    if limiter is None or (limit is None and remaining is None):
        limit, remaining = DEFAULT_LIMIT, DEFAULT_LIMIT
    elif remaining is not None and remaining >= _NO_LIMIT and limit is None:
        limit = None
    if limit is not None:
        limit = max(1, int(limit))
        free = limit if remaining is None else max(0, min(int(remaining), limit))
        paced = max(0, requests - free) * window / limit
    else:
        paced = 0.0
    busy = requests * latency / max(1, workers)
    return Estimate(requests, max(paced, busy), limit, window, rows)
