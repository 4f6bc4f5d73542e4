"""Hostile requests against the served sandbox: each is a plain-text 4xx, never a 500 or a hang.

Every test talks to a real socket on 127.0.0.1 (raw bytes where a well-behaved client could
not send the request) and stops the server on exit. Writes are checked by reading back.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest
from sandbox_helpers import AUTH, client_for

from ontraport_pandas.sandbox import SandboxApp, ServedSandbox, create_app, serve

CONDITION = '{"field":{"field":"id"},"op":"=","value":{"value":1}}'
HEADERS = "".join(f"{k}: {v}\r\n" for k, v in AUTH.items())


@pytest.fixture
def served() -> Iterator[ServedSandbox]:
    app = create_app(contacts=20, rate_limit=None, read_timeout=0.5, max_body=256 * 1024)
    with serve(app, port=0) as running:
        yield running
    app.close()


def _count(app: SandboxApp) -> int:
    with client_for(app) as client:
        return int(client.get("Contacts/getInfo").json()["data"]["count"])


def _raw(
    served: ServedSandbox, request: bytes, *, wait: float = 10.0, half_close: bool = False
) -> tuple[int, dict[str, str], str]:
    """Send bytes as they are; answer (status, lower-cased headers, body text)."""
    with socket.create_connection(("127.0.0.1", served.port), timeout=wait) as sock:
        sock.sendall(request)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        data = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        key, _, value = line.partition(":")
        headers[key.strip().lower()] = value.strip()
    return status, headers, body.decode("utf-8")


def _post(path: str, body: bytes, length: str | None = None, extra: str = "") -> bytes:
    size = str(len(body)) if length is None else length
    head = (
        f"POST /1/{path} HTTP/1.1\r\nHost: sandbox\r\n{HEADERS}Content-Type: application/json\r\n"
        f"Content-Length: {size}\r\n{extra}Connection: close\r\n\r\n"
    )
    return head.encode() + body


def _get(target: str) -> bytes:
    return f"GET /1/{target} HTTP/1.1\r\nHost: sandbox\r\n{HEADERS}Connection: close\r\n\r\n".encode()


def _plain(answer: tuple[int, dict[str, str], str], status: int, text: str) -> None:
    got_status, headers, body = answer
    assert (got_status, body) == (status, text)
    assert headers["content-type"].startswith("text/plain")
    assert "x-rate-limit-limit" in headers


@pytest.mark.parametrize(
    "target",
    [
        f"Contacts?start={10**30}",
        f"Contact?id={10**30}",
        f"Contacts?ids={10**30}",
        f"Contacts?range=5&start={2**63}",
        f"objects?objectID={10**30}&range=1",
    ],
)
def test_integers_beyond_64_bits_are_invalid_queries(served, target):
    status, _, body = _raw(served, _get(target))
    assert status == 400
    assert body in ("Invalid query", "Invalid objectID")


def test_largest_64_bit_start_is_an_empty_page(served):
    with httpx.Client(base_url=served.url, headers=AUTH) as client:
        response = client.get("Contacts", params={"start": 2**63 - 1})
    assert response.status_code == 200
    assert response.json()["data"] == []


def test_deeply_nested_json_body_is_refused_and_nothing_is_written(served):
    before = _count(served.app)
    deep = b'{"firstname":' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    _plain(_raw(served, _post("Contacts", deep)), 400, "Invalid request body")
    assert _count(served.app) == before


def test_json_body_at_the_depth_limit_is_read(served):
    # 512 levels is PHP's json_decode default: an (ignored) unknown field that deep still creates
    nested = "[" * 511 + "]" * 511
    body = f'{{"firstname":"Deep","email":"deep@limits.test","junk":{nested}}}'.encode()
    status, _, text = _raw(served, _post("Contacts", body))
    assert status == 200, text
    one_deeper = f'{{"firstname":"Deeper","junk":[{nested}]}}'.encode()
    _plain(_raw(served, _post("Contacts", one_deeper)), 400, "Invalid request body")
    with client_for(served.app) as client:
        found = client.get("Contacts", params={"search": "Deep", "listFields": "firstname"}).json()["data"]
    assert [row["firstname"] for row in found] == ["Deep"]


@pytest.mark.parametrize("legacy", [False, True])
def test_condition_nested_20000_deep_is_an_invalid_query(served, legacy):
    if legacy:
        condition = "(" * 20_000 + "id = 1" + ")" * 20_000
    else:
        condition = "[" * 20_000 + CONDITION + "]" * 20_000
    # brackets and parentheses unescaped, so the request line stays under 64 KiB
    target = f"Contacts?condition={quote(condition, safe='[](){}:,=')}"
    _plain(_raw(served, _get(target)), 400, "Invalid query")


def test_condition_nested_in_a_json_body_is_refused_before_deleting(served):
    before = _count(served.app)
    body = json.dumps({"condition": "[" * 20_000 + CONDITION + "]" * 20_000}).encode()
    request = body.join([b"", b""])
    head = (
        f"DELETE /1/Contacts HTTP/1.1\r\nHost: sandbox\r\n{HEADERS}Content-Type: application/json\r\n"
        f"Content-Length: {len(request)}\r\nConnection: close\r\n\r\n"
    ).encode()
    _plain(_raw(served, head + request), 400, "Invalid query")
    assert _count(served.app) == before


def test_moderate_nesting_and_long_flat_conditions_still_work(served):
    nested = "[" * 50 + CONDITION + "]" * 50
    flat = json.dumps(
        [
            item
            for n in range(1, 1500)
            for item in ("OR", {"field": {"field": "id"}, "op": "=", "value": {"value": n}})
        ][1:]
    )
    with httpx.Client(base_url=served.url, headers=AUTH) as client:
        deep = client.get("Contacts", params={"condition": nested, "listFields": "id"})
        assert deep.status_code == 200
        assert [row["id"] for row in deep.json()["data"]] == ["1"]
        # sent in a body: a 1,500-term flat OR must not hit SQLite's expression depth limit
        wide = client.request("DELETE", "Contacts", json={"condition": flat, "ids": "999999"})
        assert wide.status_code == 200, wide.text
    assert _count(served.app) == 20


def test_huge_content_length_is_413_without_reading(served):
    before = _count(served.app)
    _plain(_raw(served, _post("Contacts", b"{}", length=str(10**15))), 413, "Request Entity Too Large")
    assert _count(served.app) == before


def test_body_over_the_limit_is_413(served):
    before = _count(served.app)
    big = json.dumps({"firstname": "x" * (300 * 1024)}).encode()
    _plain(_raw(served, _post("Contacts", big)), 413, "Request Entity Too Large")
    assert _count(served.app) == before


@pytest.mark.parametrize("length", ["abc", "-5", "12abc", "1e3", " ", "+10", "０", "21\r\nContent-Length: 5"])
def test_invalid_content_length_creates_nothing(served, length):
    before = _count(served.app)
    body = b'{"firstname":"Blank"}'
    status, _, text = _raw(served, _post("Contacts", body, length=length))
    assert status == 400
    assert text in ("Invalid Content-Length", "Bad Request")
    assert _count(served.app) == before


def test_body_shorter_than_its_length_times_out_with_408(served):
    before = _count(served.app)
    # the socket stays open: the server must give up after read_timeout, not hold a thread
    _plain(_raw(served, _post("Contacts", b'{"firstname":"Short"}', length="100")), 408, "Request Timeout")
    assert _count(served.app) == before
    # and the server still answers others
    with httpx.Client(base_url=served.url, headers=AUTH) as client:
        assert client.get("Tags", params={"range": 1}).status_code == 200


def test_body_cut_short_by_the_client_is_400(served):
    before = _count(served.app)
    request = _post("Contacts", b'{"firstname":"Cut"}', length="100")
    _plain(_raw(served, request, half_close=True), 400, "Incomplete request body")
    assert _count(served.app) == before


def test_chunked_body_without_length_is_411(served):
    before = _count(served.app)
    head = (
        f"POST /1/Contacts HTTP/1.1\r\nHost: sandbox\r\n{HEADERS}Content-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    body = b'15\r\n{"firstname":"Chunk"}\r\n0\r\n\r\n'
    _plain(_raw(served, head.encode() + body), 411, "Length Required")
    assert _count(served.app) == before


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("firstname", ["a", "b"]),
        ("email", ["a@b.test"]),
        ("firstname", {"nested": 1}),
        ("zip", [1]),
        ("bulk_mail", [1]),
        ("birthday", [1700000000]),
    ],
)
def test_arrays_and_objects_in_scalar_fields_are_refused(served, field, value):
    before = _count(served.app)
    with httpx.Client(base_url=served.url, headers=AUTH) as client:
        created = client.post("Contacts", json={"firstname": "Arr", field: value})
        assert (created.status_code, created.text) == (400, f"Invalid value for field {field}")
        updated = client.put("Contacts", json={"id": 1, field: value})
        assert (updated.status_code, updated.text) == (400, f"Invalid value for field {field}")
        # a list field still takes an array
        tagged = client.put("Contacts", json={"id": 1, "contact_cat": [1, 2]})
        assert tagged.status_code == 200
        stored = client.get("Contact", params={"id": 1}).json()["data"]
    assert _count(served.app) == before
    assert stored["contact_cat"] == "*/*1*/*2*/*"
    assert stored["firstname"] != "Arr"


def test_too_many_parameters_is_400(served):
    many = "&".join(f"p{n}=1" for n in range(1001))
    _plain(_raw(served, _get(f"Contacts?{many}")), 400, "Too many parameters")
    form = "&".join(f"p{n}=1" for n in range(1001)).encode()
    head = (
        f"POST /1/Contacts HTTP/1.1\r\nHost: sandbox\r\n{HEADERS}"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(form)}\r\nConnection: close\r\n\r\n"
    ).encode()
    before = _count(served.app)
    _plain(_raw(served, head + form), 400, "Too many parameters")
    assert _count(served.app) == before
    ok = "&".join(f"p{n}=1" for n in range(999))
    assert _raw(served, _get(f"Contacts?range=1&{ok}"))[0] == 200


def test_limits_apply_in_process_too():
    with create_app(contacts=5, rate_limit=None, max_body=100) as app, client_for(app) as client:
        assert client.post("Contacts", content=b"{" + b" " * 200 + b"}").status_code == 413
        bad = client.post("Contacts", content=b'{"firstname":"x"}', headers={"content-length": "abc"})
        assert (bad.status_code, bad.text) == (400, "Invalid Content-Length")
        short = client.post("Contacts", content=b'{"firstname":"x"}', headers={"content-length": "50"})
        assert (short.status_code, short.text) == (400, "Incomplete request body")
        with client_for(app) as reader:
            assert reader.get("Contacts/getInfo").json()["data"]["count"] == "5"


def test_request_line_over_64_kib_is_a_plain_414(served):
    status, headers, body = _raw(served, _get("Contacts?x=" + "a" * 70_000))
    assert status == 414
    assert headers["content-type"].startswith("text/plain")
    assert "<html" not in body.lower()


def test_headers_that_never_end_free_the_thread(served):
    # a client that stops half-way through its headers is disconnected after read_timeout
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as sock:
        sock.sendall(f"GET /1/Tags HTTP/1.1\r\nHost: sandbox\r\n{HEADERS}".encode())
        assert sock.recv(65536) == b""
    with httpx.Client(base_url=served.url, headers=AUTH) as client:
        assert client.get("Tags", params={"range": 1}).status_code == 200
