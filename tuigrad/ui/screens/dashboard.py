"""The live dashboard: the run at the top, one row per layer below, an optional side panel."""

from __future__ import annotations

import re

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from tuigrad.diagnosis import Finding
from tuigrad.errors import SpecError
from tuigrad.sources.base import LiveControls, RunState
from tuigrad.ui.findings import PanelState
from tuigrad.ui.widgets.findings import FindingsPanel
from tuigrad.ui.widgets.layer_table import HIST_KINDS, LayerTable
from tuigrad.ui.widgets.overview import RunLine, SeriesChart

LR_FACTOR = 2.0
SIDE_PANEL_MIN_WIDTH = 150
CHART_MIN_HEIGHT = 4
CHART_MAX_HEIGHT = 10
# Lines of a description that start a new line in the side panel (see _reflowed).
LIST_ITEMS = ("- ", "* ", "• ")
# The findings panel opens by itself from this height; below it shows one line until `f`.
FINDINGS_OPEN_MIN_HEIGHT = 32
# Which live control each action needs, and in which states it applies. Sources without
# live controls (a replayed file) offer none of these keys.
NEEDS = {
    "start": ("start", (RunState.IDLE, RunState.PAUSED)),
    "pause": ("pause", (RunState.RUNNING,)),
    "step": ("step", (RunState.IDLE, RunState.PAUSED)),
    "reset": ("reset", None),
    "reseed": ("reseed", None),
    "lr_up": ("lr", None),
    "lr_down": ("lr", None),
    "toggle_clip": ("clip", None),
    "edit": ("reset", None),
    "apply_fix": ("reset", None),
}


