"""Faults, latency, the request log, and serving over loopback."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time

import httpx
import pytest
from sandbox_helpers import AUTH, client_for, cond

from ontraport_pandas.sandbox import DroppedConnection, SandboxConfig, create_app, serve


@pytest.mark.parametrize(("kind", "status"), [("500", 500), ("502", 502), ("503", 503), ("429", 429)])
def test_injected_error_faults(app, kind, status):
    app.inject_faults(kind, count=2)
    with client_for(app) as client:
        for _ in range(2):
            response = client.get("Contacts", params={"range": 1})
            assert response.status_code == status
            assert response.headers["content-type"].startswith("text/plain")
            assert "x-rate-limit-reset" in response.headers
        assert client.get("Contacts", params={"range": 1}).status_code == 200
    assert [entry[2] for entry in app.request_log] == [status, status, 200]


def test_injected_drop_raises_in_process(app):
    app.inject_faults("drop")
    with client_for(app) as client:
        with pytest.raises(DroppedConnection):
            client.get("Contacts")
        assert client.get("Contacts", params={"range": 1}).status_code == 200
    assert [entry[2] for entry in app.request_log] == [0, 200]


def test_timeout_fault_sleeps_then_answers(make_app):
    app = make_app(contacts=10, fault_sleep=0.3)
    app.inject_faults("timeout")
    with client_for(app) as client:
        started = time.perf_counter()
        assert client.get("Tags", params={"range": 1}).status_code == 200
        assert time.perf_counter() - started >= 0.3


def test_inject_unknown_fault_kind_fails():
    with pytest.raises(ValueError):
        SandboxConfig(fault_kinds=("boom",))


def test_random_faults_are_reproducible(make_app):
    def statuses() -> list[int]:
        app = make_app(contacts=5, fault_rate=0.5, fault_kinds=("500", "503"), fault_seed=7)
        with client_for(app) as client:
            return [client.get("Tags", params={"range": 1}).status_code for _ in range(30)]

    first, second = statuses(), statuses()
    assert first == second
    assert {200, 500, 503} == set(first)


def test_request_log_and_reset(app):
    with client_for(app) as client:
        client.get("Contacts", params={"range": 1})
        client.post("Contacts", json={"firstname": "x"})
        with client_for(app, headers={}) as anonymous:
            anonymous.get("Tags")
    assert app.request_log == [
        ("GET", "/1/Contacts?range=1", 200),
        ("POST", "/1/Contacts", 200),
        ("GET", "/1/Tags", 401),
    ]
    app.reset_log()
    assert app.request_log == []


def test_served_answers_like_in_process(app):
    with (
        serve(app, port=0) as served,
        httpx.Client(base_url=served.url, headers=AUTH) as remote,
        client_for(app) as local,
    ):
        assert served.url.startswith("http://127.0.0.1:") and served.url.endswith("/1/")
        for path, params in [
            ("Contacts", {"range": 5, "sort": "email", "listFields": "id,email,contact_cat"}),
            ("Contact", {"id": 3}),
            ("Contacts/meta", {}),
            ("Transactions/getInfo", {}),
            ("Contact", {"id": 999_999}),
        ]:
            a, b = local.get(path, params=params), remote.get(path, params=params)
            assert (a.status_code, a.content, a.headers["content-type"]) == (
                b.status_code,
                b.content,
                b.headers["content-type"],
            )
        response = remote.post("Contacts", json={"firstname": "Over", "email": "over@loopback.test"})
        assert response.json()["data"]["firstname"] == "Over"
        assert (
            local.get("object/getByEmail", params={"objectID": 0, "email": "over@loopback.test"}).status_code
            == 200
        )
    # the app is the caller's: still usable after the server stopped
    with client_for(app) as local:
        assert local.get("Tags", params={"range": 1}).status_code == 200


def test_served_drop_is_a_disconnect_without_bytes(app):
    with serve(app, port=0) as served, httpx.Client(base_url=served.url, headers=AUTH) as client:
        app.inject_faults("drop")
        with pytest.raises(httpx.RemoteProtocolError):
            client.get("Contacts")
        assert client.get("Contacts", params={"range": 1}).status_code == 200


def test_served_requests_run_concurrently(make_app):
    # A request held by a long "timeout" fault must not block the next one.
    app = make_app(contacts=10, fault_sleep=20.0)
    app.inject_faults("timeout")
    with serve(app, port=0) as served:
        slow_done = threading.Event()

        def slow() -> None:
            with httpx.Client(base_url=served.url, headers=AUTH, timeout=30) as client:
                client.get("Tags", params={"range": 1})
            slow_done.set()

        thread = threading.Thread(target=slow, daemon=True)
        thread.start()
        time.sleep(0.5)  # let the slow request reach the server first (it takes the injected fault)
        with httpx.Client(base_url=served.url, headers=AUTH, timeout=30) as client:
            assert client.get("Tags", params={"range": 1}).status_code == 200
        assert not slow_done.is_set()  # answered while the slow request was still held


def test_served_timeout_fault_is_a_client_timeout(make_app):
    app = make_app(contacts=10, fault_sleep=1.0)
    with serve(app, port=0) as served, httpx.Client(base_url=served.url, headers=AUTH, timeout=0.2) as client:
        app.inject_faults("timeout")
        with pytest.raises(httpx.ReadTimeout):
            client.get("Tags")


def test_served_is_quiet(capfd, caplog):
    with caplog.at_level(logging.WARNING), serve(SandboxConfig(contacts=10), port=0) as served:
        with httpx.Client(base_url=served.url, headers=AUTH) as client:
            client.get("Tags")
            served.app.inject_faults("drop")
            with pytest.raises(httpx.RemoteProtocolError):
                client.get("Tags")
            client.get("Nope")
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    assert not caplog.records


def test_serve_shutdown_is_idempotent_and_closes_its_own_app():
    served = serve(SandboxConfig(contacts=5), port=0)
    assert "serving" in repr(served)
    served.shutdown()
    served.shutdown()
    with pytest.raises(RuntimeError):
        with client_for(served.app) as client:
            client.get("Tags")


def test_create_app_overrides():
    app = create_app(SandboxConfig(seed=3), contacts=12, rate_limit=None)
    assert (app.config.seed, app.config.contacts, app.config.rate_limit) == (3, 12, None)
    app.close()


def test_in_process_requests_from_many_threads(app):
    errors: list[str] = []

    def work(worker: int) -> None:
        with client_for(app) as client:
            for i in range(10):
                created = client.post(
                    "Contacts", json={"firstname": f"T{worker}-{i}", "email": f"t{worker}.{i}@x.test"}
                )
                new_id = created.json()["data"]["id"]
                updated = client.put("Contacts", json={"id": new_id, "lastname": "Threaded"})
                read = client.get(
                    "Contacts", params={"condition": cond(("lastname", "=", "Threaded")), "count": "true"}
                )
                for response in (created, updated, read):
                    if response.status_code != 200:
                        errors.append(response.text)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with client_for(app) as client:
        count = client.get("Contacts/getInfo", params={"condition": cond(("lastname", "=", "Threaded"))})
        assert count.json()["data"]["count"] == "60"


def test_processes_sharing_a_file_share_state_and_the_rate_limit(tmp_path):
    path = str(tmp_path / "multi.sqlite")
    script = f"""
