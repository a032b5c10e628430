"""Ctrl-C while XLA compiles: held until the compilation has returned (no JAX).

A SIGINT that arrives while XLA compiles a program makes Python's default handler raise
``KeyboardInterrupt`` inside the compile call. The compilation is abandoned half-way, the
interpreter shuts down while XLA's compiler threads still run, and the process ends in a
segmentation fault (exit 139) instead of exiting 130 (measured with ``python -m bench run``
and ``timeout -s INT``: every SIGINT that landed in the compile call crashed; one that
landed while JAX traced, or while a compiled program ran, did not).

:func:`interrupts_deferred` holds a SIGINT for the duration of a block: the handler only
notes it (and says so on stderr), and once the block is done the previous handler is put
back and called, so ``KeyboardInterrupt`` is raised there, outside XLA, and the usual
clean-up runs (``python -m bench run`` exits 130 and publishes nothing; pytest marks its
run incomplete).
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator

__all__ = ["interrupts_deferred"]


@contextlib.contextmanager
def interrupts_deferred(doing: str = "compiling") -> Iterator[None]:
    """Hold SIGINT until the block is done, then act on it as the previous handler would.

    Outside the main thread (where Python cannot install handlers), or when SIGINT is
    ignored or handled outside Python, the block runs as it is.

    Args:
        doing: what the block does, for the line printed when a SIGINT is held.
    """
    previous = signal.getsignal(signal.SIGINT)
    if (threading.current_thread() is not threading.main_thread()
            or previous in (signal.SIG_IGN, None)):
        yield
        return
    held = []

    def hold(signum, frame):
        if not held:
            print(f"interrupted while {doing}; stopping as soon as it is done",
                  file=sys.stderr, flush=True)
        held.append(frame)

    signal.signal(signal.SIGINT, hold)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if held:
        if callable(previous):
            previous(signal.SIGINT, held[0])  # Python's default raises KeyboardInterrupt
        else:  # SIG_DFL: end the process as the signal would have
            signal.raise_signal(signal.SIGINT)
