"""Small run files for the replay and compare views, written from tests/ui_frames.py frames."""

from __future__ import annotations

from pathlib import Path

from tests.ui_frames import frames_for
from tuigrad.frames import Frame
from tuigrad.runs import RunWriter
from tuigrad.sources.scripted import spec_layers
from tuigrad.spec import Spec

SPEC_A = Spec(title="Four tanh layers").with_values({"model.depth": 4, "clip.mode": "norm"})
SPEC_B = SPEC_A.with_values(
    {"title": "Six tanh layers", "model.depth": 6, "optimizer.lr": 0.5, "seed": 7}
)
FINDING_STEP = 20


def record(
    path: Path, spec: Spec, steps: int, every: int = 1, findings: bool = False
) -> list[Frame]:
    """A finished run file of `steps` synthetic frames of `spec`, sampled every `every` steps."""
    layers = spec_layers(spec)
    frames = frames_for(layers, steps, every=every)
    with RunWriter(path, spec, layers, device="cpu") as writer:
        for frame in frames:
            assert writer.write(frame)
        if findings:
            writer.add_finding(FINDING_STEP, "vanishing", {"message": "L1 fades"})
    assert writer.error is None
    return frames
