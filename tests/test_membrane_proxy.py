"""The direct proxy route (httpx + a token from `membrane token --json`) and the output readers.

The simulator serves the route on 127.0.0.1 with a token check (``proxy`` dialect);
exact faults of the route (a 401 from Membrane vs one from Ontraport, a Membrane
error body) come from an ``httpx.MockTransport`` handler.
"""

from __future__ import annotations

import json
import logging
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

import ontraport_pandas as opd
from ontraport_pandas.sandbox.membrane_proxy import serve_proxy
from ontraport_pandas.transports.membrane_cli import MembraneCLI
from ontraport_pandas.transports.membrane_errors import request_response
from ontraport_pandas.transports.membrane_proxy import MembraneProxyTransport, TokenSource

from .membrane_fixtures import CONTACTS, DEMO, SIM, env_for, init_home, membrane_client, sim


@pytest.fixture(scope="module")
def served_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    # The real rate limit (180 a minute), so the limiter can see Ontraport's headers.
    home = init_home(tmp_path_factory.mktemp("proxy") / "sim", "--rate-limit", "180")
    sim(home, "sim", "dialect", "proxy")
    served = serve_proxy(home)
    try:
        yield home
    finally:
        served.shutdown()


def test_proxy_mode_loads_without_a_process_per_page(served_home, caplog):
    caplog.set_level(logging.DEBUG)
    op = membrane_client(served_home, DEMO)
    assert op.transport.mode == "proxy" and "via proxy" in repr(op)
    assert "proxy route" in op.backend
    calls = op.transport.hosted.cli.calls
    frame = op.contacts(progress=False)
    assert len(frame) == CONTACTS
    assert op.transport.hosted.cli.calls == calls  # pages came over HTTP, not through the CLI
    assert op.session.limiter.limit == 180  # Ontraport's X-Rate-Limit-* reached the limiter
    sandbox = opd.connect("sandbox", path=str(served_home / "sandbox.sqlite"), rate_limit=None)
    expected = sandbox.contacts(progress=False)
    got = frame.copy()
    got.attrs, expected.attrs = {}, {}
    pd.testing.assert_frame_equal(got, expected)
    sandbox.close()
    token = op.transport._tokens._token
    assert token and token.startswith("simtok_")
    for text in (repr(op), repr(op.transport), repr(op.transport._tokens), op.backend, caplog.text):
        assert token not in text
    op.close()


def test_a_revoked_token_is_refreshed_once_and_the_request_succeeds(served_home, caplog):
    caplog.set_level(logging.DEBUG)
    op = membrane_client(served_home, DEMO)
    tokens = op.transport._tokens
    before = tokens.refreshes
    sim(served_home, "sim", "revoke-tokens")
    assert op.count("contacts") == CONTACTS
    assert tokens.refreshes == before + 1
    assert tokens._token not in caplog.text
    op.close()


def test_a_token_is_refreshed_before_it_expires(served_home):
    cli = MembraneCLI(SIM, env=env_for(served_home))
    now = [time.time()]
    tokens = TokenSource(cli, clock=lambda: now[0])
    first = tokens.get()
    assert tokens.get() == first  # cached while fresh
    now[0] += 10 * 3600  # past the expiry the CLI reported
    second = tokens.get()
    assert second != first and tokens.refreshes == 2


def test_an_unreachable_proxy_falls_back_to_the_cli_and_says_so(served_home):
    env = {**env_for(served_home), "MEMBRANE_API_URI": "http://127.0.0.1:9"}  # nothing listens there
    from ontraport_pandas._connect import connect_membrane

    with pytest.warns(opd.BackendFallbackWarning, match="membrane request"):
        op = connect_membrane(DEMO, command=SIM, env=env)
    assert op.transport.mode == "cli" and "proxy route not used" in op.backend
    assert op.count("contacts") == CONTACTS
    with pytest.raises(opd.ConnectionFailed):
        connect_membrane(DEMO, command=SIM, env=env, mode="proxy")


def test_no_token_means_the_cli_route(tmp_path):
    home = init_home(tmp_path / "sim")  # standard dialect: the CLI has no `token` command
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        op = membrane_client(home, DEMO)
    assert op.transport.mode == "cli" and "gave no token" in op.backend
    with pytest.raises(opd.MembraneSetupError, match="gave no token"):
        membrane_client(home, DEMO, mode="proxy")


# ------------------------------------------------------------------------------- exact faults


