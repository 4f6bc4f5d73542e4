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


def test_waits_for_reset_when_spent():
    lim = RateLimiter()
    lim.acquire()
    lim.update(RateLimitInfo(180, 0, 0.3))
    started = time.monotonic()
    lim.acquire()
    assert time.monotonic() - started >= 0.25
    assert lim.waited > 0


def test_penalize_blocks_everyone():
    lim = RateLimiter()
    lim.acquire()
    lim.update(RateLimitInfo(180, 50, 10))
    lim.penalize(0.6)
    started = time.monotonic()
    lim.acquire()
    assert time.monotonic() - started >= 0.5
