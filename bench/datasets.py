"""Batched synthetic data sets: one generator for every model and every benchmark.

Every benchmark row draws its data from :func:`make`, so separable and non-separable results
are comparable. Data set ``i`` of a batch depends only on ``jax.random.fold_in(key, i)``: a
chunk ``[start, start + n_datasets)`` can be generated inside a compiled program without
materialising the rest (:func:`make` with ``start=``, or :func:`make_one` on one key).

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

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from bench import catalog, realdata
from bench.cases import MAX_DATASETS

__all__ = ["Datasets", "SYNTHETIC_REGIMES", "CLASSIFICATION_REGIMES", "GENERATORS",
           "generator", "make", "make_one", "make_from_keys", "dataset_keys", "check_args"]

#: The synthetic regimes (sized by the caller), in table order, and those with 0/1 labels
#: (the resampled real data sets are :data:`bench.catalog.RESAMPLED_REGIMES`).
SYNTHETIC_REGIMES = tuple(r.name for r in catalog.REGIMES if r.data is None)
CLASSIFICATION_REGIMES = catalog.CLASSIFICATION_REGIMES

_GAMMA_SHAPE = 5.0

#: Share of the rows of a ``quasi`` data set that carry its binary exposure.
QUASI_EXPOSURE = 0.1

#: Called outside a trace, :func:`make` draws a smaller batch as the first rows of a batch
#: of this many (when that batch stays under :data:`SMALL_BATCH_BYTES`): data set ``i``
#: depends only on its key, so the rows are the same, and every small batch of a regime and
#: size shares one compiled program instead of compiling one per ``n_datasets``. Inside a
#: trace (a program that is timed, say) it draws exactly ``n_datasets``.
SMALL_BATCH = 8
#: The most bytes a batch padded to :data:`SMALL_BATCH` data sets may hold.
SMALL_BATCH_BYTES = 2**24


class Datasets(NamedTuple):
    """A batch of data sets (or one, without the leading axis, from :func:`make_one`).

    Attributes:
        X_train: ``[B, n_samples, p]`` design matrices, intercept column first.
        y_train: ``[B, n_samples]`` responses: 0/1 labels for the classification regimes,
            counts / positive reals / reals for poisson / gamma / gaussian.
        X_test: ``[B, n_test, p]`` held-out design matrices from the same distribution.
        y_test: ``[B, n_test]`` held-out responses.
        coef_true: ``[B, p]`` the generating coefficients; NaN for xor and circles, which have
            none.
        margin: ``[B]`` realised geometric margin of the true hyperplane on the training set,
            ``min_i (2 y_i - 1) X_i @ coef_true`` with the feature part of ``coef_true`` of
            unit norm; NaN for the other regimes.
    """

    X_train: jax.Array
    y_train: jax.Array
    X_test: jax.Array
    y_test: jax.Array
    coef_true: jax.Array
    margin: jax.Array


def check_args(regime: str, *, n_datasets: int = 1, n_samples: int, n_features: int,
               n_test: int | None = None, margin: float = 0.1, signal: float = 1.0,
               dtype=jnp.float32, start: int = 0) -> tuple[int, jnp.dtype]:
    """Validate :func:`make`'s settings; return ``(n_test, dtype)`` resolved.

    Raises:
        ValueError: naming the allowed values, for any bad setting.
    """
    catalog.regime(regime)  # an unknown name raises, listing the regimes
    for name, value, minimum in (
        ("n_datasets", n_datasets, 1),
        ("n_samples", n_samples, 2),
        ("n_features", n_features, 1),
    ):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")
        if value < minimum:
            raise ValueError(f"{name} must be >= {minimum}, got {value}.")
    real = catalog.regime(regime).data
    if real is not None and (n_samples, n_features) != (real.n_samples, real.n_features):
        raise ValueError(
            f"regime {regime!r} resamples a real data set of {real.n_samples} rows and "
            f"{real.n_features} features: pass n_samples={real.n_samples}, "
            f"n_features={real.n_features} (got {n_samples}, {n_features}).")
    if real is not None and n_test not in (None, real.n_samples):
        raise ValueError(f"regime {regime!r} tests on its {real.n_samples} original rows: "
                         f"pass n_test={real.n_samples} or None (got {n_test!r}).")
    least = catalog.regime(regime).min_features
    if n_features < least:
        raise ValueError(f"regime {regime!r} needs n_features >= {least}, got {n_features}.")
    if n_test is None:
        n_test = n_samples
    if isinstance(n_test, bool) or not isinstance(n_test, (int, np.integer)) or n_test < 1:
        raise ValueError(f"n_test must be an integer >= 1 (or None for n_samples), got {n_test!r}.")
    if isinstance(start, bool) or not isinstance(start, (int, np.integer)) or start < 0:
        raise ValueError(f"start must be an integer >= 0, got {start!r}.")
    if start + n_datasets > MAX_DATASETS:
        raise ValueError(f"start + n_datasets must be at most {MAX_DATASETS:,}: a data set's "
                         f"key is derived from its 32-bit index (got {start} + {n_datasets}).")
    if not np.isfinite(margin) or margin < 0:
        raise ValueError(f"margin must be a finite number >= 0, got {margin!r}.")
    if not np.isfinite(signal) or signal <= 0:
        raise ValueError(f"signal must be a finite number > 0, got {signal!r}.")
    try:
        dtype = jnp.dtype(dtype)
    except TypeError:
        raise ValueError(f"dtype must be float32 or float64, got {dtype!r}.") from None
    if dtype not in (jnp.dtype(jnp.float32), jnp.dtype(jnp.float64)):
        raise ValueError(f"dtype must be float32 or float64, got {dtype}.")
    if dtype == jnp.float64 and not jax.config.read("jax_enable_x64"):
        raise ValueError(
            "dtype=float64 needs JAX's x64 mode: call "
            "jax.config.update('jax_enable_x64', True) first (or set JAX_ENABLE_X64=1)."
        )
    return int(n_test), dtype


def dataset_keys(key: jax.Array, start, n_datasets: int) -> jax.Array:
    """Per-data-set keys ``fold_in(key, i)`` for ``i in [start, start + n_datasets)``.

    ``start`` may be a traced integer, so a chunked runner can generate chunk ``c`` inside
    its compiled loop.
    """
    index = jnp.asarray(start, dtype=jnp.uint32) + jnp.arange(n_datasets, dtype=jnp.uint32)
    return jax.vmap(jax.random.fold_in, in_axes=(None, 0))(key, index)


def _with_intercept(features: jax.Array) -> jax.Array:
    ones = jnp.ones(features.shape[:-1] + (1,), features.dtype)
    return jnp.concatenate([ones, features], axis=-1)


def _unit(key, n_features, dtype):
    u = jax.random.normal(key, (n_features,), dtype)
    return u / jnp.linalg.norm(u)


#: Up to this many columns, :func:`_dot` adds its products in straight-line code; above it,
#: in a ``fori_loop``, so the program's size (and its compile time and memory) stays
#: constant in ``n_features`` (the perceptron's ``_margins`` does the same).
UNROLL_FEATURES = 32


def _dot(X, coef):
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
    distance = _dot(features, u) + b
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
    y = jax.random.bernoulli(k_y, jax.nn.sigmoid(_dot(X, coef))).astype(dtype)
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
    drawn = jax.random.bernoulli(k_y, jax.nn.sigmoid(_dot(X, coef)))
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
    y = jax.random.poisson(k_y, jnp.exp(_dot(X, coef))).astype(dtype)
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
    mean = 1.0 / _dot(X, coef)
    y = jax.random.gamma(k_y, _GAMMA_SHAPE, (n_total,), dtype) * mean / _GAMMA_SHAPE
    return X, y, coef


def _gaussian(keys, n_total, n_features, margin, signal, dtype):
    del margin
    k_coef, _, k_x, k_y = keys
    u = _unit(k_coef, n_features, dtype)
    coef = signal * jnp.concatenate([jnp.ones((1,), dtype), u])
    X = _with_intercept(jax.random.normal(k_x, (n_total, n_features), dtype))
    y = _dot(X, coef) + jax.random.normal(k_y, (n_total,), dtype)
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

    Raises:
        bench.catalog.CatalogError: for a regime the catalog lacks; KeyError for one
            without a generator.
    """
    own = catalog.regime(regime).generator
    return GENERATORS[regime] if own is None else catalog.resolve(own)


