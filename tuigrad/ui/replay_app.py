"""The app on a recording (replay, follow) or on two (compare): replay keys instead of training."""

from __future__ import annotations

from typing import Any

from tuigrad.sources.replay import ReplaySource
from tuigrad.ui.app import TuigradApp
from tuigrad.ui.screens.replay import ReplayScreen


class ReplayApp(TuigradApp):
    """Shows a ReplaySource; `compare` shows a pair of runs (a RunPair) with their differences."""

    def __init__(self, source: ReplaySource, *, compare: bool = False, **options: Any) -> None:
        super().__init__(source, **options)
        if compare:
            from tuigrad.ui.screens.compare import CompareScreen

            self.dashboard = CompareScreen()
            # NOTE: the interleaved rows of two runs are not one network: diagnosing them as one
            # would compare run A's layers with run B's. `f` still jumps to each run's findings.
            self.diagnoses = False
        else:
            self.dashboard = ReplayScreen()
