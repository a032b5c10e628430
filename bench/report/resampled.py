"""The resampled real data sets in a published run: their table and sentences (no JAX).

Each resampled regime (:data:`bench.catalog.RESAMPLED_REGIMES`) draws bootstrap resamples
of a real data set; the share that the GLM finds separated is the question, and every
model's convergence on the same resamples is beside it. The models' own convergence tables
show the same cases in full, beside the synthetic regimes.
"""

from __future__ import annotations

from bench import catalog
from bench.record import FIT, CaseRecord
from bench.report.formats import DASH, fmt_count, fmt_pct, pct_word
from bench.report.matching import matched_ours, models_in
from bench.report.tables import markdown_table

__all__ = ["resampled_table", "resampled_sentences", "RESAMPLED_LEGEND"]

RESAMPLED_LEGEND = """\
Each row is a real data set that ships with scikit-learn, as a two-class problem with its
features standardised (mean 0, standard deviation 1 over its rows); each of its data sets
is a bootstrap resample (as many rows, drawn with replacement, inside the compiled
program), tested on the original rows. **separated %** is the share of resamples the
binomial GLM (float64) certified as separated: no finite maximum-likelihood estimate
exists for them. The other columns are each model's converged % on the same resamples
(float64 where the model has it); a model may fit fewer resamples (the MLPs), as in its
convergence table.
"""


def _present(cases: list[CaseRecord]) -> list[str]:
    regimes = {c.regime for c in cases if c.kind == FIT}
    return [r for r in catalog.RESAMPLED_REGIMES if r in regimes]


def resampled_table(cases: list[CaseRecord]) -> list[str]:
    """One row per resampled regime: the data, its separated share, each model's converged %."""
    regimes = _present(cases)
    if not regimes:
        return ["No resampled real-data regime ran in this run."]
    fits = [c for c in cases if c.kind == FIT and c.regime in regimes]
    models = models_in(fits)
    header = ["regime", "data", "rows × features", "resamples (glm)", "separated % (glm)",
              *(f"{m} converged %" for m in models)]
    rows = []
    for regime in regimes:
        data = catalog.regime(regime).data
        glm = matched_ours(cases, "glm", regime)
        rows.append([regime, data.description, f"{data.n_samples} × {data.n_features}",
                     fmt_count(glm.n_datasets) if glm else DASH,
                     fmt_pct(glm.separated_frac) if glm else DASH,
                     *(fmt_pct(getattr(matched_ours(cases, m, regime), "converged_frac",
                                       None)) for m in models)])
    return markdown_table(header, rows)


def resampled_sentences(cases: list[CaseRecord]) -> list[str]:
    """Per resampled regime: how often a resample was separated, and who converged."""
    sentences = []
    for regime in _present(cases):
        glm = matched_ours(cases, "glm", regime)
        if glm is None:
            continue
        name = catalog.regime(regime).data.description.split(",")[0]
        sentence = (f"In the {regime} regime ({name}), of {fmt_count(glm.n_datasets)} "
                    f"bootstrap resamples the GLM certified {pct_word(glm.separated_frac)} as "
                    f"separated and converged on {pct_word(glm.converged_frac)}")
        others = [(m, matched_ours(cases, m, regime)) for m in ("glm_firth", "perceptron")]
        parts = [f"{m} on {pct_word(c.converged_frac)}" for m, c in others if c is not None]
        if parts:
            sentence += "; " + ", ".join(parts)
        perceptron = matched_ours(cases, "perceptron", regime)
        if perceptron is not None and glm.separated_frac is not None:
            if perceptron.converged_frac > glm.separated_frac:
                sentence += (" (the perceptron converged on more resamples than the GLM "
                             "certified: its convergence proves those separable, so the "
                             "certificate missed some)")
            elif perceptron.converged_frac < glm.separated_frac:
                sentence += (f" (the perceptron can converge only on a separable resample, "
                             f"and did not within its {perceptron.max_iter} epochs on all "
                             "of them)")
        sentences.append(sentence + ".")
    return sentences
