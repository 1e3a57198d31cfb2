"""Live frame sources: a trainer in a spawned child process, or in a thread of this one.

`LiveSource` keeps torch out of this process entirely: the child imports it, trains, and sends
each frame back as codec bytes over a pipe; commands go the other way as JSON. No pickle is
used for either (multiprocessing itself only hands the child its end of the pipe). A reader
thread here appends frames to a list behind a lock and bumps the version counter; the UI polls.

Memory: the buffer keeps the most recent `max_frames` frames. When it is full the oldest tenth
is dropped at once. Positions stay absolute: `frames_since(i)` counts every frame the run has
produced, so a reader that asks for its own count keeps working after a drop (it only misses
frames that are gone). A run file keeps the whole run.

Recording: given a Recorder, each frame is also queued for the run file as it arrives, and a
reset starts a new file.

NOTE: the recorder lives in the UI's process, fed by the thread that receives frames, not in
the training process. Its thread encodes frames and talks to SQLite in Python, holding the
GIL for a few tens of microseconds per frame; here that time is taken from the UI's event loop,
which has it to spare between redraws, while in the child it would be taken from the training
thread at every sampled step. It also means a run file never needs torch, and a training
process that hangs or dies still leaves a file closed cleanly.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import struct
import threading
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from tuigrad import codec
from tuigrad import spec as specs
from tuigrad.engine.layout import layer_infos
from tuigrad.frames import Frame
from tuigrad.sources.base import FrameSource, LiveControls, RunState, SourceStatus
from tuigrad.spec import Spec

if TYPE_CHECKING:
    from tuigrad.runs.recorder import Recorder

log = logging.getLogger(__name__)

MAX_FRAMES = 20_000
# The buffer holds frames the UI has not read yet (the UI keeps its own history), so it is
# bounded by memory too: a decoded 20-layer frame with histograms is about 50 KB.
MAX_BUFFER_BYTES = 16 * 2**20
MIN_FRAMES = 100
CLOSE_TIMEOUT_S = 3.0
# The controls a live trainer offers, by the names the dashboard's keys check.
CONTROLS = frozenset({"start", "pause", "step", "run", "reset", "reseed", "lr", "clip"})
_RUN_ID = struct.Struct("<I")


class _LiveBase(FrameSource, LiveControls):
    """The buffer and controls shared by both hosts; subclasses deliver commands."""

    controls = CONTROLS

    def __init__(
        self, spec: Spec, max_frames: int = MAX_FRAMES, recorder: Recorder | None = None
    ) -> None:
        if max_frames < 1:
            raise ValueError("max_frames must be at least 1")
        self.spec = spec
        self.title = spec.title
        self.layers = layer_infos(spec)
        self.run_id = 0
        self.max_frames = max_frames
        self._lock = threading.Lock()
        self._frames: list[Frame] = []
        self._dropped = 0  # frames dropped from the front: absolute index of _frames[0]
        self._limit: int | None = None  # frames held at most, set from the run's first frame
        self._version = 0
        self._status = SourceStatus(RunState.IDLE, "starting the trainer")
        self._closed = False
        self.recorder = recorder
        if recorder is not None:
            recorder.begin(self.run_id, spec, self.layers)

    # ---- FrameSource -----------------------------------------------------------------------

    def version(self) -> int:
        with self._lock:
            return self._version

    def frames_since(self, index: int) -> list[Frame]:
        """Frames from absolute position `index` on (0: every frame still held)."""
        with self._lock:
            return self._frames[max(index - self._dropped, 0) :]

    def status(self) -> SourceStatus:
        with self._lock:
            status = self._status
        problem = self.recorder.error if self.recorder is not None else None
        if problem:
            message = f"{status.message}; {problem}" if status.message else problem
            status = replace(status, message=message)
        return status

    @property
    def frame_count(self) -> int:
        """Frames this run has produced, dropped ones included."""
        with self._lock:
            return self._dropped + len(self._frames)

    # ---- LiveControls ----------------------------------------------------------------------

    def start(self) -> None:
        self._command("start")

    def pause(self) -> None:
        self._command("pause")

    def step_once(self) -> None:
        self._command("run", n=1)

    def run_steps(self, n: int) -> None:
        """Run `n` more steps, then pause."""
        self._command("run", n=int(n))

    def reset(self, spec: Spec | None = None, reseed: bool = False) -> None:
        """Restart from `spec` (default: the current one); `reseed` moves the seed on by one."""
        spec = spec or self.spec
        if reseed:
            spec = replace(spec, seed=(spec.seed + 1) % 2**63)
        with self._lock:
            self.run_id += 1
            self.spec, self.title, self.layers = spec, spec.title, layer_infos(spec)
            self._frames, self._dropped = [], 0
            self._limit = None
            self._version += 1
            run_id = self.run_id
        if self.recorder is not None:
            self.recorder.begin(run_id, spec, self.layers)
        self._command("reset", spec=spec.to_toml(), run_id=run_id)

    def set_lr(self, lr: float) -> None:
        """Change the learning rate; a bad value raises SpecError here, at once."""
        self.spec = self.spec.with_values({"optimizer.lr": lr})
        self._command("set_lr", lr=lr)

    def set_clip(self, mode: str, value: float | None = None) -> None:
        values: dict[str, Any] = {"clip.mode": mode}
        key = {"norm": "clip.max_norm", "value": "clip.clip_value"}.get(mode)
        if key and value is not None:
            values[key] = value
        self.spec = self.spec.with_values(values)
        self._command("set_clip", mode=mode, value=value)

    # ---- for subclasses --------------------------------------------------------------------

    def _command(self, name: str, **args: Any) -> None:
        raise NotImplementedError

    def _add_frame(self, run_id: int, frame: Frame) -> None:
        with self._lock:
            if run_id != self.run_id:
                return  # a frame of the run before a reset, still in flight
            self._frames.append(frame)
            if self._limit is None:
                self._limit = _frame_limit(frame, self.max_frames)
            if len(self._frames) > self._limit:
                drop = max(1, self._limit // 10)
                del self._frames[:drop]
                self._dropped += drop
            self._version += 1
            device = self._status.device
        if self.recorder is not None:
            self.recorder.write(run_id, frame, device)

    def _close_recorder(self) -> None:
        if self.recorder is not None:
            self.recorder.close()

    def _set_status(self, status: SourceStatus) -> None:
        with self._lock:
            self._status = status
            self._version += 1


class ThreadLiveSource(_LiveBase):
    """A live trainer in a thread of this process (tests, scripts; imports torch here)."""

    def __init__(
        self,
        spec: Spec,
        max_steps: int | None = None,
        max_frames: int = MAX_FRAMES,
        autostart: bool = False,
        recorder: Recorder | None = None,
    ) -> None:
        super().__init__(spec, max_frames, recorder)
        from tuigrad.engine.runner import Runner

        self.runner = Runner(spec, self._add_frame, self._set_status, max_steps)
        self.runner.launch()
        if autostart:
            self.runner.start()

    def _command(self, name: str, **args: Any) -> None:
        if name == "reset":
            args["spec"] = specs.loads(args["spec"])
            self.runner.reset(**args)
        elif name == "run":
            self.runner.run_steps(args["n"])
        else:
            getattr(self.runner, name)(**args)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.runner.stop(CLOSE_TIMEOUT_S)
            self._close_recorder()


class LiveSource(_LiveBase):
    """A live trainer in a spawned child process: this process never imports torch."""

    def __init__(
        self,
        spec: Spec,
        max_steps: int | None = None,
        max_frames: int = MAX_FRAMES,
        autostart: bool = False,
        quiet: bool = True,
        threads: int | None = None,
        recorder: Recorder | None = None,
    ) -> None:
        """`threads` sets torch's intra-op threads in the child (None: torch's default);
        `quiet` sends the child's own stdout and stderr to /dev/null; `recorder` records
        every run to a file."""
        super().__init__(spec, max_frames, recorder)
        ctx = multiprocessing.get_context("spawn")
        self._conn, child_conn = ctx.Pipe(duplex=True)
        self._send_lock = threading.Lock()
        options = json.dumps(
            {"max_steps": max_steps, "autostart": autostart, "quiet": quiet, "threads": threads}
        )
        self._process = ctx.Process(
            target=child_main,
            args=(child_conn, spec.to_toml(), options),
            name="tuigrad-trainer",
            daemon=True,
        )
        self._process.start()
        child_conn.close()
        self._reader = threading.Thread(target=self._read, name="tuigrad-frames", daemon=True)
        self._reader.start()

    def _command(self, name: str, **args: Any) -> None:
        data = json.dumps({"cmd": name, **args}).encode()
        try:
            with self._send_lock:
                self._conn.send_bytes(data)
        except OSError:
            log.debug("training process gone; %s not sent", name)

    def _read(self) -> None:
        while True:
            try:
                data = self._conn.recv_bytes()
            except (EOFError, OSError):
                break
            tag, body = data[:1], memoryview(data)[1:]
            if tag == b"F":
                (run_id,) = _RUN_ID.unpack_from(body)
                self._add_frame(run_id, codec.decode_frame(bytes(body[_RUN_ID.size :])))
            elif tag == b"S":
                self._set_status(_status_from_json(bytes(body)))
        if not self._closed:
            code = self._process.exitcode
            self._set_status(
                SourceStatus(RunState.ERROR, f"the training process ended (exit code {code})")
            )

    def close(self) -> None:
        """Stop the child: ask, wait briefly, then terminate; returns within a few seconds."""
        if self._closed:
            return
        self._closed = True
        self._command("stop")
        self._process.join(CLOSE_TIMEOUT_S)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(1.0)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(1.0)
        self._reader.join(1.0)
        self._conn.close()
        self._close_recorder()


def frame_bytes(frame: Frame) -> int:
    """About how much memory a decoded frame takes: Python objects plus histogram arrays."""
    per_layer = 1500  # the LayerStats object, its dict and its float objects
    for layer in frame.layers[:1]:
        for hist in (layer.act_hist, layer.grad_hist, layer.weight_hist):
            per_layer += 0 if hist is None else hist.counts.nbytes + 250
    return 1000 + per_layer * len(frame.layers)


def _frame_limit(frame: Frame, max_frames: int) -> int:
    by_memory = max(MIN_FRAMES, MAX_BUFFER_BYTES // frame_bytes(frame))
    return min(max_frames, by_memory)


# ---- the child process ---------------------------------------------------------------------


def _status_to_json(status: SourceStatus) -> bytes:
    return json.dumps(
        {
            "state": status.state.value,
            "message": status.message,
            "device": status.device,
            "steps_per_s": status.steps_per_s,
        }
    ).encode()


def _status_from_json(data: bytes) -> SourceStatus:
    raw = json.loads(data)
    return SourceStatus(RunState(raw["state"]), raw["message"], raw["device"], raw["steps_per_s"])


def child_main(conn: Any, spec_toml: str, options_json: str) -> None:
    """The training process: a Runner fed by commands from the pipe, frames sent back."""
    options = json.loads(options_json)
    if options.get("quiet"):
        # The parent owns the terminal (a full-screen UI); problems arrive as status messages.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
    import torch  # imported here, in the child only

    from tuigrad.engine.runner import Runner

    if options.get("threads"):
        torch.set_num_threads(int(options["threads"]))

    send_lock = threading.Lock()

    def send(data: bytes) -> None:
        with send_lock:
            conn.send_bytes(data)

    def on_frame(run_id: int, frame: Frame) -> None:
        send(b"F" + _RUN_ID.pack(run_id) + codec.encode_frame(frame))

    def on_status(status: SourceStatus) -> None:
        send(b"S" + _status_to_json(status))

    runner = Runner(specs.loads(spec_toml), on_frame, on_status, options.get("max_steps"))
    runner.launch()
    if options.get("autostart"):
        runner.start()
    try:
        _serve(conn, runner)
    finally:
        stopped = runner.stop(CLOSE_TIMEOUT_S)
        conn.close()
    if stopped:
        # Nothing is left to flush; skipping interpreter teardown (torch's is slow) makes
        # closing the source prompt.
        os._exit(0)


def _serve(conn: Any, runner: Any) -> None:
    while True:
        try:
            msg = json.loads(conn.recv_bytes())
        except (EOFError, OSError):
            return  # the parent is gone
        cmd = msg.pop("cmd")
        if cmd == "stop":
            return
        if cmd == "reset":
            runner.reset(specs.loads(msg["spec"]), run_id=msg["run_id"])
        elif cmd == "run":
            runner.run_steps(msg["n"])
        elif cmd in ("start", "pause", "set_lr", "set_clip"):
            getattr(runner, cmd)(**msg)
