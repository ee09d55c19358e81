"""The package's layers: every module imports only from its own layer or the layers below, and no
module imports itself back through others (no import cycle).

The layers, bottom up (the project's architecture note):

1. ``core``: metrics, PED, SA, statistics, evaluation, scoring, selection, published numbers;
2. ``machinery``: the benchmark settings, sources, zoo, targets, features, cell store,
   fine-tuning, the runner, timing;
3. ``analysis``: tables in, tables out (tests, ground truth, power, PED's options);
4. ``kit``: the book's page kit (tables, figures and words for the pages);
5. ``entry``: the command line, which opens settings and writes reports: nothing imports it.

The notebooks and ``book/`` sit above all of them. Every import of ``potran`` is read from the
syntax tree of every module, those inside functions included (they are dependencies too).
`KNOWN` lists the imports that break the rule today, each to be removed, and `KNOWN_CYCLES` the
cycles; the test fails on any other. (A listed one that is gone passes: several people edit the
package at once; prune the lists when they are.)
"""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "potran"
ORDER = ("core", "machinery", "analysis", "kit", "entry")

#: module (or package: it covers what lies under it) -> layer; the longest matching name wins
LAYERS = {
    "potran": "core",
    "potran.cli": "entry",               # the package: main, options, scoring, extract, bench, report
    "potran.__main__": "entry",
    "potran.bench": "machinery",
    "potran.bench.report": "analysis",
    "potran.bench.paper_analysis": "analysis",
    "potran.bench.intervals": "analysis",
    "potran.bench.significance": "analysis",
    "potran.bench.finetuned": "analysis",
    "potran.bench.readme": "analysis",
    "potran.bench.v3_data": "analysis",
    "potran.bench.v3_tests": "analysis",
    "potran.bench.v3_power": "analysis",
    "potran.bench.motion": "analysis",
    "potran.bench.ped_options": "analysis",
    "potran.bench.v4.design": "analysis",
    "potran.bench.v4.report": "analysis",
    "potran.bench.book": "kit",
    "potran.bench.plots": "kit",
}

#: imports against the layers that exist today (importer, imported): each is to be removed
KNOWN: set[tuple[str, str]] = set()
#: import cycles that exist today, each as the sorted tuple of its modules
KNOWN_CYCLES: set[tuple[str, ...]] = set()

#: issue 25's budget: no module over this many lines
MAX_LINES = 650
#: and the package, without benchmark v4's zoo (potran.bench.v4, which comes on top), in all
MAX_PACKAGE_LINES = 12_000
#: modules over the budget today, each to be split (a listed one that shrinks passes)
KNOWN_LONG: set[str] = set()


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def layer(module: str) -> str:
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        if ".".join(parts[:n]) in LAYERS:
            return LAYERS[".".join(parts[:n])]
    raise AssertionError(f"{module} is outside the package")


def _owner(name: str) -> str:
    """The module of ``name`` (a module, or a name inside one)."""
    while name not in MODULES and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def imports(module: str) -> set[str]:
    """The potran modules ``module`` imports (relative imports resolved)."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            found |= {f"{base}.{a.name}" for a in node.names} | {base}
    return {_owner(n) for n in found if n == "potran" or n.startswith("potran.")} - {module}


GRAPH = {m: imports(m) for m in MODULES}


def upward() -> set[tuple[str, str]]:
    return {(m, d) for m, deps in GRAPH.items() for d in deps
            if ORDER.index(layer(d)) > ORDER.index(layer(m))}


def cycles() -> set[tuple[str, ...]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), set()

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.add(tuple(sorted(component)))

    for v in GRAPH:
        if v not in index:
            visit(v)
    return out


def test_the_scan_reads_imports_of_every_kind():
    assert len(MODULES) > 50 and layer("potran.metrics.logme") == "core"
    assert "potran.bench.runner" in GRAPH["potran.bench.settings"]          # from .runner import ...
    assert "potran.resources" in GRAPH["potran.bench.settings"]             # from ..resources import ...
    assert "potran.bench.paper_setting" in GRAPH["potran.bench.settings"]   # inside a function
    assert "potran.bench.targets_v3" in GRAPH["potran.bench.settings"]      # from . import targets_v3
    assert layer("potran.bench.zoo.conv4") == "machinery" and layer("potran.cli") == "entry"


def test_imports_go_only_downward():
    found = upward()
    new = sorted(found - KNOWN)
    assert not new, "imports from a higher layer: " + "; ".join(
        f"{m} ({layer(m)}) imports {d} ({layer(d)})" for m, d in new)


def test_no_import_cycles():
    found = cycles()
    assert not found - KNOWN_CYCLES, f"import cycles: {sorted(found - KNOWN_CYCLES)}"


def test_no_module_over_the_line_budget():
    long = {m: n for m, p in MODULES.items()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    new = sorted(set(long) - KNOWN_LONG)
    assert not new, "modules over {} lines: {}".format(MAX_LINES, "; ".join(f"{m} ({long[m]})" for m in new))


def test_the_package_within_its_line_budget():
    lines = sum(len(p.read_text(encoding="utf-8").splitlines()) for m, p in MODULES.items()
                if not m.startswith("potran.bench.v4"))
    assert lines <= MAX_PACKAGE_LINES, f"potran/ without potran/bench/v4 has {lines} lines (budget {MAX_PACKAGE_LINES})"


def test_the_layer_check_catches_a_violation(monkeypatch):
    monkeypatch.setitem(GRAPH, "potran.stats", GRAPH["potran.stats"] | {"potran.bench.runner"})
    assert ("potran.stats", "potran.bench.runner") in upward()
    monkeypatch.setitem(GRAPH, "potran.bench.runner", GRAPH["potran.bench.runner"] | {"potran.stats"})
    monkeypatch.setitem(GRAPH, "potran.stats", GRAPH["potran.stats"] | {"potran.bench.runner"})
    assert any({"potran.stats", "potran.bench.runner"} <= set(c) for c in cycles())
