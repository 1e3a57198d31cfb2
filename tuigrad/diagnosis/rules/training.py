"""Whole-run rules: non-finite values, the update:data ratio, and a loss that does not improve."""

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

# Layer statistics whose NaN or inf means the numbers broke (NaN elsewhere means "not measured").
WATCHED = ("act_std", "out_grad_std", "weight_grad_norm", "weight_norm")


def first_nonfinite(t: FrameTable) -> int:
    """Row of the first frame with a non-finite loss, gradient norm or layer statistic; -1 if none."""
    bad = ~np.isfinite(t.col("loss")) | np.isinf(t.col("grad_norm"))
    for name in WATCHED:
        x = t.stat(name)  # (steps, layers)
        measured = np.logical_or.accumulate(np.isfinite(x), axis=0)
        # NaN counts once the statistic was measured before; inf always counts.
        prior = np.zeros_like(measured)
        prior[1:] = measured[:-1]
        bad |= (np.isinf(x) | (np.isnan(x) & prior)).any(axis=1)
    rows = np.flatnonzero(bad)
    return int(rows[0]) if len(rows) else -1


def nonfinite(t: FrameTable, ctx: Context) -> Finding | None:
    """NaN or inf in the loss or the statistics, from the first step where it appears."""
    row = first_nonfinite(t)
    if row < 0:
        return None
    step = int(t.steps[row])
    layers = _bad_layers(t, ctx, row)
    what = [name for name in ("loss", "grad_norm") if not math.isfinite(t.col(name)[row])]
    if layers:
        what.append(f"statistics of {layer_label(layers)}")
    message = (
        f"{' and '.join(what).replace('grad_norm', 'gradient norm')} non-finite from step {step}"
    )

    norm = t.col("grad_norm")[:row]
    norm = norm[np.isfinite(norm)]
    grew = len(norm) >= 2 and norm[-1] > 10 * norm[0]
    if len(norm):
        message += f" (gradient norm {fmt(float(norm[0]))} at the start, {fmt(float(norm[-1]))} just before)"
    why = (
        "The gradients grew step after step until float32 overflowed (above 3.4e38); once one value "
        "is inf or NaN, every later computation is NaN too."
        if grew
        else "A value overflowed or became NaN (too large a step, a division by zero or log of 0); "
        "once one value is NaN, every later computation is NaN too."
    )
    return Finding("nonfinite", "error", tuple(layers), step, message, why, ctx.clip_fix())


def update_ratio(t: FrameTable, ctx: Context) -> Finding | None:
    """Layers whose weights change far too much or far too little per step."""
    lim = ctx.limits
    rows = t.steps >= lim.update_skip_steps
    if rows.sum() == 0:
        return None
    live = t.stat("weight_std")[rows] > 0
    u = np.where(live, t.stat("update_ratio")[rows], np.nan)  # (steps, layers)
    steps = t.steps[rows]
    now = recent(u, lim.smooth)

    high_raw = u > lim.update_high_warn

    high = smooth_hold(high_raw, lim.smooth)
    if high[-1].any():
        names = [n for n, f in zip(ctx.names, high[-1], strict=True) if f]
        worst = float(np.nanmax(now[high[-1]]))
        since = int(steps[run_start(high, high_raw)[high[-1]].min()])
        severity = "error" if worst > lim.update_high_error else "warning"
        message = f"each step changes the weights of {layer_label(names)} by {fmt(worst)} of their size (healthy ~1e-3)"
        why = (
            "The update:data ratio, std(update) / std(weight), says how far one step moves a layer. "
            "Near 1e-3 the weights change gradually; near 0.1 and above, each step overwrites "
            "most of what was learned and training becomes unstable."
        )
        return Finding(
            "update_ratio", severity, tuple(names), since, message, why, ctx.lr_fix(1e-2 / worst)
        )

    # Too slow: the typical layer, and only while the schedule has not lowered the rate.
    typical = nanmedian(np.where(np.isfinite(u), u, np.nan), axis=1)  # (steps,)
    lr_now = t.col("lr")[rows]
    decayed = ctx.spec is not None and np.isfinite(lr_now[-1]) and lr_now[-1] < 0.5 * ctx.lr
    low_raw = typical < lim.update_low_warn
    low = smooth_hold(low_raw, lim.smooth)
    if not low[-1] or decayed:
        return None
    median = float(recent(typical, lim.smooth))
    since = int(steps[run_start(low, low_raw)])
    message = f"each step changes the weights by only {fmt(median)} of their size (median over layers; healthy ~1e-3)"
    why = (
        "The update:data ratio, std(update) / std(weight), says how far one step moves a layer. "
        "Below 1e-5 the weights barely move, and learning takes hundreds of times longer than it should."
    )
    return Finding(
        "update_ratio",
        "warning",
        (),
        since,
        message,
        why,
        ctx.lr_fix(lim.update_target / max(median, 1e-12)),
    )


def no_progress(t: FrameTable, ctx: Context) -> Finding | None:
    """A loss that has not fallen, or rose, over the run."""
    lim = ctx.limits
    loss = t.col("loss")
    ok = np.isfinite(loss)
    steps = t.steps[ok]
    loss = loss[ok]
    if len(loss) < lim.progress_min_frames or steps[-1] - steps[0] < lim.progress_min_steps:
        return None
    if steps[0] > lim.progress_first_step:
        return None

    k = max(1, min(lim.smooth, len(loss) // 4))
    start, now = float(nanmedian(loss[:k])), float(nanmedian(loss[-k:]))
    span = int(steps[-1] - steps[0])
    if start > 0 and now >= lim.progress_rise * start:
        message = f"loss rose from {fmt(start)} to {fmt(now)} over {span} steps"
        why = "A loss that rises means the steps overshoot: each update lands higher up the other side of the valley."
        return Finding("no_progress", "warning", (), int(steps[0]), message, why, ctx.lr_fix(0.1))
    gain = (start - now) / abs(start) if start != 0 else 0.0
    if gain >= lim.progress_min_gain:
        return None

    message = f"loss has not improved in {span} steps ({fmt(start)} at step {int(steps[0])}, {fmt(now)} now)"
    acc = t.col("accuracy")[ok]
    if np.isfinite(acc[-k:]).any() and ctx.spec is not None and ctx.spec.data.is_classification:
        message += f"; accuracy {fmt(float(nanmedian(acc[-k:])))}, chance is {fmt(1 / ctx.spec.data.classes)}"
    why = (
        "The loss should fall within the first hundred steps. When it does not, the gradient "
        "either does not reach the weights (see other findings), or the step is too small to move them."
    )
    return Finding("no_progress", "warning", (), int(steps[0]), message, why, _progress_fix(ctx))


def _progress_fix(ctx: Context) -> dict:
    if ctx.spec is None:
        return {}
    if ctx.depth >= 8 and not ctx.has_structure():
        return ctx.structure_fix()
    if ctx.spec.optimizer.name in ("sgd", "momentum", "nesterov"):
        return {"optimizer.name": "adam", "optimizer.lr": 1e-3}
    return ctx.lr_fix(3.0)


def _bad_layers(t: FrameTable, ctx: Context, row: int) -> list[str]:
    bad = np.zeros(len(ctx.names), dtype=bool)
    for name in WATCHED:
        x = t.stat(name)
        measured_before = np.isfinite(x[:row]).any(axis=0)
        bad |= np.isinf(x[row]) | (np.isnan(x[row]) & measured_before)
    return [n for n, b in zip(ctx.names, bad, strict=True) if b]
