"""The package's modules import each other without circles, counting imports inside functions too
(a circle hidden behind a function-level import is still a circle: issue #15, item 8), and
nothing outside a family's own module imports a family's formulas by name."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import clvmodels

ROOT = Path(clvmodels.__file__).parent


def _modules() -> dict[str, Path]:
    found = {}
    for path in ROOT.rglob("*.py"):
        name = ".".join(("clvmodels", *path.relative_to(ROOT).with_suffix("").parts))
        found[name.removesuffix(".__init__")] = path
    return found


def _imports(path: Path, known) -> set[str]:
    """Modules of the package imported anywhere in ``path`` (module, class or function level)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        else:
            continue
        out.update(n for n in names if n in known)
    return out


def _graph():
    modules = _modules()
    packages = {name for name, path in modules.items() if path.name == "__init__.py"}
    graph = defaultdict(set)
    for name, path in modules.items():
        # package __init__ files only re-export lazily (PEP 562): not edges of the graph
        graph[name] = {m for m in _imports(path, modules) if m != name and m not in packages}
    return graph


def _cycles(graph) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
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

    for v in list(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_circles_even_through_function_level_imports():
    graph = _graph()
    assert len(graph) > 100  # not vacuous: the whole package was read
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_planted_circle():
    graph = {**_graph(), "clvmodels.models.purchase": {"clvmodels.value.customer_value"}}
    graph["clvmodels.value.customer_value"] = {"clvmodels.models.purchase"}
    assert ["clvmodels.models.purchase", "clvmodels.value.customer_value"] in _cycles(graph)


def test_family_formulas_are_imported_only_by_family_modules():
    """Outside formulas/, families/ and the Bayes kernels, no module imports a purchase family's
    formulas (value, reactivation, models, plotting, export, CLI and Spark go through
    ``model.family``)."""
    modules = _modules()
    # (formulas.individual is left out: it also holds the Gamma-Gamma spend samplers the spend
    # model uses and a generic geometric draw)
    family_formulas = {f"clvmodels.formulas.{n}" for n in (
        "bgnbd", "mbgnbd", "paretonbd", "bgbb", "individual_mbgnbd", "individual_paretonbd",
        "bgnbd_alive_time", "population")}
    allowed = ("clvmodels.formulas", "clvmodels.families", "clvmodels.inference.bayes")
    offenders = {name: sorted(_imports(path, modules) & family_formulas)
                 for name, path in modules.items() if not name.startswith(allowed)}
    assert {k: v for k, v in offenders.items() if v} == {}
