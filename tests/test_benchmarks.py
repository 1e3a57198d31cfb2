"""The benchmark suite runs: every figure in a tiny configuration, into a results file."""

from __future__ import annotations

import json
import re
import statistics
from pathlib import Path

import pytest

from benchmarks import bench_app, bench_probe, bench_ui, run_all
from benchmarks.common import interleaved, interleaved_calls, per_position


@pytest.fixture(scope="module")
def results_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bench") / "RESULTS.md"
    run_all.main(["--quick", "--out", str(out)])
    return out


@pytest.fixture(scope="module")
def results(results_file: Path) -> str:
    return results_file.read_text()


def test_every_figure_has_a_row(results: str) -> None:
    for figure in (
        "probe overhead at the shipped default",
        "every statistic and histogram every step",
        "floor: one extra read",
        "TensorBoard",
        "training throughput, app open",
        "bytes/s to the terminal",
        "the same in a 256-colour terminal",
        "dashboard render time per frame",
        "the same frames drawn back to back, headless",
        "run file: bytes per layer per frame",
        "run file: write cost per frame",
        "run file: seek in",
        "memory growth over",
        "`tuigrad --help` wall time",
        "`watch(every=10)` overhead",
    ):
        assert figure in results, figure
    assert "No GPU here" in results and "torch: " in results and "cpu: " in results


def test_figures_are_measured_numbers(results: str) -> None:
    rows = [line for line in results.splitlines() if line.startswith("| ")][1:]
    table = [r for r in rows if r.count("|") == 6]
    measured = {r.split("|")[1].strip(): r.split("|")[3].strip() for r in table}
    for figure, value in measured.items():
        if "not measured" in value or "watch" in figure or "TensorBoard" in figure:
            continue
        assert re.search(r"\d", value), (figure, value)
    steps = [v for f, v in measured.items() if f.startswith("training throughput")]
    assert steps and float(steps[0]) > 0


def test_the_app_draws_steps_that_advance() -> None:
    # The throughput figure reads steps from what the app draws: check the parsing on bytes
    # split across reads, and the rate over a window.
    first, carry = bench_app.steps_drawn(b"\x1b[1;1H step 1,2")
    assert first == [] and carry.endswith(b"step 1,2")
    second, _ = bench_app.steps_drawn(carry + b"34  lr 0.01 step 1,240 ")
    assert second == [1234, 1240]
    assert bench_app.rate_of([(0.0, 0), (1.0, 10), (2.0, 30), (3.0, 50)], 1.0) == 20.0


def test_floor_and_bare_steps_train() -> None:
    config = bench_probe.Config(2, 8, 16, "relu", "adam")
    samples = bench_probe.measure(config, reps=1, inner=1, tensorboard=False)
    assert set(samples["overhead"]) >= {"default", *bench_probe.PROBES, "floor", "all"}
    assert all(ms > 0 for ms in samples["ms"].values())


def test_per_place_medians_leave_out_a_burst_and_keep_a_cost_at_one_place() -> None:
    turns = [[1.0, 1.0, 3.0, 1.0] for _ in range(5)]  # the third step of each turn is sampled
    turns[1][0] = turns[2][1] = turns[3][3] = 50.0  # bursts of load, each in one turn
    assert per_position(turns) == pytest.approx(1.5)
    assert statistics.median(sum(t) / len(t) for t in turns) > 1.5


def test_every_call_is_timed_in_the_same_turns() -> None:
    order: list[str] = []
    variants = {name: (lambda n=name: order.append(n)) for name in ("a", "b", "c")}
    clock = iter(range(10_000)).__next__
    calls = interleaved_calls(variants, reps=4, inner=3, clock=clock)
    assert {name: [len(turn) for turn in turns] for name, turns in calls.items()} == {
        name: [3] * 4 for name in variants
    }
    assert all(s == 1 for turns in calls.values() for turn in turns for s in turn)
    by_turns = order.copy()
    order.clear()
    interleaved(variants, reps=4, inner=3, clock=clock)
    assert order == by_turns


