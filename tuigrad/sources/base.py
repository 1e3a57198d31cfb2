"""The frame-source interface: what the UI reads, whoever produces the frames.

A live trainer, a run file being replayed, a run file another process is still writing, and a
scripted list of frames in tests all present this interface. The UI polls `version` on a timer
and calls `frames_since` only when it changed: no message per training step.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from tuigrad.frames import Frame, LayerInfo
from tuigrad.spec import Spec


class RunState(enum.Enum):
    IDLE = "ready"  # built, not started
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"  # ran all its steps, or a replayed file reached its end
    STOPPED = "stopped"  # a followed writer stopped writing without finishing
    ERROR = "error"


@dataclass(frozen=True)
class SourceStatus:
    """The source's state as the UI shows it."""

    state: RunState
    message: str = ""  # e.g. the error, or why the run paused (non-finite loss)
    device: str = ""
    steps_per_s: float = 0.0


class FrameSource:
    """Base class of every frame source. Subclasses fill the frame list and bump the version."""

    spec: Spec | None = None
    layers: tuple[LayerInfo, ...] = ()
    title: str = ""
    # Increments when the run restarts (reset, reseed, new spec): the UI then drops the
    # frames it holds and reads again from index 0.
    run_id: int = 0
    # Which controls the UI may offer (the Footer shows only these).
    controls: frozenset[str] = frozenset()

    def version(self) -> int:
        """A counter that changes whenever new frames or a new status are available."""
        raise NotImplementedError

    def frames_since(self, index: int) -> list[Frame]:
        """Frames from position `index` on (0 = all frames this source currently holds)."""
        raise NotImplementedError

    def status(self) -> SourceStatus:
        raise NotImplementedError

    def close(self) -> None:
        """Stop whatever runs behind the source; returns promptly."""


class LiveControls:
    """The controls a live trainer offers, mixed into its frame source."""

    def start(self) -> None: ...
    def pause(self) -> None: ...
    def step_once(self) -> None: ...
    def reset(self, spec: Spec | None = None, reseed: bool = False) -> None: ...
    def set_lr(self, lr: float) -> None: ...
    def set_clip(self, mode: str, value: float | None = None) -> None: ...
