"""Replaying a run file, or following one another process is still writing, as a frame source."""

from __future__ import annotations

import bisect
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from tuigrad.errors import RunFileError, TuigradError
from tuigrad.frames import Frame, LayerInfo
from tuigrad.runs.reader import FINISHED, QUIET_AFTER, STOPPED, RunReader
from tuigrad.sources.base import FrameSource, RunState, SourceStatus
from tuigrad.sources.marks import Mark, finding_marks, next_mark
from tuigrad.spec import Spec

SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
FALLBACK_GAP = 1 / 30  # replay seconds per frame where the recording has no usable wall time
MAX_GAP = 1.0  # a pause in the recording replays as at most this long at x1
REFRESH_EVERY = 0.2  # seconds between looks at a followed file
SETTLE_AFTER = 5.0  # seconds a file that appeared may take to become a readable run file


class Timeline(Protocol):
    """What a replay reads: a RunReader, or anything that offers the same frames by index."""

    spec: Spec | None
    layers: tuple[LayerInfo, ...]
    quiet_after: float

    @property
    def title(self) -> str: ...
    @property
    def device(self) -> str: ...
    @property
    def steps(self) -> list[int]: ...
    @property
    def wall_times(self) -> list[float]: ...
    def __len__(self) -> int: ...
    def index_at(self, step: int) -> int: ...
    def frames(self, start: int = 0, stop: int | None = None) -> list[Frame]: ...
    def refresh(self) -> int: ...
    def writer_state(self) -> str: ...
    def close(self) -> None: ...


