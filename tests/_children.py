"""The environment of the harness runs that the tests start (pytest and ``python -m bench``).

Their results are compared only with each other (a rerun with its published run), never
bitwise with a fit in the test process, so they compile with XLA:CPU's legacy emitter
(:data:`bench.suite.compiling.LEGACY_EMITTER_FLAG`) where this XLA accepts it: about a
third of the compile time, which is most of theirs.
"""

from __future__ import annotations

import functools
import os

from bench.suite.compiling import LEGACY_EMITTER_FLAG, accepted


@functools.cache
def _legacy_emitter() -> bool:
    return accepted(LEGACY_EMITTER_FLAG)


def harness_environment(**variables: str) -> dict[str, str]:
    """``os.environ`` with ``variables``, compiling quickly where XLA allows it."""
    environment = {**os.environ, **variables}
    flags = environment.get("XLA_FLAGS", "")
    if LEGACY_EMITTER_FLAG.split("=")[0] not in flags and _legacy_emitter():
        environment["XLA_FLAGS"] = f"{flags} {LEGACY_EMITTER_FLAG}".strip()
    return environment
