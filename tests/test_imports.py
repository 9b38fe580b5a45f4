"""The package's import graph: no module imports one that imports it, and the
collector's state (collector.py) sits below everything that answers requests.

Imports are read from the source with ast, lazy ones inside functions and
TYPE_CHECKING ones included: a cycle there is still a cycle for a reader.
"""

from __future__ import annotations

import ast
from pathlib import Path

import consentpixel

SERVER = Path(consentpixel.__file__).parent
PACKAGE = "consentpixel"


def module_of(path: Path) -> str:
    parts = path.relative_to(SERVER).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join((PACKAGE, *parts))


MODULES = {module_of(path): path for path in SERVER.rglob("*.py")}


def target(name: str) -> str:
    """The package module an imported name lives in: itself, or its longest prefix."""
    while name not in MODULES:
        name = name.rpartition(".")[0]
    return name


def imported_by(module: str) -> set[str]:
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            names = [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        found |= {target(name) for name in names
                  if name == PACKAGE or name.startswith(PACKAGE + ".")}
    return found - {module}


GRAPH = {module: imported_by(module) for module in MODULES}


def reachable(start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for child in GRAPH[todo.pop()] - seen:
            seen.add(child)
            todo.append(child)
    return seen


def test_the_graph_is_read() -> None:
    assert "consentpixel.collector" in GRAPH["consentpixel.app"]
    assert "consentpixel.serving" in GRAPH["consentpixel.cli"]  # imported where it runs
    assert "consentpixel.store.base" in GRAPH["consentpixel.store.sqlite"]
    assert "consentpixel.templating" in GRAPH["consentpixel.audit.report"]
    assert GRAPH["consentpixel.audit.checks"] >= {"consentpixel.ingest",
                                                  "consentpixel.attribution"}


def test_no_module_imports_one_that_imports_it() -> None:
    cycles = [f"{module} -> {other} -> … -> {module}" for module in sorted(GRAPH)
              for other in sorted(GRAPH[module]) if module in reachable(other) | {other}]
    assert cycles == []


def test_the_collectors_state_imports_nothing_that_answers_requests() -> None:
    above = {f"{PACKAGE}.{name}" for name in ("app", "api", "dashboard", "metrics", "serving",
                                              "cli")}
    assert reachable(f"{PACKAGE}.collector") & above == set()


def test_the_admin_endpoints_reach_the_state_through_collector_only() -> None:
    for name in ("api", "dashboard", "metrics"):
        imports = GRAPH[f"{PACKAGE}.{name}"]
        assert f"{PACKAGE}.collector" in imports and f"{PACKAGE}.app" not in imports, name
