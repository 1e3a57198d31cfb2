"""Frames and run files for the run-file tests (also run as a writer process by some tests)."""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from tuigrad.frames import LAYER_SCALARS, Frame, Hist, LayerInfo, LayerStats
from tuigrad.runs import RunWriter
from tuigrad.spec import Spec

SPEC = Spec().with_values({"title": "Three tanh layers", "model.depth": 3, "model.width": 8})
LAYERS = tuple(LayerInfo(f"L{i + 1}", f"8 tanh xav_n #{i}", (8, 8), "tanh") for i in range(3))


def make_frame(
    step: int, n_layers: int = 3, bins: int = 6, hists: bool = True, wall: float | None = None
) -> Frame:
    """A deterministic frame for `step`, with a NaN and an Inf among its statistics."""
    rng = np.random.default_rng(step)
    layers = []
    for i in range(n_layers):
        values = rng.standard_normal(len(LAYER_SCALARS)).astype(np.float32).tolist()
        stats = dict(zip(LAYER_SCALARS, values, strict=True))
        stats["act_dead"] = math.nan if i == 0 else stats["act_dead"]
        stats["weight_grad_norm"] = math.inf if i == 1 else stats["weight_grad_norm"]
        if hists:
            for kind in ("act_hist", "grad_hist", "weight_hist"):
                counts = rng.integers(0, 100, bins).astype(np.float32)
                stats[kind] = Hist(-1.0 - i, 1.0 + i, counts)
        layers.append(LayerStats(name=f"L{i + 1}", **stats))
    return Frame(
        step=step,
        loss=1.0 / (step + 1),
        accuracy=math.nan if step % 7 == 0 else 0.5,
        lr=0.01,
        grad_norm=math.inf if step % 11 == 5 else 2.0 + step,
        grad_norm_clipped=1.0,
        clipped=step % 3 == 0,
        wall_time=0.1 * step if wall is None else wall,
        val_loss=math.nan,
        act_rows=64,
        layers=tuple(layers),
    )


def write_run(path: Path, steps: range | list[int], **frame_options: object) -> list[Frame]:
    """A finished run file holding make_frame(step) for every step."""
    frames = [make_frame(step, **frame_options) for step in steps]  # type: ignore[arg-type]
    with RunWriter(path, SPEC, LAYERS, device="cpu") as writer:
        for frame in frames:
            assert writer.write(frame)
    assert writer.error is None
    return frames


def writer_process(path: str, count: int, pause: float, commit_interval: float) -> None:
    """Write `count` frames, `pause` seconds apart; report committed counts on stdout."""
    writer = RunWriter(path, SPEC, LAYERS, device="cpu", commit_interval=commit_interval)
    print(json.dumps({"started": True}), flush=True)
    reported = -1
    for step in range(count):
        writer.write(make_frame(step, wall=time.time()))
        if writer.written != reported:
            reported = writer.written
            print(json.dumps({"written": reported}), flush=True)
        time.sleep(pause)
    writer.close()
    print(json.dumps({"closed": writer.written, "error": writer.error}), flush=True)


if __name__ == "__main__":
    writer_process(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]))
