"""Preset runs shared by the preset and diagnosis tests: each experiment is trained once.

Runs are cached for the whole test session by what they train (the spec without its words,
the number of steps), so a broken preset with its fix applied shares the run of the preset
that already is that fix (tanh-small-init with Xavier is tanh-xavier).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import pytest

from tuigrad import presets
from tuigrad.diagnosis import Finding, diagnose
from tuigrad.frames import Frame, LayerInfo
from tuigrad.spec import LayerSpec, Spec

# (steps, probe.every) per preset: as few steps as show the lesson. 0 steps: the step-0
# frame only (Trainer.measure), for the width-4096 nets that take seconds a step on a CPU.
HORIZON: dict[str, tuple[int, int]] = {
    "bad-init": (300, 10),
    "bad-init-batchnorm": (300, 10),
    "bad-init-groupnorm": (300, 10),
    "bad-init-layernorm": (300, 10),
    "constant-init": (100, 5),
    "dead-relu": (300, 10),
    "dead-relu-gelu": (300, 10),
    "dead-relu-leaky": (300, 10),
    "deep-plain": (200, 10),
    "deep-residual": (200, 10),
    "default": (300, 10),
    "exploding": (20, 1),
    "exploding-clipped": (200, 5),
    "optim-adam": (300, 10),
    "optim-sgd": (300, 10),
    "relu-kaiming": (50, 5),
    "relu-xavier": (50, 5),
    "sigmoid-deep": (300, 10),
    "sigmoid-deep-relu": (300, 10),
    "sigmoid-deep-tanh": (300, 10),
    "tanh-large-init": (0, 1),
    "tanh-small-init": (0, 1),
    "tanh-xavier": (0, 1),
    "torch-default-init": (50, 5),
    "zero-init": (100, 5),
}


@dataclass(frozen=True)
class PresetRun:
    """What one headless run produced: its spec, layers, sampled frames and why it stopped."""

    spec: Spec
    layers: tuple[LayerInfo, ...]
    frames: tuple[Frame, ...]
    halted: str

    @property
    def first(self) -> Frame:
        return self.frames[0]

    @property
    def last(self) -> Frame:
        return self.frames[-1]

    def findings(self) -> list[Finding]:
        return diagnose(self.frames, self.layers, self.spec)

    def warnings(self) -> list[Finding]:
        return [f for f in self.findings() if f.is_warning]

    def stat(self, frame: Frame, name: str) -> list[float]:
        """A statistic of every hidden layer (not the head) in one frame."""
        return [getattr(layer, name) for layer in frame.layers[:-1]]


_CACHE: dict[tuple[str, int], PresetRun] = {}


# The init settings each init reads; the others do not change what a run computes.
_INIT_FIELDS = {"normal": "init_std", "uniform": "init_bound", "constant": "init_value"}


def _used(layer: Any) -> Any:
    """A LayerSpec (or the ModelSpec's defaults) with the init settings it ignores reset."""
    unused = [field for init, field in _INIT_FIELDS.items() if init != layer.init]
    return replace(layer, **{field: getattr(LayerSpec(), field) for field in unused})


def _key(spec: Spec) -> str:
    """What a run computes: the spec without its words and without settings its inits ignore."""
    layers = [_used(layer) for layer in spec.model.resolved()]
    model = _used(spec.model).with_layers(layers)
    words = {"title": "", "description": "", "look_at": "", "expect": ""}
    return replace(spec, model=model, **words).to_toml()


def train(spec: Spec, steps: int) -> PresetRun:
    """Train `spec` for `steps` steps (0: measure the initial net only), once per session."""
    key = (_key(spec), steps)
    if key not in _CACHE:
        _CACHE[key] = _train(spec, steps)
    return _CACHE[key]


def _train(spec: Spec, steps: int) -> PresetRun:
    import torch

    threads = torch.get_num_threads()
    # NOTE: on a small shared CPU one thread trains these nets faster than several, which
    # spend their time waiting for each other.
    torch.set_num_threads(1)
    try:
        return _steps(spec, steps)
    finally:
        torch.set_num_threads(threads)


def _steps(spec: Spec, steps: int) -> PresetRun:
    from tuigrad.engine.trainer import Trainer

    trainer = Trainer(spec)
    if steps == 0:
        return PresetRun(spec, trainer.layers, (trainer.measure(),), "")
    frames = []
    for k in range(steps):
        frame = trainer.step(measure=True if k == steps - 1 else None)
        if frame is not None:
            frames.append(frame)
        if trainer.halted:
            break
    return PresetRun(spec, trainer.layers, tuple(frames), trainer.halted)


def preset_spec(name: str, values: dict[str, Any] | None = None) -> Spec:
    """The preset as its tests run it: sampled every `HORIZON` steps, with `values` applied."""
    spec = presets.load_preset(name).with_values({"probe.every": HORIZON[name][1]})
    return spec.with_values(values) if values else spec


def run_preset(name: str, values: dict[str, Any] | None = None) -> PresetRun:
    """The preset trained for its horizon, optionally with spec changes."""
    return train(preset_spec(name, values), HORIZON[name][0])


@pytest.fixture(scope="session")
def preset_runs():
    """`run_preset`, cached across the session: both test modules share the runs."""
    return run_preset
