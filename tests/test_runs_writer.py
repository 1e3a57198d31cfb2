import json
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from runs_support import LAYERS, SPEC, make_frame, write_run

from tuigrad import spec as specs
from tuigrad.errors import RunFileError
from tuigrad.runs import RunReader, RunWriter, check_writable, default_path

ROOT = Path(__file__).resolve().parent.parent


def test_default_path_has_time_and_title_slug():
    when = datetime(2025, 3, 4, 5, 6, 7)
    path = default_path("Six tanh layers at N(0, 0.01)", now=when)
    assert path == Path("runs/20250304-050607-six-tanh-layers-at-n-0-0-01.tuigrad")
    assert default_path("!!!", now=when).name == "20250304-050607-run.tuigrad"


def test_check_writable_creates_folders(tmp_path):
    target = tmp_path / "a" / "b" / "run.tuigrad"
    assert check_writable(target) == target
    assert target.parent.is_dir() and not target.exists()
    assert list(target.parent.iterdir()) == []


@pytest.mark.parametrize("case", ["folder", "exists", "under_a_file"])
def test_unwritable_target_is_one_line_error_before_writing(tmp_path, case):
    (tmp_path / "file").write_text("x")
    target = {
        "folder": tmp_path,
        "exists": tmp_path / "file",
        "under_a_file": tmp_path / "file" / "r.tuigrad",
    }[case]
    with pytest.raises(RunFileError) as err:
        RunWriter(target, SPEC, LAYERS)
    message = str(err.value)
    assert "\n" not in message and str(target) in message
    assert (tmp_path / "file").read_text() == "x"


def test_overwrite_replaces_an_existing_file(tmp_path):
    path = tmp_path / "r.tuigrad"
    write_run(path, range(5))
    with RunWriter(path, SPEC, LAYERS, overwrite=True) as writer:
        writer.write(make_frame(100))
    with RunReader(path) as reader:
        assert reader.steps == [100]


def test_meta_holds_spec_versions_layers_and_finish(tmp_path):
    path = tmp_path / "r.tuigrad"
    write_run(path, range(3))
    with RunReader(path) as reader:
        assert reader.spec == SPEC
        assert reader.title == "Three tanh layers"
        assert reader.layers == LAYERS
        assert reader.device == "cpu"
        assert reader.meta["python_version"] == ".".join(map(str, sys.version_info[:3]))
        assert reader.meta["tuigrad_version"]
        assert json.loads(reader.meta["histograms"])["grad_log_range"] == [-20.0, 5.0]
        assert reader.is_finished and reader.writer_state() == "finished"
        assert reader.meta["dropped"] == "0"
    # A finished file is one self-contained file, readable by any SQLite.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.tuigrad"]
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert (
        specs.loads(conn.execute("SELECT value FROM meta WHERE key='spec'").fetchone()[0]) == SPEC
    )
    assert conn.execute("SELECT step, loss, clipped FROM frames WHERE step=1").fetchone() == (
        1,
        0.5,
        0,
    )
    conn.close()


def test_findings_and_extra_meta_are_recorded(tmp_path):
    path = tmp_path / "r.tuigrad"
    with RunWriter(path, SPEC, LAYERS) as writer:
        writer.write(make_frame(0))
        assert writer.add_finding(0, "vanishing", {"layer": "L3", "ratio": 1e-6})
        assert writer.set_meta("end", "stopped by the user")
    with RunReader(path) as reader:
        assert reader.findings() == [(0, "vanishing", {"layer": "L3", "ratio": 1e-6})]
        assert reader.meta["end"] == "stopped by the user"


def test_layers_come_from_the_first_frame_when_not_given(tmp_path):
    path = tmp_path / "r.tuigrad"
    with RunWriter(path) as writer:
        writer.write(make_frame(0))
    with RunReader(path) as reader:
        assert [info.name for info in reader.layers] == ["L1", "L2", "L3"]
        assert reader.frame(0) == make_frame(0)
        assert reader.spec is None and reader.spec_toml == ""


def test_out_of_order_and_foreign_frames_are_skipped(tmp_path):
    path = tmp_path / "r.tuigrad"
    with RunWriter(path, SPEC, LAYERS) as writer:
        assert writer.write(make_frame(5))
        assert not writer.write(make_frame(5))
        assert not writer.write(make_frame(2))
        assert not writer.write(make_frame(6, n_layers=2))
        assert writer.write(make_frame(9))
    assert writer.skipped == 3
    with RunReader(path) as reader:
        assert reader.steps == [5, 9]
        assert reader.meta["dropped"] == "3"


def test_full_queue_drops_frames_instead_of_blocking(tmp_path):
    path = tmp_path / "r.tuigrad"
    writer = RunWriter(path, SPEC, LAYERS, queue_size=8, commit_interval=0.01)
    frames = [make_frame(step) for step in range(100)]

    # Another connection holds the write lock: the writer thread waits, its queue fills.
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    time.sleep(0.05)
    started = time.perf_counter()
    accepted = [writer.write(frame) for frame in frames]
    elapsed = time.perf_counter() - started
    blocker.execute("ROLLBACK")
    blocker.close()
    writer.close()

    assert elapsed < 0.5
    assert writer.error is None
    assert 0 < writer.dropped == accepted.count(False)
    with RunReader(path) as reader:
        kept = [frame for frame, ok in zip(frames, accepted, strict=True) if ok]
        assert reader.frames() == kept
        assert reader.meta["dropped"] == str(writer.dropped)


