"""How the published tables and sentences write numbers (one function per kind of number).

It imports nothing of ours: the report and the family modules' sentences both use it.

Each takes a value and returns its text, with ``–`` for a value that is missing or not
finite, so a table never prints ``nan`` or ``None``.
"""

from __future__ import annotations

import math

__all__ = ["missing", "positive", "fmt_pct", "pct_word", "fmt_accuracy", "fmt_loss",
           "fmt_count", "fmt_rate", "fmt_seconds", "fmt_ratio", "fmt_float", "dtype_short",
           "DASH"]

#: What a table shows for a value that is missing.
DASH = "–"


def missing(value) -> bool:
    """True for None and for a float that is not finite."""
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def positive(value) -> bool:
    """True for a finite number above 0."""
    return isinstance(value, (int, float)) and math.isfinite(value) and value > 0


def _trim(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


def fmt_pct(fraction) -> str:
    """A fraction as a percentage: ``0.375`` -> ``"37.5"``, ``1.0`` -> ``"100"``."""
    return DASH if missing(fraction) else _trim(f"{100 * fraction:.1f}")


def pct_word(fraction) -> str:
    """A fraction as a percentage with its sign, for sentences: ``0.25`` -> ``"25%"``."""
    return f"{fmt_pct(fraction)}%"


def fmt_accuracy(value) -> str:
    """An accuracy with three decimals."""
    return DASH if missing(value) else f"{value:.3f}"


def fmt_loss(value) -> str:
    """A loss with four significant digits."""
    return DASH if missing(value) else f"{value:.4g}"


def fmt_count(value) -> str:
    """An iteration count: integers as such, others with one decimal."""
    return DASH if missing(value) else _trim(f"{value:.1f}")


def fmt_rate(value) -> str:
    """Fits per second: thousands separated, three significant digits below 100."""
    if missing(value):
        return DASH
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def fmt_seconds(value) -> str:
    """Seconds with three significant digits."""
    return DASH if missing(value) else f"{value:.3g}"


def fmt_ratio(value) -> str:
    """A speed ratio: ``5322.6`` -> ``"5,323×"``, ``6.94`` -> ``"6.94×"``."""
    if missing(value):
        return DASH
    return f"{value:,.0f}×" if value >= 1000 else f"{value:.3g}×"


def fmt_float(value, digits: int = 1) -> str:
    """A float with ``digits`` decimals and thousands separated."""
    return DASH if missing(value) else f"{value:,.{digits}f}"


def dtype_short(dtype) -> str:
    """``"float32"`` -> ``"f32"``, for column headers."""
    return {"float32": "f32", "float64": "f64"}.get(dtype, str(dtype))
