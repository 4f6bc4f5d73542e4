"""A rate limiter shared by every request of one client.

Ontraport allows 180 requests a minute per account in a rolling window and reports
the state on every response (``X-Rate-Limit-Limit``, ``-Remaining``, ``-Reset``).
The limiter follows the server's own numbers instead of guessing:

* before a request, :meth:`RateLimiter.acquire` lets it go while the last reported
  ``remaining`` (minus the requests still in flight) is positive; otherwise it waits
  until the reported reset time, then lets one probe through, whose answer tells
  how many slots the rolling window has freed;
* after a response, :meth:`RateLimiter.update` records the headers;
* after a 429, :meth:`RateLimiter.penalize` holds every thread until ``Reset``.

Before the first response nothing is known, so one request goes alone to learn
the numbers. Waiting time is accumulated in :attr:`RateLimiter.waited` so progress
bars can show it. Pure bookkeeping: no I/O.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from .transports.base import RateLimitInfo

__all__ = ["RateLimiter"]


class RateLimiter:
    """Share one account's rate limit between concurrent requests.

    Parameters
    ----------
    clock, sleep : callable
        Injected for tests; default ``time.monotonic`` and a condition wait.
    safety : int
        Requests kept in reserve below the reported remaining count, for other
        clients of the same account.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        safety: int = 0,
    ) -> None:
        self._clock = clock
        self._cond = threading.Condition()
        self.limit: int | None = None
        self.remaining: int | None = None
        self._reset_at: float = 0.0
        self._in_flight = 0
        self._probing = False
        self.safety = safety
        self.waited = 0.0
        self.on_wait: Callable[[float], None] | None = None

    def acquire(self, *, timeout: float | None = None) -> None:
        """Block until one request may be sent."""
        with self._cond:
            while True:
                now = self._clock()
                if self.remaining is None:
                    # Unknown state: let one request through to learn the numbers.
                    if self._in_flight == 0 and not self._probing:
                        self._probing = True
                        break
                elif self.remaining - self._in_flight - self.safety > 0:
                    break
                elif now >= self._reset_at and not self._probing:
                    # The reported reset has passed: the window has freed at least one slot.
                    self._probing = True
                    break
                wait = max(0.05, self._reset_at - now) if self.remaining is not None else 0.05
                wait = min(wait, 1.0)
                if self.on_wait is not None and self.remaining is not None:
                    self.on_wait(max(0.0, self._reset_at - now))
                started = self._clock()
                self._cond.wait(wait)
                self.waited += max(0.0, self._clock() - started)
            self._in_flight += 1

    def update(self, info: RateLimitInfo | None) -> None:
        """Record a response's rate-limit headers and release its slot."""
        with self._cond:
            self._in_flight = max(0, self._in_flight - 1)
            self._probing = False
            if info is not None:
                if info.limit is not None:
                    self.limit = info.limit
                if info.remaining is not None:
                    self.remaining = info.remaining
                if info.reset is not None:
                    self._reset_at = self._clock() + info.reset
            elif self.remaining is None:
                self.remaining = 1 << 30  # a backend that reports nothing has no limit we can see
            self._cond.notify_all()

    def release(self) -> None:
        """Release a slot whose request failed without an answer."""
        with self._cond:
            self._in_flight = max(0, self._in_flight - 1)
            self._probing = False
            self._cond.notify_all()

    def penalize(self, reset_after: float) -> None:
        """A 429 arrived: nobody sends until ``reset_after`` seconds have passed."""
        with self._cond:
            self.remaining = 0
            self._reset_at = self._clock() + max(reset_after, 0.5)
            self._cond.notify_all()

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def __repr__(self) -> str:
        return f"<RateLimiter limit={self.limit} remaining={self.remaining} in_flight={self._in_flight}>"
