"""`tuigrad train`: train a spec without the UI, then print every layer's health.

A progress bar goes to stderr; the last frame's per-layer table and the diagnosis findings go
to stdout. With --json, stdout carries one JSON object per frame and nothing else, each with
the findings current at that frame. With --record, the frames and findings go to a run file.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from typing import TYPE_CHECKING, Any

from tuigrad.errors import SpecError, TrainingError
from tuigrad.frames import Frame

if TYPE_CHECKING:
    from tuigrad.diagnosis import Diagnoser, Finding
    from tuigrad.runs import RunWriter

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
    p.add_argument("--record", metavar="PATH", help="record the frames and findings to a run file")
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
    if args.record:
        from tuigrad.runs import check_writable

        check_writable(args.record)  # a bad target fails before any training

    import torch  # after the arguments are known to be good: a bad one fails fast

    from tuigrad.diagnosis import Diagnoser
    from tuigrad.engine.trainer import Trainer
    from tuigrad.runs import RunWriter

    if threads:
        torch.set_num_threads(threads)
    trainer = Trainer(spec)
    diagnoser = Diagnoser(trainer.layers, spec)
    writer = None
    if args.record:
        writer = RunWriter(args.record, spec, trainer.layers, device=str(trainer.device))
    try:
        last, elapsed = _train(trainer, steps, args.json, diagnoser, writer)
    except BaseException:  # a failed or interrupted run is kept, marked unfinished
        if writer is not None:
            writer.close(finished=False)
        raise
    if writer is not None:
        _close(writer, trainer)

    rate = trainer.step_count / elapsed if elapsed > 0 else math.inf
    note = f"{trainer.step_count} steps in {elapsed:.2f} s ({rate:.1f} steps/s) on {trainer.device}"
    print(f"tuigrad: {note}", file=sys.stderr)
    if trainer.halted:
        print(f"tuigrad: stopped: {trainer.halted}", file=sys.stderr)
    if not args.json and last is not None:
        _print_table(spec.title, last, diagnoser.findings)
    return 0


def _train(
    trainer: Any,
    steps: int,
    as_json: bool,
    diagnoser: Diagnoser,
    writer: RunWriter | None = None,
) -> tuple[Frame | None, float]:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    columns = (TextColumn("training"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    last = None
    recorded: set[tuple[str, int]] = set()
    t0 = time.perf_counter()
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("train", total=steps)
        for k in range(steps):
            final = k == steps - 1
            try:
                frame = trainer.step(measure=True if final else None)
            except RuntimeError as exc:  # torch's own failures, e.g. out of memory
                raise TrainingError(f"step {k}: {str(exc).splitlines()[0]}") from None
            if frame is not None:
                last = frame
                _observe(frame, diagnoser, final or bool(trainer.halted))
                if writer is not None:
                    writer.write(frame)
                    _record_findings(writer, diagnoser.findings, recorded)
                if as_json:
                    obj = frame.to_json()
                    obj["findings"] = [f.to_json() for f in diagnoser.findings]
                    sys.stdout.write(json.dumps(obj, allow_nan=False) + "\n")
            progress.advance(task)
            if trainer.halted:
                break
    sys.stdout.flush()
    return last, time.perf_counter() - t0


def _observe(frame: Frame, diagnoser: Diagnoser, final: bool) -> None:
    """Feed the incremental diagnosis; the last frame always gets fresh findings."""
    diagnoser.push([frame])
    if final:
        diagnoser.refresh()


def _record_findings(
    writer: RunWriter, findings: list[Finding], recorded: set[tuple[str, int]]
) -> None:
    """Record each finding once, at the step it began; a finding that returns later is new."""
    for f in findings:
        key = (f.kind, f.since_step)
        if key not in recorded:
            recorded.add(key)
            writer.add_finding(f.since_step, f.kind, f.to_json())


def _close(writer: RunWriter, trainer: Any) -> None:
    if trainer.halted:
        writer.set_meta("stopped", trainer.halted)
    writer.close()
    if writer.error:
        print(f"tuigrad: recording failed: {writer.error}", file=sys.stderr)
    else:
        lost = f", {writer.dropped} frames dropped" if writer.dropped else ""
        print(f"tuigrad: recorded {writer.written} frames to {writer.path}{lost}", file=sys.stderr)


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


def _print_table(title: str, frame: Frame, findings: list[Finding]) -> None:
    from rich.console import Console
    from rich.table import Table

    from tuigrad.diagnosis.text import finding_lines, findings_table

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
    console = Console(file=sys.stdout, width=width, highlight=False)
    console.print(table)
    if findings:
        console.print(findings_table(findings))
    else:
        console.print(finding_lines(findings)[0])
