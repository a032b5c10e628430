"""How close each case runs to the machine's limits: analytic work counts and measured ceilings.

XLA's ``cost_analysis`` counts a ``while_loop`` body once, not once per iteration, so the
work of a fit is counted analytically from the iterations that actually ran
(``n_iter_sum``), with the work model of its :mod:`bench.catalog` entry. Per data set of
``n`` points and ``p`` columns, ``h`` hidden units, the catalog's models count:

=============  ==========================================  ===============================
model          FLOPs per iteration                         bytes per iteration
=============  ==========================================  ===============================
IRLS GLM       ``np(p + 1) + 8np + p^3/3`` (symmetric      ``n(p + 2) * itemsize`` (one
               Gram, gradient, linear predictor; Cholesky) read of X, y and the weights)
Firth          IRLS plus ``2np^2 + 2np`` (hat diagonal)    the same plus one more read of X
perceptron     ``4np`` per epoch (score, update)           ``n(p + 1) * itemsize``
MLP            ``6nph + 6nh + 6n`` per step (forward,      ``n(p + 1) * itemsize``
               backward)
=============  ==========================================  ===============================

These are lower bounds on the work a straightforward implementation does, so the achieved
GFLOP/s they give are conservative. The ceilings are measured in the same session
(:func:`measure_ceilings`): a large matmul's GFLOP/s and a large copy's GB/s. The roofline
bound of a case is ``min(peak_flops, intensity * bandwidth)`` with ``intensity`` its FLOPs per
byte.
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp

from bench import catalog

__all__ = ["analytic_work", "measure_ceilings", "roofline_fields"]


def analytic_work(model: str, *, n_samples: int, n_features: int, dtype: str,
                  n_iter_sum: float) -> tuple[float, float]:
    """``(flops, bytes)`` of all the iterations of a case, from the catalog's work model.

    Raises:
        bench.catalog.CatalogError: ``model`` is not in the catalog (so it has no work
            model); nothing falls back silently.
    """
    entry = catalog.model(model)
    itemsize = 8 if dtype == "float64" else 4
    flops, moved = entry.work(n_samples, n_features + 1, itemsize, entry.settings)
    return flops * n_iter_sum, moved * n_iter_sum


def _best_seconds(fn, *args, repeats: int = 5) -> float:
    compiled = jax.jit(fn).lower(*args).compile()
    jax.block_until_ready(compiled(*args))
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(compiled(*args))
        best = min(best, time.perf_counter() - start)
    return best


def measure_ceilings(*, matmul_size: int = 2048, copy_mib: int = 256) -> dict:
    """The machine's own ceilings, measured now with JAX on the default device.

    Returns:
        ``matmul_gflops_float64``, ``matmul_gflops_float32`` (a square matmul of
        ``matmul_size``) and ``copy_gbps`` (read + write of ``copy_mib`` MiB, float32).
    """
    out = {}
    for dtype in ("float32", "float64"):
        a = jnp.ones((matmul_size, matmul_size), dtype) * 0.5
        seconds = _best_seconds(lambda x: x @ x, a)
        out[f"matmul_gflops_{dtype}"] = 2 * matmul_size**3 / seconds / 1e9
    # The copy reads and writes the same donated buffer, so no call pays the page faults of
    # a fresh 256 MiB output.
    x = jnp.ones((copy_mib * 2**20 // 4,), jnp.float32)
    nbytes = x.nbytes
    scale = jax.jit(lambda v: v * 1.000001, donate_argnums=0).lower(x).compile()
    x = jax.block_until_ready(scale(x))
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        x = jax.block_until_ready(scale(x))
        best = min(best, time.perf_counter() - start)
    out["copy_gbps"] = 2 * nbytes / best / 1e9
    out["matmul_size"], out["copy_mib"] = matmul_size, copy_mib
    return out


def roofline_fields(info: dict, ceilings: dict | None) -> dict:
    """``gflops``, ``gbps``, ``intensity`` and ``roofline_pct`` of a measured case.

    Args:
        info: a benchmark row's fields (model, sizes, dtype, ``n_iter_mean``, ``n_datasets``,
            ``seconds``).
        ceilings: :func:`measure_ceilings`' result, or None (no ``roofline_pct`` then).
    """
    if not info.get("seconds"):
        return {}
    flops, moved = analytic_work(
        info["model"], n_samples=info["n_samples"], n_features=info["n_features"],
        dtype=info["dtype"], n_iter_sum=info["n_iter_mean"] * info["n_datasets"])
    seconds = info["seconds"]
    out = {"gflops": flops / seconds / 1e9, "gbps": moved / seconds / 1e9,
           "intensity": flops / moved if moved else None}
    if ceilings:
        peak = ceilings[f"matmul_gflops_{info['dtype']}"]
        bound = min(peak, out["intensity"] * ceilings["copy_gbps"])
        out["roofline_bound_gflops"] = bound
        out["roofline_pct"] = 100.0 * out["gflops"] / bound
    return out
