"""The small dense linear algebra of the GLM fit: factorisations, solves, rank, Gram products.

The systems are ``p x p`` with ``p`` small (11 in the benchmarks) and, under ``vmap``, batched
over thousands of data sets. On CPU the Gram products, the column-skipping Cholesky factor
and its solves run as native kernels (:mod:`models._native`, for ``p`` up to
:data:`~models._native.MAX_COLUMNS`), one call for a whole group of data sets, chosen by
``lax.platform_dependent``. Elsewhere, and where the kernels cannot be built, XLA's
operations: the batched LAPACK Cholesky beats a ``lax.fori_loop`` over columns (dynamic
slices of the whole batch each step) by 2-3x, so there the column-skipping factorisation
is only a fallback; triangular solves with one right-hand side are unrolled for ``p`` up
to :data:`UNROLL_MAX`: ``p (p + 1) / 2`` elementwise operations over the batch, which XLA
fuses, instead of a library call per matrix.

References:
    Higham, N. J. (2002). Accuracy and Stability of Numerical Algorithms, 2nd ed., Ch. 10.
    Giraud, L., Langou, J., Rozloznik, M. (2005). The loss of orthogonality in the
    Gram-Schmidt orthogonalization process. Computers & Mathematics with Applications 50.
    R Core Team. ``dqrdc2.f`` (the rank rule of ``lm.fit`` and ``glm.fit``).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax
from jax.scipy.linalg import solve_triangular

from . import _native
from ._batching import on_platform
from ._lanes import when

__all__ = [
    "RANK_RTOL", "GRAM_CHUNK", "UNROLL_MAX", "INVERSE_UNROLL_MAX", "Design", "cholesky_skip",
    "cholesky_skip_fast",
    "cholesky_skip_inverse", "drop", "gram_schmidt", "gram_schmidt_factor", "qr_aliased",
    "design_aliased", "solve_lower", "solve_upper_transposed", "cho_solve",
    "inverse_diagonal", "logdet", "native_or_library",
]

RANK_RTOL = 1000.0
"""Column ``j`` is aliased when its residual norm after the earlier kept columns is at most
``sqrt(RANK_RTOL * eps)`` of its own norm (a Gram pivot of ``RANK_RTOL * eps * G[j, j]``)."""

_GATE_SAFETY = 10.0  # margin of the test that decides whether the Gram can settle the rank

UNROLL_MAX = 32
"""Largest ``p`` whose triangular solves with a vector right-hand side are unrolled."""

INVERSE_UNROLL_MAX = 16
"""Largest ``p`` whose :func:`inverse_diagonal` is unrolled. Its ``p^3 / 6`` operations
run once per fit but are traced and compiled every time: above 16 columns they cost
seconds more to compile than the one library solve they replace costs at run time."""


def cholesky_skip(gram: jax.Array, rtol) -> tuple[jax.Array, jax.Array]:
    """Cholesky factor of ``gram`` that drops columns with (near-)zero pivots.

    Left-looking Cholesky. When the pivot of column ``j`` (its residual after the earlier,
    kept columns) is at most ``rtol * gram[j, j]`` (or not finite), row and column ``j`` of
    the factor become the unit vector ``e_j``: the factor is then that of the Gram matrix
    of the kept columns, embedded in the identity, and a solve with a right-hand side that
    is 0 at the aliased positions returns 0 there and the reduced solution elsewhere.

    Args:
        gram: ``[p, p]`` symmetric positive semi-definite matrix (only its lower triangle
            is read).
        rtol: relative pivot tolerance (scalar).

    Returns:
        ``(L, aliased)``: ``[p, p]`` lower-triangular factor with a positive diagonal, and
        ``[p]`` bool, True for the dropped columns.
    """
    p = gram.shape[0]
    idx = jnp.arange(p)
    threshold = rtol * jnp.diagonal(gram)

    def column(j, carry):
        factor, aliased = carry
        residual = gram[:, j] - factor @ factor[j, :]
        pivot = residual[j]
        bad = ~(pivot > threshold[j])  # also catches NaN and all-zero columns
        root = jnp.sqrt(jnp.where(bad, 1.0, pivot))
        unit = (idx == j).astype(gram.dtype)
        col = jnp.where(idx > j, residual / root, 0.0) + unit * root
        col = jnp.where(bad, unit, col)
        factor = factor.at[:, j].set(col)
        factor = factor.at[j, :].set(jnp.where(bad, unit, factor[j, :]))
        return factor, aliased.at[j].set(bad)

    init = (jnp.zeros_like(gram), jnp.zeros((p,), bool))
    return lax.fori_loop(0, p, column, init)


def cholesky_skip_fast(gram: jax.Array, rtol: float) -> tuple[jax.Array, jax.Array]:
    """:func:`cholesky_skip`, by the fastest route the platform has.

    On CPU with the native kernels (:mod:`models._native`): :func:`cholesky_skip` itself,
    one call for the whole batch. Elsewhere a library Cholesky (LAPACK, cuSOLVER) where it
    is safe: when every pivot of the plain factorisation is finite and above
    ``rtol * gram[j, j]``, no column is aliased and the two factors agree up to rounding.
    Otherwise (rank deficiency, NaN) the column-skipping factorisation is computed instead,
    through :func:`~models._lanes.when`: under ``vmap`` only batches that hold such a data
    set pay for it.
    """
    return cholesky_skip_inverse(gram, rtol, inverse=False)[:2]


def cholesky_skip_inverse(gram: jax.Array, rtol: float, *, inverse: bool = True):
    """``(factor, aliased, diag(G^{-1}))``: :func:`cholesky_skip_fast`, and more.

    The last is :func:`inverse_diagonal` of the factor, or 0 unless ``inverse``.
    """
    def library(gram):
        factor = lax.linalg.cholesky(gram, symmetrize_input=False)  # reads the lower triangle
        pivots = jnp.diagonal(factor) ** 2
        ok = jnp.all(jnp.isfinite(factor)) & jnp.all(pivots > rtol * jnp.diagonal(gram))
        no_alias = jnp.zeros(gram.shape[:1], bool)
        factor, aliased = when(~ok, lambda gram: cholesky_skip(gram, rtol), (gram,),
                               (factor, no_alias))
        diagonal = inverse_diagonal(factor) if inverse else jnp.zeros_like(gram[0])
        return factor, aliased, diagonal

    def native(gram):
        return _native.cholesky_skip(gram, rtol, inverse=inverse)

    return native_or_library(gram, (gram,), native=native, library=library)


def native_or_library(operand: jax.Array, args: tuple, *, native, library):
    """``native(*args)`` on CPU where the native kernels take ``operand``, else ``library``.

    ``operand`` is ``[p, p]`` or ``[p, n]``: the kernels take ``p`` columns of the dtypes
    they are built for. Off CPU (``lax.platform_dependent``) ``library(*args)`` always.
    """
    if not (_native.supports(operand.dtype, operand.shape[0]) and _native.available()):
        return library(*args)
    return on_platform(args, cpu=native, default=library)


def drop(gram: jax.Array, aliased: jax.Array) -> jax.Array:
    """``gram`` with the rows and columns of the ``aliased [p]`` columns set to the identity's."""
    outer = aliased[:, None] | aliased[None, :]
    return jnp.where(outer, jnp.eye(gram.shape[0], dtype=gram.dtype), gram)


