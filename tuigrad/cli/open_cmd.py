"""`tuigrad open`: the app on an experiment, or a headless run that ends in an SVG of the dashboard."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING

from tuigrad.errors import TuigradError

if TYPE_CHECKING:
    from tuigrad.runs.recorder import Recorder
    from tuigrad.sources.base import FrameSource
    from tuigrad.spec import Spec
    from tuigrad.ui.app import TuigradApp

SCREENSHOT_TIMEOUT_S = 600.0


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "open",
        help="open the app on an experiment (the default command)",
        description="Open the app on an experiment, ready to train with one key (space).",
    )
    p.add_argument(
        "spec",
        nargs="?",
        metavar="SPEC",
        help="a TOML file or a preset name (default: the default preset)",
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        dest="assignments",
        metavar="KEY=VALUE",
        help="override a spec key, e.g. optimizer.lr=0.1",
    )
    add_display_options(p)
    p.add_argument(
        "--steps",
        type=_positive,
        metavar="N",
        help="with --screenshot: train N steps headlessly first",
    )
    p.add_argument(
        "--screenshot", metavar="OUT.svg", help="with --steps: write the dashboard as SVG and exit"
    )
    record = p.add_mutually_exclusive_group()
    record.add_argument(
        "--record",
        metavar="PATH",
        help="record to this run file; after a reset, to PATH-2, PATH-3... "
        "(default: runs/<time>-<title>.tuigrad, except with --screenshot)",
    )
    record.add_argument("--no-record", action="store_true", help="do not record the run")
    p.add_argument(
        "--size",
        type=_size,
        default=(120, 40),
        metavar="WxH",
        help="screenshot size in cells (default 120x40)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from tuigrad import presets

    if (args.steps is None) != (args.screenshot is None):
        raise TuigradError("--steps and --screenshot go together: --steps N --screenshot out.svg")
    spec = presets.resolve(args.spec, args.assignments)
    recorder = make_recorder(args, spec)
    source = live_source(spec, recorder)

    from tuigrad.ui.app import TuigradApp

    options = {"spec": spec, "fps": args.fps, "ascii": args.ascii}
    if recorder is None:
        app = TuigradApp(source, **options)
    else:
        from tuigrad.ui.recording import RecordingApp

        app = RecordingApp(source, recorder, **options)
    try:
        if args.screenshot:
            path = screenshot(app, args.steps, Path(args.screenshot), args.size)
            print(f"wrote {path} at step {app.history.latest.step if app.history.latest else 0}")
            return 0
        app.run()
    finally:
        source.close()
        if recorder is not None:
            recorder.close()
            _report_recording(recorder)
    return app.return_code or 0


def make_recorder(args: argparse.Namespace, spec: Spec) -> Recorder | None:
    """The recorder the arguments ask for, its target checked now, before anything trains.

    The default records to runs/<time>-<title>.tuigrad; a headless screenshot records only
    when --record names a file.
    """
    from tuigrad.runs import Recorder, check_writable, default_path

    if args.no_record or (args.screenshot and not args.record):
        return None
    if args.record:
        return Recorder(check_writable(args.record))
    check_writable(default_path(spec.title))
    return Recorder()


def _report_recording(recorder: Recorder) -> None:
    for path in recorder.paths:
        print(f"recorded {path}")
    if len(recorder.paths) > 1:
        print(f"compare the last two: tuigrad compare {recorder.paths[-2]} {recorder.paths[-1]}")


def live_source(spec: Spec, recorder: Recorder | None = None) -> FrameSource:
    """The engine's source for `spec`, training in a child process (imported only here)."""
    try:
        from tuigrad.sources.live import LiveSource
    except ImportError as exc:  # pragma: no cover - only when the engine is not installed
        raise TuigradError(f"live training is not available: {exc}") from None
    return LiveSource(spec, recorder=recorder)


def screenshot(app: TuigradApp, steps: int, path: Path, size: tuple[int, int]) -> Path:
    """Run the app headless, train `steps` steps, then write the dashboard to `path` as SVG."""
    from tuigrad.sources.base import RunState

    done = (RunState.FINISHED, RunState.STOPPED, RunState.ERROR)
    written: list[Path] = []

    async def drive(pilot) -> None:  # noqa: ANN001
        source = app.source
        source.run_steps(steps)  # then it pauses, and the last step is always measured
        deadline = time.monotonic() + SCREENSHOT_TIMEOUT_S
        while time.monotonic() < deadline:
            app.poll()
            latest = app.history.latest
            trained = latest is not None and latest.step >= steps - 1
            if (trained and app.status.state is not RunState.RUNNING) or app.status.state in done:
                break
            await pilot.pause(0.05)
        if app.status.state is RunState.RUNNING:
            source.pause()
        # Read what arrived while pausing, let the screen settle, then draw it.
        for _ in range(3):
            app.poll()
            await pilot.pause(0.05)
        written.append(Path(app.save_screenshot(path.name, str(path.parent))))
        app.exit()

    path.parent.mkdir(parents=True, exist_ok=True)
    app.run(headless=True, size=size, auto_pilot=drive)
    if not written:
        raise TuigradError(f"could not write {path}: the app stopped before the screenshot")
    return written[0]


def add_display_options(p: argparse.ArgumentParser) -> None:
    """--fps and --ascii, as every command that opens the app takes them."""
    p.add_argument("--fps", type=_fps, default=10.0, help="redraws per second at most (default 10)")
    p.add_argument("--ascii", action="store_true", help="draw without block characters")


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text}: must be at least 1")
    return value


def _fps(text: str) -> float:
    value = float(text)
    if not 0.5 <= value <= 60:
        raise argparse.ArgumentTypeError(f"{text}: must be between 0.5 and 60")
    return value


def _size(text: str) -> tuple[int, int]:
    width, _, height = text.lower().partition("x")
    try:
        size = (int(width), int(height))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text}: expected WIDTHxHEIGHT, e.g. 120x40") from None
    if size[0] < 40 or size[1] < 12:
        raise argparse.ArgumentTypeError(f"{text}: at least 40x12")
    return size
