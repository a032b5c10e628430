"""The shape of the code, read from the source with ast: who imports whom, and module size.

* the import graph of ``models/`` and ``bench/`` has no cycle;
* ``models`` never imports ``bench``;
* ``bench.report`` (and what it imports) imports no ``jax``;
* no module imports another module's private (``_name``) name;
* no module of ``bench/`` is over :data:`MAX_LINES` lines.
"""

from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGES = ("models", "bench")
#: One concern a module: the longest a bench module may grow.
MAX_LINES = 450


def _module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, pathlib.Path]:
    return {_module_name(p): p for package in PACKAGES
            for p in sorted((ROOT / package).rglob("*.py"))}


MODULES = _modules()


def _resolve(module: str, node: ast.ImportFrom) -> str:
    """The absolute module of a ``from ... import`` in ``module``."""
    if not node.level:
        return node.module or ""
    package = module.split(".")
    if not MODULES[module].name == "__init__.py":
        package = package[:-1]
    base = package[: len(package) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(module: str) -> list[tuple[str, str, str | None]]:
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(module, alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, node)
            for alias in node.names:
                found.append((module, target, alias.name))
    return found


IMPORTS = [edge for module in MODULES for edge in _imports(module)]


def _internal(target: str, name: str | None) -> str | None:
    """The module of ours an import reaches (``from bench import catalog`` -> bench.catalog)."""
    if name and f"{target}.{name}" in MODULES:
        return f"{target}.{name}"
    while target and target not in MODULES:
        target = target.rpartition(".")[0]
    return target or None


GRAPH: dict[str, set[str]] = {module: set() for module in MODULES}
for _importer, _target, _name in IMPORTS:
    _reached = _internal(_target, _name)
    if _reached and _reached != _importer:
        GRAPH[_importer].add(_reached)


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of the graph, or None (depth-first search, three colours)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        state[node] = 2
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def _reachable(start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(GRAPH[node])
    return seen


def test_the_graph_is_read_from_the_source():
    # The test would pass on an empty graph: make sure it sees the edges it must.
    assert "bench.catalog" in GRAPH["bench.cases"]
    assert "bench.report.tables" in GRAPH["bench.report.sentences"]
    assert "models._glm" in GRAPH["models.glm"]
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_no_import_cycle():
    assert _cycle(GRAPH) is None


def test_models_never_import_bench():
    offenders = [(importer, target) for importer, target, _ in IMPORTS
                 if importer.startswith("models") and target.split(".")[0] == "bench"]
    assert offenders == []


def test_reporting_imports_no_jax():
    reporting = {m for m in MODULES if m.startswith("bench.report")}
    assert len(reporting) >= 8
    reached = set().union(*(_reachable(m) for m in reporting))
    offenders = sorted({(importer, target) for importer, target, _ in IMPORTS
                        if importer in reached and target.split(".")[0] in ("jax", "jaxlib")})
    assert offenders == [], f"reporting reaches JAX through {offenders}"
    assert "bench.catalog" in reached and "bench.record" in reached


def _package(module: str) -> str:
    return module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]


def _private_uses(module: str) -> list[tuple[str, str]]:
    """``alias._name`` attribute reads in ``module`` on a module of ours it imported."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    aliases = {}
    for _, target, name in _imports(module):
        reached = _internal(target, name)
        if reached and (name is None or reached == f"{target}.{name}"):
            aliases[name or target.split(".")[0]] = reached
    return [(module, f"{aliases[node.value.id]}.{node.attr}") for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
            and node.value.id in aliases and node.attr.startswith("_")
            and not node.attr.startswith("__")]


def test_no_module_imports_another_modules_private_name():
    offenders = []
    for importer, target, name in IMPORTS:
        reached = _internal(target, name)
        if reached is None:
            continue
        if name is not None and name.startswith("_") and reached != f"{target}.{name}":
            offenders.append((importer, f"{target}.{name}"))  # a private name
        private = any(part.startswith("_") for part in reached.split("."))
        if private and _package(reached) != _package(importer) and not (
                reached.rpartition(".")[0] == _package(importer)):
            offenders.append((importer, reached))  # another package's private module
    offenders += [use for module in MODULES for use in _private_uses(module)]
    assert offenders == []


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("bench")))
def test_no_bench_module_is_over_the_limit(module):
    lines = MODULES[module].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"{module} has {lines} lines; split it by concern"


def test_publishing_and_comparing_load_no_jax_at_run_time():
    import subprocess
    import sys

    code = ("import sys, bench.report, bench.report.plots\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('jax', 'jaxlib')))")
    completed = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                               text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "[]"