class _Tokens(TokenSource):
    """Tokens without a CLI: a counter (a fake source, not a patch)."""

    def __init__(self) -> None:
        self.issued = 0
        self.refreshes = 0

    def get(self) -> str:
        return f"tok{self.issued}"

    def refresh(self, stale: str | None = None) -> str:
        self.issued += 1
        self.refreshes += 1
        return f"tok{self.issued}"


def _proxy(handler: Any) -> MembraneProxyTransport:
    return MembraneProxyTransport(
        "conn_x", api_uri="https://membrane.test", tokens=_Tokens(), transport=httpx.MockTransport(handler)
    )


def test_requests_carry_the_token_and_the_api_version_to_the_documented_route():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200, json={"code": 0, "data": {"count": "3"}}, headers={"X-Rate-Limit-Remaining": "7"}
        )

    t = _proxy(handler)
    t.path_prefix = "/1"
    r = t.send("GET", "Contacts/getInfo", params={"search": "a b"})
    assert r.status == 200 and r.headers["x-rate-limit-remaining"] == "7"
    req = seen[0]
    assert req.url.path == "/connections/conn_x/proxy/1/Contacts/getInfo"
    assert req.url.params["search"] == "a b"
    assert req.headers["authorization"] == "Bearer tok0"
    assert req.headers["membrane-api-version"] == "2025-10-21"
    assert "tok0" not in repr(t)


def test_a_401_from_ontraport_is_not_a_token_problem():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            401, text="Your App ID and API Key do not authenticate.", headers={"content-type": "text/html"}
        )

    t = _proxy(handler)
    with pytest.raises(opd.MembraneSetupError, match="membrane connect --connectionId conn_x"):
        t.send("GET", "Contacts")
    assert t._tokens.refreshes == 0


def test_a_401_from_membrane_refreshes_once_then_says_log_in():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            401, json={"type": "bad_request", "key": "not_authenticated", "message": "expired"}
        )

    t = _proxy(handler)
    with pytest.raises(opd.MembraneSetupError, match="membrane login --tenant") as info:
        t.send("GET", "Contacts")
    assert t._tokens.refreshes == 1 and "tok0" not in str(info.value) and "tok1" not in str(info.value)


def test_membrane_errors_on_the_route_map_like_the_cli():
    answers = {
        "Contacts": httpx.Response(400, json={"code": "CONNECTION_DISCONNECTED", "message": "re-auth"}),
        "Tags": httpx.Response(500, json={"type": "internal", "message": "boom"}),
    }

    def handler(request: httpx.Request) -> httpx.Response:
        return answers[request.url.path.rsplit("/", 1)[-1]]

    t = _proxy(handler)
    with pytest.raises(opd.MembraneSetupError, match="not ready"):
        t.send("GET", "Contacts")
    assert t.send("GET", "Tags").status == 500  # a 5xx goes to the session, which retries reads


def test_a_dropped_connection_is_connection_failed():
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.RemoteProtocolError("socket hang up", request=request)

    with pytest.raises(opd.ConnectionFailed):
        _proxy(handler).send("GET", "Contacts")


# ------------------------------------------------------------------------------- request output readers


@pytest.mark.parametrize(
    ("printed", "status", "dialect"),
    [
        ({"status": 429, "headers": {"X-Rate-Limit-Reset": "3"}, "body": "slow down"}, 429, "response"),
        ({"code": 0, "data": []}, 200, "body"),
        ({"code": 404, "data": "no such"}, 404, "body"),
        ({"code": 7, "data": None}, 400, "body"),
        ("Invalid query", 400, "body"),
        ("Your App ID and API Key do not authenticate.", 401, "body"),
        ("You have exceeded your maximum rate limit of 180 requests per minute.", 429, "body"),
        ("<html>502 Bad Gateway</html>", 502, "body"),
    ],
)
def test_every_request_output_form(printed, status, dialect):
    raw = printed if isinstance(printed, str) else json.dumps(printed)
    value = None if isinstance(printed, str) else printed
    response, seen = request_response(value, raw)
    assert (response.status, seen) == (status, dialect)


# ------------------------------------------------------------------------------- readiness and detection


@pytest.mark.parametrize(
    ("record", "state"),
    [
        ({"state": "READY"}, "READY"),
        ({}, "READY"),
        ({"state": "READY", "disconnected": True}, "DISCONNECTED"),
        ({"state": "READY", "isDefunct": True}, "DEFUNCT"),
        ({"state": "ERROR"}, "ERROR"),
        ({"state": "DISCONNECTED"}, "DISCONNECTED"),
        ({"connected": False}, "DISCONNECTED"),
    ],
)
def test_readiness(record, state):
    from ontraport_pandas.transports.membrane import state_of

    assert state_of(record) == state


