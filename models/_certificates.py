r"""The two certificates of separation, checked in floating point with stated tolerances.

Give each observation with successes the row :math:`a = x` and each with failures
:math:`a = -x` (a proportion gives both). The checks read the rows with each column
divided by its largest absolute entry (``column_scale``), :math:`\tilde a_k`, so that
every entry is in :math:`[-1, 1]` and every row has length at most :math:`\sqrt p`; a
direction :math:`d` is a unit vector in those columns. *Margins* and *residuals* are
measured against that largest length:

.. math::

    m_k = \frac{\tilde a_k^\top \hat d}{\sqrt p}, \qquad
    \rho = \frac{\|\sum_k \lambda_k \tilde a_k\|}{\sqrt p \sum_k \lambda_k}.

**Rounding.** :math:`\tau = 4\,(p + \lceil\log_2 n\rceil + 4)\,\epsilon` (:func:`tolerance`)
bounds what the arithmetic that computes them can get wrong: a margin is a ``p``-term dot
product, off by at most :math:`\gamma_p \|\tilde a_k\| \le \gamma_p \sqrt p`; the residual
is a pairwise sum of ``n`` terms (:func:`pairwise_sum`), each component off by at most
:math:`\gamma_{\lceil\log_2 n\rceil + 1} \sum_k \lambda_k |\tilde a_{kj}|` (Higham 2002,
§4.2), so the vector by at most that times :math:`\sqrt p \sum\lambda`; and dividing by
the column scales moves an entry by one rounding. A certificate that passes therefore holds
exactly for data within about :math:`\tau` of the given rows (relative to the largest
entry of each column). The checks:

* *separated*: every :math:`m_k \ge -\tau` and some :math:`m_k \ge \sigma` (:func:`margin`:
  the least separation the verdict resolves);
* *complete*: every :math:`m_k > \tau`;
* *not complete* (Gordan): :math:`\lambda \ge 0`, :math:`\sum\lambda > 0`,
  :math:`\rho \le \tau`. No direction then has every margin above :math:`\tau`:
  :math:`\sum_k \lambda_k \tilde a_k^\top \hat d` would exceed
  :math:`\tau \sqrt p \sum\lambda`, yet it is at most :math:`\rho \sqrt p \sum\lambda`;
* *overlap* (Stiemke): every :math:`\lambda_k > 0`, :math:`\rho \le \tau`, and every
  :math:`\lambda_k` above :math:`2\tau/\sigma` of :math:`\sum\lambda`. No direction can then
  pass the *separated* check: if :math:`m_j \ge \sigma` and every other :math:`m_k \ge
  -\tau`, then :math:`\lambda_j \sigma \le (\rho + \tau) \sum\lambda \le 2\tau\sum\lambda`.

So the verdicts exclude each other, and none needs a row's own length: the checks read
``X`` once for the residual, and a fit's own linear predictor gives its margins.

References:
    Higham, N. J. (2002). Accuracy and Stability of Numerical Algorithms, 2nd ed., §4.2.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp

from . import _native
from ._linalg import native_or_library

__all__ = ["TAU_FACTOR", "MARGIN", "Sides", "Checks", "verdict_dtype", "tolerance", "margin",
           "column_scale", "sides_of", "pairwise_sum", "weighted_sums", "check", "judge"]

TAU_FACTOR = 4.0
"""Safety factor of :func:`tolerance` over the rounding bounds it sums."""

MARGIN = {4: 1e-2, 8: 1e-6}
"""``sigma`` by itemsize: the least margin that counts as separation."""


def verdict_dtype(dtype) -> jnp.dtype:
    """The dtype the verdict is computed in: float64 wherever JAX's x64 mode is on.

    The data are exact in float64 whatever their dtype, and float64's tolerances resolve
    margins that float32's cannot (:data:`MARGIN`); without x64, the data's own dtype.
    """
    return jnp.dtype(jnp.float64 if jax.config.read("jax_enable_x64") else dtype)


def tolerance(n: int, p: int, dtype) -> float:
    """``tau``: the rounding allowance of every check, ``TAU_FACTOR (p + ceil(log2 n) + 4) eps``."""
    eps = float(jnp.finfo(dtype).eps)
    return TAU_FACTOR * (p + math.ceil(math.log2(max(n, 2))) + 4) * eps


def margin(dtype) -> float:
    """``sigma``: the least margin that the verdict resolves, by dtype."""
    return MARGIN[jnp.dtype(dtype).itemsize]


class Sides(NamedTuple):
    """One data set as the checks read it: its rows and their sides."""

    X: jax.Array  # [n, p] the data's rows
    active: jax.Array  # [2, n] float: 1 where observation i has successes (0) / failures (1)
    columns: jax.Array  # [p, n] X^T, as the native kernel reads it


class Checks(NamedTuple):
    """What :func:`check` found of a candidate pair (direction, multipliers)."""

    separated: jax.Array
    complete: jax.Array
    not_complete: jax.Array
    overlap: jax.Array
    margin_min: jax.Array
    margin_max: jax.Array
    residual: jax.Array
    weight_min: jax.Array


def column_scale(X: jax.Array, positive: jax.Array) -> jax.Array:
    """``[p]`` the largest ``|x_ij|`` of each column over the rows ``positive`` (1 where 0).

    :func:`check` finds the same scales itself, as it reads the rows.
    """
    scale = jnp.max(jnp.where(positive[:, None], jnp.abs(X), 0.0), axis=0)
    return jnp.where(scale > 0, scale, 1.0)


def sides_of(X: jax.Array, y: jax.Array, positive: jax.Array, columns=None) -> Sides:
    """The rows ``+x_i`` (successes) and ``-x_i`` (failures) of the observations ``positive``.

    ``columns`` is ``X^T``, formed here unless given.
    """
    active = jnp.stack([positive & (y > 0), positive & (y < 1)]).astype(X.dtype)
    return Sides(X, active, X.T if columns is None else columns)


def pairwise_sum(terms: jax.Array) -> jax.Array:
    """``sum(terms, axis=0)`` by halves: error at most ``gamma_ceil(log2 n)`` of ``sum |terms|``."""
    n = terms.shape[0]
    size = 1 << max(0, (n - 1).bit_length())
    terms = jnp.pad(terms, ((0, size - n),) + ((0, 0),) * (terms.ndim - 1))
    while terms.shape[0] > 1:
        half = terms.shape[0] // 2
        terms = terms[:half] + terms[half:]
    return terms[0]


def _reduce(sides: Sides, linear, lam, shift, delta) -> jax.Array:
    """``[2p + 4]``: what :func:`check` reduces the rows to (see ``native/certificate.cc``).

    The multipliers checked are ``lam + shift * (X delta)``, 0 where no row is present.
    Their residual's sums and total by :func:`pairwise_sum`, the least and greatest
    signed margin, the least multiplier over the rows present, and each column's largest
    ``|x_ij|`` over the observations present. On CPU the native kernel computes the same
    numbers in one pass over the rows.
    """
    def library(columns, linear, lam, shift, delta, active):
        present = active > 0
        lam = jnp.where(present, lam + shift * (columns.T @ delta)[None, :], 0.0)
        margins = jnp.stack([linear, -linear])
        low = jnp.min(jnp.where(present, margins, jnp.inf))
        high = jnp.max(jnp.where(present, margins, -jnp.inf))
        lam_min = jnp.min(jnp.where(present, lam, jnp.inf))
        sums = pairwise_sum(jnp.concatenate(
            [columns.T * (lam[0] - lam[1])[:, None], (lam[0] + lam[1])[:, None]], axis=1))
        used = jnp.any(present, axis=0)
        top = jnp.max(jnp.where(used[None, :], jnp.abs(columns), 0.0), axis=1)
        return jnp.concatenate([sums, jnp.stack([low, high, lam_min]), top])

    args = (sides.columns, linear, lam, shift, delta, sides.active)
    return native_or_library(sides.columns, args, native=_native.certificate, library=library)


def weighted_sums(columns: jax.Array, weights: jax.Array, present: jax.Array):
    """``(sums [p], top [p])``: ``sum_i weights_i x_i`` over the rows ``present``, and scales.

    The sums are pairwise, as :func:`check`'s residual (one pass of the native kernel on
    CPU); ``top`` is each column's largest ``|x_ij|`` over those rows. For a model whose
    residual is a few such sums of ``X``'s rows (:mod:`models._kesler`).

    Args:
        columns: ``[p, n]`` ``X^T``.
        weights: ``[n]`` signed weights.
        present: ``[n]`` bool.
    """
    p, n = columns.shape
    zeros = jnp.zeros((n,), columns.dtype)
    on = present.astype(columns.dtype)
    lam = jnp.stack([jnp.maximum(weights, 0.0), jnp.maximum(-weights, 0.0)])
    sides = Sides(columns.T, jnp.stack([on, on]), columns)
    out = _reduce(sides, zeros, lam, jnp.zeros((2, n), columns.dtype),
                  jnp.zeros((p,), columns.dtype))
    return out[:p], out[p + 4:]


def check(sides: Sides, d: jax.Array, lam: jax.Array, *, tau: float, sigma: float,
          linear: jax.Array | None = None, shift: jax.Array | None = None,
          delta: jax.Array | None = None) -> Checks:
    """Check a direction ``d [p]`` and multipliers ``lam [2, n]``, both in the data's units.

    ``d`` multiplies the data's columns (``X d``, as coefficients do) and ``lam[s, i]`` the
    row ``+x_i`` (``s = 0``) or ``-x_i`` (``s = 1``); ``linear`` is ``X @ d`` where the caller
    has it already. With ``shift [2, n]`` and ``delta [p]`` the multipliers checked are
    ``lam + shift * (X delta)`` (a fit's last Newton correction), formed in the same pass.
    See the module docstring for each check and why the verdicts exclude each other.
    """
    n, p = sides.X.shape
    linear = sides.X @ d if linear is None else linear
    shift = jnp.zeros((2, n), lam.dtype) if shift is None else shift
    delta = jnp.zeros((p,), lam.dtype) if delta is None else delta
    return judge(_reduce(sides, linear, lam, shift, delta), d, tau=tau, sigma=sigma)


def judge(out: jax.Array, d: jax.Array, *, tau: float, sigma: float) -> Checks:
    """The :class:`Checks` of a data set reduced to ``out [2p + 4]`` (as :func:`check` does).

    ``out`` holds the residual's pairwise sums ``[p]`` and total, the least and greatest
    signed margin of ``d [p]``, the least multiplier over the rows present, and each
    column's largest ``|x_ij|`` ``[p]`` (the layout of ``native/certificate.cc``). A model
    whose rows are implicit (:mod:`models._kesler`) reduces them itself and judges here.
    """
    p = d.shape[0]
    sums, total, low, high, lam_min = out[:p], out[p], out[p + 1], out[p + 2], out[p + 3]
    top = out[p + 4:]
    scale = jnp.where(top > 0, top, 1.0)
    scaled = d * scale  # the direction in the scaled columns
    size = jnp.sqrt(jnp.sum(scaled * scaled))
    has_d = (size > 0) & jnp.isfinite(size)
    # Dividing by a positive number after the minimum gives the minimum of the quotients.
    unit = math.sqrt(p) * jnp.where(has_d, size, 1.0)
    low, high = low / unit, high / unit
    safe_total = jnp.where(total > 0, total, 1.0)
    residual_vec = sums / scale
    residual = jnp.sqrt(jnp.sum(residual_vec * residual_vec)) / (math.sqrt(p) * safe_total)
    weight_min = lam_min / safe_total
    balanced = (lam_min >= 0) & (total > 0) & jnp.isfinite(total) & (residual <= tau)
    return Checks(
        separated=has_d & (low >= -tau) & (high >= sigma),
        complete=has_d & (low > tau),
        not_complete=balanced,
        overlap=balanced & (weight_min > 2 * tau / sigma),
        margin_min=jnp.where(has_d, low, 0.0),
        margin_max=jnp.where(has_d, high, 0.0),
        residual=jnp.where(total > 0, residual, jnp.inf),
        weight_min=jnp.where(total > 0, weight_min, 0.0))
