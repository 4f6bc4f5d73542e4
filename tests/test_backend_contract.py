"""One contract, every backend: the same calls give the same frames, counts, errors and writes whether
requests go into the sandbox in-process, over loopback HTTP, through the Membrane CLI (a subprocess per
request) or through the Membrane proxy route (HTTP with a token from ``membrane token``).

All four read and write one SQLite file (the membrane simulator's sandbox), so every answer must agree
with the in-process reference, dtypes included.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import ontraport_pandas as opd
from ontraport_pandas.sandbox import DEMO_API_KEY, DEMO_APP_ID, SandboxConfig, serve
from ontraport_pandas.sandbox.membrane_proxy import serve_proxy

from .membrane_fixtures import CONTACTS, DEMO, copy_home, init_home, membrane_client, sim

BACKENDS = ["sandbox", "http", "membrane-cli", "membrane-proxy"]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = init_home(tmp_path_factory.mktemp("contract") / "sim")
    sim(home, "sim", "dialect", "proxy")  # tokens and the proxy route, as Membrane documents them
    return home


class Backends:
    """Clients of every backend over one simulator home (its sandbox file), closed together."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.file = str(home / "sandbox.sqlite")
        self.reference = opd.connect("sandbox", path=self.file, rate_limit=None)
        self._served = serve(SandboxConfig(path=self.file, contacts=CONTACTS, rate_limit=None), port=0)
        self._proxy = serve_proxy(home)
        self.clients: dict[str, Any] = {
            "sandbox": opd.connect("sandbox", path=self.file, rate_limit=None),
            "http": opd.connect(self._served.url, app_id=DEMO_APP_ID, api_key=DEMO_API_KEY),
            "membrane-cli": membrane_client(home, DEMO, mode="cli"),
            "membrane-proxy": membrane_client(home, DEMO, mode="proxy"),
        }

    def close(self) -> None:
        for client in self.clients.values():
            client.close()
        self.reference.close()
        self._proxy.shutdown()
        self._served.shutdown()


@pytest.fixture(scope="module")
def backends(template: Path) -> Iterator[Backends]:
    both = Backends(template)
    try:
        yield both
    finally:
        both.close()


def _bare(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out.attrs = {}
    return out


def test_each_backend_is_what_it_says(backends):
    kinds = {name: type(op.transport).__name__ for name, op in backends.clients.items()}
    assert kinds == {
        "sandbox": "HTTPTransport",
        "http": "HTTPTransport",
        "membrane-cli": "MembraneTransport",
        "membrane-proxy": "MembraneProxyTransport",
    }
    assert backends.clients["http"].transport.name.startswith("Sandbox served at http://127.0.0.1:")
    assert not any(op.live for op in backends.clients.values())  # all on the sandbox's demo data


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("object_type", ["contacts", "deals", "tasks", "tags"])
def test_every_backend_loads_the_same_typed_frame(backends, backend, object_type):
    expected = _bare(backends.reference.frame(object_type, progress=False))
    got = _bare(backends.clients[backend].frame(object_type, progress=False))
    pd.testing.assert_frame_equal(got, expected, check_dtype=True)


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_backend_counts_and_filters_alike(backends, backend):
    op = backends.clients[backend]
    where = "bulk_mail == 'Opted-in' and id > 10"
    expected = _bare(backends.reference.contacts(where=where, fields=["email", "bulk_mail"], progress=False))
    got = _bare(op.contacts(where=where, fields=["email", "bulk_mail"], progress=False))
    pd.testing.assert_frame_equal(got, expected)
    assert op.count("contacts", where=where) == len(expected) > 0
    assert op.count("contacts") == CONTACTS


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_backend_maps_errors_alike(backends, backend):
    op = backends.clients[backend]
    with pytest.raises(opd.NotFoundError):
        op.request("GET", "Contact", params={"id": 999_999})
    with pytest.raises(opd.APIError) as info:
        op.request(
            "GET",
            "Contacts",
            params={"condition": '[{"field":{"field":"nope"},"op":"=","value":{"value":"1"}}]'},
        )
    assert not isinstance(info.value, opd.NotFoundError)


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_backend_writes_what_the_sandbox_then_holds(tmp_path, template, backend, monkeypatch):
    monkeypatch.setenv("ONTRAPORT_PANDAS_JOURNAL_DIR", str(tmp_path / "journals"))
    mine = Backends(copy_home(template, tmp_path))
    try:
        op = mine.clients[backend]
        contacts = op.contacts(where="id <= 3", progress=False)
        edited = contacts.assign(lastname=[f"Contract {backend} {i}" for i in contacts.index])
        new = pd.DataFrame(
            {
                "firstname": ["Newrow"],
                "lastname": [f"Contract {backend} new"],
                "email": [f"{backend}@example.com"],
            },
            index=pd.Index([pd.NA], dtype="Int64", name="id"),
        )
        result = op.plan(pd.concat([edited, new])).apply()
        assert result.ok, result.frame
        every = mine.reference.contacts(fields=["lastname", "email"], progress=False)
        back = every[every["lastname"].str.startswith(f"Contract {backend}", na=False)]
        assert sorted(back["lastname"]) == sorted([*edited["lastname"], f"Contract {backend} new"])
        assert back.loc[back["lastname"] == f"Contract {backend} new", "email"].tolist() == [
            f"{backend}@example.com"
        ]
        assert mine.reference.count("contacts") == CONTACTS + 1
    finally:
        mine.close()
