import time

import pytest
from runs_support import LAYERS, SPEC, make_frame, write_run

from tuigrad.errors import TuigradError
from tuigrad.runs import RunWriter
from tuigrad.sources.base import RunState
from tuigrad.sources.replay import FALLBACK_GAP, ReplaySource


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class View:
    """What a UI holds, kept in step the way the class docstring says."""

    def __init__(self, source: ReplaySource) -> None:
        self.source, self.version, self.run_id, self.frames = source, None, None, []

    def poll(self) -> list:
        version = self.source.version()
        if version != self.version:
            if self.source.run_id != self.run_id:
                self.frames, self.run_id = [], self.source.run_id
            self.frames += self.source.frames_since(len(self.frames))
            self.version = version
        return self.frames


@pytest.fixture
def recorded(tmp_path):
    path = tmp_path / "run.tuigrad"
    return path, write_run(path, range(0, 100, 2))  # 50 frames, wall time 0.1 s per step


def open_source(path, **options):
    clock = Clock()
    return ReplaySource(path, clock=clock, **options), clock


def test_starts_at_the_first_frame_and_plays_at_the_recorded_pace(recorded):
    path, frames = recorded
    source, clock = open_source(path)
    view = View(source)
    assert view.poll() == frames[:1]
    assert source.status().state == RunState.RUNNING

    clock.now += 0.45  # 0.2 s of wall time per frame
    assert view.poll() == frames[:3]
    source.set_speed(4)
    clock.now += 0.5  # 2 s of recording
    assert view.poll() == frames[:13]
    assert source.current_step == 24 and source.run_id == 0


def test_stops_at_the_end_and_play_starts_over(recorded):
    path, frames = recorded
    source, clock = open_source(path, speed=16)
    view = View(source)
    clock.now += 100
    assert view.poll() == frames
    assert not source.playing
    assert source.status().state == RunState.FINISHED
    source.play()
    assert view.poll() == frames[:1] and source.playing


def test_stepping_back_rebases_and_the_last_frame_is_the_cursor(recorded):
    path, frames = recorded
    source, clock = open_source(path, play=False, window=5)
    view = View(source)
    source.step(3)
    assert view.poll() == frames[:4] and source.run_id == 0
    source.step_back()
    assert view.poll() == frames[:3] and source.run_id == 1
    assert source.status().state == RunState.PAUSED
    assert source.status().message == "paused at step 4"


def test_jumps_and_seeks_hold_at_most_a_window(recorded):
    path, frames = recorded
    source, clock = open_source(path, play=False, window=5)
    view = View(source)
    source.jump_end()
    assert view.poll() == frames[45:]
    source.seek(51)
    assert view.poll() == frames[21:26]
    assert source.current_step == 50
    source.step(5)
    assert view.poll() == frames[21:31]  # a short step forward appends
    source.seek(-10)
    assert view.poll() == frames[:1]
    source.jump_start()
    assert view.poll() == frames[:1]


def test_playing_faster_than_the_window_rebases(recorded):
    path, frames = recorded
    source, clock = open_source(path, window=4, speed=16)
    view = View(source)
    view.poll()
    clock.now += 0.25  # 4 s of recording = 20 frames
    assert view.poll() == frames[17:21]


def test_stepping_back_and_forth_reads_the_file_once(recorded):
    path, frames = recorded
    source, clock = open_source(path, play=False, window=10)
    reads = []
    original = source.reader.frames
    source.reader.frames = lambda a, b: reads.append((a, b)) or original(a, b)
    view = View(source)
    source.seek_index(20)
    view.poll()
    for _ in range(3):
        source.step_back()
        view.poll()
        source.step()
        view.poll()
    assert view.frames == frames[10:21]
    assert reads == [(11, 21), (10, 11)]


def test_speed_is_checked_and_cycles(recorded):
    path, _ = recorded
    source, _ = open_source(path)
    with pytest.raises(TuigradError, match=r"replay speed x32: choose from x0.25 to x16"):
        source.set_speed(32)
    source.slower()
    source.slower()
    source.slower()
    assert source.speed == 0.25
    for _ in range(8):
        source.faster()
    assert source.speed == 16


def test_missing_wall_times_play_at_a_steady_rate(tmp_path):
    path = tmp_path / "run.tuigrad"
    write_run(path, range(10), wall=0.0)
    source, clock = open_source(path)
    view = View(source)
    clock.now += 4.5 * FALLBACK_GAP
    assert len(view.poll()) == 5


def test_long_pauses_in_the_recording_replay_as_one_second(tmp_path):
    path = tmp_path / "run.tuigrad"
    frames = [make_frame(0, wall=0.0), make_frame(1, wall=1000.0), make_frame(2, wall=1000.5)]
    with RunWriter(path, SPEC, LAYERS) as writer:
        for frame in frames:
            writer.write(frame)
    source, clock = open_source(path)
    view = View(source)
    clock.now += 0.9
    assert view.poll() == frames[:1]
    clock.now += 0.2
    assert view.poll() == frames[:2]
    clock.now += 0.5
    assert view.poll() == frames


def test_empty_recording(tmp_path):
    path = tmp_path / "empty.tuigrad"
    write_run(path, [])
    source, _ = open_source(path)
    assert View(source).poll() == []
    assert source.cursor == -1 and source.current_step is None
    source.step()
    source.jump_end()
    assert source.status().state == RunState.FINISHED


def test_a_closed_source_is_quiet(recorded):
    path, _ = recorded
    source, clock = open_source(path, follow=True)
    version = source.version()
    source.close()
    clock.now += 10
    assert source.version() == version
    assert source.frames_since(0) == []


def test_follow_pauses_catches_up_and_goes_live(tmp_path):
    path = tmp_path / "run.tuigrad"
    writer = RunWriter(path, SPEC, LAYERS, commit_interval=0.01)

    def write(steps):
        for step in steps:
            writer.write(make_frame(step))
        time.sleep(0.15)  # committed

    write(range(5))
    source, clock = open_source(path, follow=True)
    view = View(source)
    assert view.poll()[-1].step == 4 and source.is_live

    source.pause()
    write(range(5, 10))
    clock.now += 0.2
    view.poll()
    assert (source.frame_count, source.current_step) == (10, 4)
    assert source.status().message == "paused; the writer is still writing"

    source.play()
    clock.now += 0.25  # 0.1 s of wall time per frame
    view.poll()
    assert source.current_step == 6
    assert source.status().message == "catching up x1"
    clock.now += 1.0
    view.poll()
    assert source.current_step == 9

    write([10])
    clock.now += 0.2
    view.poll()
    assert source.current_step == 10 and source.status().message == "following"

    writer.close()
    clock.now += 0.2
    assert view.poll() == [make_frame(step) for step in range(11)]
    assert source.status().state == RunState.FINISHED and source.run_id == 0
