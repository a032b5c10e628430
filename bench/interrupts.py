"""Ctrl-C: held while a process starts and while XLA compiles, and never lost (no JAX).

Two ways a SIGINT goes wrong in a process that uses JAX:

* **Inside XLA's compile call**, Python's default handler raises ``KeyboardInterrupt`` in
  the middle of the compilation; the interpreter shuts down while XLA's compiler threads
  still run, and the process ends in a segmentation fault (exit 139) instead of exiting
  130 (measured with ``python -m bench run`` and ``timeout -s INT``).
* **Inside a garbage-collection callback**, the ``KeyboardInterrupt`` is printed as
  "Exception ignored" and dropped: JAX registers such a callback as it is imported, so a
  Ctrl-C in the first seconds of a run (or later, whenever the collector runs) would
  vanish, and the run go on to be recorded complete and published. One that lands in the
  import itself leaves JAX half imported (an ``ImportError`` traceback, or a crash).

So an entry point (``python -m bench``, the pytest plugin) calls :func:`hold_until_started`
before anything imports JAX: from then on every SIGINT is noted. Until :func:`started`,
it is only noted (and said, on stderr), and :func:`started` raises it once the imports
are done; after that, it raises ``KeyboardInterrupt`` at once, as usual. Because it is
noted either way, one that a callback swallowed is raised again at the next checkpoint
(:func:`raise_if_interrupted`), and :func:`was_interrupted` tells the code that records
and publishes a run that it must not call the run complete.

:func:`interrupts_deferred` holds a SIGINT for the duration of a block (a compilation):
once the block is done, the handler it replaced is called, so ``KeyboardInterrupt`` is
raised there, outside XLA, and the usual clean-up runs.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator

__all__ = ["hold_until_started", "started", "raise_if_interrupted", "was_interrupted",
           "interrupts_deferred"]


class _State:
    """The process's SIGINTs: whether one came, and what the start is doing if held."""

    received = False
    holding: str | None = None
    said = False


_STATE = _State()


def _say(doing: str) -> None:
    """Say once that the interrupt is held, so a user does not press Ctrl-C again."""
    if not _STATE.said:
        _STATE.said = True
        print(f"interrupted while {doing}; stopping as soon as it is done",
              file=sys.stderr, flush=True)


def _on_sigint(signum, frame):
    _STATE.received = True
    if _STATE.holding is not None:
        _say(_STATE.holding)
        return
    raise KeyboardInterrupt


def _can_handle() -> bool:
    """Whether this thread may install a handler, and SIGINT is Python's (not ignored)."""
    return (threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) in (signal.default_int_handler, _on_sigint))


def hold_until_started(doing: str = "starting") -> None:
    """Note every SIGINT from now on, and hold it until :func:`started`.

    Call it first thing in an entry point, before JAX is imported. Outside the main
    thread, or when SIGINT is ignored (a background job) or handled by someone else, it
    does nothing.

    Args:
        doing: what the process does meanwhile, for the line printed when one is held.
    """
    if _can_handle():
        _STATE.holding = doing
        signal.signal(signal.SIGINT, _on_sigint)


def started() -> None:
    """End the hold of :func:`hold_until_started`; raise a SIGINT that came meanwhile.

    Raises:
        KeyboardInterrupt: a SIGINT was noted.
    """
    _STATE.holding = None
    raise_if_interrupted()


def raise_if_interrupted() -> None:
    """A checkpoint: raise ``KeyboardInterrupt`` if a SIGINT was noted (even one swallowed).

    Raises:
        KeyboardInterrupt: a SIGINT was noted and the start is not being held.
    """
    if _STATE.received and _STATE.holding is None:
        raise KeyboardInterrupt


def was_interrupted() -> bool:
    """Whether this process has received a SIGINT (then no run of it is complete)."""
    return _STATE.received


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
        _STATE.received = True
        _say(doing)
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
