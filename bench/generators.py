"""The generators of the synthetic and resampled regimes, one per regime.

Each generator takes the four keys of one data set (coefficients, intercept, features,
responses) and returns ``(X [n_total, p], y [n_total], coef_true [p])``; ``coef_true`` is
NaN where the regime has none. A generator may return a fourth array, ``[n_total]`` each
row's margin to a true separator of unit norm, whose least over the training rows is the
data set's realised margin (the K-class separable regime's). :mod:`bench.datasets`
batches them.

Regimes
-------
========== =================================================================================
separable  a random hyperplane ``u·x + b = 0`` with ``||u|| = 1``; every point is pushed
           ``margin`` further from it along ``u``, so the geometric margin of the true
           hyperplane is at least ``margin``. ``coef_true = (b, u)``, so
           ``(2y - 1) * X @ coef_true`` is each point's distance to it.
overlap    ``y ~ Bernoulli(sigmoid(X @ coef_true))`` with ``coef_true = signal * (b, u)``:
           the logistic model itself. Not separable in practice once ``n >> p``; finite MLE.
quasi      quasi-complete separation of the commonest kind: the last feature is a rare
           binary exposure (``QUASI_EXPOSURE`` of the rows, and always the first row),
           every exposed row has ``y = 1``, and the rest follow the logistic model of
           ``overlap`` in the other features. No finite MLE (the exposure's coefficient runs
           to ``+inf``: ``coef_true`` holds ``inf`` there), yet no line splits the classes.
xor        ``y = [x_1 x_2 > 0]``, ``x ~ U(-1, 1)^d``; the first two features are pushed
           ``margin / 2`` away from the axes. Not linearly separable.
circles    class 0 on a disc of radius 1, class 1 on a ring of radii ``1 + margin .. 2`` in
           the first two features; other features are N(0, 1) noise. Not linearly separable.
poisson    ``y ~ Poisson(exp(X @ coef_true))`` (canonical log link).
gamma      ``y ~ Gamma(shape=5, mean=1 / (X @ coef_true))`` (canonical inverse link).
gaussian   ``y = X @ coef_true + N(0, 1)`` (identity link).
cancer,    bootstrap resamples of a real data set that ships with scikit-learn
wine, iris (:data:`bench.catalog.REGIMES` says which, :mod:`bench.realdata` loads it): the
           training set is ``n`` rows drawn with replacement from its ``n`` rows, the test
           set the ``n`` original rows. Its sizes are the data's: ``n_samples`` and
           ``n_features`` must be the catalog's (:func:`bench.catalog.regime_sizes`).
========== =================================================================================

Features are N(0, 1) for separable, overlap, quasi (but its exposure), poisson and
gaussian; U(-1, 1) for xor and gamma (bounded features keep the gamma mean positive). ``X``
always carries an intercept column of ones first, so ``p = n_features + 1``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from bench import catalog, realdata

__all__ = ["GENERATORS", "QUASI_EXPOSURE", "UNROLL_FEATURES", "dot", "generator"]

_GAMMA_SHAPE = 5.0

#: Share of the rows of a ``quasi`` data set that carry its binary exposure.
QUASI_EXPOSURE = 0.1


def _with_intercept(features: jax.Array) -> jax.Array:
    ones = jnp.ones(features.shape[:-1] + (1,), features.dtype)
    return jnp.concatenate([ones, features], axis=-1)


def _unit(key, n_features, dtype):
    u = jax.random.normal(key, (n_features,), dtype)
    return u / jnp.linalg.norm(u)


#: Up to this many columns, :func:`dot` adds its products in straight-line code; above it,
#: in a ``fori_loop``, so the program's size (and its compile time and memory) stays
#: constant in ``n_features`` (the perceptron's ``_margins`` does the same).
UNROLL_FEATURES = 32


def dot(X, coef):
    """``X @ coef`` over the last axis, as multiply-adds in the fixed order ``j = 0, 1, ...``.

    Not a matmul or a reduction: XLA may tile a reduction differently for different batch
    sizes, and data set ``i`` must be bitwise the same alone or in a batch. The loop form
    adds the same terms in the same order as the straight-line form, so both give the same
    bits.
    """
    p = X.shape[-1]
    total = X[..., 0] * coef[0]
    if p <= UNROLL_FEATURES:
        for j in range(1, p):
            total = total + X[..., j] * coef[j]
        return total
    return jax.lax.fori_loop(1, p, lambda j, acc: acc + X[..., j] * coef[j], total)


# One generator per regime of :mod:`bench.catalog`. Each takes the four keys of one data set
# (coefficients, intercept, features, responses) and returns ``(X [n_total, p],
# y [n_total], coef_true [p])``; ``coef_true`` is NaN where the regime has none.


def _separable(keys, n_total, n_features, margin, signal, dtype):
    del signal
    k_coef, k_icpt, k_x, _ = keys
    u = _unit(k_coef, n_features, dtype)
    b = 0.5 * jax.random.normal(k_icpt, (), dtype)
    features = jax.random.normal(k_x, (n_total, n_features), dtype)
    distance = dot(features, u) + b
    side = jnp.where(distance >= 0, 1.0, -1.0).astype(dtype)
    features = features + (side * margin)[:, None] * u[None, :]
    coef = jnp.concatenate([b[None], u])
    return _with_intercept(features), (side > 0).astype(dtype), coef


def _overlap(keys, n_total, n_features, margin, signal, dtype):
    del margin
    k_coef, k_icpt, k_x, k_y = keys
    u = _unit(k_coef, n_features, dtype)
    b = 0.5 * jax.random.normal(k_icpt, (), dtype)
    coef = signal * jnp.concatenate([b[None], u])
    X = _with_intercept(jax.random.normal(k_x, (n_total, n_features), dtype))
    y = jax.random.bernoulli(k_y, jax.nn.sigmoid(dot(X, coef))).astype(dtype)
    return X, y, coef


def _quasi(keys, n_total, n_features, margin, signal, dtype):
    del margin
    k_coef, k_icpt, k_x, k_y = keys
    k_x, k_exposed = jax.random.split(k_x)
    u = _unit(k_coef, n_features, dtype).at[-1].set(0.0)
    u = u / jnp.linalg.norm(u) if n_features > 1 else u
    b = 0.5 * jax.random.normal(k_icpt, (), dtype)
    exposed = jax.random.bernoulli(k_exposed, QUASI_EXPOSURE, (n_total,)).at[0].set(True)
    features = jax.random.normal(k_x, (n_total, n_features), dtype)
    features = features.at[:, -1].set(exposed.astype(dtype))
    X = _with_intercept(features)
    coef = signal * jnp.concatenate([b[None], u])
    drawn = jax.random.bernoulli(k_y, jax.nn.sigmoid(dot(X, coef)))
    y = (drawn | exposed).astype(dtype)
    return X, y, coef.at[-1].set(jnp.inf)


def _xor(keys, n_total, n_features, margin, signal, dtype):
    del signal
    k_x = keys[2]
    features = jax.random.uniform(k_x, (n_total, n_features), dtype, -1.0, 1.0)
    first2 = features[:, :2]
    first2 = jnp.sign(first2) * (0.5 * margin + (1.0 - 0.5 * margin) * jnp.abs(first2))
    features = features.at[:, :2].set(first2)
    y = (first2[:, 0] * first2[:, 1] > 0).astype(dtype)
    return _with_intercept(features), y, jnp.full((n_features + 1,), jnp.nan, dtype)


def _circles(keys, n_total, n_features, margin, signal, dtype):
    del signal
    k_label, k_angle, k_radius, k_noise = jax.random.split(keys[2], 4)
    y = jax.random.bernoulli(k_label, 0.5, (n_total,)).astype(dtype)
    angle = jax.random.uniform(k_angle, (n_total,), dtype, 0.0, 2.0 * jnp.pi)
    unit_r = jax.random.uniform(k_radius, (n_total,), dtype)
    # Uniform over the area of the disc (radius 1) or the ring (radii 1 + margin .. 2).
    inner_sq, outer_sq = (1.0 + margin) ** 2, 4.0
    radius = jnp.where(
        y > 0, jnp.sqrt(inner_sq + (outer_sq - inner_sq) * unit_r), jnp.sqrt(unit_r)
    )
    noise = jax.random.normal(k_noise, (n_total, n_features - 2), dtype)
    features = jnp.concatenate(
        [(radius * jnp.cos(angle))[:, None], (radius * jnp.sin(angle))[:, None], noise],
        axis=-1,
    )
    return _with_intercept(features), y, jnp.full((n_features + 1,), jnp.nan, dtype)


def _poisson(keys, n_total, n_features, margin, signal, dtype):
    del margin
    k_coef, _, k_x, k_y = keys
    u = _unit(k_coef, n_features, dtype)
    coef = jnp.concatenate([jnp.ones((1,), dtype), 0.5 * signal * u])
    X = _with_intercept(jax.random.normal(k_x, (n_total, n_features), dtype))
    y = jax.random.poisson(k_y, jnp.exp(dot(X, coef))).astype(dtype)
    return X, y, coef


def _gamma(keys, n_total, n_features, margin, signal, dtype):
    del margin
    k_coef, _, k_x, k_y = keys
    u = _unit(k_coef, n_features, dtype)
    # The inverse link needs eta > 0. With |x_j| <= 1, |u.x| <= ||u||_1 <= sqrt(d), so
    # this slope keeps eta = 1 + slope * u.x inside [0.5, 1.5].
    slope = 0.5 * jnp.minimum(signal, 1.0) / jnp.sqrt(jnp.asarray(n_features, dtype))
    coef = jnp.concatenate([jnp.ones((1,), dtype), slope * u])
    X = _with_intercept(jax.random.uniform(k_x, (n_total, n_features), dtype, -1.0, 1.0))
    mean = 1.0 / dot(X, coef)
    y = jax.random.gamma(k_y, _GAMMA_SHAPE, (n_total,), dtype) * mean / _GAMMA_SHAPE
    return X, y, coef


def _gaussian(keys, n_total, n_features, margin, signal, dtype):
    del margin
    k_coef, _, k_x, k_y = keys
    u = _unit(k_coef, n_features, dtype)
    coef = signal * jnp.concatenate([jnp.ones((1,), dtype), u])
    X = _with_intercept(jax.random.normal(k_x, (n_total, n_features), dtype))
    y = dot(X, coef) + jax.random.normal(k_y, (n_total,), dtype)
    return X, y, coef


def _bootstrap(regime):
    """The generator of a resampled regime.

    ``n`` rows drawn with replacement, then the ``n`` original rows as the test set (no
    ``coef_true``).
    """

    def generate(keys, n_total, n_features, margin, signal, dtype):
        del margin, signal
        features, labels = realdata.load(regime)  # numpy constants of the program
        n = features.shape[0]
        rows = jax.random.randint(keys[2], (n_total - n,), 0, n)
        X = _with_intercept(jnp.asarray(features, dtype))
        y = jnp.asarray(labels, dtype)
        return (jnp.concatenate([X[rows], X]), jnp.concatenate([y[rows], y]),
                jnp.full((n_features + 1,), jnp.nan, dtype))

    return generate


#: The generator of each regime of :data:`bench.catalog.REGIMES` (a test checks that none
#: lacks one); every resampled regime of the catalog gets :func:`_bootstrap`'s, so adding a
#: real data set is its catalog entry alone. A regime of a family module or a plugin brings
#: its own (``Regime.generator``; :func:`generator`).
GENERATORS = {"separable": _separable, "overlap": _overlap, "quasi": _quasi, "xor": _xor,
              "circles": _circles, "poisson": _poisson, "gamma": _gamma, "gaussian": _gaussian,
              **{name: _bootstrap(name) for name in catalog.RESAMPLED_REGIMES}}


def generator(regime: str):
    """The generator of ``regime``: its own (``Regime.generator``), else this module's.

    A resampled regime of a family module draws bootstrap resamples as those here do.

    Raises:
        bench.catalog.CatalogError: for a regime the catalog lacks; KeyError for one
            without a generator.
    """
    entry = catalog.regime(regime)
    if entry.generator is not None:
        return catalog.resolve(entry.generator)
    if regime not in GENERATORS and entry.data is not None:
        return _bootstrap(regime)
    return GENERATORS[regime]
