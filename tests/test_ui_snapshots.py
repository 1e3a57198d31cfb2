"""SVG snapshots of the builder and the dashboard at 80x24 and 160x48 (scripted frames, no clock).

Regenerate after an intended change with `pytest tests/test_ui_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

import pytest

from tests.ui_frames import fade_out_grads, frames_for, scripted
from tuigrad.sources.scripted import ScriptedSource, spec_layers
from tuigrad.spec import Spec
from tuigrad.ui import TuigradApp

SPEC = Spec(
    title="Eight tanh layers, clipped",
    description="A deterministic scripted run: gradients fade towards the input.",
).with_values({"model.depth": 8, "clip.mode": "norm", "model.3.width": 64, "model.3.norm": "layer"})
SIZES = [(80, 24), (160, 48)]


def _app() -> TuigradApp:
    return TuigradApp(scripted(SPEC, steps=40))


def _sick_app() -> TuigradApp:
    """Gradients fading towards the input, as the diagnosis measures them: vanishing."""
    layers = spec_layers(SPEC)
    return TuigradApp(ScriptedSource(fade_out_grads(frames_for(layers, 40)), layers, spec=SPEC))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_dashboard(snap_compare, size):
    assert snap_compare(_app(), terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_dashboard_gradient_histograms(snap_compare, size):
    assert snap_compare(_app(), press=["h"], terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_builder(snap_compare, size):
    assert snap_compare(_app(), press=["e"], terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_dashboard_findings(snap_compare, size):
    assert snap_compare(_sick_app(), terminal_size=size)


def test_dashboard_findings_opened_at_80x24(snap_compare):
    assert snap_compare(_sick_app(), press=["f"], terminal_size=(80, 24))
