"""The help screen: every key of every screen, read from the bindings themselves."""

from __future__ import annotations

from rich import box
from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

PRETTY = {
    "question_mark": "?",
    "plus": "+",
    "minus": "-",
    "escape": "esc",
    "ctrl+up": "ctrl+↑",
    "ctrl+down": "ctrl+↓",
    "left": "←",
    "right": "→",
    "less_than_sign": "<",
    "greater_than_sign": ">",
    "left_square_bracket": "[",
    "right_square_bracket": "]",
}


def key_label(binding: Binding) -> str:
    """Every key of a binding, as the user types it."""
    keys = binding.key.split(",")
    if binding.key_display and len(keys) == 1:
        return binding.key_display
    return " or ".join(PRETTY.get(k, k) for k in keys)


def key_table(dashboard: type | None = None) -> list[tuple[str, str, str]]:
    """(where, key, what it does) for every binding the app shows.

    dashboard: the screen class the app shows runs in (default DashboardScreen; a replay's
    screen has its own keys and no builder).
    """
    from tuigrad.ui.app import TuigradApp
    from tuigrad.ui.screens.builder import BuilderScreen
    from tuigrad.ui.screens.dashboard import DashboardScreen

    dashboard = dashboard or DashboardScreen
    screens = [(getattr(dashboard, "HELP_WHERE", "dashboard"), dashboard.BINDINGS)]
    if dashboard is DashboardScreen:
        screens.append(("builder", BuilderScreen.BINDINGS))
    rows = []
    for where, bindings in (*screens, ("anywhere", TuigradApp.BINDINGS)):
        for binding in bindings:
            assert isinstance(binding, Binding)
            rows.append((where, key_label(binding), binding.tooltip or binding.description))
    rows.append(("anywhere", "ctrl+p", "Command palette: every action by name"))
    return rows


class HelpScreen(ModalScreen):
    """Every key, on one screen; any of escape, ? or q closes it."""

    BINDINGS = [Binding("escape,question_mark,q", "app.pop_screen", "Close", show=True)]

    def compose(self) -> ComposeResult:
        table = Table(
            box=box.ASCII if self.app.ascii else box.SIMPLE_HEAD, expand=True, show_edge=False
        )
        table.add_column("where", style="dim", no_wrap=True)
        table.add_column("key", style="bold", no_wrap=True)
        table.add_column("what it does")
        for where, key, what in key_table(type(self.app.dashboard)):
            table.add_row(where, key, what)
        with VerticalScroll(id="help-body"):
            yield Static("tuigrad keys", id="help-title")
            yield Static(table)
            yield Static(
                "Rows: L1..head in model order. Sparkline: log10 weight-gradient norm over recent "
                "sampled steps, one scale for all rows. upd:data: log10 of the update to weight "
                "ratio; the mark in the middle is 1e-3. Markers: × NaN, ▲ Inf, · exactly zero.\n"
                "Findings: what the diagnosis sees in the frames, most severe first; ◀ after a "
                "layer's name marks the rows the selected finding is about. `a` applies its fix: "
                "the experiment changes, the run restarts with the same seed, and the panel keeps "
                "what the previous run showed.",
                id="help-legend",
            )
