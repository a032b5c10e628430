"""Honest timing of compiled JAX programs, and where they ran.

Compile ahead of time outside the timed region, record the compile time separately, and
block on the result inside the timed call: JAX dispatch is asynchronous, so a timing
without ``block_until_ready`` measures only the dispatch. ``benchmark`` is
pytest-benchmark's fixture (the suite's); ``python -m bench run`` times chunks itself.
"""

from __future__ import annotations

import time

import jax

__all__ = ["compile_ahead", "timed", "device_info"]


def compile_ahead(fn, *args, static_argnums=()):
    """``jax.jit(fn).lower(*args).compile()``; returns ``(compiled, compile_seconds)``."""
    start = time.perf_counter()
    compiled = jax.jit(fn, static_argnums=static_argnums).lower(*args).compile()
    return compiled, time.perf_counter() - start


def timed(benchmark, compiled, *args, rounds: int, warmup_rounds: int):
    """Time ``compiled(*args)`` with ``benchmark.pedantic``; return its (blocked) output.

    In smoke runs pytest-benchmark is disabled and this calls ``compiled`` once.
    """

    def call():
        return jax.block_until_ready(compiled(*args))

    return benchmark.pedantic(call, rounds=rounds, warmup_rounds=warmup_rounds, iterations=1)


def device_info() -> dict:
    """The default backend, device kind and device count, as plain Python values."""
    devices = jax.devices()
    return {
        "backend": jax.default_backend(),
        "device_kind": devices[0].device_kind,
        "device_count": len(devices),
    }
