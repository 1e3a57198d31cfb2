"""A trainer hosted in a background thread and driven by commands.

Every command is queued and carried out by the training thread between two steps, so the
trainer is only ever touched by one thread. The thread checks its stop event every step and
never lets an exception escape: a failure becomes an ERROR status with a one-line message.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from tuigrad.engine.trainer import Trainer
from tuigrad.errors import TuigradError
from tuigrad.frames import Frame
from tuigrad.sources.base import RunState, SourceStatus
from tuigrad.spec import Spec

log = logging.getLogger(__name__)

RATE_WINDOW_S = 0.5  # steps/s is measured over windows this long, and reported as often
IDLE_POLL_S = 0.2


def describe(exc: BaseException) -> str:
    """An exception in one line: the message for our own errors, the type for anything else."""
    if isinstance(exc, TuigradError):
        return str(exc).splitlines()[0]
    first = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


class Runner:
    """Runs a Trainer in a daemon thread: start, pause, step, run N, reset, stop.

    `on_frame(run_id, frame)` and `on_status(status)` are called from the training thread;
    they must be quick (append to a buffer, send bytes) and must not call back into the runner.
    `max_steps` ends the run as FINISHED, with a frame at the last step.
    """

    def __init__(
        self,
        spec: Spec,
        on_frame: Callable[[int, Frame], None],
        on_status: Callable[[SourceStatus], None] | None = None,
        max_steps: int | None = None,
        run_id: int = 0,
    ) -> None:
        self.spec = spec
        self.max_steps = max_steps
        self.run_id = run_id
        self.trainer: Trainer | None = None  # touched only by the training thread
        self._on_frame = on_frame
        self._on_status = on_status
        self._commands: queue.SimpleQueue[tuple[str, dict[str, Any]]] = queue.SimpleQueue()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._status = SourceStatus(RunState.IDLE, "building the model")
        self._state = RunState.IDLE
        self._message = "building the model"
        self._budget: int | None = None  # steps left before pausing; None: no limit
        self._rate = 0.0
        self._window = (time.perf_counter(), 0)
        self._thread = threading.Thread(target=self._loop, name="tuigrad-trainer", daemon=True)

    # ---- called from any thread ----------------------------------------------------------

    def launch(self) -> None:
        """Start the thread; it builds the trainer, then waits for commands."""
        self._thread.start()

    def start(self) -> None:
        """Run until paused, stopped, finished, or a non-finite step."""
        self._send("start")

    def pause(self) -> None:
        self._send("pause")

    def step_once(self) -> None:
        self._send("run", n=1)

    def run_steps(self, n: int) -> None:
        """Run `n` more steps, then pause."""
        self._send("run", n=n)

    def reset(
        self, spec: Spec | None = None, reseed: bool = False, run_id: int | None = None
    ) -> None:
        """Rebuild from `spec` (default: the current one); frames then carry the new run id."""
        self._send("reset", spec=spec, reseed=reseed, run_id=run_id)

    def set_lr(self, lr: float) -> None:
        self._send("set_lr", lr=lr)

    def set_clip(self, mode: str, value: float | None = None) -> None:
        self._send("set_clip", mode=mode, value=value)

    def stop(self, timeout: float = 5.0) -> bool:
        """Stop after the step in progress; True when the thread has ended within `timeout`."""
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def status(self) -> SourceStatus:
        with self._lock:
            return self._status

    @property
    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def _send(self, name: str, **args: Any) -> None:
        self._commands.put((name, args))
        self._wake.set()

    # ---- the training thread -------------------------------------------------------------

    def _loop(self) -> None:
        if self._build(self.spec):
            self._set(RunState.IDLE, "ready")
        while not self._stop.is_set():
            self._drain()
            if self._stop.is_set():
                break
            if self._state is RunState.RUNNING and self.trainer is not None:
                self._advance()
            else:
                self._wake.wait(IDLE_POLL_S)
                self._wake.clear()
        self._rate = 0.0
        if self._state is RunState.RUNNING:
            self._set(RunState.STOPPED, "stopped")

    def _build(self, spec: Spec) -> bool:
        try:
            self.trainer = Trainer(spec)
        except Exception as exc:  # noqa: BLE001 - every failure is reported, none escapes
            log.debug("building the trainer failed", exc_info=True)
            self.trainer = None
            self._set(RunState.ERROR, describe(exc))
            return False
        self.spec = self.trainer.spec
        return True

    def _drain(self) -> None:
        while True:
            try:
                name, args = self._commands.get_nowait()
            except queue.Empty:
                return
            try:
                getattr(self, f"_do_{name}")(**args)
            except Exception as exc:  # noqa: BLE001
                log.debug("command %s failed", name, exc_info=True)
                self._set(self._state, describe(exc))

    def _do_start(self) -> None:
        if self._startable() or self._state is RunState.RUNNING:
            self._budget = None
            self._set(RunState.RUNNING, "")

    def _do_pause(self) -> None:
        if self._state is RunState.RUNNING:
            self._budget = None
            self._set(RunState.PAUSED, "paused")

    def _do_run(self, n: int) -> None:
        if self._startable() or self._state is RunState.RUNNING:
            self._budget = max(1, int(n))
            self._set(RunState.RUNNING, "")

    def _startable(self) -> bool:
        if self.trainer is None or self._state is RunState.FINISHED:
            return False
        return self._state in (RunState.IDLE, RunState.PAUSED, RunState.ERROR, RunState.STOPPED)

    def _do_reset(self, spec: Spec | None, reseed: bool, run_id: int | None) -> None:
        spec = spec or self.spec
        if reseed:
            spec = replace(spec, seed=(spec.seed + 1) % 2**63)
        keep_running = self._state is RunState.RUNNING and self._budget is None
        self.run_id = self.run_id + 1 if run_id is None else run_id
        self._rate = 0.0
        if self._build(spec):
            state = RunState.RUNNING if keep_running else RunState.IDLE
            self._set(state, "" if keep_running else "ready")

    def _do_set_lr(self, lr: float) -> None:
        if self.trainer is not None:
            self.trainer.set_lr(lr)
            self.spec = self.trainer.spec

    def _do_set_clip(self, mode: str, value: float | None) -> None:
        if self.trainer is not None:
            self.trainer.set_clip(mode, value)
            self.spec = self.trainer.spec

    def _advance(self) -> None:
        trainer = self.trainer
        last = self.max_steps is not None and trainer.step_count >= self.max_steps - 1
        # The step a run stops or pauses on is always measured: after `n` (one step) the
        # screen shows that step, whatever the sampling interval.
        pauses = self._budget is not None and self._budget <= 1
        try:
            frame = trainer.step(measure=True if last or pauses else None)
            if frame is not None:
                self._on_frame(self.run_id, frame)
        except Exception as exc:  # noqa: BLE001
            log.debug("training step failed", exc_info=True)
            self._set(RunState.ERROR, describe(exc))
            return
        self._count_step()

        if trainer.halted:
            self._set(RunState.PAUSED, trainer.halted)
        elif last:
            self._set(RunState.FINISHED, f"finished {trainer.step_count} steps")
        elif self._budget is not None:
            self._budget -= 1
            if self._budget <= 0:
                self._budget = None
                self._set(RunState.PAUSED, "paused")

    def _count_step(self) -> None:
        start, steps = self._window
        steps += 1
        now = time.perf_counter()
        if now - start >= RATE_WINDOW_S:
            self._rate = steps / (now - start)
            self._window = (now, 0)
            self._set(self._state, self._message)
        else:
            self._window = (start, steps)

    def _set(self, state: RunState, message: str) -> None:
        if state is not RunState.RUNNING:
            self._rate = 0.0
        if state is RunState.RUNNING and self._state is not RunState.RUNNING:
            self._window = (time.perf_counter(), 0)
        self._state, self._message = state, message
        device = str(self.trainer.device) if self.trainer is not None else ""
        status = SourceStatus(state, message, device, self._rate)
        with self._lock:
            self._status = status
        if self._on_status is not None:
            try:
                self._on_status(status)
            except Exception:  # noqa: BLE001 - a broken listener must not stop training
                log.debug("status listener failed", exc_info=True)
