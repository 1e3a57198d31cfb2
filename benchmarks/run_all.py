"""Run every benchmark and write benchmarks/RESULTS.md: each figure against its target.

    python -m benchmarks [--quick] [--out benchmarks/RESULTS.md] [--only probe,app,...]

`--quick` runs each benchmark in a tiny configuration (seconds, not minutes): the numbers it
writes check that the benchmarks run, not how fast tuigrad is.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import bench_app, bench_cli, bench_probe, bench_runs, bench_ui, bench_watch
from benchmarks.common import ROOT, git_commit, machine

RESULTS = ROOT / "benchmarks" / "RESULTS.md"
NOTES = ROOT / "benchmarks" / "NOTES.md"  # the analysis, appended to the results as written


@dataclass
class Row:
    figure: str
    target: str
    measured: str
    ok: bool | None  # None: no target, reported only
    note: str = ""
    key: str = ""  # the figure (FIGURES key, or "memory") that measured it
    machine: str = ""  # the CPU it was measured on (machine()["cpu"])


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    details: list[str] = field(default_factory=list)  # Markdown paragraphs under the table

    key: str = ""  # the figure being measured; its rows are tagged with it
    machine: str = ""  # the CPU measuring now; its rows are tagged with it
    machines: dict[str, dict] = field(default_factory=dict)  # CPU -> machine(), every row's

    def add(self, *rows: Row) -> None:
        for row in rows:
            row.key = row.key or self.key
            row.machine = row.machine or self.machine
        self.rows.extend(rows)


def _verdict(ok: bool | None) -> str:
    return "-" if ok is None else "yes" if ok else "**no**"


def _pct(x: float) -> str:
    return f"{x:+.1%}"


# ---- the figures ---------------------------------------------------------------------------


def _settings(probe: bench_probe.ProbeSpec) -> str:
    if probe.every >= bench_probe.NEVER:
        return "the trainer's step with the probe off (only the first step measured)"
    return f"`every={probe.every}, hist_every={probe.hist_every}, val_every={probe.val_every}`"


def probe(report: Report, quick: bool) -> None:
    if quick:
        configs = [bench_probe.Config(3, 16, 32, "tanh", "sgd")]
        reps, inner = 2, 1
    else:
        configs = list(bench_probe.CONFIGS)
        reps = 11  # the 20 x 256 nets, whose figures have targets; 5 for the others
    tb = bench_probe.has_tensorboard()
    others = bench_probe.PROBES
    heads = ["net", "bare ms", "default", *(label for _, label in others.values()), "all"]
    heads += ["floor", "bare again", "default (turns)", "all (turns)", "bare again (turns)"]
    heads += ["tensorboard", "TB extra / probe extra"]
    lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    main = []
    for config in configs:
        main_net = (config.depth, config.width) == (20, 256)
        # NOTE: a turn must hold whole sampling periods, or its share of sampled steps
        # changes from turn to turn: 50 steps hold 5 sampled steps and one with histograms.
        # The 8 x 1024 turns hold 10 (one sampled step; histograms in one turn of five).
        n = inner if quick else (10 if config.width >= 1024 else 50)
        r = bench_probe.measure(config, reps if quick or main_net else 5, n, tb)
        o, turns = r["steady_overhead"], r["overhead"]
        tb_cells = (
            (_pct(r["tensorboard_overhead"]), f"{r['tensorboard_vs_probe']:.1f}x")
            if tb
            else ("-", "-")
        )
        cells = [r["config"], f"{r['ms']['bare']:.2f}"]
        cells += [_pct(o[name]) for name in ("default", *others, "all", "floor", "bare again")]
        cells += [_pct(turns[name]) for name in ("default", "all", "bare again")]
        lines.append("| " + " | ".join([*cells, *tb_cells]) + " |")
        if quick or main_net:
            main.append(r)

    def worst(key: str, estimate: str = "steady_overhead") -> float:
        return max(r[estimate][key] for r in main)

    def noise() -> str:
        turns = [r["overhead"]["bare again"] for r in main]
        steady = [r["steady_overhead"]["bare again"] for r in main]
        return (f"bare again / bare {_pct(min(steady))} to {_pct(max(steady))} "
                f"({_pct(min(turns))} to {_pct(max(turns))} by turns)")  # fmt: skip

    names = "20 x 256, batch 256, tanh/relu x sgd/adam" if not quick else main[0]["config"]
    default = bench_probe.ProbeSpec()
    shipped = (
        f"every={default.every}, hist_every={default.hist_every}, val_every={default.val_every}"
    )
    report.add(
        Row(f"probe overhead at the shipped default ({shipped}), {names}", "<= 5%",
            f"worst {_pct(worst('default'))}", worst("default") <= 0.05,
            "the shipped default measures everything every step, so this is the 'all' figure"
            if (default.every, default.hist_every or default.every) == (1, 1) else
            f"per-place medians; by turns worst {_pct(worst('default', 'overhead'))}; {noise()}"),
        *(Row(f"probe overhead, {label} (for comparison), {names}", "-",
              f"worst {_pct(worst(name))}", None) for name, (_, label) in others.items()),
        Row(f"probe overhead, every statistic and histogram every step, {names}", "<= 25%",
            f"worst {_pct(worst('all'))}", worst("all") <= 0.25,
            f"per-place medians; by turns worst {_pct(worst('all', 'overhead'))}"),
        Row(f"floor: one extra read of every activation and gradient, {names}", "reported",
            f"worst {_pct(worst('floor'))}", None),
    )  # fmt: skip
    if tb:
        cheapest = min(r["tensorboard_vs_probe"] for r in main)
        report.add(
            Row(f"TensorBoard add_histogram/add_scalar per layer vs the probe, {names}",
                ">= 10x cheaper", f"probe {cheapest:.1f}x cheaper (least)", cheapest >= 10)
        )  # fmt: skip
    else:
        report.add(Row("TensorBoard vs the probe", ">= 10x cheaper", "not measured", None,
                       "tensorboard is not installed (`pip install tensorboard`)"))  # fmt: skip
    report.details.append(
        "### Probe overhead, all configurations\n\n"
        "CPU time per step of this process, one torch thread, subnormal floats flushed to zero "
        f"(see bench_probe.measure), medians of {reps} (20 x 256) or 5 "
        "(the other nets) interleaved repetitions, each of 50 steps of every variant in turn "
        "(10 on the 8 x 1024 nets, whose turns see the histogram step once in five), every step "
        "timed. The overheads (the first columns) are per-place medians: for each step's place "
        "in a turn the median over the repetitions, their mean, against the bare step's "
        "(`benchmarks.common.per_position`); bursts of load on this shared machine land in a few "
        "steps of one turn and drop out, while a cost at the same place in every turn (the "
        "sampled steps, a turn's first steps) stays in. The columns marked (turns) are medians of "
        "the per-repetition ratios of a turn's mean to the bare turn's; bare again is the bare "
        "step in turns of its own, the noise of each estimate. "
        f"default = `ProbeSpec()` as shipped ({shipped}; its validation pass timed on its own "
        "and added, amortised, as a median over turns would leave out a pass that comes once "
        "in several turns); "
        + "".join(f"{label} = {_settings(p)}; " for p, label in others.values())
        + "all = every "
        "statistic and histogram every step (no validation); floor = the bare step plus a sum over every "
        "activation, its gradient and every weight gradient; tensorboard = the bare step plus "
        "`add_histogram` (activation, weight gradient, weight) and six `add_scalar` per layer.\n\n"
        + "\n".join(lines)
    )


def app(report: Report, quick: bool) -> None:
    if quick:
        r = bench_app.measure(seconds=0.5, warmup=0.2, reps=1, depth=2, width=8)
    else:
        r = bench_app.measure(seconds=8.0, warmup=3.0, reps=3)
    apps = ", ".join(f"{x:.1f}" for x in r["app_steps_per_s"])
    heads = ", ".join(f"{x:.1f}" for x in r["headless_steps_per_s"])
    report.add(
        Row(f"training throughput, app open at {r['fps']:g} fps / headless, {r['net']}",
            ">= 0.9", f"{r['ratio']:.2f}", r["ratio"] >= 0.9,
            f"steps/s app {apps}; headless {heads}")
    )  # fmt: skip


def terminal_bytes(report: Report, quick: bool) -> None:
    if quick:
        args = bench_ui.bytes_args(layers=3, seconds=0.5, warmup=0.5, rate=50.0, base=20)
    else:
        args = bench_ui.bytes_args(layers=20, seconds=10.0, warmup=3.0)
    r = bench_ui.measure_bytes(args)
    report.add(
        Row(f"bytes/s to the terminal, {args.size[0]}x{args.size[1]}, {args.layers} layers, "
            f"{args.fps:g} fps, frames arriving at {args.rate:g}/s (pty, truecolor)",
            "<= 100 KiB/s", f"{r['kib_per_s']:.1f} KiB/s", r["kib_per_s"] <= 100,
            f"app CPU {r['cpu_pct']:.0f}% of a core")
    )  # fmt: skip
    args.colors = "256"
    r = bench_ui.measure_bytes(args)
    report.add(
        Row("the same in a 256-colour terminal (TERM=xterm-256color, no COLORTERM)",
            "reported", f"{r['kib_per_s']:.1f} KiB/s", None,
            f"app CPU {r['cpu_pct']:.0f}% of a core")
    )  # fmt: skip


def render(report: Report, quick: bool) -> None:
    layers, size, frames = (5, (80, 24), 5) if quick else (50, (200, 60), 200)
    # The app as a user runs it, in a terminal: all it spends per frame drawn, and with no new
    # frames (its timers) beside it.
    seconds, warmup, base = (0.5, 0.5, 20) if quick else (10.0, 3.0, 200)
    fps, runs = 10.0, 1 if quick else 3
    # Three runs each, in turns: one run moves by a few milliseconds a frame on this machine.
    drawn, idle = [], []
    for _ in range(runs):
        for rate, out in ((10.0, drawn), (0.001, idle)):
            args = bench_ui.bytes_args(layers=layers, size=size, rate=rate, seconds=seconds,
                                       warmup=warmup, base=base)  # fmt: skip
            out.append(bench_ui.measure_bytes(args))
    # An odd number of runs: the median is the middle run, whose other figures go in the note.
    drawn.sort(key=lambda r: r["cpu_pct"])
    per_frame = [r["cpu_pct"] / 100 / fps * 1e3 for r in drawn]
    median, middle = per_frame[runs // 2], drawn[runs // 2]
    per_idle = statistics.median(r["cpu_pct"] / 100 / fps * 1e3 for r in idle)
    spread = f" (runs {', '.join(f'{ms:.1f}' for ms in per_frame)})" if runs > 1 else ""
    report.add(
        Row(f"dashboard render time per frame, {layers} layers, {size[0]}x{size[1]}: the app's "
            f"CPU per frame drawn in a terminal (pty), a new frame at each of {fps:g} redraws "
            "a second", "<= 10 ms", f"{median:.1f} ms median{spread}", median <= 10,
            f"app CPU {middle['cpu_pct']:.0f}% of a core, {middle['kib_per_s']:.0f} KiB/s; with "
            f"no new frame {per_idle:.1f} ms per redraw (timers)")
    )  # fmt: skip
    r = bench_ui.measure_frame_time(layers, size, frames)
    ms = {name: values[0] for name, values in r["ms"].items()}
    both = r["ms"]["both together"]
    report.add(
        Row("the same frames drawn back to back, headless: poll and paint", "reported",
            f"{both[0]:.1f} ms median (p90 {both[1]:.1f})", None,
            f"poll {ms['poll: read, rebuild lines']:.1f} ms + paint "
            f"{ms['paint the changed lines']:.1f} ms, escape sequences included, the test "
            f"harness's wait ({ms['harness wait (taken off)']:.1f} ms) taken off; full repaint "
            f"{ms['full repaint (resize)']:.1f} ms")
    )  # fmt: skip


def runs(report: Report, quick: bool) -> None:
    import tempfile

    frames, layers, bins, hist_every = (500, 3, 40, 10) if quick else (100_000, 6, 40, 10)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.tuigrad"
        w = bench_runs.write_file(path, frames, layers, bins, hist_every)
        size = path.stat().st_size
        s = bench_runs.seek_times(path, 20 if quick else 200, None)
    shape = f"{frames:,} frames x {layers} layers, {bins} bins, histograms every {hist_every}"
    report.add(
        Row(f"run file: bytes per layer per frame, {shape}", "reported",
            f"{size / (frames * layers):.0f} B", None,
            f"blob {w['bare_blob_bytes'] / layers:.0f} B/layer scalars only, "
            f"{w['full_blob_bytes'] / layers:.0f} B with histograms"),
        Row("run file: write cost per frame", "reported",
            f"{w['write_call_mean_us']:.1f} us in the caller (p99 {w['write_call_p99_us']:.1f})",
            None, f"writer thread keeps up with {w['recorded_frames_per_s']:,.0f} frames/s"),
        Row(f"run file: seek in {frames:,} frames (replay view)", "<= 50 ms",
            f"{s['replay_seek_median_ms']:.1f} ms median, max {s['replay_seek_max_ms']:.1f}",
            s["replay_seek_max_ms"] <= 50,
            f"open {s['open_ms']:.0f} ms; frame_at {s['frame_at_median_ms']:.2f} ms"),
    )  # fmt: skip


def memory_start(quick: bool) -> subprocess.Popen:
    """The memory benchmark runs in its own process (RSS of that process alone)."""
    steps = 1000 if quick else 200_000
    cmd = [sys.executable, "-m", "benchmarks.bench_memory", "--steps", str(steps), "--json"]
    cmd += ["--settle", "200"] if quick else []
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)


def memory_finish(report: Report, proc: subprocess.Popen) -> None:
    out, _ = proc.communicate()
    if proc.returncode != 0:
        report.key = "memory"
        report.add(Row("memory growth", "<= 20 MB", "failed", False, f"exit {proc.returncode}"))
        return
    report.key = "memory"
    r = json.loads(out.strip().splitlines()[-1])
    full = [mb for step, mb in r["samples"] if step >= r["buffer_frames"]]
    plateau = (r["rss_end_mb"] - full[0]) if len(full) > 1 else float("nan")
    note = (
        f"RSS {r['rss_after_settle_mb']:.0f} MB after settling, {r['rss_end_mb']:.0f} MB at the end"
    )
    if len(full) > 1:
        note += f"; {plateau:+.1f} MB after the {r['buffer_frames']:,}-frame buffer filled"
    report.add(
        Row(f"memory growth over {r['steps']:,} steps of a {r['net']} net (ThreadLiveSource)",
            "<= 20 MB", f"{r['growth_mb']:+.1f} MB", r["growth_mb"] <= 20, note)
    )  # fmt: skip


def cli(report: Report, quick: bool) -> None:
    r = bench_cli.measure(runs=2 if quick else 9)
    report.add(
        Row(f"`{r['command']}` wall time", "<= 0.3 s", f"{r['help_s']:.3f} s median",
            r["help_s"] <= 0.3, f"`python -c pass` {r['python_s']:.3f} s; {r['runs']} runs")
    )  # fmt: skip


def watch(report: Report, quick: bool) -> None:
    r = bench_watch.measure(quick=quick)
    bare_ms, watched_ms = r["cpu_ms"]
    extra = r["steps_extra_ms"]
    report.add(
        Row(f"`watch(every={r['every']})` overhead on a user loop ({r['net']})", "<= 2%",
            f"{_pct(r['steps_overhead'])} CPU time", r["steps_overhead"] <= 0.02,
            f"per-step medians over {r['reps']} blocks of {r['steps']} steps: a sampled step "
            f"+{extra['sampled']:.2f} ms over a bare {bare_ms:.2f} ms, the histogram step "
            f"+{extra['first']:.2f}, the step after +{extra['after']:.2f}, the others "
            f"{extra['between']:+.2f}; the same between two bare loops "
            f"{_pct(r['steps_noise_overhead'])}; paired blocks {_pct(r['cpu_overhead'])} "
            f"(bare again {_pct(r['cpu_noise'])}); wall time {_pct(r['wall_overhead'])}")
    )  # fmt: skip


FIGURES: dict[str, Callable[[Report, bool], None]] = {
    "probe": probe,
    "watch": watch,
    "app": app,
    "bytes": terminal_bytes,
    "render": render,
    "runs": runs,
    "cli": cli,
}


# ---- the results file ----------------------------------------------------------------------


def write(
    report: Report,
    path: Path,
    command: str,
    info: dict,
    seconds: float,
    stamp: str | None = None,
) -> None:
    stamp = stamp or f"Commit {git_commit()}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    machines = {**report.machines, info["cpu"]: info}
    used = [m for m in machines if any(r.machine == m for r in report.rows)] or [info["cpu"]]
    several = len(used) > 1
    lines = ["# Benchmark results", ""]
    lines += [
        "Written by the benchmark runner; do not edit by hand. Command:",
        "",
        f"    {command}",
        "",
        f"{stamp}, {seconds / 60:.1f} minutes.",
        "",
        "## Machines" if several else "## Machine",
        "",
    ]
    if several:
        lines += [
            "The figures come from runs on more than one machine; the table's last column says "
            "which. Figures from different machines are not comparable with each other.",
            "",
        ]
    for cpu in used:
        if several:
            lines += [f"### {cpu}", ""]
        lines += [f"- {key}: {value}" for key, value in machines[cpu].items()]
        lines.append("")
    lines += [
        "No GPU here: the CUDA figures are not measured. The machine is shared with other work; "
        "each ratio is measured in one process, its variants in turns, and reported as a median.",
        "",
        "## Figures",
        "",
        "| figure | target | measured | met | note |" + (" machine |" if several else ""),
        "|---|---|---|---|---|" + ("---|" if several else ""),
    ]
    for r in report.rows:
        cells = [r.figure, r.target, r.measured, _verdict(r.ok), r.note]
        cells += [r.machine] if several else []
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    for detail in report.details:
        lines += [detail, ""]
    if NOTES.exists():
        lines += [NOTES.read_text().rstrip(), ""]
    path.write_text("\n".join(lines))
    # The measurements as data, so the file can be written again with new notes (--rewrite).
    raw = {"rows": [vars(r) for r in report.rows], "details": report.details}
    raw.update(command=command, info=info, seconds=seconds, stamp=stamp)
    raw["machines"] = {cpu: machines[cpu] for cpu in used}
    path.with_suffix(".json").write_text(json.dumps(raw, indent=1))


def _loaded(raw: dict) -> Report:
    """The report a results file's .json twin holds; rows written before rows named their
    machine were measured on the one the file names."""
    cpu = raw["info"]["cpu"]
    rows = [Row(**{"machine": cpu, **r}) for r in raw["rows"]]
    return Report(rows, raw["details"], machines=raw.get("machines", {cpu: raw["info"]}))


def rewrite(path: Path) -> None:
    """Write `path` again from its .json twin: same figures, the current notes."""
    raw = json.loads(path.with_suffix(".json").read_text())
    write(_loaded(raw), path, raw["command"], raw["info"], raw["seconds"], raw["stamp"])


def _merged(
    path: Path, report: Report, only: set[str], command: str, seconds: float
) -> tuple[Report, str, float]:
    """The figures of `path` with those in `only` replaced by the new measurements."""
    raw = json.loads(path.with_suffix(".json").read_text())
    before = _loaded(raw)
    new = {row.key: [] for row in report.rows}
    for row in report.rows:
        new[row.key].append(row)
    rows, done = [], set()
    for old in before.rows:
        if old.key not in only:
            rows.append(old)
        elif old.key not in done:
            rows += new.get(old.key, [])
            done.add(old.key)
    details = raw["details"] if "probe" not in only else report.details
    merged = Report(rows, details, machines={**before.machines, **report.machines})
    return merged, f"{raw['command']}, then {command}", raw["seconds"] + seconds


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--quick", action="store_true", help="tiny configurations (a smoke run)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--only", help=f"comma-separated, of: memory, {', '.join(FIGURES)}")
    parser.add_argument("--rewrite", action="store_true", help="only rewrite --out with the notes")
    parser.add_argument(
        "--update", action="store_true", help="with --only: keep the other figures of --out"
    )
    args = parser.parse_args(argv)
    if args.rewrite:
        rewrite(args.out)
        return args.out
    only = set(args.only.split(",")) if args.only else set(FIGURES) | {"memory"}
    unknown = only - set(FIGURES) - {"memory"}
    if unknown:
        parser.error(f"unknown figure {sorted(unknown)[0]!r}; valid: memory, {', '.join(FIGURES)}")

    started = time.monotonic()
    info = machine()
    report = Report(machine=info["cpu"])
    # NOTE: measuring, the memory run comes last and alone: beside the probe figures it shared
    # the caches and memory bandwidth with them and made the probe look up to half again
    # dearer. A quick run times nothing, so there it runs beside the others.
    memory = memory_start(True) if args.quick and "memory" in only else None
    for name, figure in FIGURES.items():
        if name not in only:
            continue
        print(f"benchmark: {name}", file=sys.stderr, flush=True)
        report.key = name
        figure(report, args.quick)
    if "memory" in only:
        print("benchmark: memory", file=sys.stderr, flush=True)
        memory_finish(report, memory or memory_start(args.quick))
    command = "python -m benchmarks" + " ".join([""] + (argv if argv is not None else sys.argv[1:]))
    seconds = time.monotonic() - started
    if args.update:
        report, command, seconds = _merged(args.out, report, only, command, seconds)
    write(report, args.out, command, info, seconds)
    print(f"wrote {os.path.relpath(args.out)}", file=sys.stderr)
    return args.out


if __name__ == "__main__":
    main()
