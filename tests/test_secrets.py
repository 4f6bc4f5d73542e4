"""Secrets stay secret: user info in a base URL and the API key never reach what is shown or raised."""

from __future__ import annotations

import httpx
import pytest

import ontraport_pandas as opd
from ontraport_pandas.sandbox import DEMO_API_KEY, DEMO_APP_ID
from ontraport_pandas.session import RetryPolicy, Session
from ontraport_pandas.transports.base import display_url, is_loopback
from ontraport_pandas.transports.http import HTTPTransport

KEY = "opd-key-7f3a91c2e4"
PASSWORD = "pw-in-url-55c1d0"


def _chain(err: BaseException):
    seen = []
    todo = [err]
    while todo:
        e = todo.pop()
        if e is None or any(e is s for s in seen):
            continue
        seen.append(e)
        todo += [e.__cause__, e.__context__]
    return seen


@pytest.mark.parametrize(
    "fault",
    [
        httpx.ConnectError,
        httpx.ReadTimeout,
        httpx.RemoteProtocolError,
        httpx.UnsupportedProtocol,
    ],
)
def test_no_error_we_raise_leads_back_to_the_api_key(fault):
    def handler(request):
        raise fault(f"failed talking to {request.url} with {request.headers['api-key']}", request=request)

    transport = HTTPTransport(
        "2_app", KEY, base_url=f"https://user:{PASSWORD}@api.test/1/", transport=httpx.MockTransport(handler)
    )
    session = Session(transport, retry=RetryPolicy(attempts=2, backoff=0.0))
    with pytest.raises(opd.TransportError) as info:
        session.call("GET", "Contacts")
    err = info.value
    assert isinstance(err.__cause__, fault)  # the cause is kept, for its type and message...
    with pytest.raises(RuntimeError):
        _ = err.__cause__.request  # ...but not its request, whose headers held the key
    assert err.__context__ is None or err.__context__ is err.__cause__
    for e in _chain(err):
        assert KEY not in str(e) and PASSWORD not in str(e) and KEY not in repr(e)
        request = getattr(e, "_request", None)
        assert request is None


def test_an_invalid_url_is_our_error_not_a_raw_httpx_one():
    transport = HTTPTransport(
        "2_app", KEY, base_url="https://api.test/1/", transport=httpx.MockTransport(lambda r: None)
    )
    with pytest.raises(opd.TransportError, match="could not be sent"):
        transport.send("GET", "Contacts", params={"condition": "x" * 70_000})


def test_user_info_is_stripped_from_everything_shown(served, tmp_path):
    host = served.url.split("://", 1)[1]
    url = f"http://someone:{PASSWORD}@{host}"
    op = opd.connect(url, app_id=DEMO_APP_ID, api_key=DEMO_API_KEY)
    try:
        assert not op.live  # a loopback URL with user info is still loopback
        contacts = op.contacts(limit=3, progress=False)
        edited = contacts.assign(firstname=contacts["firstname"].astype("string") + "x")
        result = op.plan(edited).apply(journal_dir=str(tmp_path), progress=False)
        assert result.ok
        journal = next(tmp_path.glob("*.jsonl")).read_text(encoding="utf-8")
        shown = [
            repr(op),
            op.name,
            str(contacts.attrs),
            repr(op.transport),
            op.transport.base_url,
            journal,
            op.cache_key,
        ]
        for text in shown:
            assert PASSWORD not in text and "someone" not in text
        assert f"Sandbox served at http://{host}" == op.name
    finally:
        op.close()


def test_a_live_url_with_user_info_is_shown_without_it():
    op = opd.connect(f"https://me:{PASSWORD}@api.example.com/1/", app_id="2_x", api_key=KEY)
    try:
        assert op.live and PASSWORD not in repr(op) and KEY not in repr(op)
        assert op.name == "Ontraport API at https://api.example.com/1/ (app 2_x)"
    finally:
        op.close()


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:8765/1/", True),
        (f"http://u:{PASSWORD}@127.0.0.1:8765/1/", True),
        (f"http://:{PASSWORD}@localhost/1/", True),
        ("http://[::1]:9/1/", True),
        ("http://user@[::1]/1/", True),
        ("http://127.5.6.7/1/", True),
        ("http://127.evil.example/1/", False),  # a name that starts with 127. is not loopback
        ("http://localhost.example.com/1/", False),
        ("https://api.ontraport.com/1/", False),
        ("http://[broken/1/", False),
    ],
)
def test_loopback_is_recognised_by_the_host(url, loopback):
    assert is_loopback(url) is loopback
    assert PASSWORD not in display_url(url)


def test_user_info_is_sent_as_basic_auth_and_never_logged(caplog):
    import base64
    import logging

    seen = []

    def handler(request):
        seen.append(request)
        return httpx.Response(
            200, json={"code": 0, "data": [], "account_id": 1}, headers={"X-Rate-Limit-Remaining": "100"}
        )

    transport = HTTPTransport(
        "2_app",
        KEY,
        base_url=f"https://me%40corp:{PASSWORD}@api.test/1/",
        transport=httpx.MockTransport(handler),
    )
    with caplog.at_level(logging.DEBUG):
        Session(transport).call("GET", "Contacts")
    request = seen[0]
    assert (
        request.headers["authorization"]
        == "Basic " + base64.b64encode(f"me@corp:{PASSWORD}".encode()).decode()
    )
    assert "@" not in request.url.netloc.decode() and PASSWORD not in str(request.url)
    assert caplog.records  # httpx and the session did log the request...
    assert PASSWORD not in caplog.text and KEY not in caplog.text  # ...without a credential
