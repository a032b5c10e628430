"""A reading sentence as data: a template and the numbers it quotes (no JAX).

The words that the report (:mod:`bench.report.sentences`) and the family modules
(:mod:`bench.families`, each with the sentences about its own models) build their sentences
from; it imports neither, so a family module can use it without loading the report, which
reads the catalog.

A :class:`Sentence` is a template whose ``{}`` slots are filled, in order, by its
:class:`Quote` values. A quote says where its number comes from: a field of one case of
the run, the case named by its record keys (:data:`IDENTITY`), or, for a derived number
(a speedup, a share left over), the fields it is computed from and how (:data:`OPS`); and
how it is written (:class:`Format`). :func:`render` writes a sentence. The README-number
test (``tests/test_readme_numbers.py``) looks each quote up in the run's JSON and checks
the number written for it, so a sentence cannot print a number that no quote accounts for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from bench.formats import (
    DASH,
    fmt_accuracy,
    fmt_count,
    fmt_float,
    fmt_loss,
    fmt_pct,
    fmt_rate,
    fmt_ratio,
    fmt_seconds,
    missing,
    pct_word,
)
from bench.intervals import MIN_ROUNDS, speed_ratio_interval
from bench.record import FIT, SCALING, CaseRecord

__all__ = ["Format", "Ref", "Quote", "Sentence", "render", "quote", "pct", "derived", "fixed",
           "join", "case_key", "field_of", "matched_ours", "IDENTITY", "OPS", "PCT", "COUNT",
           "RATE", "RATIO", "ACCURACY", "SIG2", "SIG3", "FIXED2", "TEXT", "SHARE", "SECONDS",
           "LOSS", "FLOAT1", "FLOAT2", "cell", "words", "speed_ratio", "interval_quotes",
           "rounds_spread"]

#: The record fields that identify a case (a scaling case also by ``n_datasets``).
IDENTITY = ("kind", "model", "regime", "dtype", "baseline")


class Format(NamedTuple):
    """How a quoted value is written: ``write(value)`` shows ``value * scale`` (None: text)."""

    name: str
    write: Callable[[object], str]
    scale: float | None = 1


def _digits(spec: str) -> Callable[[object], str]:
    return lambda value: DASH if missing(value) else format(value, spec)


PCT = Format("percentage", pct_word, 100)
COUNT = Format("count", fmt_count)
RATE = Format("fits per second", fmt_rate)
RATIO = Format("speed ratio", fmt_ratio)
ACCURACY = Format("accuracy", fmt_accuracy)
SIG2 = Format("2 significant digits", _digits(".2g"))
SIG3 = Format("3 significant digits", _digits(".3g"))
FIXED2 = Format("2 decimals", _digits(".2f"))
#: Words written as they are: a name or a constant of the prose, not a number of the run.
TEXT = Format("text", str, None)
#: The table cells' own ways (:mod:`bench.report.tables`): a percentage without its sign,
#: seconds and losses to 3 and 4 significant digits, 1 and 2 decimals.
SHARE = Format("percentage without its sign", fmt_pct, 100)
SECONDS = Format("seconds", fmt_seconds)
LOSS = Format("4 significant digits", fmt_loss)
FLOAT1 = Format("1 decimal", fmt_float)
FLOAT2 = Format("2 decimals", lambda value: fmt_float(value, 2))


def _ratios(values) -> list:
    return [top / bottom for top, bottom in zip(values[::2], values[1::2])]


#: A derived quote's value from its fields' values, in the order of its refs.
OPS: dict[str, Callable[..., object]] = {
    "value": lambda value: value,
    "ratio": lambda top, bottom: top / bottom,
    "one_minus": lambda value: 1 - value,
    "sum": lambda *values: sum(values),
    # refs in pairs (ours, theirs): the least and the largest ours / theirs, how many of
    # them are above 1, how many pairs
    "min_ratio": lambda *values: min(_ratios(values)),
    "max_ratio": lambda *values: max(_ratios(values)),
    "n_above_1": lambda *values: sum(ratio > 1 for ratio in _ratios(values)),
    "n_pairs": lambda *values: len(values) // 2,
    # (our rounds, our data sets, their rounds, theirs): the bootstrap interval of the
    # ratio of speeds (bench.intervals), each end
    "ratio_low": lambda *values: _interval(*values)[0],
    "ratio_high": lambda *values: _interval(*values)[1],
    # a row's rounds: how many, and their quartiles
    "n_rounds": len,
    "q25": lambda rounds: float(np.percentile(rounds, 25)),
    "q75": lambda rounds: float(np.percentile(rounds, 75)),
}


def _interval(*values) -> tuple:
    return speed_ratio_interval(*values) or (None, None)


class Ref(NamedTuple):
    """A field (``"status_counts.converged"`` reads into a mapping) of the case ``case``."""

    case: tuple[tuple[str, object], ...]
    field: str


class Quote(NamedTuple):
    """A value a sentence quotes: ``OPS[op]`` of its refs' fields, written by ``format``."""

    refs: tuple[Ref, ...]
    format: Format
    op: str
    value: object

    @property
    def text(self) -> str:
        """The value as the sentence writes it."""
        return self.format.write(self.value)

    def compute(self, values) -> object:
        """``OPS[op]`` of its refs' ``values`` (None where one is missing)."""
        values = list(values)
        return None if any(missing(v) for v in values) else OPS[self.op](*values)


