"""The sentences that read a run's numbers, each generated from (and conditional on) the data.

A sentence whose cases are missing from the run is left out. The sentences are claims about
particular catalog models (the perceptron against Novikoff's bound, the binomial GLM on
separable data, the MLP with a hidden layer on curved boundaries), so they name them.

Each builder takes the run's cases and returns a :class:`~bench.quotes.Sentence`, a
list of them, or None: a template and the values it quotes (:mod:`bench.quotes`),
never a number formatted into its text. The wording that depends on the data ("grew",
"fell", "ours was faster in every case") is chosen here; :data:`BUILDERS` is their order.
"""

from __future__ import annotations

from bench import catalog
from bench.formats import DASH, missing, positive
from bench.quotes import (
    ACCURACY,
    COUNT,
    FIXED2,
    PCT,
    RATE,
    RATIO,
    SIG3,
    Sentence,
    derived,
    fixed,
    join,
    matched_ours,
    quote,
    render,
)
from bench.record import FIT, SCALING, CaseRecord
from bench.report.matching import Speedup, models_in, speedups
from bench.report.peers import peer_sentences
from bench.report.resampled import resampled_sentences

__all__ = ["reading_sentences", "quoted_sentences", "BUILDERS", "UNTIMED"]


def _family(model: str) -> str:
    return catalog.family_of(model).name


def _fit(cases: list[CaseRecord], model: str, regime: str) -> CaseRecord | None:
    return matched_ours(cases, model, regime)


def _pct(case: CaseRecord, field: str = "converged_frac"):
    return quote(case, field, PCT)


def _perceptron_convergence(cases: list[CaseRecord]) -> Sentence | None:
    separable = _fit(cases, "perceptron", "separable")
    others = [(regime, _fit(cases, "perceptron", regime))
              for regime in ("overlap", "quasi", "xor", "circles")]
    others = [(regime, case) for regime, case in others if case is not None]
    if separable is None or not others:
        return None
    sentence = (Sentence("The perceptron converged on {} of separable data sets and on ",
                         _pct(separable))
                + join(", ", (Sentence(f"{{}} of {regime}", _pct(case))
                              for regime, case in others)) + " data sets")
    best_other = max(case.converged_frac for _, case in others)
    if separable.converged_frac > best_other:
        sentence += (": it stops only when a separating line exists, as Rosenblatt's "
                     "convergence theorem says")
    else:
        sentence += (": it converged no more often on separable data than elsewhere, which "
                     "is not what the convergence theorem predicts")
    if not missing(separable.converged_on_complete_frac) and (
            separable.lp_complete_frac or 0) < 0.9995:
        sentence += Sentence(
            " (the linear program found {} of them completely separated, and the perceptron "
            "converged on {} of those)", _pct(separable, "lp_complete_frac"),
            _pct(separable, "converged_on_complete_frac"))
    if 1 - separable.converged_frac > 0:
        sentence += Sentence("; {} of separable data sets ran out of the {}-epoch budget",
                             derived("one_minus", PCT, (separable, "converged_frac")),
                             quote(separable, "max_iter", COUNT))
    return sentence + "."


def _novikoff(cases: list[CaseRecord]) -> Sentence | None:
    separable = _fit(cases, "perceptron", "separable")
    ratio = None if separable is None else separable.novikoff_max_ratio
    if missing(ratio):
        return None
    shown = quote(separable, "novikoff_max_ratio", SIG3)
    if ratio <= 1:
        sentence = Sentence("No separable data set needed more perceptron updates than "
                            "Novikoff's bound (R/γ)²: the largest ratio n_updates / (R/γ)² "
                            "was {}", shown)
        if 0 < ratio < 0.5:
            sentence += Sentence(", so the worst case used {} of the bound",
                                 _pct(separable, "novikoff_max_ratio"))
        return sentence + "."
    return Sentence("At least one separable data set needed more perceptron updates than "
                    "Novikoff's bound (R/γ)² allows (largest ratio {} > {}): either the "
                    "perceptron or the margin used for the bound is wrong.", shown, fixed(1))


def _lp_clause(case: CaseRecord) -> Sentence:
    """``", where the linear program found X% completely and Y% quasi-completely ..."``."""
    if missing(case.lp_complete_frac):
        return Sentence()
    clause = Sentence(", where the linear program found {} completely and {} "
                      "quasi-completely separated", _pct(case, "lp_complete_frac"),
                      _pct(case, "lp_quasi_frac"))
    if case.lp_undecided_frac:
        clause += Sentence(" ({} undecided)", _pct(case, "lp_undecided_frac"))
    return clause


