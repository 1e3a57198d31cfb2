import sqlite3
import time

import pytest
from runs_support import LAYERS, SPEC, make_frame, write_run

from tuigrad.errors import RunFileError
from tuigrad.runs import RunReader, RunWriter


@pytest.fixture
def run_file(tmp_path):
    path = tmp_path / "run.tuigrad"
    frames = write_run(path, range(0, 500, 5))
    return path, frames


def test_counts_steps_and_duration(run_file):
    path, frames = run_file
    with RunReader(path) as reader:
        assert len(reader) == 100
        assert (reader.first_step, reader.last_step) == (0, 495)
        assert reader.duration == pytest.approx(49.5)
        assert reader.frame(-1) == frames[-1]


@pytest.mark.parametrize(
    "step, index", [(-3, 0), (0, 0), (4, 0), (5, 1), (6, 1), (494, 98), (495, 99), (10**9, 99)]
)
def test_frame_at_is_the_frame_at_or_before_a_step(run_file, step, index):
    path, frames = run_file
    with RunReader(path) as reader:
        assert reader.index_at(step) == index
        assert reader.frame_at(step) == frames[index]


def test_ranges_read_like_slices(run_file):
    path, frames = run_file
    with RunReader(path) as reader:
        assert reader.frames(10, 20) == frames[10:20]
        assert reader.frames(-3) == frames[-3:]
        assert reader.frames(50, 40) == []
        assert list(reader.iter_frames(chunk=7)) == frames


def test_columns_match_the_frames(run_file):
    path, frames = run_file
    with RunReader(path) as reader:
        columns = reader.scalars(5, 15)
        table = reader.layer_scalars(5, 15)
    assert columns["step"].tolist() == [f.step for f in frames[5:15]]
    assert columns["grad_norm"].tolist() == [f.grad_norm for f in frames[5:15]]
    assert columns["clipped"].tolist() == [float(f.clipped) for f in frames[5:15]]
    assert table.shape == (10, 3, 14)
    for row, frame in zip(table, frames[5:15], strict=True):
        for values, layer in zip(row, frame.layers, strict=True):
            assert values.tobytes() == layer.scalars().tobytes()


def test_refresh_picks_up_committed_frames(tmp_path):
    path = tmp_path / "run.tuigrad"
    writer = RunWriter(path, SPEC, LAYERS, commit_interval=0.05)
    reader = RunReader(path)
    assert len(reader) == 0 and reader.writer_state() == "writing"
    for step in range(10):
        writer.write(make_frame(step))
    deadline = time.monotonic() + 2
    while len(reader) < 10 and time.monotonic() < deadline:
        time.sleep(0.02)
        reader.refresh()
    assert reader.frames() == [make_frame(step) for step in range(10)]
    writer.close()
    reader.refresh()
    assert reader.writer_state() == "finished"
    reader.close()


def test_a_quiet_unfinished_file_counts_as_stopped(tmp_path):
    path = tmp_path / "run.tuigrad"
    writer = RunWriter(path, SPEC, LAYERS, commit_interval=0.01, heartbeat=0.05)
    writer.write(make_frame(0))
    reader = RunReader(path, quiet_after=0.3)
    time.sleep(0.4)
    reader.refresh()
    assert reader.writer_state() == "writing"  # the heartbeat keeps it alive
    writer.close(finished=False)
    time.sleep(0.4)
    reader.refresh()
    assert reader.writer_state() == "stopped"
    reader.close()


# -- files that are not readable run files ------------------------------------------------


def _foreign(path):
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE frames (x)")
    conn.commit()
    conn.close()


def _future(path):
    write_run(path, range(3))
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()


def _truncated(path):
    write_run(path, range(200))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _cut_header(path):
    write_run(path, range(3))
    path.write_bytes(path.read_bytes()[:60])


def _corrupt_schema(path):
    write_run(path, range(200))
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\xa5" * (4096 - 100)
    path.write_bytes(bytes(data))


def _corrupt_frames(path):
    write_run(path, range(200))
    data = bytearray(path.read_bytes())
    for page in range(2 * 4096, len(data), 4096):
        data[page : page + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))


BAD_FILES = {
    "missing": (lambda p: None, "no such file"),
    "folder": (lambda p: p.mkdir(), "not a file"),
    "empty": (lambda p: p.write_bytes(b""), "empty file, not a tuigrad run file"),
    "text": (lambda p: p.write_text("step,loss\n0,1.0\n"), "not a tuigrad run file (not an SQLite"),
    "foreign": (_foreign, "an SQLite database, but not a tuigrad run file"),
    "future": (_future, "written by a newer tuigrad (run file version 99"),
    "truncated": (_truncated, "truncated run file ("),
    "cut_header": (_cut_header, "truncated run file (60 bytes)"),
    "corrupt_schema": (_corrupt_schema, "damaged run file"),
    "corrupt_frames": (_corrupt_frames, "damaged"),
}


def open_and_read_all(path):
    with RunReader(path) as reader:
        reader.frames()
        reader.layer_scalars()


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_files_give_one_line_errors(tmp_path, case):
    make, expected = BAD_FILES[case]
    path = tmp_path / "bad.tuigrad"
    make(path)
    with pytest.raises(RunFileError) as err:
        open_and_read_all(path)
    message = str(err.value)
    assert message.startswith(f"{path}: ")
    assert expected in message
    assert "\n" not in message