def _generate(regime, key, n_total, n_features, margin, signal, dtype):
    """One data set of ``n_total`` points: ``(X [n_total, p], y [n_total], coef_true [p])``."""
    keys = jax.random.split(key, 4)
    return generator(regime)(keys, n_total, n_features, margin, signal, dtype)


def make_one(regime: str, key: jax.Array, *, n_samples: int, n_features: int,
             n_test: int | None = None, margin: float = 0.1, signal: float = 1.0,
             dtype=jnp.float32) -> Datasets:
    """One data set (no leading batch axis) from one key; see :func:`make` for the arguments.

    ``make(regime, key, n_datasets=B, ...)[i]`` equals
    ``make_one(regime, jax.random.fold_in(key, i), ...)`` bitwise.
    """
    # The same compiled batch program as make(), on a batch of one: bitwise equal to make().
    batch = make_from_keys(regime, jnp.asarray(key)[None], n_samples=n_samples,
                           n_features=n_features, n_test=n_test, margin=margin, signal=signal,
                           dtype=dtype)
    return jax.tree.map(lambda leaf: leaf[0], batch)


def _make_one(regime, key, n_samples, n_features, n_test, margin, signal, dtype) -> Datasets:
    X, y, coef = _generate(regime, key, n_samples + n_test, n_features, margin, signal, dtype)
    X_train, X_test = X[:n_samples], X[n_samples:]
    y_train, y_test = y[:n_samples], y[n_samples:]
    if regime == "separable":
        distance = _dot(X_train, coef)
        realised = jnp.min(jnp.where(y_train > 0, distance, -distance))
    else:
        realised = jnp.asarray(jnp.nan, dtype)
    return Datasets(X_train, y_train, X_test, y_test, coef, realised)


