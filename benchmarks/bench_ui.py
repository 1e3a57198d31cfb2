"""How much the dashboard costs per frame, and how many bytes it writes to a real terminal.

    python benchmarks/bench_ui.py frame-time [--layers 50] [--size 200x60] [--frames 200]
    python benchmarks/bench_ui.py bytes [--layers 20] [--size 120x40] [--fps 10] [--seconds 10]
        [--colors truecolor|256] [--dump FILE]

frame-time runs the app headless over scripted frames and measures, per new frame, the CPU time
of the poll (history update, lines rebuilt for the visible rows), of the event-loop work and
paint that follow until the app is idle, with the update turned into the escape sequences a
terminal would be sent (a headless app skips that), and of a full repaint of the screen (as on
a resize). Waiting for the app to be idle costs the test harness time of its own (a callback to
every widget): that wait is timed again right after, with nothing new to draw, and its median
is taken off the paint.
bytes runs the app in a child process under a pseudo-terminal of the given size, with a scripted
source releasing frames faster than the redraw rate, and counts what it writes after start-up
(to FILE with --dump). Colours are 24-bit unless --colors 256, or COLORTERM is set to something
else than truecolor (`TERM=xterm-256color COLORTERM= ... bytes`).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import pty
import resource
import select
import signal
import statistics
import struct
import subprocess
import sys
import termios
import time
from dataclasses import replace
from fcntl import ioctl
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402
from textual._compositor import CompositorUpdate  # noqa: E402

from tests.ui_frames import frames_for, scripted  # noqa: E402
from tuigrad.sources.scripted import ScriptedSource, spec_layers  # noqa: E402
from tuigrad.spec import Spec  # noqa: E402


def _spec(layers: int) -> Spec:
    return Spec(title=f"{layers} tanh layers, scripted").with_values(
        {"model.depth": layers, "clip.mode": "norm"}
    )


def frame_time(args: argparse.Namespace) -> None:
    results = measure_frame_time(args.layers, args.size, args.frames)
    for name, (median, p90, count) in results["ms"].items():
        print(
            f"{name:26s} median {median:6.2f} ms   p90 {p90:6.2f} ms"
            f"   ({args.layers} layers, {args.size[0]}x{args.size[1]}, {count} frames)"
        )
    print(f"escape sequences per update: median {results['update_bytes']:,.0f} bytes")


def measure_frame_time(layers: int, size: tuple[int, int], count: int) -> dict:
    """CPU ms per new frame (median, p90, frames) of the poll, the paint, both, a full repaint,
    and of the harness's own wait, which the paint is given without."""
    from tuigrad.ui import TuigradApp

    spec = _spec(layers)
    frames = frames_for(spec_layers(spec), count + 20)
    source = scripted(spec, steps=20)
    app = TuigradApp(source, fps=1.0)  # the timer stays out of the way; we poll by hand
    sizes: list[int] = []
    _encode_updates(app, sizes)

    async def run() -> tuple[list[float], ...]:
        polls, paints, fulls, waits = [], [], [], []
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            for frame in frames[20:]:
                source.push([frame])
                t0 = time.process_time()
                app.poll()
                t1 = time.process_time()
                # The widgets' updates reach the screen, which draws the changed regions.
                await pilot.pause()
                t2 = time.process_time()
                app.screen._compositor.render_update(full=True)
                t3 = time.process_time()
                await pilot.pause()  # nothing to draw: the harness's wait alone
                t4 = time.process_time()
                polls.append(t1 - t0)
                paints.append(t2 - t1)
                fulls.append(t3 - t2)
                waits.append(t4 - t3)
        return polls, paints, fulls, waits

    polls, paints, fulls, waits = asyncio.run(run())
    wait = statistics.median(waits)
    paints = [p - wait for p in paints]
    results = (
        ("poll: read, rebuild lines", polls),
        ("paint the changed lines", paints),
        ("both together", [a + b for a, b in zip(polls, paints, strict=True)]),
        ("full repaint (resize)", fulls),
        ("harness wait (taken off)", waits),
    )
    out = {}
    for name, values in results:
        ms = sorted(v * 1000 for v in values)
        out[name] = (statistics.median(ms), ms[int(0.9 * len(ms))], len(ms))
    return {"layers": layers, "size": size, "ms": out, "update_bytes": statistics.median(sizes)}


def _encode_updates(app: object, sizes: list[int]) -> None:
    """Make the headless `app` turn each screen update into escape sequences, as it would for
    a truecolor terminal (its own console has 16 colours); their sizes in bytes go to `sizes`."""
    display = app._display
    console = Console(color_system="truecolor", force_terminal=True, file=io.StringIO())

    def encoded(screen: object, update: object) -> None:
        if isinstance(update, CompositorUpdate):
            sizes.append(len(update.render_segments(console).encode()))
        display(screen, update)

    app._display = encoded


