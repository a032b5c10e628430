"""The sentences that read a run's numbers, each generated from (and conditional on) the data.

A sentence whose cases are missing from the run is left out. The sentences are claims about
particular catalog models (the perceptron against Novikoff's bound, the binomial GLM on
separable data, the MLP with a hidden layer on curved boundaries), so they name them.
"""

from __future__ import annotations

from bench import catalog
from bench.record import FIT, SCALING, CaseRecord
from bench.report.formats import (
    fmt_accuracy,
    fmt_count,
    fmt_rate,
    fmt_ratio,
    missing,
    pct_word,
    positive,
)
from bench.report.matching import Speedup, matched_ours, models_in, speedups
from bench.report.peers import peer_sentences
from bench.report.resampled import resampled_sentences
from bench.report.tables import statuses

__all__ = ["reading_sentences"]


def _family(model: str) -> str:
    return catalog.family_of(model).name


def _fit(cases: list[CaseRecord], model: str, regime: str) -> CaseRecord | None:
    return matched_ours(cases, model, regime)


def _perceptron_convergence(cases: list[CaseRecord]) -> str | None:
    separable = _fit(cases, "perceptron", "separable")
    others = [(regime, _fit(cases, "perceptron", regime))
              for regime in ("overlap", "quasi", "xor", "circles")]
    others = [(regime, case) for regime, case in others if case is not None]
    if separable is None or not others:
        return None
    parts = ", ".join(f"{pct_word(case.converged_frac)} of {regime}"
                      for regime, case in others)
    sentence = (f"The perceptron converged on {pct_word(separable.converged_frac)} of "
                f"separable data sets and on {parts} data sets")
    best_other = max(case.converged_frac for _, case in others)
    if separable.converged_frac > best_other:
        sentence += (": it stops only when a separating line exists, as Rosenblatt's "
                     "convergence theorem says")
    else:
        sentence += (": it converged no more often on separable data than elsewhere, which "
                     "is not what the convergence theorem predicts")
    if not missing(separable.converged_on_complete_frac) and (
            separable.lp_complete_frac or 0) < 0.9995:
        sentence += (f" (the linear program found {pct_word(separable.lp_complete_frac)} of "
                     f"them completely separated, and the perceptron converged on "
                     f"{pct_word(separable.converged_on_complete_frac)} of those)")
    budget_out = 1 - separable.converged_frac
    if budget_out > 0:
        sentence += (f"; {pct_word(budget_out)} of separable data sets ran out of the "
                     f"{separable.max_iter}-epoch budget")
    return sentence + "."


def _novikoff(cases: list[CaseRecord]) -> str | None:
    separable = _fit(cases, "perceptron", "separable")
    ratio = None if separable is None else separable.novikoff_max_ratio
    if missing(ratio):
        return None
    if ratio <= 1:
        sentence = (f"No separable data set needed more perceptron updates than Novikoff's "
                    f"bound (R/γ)²: the largest ratio n_updates / (R/γ)² was {ratio:.3g}")
        if 0 < ratio < 0.5:
            sentence += f", so the worst case used {pct_word(ratio)} of the bound"
        return sentence + "."
    return (f"At least one separable data set needed more perceptron updates than Novikoff's "
            f"bound (R/γ)² allows (largest ratio {ratio:.3g} > 1): either the perceptron or "
            "the margin used for the bound is wrong.")


def _lp_clause(case: CaseRecord) -> str:
    """``", which the linear program found X% completely (Y% quasi-completely) separated"``."""
    if missing(case.lp_complete_frac):
        return ""
    clause = (f", where the linear program found {pct_word(case.lp_complete_frac)} "
              f"completely and {pct_word(case.lp_quasi_frac)} quasi-completely separated")
    if case.lp_undecided_frac:
        clause += f" ({pct_word(case.lp_undecided_frac)} undecided)"
    return clause


