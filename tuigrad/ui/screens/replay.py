"""Replaying a run file: the dashboard's rows, moved through the recording by the keys."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from tuigrad.runs.reader import RunReader
from tuigrad.ui.recorded import RecordedSeries
from tuigrad.ui.screens.dashboard import DashboardScreen
from tuigrad.ui.widgets.overview import RunLine
from tuigrad.ui.widgets.replay_line import ReplayRunLine

SPEED = Binding.Group("speed")
MOVE = Binding.Group("step")
JUMP = Binding.Group("start/end")
# The dashboard's keys that keep their meaning in a replay.
SHARED = ("hist_kind", "app.help", "app.quit", "toggle_panel", "app.screenshot")
# Which source control each replay action needs.
NEEDS = {
    "play": "play",
    "pause": "pause",
    "step": "step",
    "back": "step_back",
    "slower": "speed",
    "faster": "speed",
    "jump_start": "jump_start",
    "jump_end": "jump_end",
    "goto": "seek",
    "next_finding": "findings",
}


class ReplayScreen(DashboardScreen, inherit_bindings=False):
    """A recording in the dashboard; keys play, pause, change speed, step and seek."""

    HELP_WHERE = "replay"
    BINDINGS = [
        Binding("space", "play", "Play", tooltip="Play the recording from the frame shown"),
        Binding("space", "pause", "Pause", tooltip="Pause the replay"),
        Binding(
            "b,left", "back", "Back", key_display="b", tooltip="One frame back (pauses)", group=MOVE
        ),
        Binding(
            "n,right",
            "step",
            "Step",
            key_display="n",
            tooltip="One frame forward (pauses)",
            group=MOVE,
        ),
        Binding(
            "less_than_sign,left_square_bracket",
            "slower",
            "Slower",
            key_display="<",
            tooltip="Replay slower (down to x0.25)",
            group=SPEED,
        ),
        Binding(
            "greater_than_sign,right_square_bracket",
            "faster",
            "Faster",
            key_display=">",
            tooltip="Replay faster (up to x16)",
            group=SPEED,
        ),
        Binding("g", "jump_start", "Start", tooltip="Jump to the first frame", group=JUMP),
        Binding(
            "G",
            "jump_end",
            "End",
            tooltip="Jump to the last frame (following: the newest)",
            group=JUMP,
        ),
        Binding("j", "goto", "Go", tooltip="Go to a step: type its number"),
        Binding(
            "f",
            "next_finding",
            "Find",
            tooltip="Jump to the step where the next diagnosis finding begins",
        ),
        *(b for b in DashboardScreen.BINDINGS if b.action in SHARED),
    ]

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            if isinstance(widget, RunLine):
                widget = self.run_line = ReplayRunLine(self.app.source, id="run-line")
            yield widget

    def redraw(self) -> None:
        super().redraw()
        # The charts show the whole recording up to the cursor, not only the frames held.
        charts = self.query_one("#charts")
        reader = self.app.source.reader
        if not charts.display or not isinstance(reader, RunReader):
            return
        if self._recorded is None or self._recorded.reader is not reader:
            self._recorded = RecordedSeries(reader)
        history = self._recorded.history(self.app.source.cursor, self.app.history.latest)
        for chart in self.charts:
            chart.update_view(history, self.app.spec)

    _recorded: RecordedSeries | None = None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        control = NEEDS.get(action)
        if control is None:
            return True
        source = self.app.source
        if control not in source.controls:
            return False
        if action in ("play", "pause"):
            return source.playing == (action == "pause")
        if action in ("slower", "faster"):
            limit = source.speed <= 0.25 if action == "slower" else source.speed >= 16
            return None if limit else True
        # Shown but disabled where there is no frame to move to.
        if action == "step":
            return None if source.cursor >= source.frame_count - 1 else True
        if action == "back":
            return None if source.cursor <= 0 else True
        return True

    # Actions: each moves the source, then polls so that the screen follows at once.

    def _then(self) -> None:
        self.app.poll()
        self.refresh_bindings()

    def action_play(self) -> None:
        self.app.source.play()
        self._then()

    def action_pause(self) -> None:
        self.app.source.pause()
        self._then()

    def action_step(self) -> None:
        self.app.source.step()
        self._then()

    def action_back(self) -> None:
        self.app.source.step_back()
        self._then()

    def action_slower(self) -> None:
        self.app.source.slower()
        self.notify(f"Replay x{self.app.source.speed:g}", timeout=1.5)
        self._then()

    def action_faster(self) -> None:
        self.app.source.faster()
        self.notify(f"Replay x{self.app.source.speed:g}", timeout=1.5)
        self._then()

    def action_jump_start(self) -> None:
        self.app.source.jump_start()
        self._then()

    def action_jump_end(self) -> None:
        self.app.source.jump_end()
        self._then()

    def action_goto(self) -> None:
        steps = self.app.source.reader.steps
        if not steps:
            self.notify("The recording holds no frames yet", severity="warning")
            return
        self.app.push_screen(StepPrompt(steps[0], steps[-1]), self._seek)

    def _seek(self, step: int | None) -> None:
        if step is None:
            return
        source = self.app.source
        source.seek(step)
        self._then()
        if source.current_step != step:
            self.notify(f"Step {step} was not recorded: showing step {source.current_step}")

    def action_next_finding(self) -> None:
        source = self.app.source
        mark = source.next_finding()
        if mark is None:
            self.notify("Diagnosis finds nothing in this recording", timeout=3)
            return
        self._then()
        self.notify(f"Step {mark.step}: {mark.text}", timeout=6)


class StepPrompt(ModalScreen[int | None]):
    """Asks for a step number; escape cancels."""

    BINDINGS = [Binding("escape", "app.pop_screen", "Cancel", show=True)]
    DEFAULT_CSS = """
    StepPrompt { align: center middle; }
    #step-box { width: 50; height: auto; border: round $primary; background: $surface; }
    #step-error { color: $error; text-style: bold; }
    """

    def __init__(self, first: int, last: int) -> None:
        super().__init__()
        self.first, self.last = first, last

    def compose(self) -> ComposeResult:
        with Vertical(id="step-box"):
            yield Static(f"Go to step ({self.first} to {self.last}):")
            yield Input(placeholder=str(self.first), id="step-input")
            yield Static("", id="step-error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip().replace(",", "").replace("_", "")
        try:
            step = int(text)
        except ValueError:
            step = None
        if step is None or not self.first <= step <= self.last:
            error = f"{event.value!r}: give a whole number from {self.first} to {self.last}"
            self.query_one("#step-error", Static).update(error)
            return
        self.dismiss(step)