@dataclass(frozen=True, init=False)
class Sentence:
    """A template with a ``{}`` slot per quote, in order; ``+`` joins two (or a string)."""

    template: str
    quotes: tuple[Quote, ...]

    def __init__(self, template: str = "", *quotes: Quote):
        if template.count("{}") != len(quotes):
            raise ValueError(f"{template!r} has not one slot per quote ({len(quotes)})")
        object.__setattr__(self, "template", template)
        object.__setattr__(self, "quotes", quotes)

    def __add__(self, other: Sentence | str) -> Sentence:
        other = other if isinstance(other, Sentence) else Sentence(other)
        return Sentence(self.template + other.template, *self.quotes, *other.quotes)

    def __radd__(self, other: str) -> Sentence:
        return Sentence(other) + self


def render(sentence: Sentence) -> str:
    """The sentence's text: each ``{}`` of its template replaced by its quote's text."""
    parts = sentence.template.split("{}")
    return parts[0] + "".join(q.text + part for q, part in zip(sentence.quotes, parts[1:]))


def join(separator: str, sentences) -> Sentence:
    """The sentences (or strings) one after the other, ``separator`` between them."""
    out = Sentence()
    for index, sentence in enumerate(sentences):
        out = out + (separator if index else "") + sentence
    return out


def case_key(case: CaseRecord) -> tuple[tuple[str, object], ...]:
    """The record keys that identify ``case`` among the run's rows."""
    names = IDENTITY + (("n_datasets",) if case.kind == SCALING else ())
    return tuple((name, getattr(case, name)) for name in names
                 if getattr(case, name) is not None)


def field_of(case: CaseRecord, field: str):
    """``case``'s ``field``; ``"a.b"`` is item ``b`` of field ``a`` (None where absent)."""
    head, *path = field.split(".")
    value = getattr(case, head)
    for part in path:
        value = (value or {}).get(part)
    return value


def quote(case: CaseRecord, field: str, fmt: Format) -> Quote:
    """``case``'s ``field``, written by ``fmt``."""
    return Quote((Ref(case_key(case), field),), fmt, "value", field_of(case, field))


def cell(case: CaseRecord | None, field: str, fmt: Format = TEXT) -> Sentence:
    """A table cell that is ``case``'s ``field`` alone (a dash where there is no case)."""
    return Sentence(DASH) if case is None else Sentence("{}", quote(case, field, fmt))


def words(text: str) -> Sentence:
    """A cell or phrase of words that come from the catalog, not the run, digits and all."""
    return Sentence("{}", fixed(text))


def pct(case: CaseRecord, field: str = "converged_frac") -> Quote:
    """``case``'s share ``field`` (its converged share by default), as a percentage."""
    return quote(case, field, PCT)


def derived(op: str, fmt: Format, *fields: tuple[CaseRecord, str]) -> Quote:
    """``OPS[op]`` of the ``(case, field)`` values, written by ``fmt``."""
    refs = tuple(Ref(case_key(case), field) for case, field in fields)
    value = Quote(refs, fmt, op, None).compute(field_of(case, field) for case, field in fields)
    return Quote(refs, fmt, op, value)


def fixed(words) -> Quote:
    """Words of the prose with a digit in them (a constant, a name), written as they are."""
    return Quote((), TEXT, "value", str(words))


def interval_quotes(ours: CaseRecord, theirs: CaseRecord) -> tuple[Quote, Quote] | None:
    """The two ends of the bootstrap interval of our fits/s over theirs.

    None where a side has too few rounds (:func:`bench.intervals.speed_ratio_interval`).
    """
    if min(len(ours.round_seconds or ()), len(theirs.round_seconds or ())) < MIN_ROUNDS:
        return None
    fields = ((ours, "round_seconds"), (ours, "n_datasets"), (theirs, "round_seconds"),
              (theirs, "n_datasets"))
    return derived("ratio_low", RATIO, *fields), derived("ratio_high", RATIO, *fields)


def speed_ratio(ours: CaseRecord, theirs: CaseRecord) -> Sentence:
    """Our fits/s over theirs, with its interval where both rows have the rounds.

    ``"29.9× (27.1–32.8)"``: the ratio of the rows' fits/s (their medians), and the
    :data:`bench.intervals.LEVEL` interval (:func:`interval_quotes`).
    """
    ratio = derived("ratio", RATIO, (ours, "fits_per_s"), (theirs, "fits_per_s"))
    ends = interval_quotes(ours, theirs)
    return Sentence("{}", ratio) if ends is None else Sentence("{} ({}–{})", ratio, *ends)


def rounds_spread(case: CaseRecord) -> list[Sentence]:
    """A row's rounds and the quartiles of their seconds (dashes without rounds)."""
    if not case.round_seconds:
        return [Sentence("–"), Sentence("–")]
    return [Sentence("{}", derived("n_rounds", COUNT, (case, "round_seconds"))),
            Sentence("{}–{}", derived("q25", SECONDS, (case, "round_seconds")),
                     derived("q75", SECONDS, (case, "round_seconds")))]


def matched_ours(cases: list[CaseRecord], model: str, regime: str) -> CaseRecord | None:
    """Our ``kind == "fit"`` case for (model, regime): float64 if there is one, else float32."""
    candidates = [c for c in cases if c.kind == FIT and c.model == model and c.regime == regime]
    for dtype in ("float64", "float32"):
        for case in candidates:
            if case.dtype == dtype:
                return case
    return candidates[0] if candidates else None
