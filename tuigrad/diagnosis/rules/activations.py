"""Activation rules: collapse, saturation, dead units and unbroken symmetry."""

from __future__ import annotations

import math

import numpy as np

from tuigrad.diagnosis.context import BOUNDED, Context
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

TAILS = {"tanh": "|a| > 0.97", "sigmoid": "a < 0.03 or a > 0.97"}
ZERO_INITS = ("zeros", "constant")


def collapse(t: FrameTable, ctx: Context) -> Finding | None:
    """Activation spread shrinking towards 0 layer after layer."""
    lim = ctx.limits
    a = t.stat("act_std")[:, ctx.hidden]  # (steps, hidden)
    if a.shape[1] < 2:
        return None

    # Each layer against the widest spread among the layers before it.
    earlier = np.full_like(a, np.nan)
    earlier[:, 1:] = np.fmax.accumulate(a, axis=1)[:, :-1]
    with np.errstate(all="ignore"):
        ratio = np.where(earlier > 0, a / earlier, np.nan)
    cond = ratio < lim.collapse_warn
    hold = smooth_hold(cond, lim.smooth)
    flagged = hold[-1]
    if not flagged.any():
        return None

    hidden = [n for n, h in zip(ctx.names, ctx.hidden, strict=True) if h]
    names = [n for n, f in zip(hidden, flagged, strict=True) if f]
    a_now = recent(a, lim.smooth)
    worst = float(np.nanmin(recent(ratio, lim.smooth)[flagged]))
    first, last = hidden[0], names[-1]
    since = int(t.steps[run_start(hold, cond)[flagged].min()])
    message = (
        f"activation std falls from {fmt(a_now[0])} in {first} to "
        f"{fmt(a_now[hidden.index(last)])} in {last}; {layer_label(names)} below a tenth of an earlier layer"
    )
    severity = "error" if worst < lim.collapse_error else "warning"
    return Finding(
        "collapse",
        severity,
        tuple(names),
        since,
        message,
        _collapse_why(ctx, names, a_now),
        _collapse_fix(ctx, names),
    )


def saturation(t: FrameTable, ctx: Context) -> Finding | None:
    """tanh or sigmoid units stuck in the flat tails."""
    lim = ctx.limits
    cols = np.array(
        [h and act in BOUNDED for h, act in zip(ctx.hidden, ctx.activations, strict=True)],
        dtype=bool,
    )
    if not cols.any():
        return None
    sat = t.stat("act_saturated")[:, cols]
    cond = sat >= lim.saturated_warn
    hold = smooth_hold(cond, lim.smooth)
    flagged = hold[-1]
    if not flagged.any():
        return None

    names = [n for n, f in zip(np.array(ctx.names)[cols], flagged, strict=True) if f]
    now = recent(sat, lim.smooth)[flagged]
    act = ctx.main_activation(names)
    since_i = int(run_start(hold, cond)[flagged].min())
    share = _pct(float(np.nanmax(now)))
    if len(names) > 1:
        share = f"up to {share} (median {_pct(float(nanmedian(now)))})"
    message = f"{share} of units in {layer_label(names)} sit in {act}'s flat tails ({TAILS[act]})"
    severity = "error" if float(nanmedian(now)) >= lim.saturated_error else "warning"
    slope = "1 - a^2" if act == "tanh" else "a(1 - a)"
    why = (
        f"{act}'s derivative {slope} is under 0.06 in the tails, so a saturated unit passes back less "
        "than a sixteenth of its gradient and the layers below barely learn. Pre-activations "
        "saturate when the weights are too large for the layer width."
    )
    if ctx.are_residual(names):
        # The skip connection passes the gradient on unchanged, whatever the tails do.
        severity = "info"
        message += "; the skip connections carry the gradient around them"
        why += " Here every such layer has a skip connection, which passes the gradient around it."
    return Finding(
        "saturation",
        severity,
        tuple(names),
        int(t.steps[since_i]),
        message,
        why,
        _saturation_fix(ctx, names, since_i),
    )


