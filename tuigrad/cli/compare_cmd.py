"""`tuigrad compare RUN_A RUN_B`: two run files side by side, aligned by step, one scale."""

from __future__ import annotations

import argparse

from tuigrad.cli.open_cmd import add_display_options


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "compare",
        help="compare two run files layer by layer",
        description="Show two run files in one dashboard: each layer's row from run A above the "
        "same layer's row from run B, at the same step, on one gradient scale, with the spec "
        "differences at the top. The replay keys move both runs together.",
    )
    p.add_argument("run_a", metavar="RUN_A", help="a .tuigrad run file")
    p.add_argument("run_b", metavar="RUN_B", help="another .tuigrad run file")
    p.add_argument("--at", type=int, metavar="STEP", help="open at this training step")
    add_display_options(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from tuigrad.sources.compare import compare_source

    source = compare_source(args.run_a, args.run_b)
    try:
        if args.at is not None:
            source.seek(args.at)
        from tuigrad.ui.replay_app import ReplayApp

        app = ReplayApp(source, compare=True, fps=args.fps, ascii=args.ascii)
        app.run()
        return app.return_code or 0
    finally:
        source.close()