def gram_schmidt(A: jax.Array, rtol: float, *, floor=0.0) -> tuple[jax.Array, jax.Array]:
    """``(basis, aliased)``: an orthonormal basis of the columns of ``A [n, p]``, by column.

    Gram-Schmidt with reorthogonalisation ("twice is enough", Giraud et al. 2005) instead
    of Householder: column ``j`` is *aliased* when its residual after projection on the
    earlier *kept* columns has at most ``rtol`` of its norm, or of ``floor`` where that is
    larger (all-zero and non-finite columns too). Unlike a pivot of ``A^T A`` this does
    not square the condition number, so an exactly collinear column is found next to
    ill-conditioned ones.

    Returns:
        ``basis [n, p]``: column ``j`` is the unit residual of kept column ``j`` (0 for an
        aliased one); ``aliased [p]`` bool.
    """
    n, p = A.shape
    norms = jnp.maximum(jnp.sqrt(jnp.sum(A * A, axis=0)), floor)

    def column(j, carry):
        basis, aliased = carry  # basis [n, p]: orthonormal kept columns, zeros elsewhere
        v = A[:, j]
        for _ in range(2):
            v = v - basis @ (basis.T @ v)
        norm = jnp.sqrt(jnp.sum(v * v))
        bad = ~(norm > rtol * norms[j])
        basis = basis.at[:, j].set(jnp.where(bad, 0.0, v / jnp.where(bad, 1.0, norm)))
        return basis, aliased.at[j].set(bad)

    init = (jnp.zeros_like(A), jnp.zeros((p,), bool))
    return lax.fori_loop(0, p, column, init)


