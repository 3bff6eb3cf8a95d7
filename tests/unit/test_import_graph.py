"""Layers import inward, and no two modules import each other, however indirectly.

The graph is read from the source (ast), counting every import: at module level,
inside functions and under ``TYPE_CHECKING`` alike, since each is a dependency.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import program

ROOT = Path(program.__file__).parent


def _modules() -> dict[str, tuple[Path, bool]]:
    found = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if package else parts)] = (path, package)
    return found


MODULES = _modules()


def _imports(name: str) -> set[str]:
    """The ``program`` modules one module imports."""
    path, package = MODULES[name]
    named: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            named.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                here = name.split(".") if package else name.split(".")[:-1]
                here = here[: len(here) - node.level + 1]
                base = ".".join(here + ([node.module] if node.module else []))
            for alias in node.names:
                # ``from program.api.graphql import lookups`` imports the module lookups.
                named.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
    out = set()
    for target in named:
        while target and target not in MODULES:
            target = target.rpartition(".")[0]
        if target and target != name:
            out.add(target)
    return out


GRAPH = {name: _imports(name) for name in MODULES}


def _cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(GRAPH[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    return found


def _in(name: str, *packages: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def _offending(layer: str, allowed: tuple[str, ...] = (), forbidden: tuple[str, ...] = ()) -> dict[str, set[str]]:
    out = {}
    for name, deps in GRAPH.items():
        if not _in(name, layer):
            continue
        bad = {d for d in deps if (forbidden and _in(d, *forbidden))
               or (allowed and not _in(d, *allowed))}
        if bad:
            out[name] = bad
    return out


def test_every_module_imports() -> None:
    for info in pkgutil.walk_packages(program.__path__, "program."):
        if not info.name.endswith(".__main__"):  # running it is what importing it does
            importlib.import_module(info.name)
    assert "program.application.ports" in MODULES  # the walk sees the source it imports


def test_modules_when_walked_have_no_import_cycle() -> None:
    assert _cycles() == []


def test_domain_when_walked_imports_only_itself() -> None:
    assert _offending("program.domain", allowed=("program.domain",)) == {}


def test_application_when_walked_imports_no_outer_layer() -> None:
    outer = ("program.api", "program.cli", "program.projections", "program.exports",
             "program.feeds", "program.bootstrap")
    assert _offending("program.application", forbidden=outer) == {}


def test_application_when_walked_reaches_the_store_only_through_its_ports() -> None:
    """The ports speak the store's vocabulary (records, errors, sealing), never a driver."""
    reach = {name: {d for d in deps if _in(d, "program.store")}
             for name, deps in GRAPH.items() if _in(name, "program.application")}
    assert {n: d for n, d in reach.items() if d and n != "program.application.ports"} == {}
    assert reach["program.application.ports"] <= {
        "program.store.errors", "program.store.records", "program.store.sealing"}
    for vocabulary in reach["program.application.ports"]:
        assert not _offending(vocabulary, allowed=("program.store.errors",))