def _separation(cases: list[CaseRecord]) -> list[str]:
    """The binomial GLM's status on the separated regimes, read against the LP's verdict."""
    sentences = []
    for regime, what in (("separable", "separable data"),
                         ("quasi", "quasi-separated data (a rare exposure whose exposed rows "
                                   "all had the outcome)")):
        glm = _fit(cases, "glm", regime)
        if glm is None:
            continue
        separated, converged = glm.separated_frac or 0.0, glm.converged_frac or 0.0
        sentence = (f"On {what}{_lp_clause(glm)}, our IRLS GLM ({glm.dtype}) reported "
                    f"separation on {pct_word(separated)} of data sets and convergence on "
                    f"{pct_word(converged)}")
        agrees = glm.separated_agrees_frac
        if not missing(agrees) and agrees >= 0.9995:
            sentence += ": its status matched the linear program's verdict on every one"
        elif not missing(agrees):
            sentence += (f": its status matched the linear program's verdict on "
                         f"{pct_word(agrees)} (statuses: {statuses(glm)})")
        if regime == "quasi":
            others = [(m, _fit(cases, m, regime)) for m in ("perceptron", "glm_firth")]
            parts = [f"{m} converged on {pct_word(c.converged_frac)}"
                     for m, c in others if c is not None]
            if parts:
                sentence += ("; " + " and ".join(parts) + " (no line splits the classes, so "
                             "the perceptron cannot stop; Firth's estimate is finite)")
        sentences.append(sentence + ".")
    return sentences


def _baseline_on_separable(cases: list[CaseRecord]) -> list[str]:
    sentences = []
    for match in speedups(cases):
        theirs, ours = match.baseline, match.ours
        if (theirs.regime not in ("separable", "quasi") or ours is None
                or missing(theirs.converged_frac)
                or missing(ours.separated_frac)
                or _family(ours.model) != "glm"):
            continue
        reported, separated = theirs.converged_frac, ours.separated_frac
        sentence = (f"{theirs.baseline} reported converged=True on "
                    f"{pct_word(reported)} of the {theirs.n_datasets} {theirs.regime} data "
                    f"sets it fitted, where we report separation on {pct_word(separated)} "
                    f"of all {ours.n_datasets}")
        if reported > 0 and separated > 0:
            sentence += ": its convergence flag does not warn that the coefficients diverge"
        elif reported == 0:
            sentence += ": it did not claim convergence there"
        sentences.append(sentence + ".")
    return sentences


def _firth(cases: list[CaseRecord]) -> str | None:
    firth, glm = _fit(cases, "glm_firth", "separable"), _fit(cases, "glm", "separable")
    if firth is None:
        return None
    sentence = (f"Firth's penalised likelihood converged on "
                f"{pct_word(firth.converged_frac)} of separable data sets")
    if glm is not None:
        sentence += (f", where plain IRLS reported separation on "
                     f"{pct_word(glm.separated_frac)}")
        if (firth.converged_frac or 0) > (glm.converged_frac or 0):
            sentence += ": the penalty gives the estimate a finite value there"
        else:
            sentence += ": the penalty did not help it converge more often"
    return sentence + "."


def _overlap(cases: list[CaseRecord]) -> str | None:
    glm = _fit(cases, "glm", "overlap")
    if glm is None:
        return None
    sentence = (f"On overlap data (labels drawn from the logistic model) the GLM converged on "
                f"{pct_word(glm.converged_frac)} of data sets in a median of "
                f"{fmt_count(glm.n_iter_median)} IRLS iterations (p90 "
                f"{fmt_count(glm.n_iter_p90)}, max {fmt_count(glm.n_iter_max)})")
    mlp0 = _fit(cases, "mlp0", "overlap")
    if mlp0 is not None:
        sentence += (f"; the same model trained by gradient steps (mlp0) converged on "
                     f"{pct_word(mlp0.converged_frac)} within its "
                     f"{mlp0.max_iter}-step budget (median "
                     f"{fmt_count(mlp0.n_iter_median)} steps)")
    perceptron = _fit(cases, "perceptron", "overlap")
    if perceptron is not None:
        sentence += (f", and the perceptron on {pct_word(perceptron.converged_frac)} "
                     f"within {perceptron.max_iter} epochs")
    return sentence + "."


