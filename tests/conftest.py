"""Test-wide JAX settings and shared fixtures.

Exactness is the point of most tests here, so float64 is on. As in optimistix and lineax,
rank promotion is an error, so a silently broadcast ``[n] + [n, 1]`` fails loudly. Tests
that check float32 ask for it explicitly.

The slowest tests go first (:data:`FIRST`): under ``pytest -n`` (the default, see
``pyproject.toml``) a worker starts each of them at once, while the other workers share the
rest, instead of one of them starting last and running alone.
"""

import jax
import pytest

from models import _native

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_rank_promotion", "raise")

#: Test files that run longest, in the order they should start: the dry run's subprocess of
#: minutes, then the files of a minute or more (``pytest --durations``).
FIRST = ("tests/test_gpu_dry_run.py", "tests/test_pytest_options.py", "tests/test_cli.py",
         "tests/test_separation.py", "tests/test_datasets.py", "tests/test_scale.py",
         "tests/test_native.py", "tests/test_native_cache.py", "tests/test_glm.py",
         "tests/test_mlp.py", "tests/test_harness_failures.py", "tests/test_catalog.py")


def pytest_collection_modifyitems(config, items):
    rank = {path: i for i, path in enumerate(FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(FIRST)))


# Hypothesis profiles for tests/test_properties.py (docs/robustness.md). Every new array shape
# costs a JAX compilation, so "default" (CI) runs few examples, drawn deterministically so a
# CI failure reproduces; "thorough" explores: `pytest --hypothesis-profile=thorough`. The
# built-in "ci" profile (active when the CI variable is set) is replaced by "default" too.
try:
    from hypothesis import HealthCheck, settings
except ImportError:  # hypothesis comes with the test extra; the other tests run without it
    settings = None

if settings is not None:
    settings.register_profile(
        "default",
        max_examples=6,
        deadline=None,  # the first example of each shape includes compilation
        derandomize=True,
        database=None,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    settings.register_profile("ci", settings.get_profile("default"))
    settings.register_profile(
        "thorough",
        max_examples=300,
        deadline=None,
        derandomize=False,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow],
    )


@pytest.fixture
def without_native(monkeypatch):
    """The GLM on XLA's operations, as without a compiler; compiled programs are dropped
    before and after, since each holds the path it was traced with."""
    jax.clear_caches()
    monkeypatch.setattr(_native, "available", lambda: False)
    yield
    jax.clear_caches()
