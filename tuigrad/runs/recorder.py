"""Recording a live run: one run file per run, a new file after each reset, reseed or new spec."""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tuigrad.errors import RunFileError
from tuigrad.frames import Frame, LayerInfo
from tuigrad.runs.writer import SUFFIX, RunWriter, default_path
from tuigrad.spec import Spec

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Notice:
    """A sentence for the user about the recording; `failed` when recording stopped."""

    text: str
    failed: bool = False


def numbered(path: Path, n: int) -> Path:
    """`runs/x.tuigrad`, 2 -> `runs/x-2.tuigrad` (n = 1 is the path itself)."""
    if n <= 1:
        return path
    suffix = path.suffix or SUFFIX
    return path.with_name(f"{path.name.removesuffix(suffix)}-{n}{suffix}")


class Recorder:
    """Records each run of a live source to its own file, never stopping the training.

    target: the first run's file (later runs get `-2`, `-3`... before the suffix), or None for
    `runs/<time>-<title>.tuigrad` under `root`, named when each run starts. A run's file is
    created when its first frame arrives, so a run that never trained leaves no file.

    A file that cannot be created, or a full disk, stops recording that run: `error` says why,
    and `take_notices()` hands the sentence to whoever shows it. Frames keep flowing to the
    UI either way. The source calls `begin` (from the UI's thread) when a run starts and
    `write` (from the thread that receives frames); a lock orders the two.
    """

    def __init__(
        self, target: str | Path | None = None, root: str | Path = "runs", **writer_options: Any
    ) -> None:
        self.target = Path(target) if target is not None else None
        self.root = Path(root)
        self.paths: list[Path] = []  # every file created, in order
        self._options = writer_options
        self._lock = threading.Lock()
        self._notices: deque[Notice] = deque()
        self._run: tuple[int, Spec | None, tuple[LayerInfo, ...]] | None = None
        self._writer: RunWriter | None = None
        self._failed = ""  # why the current run is not being recorded
        self._closed = False

    @property
    def path(self) -> Path | None:
        """The file of the current run, once created."""
        return self._writer.path if self._writer is not None else None

    @property
    def error(self) -> str | None:
        """Why the current run is not (or no longer) being recorded; None while all is well."""
        writer = self._writer
        return self._failed or (writer.error if writer is not None else None) or None

    def begin(self, run_id: int, spec: Spec | None, layers: Sequence[LayerInfo]) -> None:
        """A new run starts: finish the previous run's file; the next frames go to a new one."""
        with self._lock:
            self._finish()
            self._run = (run_id, spec, tuple(layers))
            self._failed = ""

    def write(self, run_id: int, frame: Frame, device: str = "") -> bool:
        """Record one frame of run `run_id`; False when it was not recorded (never raises)."""
        with self._lock:
            if self._closed or self._run is None or run_id != self._run[0] or self._failed:
                return False
            if self._writer is None and not self._open(device):
                return False
            writer = self._writer
        if writer.write(frame):
            return True
        if writer.error is not None and not self._failed:
            self._failed = writer.error
            self._say(f"{writer.error}; training goes on without recording", failed=True)
        return False

    def close(self) -> None:
        """Finish the current file; later frames are not recorded."""
        with self._lock:
            self._closed = True
            self._finish()

    def take_notices(self) -> list[Notice]:
        """What the user should be told since the last call: file names, failures."""
        out = []
        while self._notices:
            out.append(self._notices.popleft())
        return out

    # -- plumbing ---------------------------------------------------------------------------

    def _open(self, device: str) -> bool:
        _, spec, layers = self._run  # type: ignore[misc]
        try:
            self._writer = RunWriter(
                self._next_path(spec), spec, layers, device=device, **self._options
            )
        except RunFileError as exc:
            self._failed = str(exc)
            self._say(f"{exc}; training goes on without recording", failed=True)
            return False
        path = self._writer.path
        previous = self.paths[-1] if self.paths else None
        self.paths.append(path)
        if previous is None:
            self._say(f"Recording to {path}")
        else:
            self._say(f"Recording to {path}; compare: tuigrad compare {previous} {path}")
        return True

    def _next_path(self, spec: Spec | None) -> Path:
        base = self.target or default_path(spec.title if spec else "run", self.root)
        n = 1 if self.target is None else len(self.paths) + 1
        while numbered(base, n).exists():
            n += 1
        return numbered(base, n)

    def _finish(self) -> None:
        # TODO: close in the background; folding a long run's WAL back in can take a moment,
        # and this runs on the UI's thread when the user resets.
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()
            if writer.error and not self._failed:
                log.warning("%s", writer.error)

    def _say(self, text: str, failed: bool = False) -> None:
        log.log(logging.WARNING if failed else logging.INFO, "%s", text)
        self._notices.append(Notice(text, failed))
