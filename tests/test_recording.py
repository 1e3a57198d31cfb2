"""Recording live runs: one file per run, the default path, --record and --no-record, failures."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ui_frames import frames_for
from tuigrad.cli import build_parser, main, open_cmd
from tuigrad.engine.layout import layer_infos
from tuigrad.runs import Recorder, RunReader
from tuigrad.runs.recorder import Notice
from tuigrad.sources.live import _LiveBase
from tuigrad.spec import Spec

ROOT = Path(__file__).resolve().parent.parent
SPEC = Spec(title="Three tanh layers").with_values({"model.depth": 3})


class FedSource(_LiveBase):
    """The live source's buffer and recording, fed frames by the test instead of a trainer."""

    def __init__(self, spec: Spec, recorder: Recorder | None) -> None:
        super().__init__(spec, recorder=recorder)
        self.commands: list[str] = []

    def _command(self, name: str, **args) -> None:
        self.commands.append(name)

    def feed(self, frames) -> None:
        for frame in frames:
            self._add_frame(self.run_id, frame)

    def close(self) -> None:
        self._close_recorder()


def same_steps(path: Path, frames) -> bool:
    with RunReader(path) as reader:
        return reader.steps == [f.step for f in frames] and reader.is_finished


def test_each_run_goes_to_its_own_file(tmp_path):
    target = tmp_path / "run.tuigrad"
    recorder = Recorder(target)
    source = FedSource(SPEC, recorder)
    first = frames_for(layer_infos(SPEC), 5)
    source.feed(first)
    assert recorder.path == target

    source.reset(reseed=True)  # a new run: the next frames go to run-2.tuigrad
    source.reset()  # a run that never trained leaves no file
    second = frames_for(layer_infos(SPEC), 3, seed=1)
    source.feed(second)
    source.close()

    second_path = tmp_path / "run-2.tuigrad"
    assert recorder.paths == [target, second_path]
    assert same_steps(target, first) and same_steps(second_path, second)
    with RunReader(second_path) as reader:
        assert reader.spec == source.spec and reader.layers == source.layers
    assert recorder.take_notices() == [
        Notice(f"Recording to {target}"),
        Notice(f"Recording to {second_path}; compare: tuigrad compare {target} {second_path}"),
    ]


def test_frames_of_a_run_before_a_reset_are_not_recorded(tmp_path):
    recorder = Recorder(tmp_path / "r.tuigrad")
    source = FedSource(SPEC, recorder)
    frames = frames_for(layer_infos(SPEC), 4)
    source.feed(frames[:2])
    source.reset()
    source._add_frame(0, frames[2])  # still in flight from the old run
    source.close()
    assert recorder.paths == [tmp_path / "r.tuigrad"]
    assert same_steps(tmp_path / "r.tuigrad", frames[:2])


def test_the_default_file_is_under_runs_in_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    recorder = Recorder()
    source = FedSource(SPEC, recorder)
    source.feed(frames_for(layer_infos(SPEC), 2))
    source.close()
    (path,) = recorder.paths
    assert path.parent == Path("runs") and path.name.endswith("-three-tanh-layers.tuigrad")
    assert (tmp_path / path).is_file()


def _args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["open", *argv])


