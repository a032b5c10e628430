"""How a vmapped fit groups its lanes (``models._batching``): results never depend on it.

* the plain vmap on CPU (``lax.platform_dependent``'s CPU branch, in groups) gives the
  results of the branch that a GPU takes (one group), forced on the CPU: bitwise for the
  perceptron; for the GLM, whose CPU branch forms its systems with the native kernels
  (``models._native``) where the GPU's uses XLA's products, and for the MLP, whose
  batched matrix products XLA:CPU computes with a kernel that depends on the batch size,
  within a few ulps (see ``models._batching``);
* on CPU, any grouping gives the same bits for the GLM's IRLS and the perceptron;
* explicit groups keep the perceptron's straggler compaction and its bits;
* a bad ``group_size`` is a ``ValueError``; ``cpu_group_size`` is what the rule picks.
"""

from __future__ import annotations

import functools

import jax
import numpy as np
import pytest

import models
from bench import datasets
from models import _batching, glm, mlp, perceptron

jax.config.update("jax_enable_x64", True)

#: 13 data sets: groups of 4 leave a last group that overlaps the one before it.
N_DATASETS = 13

FITS = {
    "glm": lambda key, X, y, g: glm.fit(X, y, group_size=g),
    "perceptron": lambda key, X, y, g: perceptron.fit(X, y, max_epochs=15, group_size=g),
    "perceptron_shuffled": lambda key, X, y, g: perceptron.fit(X, y, max_epochs=15, key=key,
                                                               group_size=g),
    "mlp": lambda key, X, y, g: mlp.fit(key, X, y, max_iter=30, group_size=g),
}

#: Which fits are bitwise equal across groupings on one platform; the others within these
#: ulps-sized bounds.
BITWISE = {"glm", "perceptron", "perceptron_shuffled"}
#: ... and which across the CPU branch and the forced device branch.
BITWISE_ACROSS_PLATFORMS = {"perceptron", "perceptron_shuffled"}
RTOL = {"float64": 1e-12, "float32": 1e-5}


@functools.cache
def _data(regime: str, dtype: str):
    data = datasets.make(regime, jax.random.key(3), n_datasets=N_DATASETS, n_samples=24,
                         n_features=3, n_test=1, dtype=dtype)
    keys = datasets.dataset_keys(jax.random.key(4), 0, N_DATASETS)
    return keys, data.X_train, data.y_train


#: Firth runs through the GLM's rule (the same code, models._glm); left out to keep this
#: file's compilations few.
CASES = [("glm", "overlap", "float64"), ("perceptron", "separable", "float32"),
         ("perceptron_shuffled", "overlap", "float32"), ("mlp", "xor", "float32")]


def _run(name, regime, dtype, group_size):
    fit = functools.partial(FITS[name], g=group_size)
    return jax.jit(jax.vmap(fit))(*_data(regime, dtype))


def _assert_same(name, dtype, actual, expected, bitwise=BITWISE):
    for a, e in zip(jax.tree.leaves(actual), jax.tree.leaves(expected)):
        a, e = np.asarray(a), np.asarray(e)
        if name in bitwise or not np.issubdtype(a.dtype, np.floating):
            np.testing.assert_array_equal(a, e)
        else:
            np.testing.assert_allclose(a, e, rtol=RTOL[dtype], atol=RTOL[dtype])


@pytest.fixture
def small_cpu_groups(monkeypatch):
    """CPU groups of a few lanes for these tiny data sets; caches cleared around it.

    The GLM and the perceptron get 3 lanes from the byte budget; the MLP, whose groups are
    a number of lanes (``CPU_LANES``), 4.
    """
    jax.clear_caches()
    monkeypatch.setattr(_batching, "CPU_GROUP_BYTES", 3 * 24 * 8 * 4)
    monkeypatch.setitem(_batching.CPU_LANES, "mlp", 4)
    yield
    jax.clear_caches()


@pytest.mark.parametrize("name, regime, dtype", CASES, ids=[c[0] for c in CASES])
def test_cpu_groups_equal_the_forced_device_branch(name, regime, dtype, small_cpu_groups):
    # Plain vmap on CPU: lax.platform_dependent's CPU branch, groups of 3 or 4 lanes (the
    # last overlapping the one before). The branch a GPU takes, forced: one group of 13.
    with _batching.forced_platform(None):  # both branches, as a user's process traces them
        traced = jax.make_jaxpr(jax.vmap(functools.partial(FITS[name], g=None)))(
            *_data(regime, dtype))
    assert "platform_index" in str(traced)  # the two branches group differently
    grouped = _run(name, regime, dtype, None)
    with _batching.forced_platform("gpu"):
        ungrouped = _run(name, regime, dtype, None)
    _assert_same(name, dtype, grouped, ungrouped, bitwise=BITWISE_ACROSS_PLATFORMS)