class ReplaySource(FrameSource):
    """A run file as a frame source, with a cursor the user moves: play, pause, step, seek.

    The cursor is the frame being shown. What the UI sees is a *view*: the frames from a base
    index up to and including the cursor, and `frames_since(i)` returns view[i:]. So:

    - moving forward (playing, `step`, a short jump forward) appends to the view: the version
      changes, the run_id does not, and the UI reads only the new frames;
    - moving backward, or forward by more than `window` frames (seek, jump to start/end),
      bumps `run_id` and rebases the view to end at the cursor and hold at most `window`
      frames: the UI drops what it holds and reads from 0. The UI's last frame is therefore
      always the cursor's frame.

    A UI keeps in step like this (status() reports as of the latest version()):

        version = source.version()
        if version != seen_version:
            if source.run_id != seen_run_id:
                held, seen_run_id = [], source.run_id
            held += source.frames_since(len(held))
            seen_version = version

    Decoded frames are cached, so stepping back and forth costs no disk reads.

    Playing follows the recording's own pace (its wall times), scaled by `speed` (x0.25 to
    x16); a pause in the recording longer than MAX_GAP replays as MAX_GAP. Nothing runs in the
    background: time moves the cursor (and a followed file is looked at) only in `version()`,
    so that `run_id` and `frames_since` stay consistent with the version just read. Poll
    `version()` first, as the UI does. Replay stops at the last frame (state FINISHED);
    `play` there starts over.

    Follow mode (`follow=True`, or `follow(path)`) tails a file another process is writing: it
    looks for new frames every REFRESH_EVERY seconds and starts at the newest frame, playing.
    While playing at the newest frame it stays there as frames arrive ("live"); paused or
    behind, it plays through at `speed` and becomes live again on reaching the end. Its
    state tells the writer's: RUNNING (or PAUSED when the user paused) while the writer
    commits, FINISHED once the writer closed the file, STOPPED when it went quiet for
    `quiet_after` seconds without finishing. A file that cannot be read raises RunFileError
    when opened; one that fails later puts the source in state ERROR.

    `path` may also be an opened Timeline (a RunReader, or two runs merged for comparing).

    Call every method from one thread at a time (a lock guards them anyway).
    """

    controls = frozenset(
        {
            "play",
            "pause",
            "step",
            "step_back",
            "speed",
            "jump_start",
            "jump_end",
            "seek",
            "findings",
        }
    )

    def __init__(
        self,
        path: str | Path | Timeline,
        follow: bool = False,
        *,
        play: bool = True,
        speed: float = 1.0,
        window: int = 128,
        quiet_after: float = QUIET_AFTER,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        is_path = isinstance(path, (str, Path))
        self.reader: Timeline = RunReader(path, quiet_after) if is_path else path
        self.spec = self.reader.spec
        self.title = self.reader.title or (Path(path).stem if is_path else "")
        self.follow = follow
        self.window = max(1, window)
        self.run_id = 0
        self._clock = clock
        self._lock = threading.RLock()
        self._cache: OrderedDict[int, Frame] = OrderedDict()
        self._pace: list[float] = []
        self._extend_pace()
        self._speed = check_speed(speed)
        self._version = 0
        self._error = ""
        self._closed = False
        self._last_refresh = clock()
        self._last_status: SourceStatus | None = None
        self._marks: tuple[int, list[Mark]] | None = None

        n = len(self.reader)
        self._cursor = (n - 1 if follow else 0) if n else -1
        self._base = max(0, self._cursor - self.window + 1)
        self._playing = play
        self._anchor()

    # -- what the UI reads ----------------------------------------------------------------

    @property
    def layers(self) -> tuple[LayerInfo, ...]:  # type: ignore[override]
        return self.reader.layers

    def version(self) -> int:
        with self._lock:
            self._advance()
            return self._version

    def frames_since(self, index: int) -> list[Frame]:
        with self._lock:
            if self._closed:
                return []
            start = self._base + max(0, index)
            return self._frames(start, self._cursor + 1)

    def status(self) -> SourceStatus:
        with self._lock:
            return self._status()

    def close(self) -> None:
        with self._lock:
            self._playing = False
            self._closed = True
            self.reader.close()

    # -- where the cursor is --------------------------------------------------------------

    @property
    def cursor(self) -> int:
        """Index of the frame shown (-1 while the file holds no frames)."""
        return self._cursor

    @property
    def current_step(self) -> int | None:
        return self.reader.steps[self._cursor] if self._cursor >= 0 else None

    @property
    def frame_count(self) -> int:
        return len(self.reader)

    @property
    def playing(self) -> bool:
        return self._playing

    @property
    def speed(self) -> float:
        return self._speed

    @property
    def is_live(self) -> bool:
        """Following, playing, and at the newest frame."""
        return self.follow and self._playing and self._cursor == len(self.reader) - 1

    # -- controls -------------------------------------------------------------------------

    def play(self) -> None:
        with self._lock:
            if not self.follow and self._cursor == len(self.reader) - 1:
                self._goto(0)
            self._playing = True
            self._anchor()
            self._version += 1

    def pause(self) -> None:
        with self._lock:
            self._advance()
            self._playing = False
            self._version += 1

    def toggle(self) -> None:
        """Play when paused, pause when playing."""
        self.pause() if self._playing else self.play()

    def set_speed(self, speed: float) -> None:
        """Playback speed, x0.25 to x16."""
        with self._lock:
            self._advance()
            # Carry on from the replay time reached so far, at the new speed.
            elapsed = (self._clock() - self._anchor_clock) * self._speed
            self._speed = check_speed(speed)
            self._anchor_clock, self._anchor_pace = self._clock(), self._anchor_pace + elapsed
            self._version += 1

    def faster(self) -> None:
        self.set_speed(next((s for s in SPEEDS if s > self._speed), SPEEDS[-1]))

    def slower(self) -> None:
        self.set_speed(next((s for s in reversed(SPEEDS) if s < self._speed), SPEEDS[0]))

    def step(self, n: int = 1) -> None:
        """Pause, and move `n` frames forward (backward when negative)."""
        with self._lock:
            self._advance()
            self._playing = False
            self._goto(self._cursor + n)

    def step_back(self, n: int = 1) -> None:
        self.step(-n)

    def jump_start(self) -> None:
        with self._lock:
            self._goto(0)

    def jump_end(self) -> None:
        with self._lock:
            self._goto(len(self.reader) - 1)

    def seek(self, step: int) -> None:
        """Show the last frame at or before training step `step` (the first frame if none)."""
        with self._lock:
            self._goto(self.reader.index_at(step))

    def seek_index(self, index: int) -> None:
        with self._lock:
            self._goto(index)

    def finding_marks(self) -> list[Mark]:
        """Where the recording's diagnosis findings begin (worked out once per file length)."""
        with self._lock:
            n = len(self.reader)
            if self._marks is None or self._marks[0] != n:
                own = getattr(self.reader, "finding_marks", None)
                marks = own() if own is not None else finding_marks(self.reader)  # type: ignore[arg-type]
                self._marks = (n, marks)
            return self._marks[1]

    def next_finding(self) -> Mark | None:
        """Show the step where the next finding after the cursor begins; None without findings."""
        mark = next_mark(self.finding_marks(), self.current_step)
        if mark is not None:
            with self._lock:
                self._advance()
                self._playing = False
                self._goto(self.reader.index_at(mark.step))
        return mark

    # -- moving the cursor ----------------------------------------------------------------

    def _goto(self, index: int) -> None:
        n = len(self.reader)
        index = min(max(index, 0), n - 1)
        if index != self._cursor:
            if not (self._cursor < index <= self._cursor + self.window):
                self.run_id += 1
                self._base = max(0, index - self.window + 1)
            self._cursor = index
            self._version += 1
        self._anchor()

    def _anchor(self) -> None:
        # Playing measures replay time from here.
        self._anchor_clock = self._clock()
        self._anchor_pace = self._pace[self._cursor] if self._cursor >= 0 else 0.0

    def _advance(self) -> None:
        if self._closed:
            return
        if self.follow and not self._error:
            self._refresh()
        if not self._playing or self._cursor < 0:
            self._check_status()
            return

        n = len(self.reader)
        if self.follow and self._was_live:
            target = n - 1
        else:
            elapsed = (self._clock() - self._anchor_clock) * self._speed
            target = bisect.bisect_right(self._pace, self._anchor_pace + elapsed) - 1
        if target > self._cursor:
            anchor = (self._anchor_clock, self._anchor_pace)
            self._goto(target)
            self._anchor_clock, self._anchor_pace = anchor
        if self._cursor == n - 1 and not self.follow:
            self._playing = False
            self._version += 1
        self._check_status()

    def _refresh(self) -> None:
        now = self._clock()
        self._was_live = self.is_live
        if now - self._last_refresh < REFRESH_EVERY:
            return
        self._last_refresh = now
        try:
            if self.reader.refresh():
                self._extend_pace()
                if self._cursor < 0:
                    self._goto(len(self.reader) - 1)
        except RunFileError as exc:
            self._error = str(exc)
            self._playing = False

    def _extend_pace(self) -> None:
        wall = self.reader.wall_times
        for i in range(len(self._pace), len(wall)):
            gap = wall[i] - wall[i - 1] if i else 0.0
            gap = FALLBACK_GAP if not math.isfinite(gap) or gap < 0 else min(gap, MAX_GAP)
            self._pace.append((self._pace[-1] if i else 0.0) + gap)
        # A recording with no wall times at all plays at a fixed number of frames per second.
        if len(self._pace) > 1 and self._pace[-1] == 0.0:
            self._pace = [i * FALLBACK_GAP for i in range(len(self._pace))]

    # -- status ---------------------------------------------------------------------------

    def _check_status(self) -> None:
        status = self._status()
        if status != self._last_status:
            self._last_status = status
            self._version += 1

    def _status(self) -> SourceStatus:
        device, rate = self.reader.device, self._steps_per_s()
        if self._error:
            return SourceStatus(RunState.ERROR, self._error, device)
        if self.follow:
            state, message = self._follow_state()
        elif self._cursor < 0:
            state, message = RunState.FINISHED, "the recording holds no frames"
        elif self._playing:
            state, message = RunState.RUNNING, f"replay x{self._speed:g}"
        elif self._cursor == len(self.reader) - 1:
            state, message = RunState.FINISHED, "end of the recording"
        else:
            state, message = RunState.PAUSED, f"paused at step {self.current_step}"
        return SourceStatus(state, message, device, rate)

    def _follow_state(self) -> tuple[RunState, str]:
        writer = self.reader.writer_state()
        if writer == FINISHED:
            return RunState.FINISHED, "the writer finished the recording"
        if writer == STOPPED:
            quiet = self.reader.quiet_after
            return RunState.STOPPED, f"the writer stopped: nothing written for over {quiet:g} s"
        if not self._playing:
            return RunState.PAUSED, "paused; the writer is still writing"
        return RunState.RUNNING, "following" if self.is_live else f"catching up x{self._speed:g}"

    def _steps_per_s(self) -> float:
        # The recorded training speed around the cursor.
        c = self._cursor
        k = min(c, 20)
        if k <= 0:
            return 0.0
        steps, wall = self.reader.steps, self.reader.wall_times
        dt = wall[c] - wall[c - k]
        return (steps[c] - steps[c - k]) / dt if math.isfinite(dt) and dt > 0 else 0.0

    # -- reading frames -------------------------------------------------------------------

    def _frames(self, start: int, stop: int) -> list[Frame]:
        out: list[Frame | None] = []
        for i in range(start, stop):
            out.append(self._cache.get(i))
            if out[-1] is not None:
                self._cache.move_to_end(i)

        # Read each run of missing frames with one query.
        i = start
        while i < stop:
            if out[i - start] is not None:
                i += 1
                continue
            j = i
            while j < stop and out[j - start] is None:
                j += 1
            try:
                read = self.reader.frames(i, j)
            except RunFileError as exc:
                self._error = str(exc)
                return [f for f in out[: i - start] if f is not None]
            for k, frame in enumerate(read):
                out[i - start + k] = frame
                self._remember(i + k, frame)
            i = j
        return [f for f in out if f is not None]

    def _remember(self, index: int, frame: Frame) -> None:
        self._cache[index] = frame
        while len(self._cache) > 2 * self.window + 64:
            self._cache.popitem(last=False)

    _was_live = False


def follow(path: str | Path, **options: object) -> ReplaySource:
    """A source tailing a run file another process is writing (see ReplaySource)."""
    return ReplaySource(path, follow=True, **options)  # type: ignore[arg-type]


def wait_for_run(
    path: str | Path,
    *,
    poll: float = REFRESH_EVERY,
    settle: float = SETTLE_AFTER,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Return once `path` is a readable run file: following can start before the writer does.

    A file that is there but still unreadable `settle` seconds after it was first seen is not
    a run file being created: its RunFileError is raised.
    """
    path = Path(path)
    seen_at: float | None = None
    while True:
        if path.exists():
            try:
                RunReader(path).close()
                return
            except RunFileError:
                seen_at = clock() if seen_at is None else seen_at
                if clock() - seen_at >= settle:
                    raise
        sleep(poll)


def check_speed(speed: float) -> float:
    """`speed` as a float if it is one a replay offers; else a TuigradError naming the range."""
    if not SPEEDS[0] <= speed <= SPEEDS[-1]:
        raise TuigradError(
            f"replay speed x{speed:g}: choose from x{SPEEDS[0]:g} to x{SPEEDS[-1]:g}"
        )
    return float(speed)
