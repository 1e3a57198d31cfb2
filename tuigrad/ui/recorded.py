"""A recording's run-level series from its first frame to the cursor, for the replay's charts.

The replay's history holds only the frames of its view (at most the source's window), so its
charts would start over after every seek. These columns are read once (and extended as a
followed file grows), then cut at the cursor: the charts show the whole run up to the frame
shown.
"""

from __future__ import annotations

import numpy as np

from tuigrad.frames import Frame
from tuigrad.runs.reader import RunReader
from tuigrad.ui.history import RUN_SERIES, RunHistory, Series


class RecordedSeries:
    """The run-level columns of a RunReader's frames, for RunHistory-shaped chart input."""

    def __init__(self, reader: RunReader) -> None:
        self.reader = reader
        self._cols = {key: np.zeros(0) for key in RUN_SERIES}
        self._read = 0
        self._cached: tuple[int, int, RunHistory] | None = None

    def history(self, cursor: int, latest: Frame | None) -> RunHistory:
        """A RunHistory of the run-level series of frames 0..cursor (no layer data)."""
        self._catch_up()
        key = (cursor, self._read)
        if self._cached is not None and self._cached[:2] == key:
            self._cached[2].latest = latest
            return self._cached[2]
        history = RunHistory(())
        end = max(cursor + 1, 0)
        for name in RUN_SERIES:
            # Room for every point: no compaction, and the charts resample it to their width.
            series = history.series[name] = Series(cap=max(end, 1))
            series.extend(self._cols[name][:end])
        losses = self._cols["loss"][:end]
        finite = losses[np.isfinite(losses)]
        if finite.size:
            history.min_loss = float(finite.min())
        history.count = end
        history.latest = latest
        self._cached = (*key, history)
        return history

    def _catch_up(self) -> None:
        n = len(self.reader)
        if n <= self._read:
            return
        new = self.reader.scalars(self._read, n)
        for name in RUN_SERIES:
            self._cols[name] = np.concatenate([self._cols[name], new[name]])
        self._read = n
