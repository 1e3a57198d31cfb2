"""The app on a live run that is being recorded: says where each run's file is, and failures."""

from __future__ import annotations

from typing import Any

from tuigrad.runs.recorder import Recorder
from tuigrad.sources.base import FrameSource
from tuigrad.ui.app import TuigradApp

MESSAGE_TIMEOUT_S = 8.0


class RecordingApp(TuigradApp):
    """TuigradApp that shows the recorder's sentences (file names, compare hints, a full disk)."""

    def __init__(self, source: FrameSource, recorder: Recorder, **options: Any) -> None:
        super().__init__(source, **options)
        self.recorder = recorder

    def poll(self) -> bool:
        changed = super().poll()
        for notice in self.recorder.take_notices():
            self.notify(
                notice.text,
                title="Recording",
                severity="error" if notice.failed else "information",
                timeout=MESSAGE_TIMEOUT_S,
            )
        return changed
