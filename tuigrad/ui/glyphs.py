"""The characters charts are drawn with: block elements, or plain ASCII for terminals without."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Glyphs:
    levels: str  # 8 characters, lowest first
    nan: str  # a value that is NaN
    pos_inf: str  # +inf, or above the top of the scale for a gauge
    zero: str  # log10 of exactly 0 (-inf): a gradient that is exactly zero
    gauge_line: str
    gauge_band: str
    gauge_mark: str
    gauge_below: str
    gauge_above: str
    ellipsis: str
    arrow: str
    rule: str


UNICODE = Glyphs(
    levels="▁▂▃▄▅▆▇█",
    nan="×",
    pos_inf="▲",
    zero="·",
    gauge_line="─",
    gauge_band="┼",
    gauge_mark="●",
    gauge_below="◀",
    gauge_above="▶",
    ellipsis="…",
    arrow="→",
    rule="─",
)
ASCII = Glyphs(
    levels="_.,-=+*#",
    nan="x",
    pos_inf="^",
    zero="0",
    gauge_line="-",
    gauge_band="+",
    gauge_mark="o",
    gauge_below="<",
    gauge_above=">",
    ellipsis="~",
    arrow="->",
    rule="-",
)


def fmt_num(value: float, digits: int = 2) -> str:
    """A number in a few characters: `0.53`, `1.2e-04`, `nan`, `inf`."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Inf" if value > 0 else "-Inf"
    if value == 0:
        return "0"
    if 1e-2 <= abs(value) < 1e4:
        return f"{value:.{digits}f}" if abs(value) < 100 else f"{value:.0f}"
    return f"{value:.{max(digits - 1, 0)}e}"


def fmt_signed(value: float) -> str:
    """A signed number in at most 6 characters, two decimals near zero: `+0.02`, `-1.3e+03`."""
    if not math.isfinite(value):
        return fmt_num(value)
    if abs(value) < 9.995:
        return f"{value:+.2f}"
    if abs(value) < 999.5:
        return f"{value:+.0f}"
    return f"{value:+.0e}"


def fmt_log(value: float) -> str:
    """A log10 value with one decimal: `-3.2`; `-Inf` for the log of zero."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Inf" if value > 0 else "-Inf"
    return f"{value:+.1f}"


def fmt_pct(value: float) -> str:
    if math.isnan(value):
        return "  -"
    return f"{100 * value:3.0f}%"


def fit(text: str, width: int, glyphs: Glyphs = UNICODE) -> str:
    """`text` cut or padded to exactly `width` cells (ASCII and box text are one cell each)."""
    if width <= 0:
        return ""
    if len(text) <= width:
        return text.ljust(width)
    end = glyphs.ellipsis if len(glyphs.ellipsis) == 1 else ""
    return text[: width - len(end)] + end
