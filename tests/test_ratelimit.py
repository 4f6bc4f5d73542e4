import threading
import time

import pytest

from ontraport_pandas.ratelimit import RateLimiter
from ontraport_pandas.transports.base import RateLimitInfo, rate_limit_info


def test_headers_are_read_case_insensitively():
    info = rate_limit_info(
        {"x-rate-limit-limit": "180", "X-Rate-Limit-Remaining": "3", "X-RATE-LIMIT-RESET": "23"}
    )
    assert info == RateLimitInfo(180, 3, 23.0)
    assert rate_limit_info({"content-type": "text/plain"}) is None


def test_first_request_goes_alone_then_remaining_allows_concurrency():
    lim = RateLimiter()
    lim.acquire()
    blocked = threading.Event()

    def second():
        lim.acquire()
        blocked.set()

    t = threading.Thread(target=second)
    t.start()
    time.sleep(0.1)
    assert not blocked.is_set()  # nothing known yet: the probe goes alone
    lim.update(RateLimitInfo(180, 100, 30))
    t.join(2)
    assert blocked.is_set()
    for _ in range(10):
        lim.acquire()
    assert lim.in_flight == 11


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _blocked_acquire(lim: RateLimiter) -> tuple[threading.Thread, threading.Event]:
    done = threading.Event()

    def run() -> None:
        lim.acquire()
        done.set()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, done


def test_waits_for_reset_when_spent():
    clock = FakeClock()
    lim = RateLimiter(clock=clock)
    lim.acquire()
    lim.update(RateLimitInfo(180, 0, 30))  # spent; resets 30 s from now
    t, done = _blocked_acquire(lim)
    assert not done.wait(0.3)  # the clock has not reached the reset: nothing goes
    clock.now = 31.0
    t.join(5)
    assert done.is_set()


def test_penalize_blocks_everyone():
    clock = FakeClock()
    lim = RateLimiter(clock=clock)
    lim.acquire()
    lim.update(RateLimitInfo(180, 50, 10))
    lim.penalize(20)  # a 429 said: reset in 20 s
    t, done = _blocked_acquire(lim)
    assert not done.wait(0.3)
    clock.now = 21.0
    t.join(5)
    assert done.is_set()


class SteppingClock(FakeClock):
    """A fake clock that the limiter's wait advances: single-threaded tests of the waits."""

    def sleep(self, cond: object, seconds: float) -> None:
        assert seconds > 0
        self.now += seconds


def test_after_a_429_probes_come_early_and_back_off_until_the_reset():
    clock = SteppingClock()
    lim = RateLimiter(clock=clock, wait=clock.sleep)
    t = lim.acquire()
    lim.update(RateLimitInfo(180, 0, 60), t)
    lim.penalize(60, t)  # the window reports a full minute
    probes = []
    for _ in range(6):
        t = lim.acquire()
        probes.append(clock.now)
        lim.update(RateLimitInfo(180, 0, 60 - clock.now), t)  # still spent: another 429
        lim.penalize(60 - clock.now, t)
    # 1, 2, 4, 8, 16 s apart, and the last one exactly at the reported reset
    assert probes == [1.0, 3.0, 7.0, 15.0, 31.0, 60.0]


def test_a_probe_that_finds_slots_lifts_the_hold_for_everyone():
    clock = SteppingClock()
    lim = RateLimiter(clock=clock, wait=clock.sleep)
    t = lim.acquire()
    lim.update(RateLimitInfo(180, 0, 55), t)
    lim.penalize(55, t)
    probe = lim.acquire()
    assert clock.now == 1.0 and lim.held
    lim.update(RateLimitInfo(180, 40, 55), probe)
    assert not lim.held
    for _ in range(10):
        lim.acquire()
    assert clock.now == 1.0  # nobody waited after the probe


def test_stale_429s_from_requests_in_flight_do_not_extend_the_hold():
    clock = SteppingClock()
    lim = RateLimiter(clock=clock, wait=clock.sleep)
    first = lim.acquire()
    lim.update(RateLimitInfo(180, 100, 10), first)
    flight = [lim.acquire() for _ in range(8)]  # eight requests out at once
    for t in flight:  # all eight come back 429
        lim.update(RateLimitInfo(180, 0, 50), t)
        lim.penalize(50, t)
    lim.acquire()
    assert clock.now == 1.0  # one hold, not eight doublings of the probe delay


def test_headers_from_before_the_429_trigger_a_probe_but_do_not_lift_the_hold():
    clock = SteppingClock()
    lim = RateLimiter(clock=clock, wait=clock.sleep)
    first = lim.acquire()
    lim.update(RateLimitInfo(180, 100, 10), first)
    old, refused = lim.acquire(), lim.acquire()
    lim.update(RateLimitInfo(180, 0, 60), refused)
    lim.penalize(60, refused)
    lim.update(RateLimitInfo(180, 30, 60), old)  # sent before the 429 arrived, answered after it
    assert lim.held
    probe = lim.acquire()
    assert clock.now == 0.0  # slots came back, says an answer: probe at once
    with pytest.raises(AssertionError):  # but only one request goes until the probe answers
        _no_wait(lim).acquire()
    lim.update(RateLimitInfo(180, 29, 60), probe)
    assert not lim.held


def _no_wait(lim: RateLimiter) -> RateLimiter:
    def refuse(cond: object, seconds: float) -> None:
        raise AssertionError("would wait")

    lim._wait = refuse
    return lim


def test_without_early_probes_the_hold_lasts_until_the_reset():
    clock = SteppingClock()
    lim = RateLimiter(clock=clock, wait=clock.sleep, probe_after=None)
    t = lim.acquire()
    lim.update(RateLimitInfo(180, 0, 42), t)
    lim.penalize(42, t)
    lim.acquire()
    assert clock.now == 42.0


