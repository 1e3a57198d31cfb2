"""The app on a recording (replay, follow) or on two (compare): replay keys instead of training."""

from __future__ import annotations

import gc
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

    def on_mount(self) -> None:
        # NOTE: Textual runs TuigradApp.on_mount as well, first: it is not called from here.
        self.call_after_refresh(settle_heap)


def settle_heap() -> None:
    """Move everything alive now (the run's index, the app) out of the collector's way.

    NOTE: a seek decodes a window of frames, allocating enough to trigger a full collection
    now and then, which walked every object of the process: 20 ms on a quiet machine and
    200 ms on a busy one, where the seek itself takes 4. Frozen objects are not walked again.
    """
    gc.collect()
    gc.freeze()
