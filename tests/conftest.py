"""Test-wide JAX settings: exactness is the point of most tests here, so float64 is on.

As in optimistix and lineax, rank promotion is an error, so a silently broadcast
``[n] + [n, 1]`` fails loudly. Tests that check float32 ask for it explicitly.
"""

import jax

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_rank_promotion", "raise")


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
