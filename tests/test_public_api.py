"""The public surface: every exported name resolves, and the package stays light to import."""

from __future__ import annotations

import subprocess
import sys

import ontraport_pandas as opd


def test_every_exported_name_resolves():
    for name in opd.__all__:
        assert getattr(opd, name) is not None, name
    assert callable(opd.connect) and callable(opd.connections) and callable(opd.report_notebook)
    assert issubclass(opd.ValidationError, opd.OntraportError)


def test_connect_is_never_shadowed_by_a_module():
    code = "import ontraport_pandas._connect, ontraport_pandas as opd; print(callable(opd.connect))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "True"


def test_importing_the_package_does_not_import_pandas_or_extras():
    # The sandbox server and the membrane simulator start fast because of this.
    code = (
        "import sys, ontraport_pandas\n"
        "print(sorted(m for m in ('pandas', 'httpx', 'ipywidgets', 'matplotlib', 'nbformat', 'tqdm') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"
