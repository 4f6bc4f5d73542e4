"""Shared fixtures: a clean environment, small sandboxes in-process and served on loopback."""

from __future__ import annotations

import pytest

import ontraport_pandas as opd

SMALL = 300


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch, tmp_path):
    for name in ("ONTRAPORT_APP_ID", "ONTRAPORT_API_KEY", "ONTRAPORT_PANDAS_MEMBRANE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ONTRAPORT_PANDAS_JOURNAL_DIR", str(tmp_path / "journal"))
    monkeypatch.setenv("ONTRAPORT_PANDAS_CACHE_DIR", str(tmp_path / "cache"))
    from ontraport_pandas.context import set_default_client

    set_default_client(None)
    yield
    set_default_client(None)


@pytest.fixture
def op():
    """An in-process sandbox client with a small data set and no rate limit."""
    client = opd.connect("sandbox", contacts=SMALL, rate_limit=None)
    yield client
    client.close()


@pytest.fixture
def served():
    """A sandbox served on 127.0.0.1 (a free port), stopped after the test."""
    from ontraport_pandas.sandbox import SandboxConfig, serve

    server = serve(SandboxConfig(contacts=SMALL, rate_limit=None), port=0)
    yield server
    server.shutdown()


@pytest.fixture
def served_op(served):
    from ontraport_pandas.sandbox import DEMO_API_KEY, DEMO_APP_ID

    client = opd.connect(served.url, app_id=DEMO_APP_ID, api_key=DEMO_API_KEY)
    yield client
    client.close()


@pytest.fixture(scope="module")
def template_home(tmp_path_factory):
    """A Membrane simulator state (120 contacts, no rate limit), once per test module."""
    from .membrane_fixtures import new_home

    return new_home(tmp_path_factory, "membrane-template")


@pytest.fixture
def home(tmp_path, template_home):
    """A fresh copy of the Membrane simulator state for one test."""
    from .membrane_fixtures import copy_home

    return copy_home(template_home, tmp_path)
