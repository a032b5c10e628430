"""The real data sets of the resampled regimes, loaded once from scikit-learn (no JAX).

:func:`load` turns a :class:`bench.regimes.RealData` entry into a classification problem:
the rows of its classes (labelled 0, 1, ... in the entry's order), the columns it keeps,
each feature standardised to mean 0 and standard deviation 1 over those rows
(scikit-learn's ``StandardScaler``, which its examples for these data sets apply before a
linear model). The resampling itself is JAX,
inside the compiled program (:mod:`bench.datasets`).
"""

from __future__ import annotations

import functools

import numpy as np

from bench import catalog

__all__ = ["load", "RealDataUnavailable"]


class RealDataUnavailable(ImportError):
    """scikit-learn, which ships the data, cannot be imported; the message says how."""


@functools.cache
def load(regime: str) -> tuple[np.ndarray, np.ndarray]:
    """``(features [n, d] float64 standardised, labels [n] float64 0, 1, ...)`` of ``regime``.

    Raises:
        bench.catalog.CatalogError: for an unknown regime; ValueError for a synthetic one.
        RealDataUnavailable: scikit-learn is not installed.
    """
    data = catalog.regime(regime).data
    if data is None:
        raise ValueError(f"regime {regime!r} is synthetic; it has no real data set.")
    try:
        from sklearn import datasets as sklearn_datasets
    except ImportError as error:
        raise RealDataUnavailable(
            f"regime {regime!r} resamples scikit-learn's {data.loader} data, and "
            f"scikit-learn is not importable ({error}); install the 'compare' extra "
            "(pip install 'glmnn-bench[compare]').") from None
    bunch = getattr(sklearn_datasets, data.loader)()
    keep = np.isin(bunch.target, data.classes)
    features = np.asarray(bunch.data, np.float64)[keep]
    if data.columns is not None:
        features = features[:, list(data.columns)]
    labels = np.searchsorted(np.asarray(data.classes), bunch.target[keep]).astype(np.float64)
    if list(data.classes) != sorted(data.classes):  # searchsorted needs them sorted
        labels = np.array([data.classes.index(t) for t in bunch.target[keep]], np.float64)
    features = (features - features.mean(axis=0)) / features.std(axis=0)
    if features.shape != (data.n_samples, data.n_features):
        raise RuntimeError(f"{data.loader} gave {features.shape} for regime {regime!r}, not "
                           f"the catalog's ({data.n_samples}, {data.n_features}).")
    features.setflags(write=False)
    labels.setflags(write=False)
    return features, labels
