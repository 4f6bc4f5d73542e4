"""Fixtures for the sandbox tests: small apps, in-process httpx clients, a fake clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from sandbox_helpers import SMALL, client_for

from ontraport_pandas.sandbox import SandboxApp, SandboxConfig, create_app


@pytest.fixture(scope="session")
def shared_app() -> Iterator[SandboxApp]:
    """One read-only sandbox for tests that never write (faster than one per test)."""
    app = create_app(contacts=SMALL, rate_limit=None)
    yield app
    app.close()


@pytest.fixture
def ro(shared_app: SandboxApp) -> Iterator[httpx.Client]:
    """A client on the shared, read-only sandbox. Do not write through it."""
    with client_for(shared_app) as client:
        yield client


@pytest.fixture
def make_app() -> Iterator[Callable[..., SandboxApp]]:
    """Build fresh sandboxes (closed after the test); keyword arguments override the config."""
    apps: list[SandboxApp] = []

    def make(**overrides: Any) -> SandboxApp:
        overrides.setdefault("contacts", SMALL)
        overrides.setdefault("rate_limit", None)
        app = create_app(SandboxConfig(), **overrides)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.close()


@pytest.fixture
def app(make_app: Callable[..., SandboxApp]) -> SandboxApp:
    """A fresh writable sandbox."""
    return make_app()


@pytest.fixture
def api(app: SandboxApp) -> Iterator[httpx.Client]:
    """A client on a fresh writable sandbox."""
    with client_for(app) as client:
        yield client


@pytest.fixture(params=["in-process", "served"])
def both(request, make_app: Callable[..., SandboxApp]) -> Iterator[httpx.Client]:
    """A client on a fresh writable sandbox, in-process and over loopback HTTP (contract tests)."""
    from sandbox_helpers import AUTH

    from ontraport_pandas.sandbox import serve

    app = make_app()
    if request.param == "in-process":
        with client_for(app) as client:
            yield client
        return
    served = serve(app, port=0)
    try:
        with httpx.Client(base_url=served.url, headers=AUTH, timeout=30) as client:
            yield client
    finally:
        served.shutdown()
