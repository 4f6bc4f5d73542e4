"""The examples in the public API's docstrings run against the sandbox (design.md: "numpydoc docstrings on
the public API; examples run against the sandbox"), so they cannot drift from what the code does."""

from __future__ import annotations

import doctest
import importlib

import pandas as pd
import pytest

import ontraport_pandas as opd

MODULES = [
    "ontraport_pandas",
    "ontraport_pandas._connect",
    "ontraport_pandas.client",
    "ontraport_pandas.session",
    "ontraport_pandas.notebook",
    "ontraport_pandas.reports",
    "ontraport_pandas.widgets",
    "ontraport_pandas.plan",
    "ontraport_pandas.result",
    "ontraport_pandas.query",
    "ontraport_pandas.schema",
    "ontraport_pandas.eta",
    "ontraport_pandas.clean",
    "ontraport_pandas.labels",
    "ontraport_pandas.accessor",
    "ontraport_pandas.spreadsheet",
    "ontraport_pandas.snapshot",
    "ontraport_pandas.duplicates",
    "ontraport_pandas.joins",
    "ontraport_pandas.bulk",
]


def _examples() -> list[doctest.DocTest]:
    finder = doctest.DocTestFinder(exclude_empty=True)
    found = []
    for name in MODULES:
        module = importlib.import_module(name)
        for test in finder.find(module, name):
            if test.examples and test.name.startswith(name):
                found.append(test)
    return found


EXAMPLES = _examples()


def test_the_public_api_has_examples_to_run():
    assert len(EXAMPLES) >= 10


@pytest.mark.parametrize("test", EXAMPLES, ids=[t.name for t in EXAMPLES])
def test_docstring_example_runs_against_the_sandbox(test, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    monkeypatch.setenv("ONTRAPORT_PANDAS_JOURNAL_DIR", str(tmp_path / "journals"))
    op = opd.connect("sandbox", contacts=200, rate_limit=None)
    test.globs = {"opd": opd, "pd": pd, "op": op, **test.globs}
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    failures: list[str] = []
    try:
        result = runner.run(test, out=lambda s: failures.append(s))
    finally:
        op.close()
    assert result.failed == 0, "".join(failures)
