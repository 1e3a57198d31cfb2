"""The trainer thread: commands, states, errors that never escape, prompt stops."""

import math
import threading
import time

import pytest
import torch

from tests.specs import tiny
from tuigrad.engine.runner import Runner
from tuigrad.frames import Frame
from tuigrad.sources.base import RunState
from tuigrad.spec import Spec

torch.set_num_threads(1)


class Recorder:
    def __init__(self) -> None:
        self.frames: list[tuple[int, Frame]] = []
        self.states: list[RunState] = []
        self.lock = threading.Lock()

    def on_frame(self, run_id: int, frame: Frame) -> None:
        with self.lock:
            self.frames.append((run_id, frame))

    def on_status(self, status) -> None:
        with self.lock:
            self.states.append(status.state)


def wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.01)


@pytest.fixture
def make_runner():
    runners = []

    def make(spec: Spec, **kw) -> tuple[Runner, Recorder]:
        rec = Recorder()
        runner = Runner(spec, rec.on_frame, rec.on_status, **kw)
        runner.launch()
        runners.append(runner)
        return runner, rec

    yield make
    for runner in runners:
        assert runner.stop(5.0)


def test_run_steps_then_pause(make_runner):
    runner, rec = make_runner(tiny())
    wait_for(lambda: runner.status().state is RunState.IDLE and runner.status().message == "ready")
    assert runner.status().device == "cpu"
    runner.run_steps(5)
    wait_for(lambda: runner.status().state is RunState.PAUSED)
    assert [f.step for _, f in rec.frames] == [0, 1, 2, 3, 4]
    runner.step_once()
    wait_for(lambda: len(rec.frames) == 6)
    assert rec.frames[-1][1].step == 5


def test_start_pause_and_prompt_stop(make_runner):
    runner, rec = make_runner(tiny())
    runner.start()
    wait_for(lambda: len(rec.frames) >= 3)
    assert runner.status().state is RunState.RUNNING
    runner.pause()
    wait_for(lambda: runner.status().state is RunState.PAUSED)
    count = len(rec.frames)
    time.sleep(0.1)
    assert len(rec.frames) == count
    runner.start()
    wait_for(lambda: len(rec.frames) > count)
    t0 = time.monotonic()
    assert runner.stop(5.0)
    assert time.monotonic() - t0 < 1.0
    assert runner.status().state is RunState.STOPPED


def test_max_steps_finishes_with_a_frame_at_the_last_step(make_runner):
    runner, rec = make_runner(tiny(**{"probe.every": 3}), max_steps=8)
    runner.start()
    wait_for(lambda: runner.status().state is RunState.FINISHED)
    assert [f.step for _, f in rec.frames] == [0, 3, 6, 7]
    assert "finished 8 steps" in runner.status().message
    runner.start()  # a finished run stays finished until reset
    time.sleep(0.05)
    assert runner.status().state is RunState.FINISHED


def test_non_finite_pauses_and_is_reported(make_runner):
    # A linear network on a regression task with a huge step size diverges in a few steps.
    values = {"optimizer.lr": 1e3, "model.activation": "identity", "data.name": "sine"}
    runner, rec = make_runner(tiny(**values))
    runner.start()
    wait_for(lambda: runner.status().state is RunState.PAUSED)
    assert "non-finite" in runner.status().message
    last = rec.frames[-1][1]
    assert not math.isfinite(last.loss) or not math.isfinite(last.grad_norm)


def test_build_error_is_a_status_not_an_exception(make_runner):
    runner, rec = make_runner(tiny(device="cuda:3"))
    wait_for(lambda: runner.status().state is RunState.ERROR)
    assert "device = 'cuda:3'" in runner.status().message
    runner.start()  # nothing to run; still alive and still an error
    time.sleep(0.05)
    assert runner.is_alive and runner.status().state is RunState.ERROR
    runner.reset(tiny())
    wait_for(lambda: runner.status().state is RunState.IDLE)


def test_exception_in_a_step_is_captured(make_runner, monkeypatch):
    runner, rec = make_runner(tiny())
    wait_for(lambda: runner.trainer is not None)

    def broken(measure=None):
        raise RuntimeError("out of memory\nwith details")

    monkeypatch.setattr(runner.trainer, "step", broken)
    runner.start()
    wait_for(lambda: runner.status().state is RunState.ERROR)
    assert runner.status().message == "RuntimeError: out of memory"
    assert runner.is_alive


def test_reset_tags_frames_with_the_new_run_and_repeats_them(make_runner):
    runner, rec = make_runner(tiny())
    runner.run_steps(2)
    wait_for(lambda: len(rec.frames) == 2)
    runner.reset(run_id=7)
    runner.run_steps(2)
    wait_for(lambda: len(rec.frames) == 4)
    assert [r for r, _ in rec.frames] == [0, 0, 7, 7]
    assert rec.frames[0][1].loss == rec.frames[2][1].loss  # same seed, same run
    runner.reset(reseed=True)
    runner.run_steps(1)
    wait_for(lambda: len(rec.frames) == 5)
    assert rec.frames[-1][0] == 8 and runner.spec.seed == 1
    assert rec.frames[-1][1].loss != rec.frames[0][1].loss


def test_set_lr_and_clip_while_running(make_runner):
    runner, rec = make_runner(tiny())
    runner.set_lr(0.25)
    runner.set_clip("value", 1e-6)
    runner.run_steps(1)
    wait_for(lambda: len(rec.frames) == 1)
    frame = rec.frames[0][1]
    assert frame.lr == 0.25 and frame.clipped
    runner.set_lr(-3.0)  # refused: reported, state unchanged
    wait_for(lambda: "optimizer.lr" in runner.status().message)
    assert runner.status().state is RunState.PAUSED
    assert runner.spec.optimizer.lr == 0.25
