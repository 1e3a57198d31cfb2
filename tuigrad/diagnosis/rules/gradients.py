"""Gradient rules: vanishing and exploding, through depth and over time."""

from __future__ import annotations

import math

import numpy as np

from tuigrad.diagnosis.context import Context
from tuigrad.diagnosis.finding import Finding
from tuigrad.diagnosis.table import (
    FrameTable,
    fmt,
    layer_label,
    nanmedian,
    recent,
    run_start,
    smooth_hold,
)


def vanishing(t: FrameTable, ctx: Context) -> Finding | None:
    """Hidden layers whose gradient is orders of magnitude below a later layer's."""
    lim = ctx.limits
    g = t.stat("out_grad_std")[:, ctx.hidden]  # (steps, hidden)
    if g.shape[1] < 2:
        return None

    # Each layer against the largest gradient among the layers after it (nearer the loss).
    later = _later_fold(g, np.fmax)
    with np.errstate(all="ignore"):
        ratio = np.where(later > 0, g / later, np.nan)
    cond = ratio < lim.vanish_warn
    hold = smooth_hold(cond, lim.smooth)
    flagged = hold[-1]
    if not flagged.any():
        return None

    names = [n for n, h in zip(_hidden_names(ctx), flagged, strict=True) if h]
    now = recent(ratio, lim.smooth)[flagged]
    worst = float(np.nanmin(now)) if np.isfinite(now).any() else 0.0
    g_now = recent(g, lim.smooth)
    top = _hidden_names(ctx)[int(np.nanargmax(np.where(np.isfinite(g_now), g_now, -1.0)))]
    since = int(t.steps[run_start(hold, cond)[flagged].min()])
    severity = "error" if worst < lim.vanish_error else "warning"
    message = (
        f"{layer_label(names)} {_receive(names)} gradients {_times(worst)} smaller than {top} "
        f"(gradient std {fmt(float(np.nanmin(g_now[flagged])))} vs {fmt(float(np.nanmax(g_now)))})"
    )
    factor = _per_layer_factor(g_now)
    return Finding(
        "vanishing",
        severity,
        tuple(names),
        since,
        message,
        _vanish_why(ctx, names, factor),
        _vanish_fix(ctx, names),
    )


def exploding(t: FrameTable, ctx: Context) -> Finding | None:
    """Gradients growing towards the input, or the total norm growing step over step."""
    depth, time = _exploding_depth(t, ctx), _exploding_time(t, ctx)
    if depth is None or time is None:
        return depth or time
    # Both: the growth over time is what breaks the run, unless the depth finding is worse.
    return depth if depth.rank > time.rank else time


def _exploding_depth(t: FrameTable, ctx: Context) -> Finding | None:
    lim = ctx.limits
    g = t.stat("out_grad_std")[:, ctx.hidden]
    if g.shape[1] < 2:
        return None
    later = _later_fold(g, np.fmin)
    with np.errstate(all="ignore"):
        ratio = np.where(later > 0, g / later, np.nan)
    cond = ratio > lim.explode_depth_warn
    hold = smooth_hold(cond, lim.smooth)
    flagged = hold[-1]
    if not flagged.any():
        return None

    names = [n for n, h in zip(_hidden_names(ctx), flagged, strict=True) if h]
    worst = float(np.nanmax(recent(ratio, lim.smooth)[flagged]))
    since = int(t.steps[run_start(hold, cond)[flagged].min()])
    severity = "error" if worst > lim.explode_depth_error else "warning"
    if severity == "warning" and ctx.is_adaptive():
        severity = "info"  # each weight's step is divided by its own gradient's size
    factor = _per_layer_factor(recent(g, lim.smooth))
    message = (
        f"{layer_label(names)} {_receive(names)} gradients {_times(worst)} larger than the last "
        "hidden layers"
    )
    why = (
        "By the chain rule the gradient at a layer is a product of one factor per layer above it. "
        f"Here each layer multiplies it by about {fmt(factor)} on the way back, so it grows "
        "exponentially towards the input: the weights are too large for the layer width."
    )
    return Finding("exploding", severity, tuple(names), since, message, why, ctx.init_fix(names))


