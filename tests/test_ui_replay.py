"""The replay and compare views driven with Pilot over small recorded run files."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from tests.diagnosis_factory import Run
from tests.replay_files import FINDING_STEP, SPEC_A, SPEC_B, record
from tests.ui_frames import frames_for, screen_text
from tuigrad.runs import RunWriter
from tuigrad.sources.base import RunState
from tuigrad.sources.compare import align_names, compare_source
from tuigrad.sources.replay import ReplaySource
from tuigrad.sources.scripted import spec_layers
from tuigrad.ui.replay_app import ReplayApp
from tuigrad.ui.screens.help import HelpScreen
from tuigrad.ui.screens.replay import ReplayScreen, StepPrompt

KEYS = {"<": "less_than_sign", ">": "greater_than_sign", "?": "question_mark"}
BRACKETS = {"[": "left_square_bracket", "]": "right_square_bracket"}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def run_a(tmp_path):
    path = tmp_path / "a.tuigrad"
    return path, record(path, SPEC_A, 30, every=2, findings=True)


def rows(text: str) -> dict[str, str]:
    return {line.split()[0]: line for line in text.splitlines() if line[:1] in "Lh"}


def now_column(text: str) -> int:
    header = next(line for line in text.splitlines() if line.startswith("layer"))
    return header.index("now")


async def test_keys_move_through_the_recording(run_a):
    path, frames = run_a
    source = ReplaySource(path, play=False)
    app = ReplayApp(source)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        for key, cursor in (("n", 1), ("right", 2), ("n", 3), ("b", 2), ("G", 29), ("left", 28)):
            await pilot.press(key)
            await pilot.pause()
            assert source.cursor == cursor, key
        await pilot.press("g")
        await pilot.pause()
        assert source.cursor == 0
        active = app.screen.active_bindings
        assert not active["b"].enabled and active["n"].enabled  # nothing before the first
        await pilot.press("n", "n")
        await pilot.pause()

        # The rows show the frame at the cursor: its log10 gradient norm, computed here.
        text = screen_text(app)
        col = now_column(text)
        for layer in frames[2].layers:
            cell = rows(text)[layer.name][col : col + 5].strip()
            assert cell == f"{math.log10(layer.weight_grad_norm):+.1f}"
        assert "step 4 of 58" in text and "frame 3/30" in text and "x1" in text

        for key, speed in ((">", 2), (">", 4), ("]", 8), ("<", 4), ("[", 2)):
            await pilot.press(KEYS.get(key) or BRACKETS[key])
            await pilot.pause()
            assert source.speed == speed, key
        assert "x2" in screen_text(app).splitlines()[0]


async def test_speed_keys_stop_at_the_limits(run_a):
    path, _ = run_a
    source = ReplaySource(path, play=False, speed=16)
    app = ReplayApp(source)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        assert app.screen.check_action("faster", ()) is None  # shown, disabled
        for _ in range(8):
            await pilot.press("less_than_sign")
        await pilot.pause()
        assert source.speed == 0.25 and app.screen.check_action("slower", ()) is None


async def test_space_plays_at_the_recorded_pace_and_pauses(run_a):
    path, frames = run_a
    clock = Clock()
    source = ReplaySource(path, play=False, clock=clock)
    app = ReplayApp(source)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        assert app.screen.active_bindings["space"].binding.action == "play"
        await pilot.press("space")
        await pilot.pause()
        assert source.playing and app.status.state is RunState.RUNNING
        assert app.screen.active_bindings["space"].binding.action == "pause"
        assert "Pause" in screen_text(app).splitlines()[-1]
        clock.now += 0.45  # the frames are 0.02 s of wall time apart: 22 frames at x1
        app.poll()
        await pilot.pause()
        assert source.cursor == 22 and app.history.latest.step == frames[22].step
        await pilot.press("space")
        await pilot.pause()
        clock.now += 10
        app.poll()
        assert not source.playing and source.cursor == 22
        assert "Play" in screen_text(app).splitlines()[-1]


async def test_go_to_a_step_asks_for_its_number(run_a):
    path, frames = run_a
    source = ReplaySource(path, play=False)
    app = ReplayApp(source)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        await pilot.press("j")
        await pilot.pause()
        assert isinstance(app.screen, StepPrompt)
        await pilot.press(*"abc", "enter")
        await pilot.pause()
        assert isinstance(app.screen, StepPrompt)
        assert "give a whole number from 0 to 58" in screen_text(app)
        await pilot.press("backspace", "backspace", "backspace", *"41", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ReplayScreen)
        # Steps are recorded every 2: step 41 shows the frame of step 40.
        assert source.current_step == 40 and app.history.latest.step == frames[20].step
        assert "step 40 of 58" in screen_text(app)
        await pilot.press("j")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ReplayScreen) and source.current_step == 40


async def test_f_jumps_to_a_recorded_finding(run_a):
    path, _ = run_a
    source = ReplaySource(path, play=False)
    app = ReplayApp(source)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        await pilot.press("f")
        await pilot.pause()
        assert source.current_step == FINDING_STEP and not source.playing
        assert "step 20 of 58" in screen_text(app)
        notes = [n.message for n in app._notifications]
        assert f"Step {FINDING_STEP}: vanishing: L1 fades" in notes


async def test_f_jumps_to_where_diagnosis_sees_a_finding_begin(tmp_path):
    run = Run(steps=40, every=5)
    run.stats["out_grad_std"][12:, :3] *= 1e-6  # gradients vanish in L1-L3 from step 60 on
    path = tmp_path / "vanishing.tuigrad"
    with RunWriter(path, None, run.layers) as writer:
        for frame in run.frames():
            writer.write(frame)
    source = ReplaySource(path, play=False)
    app = ReplayApp(source)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        await pilot.press("f")
        await pilot.pause()
        assert source.current_step == 60
        assert "vanishing: L1-L3 receive gradients" in list(app._notifications)[-1].message
        await pilot.press("G", "f")  # past the last finding: back round to the first
        await pilot.pause()
        assert source.current_step == 60


async def test_help_and_palette_list_the_replay_keys(run_a):
    path, _ = run_a
    app = ReplayApp(ReplaySource(path, play=False))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        titles = {c.title for c in app.get_system_commands(app.screen)}
        for binding in ReplayScreen.BINDINGS:
            # Pause is offered while playing, a step back once past the first frame.
            if binding.action not in ("pause", "back"):
                assert (binding.tooltip or binding.description) in titles
        assert "Restart from the same initial weights (same seed)" not in titles
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        assert "One frame back (pauses)" in text and "b or ←" in text
        assert "< or [" in text and "Go to a step" in text
        assert "Restart from the same initial weights" not in text


async def test_follow_shows_new_frames_and_the_writer_state(tmp_path):
    path = tmp_path / "live.tuigrad"
    layers = spec_layers(SPEC_A)
    frames = frames_for(layers, 6)
    writer = RunWriter(path, SPEC_A, layers, commit_interval=0.02)
    try:
        for frame in frames[:3]:
            writer.write(frame)
        deadline = time.monotonic() + 5
        while writer.written < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        source = ReplaySource(path, follow=True)
        app = ReplayApp(source, fps=30)
        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.pause()
            assert app.history.latest.step == frames[2].step
            assert "writer writing" in screen_text(app)
            for frame in frames[3:]:
                writer.write(frame)
            writer.close()
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                await pilot.pause(0.05)
                if (
                    app.status.state is RunState.FINISHED
                    and app.history.latest.step == frames[-1].step
                ):
                    break
            text = screen_text(app)
            assert app.history.latest.step == frames[-1].step
            assert "writer finished" in text and "finished" in text.splitlines()[0]
    finally:
        writer.close()


@pytest.fixture
def pair(tmp_path):
    a, b = tmp_path / "a.tuigrad", tmp_path / "b.tuigrad"
    return a, record(a, SPEC_A, 30, every=2), b, record(b, SPEC_B, 25, every=3)


def _layer_log(frame, name):
    layer = next(s for s in frame.layers if s.name == name)
    return math.log10(layer.weight_grad_norm)


async def test_compare_interleaves_layers_with_one_scale_and_the_spec_differences(pair):
    a, frames_a, b, frames_b = pair
    source = compare_source(a, b)
    app = ReplayApp(source, compare=True)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        lines = text.splitlines()
        assert lines[0].startswith(" A  step 58  loss") and lines[0].rstrip().endswith(f"{a}")
        assert lines[1].startswith(" B  step 72  loss") and f"Six tanh layers  {b}" in lines[1]
        spec_line = next(line for line in lines if "spec A -> B:" in line)
        for item in ("model.depth 4 -> 6", "optimizer.lr 0.01 -> 0.5", "seed 0 -> 7"):
            assert item in spec_line

        # Rows: each layer of A above the same layer of B; B's extra layers blank in A.
        names = [line[:6].strip() for line in lines if line[:1] in "Lh"]
        expected = [f"{n} {r}" for n in ["L1", "L2", "L3", "L4", "L5", "L6", "head"] for r in "AB"]
        assert names == expected
        table = {line[:6].strip(): line for line in lines if line[:1] in "Lh"}
        col = now_column(text)
        assert table["L5 A"][6:].strip() == "" and table["L6 A"][6:].strip() == ""

        # At the end, A shows its last frame (step 58) and B its last (step 72).
        for label, frame in (("A", frames_a[-1]), ("B", frames_b[-1])):
            for layer in frame.layers:
                cell = table[f"{layer.name} {label}"][col : col + 5].strip()
                assert cell == f"{math.log10(layer.weight_grad_norm):+.1f}"

        # One gradient scale for both runs: it spans every row's log10 norm.
        header = next(line for line in lines if line.startswith("layer"))
        lo, hi = (float(x) for x in header.split("log10|gW| ")[1].split()[0].split("…"))
        values = [_layer_log(f, s.name) for f in (frames_a[-1], frames_b[-1]) for s in f.layers]
        assert lo <= min(values) and hi >= max(values)
        assert min(values) < np.mean(values) - 1  # the runs differ enough to need the range

        # The interleaved rows are two networks, not one: no diagnosis across them.
        assert app.findings == [] and "Diagnosis" not in text


async def test_compare_aligns_the_runs_by_step(pair):
    a, frames_a, b, frames_b = pair
    source = compare_source(a, b)
    app = ReplayApp(source, compare=True)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        await pilot.press("j", *"31", "enter")
        await pilot.pause()
        lines = screen_text(app).splitlines()
        # A records every 2 steps, B every 3: at step 31 each shows its step 30.
        assert "step 30  loss" in lines[0] and "step 30  loss" in lines[1]
        table = {line[:6].strip(): line for line in lines if line[:1] in "Lh"}
        col = now_column("\n".join(lines))
        fa, fb = frames_a[15], frames_b[10]
        assert (fa.step, fb.step) == (30, 30)
        assert table["L2 A"][col : col + 5].strip() == f"{_layer_log(fa, 'L2'):+.1f}"
        assert table["L6 B"][col : col + 5].strip() == f"{_layer_log(fb, 'L6'):+.1f}"
        await pilot.press("g")
        await pilot.pause()
        lines = screen_text(app).splitlines()
        assert "step 0  loss" in lines[0] and "step 0  loss" in lines[1]
        await pilot.press("n")  # union step 2: A has it, B still shows step 0
        await pilot.pause()
        lines = screen_text(app).splitlines()
        assert "step 2  loss" in lines[0] and "step 0  loss" in lines[1]


async def test_compare_of_a_run_with_itself_says_the_specs_are_the_same(pair):
    a, _, _, _ = pair
    app = ReplayApp(compare_source(a, a), compare=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "the two runs have the same spec" in text
        assert len(text.splitlines()) == 24 and "Quit" in text.splitlines()[-1]


def test_layer_names_align_in_model_order():
    assert align_names(["L1", "L2", "head"], ["L1", "L2", "L3", "L4", "head"]) == [
        "L1",
        "L2",
        "L3",
        "L4",
        "head",
    ]
    assert align_names(["L1", "L3", "head"], ["L1", "L2", "head"]) == ["L1", "L2", "L3", "head"]
    assert align_names(["fc1", "fc2"], ["L1"]) == ["L1", "fc1", "fc2"]


async def test_compare_says_when_a_run_has_no_spec(run_a, tmp_path):
    path, _ = run_a
    run = Run(steps=5, depth=2)
    bare = tmp_path / "script.tuigrad"
    with RunWriter(bare, None, run.layers) as writer:
        for frame in run.frames():
            writer.write(frame)
    app = ReplayApp(compare_source(path, bare), compare=True)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "spec: B: the file holds no spec" in text
        names = [line[:6].strip() for line in text.splitlines() if line[:1] in "Lh"]
        assert names[:4] == ["L1 A", "L1 B", "L2 A", "L2 B"] and names[-2:] == ["head A", "head B"]


async def test_a_click_on_the_scrub_bar_seeks_there(run_a):
    path, _ = run_a
    source = ReplaySource(path, play=False)
    app = ReplayApp(source)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        bar = screen_text(app).splitlines()[1]
        end = bar.index("  ") - 1  # the bar's last cell; the words follow two spaces on
        await pilot.click("#run-line", offset=(end, 1))
        await pilot.pause()
        assert source.cursor == 29
        assert screen_text(app).splitlines()[1].index("●") == end
        middle = 1 + (end - 1) // 2
        await pilot.click("#run-line", offset=(middle, 1))
        await pilot.pause()
        assert source.cursor in (14, 15)  # the middle of 30 frames
        assert abs(screen_text(app).splitlines()[1].index("●") - middle) <= 1


async def test_the_charts_show_the_whole_run_up_to_the_frame_shown(run_a):
    path, frames = run_a
    source = ReplaySource(path, play=False, window=4)  # the view holds 4 frames at most
    app = ReplayApp(source)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        await pilot.press("j", *"30", "enter")
        await pilot.pause()
        assert len(source.frames_since(0)) == 4
        loss, accuracy, _ = app.screen.charts
        shown = frames[:16]  # steps 0..30
        lowest = min(f.loss for f in shown)
        assert loss._lines[0][0][0].startswith(f"loss {shown[-1].loss:.3f}  min {lowest:.3f}")
        # Accuracy is above 0.33 throughout: every frame so far has a bar in the bottom row.
        bottom = accuracy._lines[-1][0][0]
        assert len(bottom.strip()) == 16 and " " not in bottom.strip()


async def test_replay_and_compare_draw_without_block_characters_in_ascii_mode(pair):
    a, _, b, _ = pair
    for app in (
        ReplayApp(ReplaySource(a, play=False), ascii=True),
        ReplayApp(compare_source(a, b), compare=True, ascii=True),
    ):
        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.pause()
            text = screen_text(app)
            assert "L1" in text
            assert not {ch for ch in text if 0x2580 <= ord(ch) <= 0x259F or ord(ch) in (0x25CF,)}


async def test_the_replay_app_settles_the_heap_once_it_is_up(run_a):
    # Seeks decode frames; a full collection walking every object of the app made one seek in
    # a few cost 20-200 ms. Once up, the app moves what is alive out of the collector's way.
    import gc

    gc.unfreeze()
    source = ReplaySource(run_a[0], play=False)
    app = ReplayApp(source)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            await pilot.pause()
            assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        source.close()
