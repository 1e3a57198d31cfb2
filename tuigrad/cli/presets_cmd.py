"""`tuigrad presets [NAME]`: list the shipped experiments, or show one in full."""

from __future__ import annotations

import argparse
from pathlib import Path

from tuigrad import presets
from tuigrad import spec as specs
from tuigrad.errors import SpecFileError
from tuigrad.spec import LayerSpec, Spec


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "presets",
        help="list the shipped experiments, or show one in full",
        description="List the preset experiments, or print one preset's description, what to "
        "watch, what to expect and its key settings.",
    )
    parser.add_argument("name", nargs="?", metavar="NAME", help="a preset name or a spec file")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    console = Console(highlight=False)
    if args.name is None:
        console.print(preset_table())
    else:
        name, spec = _load(args.name)
        console.print(preset_details(name, spec))
    return 0


def _load(arg: str) -> tuple[str, Spec]:
    if arg.endswith(".toml") or "/" in arg or Path(arg).is_file():
        return Path(arg).stem, specs.load(arg)
    names = presets.preset_names()
    if arg not in names:
        raise SpecFileError(f"no preset named {arg!r}; presets: {', '.join(names)}")
    return arg, presets.load_preset(arg)


def one_line(spec: Spec) -> str:
    """The description's first sentence: the table's summary of a preset."""
    text = " ".join(spec.description.split())
    head, dot, _ = text.partition(". ")
    return head + (dot.strip() if dot else "")


def preset_table():
    """Every preset as a Rich table: name, title, one line."""
    from rich.table import Table

    table = Table(title="tuigrad presets", title_justify="left", expand=False)
    table.add_column("name", style="bold cyan", no_wrap=True)
    table.add_column("title")
    table.add_column("what it shows", style="dim")
    for name in presets.preset_names():
        spec = presets.load_preset(name)
        table.add_row(name, spec.title, one_line(spec))
    table.caption = "Open one with `tuigrad open NAME`; details: `tuigrad presets NAME`."
    return table


def key_choices(spec: Spec) -> list[tuple[str, str]]:
    """The settings that define the experiment, as (label, value) rows."""
    data, model, opt, clip = spec.data, spec.model, spec.optimizer, spec.clip
    rows = [("seed", str(spec.seed))]

    shape = f"{data.samples} samples, batch {data.batch_size}, dim {data.dim}"
    if data.is_classification:
        shape += f", {data.classes} classes"
    rows.append(("data", f"{data.name} ({shape}, noise {data.noise:g})"))

    rows.append(("model", _layers_text(model.resolved())))

    optimizer = f"{opt.name}, lr {opt.lr:g}"
    if opt.name in ("momentum", "nesterov", "sgd") and opt.momentum:
        optimizer += f", momentum {opt.momentum:g}"
    if opt.weight_decay:
        optimizer += f", weight decay {opt.weight_decay:g}"
    if opt.schedule != "constant":
        optimizer += f", {opt.schedule} schedule"
    rows.append(("optimizer", optimizer))

    if clip.mode == "norm":
        rows.append(("clip", f"grad norm to {clip.max_norm:g} (p = {clip.norm_type:g})"))
    elif clip.mode == "value":
        rows.append(("clip", f"grad values to +-{clip.clip_value:g}"))
    else:
        rows.append(("clip", "none"))
    return rows


def _layers_text(layers: tuple[LayerSpec, ...]) -> str:
    # Runs of identical layers collapse into "6 x 4096 tanh N(0.01)".
    runs: list[list] = []
    for layer in layers:
        text = layer.summary() + _bias_text(layer)
        if runs and runs[-1][1] == text:
            runs[-1][0] += 1
        else:
            runs.append([1, text])
    return ", ".join(f"{n} x {text}" for n, text in runs)


def _bias_text(layer: LayerSpec) -> str:
    if layer.bias_init == "default":
        return " bias:dflt"
    return f" bias={layer.bias_value:g}" if layer.bias_value else ""


def preset_details(name: str, spec: Spec):
    """One preset in full: description, what to watch, what to expect, key settings."""
    from rich.console import Group
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    settings = Table.grid(padding=(0, 2))
    settings.add_column(style="bold")
    settings.add_column()
    for label, value in key_choices(spec):
        settings.add_row(label, value)

    parts = [Text(spec.title, style="bold")]
    for heading, body in (
        ("What it shows", spec.description),
        ("Look at", spec.look_at),
        ("Expect", spec.expect),
    ):
        if body.strip():
            parts += [Text(""), Text(heading, style="bold cyan"), Text(_paragraphs(body))]
    parts += [Text(""), Text("Settings", style="bold cyan"), settings]
    parts += [Text(""), Text(f"Open: tuigrad open {name}    Headless: tuigrad train {name}")]
    return Panel(Group(*parts), title=name, title_align="left")


def _paragraphs(text: str) -> str:
    # TOML multi-line strings wrap by hand; rejoin lines so Rich wraps to the terminal.
    blocks = [" ".join(block.split()) for block in text.strip().split("\n\n")]
    return "\n\n".join(blocks)
