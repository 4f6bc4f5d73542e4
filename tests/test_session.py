"""The session never wedges: every failure frees its rate-limit slot and ends the first-request probe."""

from __future__ import annotations

import httpx
import pytest

import ontraport_pandas as opd
from ontraport_pandas.ratelimit import RateLimiter
from ontraport_pandas.session import RetryPolicy, Session
from ontraport_pandas.transports.base import Response
from ontraport_pandas.transports.http import HTTPTransport

HEADERS = {"X-Rate-Limit-Limit": "180", "X-Rate-Limit-Remaining": "170", "X-Rate-Limit-Reset": "10"}


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.naps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, cond: object, seconds: float) -> None:
        """The limiter's wait: advance the clock instead of sleeping."""
        self.naps.append(seconds)
        if len(self.naps) > 10_000:
            raise AssertionError("the limiter waits forever")
        self.now += seconds


def never_wait(cond: object, seconds: float) -> None:
    raise AssertionError("the limiter would wait: a slot or the first-request probe leaked")


def ok(data: object = None, **headers: str) -> httpx.Response:
    return httpx.Response(
        200, json={"code": 0, "data": data, "account_id": 1}, headers={**HEADERS, **headers}
    )


def http_session(handler, **kw) -> Session:
    transport = HTTPTransport(
        "2_app", "key-123456", base_url="https://api.test/1/", transport=httpx.MockTransport(handler)
    )
    kw.setdefault("limiter", RateLimiter(wait=never_wait))
    return Session(transport, retry=RetryPolicy(backoff=0.0), sleep=lambda s: None, **kw)


class ScriptedTransport:
    """A transport that raises or answers what the script says, one step per request."""

    name = "scripted"
    live = False

    def __init__(self, *steps: BaseException | Response) -> None:
        self.steps = list(steps)
        self.sent = 0

    def send(self, method, path, *, params=None, json=None, timeout=None):
        self.sent += 1
        step = (
            self.steps.pop(0)
            if self.steps
            else Response(200, {k.lower(): v for k, v in HEADERS.items()}, b'{"code":0,"data":"fine"}')
        )
        if isinstance(step, BaseException):
            raise step
        return step

    def close(self) -> None:
        pass


def test_interrupting_the_first_request_does_not_wedge_the_next_call():
    calls = []

    def handler(request):
        calls.append(request)
        if len(calls) == 1:
            raise KeyboardInterrupt  # the notebook's stop button, during the very first request
        return ok("fine")

    session = http_session(handler)
    with pytest.raises(KeyboardInterrupt):
        session.data("GET", "Contacts")
    assert session.limiter.in_flight == 0
    assert session.data("GET", "Contacts") == "fine"  # never_wait fails the test if this would block
    assert len(calls) == 2