def _verdict_cost(cases: list[CaseRecord]) -> str | None:
    """The separation verdict's cost: the GLM's overlap row against the same fit without it.

    The two rows are timed a minute or so apart, so the ratio of their fastest rounds is
    given beside that of their medians: a slow spell on a shared machine moves a median.
    """
    with_lp = matched_ours(cases, "glm", "overlap")
    without = matched_ours(cases, "glm_no_verdict", "overlap")
    if (with_lp is None or without is None or with_lp.dtype != without.dtype
            or not positive(with_lp.fits_per_s) or not positive(without.fits_per_s)):
        return None
    ratio = with_lp.fits_per_s / without.fits_per_s
    fastest = (without.seconds_min / with_lp.seconds_min
               if positive(with_lp.seconds_min) and positive(without.seconds_min) else None)
    sentence = (f"With its separation verdict the GLM fitted overlap data at "
                f"{fmt_rate(with_lp.fits_per_s)} fits/s ({with_lp.dtype}) against "
                f"{fmt_rate(without.fits_per_s)} for the same fit with separation=False "
                f"(glm_no_verdict), {ratio:.2f} of its speed by the medians")
    if fastest is not None:
        sentence += f" and {fastest:.2f} by the fastest rounds"
    return sentence + ("; its ratio to any reference library timed on the same data moves "
                       "by the same factor.")


def _replayed_rules(cases: list[CaseRecord]) -> list[str]:
    """Per model whose family replays another library's rule: where it would have stopped."""
    sentences = []
    for model in models_in([c for c in cases if c.kind == FIT]):
        rule = catalog.family_of(model).replayed_rule
        columns = [(regime, _fit(cases, model, regime))
                   for regime in catalog.CLASSIFICATION_REGIMES]
        columns = [(r, c) for r, c in columns if c is not None and not missing(
            c.replay_stop_frac)]
        if rule is None or not columns:
            continue
        stopped = ", ".join(f"{pct_word(c.replay_stop_frac)} of {r}" for r, c in columns)
        steps = ", ".join(fmt_count(c.replay_stop_median) for _, c in columns)
        ours = ", ".join(pct_word(c.converged_frac) for _, c in columns)
        sentences.append(
            f"Judged by {rule} (a loss that has not improved by 1e-4 for more than 10 "
            f"steps), replayed on each fit's own losses, {model} would have stopped on "
            f"{stopped} data sets (median step {steps}); by our strict rule it converged "
            f"on {ours}.")
    return sentences


def _curved_boundaries(cases: list[CaseRecord]) -> list[str]:
    sentences = []
    for regime in ("xor", "circles"):
        mlp, glm = _fit(cases, "mlp8", regime), _fit(cases, "glm", regime)
        if mlp is None or glm is None or missing(mlp.train_accuracy_mean) or missing(
                glm.train_accuracy_mean):
            continue
        gap = mlp.train_accuracy_mean - glm.train_accuracy_mean
        sentence = (f"On {regime} the MLP with a hidden layer reached "
                    f"{fmt_accuracy(mlp.train_accuracy_mean)} mean train accuracy "
                    f"({fmt_accuracy(mlp.test_accuracy_mean)} test) vs "
                    f"{fmt_accuracy(glm.train_accuracy_mean)} "
                    f"({fmt_accuracy(glm.test_accuracy_mean)}) for the GLM")
        if gap >= 0.05:
            sentence += ": the hidden layer lets it draw a curved boundary that a line cannot"
        elif gap <= -0.05:
            sentence += (f": the GLM did better, which the theory does not predict (the MLP "
                         f"may be under-trained at {mlp.max_iter} steps)")
        else:
            sentence += (f": no real difference (within 0.05; the MLP had "
                         f"{mlp.max_iter} steps and may need more)")
        sentences.append(sentence + ".")
    return sentences


