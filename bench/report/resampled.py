"""The resampled real data sets in a published run: their table and sentences (no JAX).

Each resampled regime (:data:`bench.catalog.RESAMPLED_REGIMES`) draws bootstrap resamples
of a real data set; the share that the linear program finds separated is the question, and
every model's convergence on the same resamples is beside it. The models' own convergence
tables show the same cases in full, beside the synthetic regimes.
"""

from __future__ import annotations

from bench import catalog
from bench.formats import DASH, fmt_count, fmt_pct, missing
from bench.quotes import COUNT, PCT, Sentence, fixed, join, matched_ours, quote
from bench.record import FIT, CaseRecord
from bench.report.matching import models_in
from bench.report.tables import lp_shares, markdown_table

__all__ = ["resampled_table", "resampled_sentences", "RESAMPLED_LEGEND"]

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


def resampled_table(cases: list[CaseRecord]) -> list[str]:
    """One row per resampled regime: the data, its separated share, each model's converged %."""
    regimes = _present(cases)
    if not regimes:
        return ["No resampled real-data regime ran in this run."]
    fits = [c for c in cases if c.kind == FIT and c.regime in regimes]
    models = models_in(fits)
    header = ["regime", "data", "rows × features", "resamples (glm)",
              "LP: complete / quasi %", "separated % (glm)",
              *(f"{m} converged %" for m in models)]
    rows = []
    for regime in regimes:
        data = catalog.regime(regime).data
        glm = matched_ours(cases, "glm", regime)
        rows.append([regime, data.description, f"{data.n_samples} × {data.n_features}",
                     fmt_count(glm.n_datasets) if glm else DASH,
                     lp_shares(glm) if glm else DASH,
                     fmt_pct(glm.separated_frac) if glm else DASH,
                     *(fmt_pct(getattr(matched_ours(cases, m, regime), "converged_frac",
                                       None)) for m in models)])
    return markdown_table(header, rows)


def resampled_sentences(cases: list[CaseRecord]) -> list[Sentence]:
    """Per resampled regime: how often a resample was separated, and who converged."""
    sentences = []
    for regime in _present(cases):
        glm = matched_ours(cases, "glm", regime)
        if glm is None:
            continue
        name = catalog.regime(regime).data.description.split(",")[0]
        sentence = Sentence(f"In the {regime} regime ({{}}), of {{}} bootstrap ", fixed(name),
                            quote(glm, "n_datasets", COUNT))
        if missing(glm.lp_complete_frac):
            sentence += "resamples"
        else:
            sentence += Sentence("resamples the linear program found {} completely and {} "
                                 "quasi-completely separated", quote(glm, "lp_complete_frac", PCT),
                                 quote(glm, "lp_quasi_frac", PCT))
            if glm.lp_undecided_frac:
                sentence += Sentence(" ({} undecided)", quote(glm, "lp_undecided_frac", PCT))
            sentence += ";"
        sentence += Sentence(" the GLM reported separation on {} and converged on {}",
                             quote(glm, "separated_frac", PCT), quote(glm, "converged_frac", PCT))
        others = [(m, matched_ours(cases, m, regime)) for m in ("glm_firth", "perceptron")]
        parts = [Sentence(f"{m} on {{}}", quote(c, "converged_frac", PCT))
                 for m, c in others if c is not None]
        if parts:
            sentence += "; " + join(", ", parts)
        perceptron = matched_ours(cases, "perceptron", regime)
        if perceptron is not None and not missing(perceptron.converged_on_complete_frac):
            sentence += Sentence(
                " (the perceptron converged on {} of the completely separated resamples within "
                "its {} epochs, and can converge on no other)",
                quote(perceptron, "converged_on_complete_frac", PCT),
                quote(perceptron, "max_iter", COUNT))
        sentences.append(sentence + ".")
    return sentences
