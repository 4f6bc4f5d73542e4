"""Helpers shared by the sandbox tests (imported by ``conftest.py`` and the test modules)."""

from __future__ import annotations

import json
from typing import Any

import httpx

from ontraport_pandas.sandbox import DEMO_API_KEY, DEMO_APP_ID, SandboxApp

SMALL = 300
AUTH = {"Api-Appid": DEMO_APP_ID, "Api-Key": DEMO_API_KEY}


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def client_for(app: SandboxApp, *, headers: dict[str, str] | None = None) -> httpx.Client:
    return httpx.Client(
        transport=httpx.WSGITransport(app=app),
        base_url="http://sandbox/1/",
        headers=AUTH if headers is None else headers,
    )


def cond(*items: Any) -> str:
    """A ``condition`` parameter from (field, op, value) triples and "AND"/"OR" strings."""
    out: list[Any] = []
    for item in items:
        if isinstance(item, str):
            out.append(item)
            continue
        name, op, value = item
        if op in ("IN", "NOT IN"):
            out.append({"field": {"field": name}, "op": op, "value": {"list": [{"value": v} for v in value]}})
        elif op in ("IS", "IS NOT"):
            out.append({"field": {"field": name}, "op": op, "value": "NULL"})
        else:
            out.append({"field": {"field": name}, "op": op, "value": {"value": value}})
    return json.dumps(out)
