import threading
import time

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
