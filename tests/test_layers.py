"""The package's layers, read from its imports (every ``import`` statement, those inside functions too):
no module imports itself back through others, and only the web layer (``rkg.web``), the front
(``rkg.serve``) and the command line know Flask, Werkzeug or the web layer."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from support.paths import ROOT

PACKAGE = ROOT / "server" / "rkg"
WEB_SIDE = ("rkg.web", "rkg.serve", "rkg.cli", "rkg.__main__")
"""Modules allowed to know HTTP frameworks and the web layer."""
HTTP = ("flask", "werkzeug", "rkg.web")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Absolute names of the modules ``path`` imports (relative imports resolved; ``from . import x``
    gives the submodule when there is one)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            out.add(target)
            for a in node.names:
                sub = f"{target}.{a.name}"
                if (PACKAGE.parent / (sub.replace(".", "/") + ".py")).exists() or \
                        (PACKAGE.parent / sub.replace(".", "/") / "__init__.py").exists():
                    out.add(sub)
    return out


MODULES = {module_name(p): imports_of(p) for p in sorted(PACKAGE.rglob("*.py"))}


def internal(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    return {m: {t for t in deps if t in graph and t != m and not m.startswith(t + ".") and t != "rkg"}
            for m, deps in graph.items()}


def test_no_import_cycle() -> None:
    """Depth-first search for a cycle among the package's modules (a package's ``__init__`` importing its
    own submodules is not one)."""
    graph = internal(MODULES)
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for t in sorted(graph[m]):
            if state.get(t) == 1:
                cycle = stack[stack.index(t):] + [t]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if t not in state:
                visit(t)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)


@pytest.mark.parametrize("module", sorted(m for m in MODULES if not m.startswith(WEB_SIDE)))
def test_engine_side_knows_no_http(module: str) -> None:
    known = {t for t in MODULES[module] if t.startswith(HTTP)}
    assert not known, f"{module} imports {sorted(known)}: the engine side must not know the web layer"
