"""Synthetic frames for UI tests: plausible shapes, deterministic, no torch, no clock."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from tuigrad.frames import GRAD_LOG_RANGE, Frame, Hist, LayerInfo, LayerStats
from tuigrad.sources.scripted import ScriptedSource, spec_layers
from tuigrad.spec import Spec

BINS = 40


def frames_for(
    layers: tuple[LayerInfo, ...], steps: int, seed: int = 0, every: int = 1
) -> list[Frame]:
    """A run whose gradients fade towards the input, loss falling, clipping sometimes acting."""
    rng = np.random.default_rng(seed)
    frames = []
    n = len(layers)
    for k in range(steps):
        step = k * every
        out = []
        for i, info in enumerate(layers):
            depth_from_top = n - 1 - i
            gnorm = 10 ** (-0.6 * depth_from_top - 0.5 + 0.1 * rng.standard_normal())
            acts = np.tanh(rng.standard_normal(256) * (0.5 + 0.1 * i))
            act_counts = np.histogram(acts, bins=BINS, range=(-1, 1))[0].astype(np.float32)
            glog = np.log10(np.abs(rng.standard_normal(256)) * gnorm / 16 + 1e-30)
            grad_counts = np.histogram(
                np.clip(glog, *GRAD_LOG_RANGE), bins=BINS, range=GRAD_LOG_RANGE
            )[0]
            w = rng.standard_normal(256) * 0.1
            weight_counts = np.histogram(w, bins=BINS, range=(w.min(), w.max()))[0]
            out.append(
                LayerStats(
                    name=info.name,
                    act_mean=float(acts.mean()),
                    act_std=float(acts.std(ddof=1)),
                    act_saturated=float((np.abs(acts) > 0.97).mean()),
                    act_dead=0.0,
                    weight_grad_norm=gnorm,
                    weight_norm=1.0,
                    update_ratio=10 ** (-3.0 - 0.4 * depth_from_top + 0.05 * rng.standard_normal()),
                    act_hist=Hist(-1.0, 1.0, act_counts),
                    grad_hist=Hist(*GRAD_LOG_RANGE, grad_counts.astype(np.float32)),
                    weight_hist=Hist(
                        float(w.min()), float(w.max()), weight_counts.astype(np.float32)
                    ),
                )
            )
        loss = 1.1 * math.exp(-step / 80) + 0.05
        grad_norm = 2.0 * math.exp(-step / 150) + 0.2
        frames.append(
            Frame(
                step=step,
                loss=loss,
                accuracy=min(0.99, 0.33 + step / 300),
                lr=0.01,
                grad_norm=grad_norm,
                grad_norm_clipped=min(grad_norm, 1.0),
                clipped=grad_norm > 1.0,
                wall_time=step * 0.01,
                layers=tuple(out),
            )
        )
    return frames


def fade_out_grads(frames: list[Frame], decades: float = 1.5) -> list[Frame]:
    """The same frames with the gradient reaching each layer's output (`out_grad_std`, what
    the diagnosis reads) `decades` orders of magnitude smaller per layer towards the input."""
    out = []
    for frame in frames:
        n = len(frame.layers)
        layers = tuple(
            replace(s, out_grad_std=10 ** (-decades * (n - 1 - i) - 2.0))
            for i, s in enumerate(frame.layers)
        )
        out.append(replace(frame, layers=layers))
    return out


def scripted(spec: Spec | None = None, steps: int = 60, **kw) -> ScriptedSource:
    """A scripted source over synthetic frames of `spec`; a reset with a new spec rebuilds them."""
    spec = spec or Spec(title="Synthetic run")
    layers = spec_layers(spec)

    def rebuild(new: Spec | None, reseed: bool):
        s = new or spec
        return spec_layers(s), frames_for(spec_layers(s), steps, seed=1 if reseed else 0)

    kw.setdefault("steps_per_s", 250.0)
    return ScriptedSource(frames_for(layers, steps), layers, spec=spec, rebuild=rebuild, **kw)


def screen_text(app) -> str:
    """What the terminal shows, as plain text (no colours), one line per row."""
    import io

    from rich.console import Console

    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        record=True,
        color_system=None,
    )
    console.print(
        app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    )
    return console.export_text()
