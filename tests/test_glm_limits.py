"""The GLM at the edges of its dtype, and fitted one data set of a new shape at a time.

* a design whose ``X^T W X`` overflows is not fitted as a smaller model (Firth);
* the deviance is the deviance at the returned coefficients, also where the clipped mean
  would cap it (large offsets);
* statistics past the dtype's range are NaN, never an infinity;
* rows padded to a bucket at weight 0 change nothing beyond rounding, and data sets of many
  sizes share compiled programs.
"""

from __future__ import annotations

import jax
import numpy as np
import pytest
from scipy.special import expit

from models import glm
from models.glm import Status

jax.config.update("jax_enable_x64", True)

PAD_RTOL = 1e-12
"""Padded against unpadded: the same sums over more (zero) terms, so rounding only."""

OFFSET_DEVIANCE_RTOL = 1e-9
"""The reported deviance against NumPy's, both at the returned coefficients."""

OFFSET_OPTIMUM_RTOL = 1e-4
"""A converged fit's deviance above the optimum (exact Newton from it, to a 1e-12 gradient).

With offsets of +-30 and more, about half the rows sit beyond R's clip of the mean, where
R's floored working weights overstate their curvature: Fisher scoring then crawls, and R's
criterion (relative change below ``tol = 1e-8``) can be met while the deviance is still
above the optimum by up to about 4e-5 (measured over 240 such data sets); the clipped
deviance this replaces was wrong by a factor of 1e9."""


def _logistic(seed: int, n: int = 40, p: int = 3):
    rng = np.random.default_rng(seed)
    X = np.c_[np.ones(n), rng.normal(size=(n, p - 1))]
    return X, (rng.random(n) < 0.5).astype(float)


# --- a Gram matrix that overflows --------------------------------------------------------------

@pytest.mark.parametrize(("scale", "path"), [(1e154, "native"), (1e200, "xla")])
def test_firth_with_columns_whose_gram_overflows_is_not_converged(scale, path, request):
    # The rank rule used to call the overflowing columns aliased, drop them, and report the
    # intercept-only fit as converged (rank_deficient) with zero coefficients.
    if path == "xla":
        request.getfixturevalue("without_native")
    X, y = _logistic(1)
    X[:, 1:] *= scale
    for firth in (True, False):
        fit = glm.fit(X, y, firth=firth)
        assert int(fit.status) == Status.NONFINITE, firth
        assert not bool(fit.converged)
    # Just inside the range the same data are fitted, and the slopes scale back.
    X[:, 1:] *= 1e150 / scale
    fit = glm.fit(X, y, firth=True)
    assert int(fit.status) == Status.CONVERGED
    assert np.all(np.asarray(fit.coef[1:]) != 0)


# --- large offsets ---------------------------------------------------------------------------

def _deviance(X, y, offset, coef):
    eta = X @ coef + offset
    return 2 * np.sum(np.logaddexp(0, eta) - y * eta)


def _optimum(X, y, offset, coef):
    """Exact Newton with step-halving, from ``coef``, to a gradient of 1e-12."""
    for _ in range(200):
        eta = X @ coef + offset
        grad = X.T @ (expit(eta) - y)
        if np.max(np.abs(grad)) < 1e-12:
            break
        weights = expit(eta) * expit(-eta)
        step = np.linalg.lstsq((X.T * weights) @ X, grad, rcond=None)[0]
        t, start = 1.0, _deviance(X, y, offset, coef)
        while _deviance(X, y, offset, coef - t * step) > start and t > 1e-12:
            t /= 2
        coef = coef - t * step
    return _deviance(X, y, offset, coef)


@pytest.mark.parametrize("size", [30, 40, 10**6])  # integers: one dtype, one program
def test_large_offsets_report_the_deviance_at_the_returned_coefficients(size):
    # The deviance used to come from the clipped mean: with the offset alternating +-30 a
    # fit reported converged, coefficients of 6e10 and 865.05 (the true deviance there is
    # 1.1e12), and every offset from +-40 to +-1e6 gave the same 865.05.
    converged = 0
    for seed in range(12):
        X, y = _logistic(seed)
        offset = np.where(np.arange(len(y)) % 2 == seed % 2, size, -size)
        fit = glm.fit(X, y, offset=offset)
        coef = np.asarray(fit.coef)
        truth = _deviance(X, y, offset, coef)
        np.testing.assert_allclose(float(fit.deviance), truth, rtol=OFFSET_DEVIANCE_RTOL)
        if bool(fit.converged):
            converged += 1
            best = _optimum(X, y, offset, coef)
            assert truth <= best * (1 + OFFSET_OPTIMUM_RTOL)
            assert truth <= _deviance(X, y, offset, np.zeros(3))
    if size < 100:  # some fits converge, so the checks above ran (at +-1e6 none does)
        assert converged >= 3


