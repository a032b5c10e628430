"""The peers in a published run: their table and the sentences that read it (no JAX).

A peer row (``kind == "peer"``) is a library fitting the data sets of our case of one
model and regime in one batch (:mod:`bench.peers`); it is shown beside that case. A peer
skipped for want of its library is listed with the reason.
"""

from __future__ import annotations

from bench import catalog
from bench.formats import DASH, missing, positive
from bench.intervals import LEVEL
from bench.quotes import (
    COUNT,
    PCT,
    RATE,
    SECONDS,
    SHARE,
    SIG2,
    TEXT,
    Sentence,
    cell,
    matched_ours,
    quote,
    speed_ratio,
    words,
)
from bench.record import PEER, CaseRecord
from bench.report.matching import case_sort_key
from bench.report.tables import Table, ours_cells

__all__ = ["peer_rows", "peer_table", "skipped_peers", "skipped_lines", "peer_sentences",
           "PEER_LEGEND"]

PEER_LEGEND = """\
The libraries a user would pick instead, fitting the same data sets as our case of the
same model and regime (float64 for the GLM, float32 for the MLP), in the same run, each
batched as its documentation recommends; a JAX peer is compiled ahead (**compile s**, not
in the timing). **their converged %** is their own flag: `tfp.glm.fit` returns one flag
for the whole batch (100 or 0), glmax one per data set; the MLP peers have no stopping
rule. **stopping rule** is the rule and tolerance each ran at, the nearest to ours (the
GLM: R's relative deviance change below 1e-8, 25 iterations; their defaults are in
brackets). The MLP peers (equinox, flax, PyTorch) write our network, start from our
initial weights and take exactly our step budget. **agreement with ours** is, for a GLM
peer, the median over data sets of the largest absolute difference between their
coefficients and ours; for an MLP peer, the median (and largest) absolute difference of
the final training loss. **speedup** is our fits/s over theirs.
"""


def peer_rows(cases: list[CaseRecord]) -> list[CaseRecord]:
    """The peer rows, in table order (model, regime, then the catalog's peer order)."""
    order = [p.label for p in catalog.peers()]
    rows = [c for c in cases if c.kind == PEER]
    return sorted(rows, key=lambda c: (case_sort_key(c)[:2], order.index(c.baseline)
                                       if c.baseline in order else len(order)))


def skipped_peers(skipped: dict) -> list[tuple[str, str]]:
    """``(peer case id, reason)`` of the peer rows the run skipped, in catalog order."""
    ids = [f"{p.name}-{regime}" for p in catalog.peers() for regime in p.regimes]
    return [(i, skipped[i]) for i in ids if i in (skipped or {})]


def _agreement(peer: CaseRecord) -> Sentence:
    if not missing(peer.loss_diff_median):
        return Sentence("|Δ final loss| {} (max {})", quote(peer, "loss_diff_median", SIG2),
                        quote(peer, "loss_diff_max", SIG2))
    return Sentence("max |Δcoef| {}", quote(peer, "coef_diff_median", SIG2))


def peer_table(cases: list[CaseRecord]) -> Table:
    """The peers, each beside our case of the same model and regime."""
    header = ["library", "model", "regime", "batching", "data sets", "their fits/s",
              "compile s", "their converged % (flag)", "iterations median / max",
              "stopping rule", "agreement with ours (median)", "our fits/s", "our converged % / "
              "separated %", f"speedup ({LEVEL:.0%} CI)"]
    batching = {p.label: p.batching for p in catalog.peers()}
    rows = []
    for peer in peer_rows(cases):
        rows.append([
            cell(peer, "baseline"), cell(peer, "model"), cell(peer, "regime"),
            words(batching.get(peer.baseline, DASH)), cell(peer, "n_datasets", COUNT),
            cell(peer, "fits_per_s", RATE), cell(peer, "compile_s", SECONDS),
            Sentence("{} ({})", quote(peer, "converged_frac", SHARE),
                     quote(peer, "converged_scope", TEXT)),
            Sentence("{} / {} (budget {})", *(quote(peer, f, COUNT) for f in (
                "n_iter_median", "n_iter_max", "max_iter"))),
            cell(peer, "tolerance"), _agreement(peer),
            *ours_cells(matched_ours(cases, peer.model, peer.regime), peer)])
    return Table(header, rows)


