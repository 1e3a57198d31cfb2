"""The incremental Diagnoser, the text output, and the building blocks the rules share."""

from __future__ import annotations

import math
import subprocess
import sys
import time

import numpy as np
import pytest
from rich.console import Console

from tests.diagnosis_factory import Run
from tuigrad.diagnosis import Diagnoser, Finding, diagnose
from tuigrad.diagnosis.table import fmt, layer_label, nanmedian, run_start, smooth_hold
from tuigrad.diagnosis.text import finding_lines, findings_table
from tuigrad.spec import Spec


def broken_run(steps: int = 60) -> Run:
    run = Run(steps=steps)
    run.stats["out_grad_std"][:, :3] *= 1e-3
    run.stats["act_saturated"][:, 2:6] = 0.5
    return run


# Diagnoser ----------------------------------------------------------------------------------


@pytest.mark.parametrize("chunk", [1, 7, 60])
def test_diagnoser_agrees_with_diagnose(chunk):
    run = broken_run()
    frames = run.frames()
    diag = Diagnoser(run.layers, Spec(), every=5)
    for i in range(0, len(frames), chunk):
        diag.push(frames[i : i + chunk])
    diag.refresh()
    assert diag.findings == diagnose(frames, run.layers, Spec())
    assert [f.kind for f in diag.findings] == ["vanishing", "saturation"]


def test_diagnoser_shows_step_0_findings_at_once():
    run = broken_run(steps=1)
    diag = Diagnoser(run.layers, every=50)
    assert diag.push(run.frames()) is True
    assert {f.kind for f in diag.findings} == {"vanishing", "saturation"}


def test_diagnoser_keeps_since_step_beyond_its_window():
    run = broken_run(steps=400)
    diag = Diagnoser(run.layers, every=10, window=50)
    for frame in run.frames():
        diag.push([frame])
    assert [f.since_step for f in diag.findings] == [0, 0]


def test_diagnoser_reports_change_and_stops_after_the_numbers_break():
    run = Run(steps=40)
    run.glob["loss"][30:] = math.nan
    frames = run.frames()
    diag = Diagnoser(run.layers, every=100)
    assert diag.push(frames[:20]) is False  # refreshed (early frames), nothing found: no change
    assert diag.findings == []
    assert diag.push(frames[20:29]) is False
    assert diag.push(frames[29:31]) is True  # non-finite refreshes at once
    assert [(f.kind, f.since_step) for f in diag.findings] == [("nonfinite", 30)]
    assert diag.push(frames[31:]) is False


def test_diagnoser_reset_forgets_the_run():
    run = broken_run(steps=10)
    diag = Diagnoser(run.layers)
    diag.push(run.frames())
    assert diag.findings
    diag.reset(spec=Spec().with_values({"model.init": "normal"}))
    assert diag.findings == []
    diag.push(run.frames())
    assert diag.findings[0].fix == {"model.init": "xavier_normal"}


def test_diagnoser_is_cheap_on_50_layers_and_1000_frames():
    run = Run(steps=1000, depth=49, noise=0.2)
    run.stats["out_grad_std"][:, :10] *= 1e-4
    frames = run.frames()
    diag = Diagnoser(run.layers, Spec())
    start = time.process_time()
    for frame in frames:
        diag.push([frame])
    per_frame = (time.process_time() - start) / len(frames)
    assert [f.kind for f in diag.findings] == ["vanishing"]
    assert per_frame < 3e-3  # measured ~0.5 ms on a loaded 2-core machine


def test_diagnose_samples_long_runs_but_keeps_the_first_broken_frame():
    run = Run(steps=3000, depth=3)
    run.glob["loss"][1234:] = math.nan
    found = diagnose(run.frames(), run.layers)
    assert [(f.kind, f.since_step) for f in found] == [("nonfinite", 1234)]


def test_diagnose_without_layer_info_uses_the_frame_names():
    run = broken_run()
    found = diagnose(run.frames())
    # Without activations there is no saturation to speak of, and the head is not known.
    assert [f.kind for f in found] == ["vanishing"]


# Text ---------------------------------------------------------------------------------------


def test_finding_lines():
    f = Finding(
        "vanishing",
        "warning",
        ("L1", "L2", "L3", "L5"),
        12,
        "L1-L3, L5 receive gradients 1e3x smaller than L6",
        "chain rule",
        {"model.init": "xavier_normal", "clip.max_norm": 0.5},
    )
    assert finding_lines([f], explain=True) == [
        "Diagnosis: 1 finding",
        "  WARNING vanishing (L1-L3, L5, since step 12)",
        "          L1-L3, L5 receive gradients 1e3x smaller than L6",
        "          why: chain rule",
        "          try: --set model.init=xavier_normal --set clip.max_norm=0.5",
    ]
    assert finding_lines([]) == ["Diagnosis: no problems found."]


def test_findings_table_renders_every_finding():
    found = diagnose(
        broken_run().frames(), broken_run().layers, Spec().with_values({"model.init": "normal"})
    )
    console = Console(width=160, record=True, color_system=None)
    console.print(findings_table(found))
    text = console.export_text()
    assert "vanishing" in text and "saturation" in text and "model.init=xavier_normal" in text
    assert "L1-L3, since step 0" in text


# Building blocks ----------------------------------------------------------------------------


def test_smooth_hold_is_a_majority_of_the_last_k():
    rng = np.random.default_rng(1)
    cond = rng.random((40, 3)) < 0.5
    got = smooth_hold(cond, 5)
    for t in range(40):
        window = cond[max(0, t - 4) : t + 1]
        assert (got[t] == (window.sum(axis=0) * 2 > len(window))).all()


def test_run_start_finds_the_last_unbroken_run():
    hold = np.array([[1, 0, 1], [0, 0, 1], [1, 0, 1], [1, 1, 1]], dtype=bool)
    assert run_start(hold).tolist() == [2, 3, 0]
    cond = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [1, 1, 0]], dtype=bool)
    assert run_start(hold, cond).tolist() == [1, 2, 0]


def test_nanmedian_matches_numpy():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((9, 6))
    x[rng.random(x.shape) < 0.3] = np.nan
    x[:, 0] = np.nan
    x[0, 1] = np.inf
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        want = np.nanmedian(x, axis=0)
    np.testing.assert_array_equal(nanmedian(x, 0), want)
    np.testing.assert_array_equal(nanmedian(x.T, 1), want)


def test_layer_label_and_fmt():
    assert layer_label(["L1", "L2", "L3", "L5", "L7", "L8", "head"]) == "L1-L3, L5, L7-L8, head"
    assert (
        layer_label([f"block.{i}" for i in range(7)])
        == "block.0, block.1, block.2, block.3, block.4, 2 more"
    )
    assert [fmt(x) for x in (0.0, 0.5312, 750.0, 3.2e-9, 1.5e12, math.nan, -math.inf)] == [
        "0",
        "0.53",
        "750",
        "3.2e-9",
        "1.5e+12",
        "nan",
        "-inf",
    ]


def test_diagnosis_imports_neither_torch_nor_textual():
    code = "import sys, tuigrad.diagnosis; print(sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'textual', 'rich'}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