@pytest.mark.parametrize(
    ("record", "ontraport"),
    [
        ({"integrationKey": "ontraport"}, True),
        ({"integration": {"key": "ontraport", "name": "Ontraport"}}, True),
        ({"integrationKey": "hubspot", "name": "Ontraport copy"}, False),
        ({"name": "My Ontraport"}, True),
        ({"name": "Sales CRM"}, None),  # nothing tells, and no CLI to ask: the user must name it
    ],
)
def test_ontraport_detection_without_the_cli(record, ontraport):
    from ontraport_pandas.transports.membrane import is_ontraport

    assert is_ontraport(record) is ontraport


def test_a_stopped_proxy_is_no_longer_offered_as_the_api_uri(tmp_path):
    """While the route serves, the state names its URL (``membrane credentials`` gives it as
    ``apiUri``); once stopped, the state forgets it, so clients fall back to the CLI route."""
    from ontraport_pandas.sandbox.membrane_state import SimState

    home = init_home(tmp_path / "sim")
    with serve_proxy(home) as served:
        assert SimState(home).settings().get("proxy_url") == served.url
        assert served.url.startswith("http://127.0.0.1:") and "serving" in repr(served)
    assert SimState(home).settings().get("proxy_url") is None
    assert "stopped" in repr(served)
    served.shutdown()  # a second stop is harmless


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (httpx.ReadTimeout("slow"), opd.RequestTimeout),
        (httpx.ConnectError("refused"), opd.ConnectionFailed),
        (httpx.RemoteProtocolError("socket hang up"), opd.ConnectionFailed),
        (httpx.TooManyRedirects("loop"), opd.TransportError),
        (httpx.DecodingError("bad gzip"), opd.TransportError),
        (httpx.InvalidURL("no host"), opd.TransportError),  # not an httpx.HTTPError
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, Exception) else v.__name__,
)
@pytest.mark.parametrize("route", ["http", "membrane-proxy"])
def test_both_http_routes_map_httpx_errors_alike_and_keep_no_link_to_the_request(route, raised, expected):
    from ontraport_pandas.transports.http import HTTPTransport

    def handler(request: httpx.Request) -> httpx.Response:
        raise raised

    if route == "http":
        t: Any = HTTPTransport(
            "2_app", "s3cr3t-key", base_url="https://api.test/1/", transport=httpx.MockTransport(handler)
        )
    else:
        t = _proxy(handler)
    with pytest.raises(expected) as info:
        t.send("GET", "Contacts")
    err = info.value
    assert isinstance(err, opd.OntraportError) and not isinstance(err, httpx.HTTPError)
    assert (err.method, err.path) == ("GET", "Contacts") and type(raised).__name__ in str(err)
    if expected is opd.TransportError:  # not retried as a lost connection would be
        assert not isinstance(err, (opd.ConnectionFailed, opd.RequestTimeout))
    chain, seen = [], err.__cause__ or err.__context__
    while seen is not None:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    for link in chain:  # httpx's request (its headers hold the key or the token) is not reachable
        assert getattr(link, "_request", None) is None
    assert "s3cr3t-key" not in repr(err) and "tok0" not in repr(err)


def test_the_proxy_route_refuses_a_connection_to_another_app(served_home):
    token = json.loads(sim(served_home, "token", "--json").stdout)["token"]
    url = json.loads(sim(served_home, "credentials", "--json").stdout)["apiUri"]
    r = httpx.get(
        f"{url}/connections/conn_hubspot_demo/proxy/Contacts",
        params={"range": "1"},
        headers={"authorization": f"Bearer {token}"},
    )
    assert r.status_code == 400 and r.json()["type"] == "configuration"
    assert "firstname" not in r.text  # no Ontraport data through a HubSpot connection
    cli = MembraneCLI(SIM, env=env_for(served_home))
    proxy = MembraneProxyTransport("conn_hubspot_demo", api_uri=url, tokens=TokenSource(cli))
    try:
        with pytest.raises(opd.BadRequestError, match="only Ontraport") as info:
            proxy.send("GET", "Contacts", params={"range": 1})
        assert info.value.status == 400 and "configuration" in str(info.value)
    finally:
        proxy.close()
    by_cli = sim(served_home, "request", "conn_hubspot_demo", "/Contacts", "--json", check=False)
    assert by_cli.returncode == 1 and json.loads(by_cli.stdout)["type"] == "configuration"
