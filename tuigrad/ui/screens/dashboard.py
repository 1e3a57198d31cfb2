"""The live dashboard: the run at the top, one row per layer below, an optional side panel."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from tuigrad.sources.base import RunState
from tuigrad.ui.widgets.layer_table import HIST_KINDS, LayerTable
from tuigrad.ui.widgets.overview import RunLine, SeriesChart

LR_FACTOR = 2.0
SIDE_PANEL_MIN_WIDTH = 150
CHART_MIN_HEIGHT = 4
CHART_MAX_HEIGHT = 10
# Which source control each action needs, and in which states it applies.
NEEDS = {
    "start": ("start", (RunState.IDLE, RunState.PAUSED)),
    "pause": ("pause", (RunState.RUNNING,)),
    "step": ("step_once", (RunState.IDLE, RunState.PAUSED)),
    "reset": ("reset", None),
    "reseed": ("reset", None),
    "lr_up": ("set_lr", None),
    "lr_down": ("set_lr", None),
    "toggle_clip": ("set_clip", None),
    "edit": ("reset", None),
}


RESET = Binding.Group("reset/seed")
LR = Binding.Group("lr")


class DashboardScreen(Screen):
    """Watch every layer train; the keys drive the source's controls."""

    BINDINGS = [
        Binding("space", "start", "Start", tooltip="Start or resume training"),
        Binding("space", "pause", "Pause", tooltip="Pause training"),
        Binding("n", "step", "Step", tooltip="Train a single step, then pause"),
        Binding(
            "r",
            "reset",
            "Reset",
            tooltip="Restart from the same initial weights (same seed)",
            group=RESET,
        ),
        Binding(
            "R",
            "reseed",
            "Reseed",
            tooltip="Restart with a new seed: new initial weights and data order",
            group=RESET,
        ),
        Binding(
            "plus",
            "lr_up",
            "lr x2",
            key_display="+",
            tooltip="Raise the learning rate (x2)",
            group=LR,
        ),
        Binding(
            "minus",
            "lr_down",
            "lr /2",
            key_display="-",
            tooltip="Lower the learning rate (/2)",
            group=LR,
        ),
        Binding("c", "toggle_clip", "Clip", tooltip="Turn gradient clipping on or off"),
        Binding(
            "e",
            "edit",
            "Edit",
            tooltip="Edit the experiment in the builder (the run is kept until you train)",
        ),
        Binding(
            "h",
            "hist_kind",
            "Hist",
            tooltip="Histogram: activations, weight-gradient log-magnitude, weights",
        ),
        # The app's own keys, repeated here so that the footer lists them before the extras.
        Binding("question_mark", "app.help", "Help", key_display="?", tooltip="This list of keys"),
        Binding(
            "q", "app.quit", "Quit", tooltip="Quit; training stops and nothing is left running"
        ),
        Binding(
            "p",
            "toggle_panel",
            "Panel",
            tooltip="Show or hide the side panel (the experiment's notes)",
        ),
        Binding(
            "s",
            "app.screenshot",
            "SVG",
            tooltip="Save the screen as an SVG file in the current folder",
        ),
    ]

    def compose(self) -> ComposeResult:
        self.run_line = RunLine(id="run-line")
        self.charts = [
            SeriesChart("loss", id="loss-chart"),
            SeriesChart("accuracy", id="accuracy-chart"),
            SeriesChart("grad_norm", id="grad-chart"),
        ]
        self.table = LayerTable(id="layers")
        yield self.run_line
        with Horizontal(id="charts"):
            yield from self.charts
        with Horizontal(id="main"):
            yield self.table
            with VerticalScroll(id="side"):
                yield Static("", id="side-text", markup=False)
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.table.focus()
        # The notes open by themselves only where they leave the layer rows enough room.
        self.query_one("#side").display = self.app.size.width >= SIDE_PANEL_MIN_WIDTH

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        need = NEEDS.get(action)
        if need is None:
            return True
        source = self.app.source
        control, states = need
        if control not in source.controls:
            return False
        if states is None:
            return True
        state = self.app.status.state
        if action in ("start", "pause"):
            return state in states
        return True if state in states else None

    # Actions: each one calls the source, then polls so the screen follows at once.

    def action_start(self) -> None:
        self.app.source.start()
        self.app.poll()

    def action_pause(self) -> None:
        self.app.source.pause()
        self.app.poll()

    def action_step(self) -> None:
        self.app.source.step_once()
        self.app.poll()

    def action_reset(self) -> None:
        self.app.source.reset()
        self.app.poll()

    def action_reseed(self) -> None:
        self.app.source.reset(reseed=True)
        self.app.poll()

    def action_lr_up(self) -> None:
        self.app.change_lr(LR_FACTOR)

    def action_lr_down(self) -> None:
        self.app.change_lr(1 / LR_FACTOR)

    def action_toggle_clip(self) -> None:
        self.app.toggle_clip()

    def action_edit(self) -> None:
        self.app.push_screen("builder")

    def action_hist_kind(self) -> None:
        table = self.query_one(LayerTable)
        table.set_kind(HIST_KINDS[(HIST_KINDS.index(table.kind) + 1) % len(HIST_KINDS)])
        self.notify(f"Histogram: {table.kind.removesuffix('_hist')}", timeout=1.5)

    def action_toggle_panel(self) -> None:
        side = self.query_one("#side")
        side.display = not side.display

    # Drawing.

    def redraw(self) -> None:
        """Show what the app holds; a new run (new history) also resets the rows and notes."""
        app = self.app
        table = self.table
        if table.history is not app.history:
            table.set_run(app.source.layers, app.history)
            self.query_one("#side-text", Static).update(_side_text(app))
            self._fit_charts()
        self.run_line.update_view(app.history, app.status, app.spec, app.source.title)
        for chart in self.charts:
            chart.update_view(app.history, app.spec)
        table.data_changed()

    def on_resize(self) -> None:
        self._fit_charts()
        self.call_after_refresh(self.redraw)

    def _fit_charts(self) -> None:
        """Charts take the rows the layer table does not need, up to a third of the screen."""
        height = self.size.height
        rows = len(self.app.source.layers) + 1
        spare = height - 2 - rows  # the run line and the footer
        charts = self.query_one("#charts")
        new = max(CHART_MIN_HEIGHT, min(spare, height // 3, CHART_MAX_HEIGHT))
        if charts.styles.height is None or charts.styles.height.value != new:
            charts.styles.height = new
            self.call_after_refresh(self.redraw)


def _side_text(app) -> str:  # noqa: ANN001
    spec = app.spec
    if spec is None:
        return app.source.title
    parts = [spec.title]
    for label, text in (
        ("", spec.description),
        ("Look at: ", spec.look_at),
        ("Expect: ", spec.expect),
    ):
        if text.strip():
            parts.append(label + text.strip())
    return "\n\n".join(parts)
