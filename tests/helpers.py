"""Test helpers: a client over the sandbox app through an ``httpx.MockTransport`` handler for exact faults."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from ontraport_pandas.client import Ontraport
from ontraport_pandas.sandbox import DEMO_API_KEY, DEMO_APP_ID
from ontraport_pandas.session import RetryPolicy, Session
from ontraport_pandas.transports.http import HTTPTransport, _SandboxWSGITransport


def client_over(
    app: object,
    handler_wrapper: Callable[[httpx.Request], httpx.Response | None] | None = None,
    workers: int = 4,
) -> Ontraport:
    """A client whose requests go to ``handler_wrapper`` first (it may answer or raise), then to the sandbox."""
    wsgi = _SandboxWSGITransport(app=app)

    def handler(request: httpx.Request) -> httpx.Response:
        if handler_wrapper is not None:
            result = handler_wrapper(request)
            if result is not None:
                return result
        return wsgi.handle_request(request)

    transport = HTTPTransport(
        DEMO_APP_ID,
        DEMO_API_KEY,
        base_url="http://sandbox.invalid/1/",
        transport=httpx.MockTransport(handler),
        live=False,
    )
    session = Session(
        transport,
        retry=RetryPolicy(attempts=5, backoff=0.01, max_backoff=0.05, verify_delay=0.2),
        max_workers=workers,
    )
    op = Ontraport(transport, session=session)
    op.sandbox = app
    return op


def mutating_client(app, ids, *, at: int = 50) -> tuple[Ontraport, Ontraport]:
    """A one-worker client whose load sees ``ids`` deleted and one contact (late@example.com) created
    when it asks for the page at ``start=at``; and the plain client that made the changes."""
    helper = client_over(app)
    state = {"done": False}

    def mutate(request: httpx.Request) -> None:
        if (
            request.url.path == "/1/Contacts"
            and request.url.params.get("start") == str(at)
            and not state["done"]
        ):
            state["done"] = True
            helper.request("DELETE", "Contacts", params={"ids": ",".join(map(str, ids))})
            helper.request("POST", "Contacts", json={"firstname": "Late", "email": "late@example.com"})
        return None

    return client_over(app, mutate, workers=1), helper
