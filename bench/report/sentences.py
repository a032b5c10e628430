"""The sentences that read a run's numbers, each generated from (and conditional on) the data.

A sentence whose cases are missing from the run is left out. The sentences here hold for
any model of the catalog: the reference libraries' and peers' flags, the replayed
stopping rules, non-finite fits, speed and throughput; they name no model, and read the
families' properties (``separation_flag``, ``replayed_rule``). The claims about particular
models (the perceptron against Novikoff's bound, the binomial GLM on separable data, the MLP
with a hidden layer on curved boundaries) live with their family, in the ``SENTENCES`` of
its module (:mod:`bench.families`), by topic; :data:`ORDER` places each topic among the
sentences here.

Each builder takes the run's cases and returns a :class:`~bench.quotes.Sentence`, a list of
them, or None: a template and the values it quotes (:mod:`bench.quotes`), never a number
formatted into its text. The wording that depends on the data ("grew", "fell", "ours was
faster in every case") is chosen by the builder.
"""

from __future__ import annotations

from bench import catalog
from bench.formats import missing, positive
from bench.intervals import LEVEL
from bench.quotes import (
    COUNT,
    RATE,
    RATIO,
    Sentence,
    derived,
    fixed,
    interval_quotes,
    join,
    matched_ours,
    pct,
    quote,
    render,
)
from bench.record import FIT, SCALING, CaseRecord
from bench.report.matching import Speedup, models_in, speedups
from bench.report.peers import peer_sentences

__all__ = ["reading_sentences", "quoted_sentences", "builders", "ORDER", "UNTIMED"]


def _baseline_on_separable(cases: list[CaseRecord]) -> list[Sentence]:
    """What each reference library reported on separated data, beside our separation flag."""
    sentences = []
    for match in speedups(cases):
        theirs, ours = match.baseline, match.ours
        if (theirs.regime not in ("separable", "quasi") or ours is None
                or missing(theirs.converged_frac)
                or missing(ours.separated_frac)
                or not catalog.family_of(ours.model).separation_flag):
            continue
        reported, separated = theirs.converged_frac, ours.separated_frac
        sentence = Sentence(
            f"{theirs.baseline} reported converged=True on {{}} of the {{}} {theirs.regime} "
            "data sets it fitted, where we report separation on {} of all {}",
            pct(theirs), quote(theirs, "n_datasets", COUNT), pct(ours, "separated_frac"),
            quote(ours, "n_datasets", COUNT))
        if reported > 0 and separated > 0:
            sentence += ": its convergence flag does not warn that the coefficients diverge"
        elif reported == 0:
            sentence += ": it did not claim convergence there"
        sentences.append(sentence + ".")
    return sentences


def _replayed_rules(cases: list[CaseRecord]) -> list[Sentence]:
    """Per model whose family replays another library's rule: where it would have stopped."""
    sentences = []
    for model in models_in([c for c in cases if c.kind == FIT]):
        rule = catalog.family_of(model).replayed_rule
        columns = [(regime, matched_ours(cases, model, regime))
                   for regime in catalog.CLASSIFICATION_REGIMES]
        columns = [(r, c) for r, c in columns if c is not None and not missing(
            c.replay_stop_frac)]
        if rule is None or not columns:
            continue
        sentences.append(
            Sentence(f"Judged by {rule} (a loss that has not improved by {{}} for more than "
                     "{} steps), replayed on each fit's own losses, "
                     f"{model} would have stopped on ", fixed("1e-4"), fixed(10))
            + join(", ", (Sentence(f"{{}} of {r}", pct(c, "replay_stop_frac"))
                          for r, c in columns))
            + " data sets (median step "
            + join(", ", (Sentence("{}", quote(c, "replay_stop_median", COUNT))
                          for _, c in columns))
            + "); by our strict rule it converged on "
            + join(", ", (Sentence("{}", pct(c)) for _, c in columns)) + ".")
    return sentences