def test_open_records_by_default_and_not_with_no_record(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    recorder = open_cmd.make_recorder(_args(), SPEC)
    assert recorder is not None and recorder.target is None
    assert (tmp_path / "runs").is_dir()
    assert open_cmd.make_recorder(_args("--no-record"), SPEC) is None
    # A headless screenshot leaves no recording behind unless asked.
    shot = ("--steps", "3", "--screenshot", "x.svg")
    assert open_cmd.make_recorder(_args(*shot), SPEC) is None
    chosen = open_cmd.make_recorder(_args(*shot, "--record", "r.tuigrad"), SPEC)
    assert chosen is not None and chosen.target == Path("r.tuigrad")


@pytest.mark.parametrize("kind", ["exists", "folder", "under a file"])
def test_an_unwritable_record_target_is_refused_before_training(
    tmp_path, monkeypatch, capsys, kind
):
    target = {
        "exists": tmp_path / "old.tuigrad",
        "folder": tmp_path,
        "under a file": tmp_path / "notes.txt" / "r.tuigrad",
    }[kind]
    (tmp_path / "old.tuigrad").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("not a folder")
    started = []
    monkeypatch.setattr(open_cmd, "live_source", lambda *a: started.append(a))
    assert main(["open", "--record", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"tuigrad: error: cannot record to {target}")
    assert len(err.strip().splitlines()) == 1 and started == []


def test_record_and_no_record_exclude_each_other(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["open", "--record", "x.tuigrad", "--no-record"])
    assert exit_.value.code == 2 and "not allowed with" in capsys.readouterr().err


def test_a_headless_run_records_real_training_to_the_chosen_file(tmp_path, monkeypatch, capsys):
    from tuigrad.sources.live import ThreadLiveSource

    def live(spec, recorder=None):
        return ThreadLiveSource(spec, recorder=recorder)

    monkeypatch.setattr(open_cmd, "live_source", live)
    path = tmp_path / "r.tuigrad"
    tiny = ["device=cpu", "model.depth=2", "model.width=8", "data.samples=96", "data.batch_size=16"]
    argv = ["open", *[a for kv in tiny for a in ("--set", kv)]]
    argv += ["--steps", "5", "--screenshot", str(tmp_path / "s.svg"), "--record", str(path)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert f"recorded {path}" in out
    with RunReader(path) as reader:
        # Five steps at the default sampling: the first, and the last, where it paused.
        assert reader.is_finished and reader.steps == [0, 4]
        assert [i.name for i in reader.layers] == ["L1", "L2", "head"]


FULL_DISK = """
import asyncio, json, resource, signal, sys
sys.path.insert(0, ".")
from tests.test_recording import FedSource, SPEC
from tests.ui_frames import frames_for, screen_text
from tuigrad.engine.layout import layer_infos
from tuigrad.runs import Recorder
from tuigrad.ui.recording import RecordingApp

signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))
recorder = Recorder(sys.argv[1], commit_interval=0.01)
source = FedSource(SPEC, recorder)
frames = frames_for(layer_infos(SPEC), 400)

async def main():
    app = RecordingApp(source, recorder)
    async with app.run_test(size=(120, 30)) as pilot:
        for k in range(0, 400, 20):
            source.feed(frames[k : k + 20])
            await pilot.pause(0.02)
        await pilot.pause(0.2)
        app.poll()
        await pilot.pause()
        print(json.dumps({
            "frames": len(source.frames_since(0)),
            "error": recorder.error,
            "notes": [n.message for n in app._notifications],
            "screen": screen_text(app),
        }))

asyncio.run(main())
"""


def test_a_full_disk_stops_recording_with_a_message_not_the_training(tmp_path):
    path = tmp_path / "r.tuigrad"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", FULL_DISK, str(path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["frames"] == 400  # every frame still reached the dashboard
    assert result["error"].startswith(f"recording to {path} stopped:")
    assert any("training goes on without recording" in n for n in result["notes"])
    assert f"recording to {path} stopped" in result["screen"]
    with RunReader(path) as reader:
        assert 0 < len(reader) < 400


def test_a_file_that_cannot_be_created_is_said_once(tmp_path):
    target = tmp_path / "sub" / "r.tuigrad"
    recorder = Recorder(target)
    source = FedSource(SPEC, recorder)
    (tmp_path / "sub").write_text("a file where the folder was")
    source.feed(frames_for(layer_infos(SPEC), 3))
    assert recorder.paths == [] and recorder.error.startswith(f"cannot record to {target}")
    assert recorder.error in source.status().message
    (notice,) = recorder.take_notices()
    assert notice.failed and notice.text.endswith("training goes on without recording")
    source.close()


def test_a_file_that_appeared_meanwhile_is_not_overwritten(tmp_path):
    target = tmp_path / "r.tuigrad"
    recorder = Recorder(target)
    source = FedSource(SPEC, recorder)
    target.write_text("someone else's")
    source.feed(frames_for(layer_infos(SPEC), 3))
    source.close()
    assert recorder.paths == [tmp_path / "r-2.tuigrad"]
    assert target.read_text() == "someone else's"


async def test_the_app_names_each_recording_and_after_a_reset_how_to_compare(tmp_path):
    from tuigrad.ui.recording import RecordingApp

    recorder = Recorder(tmp_path / "r.tuigrad")
    source = FedSource(SPEC, recorder)
    app = RecordingApp(source, recorder)

    async def notes(count: int) -> list[str]:
        # The notice comes with the next poll: on a busy machine that can take a while.
        for _ in range(100):
            if len(app._notifications) >= count:
                break
            await pilot.pause(0.05)
        return [n.message for n in app._notifications]

    async with app.run_test(size=(120, 30)) as pilot:
        source.feed(frames_for(layer_infos(SPEC), 3))
        assert await notes(1) == [f"Recording to {tmp_path / 'r.tuigrad'}"]
        await pilot.press("r")  # reset: the next frames start a new file
        await pilot.pause()
        assert source.commands[-1] == "reset"
        source.feed(frames_for(layer_infos(SPEC), 2))
        last = (await notes(2))[-1]
        first, second = tmp_path / "r.tuigrad", tmp_path / "r-2.tuigrad"
        assert last == f"Recording to {second}; compare: tuigrad compare {first} {second}"
    source.close()
    assert same_steps(second, frames_for(layer_infos(SPEC), 2))
