"""A rate limiter shared by every request of one client.

Ontraport allows 180 requests a minute per account in a rolling window and reports
the state on every response (``X-Rate-Limit-Limit``, ``-Remaining``, ``-Reset``).
The limiter follows the server's own numbers instead of guessing:

* before a request, :meth:`RateLimiter.acquire` lets it go while the last reported
  ``remaining`` (minus the requests still in flight) is positive; otherwise it waits
  until the reported reset time, then lets one probe through, whose answer tells
  how many slots the rolling window has freed. ``acquire`` returns a ticket that
  identifies the request;
* after a response, :meth:`RateLimiter.update` records the headers and frees the
  ticket's slot; a request that got no answer (an exception of any kind, including
  ``KeyboardInterrupt``) frees it with :meth:`RateLimiter.release`. The caller does
  one or the other in ``finally``, so a failure never leaks a slot or leaves the
  first-request probe open;
* after a 429, :meth:`RateLimiter.penalize` holds every thread until ``Reset``, but
  not blindly: ``Reset`` may be the time until the *whole* window is free, while a
  rolling window frees slots one by one, and a 429 from a proxy in front of the API
  may not reflect the account's window at all. So during the hold the limiter lets
  one probe through

  - as soon as any answer's headers say slots have come back (``Remaining`` > 0),
    and
  - on a schedule: ``probe_after`` seconds after the 429, then twice as long after
    each further 429 (1, 2, 4, 8 … s by default), never later than the reset.

  The probe's own answer decides: ``Remaining`` > 0 lifts the hold for everyone, a
  new 429 extends it. Headers from requests that were already in flight when the
  429 arrived are older than it, so they can trigger a probe but never lift the
  hold themselves. ``probe_after=None`` schedules no early probe and waits for the
  reset (the official SDK's behaviour) unless an answer says slots came back. Whether Ontraport counts refused requests against
  the window is not documented; the backoff keeps early probes to a handful per
  minute either way.

Answers arrive out of order (eight threads, a server that counts them in whatever
order they reach it), so an answer's ``Remaining`` may be older than the one already
recorded: a request counted *before* the last recorded one reports one slot more than
is left, and trusting it sends a request into a full window (a wasted 429). So a
number is believed as it is only when it is lower than the one recorded (more
requests counted: always safe), or when its request was sent after the recorded
answer arrived (then the server counted it later, so the increase is slots the
rolling window freed, not an older count). Any other increase is ignored; once the
reported reset has passed, a probe learns the new state.
During a 429 hold the probe's answer is believed as it is (see above).

Before the first response nothing is known, so one request goes alone to learn
the numbers. Waiting time is accumulated in :attr:`RateLimiter.waited` (summed over
threads, so eight threads waiting one second count eight) and, as wall time during
which at least one request was held back, in :attr:`RateLimiter.wall_waited`, so
progress bars and load statistics can show it. Pure bookkeeping: no I/O. The clock and the wait are injectable,
so the waits can be tested on a fake clock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from .errors import ConfigurationError
from .transports.base import RateLimitInfo

__all__ = ["RateLimiter"]

#: How long one ``acquire`` sleeps at most before looking again.
_MAX_NAP = 1.0


def _condition_wait(cond: threading.Condition, seconds: float) -> None:
    cond.wait(seconds)


class RateLimiter:
    """Share one account's rate limit between concurrent requests.

    Parameters
    ----------
    clock : callable
        Seconds, monotonic; default ``time.monotonic``.
    wait : callable, optional
        ``wait(condition, seconds)`` sleeps while holding ``condition`` (the default
        waits on it, so an answer wakes the sleepers early). Tests pass a function
        that advances a fake clock.
    safety : int
        Requests kept in reserve below the reported remaining count, for other
        clients of the same account.
    probe_after : float or None
        Seconds after a 429 until the first scheduled early probe (doubling after each
        further 429, never past the reported reset); None schedules none (an answer
        saying slots came back still lets one probe go).
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        wait: Callable[[threading.Condition, float], object] | None = None,
        safety: int = 0,
        probe_after: float | None = 1.0,
    ) -> None:
        if probe_after is not None and not probe_after > 0:
            raise ConfigurationError(
                f"probe_after must be a positive number of seconds or None, not {probe_after!r}"
            )
        self._clock = clock
        self._wait = wait or _condition_wait
        self._cond = threading.Condition()
        self.limit: int | None = None
        self.remaining: int | None = None
        self._reset_at: float = 0.0
        self._in_flight = 0
        self._probe: int | None = None  # the ticket of the probe in flight
        self._tickets = 0
        self._held_from: int | None = None  # a 429 hold: tickets from this number on are fresher
        self._probe_at = float("inf")  # when the next early probe may go during a hold
        self.probe_after = probe_after
        self._step = probe_after
        self.safety = safety
        self.waited = 0.0
        self.wall_waited = 0.0
        self._waiters = 0
        self._waiting_since = 0.0
        self._fresh_from = 0  # tickets from this one on were sent after `remaining` was recorded
        self.on_wait: Callable[[float], None] | None = None

    # -- before a request ------------------------------------------------------------
    def acquire(self) -> int:
        """Block until one request may be sent; return its ticket for :meth:`update` / :meth:`release`."""
        with self._cond:
            while True:
                now = self._clock()
                if self._may_go(now):
                    break
                wait = self._nap(now)
                if self.on_wait is not None and self.remaining is not None:
                    self.on_wait(max(0.0, self._next_try() - now))
                started = self._clock()
                if self._waiters == 0:
                    self._waiting_since = started
                self._waiters += 1
                try:
                    self._wait(self._cond, wait)
                finally:
                    self._waiters -= 1
                    ended = self._clock()
                    self.waited += max(0.0, ended - started)
                    if self._waiters == 0:
                        self.wall_waited += max(0.0, ended - self._waiting_since)
            self._tickets += 1
            self._in_flight += 1
            return self._tickets

    def _may_go(self, now: float) -> bool:
        """Decide under the lock; marks the probe when the request goes as one."""
        if self._held_from is not None:
            if self._probe is None and now >= min(self._reset_at, self._probe_at):
                self._probe = self._tickets + 1
                return True
            return False
        if self.remaining is None:
            # Unknown state: let one request through to learn the numbers.
            if self._in_flight == 0 and self._probe is None:
                self._probe = self._tickets + 1
                return True
            return False
        if self.remaining - self._in_flight - self.safety > 0:
            return True
        if now >= self._reset_at and self._probe is None:
            # The reported reset has passed: the window has freed at least one slot.
            self._probe = self._tickets + 1
            return True
        return False

    def _next_try(self) -> float:
        """When a request may go next: the reset, or the next early probe during a hold."""
        if self._held_from is not None:
            return min(self._reset_at, self._probe_at)
        return self._reset_at

    def _nap(self, now: float) -> float:
        if self.remaining is None:
            return 0.05
        return min(_MAX_NAP, max(0.05, self._next_try() - now))

    # -- after a request -----------------------------------------------------------------
    def update(self, info: RateLimitInfo | None, ticket: int | None = None) -> None:
        """Record a response's rate-limit headers and release its slot.

        ``ticket`` is what :meth:`acquire` returned; without it the answer counts as fresh.
        """
        with self._cond:
            self._settle(ticket)
            if info is not None and info.limit is not None:
                self.limit = info.limit
            fresh = self._held_from is None or ticket is None or ticket >= self._held_from
            if not fresh:
                # Sent before the 429 arrived: it may say slots came back, but only a probe can tell.
                if info is not None and info.remaining is not None and info.remaining > 0:
                    self._probe_at = min(self._probe_at, self._clock())
                self._cond.notify_all()
                return
            if info is not None:
                if info.remaining is not None:
                    if not self._believable(info.remaining, ticket):
                        # An older count than the one recorded: keep the lower number.
                        self._cond.notify_all()
                        return
                    self.remaining = info.remaining
                    self._fresh_from = self._tickets + 1
                if info.reset is not None:
                    self._reset_at = self._clock() + info.reset
            elif self.remaining is None:
                self.remaining = 1 << 30  # a backend that reports nothing has no limit we can see
            if self._held_from is not None:
                if info is None or (self.remaining or 0) > 0:
                    self._held_from = None  # slots came back: everyone may go again
                    self._probe_at = float("inf")
                elif self._step is not None and ticket is not None and ticket >= self._held_from:
                    # A probe that was answered but found no slot: the next one waits its turn.
                    self._probe_at = self._clock() + self._step
            if self._held_from is None and (self.remaining or 0) > 0:
                self._step = self.probe_after
            self._cond.notify_all()

    def _believable(self, remaining: int, ticket: int | None) -> bool:
        """Whether an answer's ``Remaining`` may replace the recorded one (under the lock)."""
        if self.remaining is None or ticket is None or self._held_from is not None:
            return True  # nothing known yet, no ticket to date it, or a hold's probe
        if remaining <= self.remaining:
            return True  # more requests counted than we knew of: never too hopeful
        return ticket >= self._fresh_from  # counted after the recorded answer

    def release(self, ticket: int | None = None) -> None:
        """Release a slot whose request got no answer (an exception of any kind)."""
        with self._cond:
            self._settle(ticket)
            self._cond.notify_all()

    def _settle(self, ticket: int | None) -> None:
        self._in_flight = max(0, self._in_flight - 1)
        if ticket is None or ticket == self._probe:
            self._probe = None

    def penalize(self, reset_after: float, ticket: int | None = None) -> None:
        """A 429 arrived: nobody sends until ``reset_after`` seconds have passed, except early probes.

        A 429 for a request sent before the current hold began (``ticket`` older than
        the hold) is the same news again: it neither extends the hold nor slows the probes.
        """
        with self._cond:
            if self._held_from is not None and ticket is not None and ticket < self._held_from:
                return
            now = self._clock()
            self.remaining = 0
            self._reset_at = now + max(reset_after, 0.5)
            self._held_from = self._tickets + 1
            if self._step is None:
                self._probe_at = float("inf")
            else:
                self._probe_at = now + self._step
                self._step *= 2
            self._cond.notify_all()

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @property
    def held(self) -> bool:
        """True while a 429 holds every request back."""
        return self._held_from is not None

    def __repr__(self) -> str:
        return f"<RateLimiter limit={self.limit} remaining={self.remaining} in_flight={self._in_flight}>"
