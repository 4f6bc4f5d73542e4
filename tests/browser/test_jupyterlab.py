"""quickstart.ipynb in a real JupyterLab, driven by Playwright through the system Chromium.

Needs ``/usr/bin/chromium`` and the Python packages ``jupyterlab`` and ``playwright``
(``.ci/install-browser`` installs them; ``playwright install`` is never run). The
server binds 127.0.0.1 on a free port with a token, in a temporary root folder, and is
stopped at the end. A screenshot is saved to ``tests/browser/artifacts/quickstart.png``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
SANDBOX_LABEL = "Sandbox (demo data)"


def _missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing (run .ci/install-browser)"
    for module in ("jupyterlab", "playwright"):
        if importlib.util.find_spec(module) is None:
            return f"the Python package {module} is missing (run .ci/install-browser)"
    return None


if (_reason := _missing()) is not None:
    if os.environ.get(
        "ONTRAPORT_PANDAS_REQUIRE_BROWSER"
    ):  # .ci/run sets it: there a skip would hide a failure
        raise RuntimeError(f"the browser test cannot run: {_reason}")
    pytest.skip(_reason, allow_module_level=True)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def jupyterlab(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """JupyterLab on 127.0.0.1 with a copy of quickstart.ipynb; yields (base URL, token)."""
    root = tmp_path / "root"
    root.mkdir()
    shutil.copy(ROOT / "notebooks" / "quickstart.ipynb", root / "quickstart.ipynb")
    settings = tmp_path / "lab-settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    # Render every cell (no windowing), so the test can find the cells below the fold.
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    notifications = tmp_path / "lab-settings" / "@jupyterlab" / "apputils-extension"
    notifications.mkdir(parents=True)
    (notifications / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    port, token = _free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "lab-settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "lab-workspaces"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTER_CONFIG_DIR": str(tmp_path / "jupyter-config"),
        "ONTRAPORT_PANDAS_CONFIG_DIR": str(tmp_path / "opd-config"),
        "ONTRAPORT_PANDAS_JOURNAL_DIR": str(tmp_path / "journal"),
        "ONTRAPORT_PANDAS_MEMBRANE": str(tmp_path / "no-such-membrane"),
    }
    log = (tmp_path / "jupyterlab.log").open("wb")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
            "--ServerApp.open_browser=False",
            "--LabApp.news_url=",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.extension_manager=readonly",  # no PyPI queries from the extension manager
            *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),
        ],
        cwd=root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: the kernels it starts stop with it
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if server.poll() is not None:
                pytest.fail(
                    f"JupyterLab exited ({server.returncode}): {(tmp_path / 'jupyterlab.log').read_text()[-2000:]}"
                )
            try:
                if httpx.get(f"{base}/api/status", params={"token": token}, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("JupyterLab did not answer within 90 s")
            time.sleep(0.3)
        yield base, token
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=10)
        try:  # kernels it started, if any outlived it
            os.killpg(server.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        log.close()


def _run_cell(page, cell) -> None:
    """Run one code cell as a user does (click into it, Shift+Enter) and wait until it finished."""
    import re

    from playwright.sync_api import expect

    prompt = cell.locator(".jp-InputArea-prompt")
    for _attempt in range(3):
        cell.locator(".jp-InputArea-editor").click()
        page.keyboard.press("Shift+Enter")
        try:  # queued ("[*]") or done ("[n]"); a key press lost while the page settles is retried
            expect(prompt).not_to_have_text(re.compile(r"^\[ \]"), timeout=10_000)
            break
        except AssertionError:
            continue
    expect(prompt).to_have_text(re.compile(r"\[\d+\]"), timeout=90_000)


def test_quickstart_picker_and_loading_cell_in_jupyterlab(jupyterlab):
    from playwright.sync_api import expect, sync_playwright

    base, token = jupyterlab
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1800})
            page.set_default_timeout(60_000)
            page.goto(f"{base}/lab/tree/quickstart.ipynb?token={token}")
            notebook = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook")
            expect(notebook).to_be_visible()
            expect(page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first).to_be_attached(
                timeout=90_000
            )
            expect(page.locator(".jp-StatusBar-Widget").filter(has_text="Idle").first).to_be_visible(
                timeout=90_000
            )
            cells = notebook.locator(".jp-Cell")
            expect(cells).to_have_count(18)

            # Run the parameters, imports and picker cells.
            for index in (1, 2, 4):
                _run_cell(page, cells.nth(index))
            picker = cells.nth(4).locator(".jp-OutputArea .widget-dropdown select")
            expect(picker).to_be_visible()

            # Pick the sandbox in the dropdown, as a user would.
            picker.select_option(label=SANDBOX_LABEL)
            status = cells.nth(4).locator(".jp-OutputArea .widget-html-content").filter(has_text="contacts")
            expect(status).to_contain_text("SANDBOX", timeout=90_000)
            expect(status).to_contain_text("2,000 contacts")

            # Run the loading cell: it uses the picked client.
            loading = cells.nth(6)
            expect(loading).to_contain_text("picker.client is None")
            _run_cell(page, loading)
            output = loading.locator(".jp-OutputArea")
            expect(output).to_contain_text(
                "SANDBOX · Sandbox (demo data, in-process) · 2,000 contacts", timeout=90_000
            )
            frame = output.locator("table.dataframe")
            expect(frame).to_be_visible()
            expect(frame).to_contain_text("firstname")
            expect(frame).to_contain_text("email")
            expect(
                loading.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
            ).to_have_count(0)
            loading.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "quickstart.png"), full_page=True)
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "quickstart-failure.png"), full_page=True)
            raise
        finally:
            browser.close()
    assert (ARTIFACTS / "quickstart.png").stat().st_size > 10_000
