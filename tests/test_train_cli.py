"""`tuigrad train` headless: the table, the findings, JSON frames with findings, --record."""

from __future__ import annotations

import json
import sqlite3

import pytest

from tuigrad import presets
from tuigrad.cli import main
from tuigrad.diagnosis import diagnose
from tuigrad.engine.trainer import Trainer
from tuigrad.frames import Frame
from tuigrad.runs import RunReader

# Small versions of two presets: a healthy net and one whose symmetry never breaks.
SMALL = ["--set", "model.depth=3", "--set", "model.width=16", "--set", "data.samples=512"]
HEALTHY = ["default", "--steps", "30", "--every", "5", *SMALL]
SYMMETRIC = ["zero-init", "--steps", "30", "--every", "5", *SMALL]


def _spec(name: str):
    values = {"model.depth": 3, "model.width": 16, "data.samples": 512, "probe.every": 5}
    return presets.load_preset(name).with_values(values)


def test_train_prints_the_table_then_no_findings(capsys):
    assert main(["train", *HEALTHY]) == 0
    out = capsys.readouterr().out
    assert "A healthy deep net on the spiral" in out and "step 29" in out
    assert out.index("L3") < out.index("Diagnosis: no problems found.")


def test_train_prints_the_findings_after_the_table(capsys):
    assert main(["train", *SYMMETRIC]) == 0
    out = capsys.readouterr().out
    table, findings = out.split("Diagnosis", 1)
    assert "head" in table
    assert "error" in findings and "symmetry" in findings
    assert "L1-L3, since step 0" in findings
    assert "model.init=xavier_normal" in findings


def test_json_frames_carry_the_findings_current_at_each_frame(capsys):
    assert main(["train", *SYMMETRIC, "--json"]) == 0
    lines = capsys.readouterr().out.splitlines()
    objs = [json.loads(line) for line in lines]
    assert [o["step"] for o in objs] == [0, 5, 10, 15, 20, 25, 29]

    # Contract: kind, severity, layers, since_step, message, fix on every finding.
    for obj in objs:
        for f in obj["findings"]:
            assert {"kind", "severity", "layers", "since_step", "message", "fix"} <= set(f)
    assert [f["kind"] for f in objs[0]["findings"]] == ["symmetry"]  # found at the first frame

    # The last frame's findings are a diagnosis of every frame, recomputed on a second run.
    trainer, frames = _train("zero-init", 30)
    assert [f.step for f in frames] == [o["step"] for o in objs]
    expected = [f.to_json() for f in diagnose(frames, trainer.layers, trainer.spec)]
    assert objs[-1]["findings"] == json.loads(json.dumps(expected))
    assert objs[-1]["findings"][0]["fix"] == {"model.init": "xavier_normal"}


def _train(name: str, steps: int) -> tuple[Trainer, list[Frame]]:
    trainer = Trainer(_spec(name))
    frames = [trainer.step(measure=True if k == steps - 1 else None) for k in range(steps)]
    return trainer, [f for f in frames if f is not None]


def test_record_writes_frames_and_findings_that_inspect_lists(tmp_path, capsys):
    path = tmp_path / "runs" / "zero.tuigrad"
    assert main(["train", *SYMMETRIC, "--record", str(path)]) == 0
    assert f"recorded 7 frames to {path}" in capsys.readouterr().err

    with RunReader(path) as reader:
        assert reader.steps == [0, 5, 10, 15, 20, 25, 29]
        assert reader.is_finished
        assert [(step, kind) for step, kind, _ in reader.findings()] == [(0, "symmetry")]
        assert reader.findings()[0][2]["fix"] == {"model.init": "xavier_normal"}

    assert main(["inspect", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Diagnosis: 1 finding (as recorded while the run trained)" in out
    assert "ERROR   symmetry (L1-L3, since step 0)" in out
    assert "try: --set model.init=xavier_normal" in out

    assert main(["inspect", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["findings_source"] == "recorded"
    assert [(f["kind"], f["since_step"]) for f in data["findings"]] == [("symmetry", 0)]


def test_inspect_diagnoses_the_frames_when_no_findings_were_recorded(tmp_path, capsys):
    path = tmp_path / "zero.tuigrad"
    assert main(["train", *SYMMETRIC, "--record", str(path)]) == 0
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM findings")
    capsys.readouterr()

    assert main(["inspect", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["findings_source"] == "diagnosed"
    with RunReader(path) as reader:
        expected = diagnose(reader.frames(), reader.layers, reader.spec)
    assert data["findings"] == json.loads(json.dumps([f.to_json() for f in expected]))
    assert [f["kind"] for f in data["findings"]] == ["symmetry"]


@pytest.mark.parametrize("target", ["folder", "existing"])
def test_unwritable_record_target_fails_before_training(tmp_path, capsys, target):
    path = tmp_path / "run.tuigrad"
    if target == "folder":
        path.mkdir()
    else:
        path.write_text("not a run")
    assert main(["train", *HEALTHY, "--record", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"tuigrad: error: cannot record to {path}")
    assert "steps in" not in captured.err


def test_a_run_that_overflows_reports_and_records_nonfinite(tmp_path, capsys):
    path = tmp_path / "exploding.tuigrad"
    assert main(["train", "exploding", "--steps", "20", "--json", "--record", str(path)]) == 0
    captured = capsys.readouterr()
    objs = [json.loads(line) for line in captured.out.splitlines()]  # NaN written as null
    assert objs[-1]["loss"] is None or objs[-1]["grad_norm"] is None
    assert objs[-1]["findings"][0]["kind"] == "nonfinite"
    assert objs[-1]["findings"][0]["since_step"] == objs[-1]["step"]
    assert "stopped: non-finite" in captured.err

    with RunReader(path) as reader:
        assert reader.meta["stopped"].startswith("non-finite")
        assert "nonfinite" in [kind for _, kind, _ in reader.findings()]
