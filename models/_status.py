"""Status codes shared by every model in :mod:`models`.

A fit never raises or returns NaN for a bad data set inside traced code: it returns one of
these small integers per data set instead (optimistix's ``RESULTS`` idea, as a plain
``IntEnum`` so the codes are ordinary ``int32`` arrays under ``jit`` and ``vmap``).

=====  ================  ==============================================================
code   name              meaning
=====  ================  ==============================================================
0      converged         the model's stopping criterion was met; parameters are finite
1      max_iter          the iteration budget ran out before the criterion was met
2      separated         binomial GLM only: the classes are (quasi-)separated, so no
                         finite MLE exists; the last finite iterate is returned
3      nonfinite         the iteration produced a non-finite value (overflow, a singular
                         system that could not be rescued); the last finite iterate is kept
4      invalid_input     the data set itself is unusable: NaN/inf in X or y, a response
                         outside the family's support, fewer than one usable observation
5      rank_deficient    the fit converged but X is rank deficient: fitted values are
                         unique, coefficients are not (aliased columns are set to 0)
=====  ================  ==============================================================

Only ``converged`` (and ``rank_deficient``, whose fitted values are trustworthy) come with
``converged=True``.
"""

from __future__ import annotations

import enum

import jax.numpy as jnp
from jax.typing import ArrayLike

__all__ = ["Status", "STATUS_NAMES", "status_name", "status_counts"]


class Status(enum.IntEnum):
    """Per-data-set outcome of a fit. See the module docstring for each code's meaning."""

    CONVERGED = 0
    MAX_ITER = 1
    SEPARATED = 2
    NONFINITE = 3
    INVALID_INPUT = 4
    RANK_DEFICIENT = 5


STATUS_NAMES: dict[int, str] = {int(s): s.name.lower() for s in Status}


def status_name(code: int) -> str:
    """Return the lower-case name of a status code, e.g. ``status_name(2) == "separated"``.

    Raises:
        ValueError: if ``code`` is not one of the documented codes.
    """
    try:
        return STATUS_NAMES[int(code)]
    except KeyError:
        raise ValueError(
            f"unknown status code {code!r}; the codes are {STATUS_NAMES}"
        ) from None


def status_counts(status: ArrayLike) -> dict[str, int]:
    """Count each status in a batch of codes.

    Args:
        status: integer array of any shape, typically ``[n_datasets]``.

    Returns:
        ``{name: count}`` for every documented status (zero counts included), as plain ints.
    """
    status = jnp.asarray(status).reshape(-1)
    return {name: int(jnp.sum(status == code)) for code, name in STATUS_NAMES.items()}