def skipped_lines(skipped: dict | None) -> list[str]:
    """The peer rows the run skipped, each with why (none: no lines)."""
    gone = skipped_peers(skipped or {})
    if not gone:
        return []
    return ["", "Skipped peer rows (the run published without them):", "",
            *(f"- `{row_id}`: {reason}" for row_id, reason in gone)]


def _flag_words(peer: CaseRecord) -> Sentence:
    if peer.converged_scope == "one for the whole batch":
        verdict = "converged=True" if (peer.converged_frac or 0) >= 0.5 else "converged=False"
        return Sentence(f"{verdict} for the whole batch of {{}} data sets (one flag per "
                        "batch) after {} iterations", quote(peer, "n_datasets", COUNT),
                        quote(peer, "n_iter_max", COUNT))
    return Sentence("converged on {} of {} data sets in a median of {} iterations (max {})",
                    quote(peer, "converged_frac", PCT),
                    *(quote(peer, field, COUNT)
                      for field in ("n_datasets", "n_iter_median", "n_iter_max")))


def _trained_sentence(peer: CaseRecord, ours: CaseRecord) -> Sentence:
    """An MLP peer: its speed beside ours, and how far its final losses are from ours."""
    sentence = Sentence(f"On {peer.regime} {peer.baseline} trained our network for {{}} "
                        "steps from our initial weights at {} fits/s, against our {}",
                        quote(peer, "max_iter", COUNT), quote(peer, "fits_per_s", RATE),
                        quote(ours, "fits_per_s", RATE))
    if positive(ours.fits_per_s) and positive(peer.fits_per_s):
        sentence += " (ours " + speed_ratio(ours, peer) + " as fast)"
    return sentence + Sentence("; its final losses differ from ours by a median of {} (at "
                               "most {}).", quote(peer, "loss_diff_median", SIG2),
                               quote(peer, "loss_diff_max", SIG2))


def peer_sentences(cases: list[CaseRecord]) -> list[Sentence]:
    """What the peers reported and cost, beside what we report.

    A GLM peer: its flag and coefficients on separable and on overlap data. An MLP peer:
    its speed at our steps, and how close its final losses came to ours.
    """
    sentences = []
    for peer in peer_rows(cases):
        ours = matched_ours(cases, peer.model, peer.regime)
        if ours is not None and not missing(peer.loss_diff_median):
            sentences.append(_trained_sentence(peer, ours))
            continue
        if ours is None or peer.regime not in ("separable", "overlap"):
            continue
        sentence = (f"On {peer.regime} data {peer.baseline} reported " + _flag_words(peer)
                    + Sentence(", at {} fits/s; its coefficients differ from ours by a "
                               "median of {} (largest entry per data set)",
                               quote(peer, "fits_per_s", RATE),
                               quote(peer, "coef_diff_median", SIG2)))
        if peer.regime == "separable":
            sentence += Sentence(", where we report separation on {} of the same data sets",
                                 quote(ours, "separated_frac", PCT))
            if (peer.converged_frac or 0) > 0 and (ours.separated_frac or 0) > 0:
                sentence += ": its flag does not warn that no finite estimate exists"
            else:
                sentence += (": it did not claim convergence, and it does not say why "
                             "(no separation status)")
        else:
            sentence += Sentence("; ours converged on {} at {} fits/s",
                                 quote(ours, "converged_frac", PCT),
                                 quote(ours, "fits_per_s", RATE))
        sentences.append(sentence + ".")
    return sentences
