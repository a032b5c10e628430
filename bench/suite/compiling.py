"""How an untimed run compiles: quickly, once, for the CPU alone where it runs there.

The plugin (:mod:`bench.suite.plugin`) calls these for a run that times nothing, such as
plain ``pytest``: its time is compiling, not running. A timed run, whose compile times and
speeds are published, keeps XLA's and JAX's defaults.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable

__all__ = ["share_compilations", "compile_quickly", "trace_for_the_cpu_alone", "accepted",
           "legacy_emitter_in_use", "without_legacy_emitter", "run_with_default_compiler",
           "QUICK_COMPILE_FLAGS", "LEGACY_EMITTER_FLAG", "ONE_PART_FLAG",
           "DEFAULT_COMPILER_VARIABLE"]


def share_compilations() -> Callable[[], None]:
    """An untimed run keeps XLA's compiled programs in one folder; returns its cleanup.

    The tests start many processes (pytest and ``python -m bench`` runs) that compile the
    same smoke programs, and build fresh ``jit(vmap(...))`` wrappers of programs compiled
    before; JAX's persistent compilation cache serves those from disk. The folder is new
    for every session and removed at its end, so no run sees another's programs, and a
    timed run (whose compile times are published) never uses it. A user's own
    ``JAX_COMPILATION_CACHE_DIR`` is left as it is.
    """
    if os.environ.get("JAX_COMPILATION_CACHE_DIR"):
        return lambda: None
    import jax

    folder = tempfile.mkdtemp(prefix="glmnn-xla-cache-")
    settings = {"jax_compilation_cache_dir": folder,
                "jax_persistent_cache_min_compile_time_secs": 0.0,
                "jax_persistent_cache_min_entry_size_bytes": 0}
    for name, value in settings.items():
        jax.config.update(name, value)
        os.environ[name.upper()] = str(value)  # the processes the tests start
    return lambda: shutil.rmtree(folder, ignore_errors=True)


#: XLA flags of an untimed run: its time is compiling, not running, and it times nothing.
QUICK_COMPILE_FLAGS = ("--xla_backend_optimization_level=0",
                       "--xla_llvm_disable_expensive_passes=true")

#: A flag that makes XLA:CPU compile a GLM fit about three times faster (the legacy
#: elemental emitter instead of the fusion emitters; the fit runs as fast). An untimed run
#: adds it where this XLA accepts it (:func:`accepted`: XLA aborts on a flag it does not
#: know). Under it a data set's bits alone and in a batch, or a fit's in two programs, may
#: differ in the last place, so the tests that check such bits are marked
#: ``default_compiler`` and run in a child process without it
#: (:func:`run_with_default_compiler`).
LEGACY_EMITTER_FLAG = "--xla_cpu_use_fusion_emitters=false"

#: XLA:CPU splits a program's LLVM module to compile the parts on several threads. The
#: tests keep every core busy with programs of their own, so the split only adds work.
#: Added where this XLA accepts it.
ONE_PART_FLAG = "--xla_cpu_parallel_codegen_split_count=1"

#: Set in the child process that runs the ``default_compiler`` tests: no legacy emitter.
DEFAULT_COMPILER_VARIABLE = "GLMNN_DEFAULT_COMPILER"


def compile_quickly() -> None:
    """An untimed run has XLA compile with less optimisation, as do the processes it starts.

    The tests compile hundreds of programs and run each a few times, so most of their time
    is XLA's CPU backend optimising code; without its costly passes the default ``pytest``
    takes about a quarter less CPU time. Results stay IEEE arithmetic (XLA does no
    fast-math by default either way), though without fused multiply-adds a last bit may
    differ, and an overflowing ``a * b + c`` is inf - inf rather than inf. A timed run,
    whose numbers are published, keeps XLA's defaults. :data:`LEGACY_EMITTER_FLAG` and
    :data:`ONE_PART_FLAG` are added where this XLA accepts them. Flags the user set in
    ``XLA_FLAGS`` are kept, and win.
    """
    given = os.environ.get("XLA_FLAGS", "")
    added = [flag for flag in QUICK_COMPILE_FLAGS if flag.split("=")[0] not in given]
    wanted = ((ONE_PART_FLAG,) if os.environ.get(DEFAULT_COMPILER_VARIABLE)
              else (LEGACY_EMITTER_FLAG, ONE_PART_FLAG))
    optional = [flag for flag in wanted if flag.split("=")[0] not in given]
    # One child process asks for them together; each alone only where XLA refuses the pair.
    if optional and not accepted(" ".join(optional)):
        optional = [flag for flag in optional if accepted(flag)]
    added += optional
    if added:
        os.environ["XLA_FLAGS"] = " ".join([*added, given]).strip()


def without_legacy_emitter(flags: str) -> str:
    """``XLA_FLAGS`` text ``flags`` without :data:`LEGACY_EMITTER_FLAG`."""
    return " ".join(flag for flag in flags.split() if flag != LEGACY_EMITTER_FLAG)


def legacy_emitter_in_use() -> bool:
    """Whether this process compiles with :data:`LEGACY_EMITTER_FLAG`."""
    return LEGACY_EMITTER_FLAG in os.environ.get("XLA_FLAGS", "").split()


def run_with_default_compiler(test_id: str, root: pathlib.Path) -> dict[str, str]:
    """Run a test function, all its parameters, in a child pytest on XLA's default emitter.

    The child keeps this run's other settings (the quick flags, the shared cache).

    Returns:
        ``{test id: "PASSED" | "FAILED" | ...}``, and under ``""`` the end of its output.
    """
    environment = {**os.environ, DEFAULT_COMPILER_VARIABLE: "1",
                   "XLA_FLAGS": without_legacy_emitter(os.environ.get("XLA_FLAGS", ""))}
    child = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", "-q",
         "-rA", "--no-header", test_id],
        cwd=root, env=environment, capture_output=True, text=True, timeout=1800)
    outcomes = {}
    for line in child.stdout.splitlines():
        word, _, rest = line.partition(" ")
        if word in ("PASSED", "FAILED", "ERROR", "SKIPPED", "XFAIL", "XPASS") and "::" in rest:
            outcomes[rest.split(" - ")[0].strip()] = word
    outcomes[""] = child.stdout[-6000:] + child.stderr[-2000:]
    return outcomes


def accepted(flag: str) -> bool:
    """Whether this XLA starts with ``flag`` (or flags, space-separated), asked of a child.

    An unknown flag aborts the process that parses it, so this one cannot try it.
    """
    environment = {**os.environ, "XLA_FLAGS": flag, "JAX_PLATFORMS": "cpu"}
    try:
        probe = subprocess.run([sys.executable, "-c", "import jax; jax.devices()"],
                               env=environment, capture_output=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


def trace_for_the_cpu_alone() -> None:
    """Where JAX runs on the CPU, an untimed run traces each fit's CPU branch alone.

    A fit chooses its CPU or other-platform code with ``lax.platform_dependent``, which
    traces both; for a GLM the other branch is about 2 s of Python per new shape, and the
    tests trace hundreds of shapes (``models.TRACE_PLATFORM_VARIABLE``). The compiled
    program is the same, since lowering for the CPU drops the other branch. The tests that
    run or export the other branch force it (``forced_platform``). A user's own setting
    is kept; a run on an accelerator traces both, as users' programs do.
    """
    import jax

    from models import TRACE_PLATFORM_VARIABLE

    if TRACE_PLATFORM_VARIABLE not in os.environ and jax.default_backend() == "cpu":
        os.environ[TRACE_PLATFORM_VARIABLE] = "cpu"
