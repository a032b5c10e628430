"""The pytest-benchmark suite: one benchmark module per kind of row, and their harness.

Plain ``pytest`` runs it once, as the ``gpu`` preset's dry run (``tests/test_gpu_dry_run.py``),
so CI keeps every benchmark alive; ``pytest bench/suite`` runs it here, untimed, at the
``smoke`` preset; ``pytest --benchmark`` times it and publishes the run. The project's pytest
plugin, :mod:`bench.suite.plugin`, holds these modes and their options. Rows are grouped by
pytest markers: one per model family of :mod:`bench.catalog` (``-m glm``), and
``baseline``, ``datasets`` and ``machine``.
"""
