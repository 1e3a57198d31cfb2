"""Charts as strings: one character per cell, so a chart row is a single styled run.

Pure numpy functions; the widgets only add a style. Many rows are drawn in one go: cells become
code points through a lookup table and each row is decoded at once, which keeps a 50-layer
table well under a millisecond. Non-finite values never raise: NaN, +inf and log10(0) = -inf
each have their own marker.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from tuigrad.ui.glyphs import UNICODE, Glyphs

UPDATE_BAND = -3.0  # log10 update:data ratio that usually means a well-set learning rate
GAUGE_RANGE = (-6.0, 0.0)

# Lookup-table slots after the 8 levels (and, for bars and columns, after a leading blank).
_NAN, _INF, _ZERO, _BLANK = 8, 9, 10, 11


@lru_cache(maxsize=8)
def _lut(glyphs: Glyphs, blank_first: bool) -> np.ndarray:
    chars = glyphs.levels + glyphs.nan + glyphs.pos_inf + glyphs.zero + " "
    if blank_first:
        chars = " " + chars
    return np.array([ord(c) for c in chars], dtype="<u4")


def _decode(codes: np.ndarray) -> list[str]:
    """Rows of code points to strings."""
    codes = np.ascontiguousarray(codes, dtype="<u4")
    return [row.tobytes().decode("utf-32-le") for row in codes]


def scale(values: np.ndarray, whole: bool = True, min_span: float = 0.0) -> tuple[float, float]:
    """Bounds around the finite values: whole numbers (decades on a log scale, which stay put
    from frame to frame), or the exact range when `whole` is false (a flat series gets +-0.5).

    min_span widens a narrower range around its middle, so that noise on a flat series is
    drawn flat instead of filling the chart.
    """
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return (-1.0, 0.0)
    lo, hi = float(finite.min()), float(finite.max())
    if 1e-12 <= hi - lo < min_span:
        mid = (lo + hi) / 2
        lo, hi = mid - min_span / 2, mid + min_span / 2
    if whole:
        lo, hi = float(math.floor(lo)), float(math.ceil(hi))
    if hi - lo < 1e-12:
        return (lo - 0.5, hi + 0.5) if not whole else (lo, lo + 1.0)
    return (lo, hi)


def sparklines(
    values: np.ndarray, lo: float, hi: float, width: int, glyphs: Glyphs = UNICODE
) -> list[str]:
    """One sparkline per column of `values` (time, rows): the last `width` values on [lo, hi],
    newest at the right edge, blank-padded on the left."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2 or width <= 0:
        return [""] * (values.shape[1] if values.ndim == 2 else 0)
    v = values[-width:].T  # (rows, k)
    span = (hi - lo) or 1.0
    with np.errstate(invalid="ignore"):
        level = np.rint(np.clip((v - lo) / span, 0.0, 1.0) * 7)
    idx = np.where(
        np.isnan(v), _NAN, np.where(v == np.inf, _INF, np.where(v == -np.inf, _ZERO, level))
    )
    idx = np.nan_to_num(idx).astype(np.intp)
    pad = np.full((v.shape[0], width - v.shape[1]), _BLANK, dtype=np.intp)
    return _decode(_lut(glyphs, False)[np.hstack([pad, idx])])


def sparkline(
    values: np.ndarray, lo: float, hi: float, width: int, glyphs: Glyphs = UNICODE
) -> str:
    """The last `width` values as one row of bars on [lo, hi], newest at the right edge."""
    if width <= 0:
        return ""
    return sparklines(np.asarray(values, dtype=np.float64).reshape(-1, 1), lo, hi, width, glyphs)[0]


def rebin(counts: np.ndarray, width: int) -> np.ndarray:
    """Counts (last axis) merged or repeated to `width` columns, keeping their order."""
    counts = np.asarray(counts, dtype=np.float64)
    bins = counts.shape[-1]
    if width <= 0 or bins == 0:
        return np.zeros(counts.shape[:-1] + (max(width, 0),))
    if width >= bins:
        # Every bin gets the same whole number of columns; the rest pad the right.
        out = np.repeat(counts, width // bins, axis=-1)
        pad = np.zeros(counts.shape[:-1] + (width - out.shape[-1],))
        return np.concatenate([out, pad], axis=-1)
    edges = np.linspace(0, bins, width + 1).astype(int)
    return np.add.reduceat(counts, edges[:-1], axis=-1)


def bar_rows(counts: np.ndarray, width: int, glyphs: Glyphs = UNICODE) -> list[str | None]:
    """Histograms (rows, bins) as rows of bars, each scaled to its own highest bin.

    A row with a count that is not finite gives None: the caller says so in words.
    """
    counts = np.asarray(counts, dtype=np.float64)
    finite = np.isfinite(counts).all(axis=1)
    cols = rebin(np.where(np.isfinite(counts), counts, 0.0), width)
    peak = cols.max(axis=1, keepdims=True) if width > 0 else np.zeros((len(counts), 1))
    # Any non-empty column shows at least the lowest bar: a few units in a tail still count.
    levels = np.ceil(cols / np.where(peak > 0, peak, 1.0) * 8).astype(np.intp)
    rows = _decode(_lut(glyphs, True)[np.clip(levels, 0, 8)]) if width > 0 else [""] * len(counts)
    return [row if ok else None for row, ok in zip(rows, finite.tolist(), strict=True)]


def bars(counts: np.ndarray, width: int, glyphs: Glyphs = UNICODE) -> str | None:
    """One histogram as a row of bars scaled to its highest bin; None if a count is not finite."""
    return bar_rows(np.asarray(counts, dtype=np.float64).reshape(1, -1), width, glyphs)[0]


def gauge(value: float, width: int, glyphs: Glyphs = UNICODE) -> str:
    """A log10 value placed on GAUGE_RANGE, with the UPDATE_BAND marked in the middle."""
    lo, hi = GAUGE_RANGE
    if width <= 0:
        return ""
    cells = [glyphs.gauge_line] * width
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

    NaN and log10(0) columns show their marker on the bottom row; +inf a full column capped by
    its marker.
    """
    if height <= 0 or width <= 0:
        return [""] * max(height, 0)
    v = np.asarray(values, dtype=np.float64)[-width:]
    span = (hi - lo) or 1.0
    with np.errstate(invalid="ignore"):
        frac = np.nan_to_num(np.clip((v - lo) / span, 0.0, 1.0))
    # Eighths of a cell, at least one for every finite value so the lowest still shows.
    eighths = np.maximum(np.rint(frac * height * 8), 1).astype(np.intp)
    nan, inf, zero = np.isnan(v), v == np.inf, v == -np.inf
    # (height, k): how many eighths of each cell are filled, top row first.
    floors = (height - 1 - np.arange(height))[:, None] * 8
    idx = np.clip(eighths[None, :] - floors, 0, 8)
    idx[:, inf] = 8
    idx[0, inf] = 1 + _INF
    idx[:, nan | zero] = 0
    idx[-1, nan] = 1 + _NAN
    idx[-1, zero] = 1 + _ZERO
    pad = np.full((height, width - len(v)), 1 + _BLANK, dtype=np.intp)
    return _decode(_lut(glyphs, True)[np.hstack([pad, idx])])
