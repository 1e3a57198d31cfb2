import csv
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from runs_support import LAYERS, SPEC, write_run
from test_runs_reader import BAD_FILES

from tuigrad import spec as specs
from tuigrad.cli import main
from tuigrad.codec import FRAME_SCALARS
from tuigrad.frames import LAYER_SCALARS

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def recorded(tmp_path):
    path = tmp_path / "run.tuigrad"
    return path, write_run(path, range(0, 100, 2))


def test_inspect_prints_spec_length_and_last_frame(recorded, capsys):
    path, frames = recorded
    assert main(["inspect", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:2] == [f"run       {path}", "title     Three tanh layers"]
    assert "frames    50  (steps 0 to 98)" in lines
    assert "duration  9.8 s" in lines
    assert "writer    finished" in lines
    assert "  [model]" in lines and "  depth = 3" in lines

    last = frames[-1]
    head = next(line for line in lines if line.startswith("last frame"))
    assert head.startswith(f"last frame, step 98: loss {last.loss:.4g}  accuracy nan  lr 0.01")
    table = lines[lines.index(head) + 2 :]
    assert table[0].split()[:3] == ["layer", "summary", "act"]
    for row, layer, info in zip(table[1:], last.layers, LAYERS, strict=True):
        assert row.startswith(f"{layer.name}     {info.summary}")
        expected = [layer.act_mean, layer.act_std, layer.act_saturated, layer.act_dead]
        expected += [
            layer.out_grad_std,
            layer.weight_grad_norm,
            layer.grad_data_ratio,
            layer.update_ratio,
        ]
        assert row.split()[-8:] == [f"{value:.4g}" for value in expected]
    assert table[1].split()[-5] == "nan" and table[2].split()[-3] == "inf"


def test_inspect_json(recorded, capsys):
    path, frames = recorded
    assert main(["inspect", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["frames"], data["first_step"], data["last_step"]) == (50, 0, 98)
    assert data["duration"] == pytest.approx(9.8)
    assert data["writer"] == "finished" and data["device"] == "cpu"
    assert specs.loads(data["spec"]) == SPEC
    assert [layer["name"] for layer in data["layers"]] == ["L1", "L2", "L3"]
    assert data["layers"][0]["shape"] == [8, 8]
    assert data["last_frame"] == json.loads(json.dumps(frames[-1].to_json()))


def test_export_csv(recorded, tmp_path, capsys):
    path, frames = recorded
    out = tmp_path / "csv"
    assert main(["export", str(path), "--csv", str(out)]) == 0
    assert "50 frames" in capsys.readouterr().out

    with (out / "scalars.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 50
    for row, frame in zip(rows, frames, strict=True):
        assert int(row["step"]) == frame.step
        assert int(row["clipped"]) == frame.clipped and int(row["act_rows"]) == frame.act_rows
        for name in FRAME_SCALARS:
            value = float(row[name])
            assert value == getattr(frame, name) or (
                math.isnan(value) and math.isnan(getattr(frame, name))
            )

    with (out / "layers.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 50 * 3
    expected = [(frame.step, layer) for frame in frames for layer in frame.layers]
    for row, (step, layer) in zip(rows, expected, strict=True):
        assert (int(row["step"]), row["layer"]) == (step, layer.name)
        got = np.array([float(row[name]) for name in LAYER_SCALARS], dtype=np.float32)
        assert got.tobytes() == layer.scalars().tobytes()


def test_export_json_lines(recorded, tmp_path, capsys):
    path, frames = recorded
    target = tmp_path / "frames.jsonl"
    assert main(["export", str(path), "--json", str(target)]) == 0
    lines = target.read_text().splitlines()
    assert [json.loads(line) for line in lines] == [
        json.loads(json.dumps(f.to_json())) for f in frames
    ]

    assert main(["export", str(path), "--json"]) == 0
    assert capsys.readouterr().out.splitlines() == lines


@pytest.mark.parametrize("case", ["text", "foreign", "future", "truncated", "corrupt_frames"])
@pytest.mark.parametrize("command", [["inspect"], ["inspect", "--json"], ["export", "--json"]])
def test_bad_files_exit_2_with_one_line(tmp_path, capsys, case, command):
    path = tmp_path / "bad.tuigrad"
    BAD_FILES[case][0](path)
    assert main([command[0], str(path), *command[1:]]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith(f"tuigrad: error: {path}: ")


def test_export_to_an_unwritable_place_is_one_line(recorded, tmp_path, capsys):
    path, _ = recorded
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    assert main(["export", str(path), "--csv", str(blocker / "csv")]) == 2
    err = capsys.readouterr().err
    assert (
        err.startswith(f"tuigrad: error: cannot export to {blocker / 'csv'}: ")
        and err.count("\n") == 1
    )


def test_no_traceback_from_the_command_line(tmp_path):
    path = tmp_path / "bad.tuigrad"
    BAD_FILES["corrupt_schema"][0](path)
    done = subprocess.run(
        [sys.executable, "-m", "tuigrad", "inspect", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 2
    assert (
        done.stderr
        == f"tuigrad: error: {path}: damaged run file (database disk image is malformed)\n"
    )


def test_export_never_writes_over_the_run_file(recorded, capsys):
    path, _ = recorded
    before = path.read_bytes()
    assert main(["export", str(path), "--json", str(path)]) == 2
    assert "that is the run file itself" in capsys.readouterr().err
    assert path.read_bytes() == before
