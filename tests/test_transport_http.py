"""The HTTP transport and the session's error mapping, retries and rate limiting, over httpx.MockTransport."""

import json
import logging

import httpx
import pytest

import ontraport_pandas as opd
from ontraport_pandas.client import Ontraport
from ontraport_pandas.session import RetryPolicy, Session
from ontraport_pandas.transports.http import HTTPTransport

SECRET = "s3cr3t-key-value"


def make(handler, **kw):
    transport = HTTPTransport(
        "2_app", SECRET, base_url="https://api.test/1/", transport=httpx.MockTransport(handler)
    )
    return Session(transport, retry=RetryPolicy(backoff=0.001), sleep=lambda s: None, **kw)


def ok(data, **headers):
    h = {"X-Rate-Limit-Limit": "180", "X-Rate-Limit-Remaining": "170", "X-Rate-Limit-Reset": "10", **headers}
    return httpx.Response(200, json={"code": 0, "data": data, "account_id": 1}, headers=h)


def test_sends_auth_headers_and_params():
    seen = []

    def handler(request):
        seen.append(request)
        return ok([])

    make(handler).call("GET", "Contacts", params={"range": 50, "ids": [1, 2], "count": True})
    r = seen[0]
    assert r.headers["Api-Appid"] == "2_app" and r.headers["Api-Key"] == SECRET
    assert r.url.path == "/1/Contacts"
    assert dict(r.url.params) == {"range": "50", "ids": "1,2", "count": "true"}


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (400, "Invalid query", opd.InvalidQueryError),
        (400, "Object not found", opd.BadRequestError),
        (401, "Your App ID and API Key do not authenticate.", opd.AuthenticationError),
        (403, "no", opd.PermissionDeniedError),
        (404, "Object not found", opd.NotFoundError),
        (422, "Invalid email address", opd.InvalidValueError),
        (500, "boom", opd.ServerError),
        (503, "down", opd.ServerError),
        (418, "teapot", opd.APIError),
    ],
)
def test_status_codes_map_to_the_exception_tree(status, body, error):
    session = make(lambda r: httpx.Response(status, text=body))
    with pytest.raises(error) as info:
        session.call("PUT", "Contacts", json={"id": 1}, retry=False)
    assert info.value.status == status
    assert body in str(info.value)
    assert isinstance(info.value, opd.OntraportError)


def test_key_never_in_repr_logs_or_errors(caplog):
    caplog.set_level(logging.DEBUG)
    session = make(lambda r: httpx.Response(401, text="Your App ID and API Key do not authenticate."))
    with pytest.raises(opd.AuthenticationError) as info:
        session.call("GET", "Contacts")
    op = Ontraport(session.transport, session=session)
    for text in (repr(session.transport), repr(op), str(info.value), repr(info.value), caplog.text, op.name):
        assert SECRET not in text


def test_429_is_waited_out_then_retried():
    calls = []

    def handler(request):
        calls.append(1)
        if len(calls) < 3:
            return httpx.Response(
                429,
                text="You have exceeded your maximum rate limit",
                headers={"X-Rate-Limit-Remaining": "0", "X-Rate-Limit-Reset": "0"},
            )
        return ok([{"id": "1"}])

    session = make(handler)
    assert session.data("POST", "Contacts", json={}) == [{"id": "1"}]  # even writes: a 429 was not processed
    assert len(calls) == 3


def test_reads_retry_5xx_and_dropped_connections_then_succeed():
    calls = []

    def handler(request):
        calls.append(1)
        if len(calls) == 1:
            return httpx.Response(502, text="bad gateway")
        if len(calls) == 2:
            raise httpx.RemoteProtocolError("Server disconnected")
        if len(calls) == 3:
            raise httpx.ReadTimeout("slow")
        return ok("fine")

    assert make(handler).data("GET", "Contacts") == "fine"
    assert len(calls) == 4


def test_writes_are_not_retried_on_5xx():
    calls = []

    def handler(request):
        calls.append(1)
        return httpx.Response(500, text="boom")

    with pytest.raises(opd.ServerError):
        make(handler).data("PUT", "Contacts", json={"id": 1})
    assert len(calls) == 1


def test_gives_up_after_the_retry_budget():
    calls = []

    def handler(request):
        calls.append(1)
        raise httpx.ConnectError("refused")

    with pytest.raises(opd.ConnectionFailed):
        make(handler).data("GET", "Contacts")
    assert len(calls) == RetryPolicy().attempts == 12


def test_timeout_maps_to_request_timeout():
    def handler(request):
        raise httpx.ReadTimeout("slow")

    with pytest.raises(opd.RequestTimeout):
        make(handler).data("PUT", "Contacts", json={})


def test_malformed_json_is_a_protocol_error():
    session = make(lambda r: httpx.Response(200, text="<html>oops"))
    with pytest.raises(opd.ProtocolError):
        session.call("GET", "Contacts")


def test_nonzero_code_is_an_api_error():
    session = make(lambda r: httpx.Response(200, json={"code": 1, "data": "nope"}))
    with pytest.raises(opd.APIError):
        session.call("GET", "Contacts")


def test_request_exposes_raw_envelope():
    session = make(lambda r: ok({"id": "5"}))
    op = Ontraport(session.transport, session=session)
    assert op.request("GET", "Contact", params={"id": 5}) == {"code": 0, "data": {"id": "5"}, "account_id": 1}


def test_missing_credentials_are_a_configuration_error(monkeypatch):
    monkeypatch.delenv("ONTRAPORT_APP_ID", raising=False)
    monkeypatch.delenv("ONTRAPORT_API_KEY", raising=False)
    with pytest.raises(opd.ConfigurationError):
        opd.connect(app_id="2_x")
    with pytest.raises(opd.ConfigurationError):
        opd.connect("ftp://nowhere")


def test_connect_without_arguments_or_credentials_refuses_instead_of_returning_the_sandbox(monkeypatch):
    with pytest.raises(opd.ConfigurationError) as info:
        opd.connect()
    message = str(info.value)
    assert "ONTRAPORT_APP_ID and ONTRAPORT_API_KEY are not set" in message
    assert 'opd.connect("sandbox")' in message
    monkeypatch.setenv("ONTRAPORT_APP_ID", "2_env")  # half the pair is no better
    with pytest.raises(opd.ConfigurationError, match="ONTRAPORT_API_KEY is not set"):
        opd.connect()
    with pytest.raises(opd.ConfigurationError, match=r"need connect\('sandbox'"):
        opd.connect(contacts=10)
    op = opd.connect("sandbox", contacts=10, rate_limit=None)  # the demo, asked for by name
    assert not op.live and op.sandbox is not None
    op.close()


def test_credentials_from_environment(monkeypatch):
    monkeypatch.setenv("ONTRAPORT_APP_ID", "2_env")
    monkeypatch.setenv("ONTRAPORT_API_KEY", SECRET)
    op = opd.connect()
    try:
        assert op.live and "2_env" in op.name and SECRET not in repr(op)
    finally:
        op.close()


def test_body_is_json():
    seen = []

    def handler(request):
        seen.append(json.loads(request.content))
        return ok({"attrs": {"id": "1"}})

    make(handler).data("PUT", "Contacts", json={"id": 1, "firstname": "Ann"})
    assert seen == [{"id": 1, "firstname": "Ann"}]