def gram_schmidt_factor(A: jax.Array, rtol: float, *, floor=0.0) -> tuple[jax.Array, jax.Array]:
    """``(L, aliased)``: a Cholesky factor of ``A^T A`` that never forms ``A^T A``.

    ``A = Q T`` by :func:`gram_schmidt`, so ``A^T A = T^T T`` and ``L = T^T`` on the kept
    columns, embedded in the identity as :func:`cholesky_skip` does (a solve with a
    right-hand side that is 0 at the aliased positions returns 0 there). The rank is
    decided on ``A`` itself, not on its Gram matrix, whose pivots square the condition
    number: a rank-deficient ``A`` gives the same aliased columns however its rows are
    summed. ``floor`` as in :func:`gram_schmidt`.
    """
    basis, aliased = gram_schmidt(A, rtol, floor=floor)
    keep = ~aliased
    upper = basis.T @ A
    upper = jnp.where(keep[:, None] & keep[None, :], jnp.triu(upper),
                      jnp.diag(aliased.astype(A.dtype)))
    return upper.T, aliased


def qr_aliased(A: jax.Array, rtol: float) -> jax.Array:
    """``[p]`` bool: columns of ``A [n, p]`` within ``rtol`` (relative) of the earlier kept ones.

    R's ``dqrdc2`` rule, by :func:`gram_schmidt`.
    """
    return gram_schmidt(A, rtol)[1]


def design_aliased(X: jax.Array, working: jax.Array, gram: jax.Array, eps: float):
    """``[p]`` bool: the aliased columns of ``W^1/2 X`` (``gram`` its Gram matrix ``X^T W X``).

    Decided once per fit, at the starting weights (R decides at every iteration, from the
    same matrix). The Gram matrix settles it when it is well conditioned: if
    ``W^1/2 X`` had a dependent column, the computed Cholesky factor would be that of
    ``G + dG`` with ``|dG| <= p (p + 1) eps`` (columns scaled to unit norm; Higham 2002,
    Thm 10.3), so some variance inflation factor ``G[j, j] (G^{-1})[j, j]`` would be at least
    ``1 / (p^2 (p + 1) eps)``. Below that bound (with a safety factor of 10) no column is
    aliased. Above it, or when the factorisation fails, :func:`qr_aliased` decides, through
    :func:`~models._lanes.when`: under ``vmap`` only batches holding such a data set pay for it.
    """
    p = gram.shape[0]
    # rtol 0: a pivot is lost only where the plain factorisation breaks down.
    factor, lost, inverse = cholesky_skip_inverse(gram, 0.0)
    inflation = jnp.diagonal(gram) * inverse
    bound = 1.0 / (_GATE_SAFETY * p * p * (p + 1) * eps)
    trusted = jnp.all(jnp.isfinite(factor)) & ~jnp.any(lost) & jnp.all(inflation < bound)
    rtol = math.sqrt(RANK_RTOL * eps)
    aliased = when(~trusted, lambda X, w: qr_aliased(X * jnp.sqrt(w)[:, None], rtol),
                   (X, working), jnp.zeros((p,), bool))
    # A Gram matrix that overflows the dtype decides nothing: its columns are not dependent,
    # only too large, and dropping them would fit a smaller model and call it converged.
    # Kept, they make the fit fail where the overflow bites, as it must.
    return aliased & jnp.all(jnp.isfinite(gram))


