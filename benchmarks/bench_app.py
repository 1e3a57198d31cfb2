"""Training throughput with the app open, against the same spec trained headless.

    python -m benchmarks.bench_app [--seconds 8] [--warmup 3] [--reps 3] [--fps 10]

app: `tuigrad open SPEC --fps F` in a pseudo-terminal of 120x40, started with the space key, as
a user would; its steps are read from the frames it draws (the "step N" of the run line), with
the time each arrived. headless: the same spec in the same frame source the app uses
(LiveSource: a spawned training process), with no app; its steps are read from the frames it
delivers. The two run in turns, and the figure is the median of the per-turn ratios.
"""

from __future__ import annotations

import argparse
import os
import pty
import re
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from fcntl import ioctl
from pathlib import Path

from benchmarks.common import ROOT

STEP = re.compile(rb"step ([\d,]+)")
START_TIMEOUT_S = 120.0


def net_spec(depth: int = 20, width: int = 256) -> str:
    """The 20 x 256 tanh net of the probe benchmark, at the shipped probe settings, as TOML."""
    from tuigrad.spec import Spec

    return (
        Spec(title=f"{depth}x{width} tanh")
        .with_values(
            {
                "model.depth": depth,
                "model.width": width,
                "model.activation": "tanh",
                "device": "cpu",
            }
        )
        .to_toml()
    )


def rate_of(points: list[tuple[float, int]], warmup: float) -> float:
    """Steps per second between the first point after `warmup` seconds and the last one."""
    if not points:
        return 0.0
    t0 = points[0][0] + warmup
    window = [p for p in points if p[0] >= t0]
    if len(window) < 2 or window[-1][0] == window[0][0]:
        return 0.0
    (ta, sa), (tb, sb) = window[0], window[-1]
    return (sb - sa) / (tb - ta)


def app_run(
    spec_path: Path, seconds: float, warmup: float, fps: float, size: tuple[int, int]
) -> dict:
    """Run the app in a pty, press space, and collect (time, step) from what it draws."""
    master, slave = pty.openpty()
    cols, rows = size
    ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    cmd = [sys.executable, "-m", "tuigrad", "open", str(spec_path), "--fps", str(fps)]
    env = dict(os.environ, TERM="xterm-256color", COLORTERM="truecolor", PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        cmd, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
    )
    os.close(slave)
    points: list[tuple[float, int]] = []
    written = 0
    try:
        # The first screen, then space, as a user would: training starts once the model is built.
        seen, deadline = b"", time.monotonic() + START_TIMEOUT_S
        while b"step" not in seen:
            if time.monotonic() > deadline:
                raise RuntimeError("the app did not draw its dashboard")
            seen = seen[-16:] + _read(master, 1.0)
        os.write(master, b" ")
        started = time.monotonic()
        deadline, end = started + START_TIMEOUT_S, None
        carry = b""
        while (now := time.monotonic()) < (end or deadline):
            chunk = _read(master, (end or deadline) - now)
            written += len(chunk)
            steps, carry = steps_drawn(carry + chunk)
            points += [(time.monotonic() - started, step) for step in steps]
            if points and end is None:
                end = started + points[0][0] + warmup + seconds
        os.write(master, b"q")
        _read(master, 1.0)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
        os.close(master)
    return {"points": points, "steps_per_s": rate_of(points, warmup), "bytes": written}


def steps_drawn(data: bytes) -> tuple[list[int], bytes]:
    """The step numbers drawn in `data`, and the tail to prepend to the next read (a number
    cut off at the end of one read is completed by the next)."""
    steps, used = [], 0
    for match in STEP.finditer(data):
        if match.end() == len(data):
            break
        steps.append(int(match.group(1).replace(b",", b"")))
        used = match.end()
    return steps, data[used:][-64:]


def _read(fd: int, timeout: float) -> bytes:
    ready, _, _ = select.select([fd], [], [], max(timeout, 0))
    if not ready:
        return b""
    try:
        return os.read(fd, 65536)
    except OSError:
        return b""


def headless_run(spec_toml: str, seconds: float, warmup: float) -> dict:
    """The same spec in a LiveSource with nobody drawing: (time, step) of each frame read."""
    from tuigrad import spec as specs
    from tuigrad.sources.base import RunState
    from tuigrad.sources.live import LiveSource

    source = LiveSource(specs.loads(spec_toml))
    points: list[tuple[float, int]] = []
    try:
        source.start()  # queued until the model is built, as the app's space key is
        started = time.monotonic()
        deadline, end = started + START_TIMEOUT_S, None
        read = 0
        while (now := time.monotonic()) < (end or deadline):
            time.sleep(0.1)  # as often as the app at 10 fps looks
            frames = source.frames_since(read)
            read += len(frames)
            if frames:
                points.append((now - started, frames[-1].step))
                end = end or points[0][0] + started + warmup + seconds
            if source.status().state is RunState.ERROR:
                raise RuntimeError(f"the trainer failed: {source.status().message}")
    finally:
        source.close()
    return {"points": points, "steps_per_s": rate_of(points, warmup)}


def measure(
    seconds: float = 8.0,
    warmup: float = 3.0,
    reps: int = 3,
    fps: float = 10.0,
    depth: int = 20,
    width: int = 256,
    size: tuple[int, int] = (120, 40),
) -> dict:
    spec_toml = net_spec(depth, width)
    apps, headless = [], []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.toml"
        path.write_text(spec_toml)
        for i in range(reps):
            # Alternate which goes first, so a slow spell on the machine hits both alike.
            order = ("app", "headless") if i % 2 == 0 else ("headless", "app")
            for what in order:
                if what == "app":
                    apps.append(app_run(path, seconds, warmup, fps, size)["steps_per_s"])
                else:
                    headless.append(headless_run(spec_toml, seconds, warmup)["steps_per_s"])
    ratios = [a / h if h > 0 else 0.0 for a, h in zip(apps, headless, strict=True)]
    return {
        "net": f"{depth}x{width} tanh, shipped probe settings",
        "fps": fps,
        "app_steps_per_s": apps,
        "headless_steps_per_s": headless,
        "ratio": statistics.median(ratios),
        "seconds": seconds,
        "reps": reps,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--fps", type=float, default=10.0)
    args = parser.parse_args()
    r = measure(args.seconds, args.warmup, args.reps, args.fps)
    apps = ", ".join(f"{x:.1f}" for x in r["app_steps_per_s"])
    heads = ", ".join(f"{x:.1f}" for x in r["headless_steps_per_s"])
    print(f"{r['net']}, app at {r['fps']:g} fps: {apps} steps/s; headless: {heads} steps/s")
    print(f"app / headless (median of per-turn ratios): {r['ratio']:.3f}")


if __name__ == "__main__":
    main()