def _statuses(case: CaseRecord) -> Sentence:
    """The non-zero status counts, ``"max_iter 3, separated 1"`` (as the tables write them)."""
    counts = [name for name, count in (case.status_counts or {}).items() if count]
    return join(", ", (Sentence(f"{name} {{}}", quote(case, f"status_counts.{name}", COUNT))
                       for name in counts)) if counts else Sentence(DASH)


def _separation(cases: list[CaseRecord]) -> list[Sentence]:
    """The binomial GLM's status on the separated regimes, read against the LP's verdict."""
    sentences = []
    for regime, what in (("separable", "separable data"),
                         ("quasi", "quasi-separated data (a rare exposure whose exposed rows "
                                   "all had the outcome)")):
        glm = _fit(cases, "glm", regime)
        if glm is None:
            continue
        sentence = (f"On {what}" + _lp_clause(glm) + Sentence(
            f", our IRLS GLM ({glm.dtype}) reported separation on {{}} of data sets and "
            "convergence on {}", _pct(glm, "separated_frac"), _pct(glm)))
        agrees = glm.separated_agrees_frac
        if not missing(agrees) and agrees >= 0.9995:
            sentence += ": its status matched the linear program's verdict on every one"
        elif not missing(agrees):
            sentence += (Sentence(": its status matched the linear program's verdict on {} "
                                  "(statuses: ", _pct(glm, "separated_agrees_frac"))
                         + _statuses(glm) + ")")
        if regime == "quasi":
            others = [(m, _fit(cases, m, regime)) for m in ("perceptron", "glm_firth")]
            parts = [Sentence(f"{m} converged on {{}}", _pct(c))
                     for m, c in others if c is not None]
            if parts:
                sentence += ("; " + join(" and ", parts) + " (no line splits the classes, so "
                             "the perceptron cannot stop; Firth's estimate is finite)")
        sentences.append(sentence + ".")
    return sentences


def _baseline_on_separable(cases: list[CaseRecord]) -> list[Sentence]:
    sentences = []
    for match in speedups(cases):
        theirs, ours = match.baseline, match.ours
        if (theirs.regime not in ("separable", "quasi") or ours is None
                or missing(theirs.converged_frac)
                or missing(ours.separated_frac)
                or _family(ours.model) != "glm"):
            continue
        reported, separated = theirs.converged_frac, ours.separated_frac
        sentence = Sentence(
            f"{theirs.baseline} reported converged=True on {{}} of the {{}} {theirs.regime} "
            "data sets it fitted, where we report separation on {} of all {}",
            _pct(theirs), quote(theirs, "n_datasets", COUNT), _pct(ours, "separated_frac"),
            quote(ours, "n_datasets", COUNT))
        if reported > 0 and separated > 0:
            sentence += ": its convergence flag does not warn that the coefficients diverge"
        elif reported == 0:
            sentence += ": it did not claim convergence there"
        sentences.append(sentence + ".")
    return sentences


def _firth(cases: list[CaseRecord]) -> Sentence | None:
    firth, glm = _fit(cases, "glm_firth", "separable"), _fit(cases, "glm", "separable")
    if firth is None:
        return None
    sentence = Sentence("Firth's penalised likelihood converged on {} of separable data sets",
                        _pct(firth))
    if glm is not None:
        sentence += Sentence(", where plain IRLS reported separation on {}",
                             _pct(glm, "separated_frac"))
        if (firth.converged_frac or 0) > (glm.converged_frac or 0):
            sentence += ": the penalty gives the estimate a finite value there"
        else:
            sentence += ": the penalty did not help it converge more often"
    return sentence + "."