def child(args: argparse.Namespace) -> None:
    """The app as a user runs it, its source releasing frames at `rate` per second."""
    from tuigrad.ui import TuigradApp

    spec = _spec(args.layers)
    layers = spec_layers(spec)
    # Synthetic frames are slow to make: make 200, then replay them under new step numbers.
    base = frames_for(layers, args.base)
    count = int(args.rate * (args.seconds + args.warmup + 10))
    frames = [replace(base[i % len(base)], step=i) for i in range(count)]
    source = ScriptedSource(
        frames, layers, spec=spec, shown=1, rate=args.rate, steps_per_s=args.rate
    )
    source.start()
    TuigradApp(source, fps=args.fps, ascii=args.ascii).run()


def measure_bytes(args: argparse.Namespace) -> dict:
    """KiB/s the app writes to a pty of `args.size` once started, and its CPU share."""
    master, slave = pty.openpty()
    cols, rows = args.size
    ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    cmd = [sys.executable, __file__, "child", "--layers", str(args.layers), "--fps", str(args.fps)]
    cmd += ["--rate", str(args.rate), "--seconds", str(args.seconds), "--warmup", str(args.warmup)]
    cmd += ["--base", str(args.base)]
    cmd += ["--ascii"] if args.ascii else []
    env = dict(os.environ, TERM="xterm-256color", PYTHONPATH=str(ROOT))
    env["COLORTERM"] = "truecolor" if args.colors == "truecolor" else ""
    proc = subprocess.Popen(
        cmd, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
    )
    os.close(slave)

    def read_for(seconds: float, keep: list[bytes] | None = None) -> int:
        total, end = 0, time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            ready, _, _ = select.select([master], [], [], left)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:
                    break
                total += len(data)
                if keep is not None:
                    keep.append(data)
        return total

    # Wait for the first screen (making the frames takes a while), then let it settle.
    ready, _, _ = select.select([master], [], [], 120)
    startup = read_for(args.warmup)
    usage0 = _child_cpu(proc.pid)
    kept: list[bytes] = []
    counted = read_for(args.seconds, kept)
    if args.dump:
        Path(args.dump).write_bytes(b"".join(kept))
    usage1 = _child_cpu(proc.pid)
    os.write(master, b"q")
    read_for(1.0)
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=5)
    os.close(master)
    rate = counted / args.seconds / 1024
    cpu = (
        (usage1 - usage0) / args.seconds * 100
        if usage0 is not None and usage1 is not None
        else float("nan")
    )
    return {"kib_per_s": rate, "startup_kib": startup / 1024, "cpu_pct": cpu}


def print_bytes(args: argparse.Namespace) -> None:
    r = measure_bytes(args)
    cols, rows = args.size
    print(
        f"{cols}x{rows}, {args.layers} layers, --fps {args.fps}, frames at {args.rate:g}/s"
        f", {args.colors} colours{' --ascii' if args.ascii else ''}: {r['kib_per_s']:.1f} KiB/s over {args.seconds:g} s"
        f" (start-up {r['startup_kib']:.0f} KiB), app CPU {r['cpu_pct']:.0f}% of one core"
    )


def bytes_args(
    layers: int = 20,
    size: tuple[int, int] = (120, 40),
    fps: float = 10.0,
    seconds: float = 10.0,
    warmup: float = 3.0,
    rate: float = 200.0,
    ascii: bool = False,
    base: int = 200,
    colors: str = "truecolor",
) -> argparse.Namespace:
    """The arguments of `bytes`, for callers in Python."""
    return argparse.Namespace(
        layers=layers,
        size=size,
        fps=fps,
        seconds=seconds,
        warmup=warmup,
        rate=rate,
        ascii=ascii,
        base=base,
        colors=colors,
        dump=None,
    )


def _child_cpu(pid: int) -> float | None:
    """User + system seconds of a running process, from /proc (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def _colors_from_env() -> str:
    colorterm = os.environ.get("COLORTERM")
    return (
        "256" if colorterm is not None and colorterm not in ("truecolor", "24bit") else "truecolor"
    )


def _size(text: str) -> tuple[int, int]:
    w, _, h = text.partition("x")
    return int(w), int(h)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="what", required=True)
    p = sub.add_parser("frame-time")
    p.add_argument("--layers", type=int, default=50)
    p.add_argument("--size", type=_size, default=(200, 60))
    p.add_argument("--frames", type=int, default=200)
    for name in ("bytes", "child"):
        p = sub.add_parser(name)
        p.add_argument("--layers", type=int, default=20)
        p.add_argument("--size", type=_size, default=(120, 40))
        p.add_argument("--fps", type=float, default=10.0)
        p.add_argument("--rate", type=float, default=200.0, help="frames released per second")
        p.add_argument("--seconds", type=float, default=10.0)
        p.add_argument("--warmup", type=float, default=3.0)
        p.add_argument("--ascii", action="store_true")
        p.add_argument("--base", type=int, default=200, help="distinct synthetic frames made")
    p = sub.choices["bytes"]
    p.add_argument("--colors", choices=("truecolor", "256"), default=_colors_from_env())
    p.add_argument("--dump", type=Path, help="write what was counted to this file")
    args = parser.parse_args()
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    {"frame-time": frame_time, "bytes": print_bytes, "child": child}[args.what](args)


if __name__ == "__main__":
    main()