@pytest.mark.parametrize("name, regime, dtype", [c for c in CASES if c[0] in BITWISE],
                         ids=[c[0] for c in CASES if c[0] in BITWISE])
def test_cpu_groupings_are_bitwise_equal(name, regime, dtype):
    # On CPU: groups of 5 lanes (the last overlapping the one before) and one group of all
    # 13 give the same bits.
    _assert_same(name, dtype, _run(name, regime, dtype, 5), _run(name, regime, dtype, N_DATASETS))


def test_explicit_groups_keep_the_perceptrons_compaction():
    # 130 lanes: groups of 65 (two, the last overlapping) each still move their stragglers
    # into a smaller batch (>= 64 lanes), and give the bits of one group of 130.
    data = datasets.make("separable", jax.random.key(5), n_datasets=130, n_samples=24,
                         n_features=3, n_test=1, dtype="float32", margin=0.02)
    args = (datasets.dataset_keys(jax.random.key(6), 0, 130), data.X_train, data.y_train)
    runs = [jax.jit(jax.vmap(functools.partial(FITS["perceptron"], g=g)))(*args)
            for g in (65, 130)]
    assert len(set(np.asarray(runs[1].n_iter).tolist())) > 1  # ragged: compaction matters
    _assert_same("perceptron", "float32", *runs)


def test_device_groups_are_bounded_by_memory(monkeypatch):
    budget = _batching.DEVICE_GROUP_BYTES
    # The gpu preset's GLM case: one group; Firth's 211 kB a lane: three, none over 8 GiB.
    assert _batching.groups_for(100_000, 17_600, budget, nearest_power=False) == (1, 100_000)
    n_groups, lanes = _batching.groups_for(100_000, 211_200, budget, nearest_power=False)
    assert n_groups == 3 and lanes * 211_200 <= budget


def test_cpu_group_size_is_what_the_rule_picks():
    # n = 200, p = 11: GLM float64 17.6 kB a lane -> 59 -> 64; perceptron float32 9.6 kB
    # -> 109 -> 128; the MLP at most 256 lanes (CPU_LANES) and 8 MiB (CPU_LANES_BYTES):
    # (8,) at p = 3 is 24 kB a lane -> 256; at p = 11 36.8 kB -> 227 -> 224; (16,) 56 kB ->
    # 149 -> 144, in equal groups of a multiple of 8 (1000 lanes: 5 of 200, 7 of 144).
    assert models.cpu_group_size("glm", 1000, 200, 11, "float64") == 64
    assert models.cpu_group_size("perceptron", 1000, 200, 11, "float32") == 128
    assert models.cpu_group_size("mlp", 1000, 200, 3, "float32", hidden=(8,)) == 256
    assert models.cpu_group_size("mlp", 1000, 200, 11, "float32", hidden=(8,)) == 200
    assert models.cpu_group_size("mlp", 1000, 200, 11, "float32", hidden=(16,)) == 144
    assert models.cpu_group_size("mlp", 200, 200, 3, "float32", hidden=(8,)) == 200
    # n = 400, (16,): 112 kB a lane -> 74 -> 72.
    assert models.cpu_group_size("mlp", 1000, 400, 11, "float32", hidden=(16,)) == 72
    assert models.cpu_group_size("mlp", 100, 200, 11, "float32", hidden=(8,)) == 100
    # 300 data sets at p = 11: two groups of 152 lanes (equal, a multiple of 8), not 224 + 76.
    assert models.cpu_group_size("mlp", 300, 200, 11, "float32", hidden=(8,)) == 152
    assert models.cpu_group_size("mlp", 16_000, 200, 11, "float32", hidden=(8,)) == 224
    assert models.cpu_group_size("glm", 20, 200, 11, "float64") == 20


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "8"])
def test_bad_group_size_is_a_value_error(bad):
    X, y = np.ones((4, 2)), np.array([0.0, 1.0, 0.0, 1.0])
    for fit in (lambda: glm.fit(X, y, group_size=bad),
                lambda: perceptron.fit(X, y, group_size=bad),
                lambda: mlp.fit(jax.random.key(0), X, y, max_iter=2, group_size=bad)):
        with pytest.raises(ValueError, match="group_size"):
            fit()
