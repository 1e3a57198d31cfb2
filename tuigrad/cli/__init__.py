"""The command line: argument parsing, the one error boundary, and wiring.

Each command lives in its own module `<name>_cmd.py` with `add_parser(subparsers)` and
`run(args) -> int`. Modules import torch and Textual lazily, inside `run`, so that
`tuigrad --help` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import NoReturn

from tuigrad import __version__
from tuigrad.errors import TuigradError

# Command modules, in the order `--help` lists them. The first is the default command.
COMMANDS = ("open", "train", "presets", "inspect", "export", "replay", "compare")
TOP_LEVEL_FLAGS = ("-h", "--help", "--version")


# Options people reach for that tuigrad spells otherwise, and how.
SPELLED_OTHERWISE = {
    "--preset": "a preset is named on its own, e.g. `tuigrad exploding-clipped`",
    "--spec": "a spec file is named on its own, e.g. `tuigrad my.toml`",
}


class Parser(argparse.ArgumentParser):
    """argparse, with usage errors on one line that say where the options are listed."""

    commands: dict[str, Parser]  # the top level's: each command's own parser, by name

    def error(self, message: str) -> NoReturn:
        hints = [hint for flag, hint in SPELLED_OTHERWISE.items() if flag in message.split()]
        help_hint = f"`{self.prog} --help` lists the options"
        self.exit(2, f"{self.prog}: error: {message}; {hints[0] if hints else help_hint}\n")


def build_parser() -> Parser:
    parser = Parser(
        prog="tuigrad",
        description="Watch the health of a deep network's gradients while it trains.",
    )
    parser.add_argument("--version", action="version", version=f"tuigrad {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name in COMMANDS:
        importlib.import_module(f"tuigrad.cli.{name}_cmd").add_parser(sub)
    parser.commands = sub.choices
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; a TuigradError becomes one line on stderr and exit status 2."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0] not in COMMANDS and argv[0] not in TOP_LEVEL_FLAGS):
        argv = [COMMANDS[0], *argv]
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # said by the command's parser, whose --help lists the options it takes
        parser.commands[args.command].error(f"unrecognized arguments: {' '.join(unknown)}")
    try:
        return int(args.run(args) or 0)
    except TuigradError as exc:
        print(f"tuigrad: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("tuigrad: interrupted", file=sys.stderr)
        return 130
