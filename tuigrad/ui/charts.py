"""Charts as strings: one character per cell, so a chart row is a single styled run.

Pure functions over numpy arrays; the widgets only add a style. Non-finite values never raise:
NaN, +inf and log10(0) = -inf each have their own marker.
"""

from __future__ import annotations

import math

import numpy as np

from tuigrad.ui.glyphs import UNICODE, Glyphs

UPDATE_BAND = -3.0  # log10 update:data ratio that usually means a well-set learning rate
GAUGE_RANGE = (-6.0, 0.0)


def scale(values: np.ndarray, whole: bool = True) -> tuple[float, float]:
    """Bounds around the finite values: whole numbers (decades on a log scale, which stay put
    from frame to frame), or the exact range when `whole` is false (a flat series gets +-0.5)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return (-1.0, 0.0)
    lo, hi = float(finite.min()), float(finite.max())
    if whole:
        lo, hi = float(math.floor(lo)), float(math.ceil(hi))
    if hi - lo < 1e-12:
        return (lo - 0.5, hi + 0.5) if not whole else (lo, lo + 1.0)
    return (lo, hi)


def sparkline(
    values: np.ndarray, lo: float, hi: float, width: int, glyphs: Glyphs = UNICODE
) -> str:
    """The last `width` values as one row of bars on [lo, hi], newest at the right edge."""
    values = np.asarray(values, dtype=np.float64)[-width:] if width > 0 else values[:0]
    cells = []
    top = len(glyphs.levels) - 1
    span = (hi - lo) or 1.0
    for v in values.tolist():
        if v != v:
            cells.append(glyphs.nan)
        elif v == math.inf:
            cells.append(glyphs.pos_inf)
        elif v == -math.inf:
            cells.append(glyphs.zero)
        else:
            level = round(min(max((v - lo) / span, 0.0), 1.0) * top)
            cells.append(glyphs.levels[level])
    return " " * (width - len(cells)) + "".join(cells)


def rebin(counts: np.ndarray, width: int) -> np.ndarray:
    """Counts merged (or repeated) to `width` columns, keeping their left-to-right order."""
    bins = len(counts)
    if width <= 0 or bins == 0:
        return np.zeros(max(width, 0))
    if width >= bins:
        # Every bin gets the same whole number of columns; the rest pad the right.
        out = np.repeat(counts, width // bins)
        return np.concatenate([out, np.zeros(width - len(out))])
    edges = np.linspace(0, bins, width + 1).astype(int)
    return np.add.reduceat(counts, edges[:-1])


def bars(counts: np.ndarray, width: int, glyphs: Glyphs = UNICODE) -> str | None:
    """A histogram as one row of bars scaled to its highest bin; None if a count is not finite."""
    counts = np.asarray(counts, dtype=np.float64)
    if not np.isfinite(counts).all():
        return None
    cols = rebin(counts, width)
    peak = cols.max() if cols.size else 0.0
    if peak <= 0:
        return " " * width
    top = len(glyphs.levels)
    # Any non-empty column shows at least the lowest bar: a few units in a tail still count.
    levels = np.ceil(cols / peak * top).astype(int)
    return "".join(glyphs.levels[lv - 1] if lv > 0 else " " for lv in levels.tolist())


def gauge(value: float, width: int, glyphs: Glyphs = UNICODE) -> str:
    """A log10 value placed on GAUGE_RANGE, with the UPDATE_BAND marked in the middle."""
    lo, hi = GAUGE_RANGE
    cells = [glyphs.gauge_line] * width
    if width <= 0:
        return ""
    band = round((UPDATE_BAND - lo) / (hi - lo) * (width - 1))
    cells[band] = glyphs.gauge_band
    if math.isnan(value):
        cells[band] = glyphs.nan
    elif value < lo:
        cells[0] = glyphs.gauge_below
    elif value > hi:
        cells[-1] = glyphs.gauge_above
    else:
        cells[round((value - lo) / (hi - lo) * (width - 1))] = glyphs.gauge_mark
    return "".join(cells)


def columns(
    values: np.ndarray, lo: float, hi: float, height: int, width: int, glyphs: Glyphs = UNICODE
) -> list[str]:
    """A column chart `height` rows tall, top row first, one column per value, newest right.

    NaN columns show the NaN marker on the bottom row; +inf a full column capped by its marker.
    """
    values = np.asarray(values, dtype=np.float64)[-width:] if width > 0 else np.zeros(0)
    pad = width - len(values)
    span = (hi - lo) or 1.0
    steps = len(glyphs.levels)
    levels = np.where(np.isfinite(values), np.clip((values - lo) / span, 0.0, 1.0), 0.0)
    # Eighths of a cell, at least one for every finite value so the lowest still shows.
    eighths = np.maximum(np.round(levels * height * steps), 1).astype(int)
    rows = []
    for r in range(height):
        floor = (height - 1 - r) * steps
        cells = [" "] * pad
        for v, e in zip(values.tolist(), eighths.tolist(), strict=True):
            if v != v or v == -math.inf:
                mark = glyphs.nan if v != v else glyphs.zero
                cells.append(mark if r == height - 1 else " ")
            elif v == math.inf:
                cells.append(glyphs.pos_inf if r == 0 else glyphs.levels[-1])
            else:
                fill = e - floor
                cells.append(" " if fill <= 0 else glyphs.levels[min(fill, steps) - 1])
        rows.append("".join(cells))
    return rows
