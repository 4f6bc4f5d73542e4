"""The example notebooks and report notebooks: generated in step with the API, run with nbclient on the sandbox."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import nbformat
import pytest

import ontraport_pandas as opd
from ontraport_pandas.errors import ConfigurationError, MembraneSetupError
from ontraport_pandas.notebook import (
    choice_of,
    connect_choice,
    new_notebook,
    provenance,
    report_notebook,
    run_notebook,
)

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NAMES = ("quickstart.ipynb", "bulk_cleanup.ipynb", "reports.ipynb")
SECRET = "opd-nb-secret-9d41c07be2"
TOKEN = "opd-nb-token-5a7e33f190"


def _build_module():
    spec = importlib.util.spec_from_file_location("notebooks_build", NOTEBOOKS / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def notebook_env(monkeypatch, tmp_path):
    """Kernels inherit this: the picker's memory and the push journals in temporary folders."""
    monkeypatch.setenv("ONTRAPORT_PANDAS_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("ONTRAPORT_PANDAS_MEMBRANE", str(tmp_path / "no-such-membrane"))


def _outputs(nb):
    for cell in nb.cells:
        if cell.cell_type == "code":
            yield from ((cell, o) for o in cell.outputs)


def _text(nb, cell_id: str) -> str:
    cell = next(c for c in nb.cells if c.get("id") == cell_id)
    parts = []
    for o in cell.outputs:
        if o.output_type == "stream":
            parts.append(o.text)
        elif "data" in o:
            parts.append(o.data.get("text/plain", ""))
    return "\n".join(parts)


def test_notebooks_are_what_build_py_makes_now():
    build = _build_module()
    built = build.build()
    assert set(built) == set(NAMES)
    for name, nb in built.items():
        assert (NOTEBOOKS / name).read_text(encoding="utf-8") == build.render(nb), (
            f"{name} is out of date: run python notebooks/build.py"
        )
        nbformat.validate(nbformat.reads(build.render(nb), as_version=4))
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
        parameters = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(parameters) == 1 and 'CONNECTION = "sandbox"' in parameters[0].source.replace("'", '"')
    assert build.main(["--check"]) == 0


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_top_to_bottom_on_the_sandbox(name, tmp_path):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    run_notebook(nb, cwd=tmp_path, timeout=120)  # raises CellExecutionError on the first error
    outputs = list(_outputs(nb))
    assert not [o for _, o in outputs if o.output_type == "error"]
    stderr = [o.text for _, o in outputs if o.output_type == "stream" and o.name == "stderr"]
    assert stderr == [], stderr  # no warnings either (e.g. tqdm falling back to text)
    # The loader's progress bars rendered as notebook widgets (tqdm.auto in a kernel).
    bars = [o for _, o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert bars
    if name == "quickstart.ipynb":
        assert "SANDBOX · Sandbox (demo data, in-process) · 2,000 contacts" in _text(nb, "quickstart-06")
        assert "firstname" in _text(nb, "quickstart-06")
        match = re.search(r"(\d+) rows fetched; pandas found (\d+)", _text(nb, "quickstart-12"))
        assert match and int(match[1]) == int(match[2]) > 0  # where= gave the rows pandas selects
    if name == "bulk_cleanup.ipynb":
        assert "firstname" in _text(nb, "cleanup-04")  # what the kit changed, per column
        assert "not a valid number" in _text(nb, "cleanup-05")  # invalid phones reported, not guessed
        assert "False" not in _text(nb, "cleanup-14")  # everything written
        assert "False" not in _text(nb, "cleanup-17")  # everything restored
        assert "deleted" in _text(nb, "cleanup-23") and "kept" in _text(nb, "cleanup-23")
        assert "False" not in _text(nb, "cleanup-25")  # merged: deleted, kept and tagged as planned
        assert "True" in _text(nb, "cleanup-27")  # the merge undone
    if name == "reports.ipynb":
        pngs = [o for _, o in outputs if "image/png" in o.get("data", {})]
        assert len(pngs) == 12  # the eleven reports, and one from the labelled frame keyed back
        written = _text(nb, "report-02")  # the snapshot written: every type, with its row count
        match = re.search(r"([\d,]+) records of (\d+) types", written)
        assert match and int(match[1].replace(",", "")) > 2000 and int(match[2]) >= 6
        assert all(re.search(rf"{t}\s+\d+\s+written", written) for t in ("contacts", "deals", "users"))
        assert all(n in _text(nb, "report-03") for n in ("string", "category"))  # typed as loaded
        assert re.search(r"contacts\s+2000\b", _text(nb, "report-05"))  # provenance of the read-back frames
        assert "$" in _text(nb, "report-07")  # the summary table, from the snapshot
        assert "First Name" in _text(nb, "report-33") and "firstname" not in _text(nb, "report-33")
        assert "keys back: True" in _text(nb, "report-34")
        match = re.search(r"([\d,]+) of 2,000 contacts have ([\d,]+) deals", _text(nb, "report-36"))
        assert match and int(match[2].replace(",", "")) > 0 and "deal_sales_stage" in _text(nb, "report-36")
        assert "all deals counted: True" in _text(nb, "report-38") and "sales_stage" in _text(nb, "report-38")


def test_report_notebook_without_execution_is_deterministic(tmp_path):
    store = tmp_path / "s.sqlite"
    op = opd.connect("sandbox", contacts=50, seed=3, rate_limit=None, path=str(store))
    first = report_notebook(tmp_path / "a.ipynb", client=op, where="bulk_mail == 'Opted-in'")
    second = report_notebook(client=op, where="bulk_mail == 'Opted-in'")
    assert nbformat.writes(first) == nbformat.writes(second)
    assert (tmp_path / "a.ipynb").read_text(encoding="utf-8").strip() == nbformat.writes(first).strip()
    params = next(c for c in first.cells if "parameters" in c.metadata.get("tags", []))
    assert "CONNECTION = 'sandbox'" in params.source
    assert "'seed': 3" in params.source and "'contacts': 50" in params.source
    assert repr(str(store.resolve())) in params.source  # the notebook reopens this very file
    assert (
        '"contacts": "bulk_mail == \'Opted-in\'"' in params.source
        or "'contacts': \"bulk_mail" in params.source
    )
    with pytest.raises(ValueError, match="unknown object type"):
        report_notebook(client=op, where={"widgets": "x == 1"})
    op.close()


def test_report_notebook_refuses_an_in_memory_sandbox_it_would_silently_replace(tmp_path):
    op = opd.connect("sandbox", contacts=50, rate_limit=None)
    try:
        with pytest.raises(ConfigurationError, match=r'path="demo.sqlite"') as info:
            report_notebook(tmp_path / "r.ipynb", client=op)
        assert "fresh demo data" in str(info.value)
        assert not (tmp_path / "r.ipynb").exists()
        opd.set_default_client(op)  # the default client is the same case
        with pytest.raises(ConfigurationError, match="memory"):
            report_notebook()
        nb = report_notebook(client=op, connection="sandbox")  # fresh demo data, asked for by name
        assert "CONNECTION = 'sandbox'" in nb.cells[1].source
    finally:
        opd.set_default_client(None)
        op.close()


def test_report_notebook_needs_a_choice_for_a_client_it_cannot_reopen(served_op):
    assert choice_of(served_op) is None
    with pytest.raises(ValueError, match="connection="):
        report_notebook(client=served_op)
    nb = report_notebook(client=served_op, connection="sandbox")
    assert "CONNECTION = 'sandbox'" in nb.cells[1].source


@pytest.mark.slow
def test_executed_report_has_provenance_charts_and_no_secret(monkeypatch, tmp_path):
    monkeypatch.setenv("ONTRAPORT_APP_ID", "2_opd_nb_app")
    monkeypatch.setenv("ONTRAPORT_API_KEY", SECRET)
    monkeypatch.setenv("MEMBRANE_TOKEN", TOKEN)
    op = opd.connect("sandbox", contacts=150, rate_limit=None, path=str(tmp_path / "state.sqlite"))
    path = tmp_path / "out" / "report.ipynb"
    where = "bulk_mail == 'Opted-in'"
    contacts = op.contacts(progress=False)
    # A change made in this process is what the report sees: it reopens the same file.
    opted_out = contacts.index[contacts["bulk_mail"] == "Opted-in"][:3]
    op.request("PUT", "Contacts", json={"id": int(opted_out[0]), "bulk_mail": 0})
    opted_in = int((op.contacts(progress=False)["bulk_mail"] == "Opted-in").sum())
    assert opted_in == int((contacts["bulk_mail"] == "Opted-in").sum()) - 1
    nb = report_notebook(path, client=op, execute=True, title="Test report", now="2026-11-01", where=where)
    text = path.read_text(encoding="utf-8")
    assert SECRET not in text and TOKEN not in text
    assert nbformat.read(path, as_version=4).cells[0].source.startswith("# Test report")
    provenance_text = _text(nb, "report-04")
    assert "[SANDBOX]" in provenance_text and "Sandbox (demo data, in-process)" in provenance_text
    assert f"contacts      {opted_in:>4}  {where}" in provenance_text
    assert len([o for _, o in _outputs(nb) if "image/png" in o.get("data", {})]) == 11
    assert "$" in _text(nb, "report-06")  # the summary table
    op.close()


@pytest.mark.slow
def test_run_notebook_scrubs_secret_values_from_outputs(monkeypatch, tmp_path):
    monkeypatch.setenv("ONTRAPORT_API_KEY", SECRET)
    nb = new_notebook(
        [
            ("code", "import os\nprint(os.environ['ONTRAPORT_API_KEY'])"),
            ("code", "{'key': os.environ['ONTRAPORT_API_KEY']}"),
        ],
        prefix="leak",
        title="leak",
    )
    run_notebook(nb, cwd=tmp_path, save_to=tmp_path / "leak.ipynb")
    saved = (tmp_path / "leak.ipynb").read_text(encoding="utf-8")
    assert SECRET not in saved and SECRET not in json.dumps(nb)
    assert "***" in _text(nb, "leak-00") and "***" in _text(nb, "leak-01")


def test_connect_choice_and_choice_of(monkeypatch):
    op = connect_choice("sandbox", sandbox_options={"contacts": 10, "rate_limit": None})
    assert choice_of(op) == "sandbox" and not op.live
    table = provenance(op, {"contacts": op.contacts(progress=False)})
    assert table.table.loc["contacts", "rows"] == 10 and table.mode == "SANDBOX"
    assert "SANDBOX" in table._repr_html_() and "contacts" in repr(table)
    op.close()
    with pytest.raises(ConfigurationError, match="ONTRAPORT_API_KEY"):
        connect_choice("env")
    with pytest.raises(ConfigurationError, match="Unknown connection choice"):
        connect_choice("postgres")
    with pytest.raises(MembraneSetupError, match="npm install"):
        connect_choice("membrane:conn_1")


def test_connect_choice_leaves_opd_connect_a_function():
    code = (
        "from ontraport_pandas.notebook import connect_choice\n"
        "connect_choice('sandbox', sandbox_options={'contacts': 5})\n"
        "import ontraport_pandas as opd\n"
        "print(callable(opd.connect))\n"
    )
    import subprocess

    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip() == "True"