def _speed(cases: list[CaseRecord]) -> list[Sentence]:
    """Per reference library: the span of our fits per second over its own."""
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
        span = _end(derived("min_ratio", RATIO, *pairs), low)
        if low is not high:
            span = "from " + span + " to " + _end(derived("max_ratio", RATIO, *pairs), high)
        sentences.append(f"Against {library}, which fits one data set at a time, our fits "
                         "per second ranged " + span + " of its own: " + verdict + ".")
    return sentences


def _end(ratio, match: Speedup) -> Sentence:
    """``"29.9× (glm on overlap; 95% CI 27.1–32.8)"``: an end of a span, and its interval."""
    ends = interval_quotes(match.ours, match.baseline)
    if ends is None:
        return Sentence(f"{{}} ({_case_name(match.baseline)})", ratio)
    return Sentence(f"{{}} ({_case_name(match.baseline)}; {{}} CI {{}}–{{}})", ratio,
                    fixed(f"{LEVEL:.0%}"), *ends)


def _case_name(case: CaseRecord) -> str:
    return f"{case.model} on {case.regime}"


#: Said after the speed sentences of a run whose timing was disabled.
UNTIMED = Sentence("Timing was disabled in this run, so these speeds are from single untimed "
                   "calls, not measurements.")


def _scaling(cases: list[CaseRecord]) -> list[Sentence]:
    """Per model swept over the number of data sets: how its throughput moved."""
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
    """Whether any fit of ours ended with non-finite parameters (and claimed convergence)."""
    ours = [c for c in cases if c.kind in (FIT, SCALING)]
    if not ours:
        return None
    bad = [c for c in ours if (c.nan_frac or 0) > 0]
    dressed_up = [c for c in ours if (c.nan_converged or 0) > 0]
    if not bad:
        sentence = Sentence("No fit of ours, in any case, ended with non-finite parameters")
    else:
        sentence = "Some fits ended with non-finite parameters: " + join(", ", (
            Sentence(f"{c.model}/{c.regime}/{c.dtype} ({{}})", pct(c, "nan_frac"))
            for c in bad))
    if dressed_up:
        sentence += Sentence("; {} of them claimed converged=True, which is a bug", derived(
            "sum", COUNT, *((c, "nan_converged") for c in dressed_up)))
    return sentence + "."


#: The README's order of the sentences: a builder of this module's, or a topic of
#: :data:`bench.catalog.SENTENCE_TOPICS` standing for the family modules' builders of that
#: topic, in catalog order (:func:`bench.catalog.sentences`). Every topic has its place.
ORDER = ("separation", _baseline_on_separable, peer_sentences,
         "convergence", _replayed_rules,
         "accuracy", _nonfinite, _speed,
         "speed", _scaling)


def builders() -> tuple:
    """Every sentence builder, in the README's order (:data:`ORDER`), read at call time.

    Each is ``(cases) -> Sentence | list[Sentence] | None``.
    """
    return tuple(build for item in ORDER
                 for build in (catalog.sentences(item) if isinstance(item, str) else (item,)))


def quoted_sentences(cases: list[CaseRecord], *, timed: bool = True) -> list[Sentence]:
    """The reading sentences as data (template and quotes), in the order of :func:`builders`.

    A sentence whose cases are missing from the run is left out; :data:`UNTIMED` follows
    the speed sentences of an untimed run.
    """
    sentences: list[Sentence] = []
    for build in builders():
        made = build(cases)
        made = [made] if isinstance(made, Sentence) else list(made or [])
        sentences += made
        if build is _speed and made and not timed:
            sentences.append(UNTIMED)
    return sentences


def reading_sentences(cases: list[CaseRecord], *, timed: bool = True) -> list[str]:
    """The text of each of :func:`quoted_sentences`."""
    return [render(sentence) for sentence in quoted_sentences(cases, timed=timed)]