def make(
    regime: str,
    key: jax.Array,
    *,
    n_datasets: int,
    n_samples: int,
    n_features: int,
    n_test: int | None = None,
    margin: float = 0.1,
    signal: float = 1.0,
    dtype=jnp.float32,
    start: int = 0,
) -> Datasets:
    """Generate a batch of synthetic data sets.

    Args:
        regime: a regime of :func:`bench.catalog.regimes` (see the module docstring).
        key: a ``jax.random`` key; data set ``i`` uses ``fold_in(key, start + i)``.
        n_datasets: ``B``, the number of data sets, >= 1.
        n_samples: ``n``, training points per data set, >= 2.
        n_features: features per data set, >= 1 (>= 2 for xor and circles); the design
            matrix has ``p = n_features + 1`` columns with the intercept.
        n_test: held-out points per data set; defaults to ``n_samples``.
        margin: separable: the minimum distance of every point to the true hyperplane;
            xor and circles: the gap between the classes. Must be >= 0.
        signal: overlap: the norm of the feature part of ``coef_true`` (larger is easier,
            and more often separable); poisson, gaussian: its scale. Must be > 0.
        dtype: ``jnp.float32`` or ``jnp.float64`` (the latter needs JAX's x64 mode).
        start: index of the first data set; ``make(..., start=s, n_datasets=c)`` is the
            chunk ``[s, s + c)`` of any larger batch.

    Returns:
        :class:`Datasets` with a leading axis of size ``n_datasets`` on every field.

    Raises:
        ValueError: for an unknown regime or a bad size, margin, signal or dtype, before any
            tracing.
    """
    n_test, dtype = check_args(
        regime, n_datasets=n_datasets, n_samples=n_samples, n_features=n_features,
        n_test=n_test, margin=margin, signal=signal, dtype=dtype, start=start,
    )
    drawn = n_datasets if isinstance(key, jax.core.Tracer) else _drawn(
        n_datasets, n_samples + n_test, n_features, dtype)
    keys = dataset_keys(key, start, drawn)
    batch = _make_batch(keys, regime, n_samples, n_features, n_test, float(margin),
                        float(signal), dtype)
    if drawn == n_datasets:
        return batch
    return jax.tree.map(lambda leaf: _first(leaf, n_datasets), batch)


def _drawn(n_datasets: int, n_points: int, n_features: int, dtype) -> int:
    """How many data sets :func:`make` draws for ``n_datasets`` (:data:`SMALL_BATCH`)."""
    padded_bytes = SMALL_BATCH * n_points * (n_features + 2) * jnp.dtype(dtype).itemsize
    if n_datasets >= SMALL_BATCH or padded_bytes > SMALL_BATCH_BYTES:
        return n_datasets
    return SMALL_BATCH


def _first(leaf, n: int):
    """The first ``n`` rows of ``leaf``, cut on the host where it is concrete.

    A slice on the device would compile a program for each size, and so would
    ``jnp.asarray`` putting the rows back (``jax.device_put`` does not).
    """
    if isinstance(leaf, jax.core.Tracer):  # a concrete key inside a trace
        return leaf[:n]
    return jax.device_put(np.asarray(leaf)[:n])


def make_from_keys(
    regime: str,
    keys: jax.Array,
    *,
    n_samples: int,
    n_features: int,
    n_test: int | None = None,
    margin: float = 0.1,
    signal: float = 1.0,
    dtype=jnp.float32,
) -> Datasets:
    """A batch of data sets from explicit per-data-set keys (which may be traced).

    ``make(regime, key, n_datasets=c, start=s, ...)`` is
    ``make_from_keys(regime, dataset_keys(key, s, c), ...)``; this form lets a compiled
    program generate a chunk whose start is only known at run time.
    """
    n_test, dtype = check_args(
        regime, n_datasets=int(keys.shape[0]), n_samples=n_samples, n_features=n_features,
        n_test=n_test, margin=margin, signal=signal, dtype=dtype,
    )
    return _make_batch(keys, regime, n_samples, n_features, n_test, float(margin),
                       float(signal), dtype)


@functools.partial(jax.jit, static_argnums=(1, 2, 3, 4, 5, 6, 7))
def _make_batch(keys, regime, n_samples, n_features, n_test, margin, signal, dtype):
    return jax.vmap(
        lambda k: _make_one(regime, k, n_samples, n_features, n_test, margin, signal, dtype)
    )(keys)
