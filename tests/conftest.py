"""Test-wide JAX settings, and the ``gpu`` preset's dry run started beside the tests.

Exactness is the point of most tests here, so float64 is on. As in optimistix and lineax,
rank promotion is an error, so a silently broadcast ``[n] + [n, 1]`` fails loudly. Tests
that check float32 ask for it explicitly.

The dry run (``tests/_dry_run.py``) starts in a subprocess once collection is done, if its
test was selected, and that test runs last: it waits for the run.
"""

import pathlib
import shutil
import tempfile

import _dry_run
import jax
import pytest

from models import _native, glm

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_rank_promotion", "raise")


def pytest_collection_modifyitems(config, items):
    # The dry run's test goes last: it waits for a run that started at collection's end.
    items.sort(key=lambda item: item.nodeid == _dry_run.TEST_ID)


def pytest_collection_finish(session):
    config = session.config
    if config.option.collectonly or not any(
            item.nodeid == _dry_run.TEST_ID for item in session.items):
        return
    glm.cpu_kernels()  # built here first, so that the dry run finds them and does not rebuild
    folder = tempfile.mkdtemp(prefix="glmnn-gpu-dry-run-")
    run = _dry_run.start(pathlib.Path(folder))
    config.stash[_dry_run.STARTED] = run
    config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))
    config.add_cleanup(lambda: _dry_run.stop(run))


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
