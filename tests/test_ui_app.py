"""The app driven with Pilot over a scripted frame source: keys, screens, edge cases."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from textual.widgets import Input, Select

from tests.ui_frames import fade_out_grads, frames_for, screen_text, scripted
from tuigrad import spec as specs
from tuigrad.frames import Frame, Hist
from tuigrad.sources.base import RunState
from tuigrad.sources.scripted import ALL_CONTROLS, ScriptedSource, spec_layers
from tuigrad.spec import Spec
from tuigrad.ui import TuigradApp
from tuigrad.ui.screens.builder import BuilderScreen
from tuigrad.ui.screens.dashboard import DashboardScreen
from tuigrad.ui.screens.help import HelpScreen, key_table
from tuigrad.ui.widgets.layer_table import LayerTable

SPEC = Spec(title="Four tanh layers").with_values({"model.depth": 4, "clip.mode": "norm"})


def make_app(tmp_path: Path, spec: Spec = SPEC, **kw) -> tuple[TuigradApp, ScriptedSource]:
    source = scripted(spec, steps=kw.pop("steps", 20), shown=kw.pop("shown", None))
    return TuigradApp(source, screenshot_dir=tmp_path, **kw), source


def sick_frames(spec: Spec, steps: int) -> list[Frame]:
    """Gradients fading towards the input (vanishing at L1-L2) and L4 half saturated."""
    frames = fade_out_grads(frames_for(spec_layers(spec), steps))
    out = []
    for frame in frames:
        layers = list(frame.layers)
        layers[3] = replace(layers[3], act_saturated=0.5)
        out.append(replace(frame, layers=tuple(layers)))
    return out


def sick_source(spec: Spec = SPEC, steps: int = 20, **kw) -> ScriptedSource:
    """A sick run of `spec`; a reset with any other spec rebuilds it healthy: the cure."""

    def rebuild(new: Spec | None, reseed: bool):
        s = new or spec
        layers = spec_layers(s)
        return layers, (sick_frames(s, steps) if s == spec else frames_for(layers, steps))

    return ScriptedSource(
        sick_frames(spec, steps), spec_layers(spec), spec=spec, rebuild=rebuild, **kw
    )


def table_rows(text: str) -> dict[str, str]:
    return {ln.split()[0]: ln for ln in text.splitlines() if ln[:1] in "Lh" and ln[1:2] != "a"}


async def test_every_key_in_the_help_does_what_it_says(tmp_path):
    source = sick_source(shown=1)
    app = TuigradApp(source, screenshot_dir=tmp_path)
    # The fix for vanishing in a xavier net, on the spec as `c` left it (clipping off).
    fixed = SPEC.with_values({"model.norm": "batch", "clip.mode": "none"})
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(LayerTable)
        side = app.screen.query_one("#side")
        dashboard = app.screen
        checks = {
            "space": lambda: (
                source.calls[-1] == ("start",) and app.status.state is RunState.RUNNING
            ),
            "n": lambda: source.calls[-1] == ("step_once",),
            "r": lambda: source.calls[-1] == ("reset", None, False),
            "R": lambda: source.calls[-1] == ("reset", None, True),
            "+": lambda: source.calls[-1] == ("set_lr", pytest.approx(2 * SPEC.optimizer.lr)),
            "-": lambda: source.calls[-1] == ("set_lr", pytest.approx(SPEC.optimizer.lr)),
            "c": lambda: source.calls[-1] == ("set_clip", "none", None),
            "h": lambda: table.kind == "grad_hist",
            "p": lambda: side.display is True,
            "j": lambda: app.findings[dashboard.selected].kind == "saturation",
            "k": lambda: app.findings[dashboard.selected].kind == "vanishing",
            "f": lambda: dashboard.expanded is False and "why:" not in screen_text(app),
            "a": lambda: (
                source.calls[-2:] == [("reset", fixed, False), ("start",)] and app.spec == fixed
            ),
            "s": lambda: (tmp_path / "tuigrad-step0.svg").is_file(),
            "?": lambda: isinstance(app.screen, HelpScreen),
            "e": lambda: isinstance(app.screen, BuilderScreen),
        }
        keys = {"space": "space", "+": "plus", "-": "minus", "?": "question_mark"}
        for key, check in checks.items():
            if key == "n":  # a single step is offered while paused
                await pilot.press("space")
            await pilot.press(keys.get(key, key))
            await pilot.pause()
            assert check(), key
            if key in ("?", "e"):
                await pilot.press("escape")
                await pilot.pause()
                assert isinstance(app.screen, DashboardScreen)
        await pilot.press("q")
        await pilot.pause()
    assert source.closed and source.calls[-1] == ("close",)
    # Every key the help lists for the dashboard (and everywhere) was pressed above.
    listed = {key for where, key, _ in key_table() if where != "builder"}
    assert listed - {"ctrl+p"} == set(checks) | {"q"}


async def test_footer_follows_the_run_state(tmp_path):
    app, source = make_app(tmp_path, shown=1)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        active = app.screen.active_bindings
        assert active["space"].binding.action == "start" and active["n"].enabled
        await pilot.press("space")
        await pilot.pause()
        active = app.screen.active_bindings
        assert active["space"].binding.action == "pause" and not active["n"].enabled
        assert "Pause" in screen_text(app).splitlines()[-1]


async def test_a_source_without_controls_offers_no_control_keys(tmp_path):
    frames = frames_for(spec_layers(SPEC), 5)
    source = ScriptedSource(frames, spec_layers(SPEC), spec=SPEC, controls=frozenset())
    app = TuigradApp(source, screenshot_dir=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        active = app.screen.active_bindings
        assert not {"space", "n", "r", "R", "plus", "minus", "c", "e", "a"} & set(active)
        assert {"h", "question_mark", "q"} <= set(active)
        await pilot.press("space", "r", "e", "a")
        assert source.calls == [] and isinstance(app.screen, DashboardScreen)


async def test_command_palette_offers_every_enabled_key(tmp_path):
    app = TuigradApp(sick_source(shown=1), screenshot_dir=tmp_path)  # findings to act on
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        titles = {c.title for c in app.get_system_commands(app.screen)}
        for binding in DashboardScreen.BINDINGS:
            if binding.action not in ("pause",):  # pause is offered while running
                assert (binding.tooltip or binding.description) in titles


async def test_builder_edits_make_the_spec_that_trains(tmp_path):
    app, source = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        builder = app.screen
        assert isinstance(builder, BuilderScreen)

        width = builder.query_one("#f-width", Input)
        width.focus()
        await pilot.press(*"64")  # focus selects the text; typing replaces it
        await pilot.pause()
        builder.query_one("#f-activation", Select).value = "relu"
        builder.query_one("#f-optimizer-name", Select).value = "adam"
        builder.query_one("#f-optimizer-lr", Input).value = "3e-4"
        builder.query_one("#f-init", Select).value = "normal"
        await pilot.pause()
        builder.query_one("#f-init-param", Input).value = "0.05"
        await pilot.pause()

        builder.query_one("#stack").focus()
        await pilot.press("d", "x", "a")  # duplicate L1, remove the copy (L2), add a layer after L2
        await pilot.pause()
        builder.query_one("#f-width", Input).value = "16"
        await pilot.pause()
        builder.query_one("#stack").focus()
        await pilot.press("ctrl+up")  # the new layer (L3) moves up to L2
        await pilot.pause()
        await pilot.press("ctrl+t")
        await pilot.pause()

    edited = replace(
        SPEC.model.resolved()[0], width=64, activation="relu", init="normal", init_std=0.05
    )
    plain = SPEC.model.resolved()[1]
    layers = [edited, replace(plain, width=16), plain, plain, plain]
    expected = replace(SPEC, model=SPEC.model.with_layers(layers))
    expected = expected.with_values({"optimizer.name": "adam", "optimizer.lr": 3e-4})
    reset = [c for c in source.calls if c[0] == "reset"]
    assert reset and reset[-1][1] == expected
    assert source.calls[-2:] == [("start",), ("close",)]  # trains, then the test ends the app


async def test_invalid_values_are_flagged_where_typed_and_block_training(tmp_path):
    app, source = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("e")
        await pilot.pause()
        builder = app.screen
        cases = {
            "#f-width": ("0", "allowed range [1,"),
            "#f-dropout": ("1", "allowed range [0, 1)"),
            "#f-optimizer-lr": ("fast", "expected a number"),
            "#f-data-batch-size": ("100000", "at most data.samples"),
            "#f-device": ("gpu", "valid: auto, cpu"),
        }
        for selector, (text, reason) in cases.items():
            builder.query_one(selector, Input).value = text
            await pilot.pause()
            field = builder.query_one(selector, Input)
            error = builder.query_one(f"{selector}-error")
            assert field.has_class("-invalid") and error.display, selector
            assert reason in str(error.render()), (selector, str(error.render()))
        assert builder.check_action("train", ()) is None
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert isinstance(app.screen, BuilderScreen)
        assert not [c for c in source.calls if c[0] in ("reset", "start")]
        assert "invalid" in screen_text(app)
        # Fixing every field lets training start.
        for selector, value in {
            "#f-width": "32",
            "#f-dropout": "0.1",
            "#f-optimizer-lr": "0.1",
        }.items():
            builder.query_one(selector, Input).value = value
        builder.query_one("#f-data-batch-size", Input).value = "128"
        builder.query_one("#f-device", Input).value = "cpu"
        await pilot.pause()
        assert not builder.errors and builder.check_action("train", ()) is True


async def test_builder_saves_and_loads_toml(tmp_path):
    app, _ = make_app(tmp_path)
    path = tmp_path / "exp.toml"
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("e")
        await pilot.pause()
        builder = app.screen
        builder.query_one("#f-path", Input).value = str(path)
        builder.query_one("#f-seed", Input).value = "42"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert specs.load(path) == SPEC.with_values({"seed": 42})
        builder.query_one("#f-seed", Input).value = "7"
        await pilot.pause()
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert builder.spec.seed == 42 and builder.query_one("#f-seed", Input).value == "42"
        path.write_text("[model]\nwidth = -3\n")
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert builder.spec.seed == 42  # a bad file changes nothing


def _broken_frames(spec: Spec) -> list[Frame]:
    frames = frames_for(spec_layers(spec), 6)
    last = frames[-1]
    bad_layers = list(last.layers)
    nan_hist = Hist(math.nan, math.nan, np.full(40, np.nan, dtype=np.float32))
    bad_layers[0] = replace(
        bad_layers[0], weight_grad_norm=math.nan, act_std=math.nan, act_hist=nan_hist
    )
    bad_layers[1] = replace(bad_layers[1], weight_grad_norm=math.inf, update_ratio=math.inf)
    bad_layers[2] = replace(bad_layers[2], weight_grad_norm=0.0, update_ratio=0.0)
    frames[-1] = replace(last, loss=math.nan, grad_norm=math.inf, layers=tuple(bad_layers))
    return frames


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_nan_and_inf_are_drawn_and_said(tmp_path, size):
    frames = _broken_frames(SPEC)
    source = ScriptedSource(frames, spec_layers(SPEC), spec=SPEC)
    source.set_status(RunState.PAUSED, "paused: the loss is not finite")
    app = TuigradApp(source, screenshot_dir=tmp_path)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        for kind in range(3):
            text = screen_text(app)
            assert "loss is NaN" in text and "gradient norm is Inf" in text
            assert "first non-finite at step 5" in text
            rows = {line.split()[0]: line for line in text.splitlines() if line[:1] in "Lh"}
            assert "×" in rows["L1"] and "NaN" in rows["L1"]  # marker and word
            assert "▲" in rows["L2"] and "Inf" in rows["L2"]
            assert "·" in rows["L3"] and "-Inf" in rows["L3"]  # an exactly zero gradient
            if kind == 0 and size[0] >= 120:
                assert "activations NaN" in rows["L1"]
                assert "±NaN" in rows["L1"]  # the std in words, not a sliced "aN"
            assert "nonfinite at L1-L2" in text or "nonfinite " in text  # the finding, first
            assert app.findings[0].kind == "nonfinite"
            await pilot.press("h")
            await pilot.pause()


async def test_error_state_is_shown_and_the_app_stays(tmp_path):
    app, source = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        source.set_status(RunState.ERROR, "CUDA out of memory")
        await pilot.pause(0.25)
        text = screen_text(app)
        assert "error" in text and "CUDA out of memory" in text
        await pilot.press("r")
        await pilot.pause()
        assert source.calls[-1] == ("reset", None, False)


async def test_a_deep_net_scrolls_with_rows_under_their_labels(tmp_path):
    spec = SPEC.with_values({"model.depth": 120})
    app, _ = make_app(tmp_path, spec=spec, steps=3)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(LayerTable)
        assert table.virtual_size.height == 122  # header + 120 hidden layers + head
        before = [ln.split()[0] for ln in screen_text(app).splitlines() if ln.startswith("L")]
        assert before[:3] == ["L1", "L2", "L3"]
        await pilot.press("end")
        await pilot.pause()
        lines = screen_text(app).splitlines()
        header = next(i for i, ln in enumerate(lines) if ln.startswith("layer"))
        names = [ln.split()[0] for ln in lines[header + 1 :] if ln[:1] in "Lh"]
        assert names[-1] == "head" and names[-2] == "L120"
        numbers = [int(n[1:]) for n in names[:-1]]
        assert numbers == list(range(numbers[0], 121))  # consecutive, in model order
        # Each row is that layer's data: its log10 grad norm sits in the "now" column.
        col = lines[header].index("now")
        latest = app.history.latest.layers
        for ln in lines[header + 1 : header + 4]:
            i = int(ln.split()[0][1:]) - 1
            assert ln[col : col + 5].strip() == f"{math.log10(latest[i].weight_grad_norm):+.1f}"


def assert_rows_beside_their_labels(app: TuigradApp) -> list[str]:
    """Every row shown carries its own layer's numbers: the "now" column is log10 of the
    weight-gradient norm of the layer named on its left. Returns the names shown."""
    lines = screen_text(app).splitlines()
    header = next(i for i, ln in enumerate(lines) if ln.startswith("layer"))
    col = lines[header].index("now")
    rows = [ln for ln in lines[header + 1 :] if ln[:1] in "Lh" and ln[col : col + 5].strip()]
    names = [info.name for info in app.source.layers]
    latest = app.history.latest.layers
    for ln in rows:
        i = names.index(ln.split()[0])
        assert ln[col : col + 5].strip() == f"{math.log10(latest[i].weight_grad_norm):+.1f}", ln
    return [ln.split()[0] for ln in rows]


async def test_rows_stay_beside_their_labels_with_keys_and_the_mouse_wheel(tmp_path):
    from textual.events import MouseScrollDown, MouseScrollUp

    app, source = make_app(tmp_path, spec=SPEC.with_values({"model.depth": 100}), steps=3)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(LayerTable)
        shown = [assert_rows_beside_their_labels(app)]
        for key in ("down", "down", "pagedown", "end", "up", "pageup", "home"):
            await pilot.press(key)
            await pilot.pause()
            shown.append(assert_rows_beside_their_labels(app))
        # The wheel over the names scrolls the table, and so does the wheel over the table.
        for widget, event in [(table.labels, MouseScrollDown)] * 3 + [(table, MouseScrollUp)]:
            await pilot._post_mouse_events([event], widget, offset=(1, 3))
            await pilot.pause()
            shown.append(assert_rows_beside_their_labels(app))
        # A new frame while scrolled redraws the rows where they are.
        source.push(frames_for(spec_layers(source.spec), 4)[3:])
        app.poll()
        await pilot.pause()
        shown.append(assert_rows_beside_their_labels(app))
    order = [info.name for info in source.layers]
    firsts = [order.index(names[0]) for names in shown]  # the top row after each move
    assert firsts[:3] == [0, 1, 2] and shown[4][-1] == "head" and firsts[7] == 0
    assert 0 < firsts[8] < firsts[9] < firsts[10] and firsts[11] < firsts[10]
    assert firsts[12] == firsts[11]


async def test_resize_from_large_to_80x24_stays_usable(tmp_path):
    app, _ = make_app(tmp_path, spec=SPEC.with_values({"model.depth": 20}))
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        wide = screen_text(app)
        assert "mean ±std" in wide
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        await pilot.pause()
        lines = screen_text(app).splitlines()
        assert len(lines) == 24 and all(len(ln) <= 80 for ln in lines)
        header = next(ln for ln in lines if ln.startswith("layer"))
        assert "log10|gW|" in header and "mean ±std" not in header  # a column hidden, not broken
        rows = [ln for ln in lines if ln.startswith("L")]
        assert rows[0].split()[0] == "L1" and len(rows) >= 15
        assert "Start" in lines[-1] and "Quit" in lines[-1]
        await pilot.resize_terminal(160, 48)
        await pilot.pause()
        assert "mean ±std" in screen_text(app)


async def test_no_color_draws_the_dashboard(tmp_path, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")  # Textual takes it out of the environment again
    app, source = make_app(tmp_path, shown=1)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        source.push(frames_for(spec_layers(SPEC), 3)[1:])
        app.poll()
        await pilot.pause()
        # Textual's monochrome filter takes every cell's style: a cell without one broke it.
        assert app.no_color
        assert set(table_rows(screen_text(app))) == {"L1", "L2", "L3", "L4", "head"}


async def test_ascii_mode_draws_without_block_characters(tmp_path):
    app, _ = make_app(tmp_path, ascii=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        for _ in range(2):
            text = screen_text(app)
            blocks = {ch for ch in text if 0x2580 <= ord(ch) <= 0x259F}
            assert not blocks
            await pilot.press("e")
            await pilot.pause()
        assert "L1" in text


# The findings panel.


def test_scripted_sources_offer_the_live_trainers_controls():
    from tuigrad.sources.live import CONTROLS

    assert ALL_CONTROLS == CONTROLS


@pytest.mark.parametrize("size", [(160, 48), (120, 40)])
async def test_findings_panel_lists_findings_and_points_at_their_rows(tmp_path, size):
    source = sick_source()
    app = TuigradApp(source, screenshot_dir=tmp_path)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        assert [f.kind for f in app.findings] == ["vanishing", "saturation"]
        text = screen_text(app)
        assert "Diagnosis: 2 findings, most severe first" in text
        vanishing, saturation = app.findings
        lines = text.splitlines()
        listed = [ln for ln in lines if "vanishing" in ln or "saturation" in ln]
        assert "▶ error vanishing" in listed[0] and "L1-L2, since step 0" in listed[0]
        assert "warn  saturation" in listed[1]
        assert vanishing.message[:40] in listed[0]
        assert "why: " + vanishing.explanation[:40] in text
        assert "try: model.norm=batch   a: apply it" in text
        rows = table_rows(text)
        assert "◀" in rows["L1"] and "◀" in rows["L2"]
        assert "◀" not in rows["L3"] and "◀" not in rows["L4"] and "◀" not in rows["head"]

        await pilot.press("j")
        await pilot.pause()
        text = screen_text(app)
        assert "why: " + saturation.explanation[:40] in text
        rows = table_rows(text)
        assert "◀" in rows["L4"] and "◀" not in rows["L1"]


async def test_healthy_frames_show_no_findings(tmp_path):
    app, _ = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.findings == []
        text = screen_text(app)
        assert "Diagnosis: no findings" in text and "◀" not in "".join(table_rows(text).values())
        assert app.screen.check_action("apply_fix", ()) is None  # shown, but nothing to apply
        assert app.screen.check_action("next_finding", ()) is None
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert "ok  Diagnosis: no findings" in screen_text(app)


async def test_findings_at_80x24_take_one_line_until_asked(tmp_path):
    spec = SPEC.with_values({"model.depth": 20})
    source = sick_source(spec)
    app = TuigradApp(source, screenshot_dir=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        lines = screen_text(app).splitlines()
        summary = [ln for ln in lines if "finding" in ln]
        assert len(summary) == 1 and "error" in summary[0]
        assert "findings: vanishing at L1-L" in summary[0] and "f: details" in summary[0]
        assert "why:" not in "\n".join(lines)
        assert len([ln for ln in lines if ln.startswith("L")]) >= 15
        for _ in range(2):
            await pilot.press("f")
            await pilot.pause()
            lines = screen_text(app).splitlines()
            assert len(lines) == 24 and all(len(ln) <= 80 for ln in lines)
            assert ("why:" in "\n".join(lines)) is app.screen.expanded
            assert "Quit" in lines[-1] and any(ln.startswith("L1 ") for ln in lines)


async def test_resizing_opens_and_closes_the_findings_panel(tmp_path):
    app = TuigradApp(sick_source(SPEC.with_values({"model.depth": 20})), screenshot_dir=tmp_path)
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        assert "why:" in screen_text(app)
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        await pilot.pause()
        lines = screen_text(app).splitlines()
        assert "why:" not in "\n".join(lines) and len(lines) == 24
        assert len([ln for ln in lines if "finding" in ln]) == 1


async def test_applying_a_fix_restarts_with_the_same_seed_and_keeps_the_previous_run(tmp_path):
    source = sick_source()
    app = TuigradApp(source, screenshot_dir=tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        vanishing = app.findings[0]
        expected = SPEC.with_values(vanishing.fix)
        await pilot.press("a")
        await pilot.pause()
        assert source.calls == [("reset", expected, False), ("start",)]
        assert app.spec == expected and app.spec.seed == SPEC.seed
        assert any("Applied the fix for vanishing" in n.message for n in app._notifications)
        assert app.findings == []  # the cure: the rebuilt run is healthy
        text = screen_text(app)
        assert "applied: for vanishing: model.norm none → batch" in text
        assert "previous run: vanishing at L1-L2, saturation at L4  (at step 19: loss" in text
        assert "this run:     none" in text
        assert "BN" in table_rows(text)["L1"]  # the new spec's rows
        # Nothing left to apply: the key is shown disabled.
        assert app.screen.check_action("apply_fix", ()) is None


async def test_a_recording_shows_findings_but_cannot_apply_them(tmp_path):
    source = sick_source(controls=frozenset())
    app = TuigradApp(source, screenshot_dir=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "vanishing" in text and "this run is a recording" in text
        assert "a" not in app.screen.active_bindings and "f" in app.screen.active_bindings
        await pilot.press("a", "j")
        await pilot.pause()
        assert source.calls == [] and app.findings[app.screen.selected].kind == "saturation"


async def test_the_panel_redraws_only_when_the_findings_change(tmp_path, monkeypatch):
    from tuigrad.ui.widgets import findings as panel

    drawn = []
    real = panel.panel_lines
    monkeypatch.setattr(panel, "panel_lines", lambda *a: drawn.append(1) or real(*a))
    source = sick_source(steps=40, shown=20)
    app = TuigradApp(source, screenshot_dir=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        before = len(drawn)
        for _ in range(15):  # more frames, the same findings
            await pilot.press("n")
            await pilot.pause()
        assert app.history.latest.step == 34 and [f.kind for f in app.findings] == [
            "vanishing",
            "saturation",
        ]
        assert len(drawn) == before


async def test_a_fix_the_experiment_already_has_is_not_offered(tmp_path):
    spec = SPEC.with_values({"model.norm": "batch"})
    source = sick_source(spec)
    app = TuigradApp(source, screenshot_dir=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.findings[0].fix == {"model.norm": "batch"}
        assert "model.norm=batch   (already set in this experiment)" in screen_text(app)
        assert app.screen.check_action("apply_fix", ()) is None
        await pilot.press("a")
        await pilot.pause()
        assert source.calls == []


async def test_while_training_the_rules_run_at_most_twice_a_second(tmp_path, monkeypatch):
    from tuigrad.ui import app as app_module

    monkeypatch.setattr(app_module, "DIAGNOSE_EVERY_S", 3600.0)
    frames = sick_frames(SPEC, 12)
    source = ScriptedSource(frames[:2], spec_layers(SPEC), spec=SPEC, shown=1)
    app = TuigradApp(source, screenshot_dir=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert [f.kind for f in app.findings] == ["vanishing", "saturation"]
        source.reset()  # a new run, then training: frames arrive, the rules wait
        source.start()
        source.push(frames[2:10])
        app.poll()
        assert app.history.latest.step == 9 and app.findings == []
        broken = replace(frames[10], loss=math.nan)
        source.push([broken])  # ... except for numbers that broke: at once
        app.poll()
        assert app.findings[0].kind == "nonfinite"
        await pilot.pause()
        assert "nonfinite" in screen_text(app)


async def test_a_status_message_that_only_repeats_the_state_takes_no_line(tmp_path):
    app, source = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        source.set_status(RunState.PAUSED, "paused")
        await pilot.pause(0.25)
        lines = screen_text(app).splitlines()
        assert "paused" in lines[0] and lines[1].startswith("loss")
        source.set_status(RunState.PAUSED, "paused: the loss is not finite")
        await pilot.pause(0.25)
        assert screen_text(app).splitlines()[1].strip() == "paused: the loss is not finite"


async def test_a_replayed_run_file_shows_its_findings_without_the_apply_key(tmp_path):
    from tuigrad.runs import RunWriter
    from tuigrad.sources.replay import ReplaySource

    path = tmp_path / "sick.tuigrad"
    with RunWriter(path, SPEC, spec_layers(SPEC)) as writer:
        for frame in sick_frames(SPEC, 12):
            writer.write(frame)
    source = ReplaySource(path, play=False)
    source.jump_end()
    app = TuigradApp(source, screenshot_dir=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert [f.kind for f in app.findings] == ["vanishing", "saturation"]
        text = screen_text(app)
        assert "▶ error vanishing" in text and "this run is a recording" in text
        assert "◀" in table_rows(text)["L1"]
        active = app.screen.active_bindings
        assert "a" not in active and {"f", "j", "k"} <= set(active)
        await pilot.press("a", "j")
        await pilot.pause()
        assert app.findings[app.screen.selected].kind == "saturation"
        assert app.spec == SPEC  # nothing applied
    source.close()


async def test_drawing_frames_leaves_the_garbage_collector_idle(tmp_path):
    # A full collection walks every object of the process (65 ms at 50 layers, a visible
    # stall), and the young generation filled two or three times per frame drawn.
    import gc

    spec = Spec(title="Deep").with_values({"model.depth": 50})
    frames = frames_for(spec_layers(spec), 40)
    source = ScriptedSource(frames[:1], spec_layers(spec), spec=spec, shown=1)
    app = TuigradApp(source, screenshot_dir=tmp_path)
    collections: list[int] = []

    def count(phase: str, info: dict) -> None:
        if phase == "start":
            collections.append(info["generation"])

    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        await pilot.pause()
        assert gc.get_freeze_count() > 0
        assert not any(obj is app for obj in gc.get_objects())  # frozen: never walked again
        gc.callbacks.append(count)
        try:
            for frame in frames[1:]:
                source.push([frame])
                app.poll()
                await pilot.pause()
        finally:
            gc.callbacks.remove(count)
        assert "L50" in screen_text(app)
    assert len(collections) <= 2, collections  # 39 frames drawn; at gc's default, about 100


async def test_the_side_panel_reflows_text_wrapped_in_the_spec_file(tmp_path):
    spec = replace(
        SPEC,
        description="Clipping keeps the direction\nand caps the length.\n\n- one item\n- another",
        look_at="The norm after clipping\nnever exceeds 1.",
    )
    source = ScriptedSource(frames_for(spec_layers(spec), 3), spec_layers(spec), spec=spec)
    app = TuigradApp(source, screenshot_dir=tmp_path)
    async with app.run_test(size=(200, 50)) as pilot:
        await pilot.pause()
        side = str(app.screen.query_one("#side-text").render())
    assert "Clipping keeps the direction and caps the length.\n\n- one item\n- another" in side
    assert "Look at: The norm after clipping never exceeds 1." in side


async def test_before_the_first_step_the_loss_chart_claims_no_minimum(tmp_path):
    source = ScriptedSource([], spec_layers(SPEC), spec=SPEC)
    app = TuigradApp(source, screenshot_dir=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "loss" in text.splitlines()[1] and "NaN" not in text
        source.push(frames_for(spec_layers(SPEC), 3))
        app.poll()
        await pilot.pause()
        assert "min " in screen_text(app).splitlines()[1]
