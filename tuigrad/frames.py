"""Frames: everything measured at one sampled step, as plain numpy data with no torch inside.

Histogram conventions (shared by the probe, run files, JSON and the UI):
- every histogram has `bins` uniform bins over [lo, hi], edges = linspace(lo, hi, bins + 1);
- values outside [lo, hi] are counted in the first or last bin; NaN is not counted;
- activation histograms: fixed range where the activation is bounded (tanh [-1, 1],
  sigmoid [0, 1]), otherwise the tensor's own [min, max] at that step, recorded in lo/hi;
- gradient and weight-gradient histograms: over log10 |g| in the fixed range GRAD_LOG_RANGE,
  so exact zeros (log10 0 = -inf) land in the first bin;
- weight histograms: over the weights' own [min, max] at that step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

GRAD_LOG_RANGE = (-20.0, 5.0)

# Per-layer scalar statistics, in the order run files store them.
LAYER_SCALARS = (
    # "act" is the activation function's output (before dropout, a post-norm and the skip sum);
    # for the head, its output (the logits).
    "act_mean",  # mean of the activation output
    "act_std",  # std of the activation output (unbiased, over every element)
    "act_saturated",  # fraction of units in the flat tails (tanh |a| > 0.97, sigmoid a < .03 or > .97)
    "act_dead",  # fraction of units whose output is <= 0 for every example (ReLU family)
    "unit_spread",  # std across units, averaged over the batch: 0 means identical units
    "preact_std",  # std of the Linear output, before norm and activation
    "out_grad_std",  # std of dLoss/d(activation output)
    "out_grad_norm",  # L2 norm of dLoss/d(activation output)
    "weight_norm",  # L2 norm of the Linear weight
    "weight_std",  # std of the Linear weight
    "weight_grad_norm",  # L2 norm of the weight gradient (before clipping)
    "weight_grad_std",  # std of the weight gradient
    "grad_data_ratio",  # std(grad) / std(weight)
    "update_ratio",  # std(weight after step - weight before) / std(weight before)
)
HISTOGRAMS = ("act_hist", "grad_hist", "weight_hist")


@dataclass(frozen=True, eq=False)
class Hist:
    """Counts over uniform bins on [lo, hi]."""

    lo: float
    hi: float
    counts: np.ndarray  # (bins,) float32

    @property
    def edges(self) -> np.ndarray:
        return np.linspace(self.lo, self.hi, len(self.counts) + 1)

    @property
    def total(self) -> float:
        return float(self.counts.sum())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Hist):
            return NotImplemented
        return (
            _same(self.lo, other.lo)
            and _same(self.hi, other.hi)
            and np.array_equal(self.counts, other.counts, equal_nan=True)
        )

    def to_json(self) -> dict[str, list]:
        return {
            "edges": [_json_float(x) for x in self.edges],
            "counts": [_json_float(x) for x in self.counts],
        }

    @staticmethod
    def empty(bins: int, lo: float = 0.0, hi: float = 1.0) -> Hist:
        return Hist(lo, hi, np.zeros(bins, dtype=np.float32))


@dataclass(frozen=True)
class LayerInfo:
    """What a monitored layer is; fixed for a run."""

    name: str  # L1 ... Ln, head, or a module's qualified name
    summary: str  # e.g. "512 tanh xav_n BN"
    shape: tuple[int, ...]  # weight shape, (out, in) for Linear
    activation: str = "identity"


@dataclass(frozen=True, eq=False)
class LayerStats:
    """One layer at one sampled step. Scalars in LAYER_SCALARS order; NaN where not measured."""

    name: str
    act_mean: float = math.nan
    act_std: float = math.nan
    act_saturated: float = math.nan
    act_dead: float = math.nan
    unit_spread: float = math.nan
    preact_std: float = math.nan
    out_grad_std: float = math.nan
    out_grad_norm: float = math.nan
    weight_norm: float = math.nan
    weight_std: float = math.nan
    weight_grad_norm: float = math.nan
    weight_grad_std: float = math.nan
    grad_data_ratio: float = math.nan
    update_ratio: float = math.nan
    act_hist: Hist | None = None
    grad_hist: Hist | None = None
    weight_hist: Hist | None = None

    @classmethod
    def from_values(
        cls, name: str, values: list[float], hists: tuple[Hist | None, ...] = (None, None, None)
    ) -> LayerStats:
        """Scalars in LAYER_SCALARS order and histograms in HISTOGRAMS order, built fast.

        Decoding a run file builds thousands of these; this skips the frozen dataclass's
        per-field __init__ (five times faster) and starts from the field defaults.
        """
        obj = object.__new__(cls)
        state = obj.__dict__
        state.update(_LAYER_DEFAULTS)
        state.update(zip(LAYER_SCALARS, values, strict=True))
        state.update(zip(HISTOGRAMS, hists, strict=True))
        state["name"] = name
        return obj

    @property
    def update_ratio_log10(self) -> float:
        return _log10(self.update_ratio)

    @property
    def weight_grad_norm_log10(self) -> float:
        return _log10(self.weight_grad_norm)

    def scalars(self) -> np.ndarray:
        return np.array([getattr(self, k) for k in LAYER_SCALARS], dtype=np.float32)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LayerStats):
            return NotImplemented
        return all(_same(getattr(self, f.name), getattr(other, f.name)) for f in fields(self))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        out.update({k: _json_float(getattr(self, k)) for k in LAYER_SCALARS})
        out["update_ratio_log10"] = _json_float(self.update_ratio_log10)
        for k in HISTOGRAMS:
            hist = getattr(self, k)
            out[k] = hist.to_json() if hist is not None else None
        return out


_LAYER_DEFAULTS = {f.name: f.default for f in fields(LayerStats)}


@dataclass(frozen=True, eq=False)
class Frame:
    """Everything measured at one sampled step. Step 0 is the initial network, before any update."""

    step: int
    loss: float = math.nan
    accuracy: float = math.nan  # NaN for regression
    lr: float = math.nan
    grad_norm: float = math.nan  # total gradient norm before clipping
    grad_norm_clipped: float = math.nan  # after clipping (equal to grad_norm when not clipped)
    clipped: bool = False
    wall_time: float = 0.0  # seconds since the run started
    val_loss: float = math.nan
    val_accuracy: float = math.nan
    act_rows: int = 0  # rows of the batch the activation statistics were computed on
    layers: tuple[LayerStats, ...] = field(default_factory=tuple)

    def layer(self, name: str) -> LayerStats:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(name)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Frame):
            return NotImplemented
        return all(_same(getattr(self, f.name), getattr(other, f.name)) for f in fields(self))

    def to_json(self) -> dict[str, Any]:
        """The frame as JSON-ready data; non-finite numbers become None (null)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name != "layers":
                value = getattr(self, f.name)
                out[f.name] = _json_float(value) if isinstance(value, float) else value
        out["layers"] = [layer.to_json() for layer in self.layers]
        return out


def _finite_view(frame: Frame) -> list[tuple[str, float]]:
    # NaN marks "not measured" for optional statistics, so only the loss and norms count.
    pairs = [("loss", frame.loss), ("grad_norm", frame.grad_norm)]
    for layer in frame.layers:
        pairs += [("weight_grad_norm", layer.weight_grad_norm), ("act_std", layer.act_std)]
    return [(k, v) for k, v in pairs if not math.isfinite(v)]


def has_nonfinite(frame: Frame) -> bool:
    """True when the loss, a gradient norm or an activation is NaN or infinite."""
    return bool(_finite_view(frame))


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def _log10(value: float) -> float:
    if math.isnan(value) or value < 0:
        return math.nan
    if value == 0:
        return -math.inf
    return math.log10(value)


def _json_float(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None
