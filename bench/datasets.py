"""Batched synthetic data sets: one generator for every model and every benchmark.

Every benchmark row draws its data from :func:`make`, so separable and non-separable results
are comparable. Data set ``i`` of a batch depends only on ``jax.random.fold_in(key, i)``: a
chunk ``[start, start + n_datasets)`` can be generated inside a compiled program without
materialising the rest (:func:`make` with ``start=``, or :func:`make_one` on one key).

The regimes and their generators are :mod:`bench.generators`.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from bench import catalog
from bench.cases import MAX_DATASETS
from bench.generators import GENERATORS, dot, generator

__all__ = ["Datasets", "SYNTHETIC_REGIMES", "CLASSIFICATION_REGIMES", "GENERATORS",
           "generator", "make", "make_one", "make_from_keys", "dataset_keys", "check_args"]

#: The synthetic regimes (sized by the caller), in table order, and those with 0/1 labels
#: (the resampled real data sets are :data:`bench.catalog.RESAMPLED_REGIMES`).
SYNTHETIC_REGIMES = tuple(r.name for r in catalog.REGIMES if r.data is None)
CLASSIFICATION_REGIMES = catalog.CLASSIFICATION_REGIMES


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
        y_train: ``[B, n_samples]`` responses: 0/1 labels for the classification regimes
            (0 .. K-1 for the K-class ones), counts / positive reals / reals for poisson /
            gamma / gaussian.
        X_test: ``[B, n_test, p]`` held-out design matrices from the same distribution.
        y_test: ``[B, n_test]`` held-out responses.
        coef_true: ``[B, p]`` the generating coefficients; NaN for xor and circles, which have
            none.
        margin: ``[B]`` realised geometric margin of the true hyperplane on the training set,
            ``min_i (2 y_i - 1) X_i @ coef_true`` with the feature part of ``coef_true`` of
            unit norm; a K-class separable regime's own (its generator's); NaN for the
            other regimes.
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
    X, y, coef, *margins = _generate(regime, key, n_samples + n_test, n_features, margin,
                                     signal, dtype)
    X_train, X_test = X[:n_samples], X[n_samples:]
    y_train, y_test = y[:n_samples], y[n_samples:]
    if margins:  # the generator's own margins (bench.generators)
        realised = jnp.min(margins[0][:n_samples])
    elif regime == "separable":
        distance = dot(X_train, coef)
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