def test_changed_spans_find_the_runs_that_differ() -> None:
    # The dashboard repaints a line up to its last changed run: the bytes figure rests on it.
    from tuigrad.ui.rows import changed_spans

    old = (("L1  ", "name"), (" ", ""), ("▁▂▃", "spark"), (" ", ""), ("+0.1", "muted"))
    assert changed_spans(old, old) == []
    new = (("L1  ", "name"), (" ", ""), ("▂▃▄", "spark"), (" ", ""), ("+0.1", "muted"))
    assert changed_spans(old, new) == [(5, 8)]
    recoloured = new[:4] + (("+0.1", "bad"),)
    assert changed_spans(old, recoloured) == [(5, 8), (9, 13)]
    assert changed_spans(old, old[:3]) is None
    assert changed_spans(old, old[:4] + (("+0.12", "muted"),)) is None


def test_update_names_the_machine_of_each_figure(results_file: Path) -> None:
    # Figures carried over from a run on another machine keep its name, and both are described.
    before = json.loads(results_file.with_suffix(".json").read_text())
    here = before["info"]["cpu"]
    for row in before["rows"]:
        del row["machine"]  # as files written before rows named their machine
    before.pop("machines")
    before["info"] = {
        **before["info"],
        "cpu": "Other CPU",
        "load average at start (1, 5, 15 min)": "9",
    }
    copy = results_file.with_name("MOVED.md")
    copy.with_suffix(".json").write_text(json.dumps(before))
    run_all.main(["--quick", "--only", "cli", "--update", "--out", str(copy)])

    after = json.loads(copy.with_suffix(".json").read_text())
    assert {r["machine"] for r in after["rows"] if r["key"] == "cli"} == {here}
    assert {r["machine"] for r in after["rows"] if r["key"] != "cli"} == {"Other CPU"}
    assert set(after["machines"]) == {here, "Other CPU"}
    text = copy.read_text()
    assert "## Machines" in text and "### Other CPU" in text and f"### {here}" in text
    assert "- load average at start (1, 5, 15 min): 9" in text
    cli_row = next(line for line in text.splitlines() if "`tuigrad --help`" in line)
    assert cli_row.rstrip(" |").endswith(here)

    # Measured again here, every figure is this machine's, and the file says so once.
    run_all.main(["--quick", "--update", "--out", str(copy)])
    again = json.loads(copy.with_suffix(".json").read_text())
    assert {r["machine"] for r in again["rows"]} == {here} and set(again["machines"]) == {here}
    assert "## Machine\n" in copy.read_text()


def test_update_measures_again_only_the_figures_named(results_file: Path) -> None:
    before = json.loads(results_file.with_suffix(".json").read_text())
    copy = results_file.with_name("UPDATED.md")
    copy.with_suffix(".json").write_text(json.dumps(before))
    run_all.main(["--quick", "--only", "cli", "--update", "--out", str(copy)])
    after = json.loads(copy.with_suffix(".json").read_text())
    assert [r["figure"] for r in after["rows"]] == [r["figure"] for r in before["rows"]]
    kept = [(a, b) for a, b in zip(after["rows"], before["rows"], strict=True) if b["key"] != "cli"]
    assert kept and all(a == b for a, b in kept)
    assert after["command"].endswith(
        "then python -m benchmarks --quick --only cli --update --out " + str(copy)
    )


def test_frame_time_pays_for_the_escape_sequences_and_not_for_the_harness() -> None:
    r = bench_ui.measure_frame_time(3, (80, 24), 3)
    # Each new frame's update reaches the terminal's encoding: cursor moves and colours.
    assert r["update_bytes"] > 100
    assert set(r["ms"]) >= {"paint the changed lines", "harness wait (taken off)"}
    assert r["ms"]["harness wait (taken off)"][0] > 0
