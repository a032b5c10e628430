"""Rows padded to a few sizes, so that data sets of many sizes share compiled programs.

A jitted fit is compiled once per shape. A user who fits real data sets one at a time, or
a simulation study that varies ``n``, meets a new shape at every call: each costs a compile
(seconds) and the memory of one more program, and thousands of them exhaust the process's
memory maps. :func:`pad` rounds the number of rows up to a *bucket* and fills the new rows
with copies of row 0 at prior weight 0. A zero weight removes a row from every sum the fit
forms (the deviance, ``X^T W X``, the score, the residual degrees of freedom, the
separation check), so the fit is the same up to rounding; copies of a real row keep every
check of the inputs (support of ``y``, finiteness, the intercept column) as it was.

Buckets are the powers of two up to :data:`FINE_FROM` rows (at most twice the work of an
unpadded fit, where a fit costs little next to its compile), then multiples of
:data:`FINE_STEP` (at most an eighth more). Only concrete arrays are padded: under a
caller's ``jit`` or ``vmap`` the caller has chosen its shapes and compiles once for them.
"""

from __future__ import annotations

import jax
import numpy as np

__all__ = ["FINE_FROM", "FINE_STEP", "bucket", "concrete", "pad"]

FINE_FROM = 65536
"""Up to this many rows, a bucket is the next power of two (at least 16)."""

FINE_STEP = 8192
"""Past :data:`FINE_FROM` rows, a bucket is the next multiple of this."""


def bucket(n: int) -> int:
    """The number of rows a data set of ``n`` rows is padded to (``n`` itself if on one)."""
    if n <= FINE_FROM:
        return max(16, 1 << max(n - 1, 0).bit_length())
    return -(-n // FINE_STEP) * FINE_STEP


def concrete(*arrays) -> bool:
    """Whether every array is a value (none is traced by ``jit``, ``vmap`` or ``grad``)."""
    return not any(isinstance(leaf, jax.core.Tracer)
                   for a in arrays if a is not None for leaf in jax.tree.leaves(a))


def pad(X, y, weights, offset, dtype):
    """``(X, y, weights, offset)`` with rows added up to :func:`bucket` of ``n``.

    Args:
        X: ``[n, p]``.
        y: ``[n]``.
        weights: ``[n]`` prior weights, or ``None`` for ones.
        offset: ``[n]``, or ``None`` (kept ``None``: no offset is not a zero offset to the
            null deviance).
        dtype: the fit's floating dtype; the weights are built in it, so padding never
            promotes the fit to another precision.

    Returns:
        The four with ``bucket(n)`` rows: new rows are copies of row 0 with weight 0. The
        arrays are NumPy's where the inputs were (no device program per shape), else JAX's.
    """
    n = np.shape(y)[0]
    extra = bucket(n) - n
    xp = np if all(isinstance(a, (np.ndarray, list, tuple, float, int))
                   for a in (X, y, weights, offset) if a is not None) else jax.numpy
    ones = xp.ones((n,), dtype) if weights is None else xp.asarray(weights)
    if extra == 0:
        return X, y, ones, offset

    def grow(a, fill=None):
        a = xp.asarray(a)
        rows = (xp.zeros((extra,), a.dtype) if fill is not None
                else xp.repeat(a[:1], extra, axis=0))
        return xp.concatenate([a, rows])

    return (grow(X), grow(y), grow(ones, fill=0),
            None if offset is None else grow(offset))
