"""Helpers and fixtures for the Membrane tests: the simulator run as a real subprocess.

Test modules define their fixtures with these helpers (``new_home``, ``copy_home``):
a shared conftest is not used, so the Membrane tests stay self-contained.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ontraport_pandas._connect import connect_membrane
from ontraport_pandas.transports.membrane import MembraneTransport

#: The simulator, run exactly as the toolkit runs the real CLI.
SIM = [sys.executable, "-m", "ontraport_pandas.sandbox.membrane"]
DEMO = "conn_ontraport_demo"
PENDING = "conn_ontraport_pending"
HUBSPOT = "conn_hubspot_demo"
CONTACTS = 120


def sim(home: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run one simulator command with ``MEMBRANE_SIM_HOME=home``."""
    env = {**os.environ, "MEMBRANE_SIM_HOME": str(home)}
    proc = subprocess.run([*SIM, *args], capture_output=True, text=True, env=env, timeout=120)
    if check and proc.returncode != 0:
        raise AssertionError(f"sim {args} failed ({proc.returncode}): {proc.stdout}\n{proc.stderr}")
    return proc


def sim_json(home: Path, *args: str) -> Any:
    return json.loads(sim(home, *args).stdout)


def init_home(home: Path, *extra: str) -> Path:
    sim(home, "sim", "init", "--contacts", str(CONTACTS), "--rate-limit", "none", *extra)
    return home


def env_for(home: Path) -> dict[str, str]:
    return {"MEMBRANE_SIM_HOME": str(home)}


def transport(home: Path, connection: str = DEMO, **kw: Any) -> MembraneTransport:
    return MembraneTransport(connection, command=SIM, env=env_for(home), live=False, **kw)


def membrane_client(home: Path, connection: str | bool = DEMO, **kw: Any) -> Any:
    return connect_membrane(connection, command=SIM, env=env_for(home), **kw)


def new_home(tmp_path_factory: pytest.TempPathFactory, name: str = "membrane") -> Path:
    """A simulator state (120 contacts, no rate limit) in a new temporary folder."""
    return init_home(tmp_path_factory.mktemp(name) / "sim")


def copy_home(template: Path, tmp_path: Path) -> Path:
    """A copy of a prepared simulator state (cheaper than seeding a new one)."""
    target = tmp_path / "sim"
    shutil.copytree(template, target)
    return target