def solve_lower(factor: jax.Array, rhs: jax.Array) -> jax.Array:
    """Solve ``L x = rhs`` for lower-triangular ``L [p, p]``; ``rhs`` is ``[p]`` or ``[p, m]``.

    Unrolled into scalar arithmetic for a vector ``rhs`` and ``p <= UNROLL_MAX``.
    """
    p = factor.shape[0]
    if p > UNROLL_MAX or rhs.ndim > 1:
        return solve_triangular(factor, rhs, lower=True)
    x: list[jax.Array] = []
    for i in range(p):
        acc = rhs[i]
        for k in range(i):
            acc = acc - factor[i, k] * x[k]
        x.append(acc / factor[i, i])
    return jnp.stack(x)


def solve_upper_transposed(factor: jax.Array, rhs: jax.Array) -> jax.Array:
    """Solve ``L^T x = rhs`` for lower-triangular ``L [p, p]`` and ``rhs [p]``."""
    p = factor.shape[0]
    if p > UNROLL_MAX:
        return solve_triangular(factor, rhs, lower=True, trans=1)
    x: list[jax.Array] = [jnp.zeros((), rhs.dtype)] * p
    for i in reversed(range(p)):
        acc = rhs[i]
        for k in range(i + 1, p):
            acc = acc - factor[k, i] * x[k]
        x[i] = acc / factor[i, i]
    return jnp.stack(x)


def cho_solve(factor: jax.Array, rhs: jax.Array, *, unrolled: bool = True) -> jax.Array:
    """Solve ``L L^T x = rhs`` by two triangular solves (on CPU, the native kernel's).

    Off the native kernels the solves are unrolled (:func:`solve_lower`), fastest for a
    loop that runs them at every iteration; ``unrolled=False`` calls the library's
    triangular solve instead, a smaller program for code that runs rarely.
    """
    def library(factor, rhs):
        return solve_triangular(factor, solve_triangular(factor, rhs, lower=True),
                                lower=True, trans=1)

    def unrolled_solve(factor, rhs):
        return solve_upper_transposed(factor, solve_lower(factor, rhs))

    fallback = unrolled_solve if unrolled else library
    if rhs.ndim > 1:
        return fallback(factor, rhs)
    return native_or_library(factor, (factor, rhs), native=_native.cho_solve, library=fallback)


def inverse_diagonal(factor: jax.Array) -> jax.Array:
    """``diag((L L^T)^{-1})``: the squared column norms of ``L^{-1}``.

    For ``p <= INVERSE_UNROLL_MAX`` column ``j`` of ``L^{-1}`` is forward substitution on
    ``e_j`` unrolled from row ``j`` (the rows above are 0): ``p^3 / 6`` elementwise
    operations over the batch instead of a library triangular solve per matrix.
    """
    p = factor.shape[0]
    if p > INVERSE_UNROLL_MAX:
        inverse = solve_triangular(factor, jnp.eye(p, dtype=factor.dtype), lower=True)
        return jnp.sum(inverse**2, axis=0)
    out = []
    for j in range(p):
        x = {j: 1 / factor[j, j]}
        for i in range(j + 1, p):
            acc = factor[i, j] * x[j]
            for k in range(j + 1, i):
                acc = acc + factor[i, k] * x[k]
            x[i] = -acc / factor[i, i]
        total = x[j] ** 2
        for i in range(j + 1, p):
            total = total + x[i] ** 2
        out.append(total)
    return jnp.stack(out)


def logdet(factor: jax.Array, aliased: jax.Array) -> jax.Array:
    """``log det`` of the Gram matrix of the kept columns."""
    return 2 * jnp.sum(jnp.where(aliased, 0.0, jnp.log(jnp.diagonal(factor))))