def _exploding_time(t: FrameTable, ctx: Context) -> Finding | None:
    lim = ctx.limits
    norm = t.col("grad_norm")
    ok = np.isfinite(norm)
    if ok.sum() < 2:
        return None
    norm = norm[ok]
    steps = t.steps[ok]
    k = max(1, min(lim.smooth, len(norm) // 4))
    start, now = float(nanmedian(norm[:k])), float(nanmedian(norm[-k:]))
    growth = now / start if start > 0 else math.inf
    if now < lim.explode_min_norm or (
        growth < lim.explode_growth_warn and now < lim.explode_huge_norm
    ):
        return None

    # Clipping that holds the step while the loss still falls is doing its job.
    clipped = t.col("clipped")[ok][-k:]
    loss = t.col("loss")[ok]
    if clipped.mean() > 0.5 and nanmedian(loss[-k:]) < nanmedian(loss[:k]):
        return None

    bar = max(lim.explode_min_norm, start * lim.explode_growth_warn)
    cond = norm >= bar
    hold = smooth_hold(cond, lim.smooth)
    begin = run_start(hold, cond)
    since = int(steps[begin if begin >= 0 else len(norm) - 1])
    huge = growth >= lim.explode_growth_error or now >= lim.explode_huge_norm
    message = f"gradient norm grew from {fmt(start)} to {fmt(now)} ({_times(growth)}) by step {int(steps[-1])}"
    why = (
        "Each step moves the weights along the gradient; when a step makes the weights larger, the "
        "next gradient is larger too, and the loop feeds itself until the numbers overflow. "
        "Clipping the gradient norm caps every step; a smaller learning rate breaks the loop."
    )
    return Finding(
        "exploding", "error" if huge else "warning", (), since, message, why, ctx.clip_fix()
    )


def _vanish_why(ctx: Context, names: list[str], factor: float) -> str:
    chain = (
        "By the chain rule the gradient at a layer is a product of one factor per layer above it; "
        f"here each layer multiplies it by about {fmt(factor)} on the way back, so the earliest "
        "layers barely learn."
    )
    act = ctx.main_activation(names)
    if act == "sigmoid":
        return (
            chain + " Sigmoid's slope is at most 0.25, so every sigmoid layer shrinks the gradient."
        )
    if not ctx.has_suited_init(names) and ctx.spec is not None:
        init = ctx.init_fix(names)["model.init"]
        return (
            chain + f" The init does not keep the variance per layer at 1 for {act}; {init} does."
        )
    return (
        chain + " Residual connections or normalisation give the gradient a path around each layer."
    )


def _vanish_fix(ctx: Context, names: list[str]) -> dict:
    act = ctx.main_activation(names)
    if act == "sigmoid":
        return {
            **ctx.set_layers("activation", "relu", names),
            **ctx.set_layers("init", "kaiming_normal", names),
        }
    if ctx.spec is not None and ctx.has_suited_init(names):
        return ctx.structure_fix()
    return ctx.init_fix(names)


def _later_fold(g: np.ndarray, op: np.ufunc) -> np.ndarray:
    """For column j, op over columns j+1.. (NaN where there are none): (steps, layers)."""
    rev = op.accumulate(g[:, ::-1], axis=1)[:, ::-1]  # op over columns j..end
    out = np.full_like(g, np.nan)
    out[:, :-1] = rev[:, 1:]
    return out


def _hidden_names(ctx: Context) -> list[str]:
    return [n for n, h in zip(ctx.names, ctx.hidden, strict=True) if h]


def _per_layer_factor(g: np.ndarray) -> float:
    """Geometric mean of the layer-to-layer ratio from the first hidden layer to the last."""
    finite = np.flatnonzero(np.isfinite(g) & (g > 0))
    if len(finite) < 2:
        return math.nan
    first, last = finite[0], finite[-1]
    return float((g[first] / g[last]) ** (1.0 / (last - first)))


def _times(ratio: float) -> str:
    """0.001 -> '1000x', 250 -> '250x'."""
    if ratio <= 0:
        return "infinitely"
    x = 1.0 / ratio if ratio < 1 else ratio
    if not math.isfinite(x):
        return "infinitely"
    if x >= 1000:
        mantissa, exp = f"{x:.0e}".split("e")
        return f"{mantissa}e{int(exp)}x"
    return f"{x:.0f}x" if x >= 10 else f"{x:.2g}x"


def _receive(names: list[str]) -> str:
    return "receives" if len(names) == 1 else "receive"
