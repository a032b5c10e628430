"""The GLM's small dense kernels in C++, as XLA FFI custom calls on CPU.

Each IRLS iteration forms ``X^T W X`` and ``X^T W z``, factorises the ``p x p`` system and
solves it. XLA:CPU computes the first as a batched matrix product (all ``p x p`` entries,
at about a third of a core's float64 FMA peak), the factorisation as one LAPACK call per
matrix, and the solves as about twenty small fused loops, each its own step of the
program. The kernels here do each in one call over the whole group of data sets:

* ``normal_equations.cc``: the upper triangle of ``X^T W X`` and ``X^T W z`` in one pass
  over ``X^T`` (17.6 kB for ``n = 200``, ``p = 11``: in L1), two columns at a time, with
  the sums in 64-byte vector registers;
* ``cholesky.cc``: :func:`models._linalg.cholesky_skip` to the letter (the
  column-skipping factor), with ``diag(G^{-1})`` when asked, and the two triangular
  solves;
* ``certificate.cc``: the sums and extremes that check a separation certificate
  (:func:`models._certificates.check`), in one pass over ``X^T`` per data set;
* ``separation.cc``: the separation linear program's candidates
  (:func:`models._separation.decide`), the JAX code step for step, so that a fit's program
  holds one call instead of the interior-point method's hundred-odd operations.

Each data set is computed on its own, in a fixed order, so it gives the same bits in any
batch or group (the compiler may fuse a product and a sum into one FMA, but reassociates
nothing); against XLA's operations the results agree to rounding
(``tests/test_native.py``). ``docs/glm-core.md`` has what they bought.

The kernels are compiled on first use with the machine's C++ compiler (``CXX``, else
``c++``, ``g++`` or ``clang++``; a ``CXX`` that names no executable is an error, not a cue
to use another) for the machine's own vector instructions (``-march=native``), against the
FFI headers that ship with ``jaxlib``, and cached under ``GLMNN_CACHE_DIR`` (default
``$XDG_CACHE_HOME/glmnn-bench``, or ``~/.cache/glmnn-bench``; empty counts as unset), keyed
by the sources, the flags, the compiler, ``jaxlib``'s version and the CPU. The cache is
treated as code (:mod:`models._kernel_cache`): it is private to its user (folders ``0700``,
the library ``0700``, whatever the umask), and a folder or file another user owns or can
write is refused, not loaded; the library's sha256, recorded when it was built, is checked
before it is opened, so a truncated or replaced library is rebuilt, never mapped;
concurrent first uses compile once (a lock); a build that died leaves nothing behind for
long. Where no compiler works, or the cache is refused, the GLM uses XLA's operations
instead, after one :class:`NativeUnavailableWarning` that says what to change; with
``GLMNN_NATIVE=0`` it does so silently. Off CPU (``lax.platform_dependent``) XLA's
operations are used always: the kernels are registered for the CPU only, and from JAX
0.6.1 on a lowering for another platform holds only that platform's branch (JAX 0.6.0
still put the CPU branch's 8 native calls into a CUDA lowering, which is why the project
needs ``jax>=0.6.1``).

References:
    XLA FFI: https://docs.jax.dev/en/latest/ffi.html
"""

from __future__ import annotations

import functools
import hashlib
import os
import platform
import shlex
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import jax
import numpy as np

from . import _kernel_cache as kernel_cache

__all__ = ["MAX_COLUMNS", "SOURCES", "HEADERS", "NativeUnavailableWarning", "enabled", "status",
           "available", "describe", "library_path", "supports", "normal_equations",
           "cholesky_skip", "cho_solve", "certificate", "lp_candidates"]

MAX_COLUMNS = 16
"""Most columns ``p`` the kernels take (``kMaxColumns`` in ``normal_equations.cc``); a
wider design uses XLA's operations."""

SOURCES = tuple(Path(__file__).parent / "native" / name
                for name in ("normal_equations.cc", "cholesky.cc", "certificate.cc",
                             "separation.cc"))
"""The kernels' C++ sources, compiled into one library."""

HEADERS = tuple(Path(__file__).parent / "native" / name
                for name in ("cholesky_skip.h", "simd.h"))
"""What the sources include of ours: part of the cache key, as the sources are."""

_FLAGS = ("-std=c++17", "-O2", "-march=native", "-fPIC", "-shared", "-w")
#: FFI target name -> the handler's symbol in the library, per kernel and dtype.
_KERNELS = {"normal_equations": "GlmnnNormalEquations", "cholesky_skip": "GlmnnCholeskySkip",
            "cho_solve": "GlmnnChoSolve", "certificate": "GlmnnCertificate",
            "lp_candidates": "GlmnnLpCandidates"}
