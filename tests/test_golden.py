"""Publishing the recorded smoke run gives the same README, CSV, metadata and plots as the
code before the bench/ redesign did (tests/data/golden/, made by tests/_golden.py).

The README is compared with its table rows' padding normalised (tabulate pads columns; the
rendered tables are the same); everything else byte for byte, and the plots by what they
draw (tests/_golden.py).
"""

import pathlib

import pytest
from _golden import golden, normalized_tables, outputs, publish_fixture

from bench.report import publish


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    folder, plots = publish_fixture(publish, pathlib.Path(tmp_path_factory.mktemp("golden")))
    return outputs(folder, plots)


@pytest.mark.parametrize("name", ["summary.csv", "run.json", "plots.json"])
def test_published_file_equals_golden(published, name):
    assert published[name] == golden()[name]


def test_published_readme_equals_golden(published):
    assert normalized_tables(published["README.md"]) == normalized_tables(golden()["README.md"])


def test_the_normalisation_keeps_what_a_table_says():
    table = "| a | b |\n| --- | --- |\n| 1 | 2 |\n"
    assert normalized_tables("|  a | b  |\n|----|----|\n| 1  | 2  |\n") == table
    assert normalized_tables("| a | b |\n| --- | --- |\n| 2 | 1 |\n") != table
    assert normalized_tables("| a \\| b |\n") == "| a \\| b |\n"
