"""The shape of the code, checked: which package may import which, no import cycles, no
dynamic imports that would hide the wiring (DESIGN.md "Folders"; README "What is where")."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("protocols", "common", "edge", "central", "simulators", "grainlink")

# package → the packages of ours it may import (besides itself)
ALLOWED = {
    "protocols": set(),
    "common": set(),
    "edge": {"protocols", "common"},
    "central": {"protocols", "common"},
    "simulators": {"protocols", "common"},
    "grainlink": {"protocols", "common", "edge", "central", "simulators"},
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "node_modules" not in path.parts:
                found[module_name(path)] = path
    return found


def imported_names(path: Path, name: str) -> list[tuple[str, int]]:
    """(absolute module name, line) for every import in the file, wherever it stands."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join(anchor + ([base] if base else []))
            out.append((base, node.lineno))
            # `from pkg import module` imports a module too
            out.extend((f"{base}.{alias.name}", node.lineno) for alias in node.names)
    return out


def graph() -> dict[str, set[str]]:
    mods = modules()
    edges: dict[str, set[str]] = {m: set() for m in mods}
    for name, path in mods.items():
        for target, _line in imported_names(path, name):
            if target in mods and target != name:
                edges[name].add(target)
    return edges


def test_packages_import_only_what_the_design_allows():
    wrong = []
    for name, path in modules().items():
        own = name.split(".")[0]
        for target, line in imported_names(path, name):
            top = target.split(".")[0]
            if top in PACKAGES and top != own and top not in ALLOWED[own]:
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
    assert wrong == []


def test_no_import_cycles():
    edges = graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in edges[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    # a package importing its own submodules from __init__ is how packages work, not a cycle
    cycles = [c for c in cycles if not _package_init_only(c)]
    assert cycles == []


def _package_init_only(component: list[str]) -> bool:
    return all(any(other.startswith(m + ".") or m.startswith(other + ".")
                   for other in component if other != m) for m in component)


@pytest.mark.parametrize("package", ["edge", "central"])
def test_no_dynamic_imports(package):
    hidden = []
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                fn = node.func
                called = fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", "")
                if called in {"import_module", "__import__"}:
                    hidden.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert hidden == []
