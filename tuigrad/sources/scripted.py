"""A frame source that serves a prepared list of frames.

It drives the app in tests (every control call is recorded), replays a list of frames read from
anywhere, and feeds benchmarks at a chosen rate. It never trains anything.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from tuigrad.frames import Frame, LayerInfo
from tuigrad.sources.base import FrameSource, LiveControls, RunState, SourceStatus
from tuigrad.spec import Spec

# The live trainer's control names, so that the app offers the same keys for both.
ALL_CONTROLS = frozenset({"start", "pause", "step", "run", "reset", "reseed", "lr", "clip"})

# Called on reset: (spec or None, reseed) -> (layers, frames) of the new run.
Rebuild = Callable[[Spec | None, bool], tuple[Sequence[LayerInfo], Sequence[Frame]]]


def spec_layers(spec: Spec) -> tuple[LayerInfo, ...]:
    """The monitored layers a spec builds, L1..Ln then head, as the engine names them."""
    out = []
    width_in = spec.data.dim
    for i, layer in enumerate(spec.model.resolved(), start=1):
        out.append(LayerInfo(f"L{i}", layer.summary(), (layer.width, width_in), layer.activation))
        width_in = layer.width
    head = f"{spec.output_dim} out"
    out.append(LayerInfo("head", head, (spec.output_dim, width_in)))
    return tuple(out)


class ScriptedSource(FrameSource, LiveControls):
    """Serves `frames` in order; the controls record their calls and move through the list.

    shown: how many frames are visible before `start` (default: all of them).
    rate: frames released per second while running (None: `start` releases nothing, only
        `step_once` does, which keeps tests deterministic).
    rebuild: makes the frames of a new run on reset (default: replay the same list).
    """

    def __init__(
        self,
        frames: Sequence[Frame],
        layers: Sequence[LayerInfo],
        *,
        spec: Spec | None = None,
        title: str = "",
        shown: int | None = None,
        rate: float | None = None,
        device: str = "cpu",
        steps_per_s: float = 0.0,
        controls: frozenset[str] = ALL_CONTROLS,
        state: RunState = RunState.IDLE,
        message: str = "",
        rebuild: Rebuild | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.spec = spec
        self.title = title or (spec.title if spec else "")
        self.layers = tuple(layers)
        self.controls = controls
        self.calls: list[tuple] = []
        self._frames = list(frames)
        self._initial = len(self._frames) if shown is None else min(shown, len(self._frames))
        self._shown = self._initial
        self._rate = rate
        self._state = state
        self._message = message
        self._device = device
        self._steps_per_s = steps_per_s
        self._rebuild = rebuild
        self._clock = clock
        self._version = 1
        self._run_from = (0.0, 0)  # (clock at start, frames shown at start)
        self.closed = False

    # The frame-source interface.

    def version(self) -> int:
        self._release()
        return self._version

    def frames_since(self, index: int) -> list[Frame]:
        self._release()
        return self._frames[index : self._shown]

    def status(self) -> SourceStatus:
        return SourceStatus(self._state, self._message, self._device, self._steps_per_s)

    def close(self) -> None:
        self.calls.append(("close",))
        self.closed = True

    # The controls.

    def start(self) -> None:
        self.calls.append(("start",))
        self._run_from = (self._clock(), self._shown)
        self._set_state(RunState.RUNNING if self._shown < len(self._frames) else RunState.FINISHED)

    def pause(self) -> None:
        self.calls.append(("pause",))
        self._release()
        self._set_state(RunState.PAUSED)

    def step_once(self) -> None:
        self.calls.append(("step_once",))
        self._shown = min(self._shown + 1, len(self._frames))
        self._set_state(RunState.PAUSED if self._shown < len(self._frames) else RunState.FINISHED)

    def run_steps(self, n: int) -> None:
        self.calls.append(("run_steps", n))
        self._shown = min(self._shown + n, len(self._frames))
        self._set_state(RunState.PAUSED if self._shown < len(self._frames) else RunState.FINISHED)

    def reset(self, spec: Spec | None = None, reseed: bool = False) -> None:
        self.calls.append(("reset", spec, reseed))
        if self._rebuild is not None:
            layers, frames = self._rebuild(spec, reseed)
            self.layers, self._frames = tuple(layers), list(frames)
            self._initial = min(self._initial, len(self._frames))
        if spec is not None:
            self.spec = spec
            self.title = spec.title
        self.run_id += 1
        self._shown = self._initial
        self._set_state(RunState.IDLE)

    def set_lr(self, lr: float) -> None:
        self.calls.append(("set_lr", lr))
        self._version += 1

    def set_clip(self, mode: str, value: float | None = None) -> None:
        self.calls.append(("set_clip", mode, value))
        self._version += 1

    # Helpers for tests and demos.

    def set_status(self, state: RunState, message: str = "") -> None:
        """Change the state shown, as a trainer would on an error or a non-finite loss."""
        self._set_state(state, message)

    def push(self, frames: Sequence[Frame]) -> None:
        """Append frames and show them at once, as if the trainer had just produced them."""
        self._frames.extend(frames)
        self._shown = len(self._frames)
        self._version += 1

    def _set_state(self, state: RunState, message: str = "") -> None:
        self._state, self._message = state, message
        self._version += 1

    def _release(self) -> None:
        if self._state is not RunState.RUNNING or not self._rate:
            return
        started, shown = self._run_from
        due = min(shown + int((self._clock() - started) * self._rate), len(self._frames))
        if due > self._shown:
            self._shown = due
            self._version += 1
        if self._shown == len(self._frames):
            self._state = RunState.FINISHED
