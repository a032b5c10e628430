"""The docs say only what is so: every test they name exists, every command they show works
with the install the README gives."""

from __future__ import annotations

import ast
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _test_names(path: pathlib.Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")}


def test_every_test_the_harness_table_names_exists():
    text = (ROOT / "docs" / "robustness.md").read_text(encoding="utf-8")
    named = re.findall(r"`(test_\w+\.py)::(test_\w+)(?:\[[^\]]*\])?`", text)
    assert len(named) > 30
    missing = [f"{file}::{name}" for file, name in named
               if name not in _test_names(ROOT / "tests" / file)]
    assert missing == []


def test_commands_use_the_install_the_readme_gives():
    # docs/robustness.md ran `.venv/bin/pytest`, a virtual environment the README never makes.
    offenders = [(doc.name, line) for doc in DOCS
                 for line in doc.read_text(encoding="utf-8").splitlines() if ".venv/" in line]
    assert offenders == []


def test_results_keeps_only_runs_of_record():
    # The policy the results index states (bench.report.folders.RUNS_OF_RECORD): the latest
    # run of each machine, device and preset, and the runs the documentation cites.
    from bench.report.folders import published_runs
    from bench.report.history import group_key

    runs = published_runs(ROOT / "results")
    assert runs, "no published run in results/"
    latest: dict[tuple, tuple[str, str]] = {}
    for name, meta in runs:
        key = (group_key(meta), meta.get("preset"))
        latest[key] = max(latest.get(key, ("", "")), (meta.get("datetime") or "", name))
    cited = "\n".join(doc.read_text(encoding="utf-8") for doc in DOCS)
    kept = {name for _, name in latest.values()}
    strays = [name for name, _ in runs if name not in kept and name not in cited]
    assert strays == [], f"{strays}: not runs of record; remove them or cite them in docs/"
    # Every run the documentation links to is there.
    linked = set(re.findall(r"results/([\w.-]+)/README\.md", cited))
    assert linked <= {name for name, _ in runs}, linked - {name for name, _ in runs}
