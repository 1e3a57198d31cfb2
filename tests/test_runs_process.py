"""Run files shared with another process: killed writers, and following a file being written."""

import json
import os
import select
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from runs_support import make_frame

from tuigrad.runs import RunReader
from tuigrad.sources.base import RunState
from tuigrad.sources.replay import follow

ROOT = Path(__file__).resolve().parent.parent


class Writer:
    """tests/runs_support.py running as a separate writing process."""

    def __init__(self, path: Path, count: int, pause: float, commit_interval: float) -> None:
        env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'tests'}"}
        script = ROOT / "tests" / "runs_support.py"
        args = [
            sys.executable,
            str(script),
            str(path),
            str(count),
            str(pause),
            str(commit_interval),
        ]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
        self.written = 0

    def wait_for(self, key: str, at_least: int = 0, timeout: float = 20.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.1)
            if not ready:
                continue
            line = self.proc.stdout.readline()
            if not line:
                break
            report = json.loads(line)
            self.written = report.get("written", self.written)
            if key in report and report[key] >= at_least:
                return report
        raise AssertionError(f"the writer never reported {key} >= {at_least}")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        # Reports already in the pipe were committed before the kill too.
        for line in self.proc.stdout:
            self.written = json.loads(line).get("written", self.written)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)
        self.proc.stdout.close()


@pytest.fixture
def writers():
    started: list[Writer] = []
    yield lambda *args: started.append(Writer(*args)) or started[-1]
    for writer in started:
        writer.close()


def same_frame(frame, step):
    return frame == replace(make_frame(step), wall_time=frame.wall_time)


class View:
    def __init__(self, source):
        self.source, self.version, self.run_id, self.frames, self.seen_at = (
            source,
            None,
            None,
            [],
            [],
        )

    def poll(self):
        version = self.source.version()
        if version != self.version:
            if self.source.run_id != self.run_id:
                self.frames, self.run_id = [], self.source.run_id
            new = self.source.frames_since(len(self.frames))
            self.frames += new
            self.seen_at += [time.time()] * len(new)
            self.version = version
        return self.source.status()


def test_killed_writer_leaves_every_committed_frame(tmp_path, writers):
    path = tmp_path / "run.tuigrad"
    writer = writers(path, 100_000, 0.002, 0.1)
    writer.wait_for("written", at_least=100)
    writer.kill()
    assert writer.written >= 100

    with RunReader(path, quiet_after=0.3) as reader:
        assert len(reader) >= writer.written
        assert reader.steps == list(range(len(reader)))
        assert all(same_frame(frame, i) for i, frame in enumerate(reader.iter_frames()))
        assert not reader.is_finished
        time.sleep(0.4)
        reader.refresh()
        assert reader.writer_state() == "stopped"


def test_follow_shows_frames_within_a_second_of_writing(tmp_path, writers):
    path = tmp_path / "run.tuigrad"
    count = 60
    writer = writers(path, count, 0.02, 0.25)
    writer.wait_for("started", at_least=True)
    source = follow(path, quiet_after=5.0)
    view = View(source)
    states = []

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        states.append(view.poll().state)
        if states[-1] == RunState.FINISHED and len(view.frames) == count:
            break
        time.sleep(0.02)
    source.close()

    assert [frame.step for frame in view.frames] == list(range(count))
    assert all(same_frame(frame, frame.step) for frame in view.frames)
    assert view.run_id == 0  # frames only ever appended
    latency = [
        seen - frame.wall_time for frame, seen in zip(view.frames, view.seen_at, strict=True)
    ]
    assert max(latency) < 1.0
    assert RunState.RUNNING in states and states[-1] == RunState.FINISHED


def test_follow_says_when_the_writer_stopped(tmp_path, writers):
    path = tmp_path / "run.tuigrad"
    writer = writers(path, 100_000, 0.02, 0.1)
    writer.wait_for("written", at_least=5)
    source = follow(path, quiet_after=1.0)
    view = View(source)
    assert view.poll().state == RunState.RUNNING
    writer.kill()

    deadline = time.monotonic() + 10
    while view.poll().state != RunState.STOPPED and time.monotonic() < deadline:
        time.sleep(0.05)
    status = view.poll()
    source.close()
    assert status.state == RunState.STOPPED
    assert status.message == "the writer stopped: nothing written for over 1 s"
    assert len(view.frames) >= writer.written
    assert all(same_frame(frame, i) for i, frame in enumerate(view.frames))
