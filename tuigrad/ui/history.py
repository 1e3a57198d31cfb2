"""What the dashboard remembers of the run it shows: bounded numpy buffers, no torch, no Textual."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from tuigrad.frames import HISTOGRAMS, Frame, Hist, LayerStats

RUN_SERIES = ("step", "loss", "accuracy", "lr", "grad_norm", "grad_norm_clipped", "clipped")


class Series:
    """A growing series of floats kept under `cap` points: when full, neighbours are averaged
    and from then on each stored point is the mean of `stride` incoming values.

    The mean of a group with a NaN is NaN, so a non-finite value stays visible after compaction.
    """

    def __init__(self, cap: int = 4096) -> None:
        self._data = np.empty(cap, dtype=np.float64)
        self._n = 0
        self._pending = np.empty(0)  # raw values of a group not yet complete
        self.stride = 1  # incoming values per stored point

    def __len__(self) -> int:
        return self._n + (1 if len(self._pending) else 0)

    def extend(self, values: np.ndarray) -> None:
        raw = np.concatenate([self._pending, np.asarray(values, dtype=np.float64)])
        while True:
            full = len(raw) // self.stride
            if self._n + full <= len(self._data):
                break
            raw = np.concatenate([self._compact(), raw])
        groups = raw[: full * self.stride].reshape(full, self.stride).mean(axis=1)
        self._data[self._n : self._n + full] = groups
        self._n += full
        self._pending = raw[full * self.stride :]

    def values(self) -> np.ndarray:
        """The stored points, then the mean of the incomplete group if there is one."""
        if len(self._pending):
            return np.append(self._data[: self._n], self._pending.mean())
        return self._data[: self._n]

    def resample(self, width: int) -> np.ndarray:
        """At most `width` points: the mean of equal runs of stored points, NaN kept as NaN."""
        data = self.values()
        if len(data) <= width or width <= 0:
            return data
        edges = np.linspace(0, len(data), width + 1).astype(int)
        sums = np.add.reduceat(data, edges[:-1])
        return sums / np.diff(edges)

    def _compact(self) -> np.ndarray:
        """Halve the stored points; returns the odd one out as raw values of the next group."""
        n = self._n - self._n % 2
        odd = np.repeat(self._data[n], self.stride) if self._n % 2 else np.empty(0)
        self._data[: n // 2] = self._data[:n].reshape(-1, 2).mean(axis=1)
        self._n = n // 2
        self.stride *= 2
        return odd


class RunHistory:
    """Run-level series over the whole run, and per-layer values over the last `window` frames."""

    def __init__(self, names: Sequence[str], run_id: int = 0, window: int = 512) -> None:
        self.names = tuple(names)
        self.run_id = run_id
        self.window = window
        self.count = 0  # frames received
        self.latest: Frame | None = None
        self.series = {key: Series() for key in RUN_SERIES}
        self.recent_clipped = np.zeros(window, dtype=bool)
        # (window, layers) ring buffers of log10 weight-gradient norm and update ratio.
        self._grad_log = np.full((window, len(self.names)), np.nan)
        self.update_log = np.full(len(self.names), np.nan)
        self.hists: dict[str, list[Hist | None]] = {k: [None] * len(self.names) for k in HISTOGRAMS}
        self.layer_stats: list[LayerStats | None] = [None] * len(self.names)
        self.nonfinite_since: int | None = None  # first step with a non-finite loss or norm
        self.min_loss = math.nan  # lowest finite loss so far

    def add(self, frames: Sequence[Frame]) -> None:
        if not frames:
            return
        self._add_run_series(frames)
        index = {name: i for i, name in enumerate(self.names)}
        # Frames older than the window would be overwritten at once: count them, skip them.
        self.count += max(0, len(frames) - self.window)
        for frame in frames[-self.window :]:
            row = np.full(len(self.names), np.nan)
            for layer in frame.layers:
                i = index.get(layer.name)
                if i is not None:
                    row[i] = layer.weight_grad_norm_log10
            self._grad_log[self.count % self.window] = row
            self.recent_clipped[self.count % self.window] = frame.clipped
            self.count += 1
        self._take_latest(frames, index)

    def _add_run_series(self, frames: Sequence[Frame]) -> None:
        cols = np.array([[getattr(f, key) for key in RUN_SERIES] for f in frames], dtype=np.float64)
        for j, key in enumerate(RUN_SERIES):
            self.series[key].extend(cols[:, j])
        losses = cols[:, 1][np.isfinite(cols[:, 1])]
        if losses.size:
            self.min_loss = float(np.fmin(self.min_loss, losses.min()))
        if self.nonfinite_since is None:
            bad = ~np.isfinite(cols[:, [1, 4]]).all(axis=1)
            if bad.any():
                self.nonfinite_since = int(cols[int(np.argmax(bad)), 0])

    def _take_latest(self, frames: Sequence[Frame], index: dict[str, int]) -> None:
        self.latest = frames[-1]
        for layer in self.latest.layers:
            i = index.get(layer.name)
            if i is not None:
                self.layer_stats[i] = layer
                self.update_log[i] = layer.update_ratio_log10
        # Histograms may be sampled less often than scalars: keep each layer's newest one.
        wanted = {(kind, i) for kind in HISTOGRAMS for i in range(len(self.names))}
        for frame in reversed(frames):
            for layer in frame.layers:
                i = index.get(layer.name)
                for kind in HISTOGRAMS:
                    hist = getattr(layer, kind)
                    if hist is not None and (kind, i) in wanted:
                        self.hists[kind][i] = hist
                        wanted.discard((kind, i))
            if not wanted:
                break

    def grad_log(self, last: int) -> np.ndarray:
        """(k, layers) log10 weight-grad norms of the last k <= `last` frames, oldest first."""
        k = min(last, self.count, self.window)
        if k <= 0:
            return self._grad_log[:0]
        end = self.count % self.window
        order = (np.arange(end - k, end)) % self.window
        return self._grad_log[order]

    def clip_rate(self, last: int = 100) -> float:
        """Fraction of the last `last` sampled frames in which clipping acted (NaN if none)."""
        k = min(last, self.count, self.window)
        if k == 0:
            return math.nan
        end = self.count % self.window
        return float(self.recent_clipped[np.arange(end - k, end) % self.window].mean())