def test_a_probe_answered_without_a_free_slot_does_not_let_the_next_one_go_at_once():
    clock = SteppingClock()
    lim = RateLimiter(clock=clock, wait=clock.sleep)
    t = lim.acquire()
    lim.update(RateLimitInfo(180, 0, 60), t)
    lim.penalize(60, t)
    probe = lim.acquire()
    assert clock.now == 1.0
    lim.update(RateLimitInfo(180, 0, 59), probe)  # served, but it took the last slot
    lim.acquire()
    assert clock.now == 3.0  # the next probe waits its turn (2 s), not zero


@pytest.mark.parametrize("bad", [0, -1.0, float("nan")])
def test_probe_after_must_be_positive(bad):
    from ontraport_pandas.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="probe_after"):
        RateLimiter(probe_after=bad)


def test_the_progress_note_counts_down_to_the_next_probe_not_the_full_reset():
    clock = SteppingClock()
    lim = RateLimiter(clock=clock, wait=clock.sleep)
    notes: list[float] = []
    lim.on_wait = notes.append
    t = lim.acquire()
    lim.update(RateLimitInfo(180, 0, 60), t)
    lim.penalize(60, t)
    lim.acquire()
    assert notes and notes[0] == 1.0


def test_an_older_answer_cannot_raise_remaining():
    # Two requests counted by the server in ticket order, answered in reverse: the
    # later count (1 left) arrives first; the earlier one (2 left) is older news.
    clock = FakeClock()
    lim = RateLimiter(clock=clock)
    first = lim.acquire()
    lim.update(RateLimitInfo(180, 3, 40), first)
    a, b = lim.acquire(), lim.acquire()
    lim.update(RateLimitInfo(180, 1, 40), b)
    lim.update(RateLimitInfo(180, 2, 40), a)
    assert lim.remaining == 1
    lim.acquire()  # the one slot left
    t, done = _blocked_acquire(lim)
    assert not done.wait(0.3)  # trusting the stale "2" would send into a full window
    clock.now = 41.0  # the reset passed: one probe learns the new state
    t.join(5)
    assert done.is_set()


def test_an_answer_sent_after_the_recorded_one_may_raise_remaining():
    clock = FakeClock()
    lim = RateLimiter(clock=clock)
    first = lim.acquire()
    lim.update(RateLimitInfo(180, 2, 5), first)  # oldest request leaves in 5 s
    early = lim.acquire()
    lim.update(RateLimitInfo(180, 1, 5), early)
    assert lim.remaining == 1
    clock.now = 6.0
    late = lim.acquire()  # sent after that answer: counted later, so its number is newer
    lim.update(RateLimitInfo(180, 30, 20), late)
    assert lim.remaining == 30
    clock.now = 7.0
    straggler = lim.acquire()
    lim.update(RateLimitInfo(180, 0, 20), straggler)  # lower: believed at once
    assert lim.remaining == 0


def test_lower_numbers_from_other_clients_are_believed():
    clock = FakeClock()
    lim = RateLimiter(clock=clock)
    t1 = lim.acquire()
    lim.update(RateLimitInfo(180, 100, 60), t1)
    t2 = lim.acquire()
    lim.update(RateLimitInfo(180, 10, 60), t2)  # someone else used 89 slots meanwhile
    assert lim.remaining == 10


def test_stale_answers_in_a_simulated_full_window_waste_no_request():
    # A rolling window of 10 per 10 s on a fake clock; eight requests in flight are
    # answered in reverse order of their counting. No request may be sent into a full
    # window: the server-side count never exceeds the limit.
    clock = FakeClock()
    lim = RateLimiter(clock=clock)
    hits: list[float] = []
    refused = 0

    def count() -> RateLimitInfo:
        nonlocal refused
        now = clock.now
        hits[:] = [h for h in hits if h > now - 10]
        if len(hits) >= 10:
            refused += 1
        else:
            hits.append(now)
        reset = 0 if not hits else max(1, int(-(-(hits[0] + 10 - now) // 1)))
        return RateLimitInfo(10, max(0, 10 - len(hits)), reset)

    sent = 0
    while sent < 60:
        batch = []
        while sent < 60 and lim.remaining is not None and lim.remaining - lim.in_flight > 0:
            batch.append(lim.acquire())
            sent += 1
        if not batch:
            if lim.remaining is not None and clock.now < lim._reset_at:
                clock.now = lim._reset_at
            batch.append(lim.acquire())
            sent += 1
        answers = [(ticket, count()) for ticket in batch]
        clock.now += 0.1
        for ticket, info in reversed(answers):
            lim.update(info, ticket)
    assert refused == 0


def test_wall_wait_counts_overlapping_waits_once():
    clock = FakeClock()

    def wait(cond: threading.Condition, seconds: float) -> None:
        cond.release()
        try:
            time.sleep(0.05)
        finally:
            cond.acquire()

    lim = RateLimiter(clock=clock, wait=wait)
    first = lim.acquire()
    lim.update(RateLimitInfo(180, 0, 10), first)
    threads = [_blocked_acquire(lim) for _ in range(4)]
    time.sleep(0.3)  # all four are waiting
    clock.now = 11.0
    deadline = time.monotonic() + 5
    while sum(done.is_set() for _, done in threads) < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    lim.update(RateLimitInfo(180, 100, 50))  # the probe's answer lets the others go
    for t, done in threads:
        t.join(5)
        assert done.is_set()
    assert lim.wall_waited == pytest.approx(11.0)
    assert lim.waited >= 4 * 11.0 - 1e-9  # the summed figure counts each thread