RESET = Binding.Group("reset")
LR = Binding.Group("lr")
FINDING = Binding.Group("finding")


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
            "a",
            "apply_fix",
            "Fix",
            tooltip="Apply the selected finding's fix: change the spec, restart with the same seed",
        ),
        Binding(
            "f", "toggle_findings", "Findings", tooltip="Show the findings in full, or in one line"
        ),
        Binding(
            "j",
            "next_finding",
            "Next",
            tooltip="Select the next finding",
            group=FINDING,
            show=False,
        ),
        Binding(
            "k",
            "previous_finding",
            "Prev",
            tooltip="Select the previous finding",
            group=FINDING,
            show=False,
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
        self.findings = FindingsPanel(id="findings")
        yield self.run_line
        with Horizontal(id="charts"):
            yield from self.charts
        yield self.findings
        with Horizontal(id="main"):
            yield self.table.labels
            yield self.table
            with VerticalScroll(id="side"):
                yield Static("", id="side-text", markup=False)
        yield Footer(compact=True, show_command_palette=False)

    selected = 0  # index of the selected finding
    expanded: bool | None = None  # the findings panel in full; None: by the screen's height
    _findings_seen = -1  # the app's findings_version last shown
    _selected_kind: str | None = None  # kept selected while the findings change
    _finding_keys: tuple[bool | None, ...] = ()  # the findings keys' states in the Footer
    _fix_checked: tuple[object, bool] = (None, False)  # (spec, fix) last checked, and the answer

    def on_mount(self) -> None:
        self.table.focus()
        # The notes open by themselves only where they leave the layer rows enough room.
        self.query_one("#side").display = self.app.size.width >= SIDE_PANEL_MIN_WIDTH

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("next_finding", "previous_finding"):
            return True if len(self.app.findings) > 1 else None
        need = NEEDS.get(action)
        if need is None:
            return True
        source = self.app.source
        control, states = need
        if not isinstance(source, LiveControls) or control not in source.controls:
            return False
        if action == "apply_fix":
            return True if self._fix_is_new(self._selected_finding()) else None
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

    def action_apply_fix(self) -> None:
        finding = self._selected_finding()
        if finding is not None:
            self.app.apply_fix(finding)

    def action_toggle_findings(self) -> None:
        self.expanded = not self._is_expanded()
        self._fit_charts()
        self._show_findings()

    def action_next_finding(self) -> None:
        self._select(self.selected + 1)

    def action_previous_finding(self) -> None:
        self._select(self.selected - 1)

    def _select(self, index: int) -> None:
        findings = self.app.findings
        if findings:
            self.selected = index % len(findings)
            self._show_findings()
            self._refresh_finding_keys()

    def _fix_is_new(self, finding: Finding | None) -> bool:
        """True when the finding's fix would change the experiment (one check per spec)."""
        spec = self.app.spec
        if finding is None or not finding.fix or spec is None:
            return False
        key = (spec, finding.fix_text())
        if self._fix_checked[0] != key:
            try:
                new = spec.with_values(finding.fix) != spec
            except SpecError:
                new = True  # applying it says what is wrong
            self._fix_checked = (key, new)
        return self._fix_checked[1]

    def _selected_finding(self) -> Finding | None:
        findings = self.app.findings
        return findings[min(self.selected, len(findings) - 1)] if findings else None

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
        if app.findings_version != self._findings_seen:
            self._findings_changed()
        table.data_changed()

    # The findings panel: rebuilt only when the findings, the selection or the size change.

    def _findings_changed(self) -> None:
        """Keep the same kind selected when it is still found; otherwise the most severe."""
        app = self.app
        old = self._selected_kind
        kinds = [f.kind for f in app.findings]
        self.selected = kinds.index(old) if old in kinds else 0
        self._findings_seen = app.findings_version
        self._show_findings()
        self._refresh_finding_keys()

    def _refresh_finding_keys(self) -> None:
        """Refresh the Footer only when a findings key changes state: messages change with
        the numbers every few frames, and a Footer refresh costs tens of milliseconds."""
        keys = tuple(self.check_action(a, ()) for a in ("apply_fix", "next_finding"))
        if keys != self._finding_keys:
            self._finding_keys = keys
            self.refresh_bindings()

    def _show_findings(self) -> None:
        app = self.app
        finding = self._selected_finding()
        self._selected_kind = finding.kind if finding is not None else None
        state = PanelState(
            findings=tuple(app.findings),
            selected=min(self.selected, max(len(app.findings) - 1, 0)),
            expanded=self._is_expanded(),
            can_apply=self.check_action("apply_fix", ()) is not False,
            fix_is_set=(
                finding is not None
                and bool(finding.fix)
                and app.spec is not None
                and not self._fix_is_new(finding)
            ),
            previous=app.previous,
            applied=app.applied,
            failed=app.diagnosis_failed,
        )
        self.findings.show_state(state, self._findings_height())
        self.table.set_marked(frozenset(finding.layers) if finding is not None else frozenset())

    def _is_expanded(self) -> bool:
        if self.expanded is None:
            return self.size.height >= FINDINGS_OPEN_MIN_HEIGHT
        return self.expanded

    def _findings_height(self) -> int:
        """Lines the panel may take: a quarter of the screen in full, at least 3."""
        return max(3, self.size.height // 4) if self._is_expanded() else 1

    def on_resize(self) -> None:
        self._fit_charts()
        self._show_findings()
        self.call_after_refresh(self.redraw)

    def _fit_charts(self) -> None:
        """Charts take the rows the layer table does not need, up to a third of the screen."""
        height = self.size.height
        rows = len(self.app.source.layers) + 1
        spare = height - 2 - rows - self._findings_height()  # the run line and the footer
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
            parts.append(label + _reflowed(text))
    return "\n\n".join(parts)


def _reflowed(text: str) -> str:
    """Text wrapped at some width where it was written (a TOML string), as paragraphs that the
    panel wraps at its own width: the lines of a paragraph joined, list items kept apart.

    NOTE: kept as written, a line break in mid-sentence left a word or two alone on a line.
    """
    paragraphs = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines: list[str] = []
        for line in block.splitlines():
            line = line.strip()
            if lines and not line.startswith(LIST_ITEMS):
                lines[-1] += " " + line
            else:
                lines.append(line)
        paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)
