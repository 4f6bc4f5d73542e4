"""The layering of design.md, checked on the source: nothing above ``transports/`` imports a concrete
transport (only :mod:`ontraport_pandas._connect`, the factory behind ``opd.connect``, builds them)."""

from __future__ import annotations

import ast
from pathlib import Path

import ontraport_pandas

PACKAGE = Path(ontraport_pandas.__file__).parent
#: What a module above the transports may use of them: the interface, never a backend.
ALLOWED = {"ontraport_pandas.transports", "ontraport_pandas.transports.base"}
FACTORY = {"_connect.py"}


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every module ``path`` imports, at the top or inside a function, as absolute names."""
    package = "ontraport_pandas" + "".join(f".{p}" for p in path.relative_to(PACKAGE).parent.parts)
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            found.append((node.lineno, name))
            found += [(node.lineno, f"{name}.{alias.name}") for alias in node.names]
    return found


def test_no_module_above_the_transports_imports_a_concrete_transport():
    offenders = []
    for path in sorted(PACKAGE.glob("*.py")):
        if path.name in FACTORY:
            continue
        for line, name in _imports(path):
            if name.startswith("ontraport_pandas.transports") and not any(
                name == ok or (name.startswith(ok + ".") and ok.endswith(".base")) for ok in ALLOWED
            ):
                offenders.append(f"{path.name}:{line} imports {name}")
    assert offenders == []


def test_the_check_sees_a_lazy_import_inside_a_function():
    """The scan reads imports inside functions too (a lazy import is still an import)."""
    sample = PACKAGE / "widgets.py"
    names = {name for _, name in _imports(sample)}
    assert "ontraport_pandas._connect.connections" in names
