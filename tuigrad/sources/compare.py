"""Two run files as one timeline: frames merged by step, each layer's two rows side by side."""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from tuigrad import spec as specs
from tuigrad.frames import HISTOGRAMS, LAYER_SCALARS, Frame, LayerInfo, LayerStats
from tuigrad.runs.reader import FINISHED, STOPPED, WRITING, RunReader
from tuigrad.sources.marks import Mark, finding_marks
from tuigrad.sources.replay import ReplaySource

LABELS = ("A", "B")


def align_names(a: Sequence[str], b: Sequence[str]) -> list[str]:
    """Both runs' layer names in model order; a layer only B has goes after B's layer before it."""
    names = list(a)
    previous = -1
    for name in b:
        if name in names:
            previous = names.index(name)
        else:
            previous += 1
            names.insert(previous, name)
    return names


def row_name(name: str, label: str) -> str:
    return f"{name} {label}"


class RunPair:
    """Run files A and B read as one timeline, for ReplaySource (see replay.Timeline).

    Its steps are the union of both runs' steps; at each step, each run shows its last frame
    at or before that step (none before its first frame). A merged frame has one layer row per
    layer and run, interleaved (`L1 A`, `L1 B`, `L2 A`, ...), so one layer table draws both
    runs on one gradient scale; a layer that one run lacks has no numbers in that run's row.
    The merged frame's run-level numbers (loss, accuracy, ...) are A's, or B's before A's first
    frame: `sides(index)` gives each run's own frame.
    """

    def __init__(self, path_a: str | Path, path_b: str | Path) -> None:
        first = RunReader(path_a)
        try:
            second = RunReader(path_b)
        except BaseException:
            first.close()
            raise
        self.readers = (first, second)
        self.paths = (Path(path_a), Path(path_b))
        self.names = align_names(*([i.name for i in r.layers] for r in self.readers))
        self.layers = tuple(self._row_infos())
        self.spec = first.spec
        self.quiet_after = first.quiet_after
        self._build_steps()
        self._sides: dict[int, tuple[Frame | None, Frame | None]] = {}

    # -- what the pair is -------------------------------------------------------------------

    @property
    def title(self) -> str:
        a, b = (r.title or p.stem for r, p in zip(self.readers, self.paths, strict=True))
        return f"A {a} vs B {b}"

    @property
    def device(self) -> str:
        devices = dict.fromkeys(r.device for r in self.readers if r.device)
        return "/".join(devices)

    def spec_diff(self) -> list[tuple[str, Any, Any]] | None:
        """(key, A's value, B's value) for every spec key that differs; None without both specs."""
        a, b = (r.spec for r in self.readers)
        if a is None or b is None:
            return None
        return specs.diff(a, b)

    def spec_problems(self) -> list[str]:
        """Why a run's spec could not be compared, one line per run."""
        out = []
        for label, reader in zip(LABELS, self.readers, strict=True):
            if reader.spec is None:
                why = reader.spec_error or "the file holds no spec"
                out.append(f"{label}: {why}")
        return out

    # -- the timeline -----------------------------------------------------------------------

    @property
    def steps(self) -> list[int]:
        return self._steps

    @property
    def wall_times(self) -> list[float]:
        return self._wall

    def __len__(self) -> int:
        return len(self._steps)

    def index_at(self, step: int) -> int:
        return max(0, bisect.bisect_right(self._steps, step) - 1)

    def frames(self, start: int = 0, stop: int | None = None) -> list[Frame]:
        """Merged frames with union indices in [start, stop)."""
        start, stop, _ = slice(start, stop).indices(len(self._steps))
        if start >= stop:
            return []
        per_run = [self._run_frames(k, start, stop) for k in range(len(self.readers))]
        out = []
        for offset, (fa, fb) in enumerate(zip(*per_run, strict=True)):
            self._remember(start + offset, (fa, fb))
            out.append(self._merge(self._steps[start + offset], fa, fb))
        return out

    def sides(self, index: int) -> tuple[Frame | None, Frame | None]:
        """Run A's and run B's own frame at union index `index` (None before a run's first)."""
        if index not in self._sides:
            self.frames(index, index + 1)
        return self._sides[index]

    def refresh(self) -> int:
        # Compared runs are read as they are when opened.
        return 0

    def writer_state(self) -> str:
        states = {r.writer_state() for r in self.readers}
        if states == {FINISHED}:
            return FINISHED
        return WRITING if WRITING in states else STOPPED

    def finding_marks(self) -> list[Mark]:
        marks = [finding_marks(r, label) for label, r in zip(LABELS, self.readers, strict=True)]
        return sorted(marks[0] + marks[1])

    def close(self) -> None:
        for reader in self.readers:
            reader.close()

    # -- plumbing ---------------------------------------------------------------------------

    def _row_infos(self) -> list[LayerInfo]:
        infos = [{i.name: i for i in r.layers} for r in self.readers]
        rows = []
        for name in self.names:
            for label, known in zip(LABELS, infos, strict=True):
                info = known.get(name)
                if info is None:
                    rows.append(LayerInfo(row_name(name, label), "", ()))
                else:
                    rows.append(replace(info, name=row_name(name, label)))
        return rows

    def _build_steps(self) -> None:
        a, b = (np.asarray(r.steps, dtype=np.int64) for r in self.readers)
        union = np.union1d(a, b)
        self._steps = union.tolist()
        # Per run: the index of its frame shown at each union step (-1 before its first).
        self._index = [np.searchsorted(s, union, side="right") - 1 for s in (a, b)]
        walls = []
        for reader, index in zip(self.readers, self._index, strict=True):
            wall = np.asarray(reader.wall_times + [math.nan], dtype=np.float64)
            walls.append(wall[index])  # index -1 picks the NaN appended
        with np.errstate(invalid="ignore"):
            merged = np.fmax(*walls)
        self._wall = np.fmax.accumulate(np.nan_to_num(merged, nan=0.0)).tolist()

    def _run_frames(self, k: int, start: int, stop: int) -> list[Frame | None]:
        index = self._index[k][start:stop]
        shown = index[index >= 0]
        if not shown.size:
            return [None] * len(index)
        lo = int(shown.min())
        read = self.readers[k].frames(lo, int(shown.max()) + 1)
        return [read[i - lo] if i >= 0 else None for i in index.tolist()]

    def _merge(self, step: int, fa: Frame | None, fb: Frame | None) -> Frame:
        by_run = [{s.name: s for s in f.layers} if f else {} for f in (fa, fb)]
        rows: list[LayerStats] = []
        for name in self.names:
            for label, stats in zip(LABELS, by_run, strict=True):
                if name in stats:
                    rows.append(_renamed(stats[name], row_name(name, label)))
        base = fa if fa is not None else fb
        assert base is not None  # every union step is some run's step
        return replace(base, step=step, layers=tuple(rows))

    def _remember(self, index: int, sides: tuple[Frame | None, Frame | None]) -> None:
        self._sides[index] = sides
        if len(self._sides) > 512:
            self._sides.pop(next(iter(self._sides)))


def _renamed(stats: LayerStats, name: str) -> LayerStats:
    # dataclasses.replace runs the frozen __init__ field by field: too slow for every row of
    # every frame read.
    values = [getattr(stats, key) for key in LAYER_SCALARS]
    hists = tuple(getattr(stats, key) for key in HISTOGRAMS)
    return LayerStats.from_values(name, values, hists)


def compare_source(path_a: str | Path, path_b: str | Path, **options: Any) -> ReplaySource:
    """Runs A and B as one replayable source, opened paused at the end (both runs' last state)."""
    pair = RunPair(path_a, path_b)
    options.setdefault("play", False)
    # Each frame shown is two frames read: a shorter view keeps a seek as fast as a replay's.
    options.setdefault("window", 64)
    source = ReplaySource(pair, **options)
    source.jump_end()
    return source
