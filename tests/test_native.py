"""The native CPU kernels (``models._native``) against plain references, and their fallback.

* the weighted normal equations, the column-skipping Cholesky factor with ``diag(G^{-1})``
  and the solve, against numpy and the XLA code they replace (``models._linalg``), on
  full-rank, rank-deficient and non-finite matrices, float64 and float32, every ``p`` the
  kernel is compiled for (1-16), row counts that are not a multiple of the vector width,
  and none;
* a GLM fit with the kernels agrees with the same fit without them, to rounding;
* the separation verdict's two kernels (the certificate's reduction and the linear
  program's candidates) against the XLA code they replace: the reduction bitwise, the
  verdicts equal;
* without a compiler (or with ``GLMNN_NATIVE=0``) the fit falls back to XLA, with one
  clear warning in the first case and none in the second;
* lowered for a GPU, the fit holds no native custom call.
"""

from __future__ import annotations

import functools
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import export

from bench import datasets
from models import _batching, _certificates, _linalg, _native, glm
from models.glm import Separation

jax.config.update("jax_enable_x64", True)

# Where a compiler exists the kernels must build: a failure to build fails these tests.
pytestmark = pytest.mark.skipif(_native._compiler() is None,
                                reason="no C++ compiler here: the fit uses XLA's products")

#: Relative agreement of the kernels with references computed in another order.
RTOL = {"float64": 1e-12, "float32": 2e-5}


def _rng(seed=0):
    return np.random.default_rng(seed)


#: The kernel, jitted: op by op, each operation around it would be a program of its own.
_normal_equations = jax.jit(jax.vmap(_native.normal_equations))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("n", [0, 1, 17, 203])  # 203: 25 full vectors of doubles and a tail
def test_normal_equations_match_numpy(dtype, n):
    rng = _rng(n)
    columns = range(1, _native.MAX_COLUMNS + 1) if n == 203 else (1, 2, 11, _native.MAX_COLUMNS)
    for p in columns:  # each p is its own template instantiation of the kernel
        X = rng.normal(size=(5, n, p)).astype(dtype)
        w = rng.uniform(size=(5, 2, n)).astype(dtype)
        wz = rng.normal(size=(5, 2, n)).astype(dtype)
        gram, rhs = _normal_equations(np.swapaxes(X, 1, 2), w, wz)
        X64, w64, wz64 = X.astype(float), w.astype(float), wz.astype(float)
        expected_gram = np.einsum("bni,bkn,bnj->bkij", X64, w64, X64)
        expected_rhs = np.einsum("bni,bkn->bki", X64, wz64)
        scale = np.einsum("bni,bkn,bnj->bkij", np.abs(X64), w64, np.abs(X64))
        assert gram.dtype == dtype and gram.shape == (5, 2, p, p) and rhs.shape == (5, 2, p)
        assert np.all(np.abs(gram - expected_gram) <= RTOL[dtype] * scale + 1e-300)
        np.testing.assert_allclose(rhs, expected_rhs, rtol=RTOL[dtype],
                                   atol=RTOL[dtype] * np.abs(X64).sum(1).max())
        np.testing.assert_array_equal(gram, np.swapaxes(gram, -1, -2))  # both triangles


def test_design_normal_equations_agree_with_xla():
    assert _native.available()  # else this would compare XLA with itself
    rng = _rng(1)
    X = jnp.asarray(rng.normal(size=(200, 11)))
    w, z = jnp.asarray(rng.uniform(size=200)), jnp.asarray(rng.normal(size=200))
    design = _linalg.Design.of(X)
    native = jax.jit(design.normal_equations)(w, w * z)
    xla = design._xla(w[None], (w * z)[None])
    np.testing.assert_allclose(native[0], xla[0][0], rtol=1e-13)
    np.testing.assert_allclose(native[1], xla[1][0], rtol=1e-13)