def test_frames_written_steadily_are_seen_within_the_commit_interval(tmp_path):
    # A frame every 5 ms for 0.6 s, committed every 0.2 s: a follower sees each frame within
    # about the commit interval, and the file's data version (one per commit) moves a few
    # times, not once per frame.
    path = tmp_path / "r.tuigrad"
    writer = RunWriter(path, SPEC, LAYERS, commit_interval=0.2)
    watcher = sqlite3.connect(path, isolation_level=None)
    versions, late = set(), []
    for step in range(120):
        writer.write(make_frame(step))
        versions.add(watcher.execute("PRAGMA data_version").fetchone()[0])
        time.sleep(0.005)
    written = time.monotonic()
    while watcher.execute("SELECT count(*) FROM frames").fetchone()[0] < 120:
        late.append(time.monotonic() - written)
        time.sleep(0.01)
    writer.close()
    watcher.close()
    assert 2 <= len(versions) <= 8
    assert not late or late[-1] < 0.5
    with RunReader(path) as reader:
        assert reader.frames() == [make_frame(step) for step in range(120)]


def test_a_frame_after_a_quiet_spell_is_seen_at_once(tmp_path):
    # The thread sleeps until the heartbeat while nothing comes; a frame wakes it.
    path = tmp_path / "r.tuigrad"
    writer = RunWriter(path, SPEC, LAYERS, commit_interval=0.05, heartbeat=30)
    reader = RunReader(path)
    for step in (0, 1):
        time.sleep(0.3)
        writer.write(make_frame(step))
        deadline = time.monotonic() + 1
        while len(reader) <= step and time.monotonic() < deadline:
            time.sleep(0.01)
            reader.refresh()
        assert reader.steps == list(range(step + 1))
    writer.close()
    reader.close()


FULL_DISK = """
import resource, signal, sys, json
from runs_support import LAYERS, SPEC, make_frame
from tuigrad.runs import RunWriter
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (300_000, 300_000))
writer = RunWriter(sys.argv[1], SPEC, LAYERS, commit_interval=0.01)
steps = 0
for step in range(3000):
    writer.write(make_frame(step))
    steps += 1  # training goes on whatever happens to the recording
writer.close()
print(json.dumps({"steps": steps, "error": writer.error, "written": writer.written}))
"""


def test_full_disk_stops_recording_not_training(tmp_path):
    path = tmp_path / "r.tuigrad"
    env = {"PYTHONPATH": f"{ROOT}:{ROOT / 'tests'}", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", FULL_DISK, str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["steps"] == 3000
    assert result["error"].startswith(f"recording to {path} stopped:")
    assert "\n" not in result["error"]
    with RunReader(path) as reader:
        assert 0 < len(reader) < 3000
        assert reader.frames() == [make_frame(step) for step in range(len(reader))]
        assert not reader.is_finished


def test_write_is_cheap_for_the_trainer(tmp_path):
    frames = [replace(make_frame(0), step=step) for step in range(2000)]
    with RunWriter(tmp_path / "r.tuigrad", SPEC, LAYERS) as writer:
        started = time.perf_counter()
        for frame in frames:
            writer.write(frame)
        per_frame = (time.perf_counter() - started) / len(frames)
    assert writer.dropped == 0
    assert per_frame < 200e-6


def test_runs_and_replay_import_neither_torch_nor_textual():
    code = (
        "import sys, tuigrad.runs, tuigrad.runs.export, tuigrad.sources.replay, "
        "tuigrad.cli.inspect_cmd, tuigrad.cli.export_cmd; "
        "print(sorted(m for m in ('torch', 'textual') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.stdout.strip() == "[]", done.stderr


def test_no_pickle_in_run_files():
    sources = [
        *(ROOT / "tuigrad" / "runs").glob("*.py"),
        ROOT / "tuigrad" / "sources" / "replay.py",
    ]
    assert all("pickle" not in path.read_text() for path in sources)


def test_numpy_numbers_are_recorded_as_plain_numbers(tmp_path):
    path = tmp_path / "r.tuigrad"
    frame = replace(make_frame(0), step=np.int64(4), loss=np.float32(0.25), act_rows=np.int32(8))
    with RunWriter(path, SPEC, LAYERS) as writer:
        writer.write(frame)
    assert writer.error is None
    with RunReader(path) as reader:
        back = reader.frame(0)
    assert (back.step, back.loss, back.act_rows) == (4, 0.25, 8)


def test_an_exception_in_training_leaves_the_run_unfinished(tmp_path):
    path = tmp_path / "r.tuigrad"
    with pytest.raises(RuntimeError), RunWriter(path, SPEC, LAYERS) as writer:
        writer.write(make_frame(0))
        raise RuntimeError("loss exploded")
    with RunReader(path) as reader:
        assert len(reader) == 1 and not reader.is_finished


def test_a_finding_that_is_not_json_is_refused(tmp_path):
    with RunWriter(tmp_path / "r.tuigrad", SPEC, LAYERS) as writer:
        assert not writer.add_finding(0, "exploding", {"ratio": float("nan")})
        assert not writer.add_finding(0, "exploding", {"frame": object()})