_DTYPES = {np.dtype("float64"): "f64", np.dtype("float32"): "f32"}
_SYMBOLS = {f"glmnn_{kernel}_{suffix}": f"{symbol}{suffix.upper()}"
            for kernel, symbol in _KERNELS.items() for suffix in _DTYPES.values()}


class NativeUnavailableWarning(RuntimeWarning):
    """The native kernels could not be built or loaded; XLA's operations are used instead."""


def enabled() -> bool:
    """Whether the environment allows the kernels (``GLMNN_NATIVE`` is not ``0``)."""
    return os.environ.get("GLMNN_NATIVE", "1").strip().lower() not in ("0", "false", "no",
                                                                       "off")


def _compiler() -> str | None:
    """The compiler command, or ``None`` where there is none.

    ``CXX`` (its first word resolved on the path), else the first of ``c++``, ``g++``,
    ``clang++`` on the path.

    Raises:
        RuntimeError: ``CXX`` is set but names no executable (another compiler than the one
            asked for would build a library nobody expects).
    """
    cxx = os.environ.get("CXX", "").strip()
    if not cxx:
        return next(filter(None, map(shutil.which, ("c++", "g++", "clang++"))), None)
    try:
        words = shlex.split(cxx)  # "ccache g++" is a usual CXX
    except ValueError:
        words = []
    found = shutil.which(words[0]) if words else None
    if found is None:
        raise RuntimeError(f"CXX={cxx} is not an executable; unset it or point it at a C++ "
                           f"compiler")
    return shlex.join([found, *words[1:]])


