"""Reading a run file, finished or still being written."""

from __future__ import annotations

import bisect
import json
import math
import sqlite3
import struct
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from tuigrad import spec as specs
from tuigrad.codec import FRAME_SCALARS, decode_layer_scalars, decode_layers
from tuigrad.errors import RunFileError, TuigradError
from tuigrad.frames import Frame, LayerInfo
from tuigrad.runs import schema
from tuigrad.spec import Spec

FINISHED = "finished"
WRITING = "writing"
STOPPED = "stopped"
QUIET_AFTER = (
    10.0  # seconds without a commit (frames or heartbeat) before a writer counts as stopped
)

_SELECT = f"SELECT {', '.join(schema.FRAME_COLUMNS)} FROM frames"


class RunReader:
    """A run file opened for reading; RunFileError (one line) when it is not a readable run file.

    Frames are addressed by index (0 = first recorded frame; negative counts from the end) or
    by step. The reader keeps the list of recorded steps in memory, so `len`, index -> step and
    step -> index are immediate, and reading one frame is one primary-key lookup. Call
    `refresh()` to pick up frames another process committed since.
    """

    def __init__(self, path: str | Path, quiet_after: float = QUIET_AFTER) -> None:
        self.path = Path(path)
        self.quiet_after = quiet_after
        self._conn = schema.open_for_reading(self.path)
        self._steps: list[int] = []
        self._wall: list[float] = []
        try:
            self.meta = self._read_meta()
            self.layers = _parse_layers(self.meta.get("layers", "[]"))
        except (ValueError, KeyError, TypeError) as exc:
            self.close()
            raise RunFileError(f"{self.path}: damaged run file metadata ({exc})") from None
        self._names = [info.name for info in self.layers]
        self.spec, self.spec_error = _parse_spec(self.meta.get("spec", ""))
        self._seen_update = self.meta.get("updated_at", "")
        self._last_change = time.monotonic() - _age(self._seen_update)
        self._last_refresh = time.monotonic()
        self.refresh()

    # -- what the run is ------------------------------------------------------------------

    @property
    def title(self) -> str:
        return self.meta.get("title", "")

    @property
    def spec_toml(self) -> str:
        return self.meta.get("spec", "")

    @property
    def device(self) -> str:
        return self.meta.get("device", "")

    @property
    def is_finished(self) -> bool:
        """True when the writer closed the file cleanly."""
        return "finished_at" in self.meta

    def writer_state(self) -> str:
        """FINISHED, WRITING, or STOPPED (no commit for `quiet_after` seconds, never finished)."""
        if self.is_finished:
            return FINISHED
        return STOPPED if self.quiet_for() > self.quiet_after else WRITING

    def quiet_for(self) -> float:
        """Seconds since the writer last committed, as far as this reader can tell."""
        return time.monotonic() - self._last_change

    # -- the frames -----------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._steps)

    @property
    def steps(self) -> list[int]:
        """Every recorded step, in order (do not modify)."""
        return self._steps

    @property
    def first_step(self) -> int | None:
        return self._steps[0] if self._steps else None

    @property
    def last_step(self) -> int | None:
        return self._steps[-1] if self._steps else None

    @property
    def duration(self) -> float:
        """Seconds of training covered: the last frame's wall time (NaN without frames)."""
        return self._wall[-1] if self._wall else math.nan

    @property
    def wall_times(self) -> list[float]:
        """Every frame's wall time, in order (do not modify)."""
        return self._wall

    def index_at(self, step: int) -> int:
        """Index of the last frame at or before `step`; 0 when `step` is before the first."""
        return max(0, bisect.bisect_right(self._steps, step) - 1)

    def frame(self, index: int) -> Frame:
        """The frame at `index` (negative counts from the end)."""
        step = self._steps[index]
        rows = self._query(f"{_SELECT} WHERE step = ?", (step,))
        return self._frame(rows[0])

    def frame_at(self, step: int) -> Frame:
        """The frame at or before `step` (the first frame when `step` is before it)."""
        if not self._steps:
            raise IndexError("run file holds no frames")
        return self.frame(self.index_at(step))

    def frames(self, start: int = 0, stop: int | None = None) -> list[Frame]:
        """Frames with indices in [start, stop), like a slice with a step of one."""
        start, stop, _ = slice(start, stop).indices(len(self._steps))
        if start >= stop:
            return []
        rows = self._query(
            f"{_SELECT} WHERE step BETWEEN ? AND ? ORDER BY step",
            (self._steps[start], self._steps[stop - 1]),
        )
        return [self._frame(row) for row in rows]

    def iter_frames(self, chunk: int = 500) -> Iterator[Frame]:
        """Every frame in order, read `chunk` at a time."""
        for start in range(0, len(self._steps), chunk):
            yield from self.frames(start, start + chunk)

    def scalars(self, start: int = 0, stop: int | None = None) -> dict[str, np.ndarray]:
        """Step-level columns (step, loss, ... act_rows) for frames [start, stop), as arrays."""
        start, stop, _ = slice(start, stop).indices(len(self._steps))
        names = ("step", *FRAME_SCALARS, "clipped", "act_rows")
        if start >= stop:
            return {name: np.zeros(0) for name in names}
        rows = self._query(
            f"SELECT {', '.join(names)} FROM frames WHERE step BETWEEN ? AND ? ORDER BY step",
            (self._steps[start], self._steps[stop - 1]),
        )
        table = np.array(rows, dtype=np.float64).reshape(len(rows), len(names))
        return {name: table[:, i] for i, name in enumerate(names)}

    def layer_scalars(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Per-layer statistics (frames, layers, LAYER_SCALARS) for frames [start, stop)."""
        start, stop, _ = slice(start, stop).indices(len(self._steps))
        if start >= stop:
            return np.zeros((0, len(self._names), 0), dtype=np.float32)
        rows = self._query(
            "SELECT layers FROM frames WHERE step BETWEEN ? AND ? ORDER BY step",
            (self._steps[start], self._steps[stop - 1]),
        )
        return np.stack([self._decode(decode_layer_scalars, row[0]) for row in rows])

    def findings(self) -> list[tuple[int, str, dict[str, Any]]]:
        """Recorded diagnosis findings as (step, kind, data), in step order."""
        rows = self._query("SELECT step, kind, data FROM findings ORDER BY step, id", ())
        return [(step, kind, json.loads(data)) for step, kind, data in rows]

    # -- following a growing file ---------------------------------------------------------

    def refresh(self) -> int:
        """Pick up frames committed since the last call; returns how many arrived."""
        after = self._steps[-1] if self._steps else -(2**63)
        rows = self._query(
            "SELECT step, wall_time FROM frames WHERE step > ? ORDER BY step", (after,)
        )
        if rows:
            self._steps += [row[0] for row in rows]
            self._wall += [math.nan if row[1] is None else row[1] for row in rows]
        if not self.is_finished:
            self._refresh_meta()
        return len(rows)

    def _refresh_meta(self) -> None:
        self.meta = self._read_meta()
        if not self._names and "layers" in self.meta:
            self.layers = _parse_layers(self.meta["layers"])
            self._names = [info.name for info in self.layers]
        # The writer's clock dates its last commit; this reader's clock bounds how old that
        # can be (it changed since the previous look), which caps any skew between the two.
        now = time.monotonic()
        update = self.meta.get("updated_at", "")
        if update != self._seen_update:
            self._seen_update = update
            self._last_change = now - min(_age(update), now - self._last_refresh)
        self._last_refresh = now

    # -- plumbing -------------------------------------------------------------------------

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> RunReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _read_meta(self) -> dict[str, str]:
        return dict(self._query("SELECT key, value FROM meta", ()))

    def _query(self, sql: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        try:
            return self._conn.execute(sql, args).fetchall()
        except sqlite3.DatabaseError as exc:
            raise RunFileError(f"{self.path}: damaged run file ({exc})") from None

    def _frame(self, row: tuple[Any, ...]) -> Frame:
        step, *values, clipped, act_rows, blob = row
        scalars = {
            name: math.nan if value is None else value
            for name, value in zip(FRAME_SCALARS, values, strict=True)
        }
        layers = self._decode(decode_layers, blob, self._names)
        return Frame(step=step, clipped=bool(clipped), act_rows=act_rows, layers=layers, **scalars)

    def _decode(self, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except (ValueError, TypeError, struct.error) as exc:
            raise RunFileError(f"{self.path}: damaged frame data ({exc})") from None


def _parse_layers(text: str) -> tuple[LayerInfo, ...]:
    return tuple(
        LayerInfo(
            d["name"],
            d.get("summary", ""),
            tuple(d.get("shape", ())),
            d.get("activation", "identity"),
        )
        for d in json.loads(text)
    )


def _parse_spec(text: str) -> tuple[Spec | None, str]:
    # A spec this tuigrad cannot validate (written by another version) leaves the run readable.
    if not text.strip():
        return None, ""
    try:
        return specs.loads(text, "run file spec"), ""
    except TuigradError as exc:
        return None, str(exc)


def _age(updated_at: str) -> float:
    try:
        return max(0.0, time.time() - float(updated_at))
    except ValueError:
        return math.inf