def _speed(cases: list[CaseRecord], timed: bool) -> list[str]:
    by_library: dict[str, list[Speedup]] = {}
    for match in speedups(cases):
        if match.speedup is not None:
            by_library.setdefault(match.baseline.baseline, []).append(match)
    sentences = []
    for library, matches in by_library.items():
        low = min(matches, key=lambda m: m.speedup)
        high = max(matches, key=lambda m: m.speedup)
        faster = sum(m.speedup > 1 for m in matches)
        if faster == len(matches):
            verdict = "ours was faster in every case"
        elif faster == 0:
            verdict = "ours was slower in every case"
        else:
            verdict = f"ours was faster in {faster} of {len(matches)} cases"
        span = (f"{fmt_ratio(low.speedup)} ({_case_name(low.baseline)})" if low is high
                else f"from {fmt_ratio(low.speedup)} ({_case_name(low.baseline)}) to "
                     f"{fmt_ratio(high.speedup)} ({_case_name(high.baseline)})")
        sentences.append(
            f"Against {library}, which fits one data set at a time, our fits per second "
            f"ranged {span} of its own: {verdict}."
        )
    if sentences and not timed:
        sentences.append("Timing was disabled in this run, so these speeds are from single "
                         "untimed calls, not measurements.")
    return sentences


def _case_name(case: dict) -> str:
    return f"{case.model} on {case.regime}"


def _scaling(cases: list[CaseRecord]) -> list[str]:
    sentences = []
    sweep = [c for c in cases if c.kind == SCALING and positive(c.fits_per_s)]
    for model in models_in(sweep):
        points = sorted((c for c in sweep if c.model == model),
                        key=lambda c: c.n_datasets or 0)
        if len(points) < 2:
            continue
        first, last = points[0], points[-1]
        factor = last.fits_per_s / first.fits_per_s
        trend = "grew" if factor > 1 else "fell"
        sentences.append(
            f"Throughput of {model} ({first.regime}, {first.dtype}) {trend} from "
            f"{fmt_rate(first.fits_per_s)} fits/s at {first.n_datasets} data sets "
            f"to {fmt_rate(last.fits_per_s)} at {last.n_datasets} "
            f"({fmt_ratio(factor)})."
        )
    return sentences


def _nonfinite(cases: list[CaseRecord]) -> str | None:
    ours = [c for c in cases if c.kind in (FIT, SCALING)]
    if not ours:
        return None
    bad = [c for c in ours if (c.nan_frac or 0) > 0]
    dressed_up = [c for c in ours if (c.nan_converged or 0) > 0]
    if not bad:
        sentence = "No fit of ours, in any case, ended with non-finite parameters"
    else:
        listed = ", ".join(f"{c.model}/{c.regime}/{c.dtype} "
                           f"({pct_word(c.nan_frac)})" for c in bad)
        sentence = f"Some fits ended with non-finite parameters: {listed}"
    if dressed_up:
        sentence += (f"; {sum(c.nan_converged for c in dressed_up)} of them claimed "
                     "converged=True, which is a bug")
    return sentence + "."


def reading_sentences(cases: list[CaseRecord], *, timed: bool = True) -> list[str]:
    """Sentences that read the numbers, each generated from (and conditional on) the data.

    A sentence whose cases are missing from the run is left out.
    """
    sentences: list[str | None] = [
        _perceptron_convergence(cases), _novikoff(cases), *_separation(cases),
        *_baseline_on_separable(cases), *peer_sentences(cases), _firth(cases),
        _overlap(cases), *resampled_sentences(cases),
        *_replayed_rules(cases), *_curved_boundaries(cases), _nonfinite(cases),
        *_speed(cases, timed), _verdict_cost(cases), *_scaling(cases),
    ]
    return [s for s in sentences if s]
