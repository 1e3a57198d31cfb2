"""Frames as numpy arrays, the shape every rule reads: one row per sampled step.

Building the arrays is the only per-frame Python work; rules then run vectorised over
(steps, layers), so diagnosing a long run costs a few milliseconds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter

import numpy as np

from tuigrad.frames import LAYER_SCALARS, Frame

GLOBALS = (
    "step",
    "loss",
    "accuracy",
    "lr",
    "grad_norm",
    "grad_norm_clipped",
    "clipped",
    "act_rows",
)
_COLUMN = {name: i for i, name in enumerate(LAYER_SCALARS)}
# attrgetter reads all fields in C: converting a frame is the only per-frame cost of the UI.
_GLOBALS_OF = attrgetter(*GLOBALS)
_SCALARS_OF = attrgetter(*LAYER_SCALARS)
_NAN_ROW = (math.nan,) * len(LAYER_SCALARS)


def frame_row(frame: Frame, names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """One frame as (globals (len(GLOBALS),), layer scalars (layers, len(LAYER_SCALARS)))."""
    head = np.array(_GLOBALS_OF(frame), dtype=np.float64)
    layers = frame.layers
    if len(layers) != len(names) or any(a.name != b for a, b in zip(layers, names, strict=True)):
        by_name = {layer.name: layer for layer in layers}
        layers = [by_name.get(name) for name in names]
    rows = [_NAN_ROW if s is None else _SCALARS_OF(s) for s in layers]
    return head, np.array(rows, dtype=np.float64).reshape(len(names), len(LAYER_SCALARS))


@dataclass(frozen=True, eq=False)
class FrameTable:
    """Sampled steps in order. g: (steps, len(GLOBALS)); s: (steps, layers, len(LAYER_SCALARS))."""

    names: tuple[str, ...]
    g: np.ndarray
    s: np.ndarray

    @staticmethod
    def from_rows(
        names: Sequence[str], rows: Sequence[tuple[np.ndarray, np.ndarray]]
    ) -> FrameTable:
        if not rows:
            empty = np.zeros((0, len(names), len(LAYER_SCALARS)))
            return FrameTable(tuple(names), np.zeros((0, len(GLOBALS))), empty)
        g = np.stack([r[0] for r in rows])
        s = np.stack([r[1] for r in rows])
        return FrameTable(tuple(names), g, s)

    @staticmethod
    def from_frames(frames: Sequence[Frame], names: Sequence[str]) -> FrameTable:
        return FrameTable.from_rows(names, [frame_row(f, names) for f in frames])

    def __len__(self) -> int:
        return self.g.shape[0]

    def col(self, name: str) -> np.ndarray:
        """A per-step global such as `loss`: (steps,)."""
        return self.g[:, GLOBALS.index(name)]

    def stat(self, name: str) -> np.ndarray:
        """A per-layer statistic such as `act_std`: (steps, layers)."""
        return self.s[:, :, _COLUMN[name]]

    @property
    def steps(self) -> np.ndarray:
        return self.col("step").astype(np.int64)

    def head(self, n: int) -> FrameTable:
        return FrameTable(self.names, self.g[:n], self.s[:n])


def smooth_hold(cond: np.ndarray, k: int) -> np.ndarray:
    """cond (steps, ...) bool -> True where the condition held in most of the last k frames.

    One noisy frame neither raises nor clears a finding.
    """
    k = max(1, min(k, cond.shape[0]))
    c = np.cumsum(cond, axis=0, dtype=np.int64)
    past = np.zeros_like(c)
    past[k:] = c[:-k]
    count = c - past
    seen = np.minimum(np.arange(1, cond.shape[0] + 1), k).reshape((-1,) + (1,) * (cond.ndim - 1))
    return count * 2 > seen


def run_start(hold: np.ndarray, cond: np.ndarray | None = None) -> np.ndarray:
    """hold (steps, ...) bool -> index where the final unbroken run of True began; -1 if none.

    With the raw condition `cond` that `hold` smooths, the start moves back to where the
    condition itself began, not where the majority first confirmed it.
    """
    n = hold.shape[0]
    if n == 0:
        return np.full(hold.shape[1:], -1, dtype=np.int64)
    broken = ~hold[::-1]
    last_false_from_end = np.where(broken.any(axis=0), broken.argmax(axis=0), n)
    start = np.where(hold[-1], n - last_false_from_end, -1)
    if cond is None:
        return start
    # Walk back while the raw condition held just before (at most the smoothing window).
    for _ in range(n):
        prev = np.maximum(start - 1, 0)
        back = (start > 0) & np.take_along_axis(cond, prev[None, ...], axis=0)[0]
        if not back.any():
            break
        start = np.where(back, prev, start)
    return start


def recent(values: np.ndarray, k: int) -> np.ndarray:
    """Median over the last k frames, ignoring NaN: (steps, ...) -> (...)."""
    return nanmedian(values[-max(1, k) :], axis=0)


def nanmedian(values: np.ndarray, axis: int = 0) -> np.ndarray:
    """Median ignoring NaN; an all-NaN slice gives NaN, quietly.

    NOTE: np.nanmedian goes through masked arrays on small inputs, 10x slower than this,
    and imports numpy.ma (~0.1 s) on first use, on the UI thread.
    """
    x = np.sort(np.moveaxis(values, axis, 0), axis=0)  # NaN sorts last
    n = (~np.isnan(x)).sum(axis=0)
    lo = np.maximum(n - 1, 0) // 2
    hi = np.maximum(n, 1) // 2 - (n == 0)
    with np.errstate(invalid="ignore"):
        a = np.take_along_axis(x, np.expand_dims(lo, 0), axis=0)[0]
        b = np.take_along_axis(x, np.expand_dims(np.maximum(hi, 0), 0), axis=0)[0]
        mid = np.where(a == b, a, (a + b) / 2)  # inf + inf stays inf, never NaN
    return np.where(n > 0, mid, np.nan)


def layer_label(names: Sequence[str]) -> str:
    """`L1-L4, L6, head` for numbered layers as ranges; other names as they are, at most five."""
    numbered = [int(n[1:]) for n in names if n[:1] == "L" and n[1:].isdigit()]
    others = [n for n in names if not (n[:1] == "L" and n[1:].isdigit())]
    if len(others) > 5:
        others = others[:5] + [f"{len(others) - 5} more"]
    parts, run = [], [numbered[0]] if numbered else []
    for n in numbered[1:]:
        if n == run[-1] + 1:
            run.append(n)
        else:
            parts.append(run)
            run = [n]
    if run:
        parts.append(run)
    ranges = [f"L{r[0]}" if len(r) == 1 else f"L{r[0]}-L{r[-1]}" for r in parts]
    return ", ".join(ranges + others)


def fmt(x: float) -> str:
    """A number in at most a few characters: 0.31, 4.2e-07, nan, inf."""
    if not math.isfinite(x):
        return str(x)
    if 100 <= abs(x) < 1e4:
        return f"{x:.0f}"
    if x == 0 or 1e-3 <= abs(x) < 100:
        return f"{x:.2g}"
    return f"{x:.1e}".replace("e-0", "e-").replace("e+0", "e+")