@pytest.mark.parametrize(
    "error",
    [
        opd.MembraneSetupError("membrane: not logged in; run `membrane login`"),
        opd.ProtocolError("membrane request printed something that is not JSON"),
        opd.ConnectionFailed("refused"),  # not retried here: a write
        KeyboardInterrupt(),
        RuntimeError("a bug anywhere below the session"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_any_failure_of_the_first_request_ends_the_probe(error):
    transport = ScriptedTransport(error)
    session = Session(transport, limiter=RateLimiter(wait=never_wait), sleep=lambda s: None)
    with pytest.raises(type(error)):
        session.data("POST", "Contacts", json={})
    assert session.limiter.in_flight == 0
    assert session.data("GET", "Contacts") == "fine"
    assert transport.sent == 2


def test_failures_on_a_warm_client_leak_no_slot():
    # Five slots: if any of the failures below kept its slot, the last calls would have to wait.
    five_left = Response(
        200, {"x-rate-limit-remaining": "5", "x-rate-limit-reset": "30"}, b'{"code":0,"data":1}'
    )
    failures = [
        opd.MembraneSetupError("not logged in"),
        opd.ProtocolError("garbage"),
        KeyboardInterrupt(),
        RuntimeError("bug"),
        opd.RequestTimeout("slow"),
        opd.ConnectionFailed("dropped"),
    ]
    transport = ScriptedTransport(five_left, *failures)
    session = Session(transport, limiter=RateLimiter(wait=never_wait), sleep=lambda s: None)
    assert session.data("GET", "Contacts") == 1
    for failure in failures:
        with pytest.raises(type(failure)):
            session.data("PUT", "Contacts", json={"id": 1})
        assert session.limiter.in_flight == 0
    for _ in range(4):
        assert session.data("GET", "Contacts") == "fine"


def test_a_malformed_answer_frees_the_slot():
    answers = iter(
        [httpx.Response(200, text="<html>oops", headers={**HEADERS, "X-Rate-Limit-Remaining": "1"})]
    )

    def handler(request):
        return next(answers, None) or ok("fine", **{"X-Rate-Limit-Remaining": "1"})

    session = http_session(handler)
    with pytest.raises(opd.ProtocolError):
        session.call("GET", "Contacts")
    assert session.limiter.in_flight == 0
    assert session.data("GET", "Contacts") == "fine"


def test_a_429_on_a_fake_clock_waits_for_the_probe_not_the_full_reset():
    clock = FakeClock()
    calls = []

    def handler(request):
        calls.append(clock.now)
        if len(calls) == 2:  # a 429 that reports the full minute...
            return httpx.Response(
                429,
                text="You have exceeded your maximum rate limit of 180 requests per minute.",
                headers={
                    "X-Rate-Limit-Limit": "180",
                    "X-Rate-Limit-Remaining": "0",
                    "X-Rate-Limit-Reset": "60",
                },
            )
        return ok("fine")  # ...but the window has slots again (Remaining 170)

    session = http_session(handler, limiter=RateLimiter(clock=clock, wait=clock.sleep))
    assert session.data("GET", "Contacts") == "fine"
    assert session.data("GET", "Contacts") == "fine"
    assert calls[:2] == [0.0, 0.0]
    assert calls[2] == pytest.approx(1.0)  # the early probe after one second, not the reset at 60 s
    assert not session.limiter.held
    assert session.data("GET", "Contacts") == "fine"
    assert calls[3] == calls[2]  # the probe said slots came back: no more waiting
    assert (session.requests_sent, session.rate_limited) == (4, 1)  # the 429 is counted apart


@pytest.mark.parametrize("mode", ["not-logged-in", "malformed-output", "exit-nonzero-text"])
def test_a_membrane_failure_on_the_first_request_does_not_wedge_the_client(home, mode):
    from .membrane_fixtures import membrane_client, sim

    op = membrane_client(home)
    op.session.limiter = RateLimiter(wait=never_wait)  # a fresh limiter: the next request is the first
    sim(home, "sim", "fail", mode, "--times", "1", "--on", "request")
    with pytest.raises(opd.OntraportError):
        op.request("GET", "Contacts/getInfo", retry=False)
    assert op.session.limiter.in_flight == 0
    assert op.request("GET", "Contacts/getInfo")["data"]["count"] == "120"


@pytest.mark.parametrize(
    "bad",
    [
        {"attempts": 0},
        {"attempts": True},
        {"max_rate_limit_waits": -1},
        {"backoff": -1},
        {"max_backoff": "2"},
    ],
)
def test_a_retry_policy_checks_its_values(bad):
    with pytest.raises(opd.ConfigurationError, match=f"RetryPolicy.{next(iter(bad))}"):
        RetryPolicy(**bad)


def test_the_default_pauses_stay_short():
    policy = RetryPolicy()
    assert [policy.pause(n) for n in range(1, policy.attempts)] == [0.5, 1.0, 2.0] + [4.0] * 8
    assert RetryPolicy.of(None) == policy and RetryPolicy.of(0).attempts == 1


def test_an_answer_nested_too_deeply_is_a_protocol_error_and_frees_the_slot():
    deep = "[" * 200_000 + "]" * 200_000
    answers = iter([httpx.Response(200, text=deep, headers=HEADERS)])

    def handler(request):
        return next(answers, None) or ok("fine")

    session = http_session(handler)
    with pytest.raises(opd.ProtocolError, match="nested too deeply"):
        session.call("GET", "Contacts")
    assert session.limiter.in_flight == 0
    assert session.data("GET", "Contacts") == "fine"


def test_a_closed_client_says_so_instead_of_a_raw_runtime_error():
    op = opd.connect("sandbox", contacts=10, rate_limit=None)
    op.close()
    with pytest.raises(opd.TransportError, match="closed"):
        op.request("GET", "Contacts")
