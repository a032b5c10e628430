"""The pytest-benchmark suite: one benchmark module per kind of row, and their harness.

``pytest`` runs it in the ``smoke`` preset, untimed, so CI keeps every benchmark alive;
``pytest --benchmark`` times it (see the root ``conftest.py``). Rows are grouped by pytest
markers: one per model family of :mod:`bench.catalog` (``-m glm``), and ``baseline``,
``datasets`` and ``machine``.
"""
