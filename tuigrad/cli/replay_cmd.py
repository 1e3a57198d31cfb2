"""`tuigrad replay RUN`: the dashboard on a run file, with play, speed, step and seek keys."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tuigrad.cli.open_cmd import add_display_options

# Frames read after a jump: enough for the gradient sparklines at most widths (the charts read
# the whole recording); fewer keeps a jump quick on long files.
VIEW_WINDOW = 64


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "replay",
        help="replay a run file in the dashboard, or follow one being written",
        description="Replay a run file in the dashboard: space plays and pauses, < and > change "
        "the speed, n and b step, g and G jump to the start and end, j goes to a step, f to the "
        "next diagnosis finding. With --follow, tail a file another process is writing.",
    )
    p.add_argument("run_file", metavar="RUN", help="a .tuigrad run file")
    p.add_argument(
        "--follow",
        action="store_true",
        help="follow a file another process is writing: new frames appear as they are "
        "committed; waits for the file if it is not there yet",
    )
    p.add_argument("--speed", type=float, default=1.0, help="replay speed, 0.25 to 16 (default 1)")
    p.add_argument("--at", type=int, metavar="STEP", help="open paused at this training step")
    add_display_options(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from tuigrad.sources.replay import ReplaySource, check_speed, wait_for_run

    check_speed(args.speed)  # before any wait
    if args.follow and not Path(args.run_file).exists():
        print(f"tuigrad: waiting for {args.run_file} to be written (Ctrl-C to stop)",
              file=sys.stderr, flush=True)  # fmt: skip
        wait_for_run(args.run_file)
    source = ReplaySource(
        args.run_file,
        follow=args.follow,
        speed=args.speed,
        play=args.at is None,
        window=VIEW_WINDOW,
    )
    try:
        if args.at is not None:
            source.seek(args.at)
        from tuigrad.ui.replay_app import ReplayApp

        app = ReplayApp(source, fps=args.fps, ascii=args.ascii)
        app.run()
        return app.return_code or 0
    finally:
        source.close()
