"""Authentication, the rate-limit headers, 429 and the rolling window."""

from __future__ import annotations

import httpx
from sandbox_helpers import AUTH, FakeClock, client_for

from ontraport_pandas.sandbox import DEMO_API_KEY, DEMO_APP_ID

UNAUTH = "Your App ID and API Key do not authenticate."
RATE_HEADERS = ("x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset")


def _assert_401(response: httpx.Response) -> None:
    assert response.status_code == 401
    assert response.text == UNAUTH
    assert response.headers["content-type"] == "text/html;charset=UTF-8"
    for name in RATE_HEADERS:
        assert name in response.headers


def test_bad_key_missing_header_and_wrong_app_id_all_get_the_same_401(make_app):
    app = make_app(rate_limit=180)
    for headers in (
        {"Api-Appid": DEMO_APP_ID, "Api-Key": "wrong"},
        {"Api-Appid": "2_other", "Api-Key": DEMO_API_KEY},
        {"Api-Appid": DEMO_APP_ID},
        {"Api-Key": DEMO_API_KEY},
        {},
    ):
        with client_for(app, headers=headers) as client:
            _assert_401(client.get("Contacts"))


def test_header_names_are_case_insensitive(make_app):
    app = make_app()
    with client_for(app, headers={"API-APPID": DEMO_APP_ID, "api-key": DEMO_API_KEY}) as client:
        assert client.get("Contacts", params={"range": 1}).status_code == 200
    with client_for(app, headers={"Api-Appid": DEMO_APP_ID, "Api-key": DEMO_API_KEY}) as client:
        assert client.get("Contacts", params={"range": 1}).status_code == 200


def test_every_response_has_rate_headers_and_remaining_counts_down(make_app):
    clock = FakeClock()
    app = make_app(rate_limit=5, clock=clock)
    with client_for(app) as client:
        first = client.get("Contacts", params={"range": 1})
        assert first.headers["x-rate-limit-limit"] == "5"
        assert first.headers["x-rate-limit-remaining"] == "4"
        assert first.headers["x-rate-limit-reset"] == "60"
        clock.advance(10)
        second = client.get("Nope")  # a 404 counts too, and carries the headers
        assert second.status_code == 404
        assert second.headers["x-rate-limit-remaining"] == "3"
        assert second.headers["x-rate-limit-reset"] == "50"


def test_401_does_not_consume_the_window(make_app):
    clock = FakeClock()
    app = make_app(rate_limit=3, clock=clock)
    with client_for(app, headers={"Api-Appid": DEMO_APP_ID, "Api-Key": "bad"}) as bad:
        for _ in range(5):
            response = bad.get("Contacts")
            _assert_401(response)
            assert response.headers["x-rate-limit-remaining"] == "3"
            assert response.headers["x-rate-limit-reset"] == "0"
    with client_for(app) as good:
        assert good.get("Contacts", params={"range": 1}).headers["x-rate-limit-remaining"] == "2"


def test_429_after_the_limit_with_reset_until_the_oldest_request_leaves(make_app):
    clock = FakeClock()
    app = make_app(rate_limit=3, rate_window=60.0, clock=clock)
    with client_for(app) as client:
        for _ in range(3):
            assert client.get("Tags", params={"range": 1}).status_code == 200
            clock.advance(5)  # requests at t=0, 5, 10; now t=15
        refused = client.get("Tags")
        assert refused.status_code == 429
        assert refused.headers["content-type"].startswith("text/plain")
        assert refused.text == "You have exceeded your maximum rate limit of 3 requests per minute."
        assert refused.headers["x-rate-limit-remaining"] == "0"
        assert refused.headers["x-rate-limit-reset"] == "45"
        # a 429 does not consume: after the first request leaves (t=60.5) one slot is free
        clock.advance(45.5)
        again = client.get("Tags", params={"range": 1})
        assert again.status_code == 200
        assert again.headers["x-rate-limit-remaining"] == "0"
        assert again.headers["x-rate-limit-reset"] == "5"  # the t=5 request leaves at 65
        assert client.get("Tags").status_code == 429


def test_rate_limit_is_per_app_id(make_app):
    clock = FakeClock()
    app = make_app(rate_limit=1, clock=clock)
    with client_for(app) as client:
        assert client.get("Tags").status_code == 200
        assert client.get("Tags").status_code == 429
    with client_for(app, headers={"Api-Appid": "2_other", "Api-Key": DEMO_API_KEY}) as other:
        response = other.get("Tags")
        _assert_401(response)
        assert response.headers["x-rate-limit-remaining"] == "1"  # its own, untouched window


def test_unlimited_still_sends_headers(make_app):
    app = make_app(rate_limit=None)
    with client_for(app) as client:
        for _ in range(3):
            response = client.get("Tags", params={"range": 1})
            assert response.status_code == 200
            assert int(response.headers["x-rate-limit-limit"]) >= 1_000_000
            assert response.headers["x-rate-limit-remaining"] == response.headers["x-rate-limit-limit"]
            assert response.headers["x-rate-limit-reset"] == "0"


def test_the_window_is_shared_by_apps_on_one_file(make_app, tmp_path):
    path = str(tmp_path / "shared.sqlite")
    clock = FakeClock()
    first = make_app(path=path, contacts=20, rate_limit=4, clock=clock)
    second = make_app(path=path, contacts=20, rate_limit=4, clock=clock)
    with client_for(first) as a, client_for(second) as b:
        assert a.get("Tags").headers["x-rate-limit-remaining"] == "3"
        assert b.get("Tags").headers["x-rate-limit-remaining"] == "2"
        assert a.get("Tags").headers["x-rate-limit-remaining"] == "1"
        assert b.get("Tags").headers["x-rate-limit-remaining"] == "0"
        assert a.get("Tags").status_code == 429


def test_auth_headers_constant_is_the_demo_pair():
    assert AUTH == {"Api-Appid": "2_sandbox_demo", "Api-Key": "sandbox-demo-key"}