def dead_units(t: FrameTable, ctx: Context) -> Finding | None:
    """ReLU units that output 0 for every example."""
    lim = ctx.limits
    cols = np.array(
        [h and act == "relu" for h, act in zip(ctx.hidden, ctx.activations, strict=True)],
        dtype=bool,
    )
    if not cols.any():
        return None
    rows = t.col("act_rows")
    enough = (rows == 0) | (rows >= lim.dead_min_rows)  # 0: the frame did not say
    dead = np.where(enough[:, None], t.stat("act_dead")[:, cols], np.nan)
    cond = dead >= lim.dead_warn
    hold = smooth_hold(cond, lim.smooth)
    flagged = hold[-1]
    if not flagged.any():
        return None

    names = [n for n, f in zip(np.array(ctx.names)[cols], flagged, strict=True) if f]
    now = recent(dead, lim.smooth)[flagged]
    since = int(t.steps[run_start(hold, cond)[flagged].min()])
    where = (
        f"{names[0]}'s units"
        if len(names) == 1
        else f"the units of {layer_label(names)} (worst layer)"
    )
    message = f"{_pct(float(np.nanmax(now)))} of {where} never fire: output 0 for every example"
    severity = "error" if float(np.nanmax(now)) >= lim.dead_error else "warning"
    why = (
        "A ReLU unit whose pre-activation is negative for every input outputs 0 and gets zero "
        "gradient, so nothing can revive it. A too-large step or a negative bias pushes units "
        "there; Leaky ReLU keeps a small slope below 0, so the gradient keeps flowing."
    )
    return Finding("dead_units", severity, tuple(names), since, message, why, _dead_fix(ctx, names))


def symmetry(t: FrameTable, ctx: Context) -> Finding | None:
    """Hidden layers whose units are all identical."""
    lim = ctx.limits
    wide = np.array([w != 1 for w in ctx.widths], dtype=bool)
    cols = ctx.hidden & wide
    if not cols.any():
        return None
    spread = t.stat("unit_spread")[:, cols]
    scale = np.fmax(t.stat("act_std")[:, cols], np.abs(t.stat("act_mean")[:, cols]))

    # An all-zero layer is symmetric only if its weights are identical too; else it is dead.
    zero_init = ctx.spec is not None and any(
        s.init in ZERO_INITS for s in ctx.spec.model.resolved()
    )
    same_weights = (t.stat("weight_std")[:, cols] == 0) | zero_init
    cond = (spread <= lim.symmetry_rel * scale) & ((scale > 0) | same_weights)
    hold = smooth_hold(cond, lim.smooth)
    flagged = hold[-1]
    if not flagged.any():
        return None

    names = [n for n, f in zip(np.array(ctx.names)[cols], flagged, strict=True) if f]
    start = int(run_start(hold, cond)[flagged].min())
    since = int(t.steps[start])
    never = start == 0 and len(t) > 1
    message = (
        f"the units of {layer_label(names)} are identical (spread across units "
        f"{fmt(float(np.nanmax(recent(spread, lim.smooth)[flagged])))})"
        + (f", unbroken since step {since}" if never else "")
    )
    why = (
        "Units that start with the same weights compute the same output and receive the same "
        "gradient, so every update keeps them the same: the layer behaves as one unit. "
        "Random init breaks the symmetry; its scale comes from the variance argument for the activation."
    )
    severity = "error" if flagged.all() or never else "warning"
    return Finding("symmetry", severity, tuple(names), since, message, why, ctx.init_fix(names))


def _collapse_why(ctx: Context, names: list[str], a_now: np.ndarray) -> str:
    finite = a_now[np.isfinite(a_now) & (a_now > 0)]
    factor = (finite[-1] / finite[0]) ** (1 / (len(finite) - 1)) if len(finite) > 1 else math.nan
    text = f"Each layer scales the spread of its input by about {fmt(float(factor))}, and the factors multiply with depth. "
    spec = ctx.layer_spec(names[-1])
    if spec is not None and spec.init == "normal":
        text += f"Weights of std {spec.init_std:g} give about std*sqrt(fan_in) per layer. "
    act = ctx.main_activation(names)
    if act == "relu" and spec is not None and spec.init.startswith("xavier"):
        text += "ReLU zeroes half its inputs, halving the variance each layer; Xavier does not make up for it, Kaiming's factor 2 does."
    elif spec is not None and spec.init == "default":
        text += "PyTorch's default Linear init draws weights with variance 1/(3 fan_in), a third of what keeps the variance."
    else:
        text += "Xavier (tanh) and Kaiming (ReLU) init choose the weight variance so that this factor is about 1."
    return text


def _collapse_fix(ctx: Context, names: list[str]) -> dict:
    if ctx.spec is not None and ctx.has_suited_init(names):
        return ctx.structure_fix()
    return ctx.init_fix(names)


def _saturation_fix(ctx: Context, names: list[str], since_i: int) -> dict:
    if ctx.spec is None or not ctx.has_suited_init(names):
        return ctx.init_fix(names)
    if since_i > 0:  # saturated only after training began: the steps pushed it there
        return ctx.lr_fix(0.3)
    return ctx.set_layers("norm", "batch")


def _dead_fix(ctx: Context, names: list[str]) -> dict:
    return ctx.set_layers("activation", "leaky_relu", names)


def _pct(fraction: float) -> str:
    return f"{100 * fraction:.0f}%"
