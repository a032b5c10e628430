"""The shape of the code, read from the source with ast: who imports whom, and module size.

* the import graph of ``models/`` and ``bench/`` has no cycle;
* ``models`` never imports ``bench``;
* ``bench.report`` imports no ``jax``, nor does anything it imports, when imported: the
  report's own modules import none anywhere, even inside a function; the modules they
  reach (the catalog and its family modules) may hold JAX code in functions that the report
  never calls (a family's adapter imports JAX when it is called), and publishing a run is
  run to check that it loads none;
* no module imports another module's private (``_name``) name;
* the report's code names no catalog model: a sentence or table about a particular model
  lives with its family (:mod:`bench.families`), and the report reads the families'
  properties and the catalog's flags;
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


def _nodes(tree: ast.AST, *, on_import: bool):
    """Every node of ``tree``; with ``on_import``, not those inside a function's body
    (what runs when the module is imported)."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        if on_import and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        todo.extend(ast.iter_child_nodes(node))


def _imports(module: str, *, on_import: bool = False) -> list[tuple[str, str, str | None]]:
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    found = []
    for node in _nodes(tree, on_import=on_import):
        if isinstance(node, ast.Import):
            found += [(module, alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, node)
            for alias in node.names:
                found.append((module, target, alias.name))
    return found


IMPORTS = [edge for module in MODULES for edge in _imports(module)]
#: The imports that run when a module is imported (not those inside a function).
ON_IMPORT = [edge for module in MODULES for edge in _imports(module, on_import=True)]


def _internal(target: str, name: str | None) -> str | None:
    """The module of ours an import reaches (``from bench import catalog`` -> bench.catalog)."""
    if name and f"{target}.{name}" in MODULES:
        return f"{target}.{name}"
    while target and target not in MODULES:
        target = target.rpartition(".")[0]
    return target or None


def _graph(edges) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {module: set() for module in MODULES}
    for importer, target, name in edges:
        reached = _internal(target, name)
        if reached and reached != importer:
            graph[importer].add(reached)
    return graph


GRAPH = _graph(IMPORTS)
#: Who imports whom when imported (what a module loads by being imported).
GRAPH_ON_IMPORT = _graph(ON_IMPORT)


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


def _reachable(start: str, graph: dict[str, set[str]] | None = None) -> set[str]:
    graph = GRAPH if graph is None else graph
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(graph[node])
    return seen


def test_the_graph_is_read_from_the_source():
    # The test would pass on an empty graph: make sure it sees the edges it must.
    assert "bench.catalog" in GRAPH["bench.cases"]
    assert "bench.report.matching" in GRAPH["bench.report.tables"]
    assert "models._glm" in GRAPH["models.glm"]
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_no_import_cycle():
    assert _cycle(GRAPH) is None


def test_models_never_import_bench():
    offenders = [(importer, target) for importer, target, _ in IMPORTS
                 if importer.startswith("models") and target.split(".")[0] == "bench"]
    assert offenders == []


def _is_jax(target: str) -> bool:
    return target.split(".")[0] in ("jax", "jaxlib")


#: The report's code: its package, and the words its sentences and tables are made of.
REPORTING = {m for m in MODULES if m.startswith("bench.report")} | {"bench.formats",
                                                                      "bench.quotes"}


def test_reporting_imports_no_jax():
    reporting = REPORTING
    assert len(reporting) >= 8
    # The report's own modules: no JAX anywhere, not even inside a function.
    own = sorted({(importer, target) for importer, target, _ in IMPORTS
                  if importer in reporting and _is_jax(target)})
    assert own == [], f"the report imports JAX: {own}"
    # What the report's modules import, at any depth (their own lazy imports included),
    # imports no JAX when it is imported.
    graph = {m: (GRAPH if m in reporting else GRAPH_ON_IMPORT)[m] for m in MODULES}
    reached = set().union(*(_reachable(m, graph) for m in reporting))
    offenders = sorted({(importer, target) for importer, target, _ in ON_IMPORT
                        if importer in reached and _is_jax(target)})
    assert offenders == [], f"reporting reaches JAX through {offenders}"
    assert {"bench.catalog", "bench.record", "bench.families.glm"} <= reached
    assert "bench.families.fitting" not in reached  # the adapters' JAX half


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


def _string_constants(tree: ast.AST) -> list[tuple[int, str]]:
    """``(line, value)`` of every string constant of ``tree`` but its docstrings."""
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef,
                                       ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in docstrings]


def test_the_report_names_no_catalog_model():
    from bench import catalog

    names = {entry.name for entry in catalog.models()}
    assert {"perceptron", "glm", "glm_firth", "mlp8"} <= names
    offenders = [(module, line, value) for module in sorted(REPORTING)
                 for line, value in _string_constants(ast.parse(MODULES[module].read_text(
                     encoding="utf-8"))) if value in names]
    assert offenders == [], ("the report names catalog models; a sentence or table about "
                             f"a particular model belongs to its family module: {offenders}")


def test_the_model_name_check_sees_code_not_docstrings():
    source = '''"""glm"""\nclass A:\n    """glm"""\n    x = ("glm", f"{y} glm", "the glm")\n'''
    assert sorted(_string_constants(ast.parse(source))) == [(4, " glm"), (4, "glm"),
                                                            (4, "the glm")]


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("bench")))
def test_no_bench_module_is_over_the_limit(module):
    lines = MODULES[module].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"{module} has {lines} lines; split it by concern"


def test_publishing_and_comparing_load_no_jax_at_run_time(tmp_path):
    import shutil
    import subprocess
    import sys

    # Import the report, then publish the smoke run (every table, sentence and plot) and
    # compare it with itself: the catalog's family modules are read all along, their
    # adapters never called.
    run = tmp_path / "run.json"
    shutil.copy(ROOT / "tests" / "data" / "smoke-run.json", run)
    code = ("import sys, bench.report, bench.report.plots\n"
            "from bench.report import compare, publish\n"
            f"publish({str(run)!r}, {str(tmp_path / 'results')!r})\n"
            f"compare({str(run)!r}, {str(run)!r})\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('jax', 'jaxlib')))")
    completed = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                               text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip().splitlines()[-1] == "[]"