# --- statistics past the range ---------------------------------------------------------------

def test_statistics_past_the_range_are_nan_not_inf():
    # A gamma fit that fails after its first step returns the last finite coefficients;
    # their standard errors and scale overflowed to inf.
    rng = np.random.default_rng(40)
    X = np.c_[np.ones(40), rng.normal(size=(40, 2)) * rng.choice([1, 10, 100])]
    y = rng.gamma(rng.choice([0.05, 0.5, 2]), size=40) * 10.0 ** rng.integers(-200, 200)
    fit = glm.fit(X, y, "gamma", "identity")
    assert int(fit.status) == Status.NONFINITE
    assert not np.any(np.isinf(fit.bse)) and not np.isinf(fit.scale)
    assert np.any(np.isnan(fit.bse))  # not known: NaN, as documented


# --- rows padded to a bucket -----------------------------------------------------------------

def _cases(rng, n):
    """Each family, and each setting that reads the rows (weights, offset, Firth's hat
    values, Newton's observed information, the separation check), once."""
    X = np.c_[np.ones(n), rng.normal(size=(n, 2))]
    ys = {"binomial": (rng.random(n) < 0.5).astype(float),
          "poisson": rng.poisson(3, n).astype(float),
          "gaussian": rng.normal(size=n), "gamma": rng.gamma(2, size=n)}
    weights = rng.integers(0, 3, n).astype(float)
    weights[0] = 1
    yield X, ys["binomial"], "binomial", {}
    yield X, ys["binomial"], "binomial", {"firth": True}
    yield X, ys["binomial"], "binomial", {"link": "probit", "weights": weights}
    yield X, ys["poisson"], "poisson", {"offset": rng.normal(size=n) * 0.1}
    yield X, ys["gaussian"], "gaussian", {"weights": weights}
    yield X, ys["gamma"], "gamma", {}


@pytest.mark.parametrize(("n", "cases"), [(37, 6), (2, 2)])
def test_padding_changes_nothing_beyond_rounding(n, cases):
    # glm.fit pads concrete inputs; under a caller's jit the same fit runs unpadded. n = 2
    # is below p (rank deficient, separated): binomial by IRLS and by Firth. n = 37 pads to
    # the 64 rows of the fits above, whose compiled programs the binomial cases share.
    unpadded = jax.jit(glm.fit, static_argnames=("family", "link", "firth", "separation"))
    rng = np.random.default_rng(n)
    for X, y, family, kw in list(_cases(rng, n))[:cases]:
        padded, plain = glm.fit(X, y, family, **kw), unpadded(X, y, family=family, **kw)
        for field in ("status", "n_iter", "separation", "converged", "separated"):
            np.testing.assert_array_equal(getattr(padded, field), getattr(plain, field),
                                          err_msg=f"{family} {kw.keys()} {field}")
        for field in ("coef", "bse", "deviance", "null_deviance", "scale"):
            np.testing.assert_allclose(getattr(padded, field), getattr(plain, field),
                                       rtol=PAD_RTOL, atol=PAD_RTOL,
                                       err_msg=f"{family} {kw.keys()} {field}")


def test_padding_keeps_the_dtype_and_float32_fits():
    X, y = _logistic(3, n=37)
    fit = glm.fit(X.astype(np.float32), y.astype(np.float32))
    assert fit.coef.dtype == np.float32 and int(fit.status) == Status.CONVERGED
    np.testing.assert_allclose(fit.coef, glm.fit(X, y).coef, rtol=1e-4)


def test_data_sets_of_many_sizes_share_compiled_programs():
    from models import _rows

    compiles = []
    jax.monitoring.register_event_duration_secs_listener(
        lambda event, seconds, **_: compiles.append(event)
        if event == "/jax/core/compile/backend_compile_duration" else None)
    rng = np.random.default_rng(0)
    sizes = range(33, 61)  # one bucket: 64 rows
    assert {_rows.bucket(n) for n in sizes} == {64}
    for n in sizes:
        X = np.c_[np.ones(n), rng.normal(size=(n, 4))]
        glm.fit(X, (rng.random(n) < 0.5).astype(float)).coef.block_until_ready()
    assert len(compiles) <= 1  # 28 shapes, one program (none if an earlier test made it)


def test_buckets():
    from models import _rows

    assert [_rows.bucket(n) for n in (1, 16, 17, 20, 1000, 65536)] == [16, 16, 32, 32, 1024,
                                                                      65536]
    assert _rows.bucket(65537) == 65536 + _rows.FINE_STEP
    assert all(_rows.bucket(n) >= n and _rows.bucket(n) < 2 * max(n, 16)
               for n in range(1, 200_000, 997))
