"""The findings panel's text: fits any width and height, follows the selection, says the fix."""

from __future__ import annotations

import math

import pytest

from tuigrad.diagnosis import Finding
from tuigrad.ui.findings import MAX_ROWS, Applied, PanelState, RunSummary, kinds_text, panel_lines
from tuigrad.ui.glyphs import ASCII, UNICODE

WHY = (
    "By the chain rule the gradient at a layer is a product of one factor per layer above it. " * 3
)


def finding(kind: str = "vanishing", severity: str = "error", layers=("L1", "L2", "L3")) -> Finding:
    return Finding(
        kind,
        severity,
        layers,
        4,
        f"{kind} message with numbers 1e-6",
        WHY,
        {"model.init": "xavier_normal"},
    )


def text(lines) -> list[str]:
    return ["".join(run[0] for run in line) for line in lines]


MANY = tuple(
    finding(kind, sev, layers)
    for kind, sev, layers in [
        ("nonfinite", "error", ("L1",)),
        ("vanishing", "error", ("L1", "L2", "L3", "L5")),
        ("collapse", "warning", ("L2",)),
        ("saturation", "warning", ("L4",)),
        ("dead_units", "warning", ("L6",)),
        ("update_ratio", "warning", ()),
        ("no_progress", "warning", ()),
    ]
)


@pytest.mark.parametrize("width", [20, 40, 80, 120, 200])
@pytest.mark.parametrize("height", [1, 3, 6, 12])
@pytest.mark.parametrize("glyphs", [UNICODE, ASCII], ids=["unicode", "ascii"])
def test_every_line_fills_the_width_exactly_within_the_height(width, height, glyphs):
    previous = RunSummary(300, math.nan, 0.35, MANY[:2])
    for state in (
        PanelState(),
        PanelState(MANY, selected=6, can_apply=True, previous=previous),
        PanelState(
            MANY[:1], applied=Applied("vanishing", (("model.init", "normal", "xavier_normal"),))
        ),
        PanelState(failed="ValueError: bad"),
    ):
        lines = text(panel_lines(state, width, height, glyphs))
        assert 1 <= len(lines) <= height
        assert all(len(line) == width for line in lines), lines
        if glyphs is ASCII:
            assert all(ch.isascii() for line in lines for ch in line)


def test_one_line_says_how_many_and_which():
    state = PanelState(MANY[1:3], expanded=False, can_apply=True)
    (line,) = text(panel_lines(state, 100, 10))
    assert line.startswith(" error  2 findings: vanishing at L1-L3, L5, collapse at L2")
    assert "a: apply fix" in line
    (line,) = text(panel_lines(PanelState(expanded=False), 60, 10))
    assert line.startswith(" ok  Diagnosis: no findings ") and line.endswith("  f: details")
    recorded = PanelState(MANY[1:2], expanded=False, can_apply=False)
    assert "apply" not in text(panel_lines(recorded, 100, 1))[0]


def test_the_list_follows_the_selection_and_explains_it():
    for selected in range(len(MANY)):
        lines = text(panel_lines(PanelState(MANY, selected=selected, can_apply=True), 120, 12))
        rows = [ln for ln in lines if ln[:2] in ("▶ ", "  ") and " since step 4" in ln]
        assert len(rows) == MAX_ROWS
        pointed = [ln for ln in rows if ln.startswith("▶")]
        assert len(pointed) == 1 and MANY[selected].kind in pointed[0]
        assert "2 more: j/k to see them" in "\n".join(lines)
        assert any(ln.startswith("  why: By the chain rule") for ln in lines)
        assert "  try: model.init=xavier_normal   a: apply it" in "\n".join(lines)


def test_the_fix_line_says_why_it_cannot_be_applied():
    recording = text(panel_lines(PanelState(MANY[:1], can_apply=False), 120, 8))
    assert any("this run is a recording" in ln for ln in recording)
    present = text(panel_lines(PanelState(MANY[:1], can_apply=True, fix_is_set=True), 120, 8))
    assert any("already set in this experiment" in ln for ln in present)
    bare = Finding("no_progress", "warning", (), 0, "loss flat", "", {})
    assert any(
        "no spec change to suggest" in ln for ln in text(panel_lines(PanelState((bare,)), 80, 6))
    )


def test_the_previous_run_is_compared_with_this_one():
    previous = RunSummary(978, 1.0987, 0.35, MANY[1:3])
    applied = Applied("vanishing", (("model.init", "normal", "xavier_normal"),))
    lines = text(panel_lines(PanelState((), previous=previous, applied=applied), 120, 8))
    assert "  applied: for vanishing: model.init normal → xavier_normal" in lines[1]
    assert lines[2].startswith("  previous run: vanishing at L1-L3, L5, collapse at L2")
    assert "(at step 978: loss 1.099, acc 35%)" in lines[2]
    assert lines[3].rstrip() == "  this run:     none"
    assert kinds_text(()) == "none"
    ascii_ = text(panel_lines(PanelState((), applied=applied), 80, 4, ASCII))
    assert "model.init normal -> xavier_normal" in ascii_[1]


def test_the_keys_stay_at_the_end_of_one_line_when_the_kinds_are_long():
    previous = RunSummary(978, 1.1, 0.35, MANY)
    (line,) = text(
        panel_lines(PanelState(MANY, expanded=False, can_apply=True, previous=previous), 80, 1)
    )
    assert len(line) == 80 and line.endswith("  f: details  a: apply fix")
    assert "…" in line  # the kinds were cut, not the keys


def test_one_line_says_what_was_applied_and_what_the_run_before_showed():
    previous = RunSummary(978, 1.1, 0.35, MANY[1:2])
    applied = Applied("vanishing", (("model.init", "normal", "xavier_normal"),))
    state = PanelState((), expanded=False, previous=previous, applied=applied)
    (line,) = text(panel_lines(state, 120, 1))
    assert "no findings  (before model.init normal → xavier_normal: vanishing at L1-L3, L5)" in line
