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


# -- no circles: "Imports point downward only. No circles." (design.md) ---------------------------------


def _module_name(path: Path) -> str:
    parts = ["ontraport_pandas", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}


class _RuntimeImports(ast.NodeVisitor):
    """The package modules a module imports when it runs: at the top or inside functions (a lazy
    import is still an import), but not under ``if TYPE_CHECKING:`` (annotations only)."""

    def __init__(self, module: str, is_package: bool) -> None:
        self.base = module.split(".") if is_package else module.split(".")[:-1]
        self.found: dict[str, int] = {}

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        if (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
            isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
        ):
            for child in node.orelse:
                self.visit(child)
            return
        self.generic_visit(node)

    def _add(self, name: str, line: int) -> None:
        if name in MODULES:
            self.found.setdefault(name, line)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node.lineno)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            base = self.base[: len(self.base) - node.level + 1]
            name = ".".join(base + ([node.module] if node.module else []))
        else:
            name = node.module or ""
        for alias in node.names:  # ``from . import accessor`` imports the submodule
            if f"{name}.{alias.name}" in MODULES:
                self._add(f"{name}.{alias.name}", node.lineno)
                break
        else:
            self._add(name, node.lineno)


def _runtime_imports(module: str) -> dict[str, int]:
    path = MODULES[module]
    visitor = _RuntimeImports(module, path.name == "__init__.py")
    visitor.visit(ast.parse(path.read_text(encoding="utf-8")))
    visitor.found.pop(module, None)
    return visitor.found


def _cycle(graph: dict[str, dict[str, int]]) -> list[str] | None:
    """One import circle of ``graph`` (module -> {imported module: line}) as a path, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, {})):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start)
            if found:
                return found
    return None


def test_no_import_circle_in_the_package_lazy_imports_included():
    # The package's __init__ loads its parts on first use (its __getattr__): an edge from a module up to
    # the package is the package itself, which every submodule's import runs first anyway.
    graph = {m: {t: ln for t, ln in _runtime_imports(m).items() if t != "ontraport_pandas"} for m in MODULES}
    circle = _cycle(graph)
    where = (
        " -> ".join(f"{a} (line {graph[a][b]})" for a, b in zip(circle, circle[1:], strict=False))
        if circle
        else ""
    )
    assert circle is None, f"import circle: {where} -> {circle[-1] if circle else ''}"


def test_the_circle_check_finds_a_circle_through_a_lazy_import_and_skips_type_checking_imports():
    assert _cycle({"a": {"b": 1}, "b": {"c": 2}, "c": {"a": 3}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b": 1}, "b": {"c": 2}, "c": {}}) is None
    plan = _runtime_imports("ontraport_pandas.plan")
    assert "ontraport_pandas.client" not in plan  # under TYPE_CHECKING only
    assert "ontraport_pandas.update_cells" in plan
    loader = _runtime_imports("ontraport_pandas.loader")
    assert "ontraport_pandas.schema" in loader  # imported inside a function
    assert "ontraport_pandas.accessor" in _runtime_imports("ontraport_pandas.client")  # ``from . import x``
