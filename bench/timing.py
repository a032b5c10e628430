"""Honest timing of compiled JAX programs, and where they ran.

Compile ahead of time outside the timed region, record the compile time separately, and
block on the result inside the timed call: JAX dispatch is asynchronous, so a timing
without ``block_until_ready`` measures only the dispatch. ``benchmark`` is
pytest-benchmark's fixture (the suite's); ``python -m bench run`` times chunks itself.
"""

from __future__ import annotations

import pathlib
import time

import jax

from bench.interrupts import interrupts_deferred

__all__ = ["compile_ahead", "timed", "device_info", "profile_call"]


def compile_ahead(fn, *args, static_argnums=(), on_compile=None):
    """``jax.jit(fn).lower(*args).compile()``; returns ``(compiled, compile_seconds)``.

    A Ctrl-C meanwhile is acted on once XLA has returned (:mod:`bench.interrupts`): one
    inside XLA's compile call crashed the process. ``on_compile()``, if given, is called
    between tracing and XLA's compilation (``python -m bench run`` says "compiling" then).
    """
    start = time.perf_counter()
    with interrupts_deferred("compiling"):
        lowered = jax.jit(fn, static_argnums=static_argnums).lower(*args)
        if on_compile is not None:
            on_compile()
        compiled = lowered.compile()
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


def profile_call(fn, folder: pathlib.Path):
    """Run ``fn()`` to completion under ``jax.profiler.trace(folder)``; return its result.

    The trace (``plugins/profile/<run>/*.xplane.pb``) shows where a call's time goes, host
    and device, in TensorBoard's profile plugin or Perfetto.
    """
    folder.mkdir(parents=True, exist_ok=True)
    with jax.profiler.trace(str(folder)):
        return jax.block_until_ready(fn())

