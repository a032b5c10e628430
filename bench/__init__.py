"""glmnn-bench's benchmark side: data sets, runner, benchmark modules, publishing.

It holds the synthetic data sets, the batched runner, the pytest-benchmark modules
(``bench_*.py``), the reference-library baselines, publishing and comparison.
``python -m bench`` runs the matrix without pytest, publishes and compares runs.
"""