import httpx
from ontraport_pandas.sandbox import create_app, DEMO_APP_ID, DEMO_API_KEY
app = create_app(path={path!r}, contacts=20, rate_limit=5)
client = httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://sandbox/1/",
                      headers={{"Api-Appid": DEMO_APP_ID, "Api-Key": DEMO_API_KEY}})
print(client.post("Contacts", json={{"firstname": "FromChild"}}).json()["data"]["id"])
print(client.get("Tags").headers["x-rate-limit-remaining"])
"""
    first = create_app(path=path, contacts=20, rate_limit=5)
    try:
        with client_for(first) as client:
            assert client.get("Tags").headers["x-rate-limit-remaining"] == "4"
            child = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
            assert child.returncode == 0, child.stderr
            new_id, remaining = child.stdout.split()
            assert (new_id, remaining) == ("21", "2")
            assert client.get("Contact", params={"id": 21}).json()["data"]["firstname"] == "FromChild"
            assert client.get("Tags").headers["x-rate-limit-remaining"] == "0"  # the 5th of the shared window
            assert client.get("Tags").status_code == 429
    finally:
        first.close()


def test_served_sandbox_keeps_the_connection_alive_and_closes_it_when_asked(make_app):
    import http.client
    from urllib.parse import urlsplit

    app = make_app(contacts=10)
    with serve(app, port=0) as served:
        url = urlsplit(served.url)
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
        try:
            socks = []
            for path in ("Contacts/getInfo", "Contacts?range=2", "Contact?id=3", "Nope"):
                conn.request("GET", f"/1/{path}", headers=AUTH)
                response = conn.getresponse()
                body = response.read()
                assert response.version == 11 and body
                assert conn.sock is not None  # the server left the connection open
                socks.append(conn.sock)
            assert all(s is socks[0] for s in socks)  # four answers over one connection
            conn.request("GET", "/1/Tags?range=1", headers={**AUTH, "Connection": "close"})
            response = conn.getresponse()
            assert response.status == 200 and response.read()
            assert response.will_close and conn.sock is None
        finally:
            conn.close()
        # A dropped answer closes the connection; the next request on a new one is answered.
        with httpx.Client(base_url=served.url, headers=AUTH) as client:
            assert client.get("Contacts", params={"range": 1}).status_code == 200
            app.inject_faults("drop")
            with pytest.raises(httpx.RemoteProtocolError):
                client.get("Contacts")
            assert client.get("Contacts", params={"range": 1}).status_code == 200
    assert [entry[2] for entry in app.request_log][-3:] == [200, 0, 200]
