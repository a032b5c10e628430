"""The resampled real data sets in a published run: their table (no JAX).

Each resampled regime (:data:`bench.catalog.RESAMPLED_REGIMES`) draws bootstrap resamples
of a real data set; the share that the linear program finds separated is the question, and
every model's convergence on the same resamples is beside it. The models' own convergence
tables show the same cases in full, beside the synthetic regimes. The sentence that reads
them is the GLM's (:mod:`bench.families.glm`): it names the models it compares.
"""

from __future__ import annotations

from bench import catalog
from bench.formats import DASH
from bench.quotes import COUNT, SHARE, Sentence, cell, matched_ours, words
from bench.record import FIT, CaseRecord
from bench.report.matching import models_in
from bench.report.tables import Table, lp_shares

__all__ = ["resampled_table", "RESAMPLED_LEGEND"]

RESAMPLED_LEGEND = """\
Each row is a real data set that ships with scikit-learn, as a two-class problem with its
features standardised (mean 0, standard deviation 1 over its rows); each of its data sets
is a bootstrap resample (as many rows, drawn with replacement, inside the compiled
program), tested on the original rows. **LP: complete / quasi %** is the share of
resamples that the linear program (`models.glm.separation`, with a certificate either
way) found completely and quasi-completely separated: no finite maximum-likelihood
estimate exists for them, and the perceptron can converge only on the complete ones.
**separated % (glm)** is the share the binomial GLM (float64) reported as separated. The
other columns are each model's converged % on the same resamples (float64 where the model
has it); a model may fit fewer resamples (the MLPs), as in its convergence table.
"""


def _present(cases: list[CaseRecord]) -> list[str]:
    regimes = {c.regime for c in cases if c.kind == FIT}
    return [r for r in catalog.RESAMPLED_REGIMES if r in regimes]


def resampled_table(cases: list[CaseRecord]) -> Table | None:
    """One row per resampled regime: the data, its separated share, each model's converged %.

    The resamples, the linear program's verdict and the separated share are those of the
    catalog's separation reference (:func:`bench.catalog.separation_reference`); None
    when no resampled regime ran.
    """
    regimes = _present(cases)
    if not regimes:
        return None
    fits = [c for c in cases if c.kind == FIT and c.regime in regimes]
    models = models_in(fits)
    reference = catalog.separation_reference()
    name = reference.name if reference else DASH
    header = ["regime", "data", "rows × features", f"resamples ({name})",
              "LP: complete / quasi %", f"separated % ({name})",
              *(f"{m} converged %" for m in models)]
    rows = []
    for regime in regimes:
        data = catalog.regime(regime).data
        ref = matched_ours(cases, reference.name, regime) if reference else None
        rows.append([cell(ref, "regime") if ref else words(regime), words(data.description),
                     words(f"{data.n_samples} × {data.n_features}"),
                     cell(ref, "n_datasets", COUNT), lp_shares(ref) if ref else Sentence(DASH),
                     cell(ref, "separated_frac", SHARE),
                     *(cell(matched_ours(cases, m, regime), "converged_frac", SHARE)
                       for m in models)])
    return Table(header, rows)