def _cpu_signature() -> str:
    """What ``-march=native`` depends on: the CPU's model and flags, where readable."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or platform.machine()
    lines = [line for line in text.splitlines()
             if line.startswith(("model name", "flags", "Features", "CPU part"))]
    return "\n".join(sorted(set(lines)))


def library_path(compiler: str) -> Path:
    """Where the kernels built by ``compiler`` for this CPU and ``jaxlib`` are cached (absolute)."""
    import jaxlib

    version = _compiler_version(compiler)
    key = hashlib.sha256("\0".join([*(source.read_text() for source in SOURCES + HEADERS),
                                    " ".join(_FLAGS), version, jaxlib.__version__,
                                    _cpu_signature()]).encode())
    return kernel_cache.cache_dir() / f"kernels-{key.hexdigest()[:16]}.so"


def _build(compiler: str, library: Path, out: Path) -> None:
    """Compile the kernels into ``out``, which the cache then renames to ``library``."""
    print(f"glmnn-bench: compiling the GLM's CPU kernels into {library} (once per machine "
          f"and jaxlib version; about 20 s)", file=sys.stderr, flush=True)
    command = [*shlex.split(compiler), *_FLAGS, f"-I{jax.ffi.include_dir()}",
               *map(str, SOURCES), "-o", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")


def _register(path: Path) -> None:
    """Open the library and register its handlers as the FFI targets, for the CPU."""
    import ctypes

    library = ctypes.CDLL(str(path))
    for target, symbol in _SYMBOLS.items():
        jax.ffi.register_ffi_target(target, jax.ffi.pycapsule(getattr(library, symbol)),
                                    platform="cpu")


@functools.cache
def status() -> tuple[bool, str]:
    """``(available, how)``: build (once per machine), load and register the kernels.

    ``how`` says what the GLM uses on CPU, for run records: the compiler and flags, or why
    not. A failure to build or load warns once (:class:`NativeUnavailableWarning`), with
    what to set.
    """
    if not enabled():
        return False, "XLA operations (GLMNN_NATIVE=0)"
    try:
        compiler = _compiler()
        if compiler is None:
            raise RuntimeError("no C++ compiler found (set CXX, or install g++ or clang++)")
        path = library_path(compiler)
        kernel_cache.ensure(path, functools.partial(_build, compiler, path), _register)
    except Exception as error:  # any failure to build or load: fall back, and say why
        warnings.warn(f"glmnn-bench: the GLM's native CPU kernels are not available "
                      f"({error}); it uses XLA's operations instead, about 1.3x slower on "
                      f"CPU. Set GLMNN_NATIVE=0 to silence this.",
                      NativeUnavailableWarning, stacklevel=3)
        return False, f"XLA operations (native kernels unavailable: {error})"
    version = _compiler_version(compiler)
    return True, f"native ({version}; {' '.join(_FLAGS[:3])})"


def available() -> bool:
    """Whether the kernels are built and registered (:func:`status`)."""
    return status()[0]


def describe() -> str:
    """What the GLM computes its systems with on CPU, in words (:func:`status`)."""
    return status()[1]


@functools.cache
def _compiler_version(compiler: str) -> str:
    """The first line of ``compiler --version``, asked once for the key and the record."""
    done = subprocess.run([*shlex.split(compiler), "--version"], capture_output=True, text=True,
                          check=False)
    return (done.stdout.strip().splitlines() or ["?"])[0]


def supports(dtype, p: int) -> bool:
    """Whether the kernels apply to ``p`` columns of ``dtype`` (static)."""
    return np.dtype(dtype) in _DTYPES and 1 <= p <= MAX_COLUMNS


def _call(kernel: str, dtype, shapes, *args, **attributes):
    if not available():
        raise RuntimeError(f"the native kernels are not available: {describe()}")
    target = f"glmnn_{kernel}_{_DTYPES[np.dtype(dtype)]}"
    outputs = tuple(jax.ShapeDtypeStruct(shape, t) for shape, t in shapes)
    results = jax.ffi.ffi_call(target, outputs, vmap_method="broadcast_all")(*args, **attributes)
    return tuple(results)  # a list in older JAX: the XLA branch it pairs with gives a tuple


def normal_equations(columns: jax.Array, working: jax.Array, wz: jax.Array):
    """``(X^T W X, X^T wz)`` by the kernel, for ``k`` weightings of one design.

    Call only where :func:`available` and :func:`supports` hold, on CPU. Under ``vmap``
    every operand gets the batch axis (``vmap_method="broadcast_all"``) and the kernel
    loops over it.

    Args:
        columns: ``[p, n]`` ``X^T``.
        working: ``[k, n]`` weights.
        wz: ``[k, n]`` right-hand-side weights.

    Returns:
        ``([k, p, p], [k, p])``.
    """
    (p, _), k, dtype = columns.shape, working.shape[0], columns.dtype
    return _call("normal_equations", dtype, [((k, p, p), dtype), ((k, p), dtype)],
                 columns, working.astype(dtype), wz.astype(dtype))


def cholesky_skip(gram: jax.Array, rtol: float, *, inverse: bool = False):
    """:func:`models._linalg.cholesky_skip` by the kernel, and optionally ``diag(G^{-1})``.

    Args:
        gram: ``[p, p]`` (the lower triangle is read).
        rtol: the relative pivot tolerance (static).
        inverse: also compute :func:`models._linalg.inverse_diagonal` of the factor.

    Returns:
        ``(factor [p, p], aliased [p] bool, inverse_diagonal [p])`` (the last 0 unless
        ``inverse``).
    """
    p, dtype = gram.shape[0], gram.dtype
    return _call("cholesky_skip", dtype, [((p, p), dtype), ((p,), np.bool_), ((p,), dtype)],
                 gram, rtol=np.float64(rtol), inverse=np.int32(inverse))


def cho_solve(factor: jax.Array, rhs: jax.Array) -> jax.Array:
    """``(L L^T)^{-1} rhs`` for lower-triangular ``factor [p, p]`` and ``rhs [p]``."""
    return _call("cho_solve", factor.dtype, [(rhs.shape, factor.dtype)], factor,
                 rhs.astype(factor.dtype))[0]


def certificate(columns: jax.Array, linear: jax.Array, lam: jax.Array, shift: jax.Array,
                delta: jax.Array, active: jax.Array) -> jax.Array:
    """What :func:`models._certificates.check` reduces a data set to, by the kernel.

    Args:
        columns: ``[p, n]`` ``X^T``.
        linear: ``[n]`` ``X d``.
        lam: ``[2, n]`` multipliers of the rows ``+x_i`` and ``-x_i``.
        shift: ``[2, n]``: the multipliers checked are ``lam + shift * (X delta)``, 0 where
            ``active`` is 0.
        delta: ``[p]``.
        active: ``[2, n]`` 1 where the row exists.

    Returns:
        ``[2p + 4]``: the pairwise sums ``sum_i (m[0, i] - m[1, i]) x_i``, the pairwise sum
        of the multipliers ``m`` checked, the least and the greatest signed margin, the least
        multiplier over the rows present, and the largest ``|x_ij|`` of each column over
        the observations present.
    """
    p, dtype = columns.shape[0], columns.dtype
    return _call("certificate", dtype, [((2 * p + 4,), dtype)], columns,
                 *(a.astype(dtype) for a in (linear, lam, shift, delta, active)))[0]


def lp_candidates(columns: jax.Array, active: jax.Array, *, max_iter: int):
    """The candidates of :func:`models._separation.decide`, by the kernel.

    Args:
        columns: ``[p, n]`` ``X^T``.
        active: ``[2, n]`` 1 where the row ``+x_i`` / ``-x_i`` exists.
        max_iter: the most interior-point steps (static).

    Returns:
        ``(d [p], lam [2, n], raw [p], n_iter [] int32)``: the direction in the data's
        columns, the multipliers of the data's rows, the last iterate's direction before
        its projection, the steps taken.
    """
    (p, n), dtype = columns.shape, columns.dtype
    return _call("lp_candidates", dtype,
                 [((p,), dtype), ((2, n), dtype), ((p,), dtype), ((), np.int32)],
                 columns, active.astype(dtype), max_iter=np.int32(max_iter))
