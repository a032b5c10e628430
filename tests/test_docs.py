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
