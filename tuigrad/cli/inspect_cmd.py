"""`tuigrad inspect RUN`: what a run file holds, in a few lines (or JSON for scripts)."""

from __future__ import annotations

import argparse
import json
import math
from typing import TYPE_CHECKING, Any

from tuigrad.frames import Frame

if TYPE_CHECKING:
    from tuigrad.diagnosis import Finding

# Per-layer columns of the last-frame table: (heading, LayerStats attribute).
COLUMNS = (
    ("act mean", "act_mean"),
    ("act std", "act_std"),
    ("saturated", "act_saturated"),
    ("dead", "act_dead"),
    ("grad std", "out_grad_std"),
    ("W grad norm", "weight_grad_norm"),
    ("grad/data", "grad_data_ratio"),
    ("update", "update_ratio"),
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "inspect",
        help="print a run file's spec, length, last frame and findings",
        description="Print a run file's spec, step count, duration, the last frame's layers, "
        "and the diagnosis findings with the step where each began.",
    )
    parser.add_argument("run_file", metavar="RUN", help="a .tuigrad run file")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from tuigrad.runs import RunReader

    with RunReader(args.run_file) as reader:
        last = reader.frame(-1) if len(reader) else None
        source, findings = run_findings(reader)
        if args.json:
            data = _as_json(reader, last)
            data["findings"] = [f.to_json() for f in findings]
            data["findings_source"] = source
            print(json.dumps(data, allow_nan=False))
        else:
            print("\n".join(_as_text(reader, last, _findings_text(source, findings))))
    return 0


def run_findings(reader: Any) -> tuple[str, list[Finding]]:
    """The run's findings: those recorded while it ran, else a diagnosis of its frames.

    Returns ("recorded" | "diagnosed" | "none", findings), most severe first.
    """
    from tuigrad.diagnosis import diagnose, sort_findings
    from tuigrad.diagnosis.finding import from_json

    recorded = [from_json({"kind": kind, **data}) for _, kind, data in reader.findings()]
    recorded = [f for f in recorded if f is not None]
    if recorded:
        return "recorded", sort_findings(recorded)
    if not len(reader):
        return "none", []
    # TODO: a run of millions of frames is read whole here; diagnose samples it down after.
    return "diagnosed", diagnose(reader.frames(), reader.layers, reader.spec)


def _findings_text(source: str, findings: list[Finding]) -> list[str]:
    from tuigrad.diagnosis.text import finding_lines

    note = {
        "recorded": "as recorded while the run trained",
        "diagnosed": "from the recorded frames",
        "none": "no frames to diagnose",
    }[source]
    lines = finding_lines(findings)
    return [f"{lines[0]} ({note})", *lines[1:]]


def _as_json(reader: Any, last: Frame | None) -> dict[str, Any]:
    meta = reader.meta
    return {
        "path": str(reader.path),
        "title": reader.title,
        "frames": len(reader),
        "first_step": reader.first_step,
        "last_step": reader.last_step,
        "duration": _finite(reader.duration),
        "writer": reader.writer_state(),
        "started_at": meta.get("started_at", ""),
        "finished_at": meta.get("finished_at"),
        "device": reader.device,
        "versions": {k: meta.get(f"{k}_version", "") for k in ("tuigrad", "torch", "python")},
        "spec": reader.spec_toml,
        "layers": [
            {
                "name": i.name,
                "summary": i.summary,
                "shape": list(i.shape),
                "activation": i.activation,
            }
            for i in reader.layers
        ],
        "last_frame": last.to_json() if last is not None else None,
    }


def _as_text(reader: Any, last: Frame | None, findings: list[str]) -> list[str]:
    meta = reader.meta
    steps = f"steps {reader.first_step} to {reader.last_step}" if len(reader) else "no frames"
    versions = ", ".join(
        f"{k} {meta[f'{k}_version']}"
        for k in ("tuigrad", "torch", "python")
        if meta.get(f"{k}_version")
    )
    lines = [
        f"run       {reader.path}",
        f"title     {reader.title}",
        f"started   {meta.get('started_at', '?')}  on {reader.device or '?'}  ({versions})",
        f"frames    {len(reader)}  ({steps})",
        f"duration  {_seconds(reader.duration)}",
        f"writer    {reader.writer_state()}",
    ]
    if reader.spec_error:
        lines.append(f"note      the spec does not load in this tuigrad: {reader.spec_error}")
    if reader.spec_toml:
        lines += [
            "",
            "spec:",
            *("  " + line if line else "" for line in reader.spec_toml.splitlines()),
        ]
    lines += ["", *findings]
    if last is not None:
        lines += ["", *_last_frame(reader, last)]
    return lines


def _last_frame(reader: Any, frame: Frame) -> list[str]:
    head = (
        f"last frame, step {frame.step}: loss {_num(frame.loss)}  accuracy {_num(frame.accuracy)}  "
        f"lr {_num(frame.lr)}  grad norm {_num(frame.grad_norm)}"
        + (f" (clipped to {_num(frame.grad_norm_clipped)})" if frame.clipped else "")
    )
    summaries = {info.name: info.summary for info in reader.layers}
    rows = [["layer", "summary", *(title for title, _ in COLUMNS)]]
    for layer in frame.layers:
        values = [_num(getattr(layer, attr)) for _, attr in COLUMNS]
        rows.append([layer.name, summaries.get(layer.name, ""), *values])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    table = [
        "  ".join(
            cell.ljust(w) if i < 2 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    return [head, "", *(line.rstrip() for line in table)]


def _num(value: float) -> str:
    return f"{value:.4g}"


def _seconds(value: float) -> str:
    if not math.isfinite(value):
        return "unknown"
    minutes, seconds = divmod(value, 60)
    return f"{value:.1f} s" if value < 60 else f"{int(minutes)} min {seconds:.0f} s ({value:.1f} s)"


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None
