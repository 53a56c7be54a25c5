"""The layering stays: checked on the import graph of suite/, built with ast.

- the lab stands alone (``python -m suite.lab serve``): it imports nothing from the
  suite's other packages, only the shared leaf modules (``suite.quantity``), which
  import nothing from the suite themselves;
- ``report`` reads the capability catalogue from ``suite.capabilities``, never from
  ``checks``;
- no two parts of ``suite/`` (its subpackages and top-level modules) import each other,
  directly or around a longer loop, and no two modules do.

Imports under ``if TYPE_CHECKING:`` are left out: they name types for the checker and
never run. Imports inside functions count: they run, only later.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterator
from pathlib import Path

import pytest

SUITE = Path(__file__).resolve().parents[1] / "suite"


def _module_name(path: Path) -> str:
    parts = list(path.with_suffix("").relative_to(SUITE.parent).parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    guarded: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            guarded.update(id(inner) for stmt in node.body for inner in ast.walk(stmt))
    return guarded


def _imports(path: Path, module: str, modules: Collection[str],
             top_level_only: bool = False) -> Iterator[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    guarded = _type_checking_nodes(tree)
    for node in (tree.body if top_level_only else ast.walk(tree)):
        if id(node) in guarded:
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            for alias in node.names:
                # `from suite.vm import acquire` depends on the module suite.vm.acquire;
                # `from suite.vm import NAME` on the package itself
                yield f"{target}.{alias.name}" if f"{target}.{alias.name}" in modules else target


def _graph() -> dict[str, set[str]]:
    paths = {_module_name(p): p for p in SUITE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for module, path in paths.items():
        graph[module] = {t for t in _imports(path, module, paths)
                         if t in paths and t != module}
    return graph


GRAPH = _graph()


def _part(module: str) -> str:
    """The subpackage or top-level module of suite/ a module belongs to."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "suite"


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
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
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _edges(source: str, target: str) -> list[str]:
    return sorted(f"{m} -> {t}" for m, targets in GRAPH.items() for t in targets
                  if _part(m) == source and _part(t) == target)


def test_the_graph_is_the_real_one() -> None:
    assert len(GRAPH) > 100
    assert "suite.checks.base" in GRAPH["suite.checks.expand"]
    assert "suite.lab.lab" in GRAPH["suite.session"]  # a lazy import inside a method


LEAVES = ("suite.capabilities", "suite.quantity", "suite.strictyaml")


def test_the_lab_imports_nothing_from_the_rest_of_the_suite() -> None:
    outside = sorted(f"{m} -> {t}" for m, targets in GRAPH.items() if _part(m) == "lab"
                     for t in targets if _part(t) != "lab" and t not in LEAVES)
    assert not outside, "\n".join(outside)


@pytest.mark.parametrize("leaf", LEAVES)
def test_leaves_import_nothing_from_the_suite(leaf: str) -> None:
    assert not GRAPH[leaf]


def test_report_does_not_import_checks() -> None:
    assert not _edges("report", "checks")


def test_no_cycle_between_parts_of_the_suite() -> None:
    parts: dict[str, set[str]] = {}
    for module, targets in GRAPH.items():
        parts.setdefault(_part(module), set()).update(
            _part(t) for t in targets if _part(t) != _part(module))
    loops = _cycles(parts)
    detail = [f"{a} -> {b}: {_edges(a, b)[:3]}" for loop in loops for a in loop for b in loop
              if b in parts.get(a, ())]
    assert not loops, f"{loops}\n" + "\n".join(detail)


# Known cycles, each closed only by an import inside a function; to fix, not to copy.
# boot dispatches to the QEMU runtime, which reuses boot's helpers: move the helpers
# (guest_config, link_disks, _secret_reader) to a module of their own.
KNOWN_CYCLES = [["suite.lab.compute.boot", "suite.lab.compute.qemu.boot"]]


def test_no_cycle_between_modules() -> None:
    loops = [loop for loop in _cycles(GRAPH) if loop not in KNOWN_CYCLES]
    assert not loops, "\n".join(" <-> ".join(loop) for loop in loops)


def test_known_cycles_close_only_at_run_time() -> None:
    """Each known cycle still has an import-time direction only one way."""
    for loop in KNOWN_CYCLES:
        module_level = {m: {t for t in _imports(SUITE.parent / (m.replace(".", "/") + ".py"),
                                                m, GRAPH, top_level_only=True)
                            if t in GRAPH} for m in loop}
        assert _cycles(module_level) == [], loop


def test_test_modules_have_unique_names() -> None:
    """pytest's default import mode imports a test folder's modules by their bare names
    (the folders are not packages), so two test files of one name stop `pytest tests`
    at collection ("import file mismatch")."""
    tests = SUITE.parent / "tests"
    seen: dict[str, list[str]] = {}
    for path in tests.rglob("*.py"):
        if path.name not in ("conftest.py", "__init__.py"):
            seen.setdefault(path.name, []).append(str(path.relative_to(tests)))
    clashes = {name: paths for name, paths in seen.items() if len(paths) > 1}
    assert not clashes, clashes

