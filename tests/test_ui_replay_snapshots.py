"""SVG snapshots of the replay and compare views at 80x24 and 160x48 (recorded synthetic runs).

Regenerate after an intended change with
`pytest tests/test_ui_replay_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

import pytest

from tests.replay_files import SPEC_A, SPEC_B, record
from tuigrad.sources.compare import compare_source
from tuigrad.sources.replay import ReplaySource
from tuigrad.ui.replay_app import ReplayApp

SIZES = [(80, 24), (160, 48)]


@pytest.fixture
def runs(tmp_path, monkeypatch):
    # Relative names, so that the paths shown are the same on every machine.
    monkeypatch.chdir(tmp_path)
    record(tmp_path / "a.tuigrad", SPEC_A, 40, every=2)
    record(tmp_path / "b.tuigrad", SPEC_B, 30, every=3)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_replay(snap_compare, runs, size):
    source = ReplaySource("a.tuigrad", play=False)
    source.seek(50)
    assert snap_compare(ReplayApp(source), terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_compare(snap_compare, runs, size):
    source = compare_source("a.tuigrad", "b.tuigrad")
    assert snap_compare(ReplayApp(source, compare=True), terminal_size=size)