GRAM_CHUNK = 64
"""Most rows per block when ``X^T W X`` is summed over row blocks (see :class:`Design`)."""


class Design(NamedTuple):
    """``X`` in the layouts that the weighted Gram matrices ``X^T W X`` are formed from.

    On CPU, where the native kernel is available (:mod:`models._native`), ``X^T W X`` and
    ``X^T W z`` come from it, reading ``columns`` (``X^T``). Elsewhere, and as the
    fallback, XLA forms
    them as a sum over blocks of at most ``GRAM_CHUNK`` rows, each block a plain
    ``[p + 1, m] @ [m, p]`` product with both operands in their natural (row-major)
    layout: under ``vmap`` XLA:CPU compiles the batch of small products and the sum over
    blocks into one fused kernel (YNNPACK), about twice as fast as one ``[n, p]^T [n, p]``
    product per data set, which goes to a general GEMM. The extra row of the left operand
    carries ``W z``, so the right-hand side comes out of the same product. Rows added to
    fill the last block are 0 and get weight 0. Built once per fit; XLA drops the layout
    that the compiled platform does not read.
    """

    blocks: jax.Array  # [k, m, p] row blocks of X (zero rows appended)
    blocks_t: jax.Array  # [k, p, m] the same blocks, transposed
    columns: jax.Array  # [p, n] X^T (the native kernel's)

    @classmethod
    def of(cls, X: jax.Array) -> Design:
        n, p = X.shape
        columns = X.T
        n_blocks = -(-n // GRAM_CHUNK)
        rows = -(-n // n_blocks)
        if n_blocks * rows != n:
            X = jnp.pad(X, ((0, n_blocks * rows - n), (0, 0)))
        blocks = X.reshape(n_blocks, rows, p)
        # One transpose of the blocks: written as X^T then a move of whole rows, XLA made it
        # two passes with an odd layout between (docs/glm-core.md, "Per-op profile").
        blocks_t = jnp.transpose(blocks, (0, 2, 1))
        return cls(blocks, blocks_t, columns)

    def normal_equations(self, working: jax.Array, wz: jax.Array):
        """``(X^T W X, X^T wz)`` for weights ``working [n]`` and ``wz [n]``.

        With ``[k, n]`` weights (``k`` weightings of the same ``X``, e.g. the expected and
        the observed information) the results are ``[k, p, p]`` and ``[k, p]``, all from one
        pass (the kernel) or one product (XLA).
        """
        stacked = working.ndim == 2
        working, wz = jnp.atleast_2d(working), jnp.atleast_2d(wz)
        gram, rhs = native_or_library(self.columns, (working, wz), native=self._native,
                                       library=self._xla)
        return (gram, rhs) if stacked else (gram[0], rhs[0])

    def _native(self, working, wz):
        return _native.normal_equations(self.columns, working, wz)

    def _xla(self, working, wz):
        n_blocks, rows, p = self.blocks.shape
        k = working.shape[0]
        fill = n_blocks * rows - working.shape[1]

        def split(v):  # [k, n] -> [n_blocks, k, 1, rows]
            v = jnp.pad(v, ((0, 0), (0, fill))).reshape(k, n_blocks, 1, rows)
            return jnp.moveaxis(v, 0, 1)

        left = jnp.concatenate([self.blocks_t[:, None] * split(working), split(wz)], axis=2)
        left = left.reshape(n_blocks, k * (p + 1), rows)
        product = jnp.sum(jnp.matmul(left, self.blocks), axis=0).reshape(k, p + 1, p)
        return product[:, :p], product[:, p]

    def gram(self, working: jax.Array) -> jax.Array:
        """``X^T W X`` for weights ``working [n]``."""
        # Through the same augmented product: XLA rewrites the bare [p, m] @ [m, p] one into a
        # product with a transposed operand, which is slower (docs/glm-core.md).
        return self.normal_equations(working, working)[0]
