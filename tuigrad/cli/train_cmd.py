"""`tuigrad train`: train a spec without the UI, then print every layer's health.

A progress bar goes to stderr and a per-layer table of the last frame to stdout; with --json,
stdout carries one JSON object per frame and nothing else.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from typing import Any

from tuigrad.errors import SpecError, TrainingError
from tuigrad.frames import Frame

# (header, LayerStats attribute, format): the table's columns after the layer's name.
COLUMNS = (
    ("act mean", "act_mean", "g"),
    ("act std", "act_std", "g"),
    ("saturated", "act_saturated", "%"),
    ("dead", "act_dead", "%"),
    ("unit spread", "unit_spread", "g"),
    ("out grad std", "out_grad_std", "g"),
    ("w grad norm", "weight_grad_norm", "g"),
    ("grad:data", "grad_data_ratio", "g"),
    ("update log10", "update_ratio_log10", "f"),
)


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "train",
        help="train a spec headless and print each layer's statistics",
        description="Train an experiment without the UI. Progress goes to stderr; the last "
        "frame's per-layer table (or, with --json, every frame) goes to stdout.",
    )
    p.add_argument("spec", nargs="?", metavar="SPEC", help="a spec TOML file or a preset name")
    p.add_argument("--steps", default="200", metavar="N", help="training steps (default 200)")
    p.add_argument("--every", metavar="K", help="measure every K-th step (sets probe.every)")
    p.add_argument(
        "--set",
        dest="assignments",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a spec value, e.g. --set optimizer.lr=0.1 (repeatable)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object per frame")
    p.add_argument("--threads", metavar="N", help="torch CPU threads (default: torch's choice)")
    p.set_defaults(run=run)


def _positive(flag: str, text: str | None) -> int | None:
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < 1:
        raise SpecError(flag, text, "expected a whole number of at least 1")
    return value


def run(args: argparse.Namespace) -> int:
    from tuigrad import presets

    steps = _positive("--steps", args.steps)
    every = _positive("--every", args.every)
    threads = _positive("--threads", args.threads)
    spec = presets.resolve(args.spec, args.assignments)
    if every is not None:
        spec = spec.with_values({"probe.every": every})

    import torch  # after the arguments are known to be good: a bad one fails fast

    from tuigrad.engine.trainer import Trainer

    if threads:
        torch.set_num_threads(threads)
    trainer = Trainer(spec)
    last, elapsed = _train(trainer, steps, args.json)

    rate = trainer.step_count / elapsed if elapsed > 0 else math.inf
    note = f"{trainer.step_count} steps in {elapsed:.2f} s ({rate:.1f} steps/s) on {trainer.device}"
    print(f"tuigrad: {note}", file=sys.stderr)
    if trainer.halted:
        print(f"tuigrad: stopped: {trainer.halted}", file=sys.stderr)
    if not args.json and last is not None:
        _print_table(spec.title, last)
    return 0


def _train(trainer: Any, steps: int, as_json: bool) -> tuple[Frame | None, float]:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
    from rich.progress import TimeRemainingColumn

    columns = (TextColumn("training"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    last = None
    t0 = time.perf_counter()
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("train", total=steps)
        for k in range(steps):
            try:
                frame = trainer.step(measure=True if k == steps - 1 else None)
            except RuntimeError as exc:  # torch's own failures, e.g. out of memory
                raise TrainingError(f"step {k}: {str(exc).splitlines()[0]}") from None
            if frame is not None:
                last = frame
                if as_json:
                    sys.stdout.write(json.dumps(frame.to_json(), allow_nan=False) + "\n")
            progress.advance(task)
            if trainer.halted:
                break
    sys.stdout.flush()
    return last, time.perf_counter() - t0


def fmt(value: float, kind: str = "g") -> str:
    """A statistic for the table: NaN and infinities spelled out, never hidden."""
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if kind == "%":
        return f"{100 * value:.1f}%"
    if kind == "f":
        return f"{value:.2f}"
    return f"{value:.3g}"


def _print_table(title: str, frame: Frame) -> None:
    from rich.console import Console
    from rich.table import Table

    caption = (
        f"step {frame.step}  loss {fmt(frame.loss)}  accuracy {fmt(frame.accuracy, '%')}  "
        f"grad norm {fmt(frame.grad_norm)}  lr {fmt(frame.lr)}"
    )
    table = Table(title=title, caption=caption)
    table.add_column("layer")
    for header, _, _ in COLUMNS:
        table.add_column(header, justify="right")
    for layer in frame.layers:
        table.add_row(layer.name, *(fmt(getattr(layer, key), kind) for _, key, kind in COLUMNS))
    width = None if sys.stdout.isatty() else 160
    Console(file=sys.stdout, width=width, highlight=False).print(table)