def _matrices(p, dtype):
    """Full-rank, collinear, zero-column and NaN Gram matrices of ``p`` columns."""
    rng = _rng(p)
    A = rng.normal(size=(40, p))
    full = A.T @ A
    collinear = A.copy()
    if p > 2:
        collinear[:, 2] = collinear[:, 0] - 2 * collinear[:, 1]
    zero = A.copy()
    zero[:, p - 1] = 0.0
    nan = full.copy()
    nan[p // 2, p // 2] = np.nan
    return np.stack([full, collinear.T @ collinear, zero.T @ zero, nan]).astype(dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("p", [1, 3, 11, _native.MAX_COLUMNS])
def test_cholesky_skip_is_the_column_skipping_factor(dtype, p):
    grams = jnp.asarray(_matrices(p, dtype))
    rtol = 1000 * float(jnp.finfo(dtype).eps)
    factor, aliased, inverse = jax.vmap(
        functools.partial(_native.cholesky_skip, rtol=rtol, inverse=True))(grams)
    ref_factor, ref_aliased = jax.vmap(functools.partial(_linalg.cholesky_skip, rtol=rtol))(
        grams)
    np.testing.assert_array_equal(aliased, ref_aliased)
    if p > 2:  # the collinear column, and the zero column, are dropped; full rank is not
        assert not aliased[0].any() and aliased[1, 2] and aliased[2, p - 1]
    assert aliased[3, p // 2]  # a NaN pivot
    assert np.isfinite(ref_factor).all()  # the NaN column is dropped, as every other
    tol = RTOL[dtype] * (1e3 if dtype == "float64" else 50)  # collinear: conditioning
    np.testing.assert_allclose(factor, ref_factor, rtol=tol, atol=tol * 10)
    np.testing.assert_allclose(inverse, jax.vmap(_linalg.inverse_diagonal)(factor),
                               rtol=RTOL[dtype])
    # diag(G^-1) of the kept columns, from an explicit inverse of the full-rank matrix.
    full = _matrices(p, "float64")[0]
    np.testing.assert_allclose(inverse[0], np.diag(np.linalg.inv(full)),
                               rtol=1e3 * RTOL[dtype])
    skipped = jax.vmap(functools.partial(_native.cholesky_skip, rtol=rtol))(grams)[2]
    np.testing.assert_array_equal(skipped, 0.0)  # no inverse asked for


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_cho_solve_solves(dtype):
    rng = _rng(2)
    A = rng.normal(size=(6, 30, 11))  # condition numbers of the Grams below 13
    grams = np.einsum("bni,bnj->bij", A, A).astype(dtype)
    rhs = rng.normal(size=(6, 11)).astype(dtype)
    factor = np.linalg.cholesky(grams.astype(float)).astype(dtype)
    x = jax.vmap(_native.cho_solve)(factor, rhs)
    expected = np.linalg.solve(grams.astype(float), rhs.astype(float)[..., None])[..., 0]
    scale = np.abs(expected).max(axis=1, keepdims=True)
    assert np.all(np.abs(x - expected) <= {"float64": 1e-13, "float32": 1e-5}[dtype] * scale)


@functools.cache
def _data(regime):
    """40 data sets of ``regime`` (n = 60, p = 5), float64, as NumPy arrays: made once, so
    not made again after the compiled programs are dropped for the XLA path."""
    data = datasets.make(regime, jax.random.key(4), n_datasets=40, n_samples=60,
                         n_features=4, dtype=jnp.float64)
    return np.asarray(data.X_train), np.asarray(data.y_train)


def _fit_batch(**kw):
    return jax.jit(jax.vmap(functools.partial(glm.fit, **kw)))(*_data("overlap"))


# Logit IRLS against the XLA path: tests/test_batching.py (the forced device branch).
@pytest.mark.parametrize("kw", [{"link": "probit"}, {"firth": True}], ids=["newton", "firth"])
def test_fit_agrees_with_the_xla_path(kw, request):
    assert _native.available()
    native = _fit_batch(**kw)
    request.getfixturevalue("without_native")
    xla = _fit_batch(**kw)
    np.testing.assert_array_equal(native.status, xla.status)
    np.testing.assert_array_equal(native.n_iter, xla.n_iter)
    np.testing.assert_allclose(native.coef, xla.coef, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(native.bse, xla.bse, rtol=1e-9)
    np.testing.assert_allclose(native.deviance, xla.deviance, rtol=1e-12)


def _reductions(dtype, n, p, delta_scale):
    """The certificate's reduction of 6 random data sets, half their rows absent or one-sided."""
    rng = _rng(n * 100 + p)
    X = rng.normal(size=(6, n, p)).astype(dtype)
    active = (rng.uniform(size=(6, 2, n)) < 0.7).astype(dtype)
    active[:, 1] *= 1 - active[:, 0]  # a row is a success, a failure, or absent
    arrays = [X, rng.normal(size=(6, n)), rng.uniform(size=(6, 2, n)),
              rng.normal(size=(6, 2, n)), delta_scale * rng.normal(size=(6, p)), active]
    X, linear, lam, shift, delta, active = (jnp.asarray(a, dtype) for a in arrays)

    def reduce(X, linear, lam, shift, delta, active):
        sides = _certificates.Sides(X, active, X.T)
        return _certificates._reduce(sides, linear, lam, shift, delta)

    return np.asarray(jax.jit(jax.vmap(reduce))(X, linear, lam, shift, delta, active))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_certificate_reduction_is_the_xla_one(dtype, request):
    assert _native.available()
    cases = [(n, p) for n in (1, 17, 203) for p in (1, 3, _native.MAX_COLUMNS)]
    native = {(n, p, d): _reductions(dtype, n, p, d) for n, p in cases for d in (0.0, 1e-3)}
    request.getfixturevalue("without_native")
    for (n, p, scale), out in native.items():
        xla = _reductions(dtype, n, p, scale)
        assert out.shape == (6, 2 * p + 4)
        if scale == 0:  # the same multipliers: the same sums, in the same order, bitwise
            np.testing.assert_array_equal(out, xla, err_msg=f"n={n} p={p}")
        else:  # X delta may round differently, and moves each multiplier by that only
            np.testing.assert_allclose(out, xla, rtol=RTOL[dtype], atol=RTOL[dtype] * n,
                                       err_msg=f"n={n} p={p}")


def _verdicts():
    """Separation results on overlap, quasi and separable data sets, float64."""
    separate = jax.jit(jax.vmap(glm.separation))  # one trace for the three regimes
    out = [separate(*_data(regime)) for regime in ("overlap", "quasi", "separable")]
    return jax.tree.map(lambda *a: np.concatenate(a), *out)


def test_separation_agrees_with_the_xla_path(request):
    assert _native.available()
    native = _verdicts()
    request.getfixturevalue("without_native")
    xla = _verdicts()
    assert set(np.unique(native.verdict)) == {Separation.OVERLAP, Separation.QUASI,
                                              Separation.COMPLETE}
    np.testing.assert_array_equal(native.verdict, xla.verdict)
    np.testing.assert_array_equal(native.infinite, xla.infinite)
    # The interior-point iterates round differently (products in another order); both
    # stop well inside their verdict's certificate, so their directions agree loosely.
    separated = native.separated
    np.testing.assert_allclose(native.direction[separated], xla.direction[separated],
                               atol=1e-6)


@pytest.fixture
def undecided():
    """``status()`` decided afresh inside the test, and again by whoever asks after it."""
    _native.status.cache_clear()
    yield
    _native.status.cache_clear()


def test_no_compiler_falls_back_with_one_warning(monkeypatch, tmp_path, undecided):
    monkeypatch.setattr(_native, "_compiler", lambda: None)
    monkeypatch.setenv("GLMNN_CACHE_DIR", str(tmp_path))
    with pytest.warns(_native.NativeUnavailableWarning, match="no C.. compiler"):
        assert _native.available() is False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _native.available() is False  # decided once
    assert not list(tmp_path.iterdir())


def test_glmnn_native_0_turns_the_kernels_off_silently(monkeypatch, undecided):
    monkeypatch.setenv("GLMNN_NATIVE", "0")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _native.available() is False
    _native.status.cache_clear()
    monkeypatch.delenv("GLMNN_NATIVE")
    assert _native.available() is True
    assert _native.describe().startswith("native (")


def test_columns_beyond_the_kernel_use_xla():
    assert _native.supports("float64", _native.MAX_COLUMNS)
    assert not _native.supports("float64", _native.MAX_COLUMNS + 1)
    assert not _native.supports("float16", 3)
    rng = _rng(3)
    X = rng.normal(size=(80, _native.MAX_COLUMNS + 1))
    y = (rng.uniform(size=80) < 0.5).astype(float)
    assert "glmnn_" not in jax.jit(glm.fit).lower(X, y).as_text()
    assert "glmnn_" in jax.jit(glm.fit).lower(X[:, :-1], y).as_text()  # 16 columns


def test_a_gpu_lowering_holds_no_native_call():
    X, y = jnp.ones((4, 30, 3)), jnp.zeros((4, 30))
    cpu = jax.jit(jax.vmap(glm.fit)).lower(X, y).as_text()
    assert "glmnn_normal_equations_f64" in cpu and "glmnn_cholesky_skip_f64" in cpu
    with _batching.forced_platform(None):  # both branches, whatever the session traces
        cuda = export.export(jax.jit(jax.vmap(glm.fit)), platforms=["cuda"])(X, y)
    assert "glmnn_" not in cuda.mlir_module()


def test_every_header_the_sources_include_is_in_the_cache_key():
    """A header of ours missing from HEADERS would leave a stale library cached on a change."""
    import re

    included = {match for source in _native.SOURCES
                for match in re.findall(r'#include "([^"/]+)"', source.read_text())}
    assert included == {header.name for header in _native.HEADERS}
    assert all(header.is_file() for header in _native.HEADERS)