def _overlap(cases: list[CaseRecord]) -> Sentence | None:
    glm = _fit(cases, "glm", "overlap")
    if glm is None:
        return None
    sentence = Sentence(
        "On overlap data (labels drawn from the logistic model) the GLM converged on {} of "
        "data sets in a median of {} IRLS iterations (p90 {}, max {})", _pct(glm),
        *(quote(glm, field, COUNT) for field in ("n_iter_median", "n_iter_p90", "n_iter_max")))
    mlp0 = _fit(cases, "mlp0", "overlap")
    if mlp0 is not None:
        sentence += Sentence(
            "; the same model trained by gradient steps (mlp0) converged on {} within its "
            "{}-step budget (median {} steps)", _pct(mlp0), quote(mlp0, "max_iter", COUNT),
            quote(mlp0, "n_iter_median", COUNT))
    perceptron = _fit(cases, "perceptron", "overlap")
    if perceptron is not None:
        sentence += Sentence(", and the perceptron on {} within {} epochs", _pct(perceptron),
                             quote(perceptron, "max_iter", COUNT))
    return sentence + "."


def _verdict_cost(cases: list[CaseRecord]) -> Sentence | None:
    """The separation verdict's cost: the GLM's overlap row against the same fit without it.

    The two rows are timed a minute or so apart, so the ratio of their fastest rounds is
    given beside that of their medians: a slow spell on a shared machine moves a median.
    """
    with_lp = matched_ours(cases, "glm", "overlap")
    without = matched_ours(cases, "glm_no_verdict", "overlap")
    if (with_lp is None or without is None or with_lp.dtype != without.dtype
            or not positive(with_lp.fits_per_s) or not positive(without.fits_per_s)):
        return None
    sentence = Sentence(
        "With its separation verdict the GLM fitted overlap data at {} fits/s "
        f"({with_lp.dtype}) against {{}} for the same fit with separation=False "
        "(glm_no_verdict), {} of its speed by the medians",
        quote(with_lp, "fits_per_s", RATE), quote(without, "fits_per_s", RATE),
        derived("ratio", FIXED2, (with_lp, "fits_per_s"), (without, "fits_per_s")))
    if positive(with_lp.seconds_min) and positive(without.seconds_min):
        sentence += Sentence(" and {} by the fastest rounds", derived(
            "ratio", FIXED2, (without, "seconds_min"), (with_lp, "seconds_min")))
    return sentence + ("; its ratio to any reference library timed on the same data moves "
                       "by the same factor.")


def _replayed_rules(cases: list[CaseRecord]) -> list[Sentence]:
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
        sentences.append(
            Sentence(f"Judged by {rule} (a loss that has not improved by {{}} for more than "
                     "{} steps), replayed on each fit's own losses, "
                     f"{model} would have stopped on ", fixed("1e-4"), fixed(10))
            + join(", ", (Sentence(f"{{}} of {r}", _pct(c, "replay_stop_frac"))
                          for r, c in columns))
            + " data sets (median step "
            + join(", ", (Sentence("{}", quote(c, "replay_stop_median", COUNT))
                          for _, c in columns))
            + "); by our strict rule it converged on "
            + join(", ", (Sentence("{}", _pct(c)) for _, c in columns)) + ".")
    return sentences


def _curved_boundaries(cases: list[CaseRecord]) -> list[Sentence]:
    sentences = []
    for regime in ("xor", "circles"):
        mlp, glm = _fit(cases, "mlp8", regime), _fit(cases, "glm", regime)
        if mlp is None or glm is None or missing(mlp.train_accuracy_mean) or missing(
                glm.train_accuracy_mean):
            continue
        gap = mlp.train_accuracy_mean - glm.train_accuracy_mean
        sentence = Sentence(
            f"On {regime} the MLP with a hidden layer reached {{}} mean train accuracy ({{}} "
            "test) vs {} ({}) for the GLM",
            *(quote(case, field, ACCURACY) for case in (mlp, glm)
              for field in ("train_accuracy_mean", "test_accuracy_mean")))
        steps = quote(mlp, "max_iter", COUNT)
        if gap >= 0.05:
            sentence += ": the hidden layer lets it draw a curved boundary that a line cannot"
        elif gap <= -0.05:
            sentence += Sentence(": the GLM did better, which the theory does not predict "
                                 "(the MLP may be under-trained at {} steps)", steps)
        else:
            sentence += Sentence(": no real difference (within {}; the MLP had {} steps and "
                                 "may need more)", fixed("0.05"), steps)
        sentences.append(sentence + ".")
    return sentences


