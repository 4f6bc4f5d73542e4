"""The ``ontraport-pandas`` command: ``sandbox serve`` answers like the API and stops on Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import httpx
import pytest

from ontraport_pandas.sandbox import DEMO_API_KEY, DEMO_APP_ID


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # as a shell starts a background job


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize(
    "sig, started_ignoring_sigint",
    [("SIGINT", False), ("SIGINT", True), ("SIGTERM", False)],
    ids=["ctrl-c", "ctrl-c-in-a-background-job", "sigterm"],
)
def test_sandbox_serve_answers_and_stops_on_ctrl_c(tmp_path, sig, started_ignoring_sigint):
    cmd = [sys.executable, "-m", "ontraport_pandas", "sandbox", "serve", "--port", "0", "--contacts", "60"]
    errors = tmp_path / "stderr.txt"
    env = {**os.environ, "PYTHONFAULTHANDLER": "1"}  # SIGABRT prints every thread's stack
    before = _ignore_sigint if started_ignoring_sigint else None
    with errors.open("w") as err:
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=err, text=True, env=env, preexec_fn=before
        )
    try:
        assert proc.stdout is not None
        url = None
        for _ in range(20):
            line = proc.stdout.readline()
            m = re.search(r"(http://127\.0\.0\.1:\d+/1/)", line)
            if m:
                url = m.group(1)
                break
        assert url is not None, "no base URL printed"
        headers = {"Api-Appid": DEMO_APP_ID, "Api-Key": DEMO_API_KEY}
        r = httpx.get(url + "Contacts", params={"range": 2}, headers=headers, timeout=10)
        body = r.json()
        assert r.status_code == 200 and body["code"] == 0 and len(body["data"]) == 2
        assert r.headers["X-Rate-Limit-Limit"] == "180"
        bad = httpx.get(url + "Contacts", headers={"Api-Appid": "x", "Api-Key": "y"}, timeout=10)
        assert bad.status_code == 401 and bad.text == "Your App ID and API Key do not authenticate."
        proc.send_signal(getattr(signal, sig))
        try:
            code = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGABRT)
            proc.wait(timeout=30)
            pytest.fail(f"the server did not stop on {sig}; its threads:\n{errors.read_text()[-4000:]}")
        assert code == 0, errors.read_text()[-2000:]
        assert "Stopped." in errors.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_version_and_help():
    out = subprocess.run(
        [sys.executable, "-m", "ontraport_pandas", "--help"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0 and "sandbox" in out.stdout and "demo" in out.stdout
