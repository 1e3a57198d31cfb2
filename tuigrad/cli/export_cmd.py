"""`tuigrad export RUN --csv DIR | --json [FILE]`: a run file's frames for other tools."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tuigrad.errors import RunFileError

if TYPE_CHECKING:
    from tuigrad.runs import RunReader


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "export",
        help="write a run file's frames as CSV or JSON lines",
        description=(
            "Write a run file's frames as CSV (DIR/scalars.csv, one row per frame, and "
            "DIR/layers.csv, one row per frame and layer) or as JSON lines (one frame per line, "
            "the same keys as `train --json`)."
        ),
    )
    parser.add_argument("run_file", metavar="RUN", help="a .tuigrad run file")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--csv", metavar="DIR", help="folder for scalars.csv and layers.csv")
    target.add_argument(
        "--json", metavar="FILE", nargs="?", const="-", help="JSON lines to FILE (default: stdout)"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from tuigrad.runs import RunReader
    from tuigrad.runs.export import export_csv, export_json

    with RunReader(args.run_file) as reader:
        if args.csv is not None:
            scalars, layers = export_csv(reader, args.csv)
            print(f"wrote {scalars} ({len(reader)} frames) and {layers}")
            return 0
        if args.json == "-":
            return _to_stdout(reader)
        if Path(args.json).resolve() == reader.path.resolve():
            raise RunFileError(f"cannot export to {args.json}: that is the run file itself")
        try:
            with open(args.json, "w", encoding="utf-8") as f:
                count = export_json(reader, f)
        except OSError as exc:
            raise RunFileError(f"cannot export to {args.json}: {exc.strerror or exc}") from None
        print(f"wrote {args.json} ({count} frames)", file=sys.stderr)
    return 0


def _to_stdout(reader: RunReader) -> int:
    from tuigrad.runs.export import export_json

    try:
        export_json(reader, sys.stdout)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader of the pipe (e.g. `head`) left early: not an error.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return 0