def _speed(cases: list[CaseRecord]) -> list[Sentence]:
    by_library: dict[str, list[Speedup]] = {}
    for match in speedups(cases):
        if match.speedup is not None:
            by_library.setdefault(match.baseline.baseline, []).append(match)
    sentences = []
    for library, matches in by_library.items():
        low = min(matches, key=lambda m: m.speedup)
        high = max(matches, key=lambda m: m.speedup)
        faster = sum(m.speedup > 1 for m in matches)
        pairs = [(case, "fits_per_s") for m in matches for case in (m.ours, m.baseline)]
        if faster == len(matches):
            verdict = Sentence("ours was faster in every case")
        elif faster == 0:
            verdict = Sentence("ours was slower in every case")
        else:
            verdict = Sentence("ours was faster in {} of {} cases",
                               derived("n_above_1", COUNT, *pairs),
                               derived("n_pairs", COUNT, *pairs))
        span = Sentence(f"{{}} ({_case_name(low.baseline)})", derived("min_ratio", RATIO, *pairs))
        if low is not high:
            span = "from " + span + Sentence(f" to {{}} ({_case_name(high.baseline)})",
                                             derived("max_ratio", RATIO, *pairs))
        sentences.append(f"Against {library}, which fits one data set at a time, our fits "
                         "per second ranged " + span + " of its own: " + verdict + ".")
    return sentences


def _case_name(case: CaseRecord) -> str:
    return f"{case.model} on {case.regime}"


#: Said after the speed sentences of a run whose timing was disabled.
UNTIMED = Sentence("Timing was disabled in this run, so these speeds are from single untimed "
                   "calls, not measurements.")


def _scaling(cases: list[CaseRecord]) -> list[Sentence]:
    sentences = []
    sweep = [c for c in cases if c.kind == SCALING and positive(c.fits_per_s)]
    for model in models_in(sweep):
        points = sorted((c for c in sweep if c.model == model),
                        key=lambda c: c.n_datasets or 0)
        if len(points) < 2:
            continue
        first, last = points[0], points[-1]
        trend = "grew" if last.fits_per_s / first.fits_per_s > 1 else "fell"
        sentences.append(Sentence(
            f"Throughput of {model} ({first.regime}, {first.dtype}) {trend} from {{}} fits/s "
            "at {} data sets to {} at {} ({}).", quote(first, "fits_per_s", RATE),
            quote(first, "n_datasets", COUNT), quote(last, "fits_per_s", RATE),
            quote(last, "n_datasets", COUNT),
            derived("ratio", RATIO, (last, "fits_per_s"), (first, "fits_per_s"))))
    return sentences


def _nonfinite(cases: list[CaseRecord]) -> Sentence | None:
    ours = [c for c in cases if c.kind in (FIT, SCALING)]
    if not ours:
        return None
    bad = [c for c in ours if (c.nan_frac or 0) > 0]
    dressed_up = [c for c in ours if (c.nan_converged or 0) > 0]
    if not bad:
        sentence = Sentence("No fit of ours, in any case, ended with non-finite parameters")
    else:
        sentence = "Some fits ended with non-finite parameters: " + join(", ", (
            Sentence(f"{c.model}/{c.regime}/{c.dtype} ({{}})", _pct(c, "nan_frac"))
            for c in bad))
    if dressed_up:
        sentence += Sentence("; {} of them claimed converged=True, which is a bug", derived(
            "sum", COUNT, *((c, "nan_converged") for c in dressed_up)))
    return sentence + "."


#: The sentence builders, in the README's order: each ``(cases) -> Sentence | list | None``.
BUILDERS = (_perceptron_convergence, _novikoff, _separation, _baseline_on_separable,
            peer_sentences, _firth, _overlap, resampled_sentences, _replayed_rules,
            _curved_boundaries, _nonfinite, _speed, _verdict_cost, _scaling)


def quoted_sentences(cases: list[CaseRecord], *, timed: bool = True) -> list[Sentence]:
    """The reading sentences as data (template and quotes), in :data:`BUILDERS` order.

    A sentence whose cases are missing from the run is left out; :data:`UNTIMED` follows
    the speed sentences of an untimed run.
    """
    sentences: list[Sentence] = []
    for build in BUILDERS:
        made = build(cases)
        made = [made] if isinstance(made, Sentence) else list(made or [])
        sentences += made
        if build is _speed and made and not timed:
            sentences.append(UNTIMED)
    return sentences


def reading_sentences(cases: list[CaseRecord], *, timed: bool = True) -> list[str]:
    """The text of each of :func:`quoted_sentences`."""
    return [render(sentence) for sentence in quoted_sentences(cases, timed=timed)]
