"""The tuigrad app: pulls frames from a source on a timer and shows them; never imports torch."""

from __future__ import annotations

import gc
import logging
import math
import time
from collections.abc import Iterable
from pathlib import Path

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.driver import Driver
from textual.screen import Screen
from textual.scrollbar import ScrollBar, ScrollBarRender

from tuigrad import spec as specs
from tuigrad.diagnosis import Diagnoser, Finding
from tuigrad.errors import SpecError
from tuigrad.sources.base import FrameSource, RunState, SourceStatus
from tuigrad.spec import Spec
from tuigrad.ui.driver import compact_driver
from tuigrad.ui.findings import Applied, RunSummary
from tuigrad.ui.glyphs import ASCII, UNICODE
from tuigrad.ui.history import RunHistory
from tuigrad.ui.screens.builder import BuilderScreen
from tuigrad.ui.screens.dashboard import DashboardScreen
from tuigrad.ui.screens.help import HelpScreen

log = logging.getLogger(__name__)

# While a run trains, the rules run at most this often; each run costs a few milliseconds
# for deep nets (7 ms at 50 layers), every sampled frame would be too much at 10 polls/s.
DIAGNOSE_EVERY_S = 0.5
# Objects allocated, less those freed, before the collector looks at the young ones (700 by
# default): more than a frame of the dashboard allocates (settle_heap).
YOUNG_THRESHOLD = 20_000


class AsciiScrollBarRender(ScrollBarRender):
    VERTICAL_BARS = [" "] * 8
    HORIZONTAL_BARS = [" "] * 8


class TuigradApp(App):
    """Shows one frame source; `fps` caps how often it looks for new frames and redraws."""

    CSS_PATH = "tuigrad.tcss"
    TITLE = "tuigrad"
    BINDINGS = [
        Binding("question_mark", "help", "Help", key_display="?", tooltip="This list of keys"),
        Binding("q", "quit", "Quit", tooltip="Quit; training stops and nothing is left running"),
        Binding(
            "s", "screenshot", "SVG", tooltip="Save the screen as an SVG file in the current folder"
        ),
    ]

    def __init__(
        self,
        source: FrameSource,
        *,
        spec: Spec | None = None,
        fps: float = 10.0,
        ascii: bool = False,
        screenshot_dir: str | Path = ".",
    ) -> None:
        super().__init__()
        self.source = source
        self.spec = spec or source.spec
        self.fps = fps
        self.ascii = ascii
        self.glyphs = ASCII if ascii else UNICODE
        self.screenshot_dir = Path(screenshot_dir)
        self.history = RunHistory(())
        self.status = SourceStatus(RunState.IDLE)
        self._version: int | None = None
        self._read = 0
        self._closed = False
        # Diagnosis follows the frames as they arrive; `findings_version` counts its changes.
        # Off where the rows are not one network (two runs compared).
        self.diagnoses = True
        self.diagnoser = Diagnoser(source.layers, self.spec)
        self.findings_version = 0
        self.diagnosis_failed = ""
        self._undiagnosed: list = []  # frames read but not yet given to the diagnoser
        self._diagnosed_at = 0.0
        self.previous: RunSummary | None = None  # how the run before this one ended
        self.applied: Applied | None = None  # the last fix applied from a finding
        self.dashboard = DashboardScreen()

    def get_driver_class(self) -> type[Driver]:
        """Textual's driver for this terminal, sending style changes as differences."""
        return compact_driver(super().get_driver_class())

    def on_mount(self) -> None:
        self._scrollbar_renderer = ScrollBar.renderer
        if self.ascii:
            # NOTE: scroll bars draw with block characters; the renderer is a class attribute.
            ScrollBar.renderer = AsciiScrollBarRender
            self.add_class("-ascii")
        self.install_screen(BuilderScreen(self.spec or Spec()), name="builder")
        self.push_screen(self.dashboard)
        self.set_interval(1 / self.fps, self.poll, name="poll")
        self.call_after_refresh(settle_heap)

    # The pull loop.

    def poll(self) -> bool:
        """Read what is new in the source and redraw; returns whether anything changed."""
        version = self.source.version()
        if version == self._version:
            return False
        self._version = version
        names = tuple(info.name for info in self.source.layers)
        if self.source.run_id != self.history.run_id or names != self.history.names:
            self.previous = RunSummary.of(self.history, self.findings) or self.previous
            self.history = RunHistory(names, run_id=self.source.run_id)
            self._read = 0
            if self.source.spec is not None:
                self.spec = self.source.spec
            self._reset_diagnosis()
        frames = self.source.frames_since(self._read)
        self._read += len(frames)
        self.history.add(frames)
        status = self.source.status()
        self._diagnose(frames, running=status.state is RunState.RUNNING)
        state_changed = status.state != self.status.state
        self.status = status
        if not self.dashboard.is_mounted:
            return True
        self.dashboard.redraw()
        if state_changed:
            self.screen.refresh_bindings()
        return True

    # Diagnosis.

    @property
    def findings(self) -> list[Finding]:
        """The current run's findings, most severe first."""
        return self.diagnoser.findings

    def _reset_diagnosis(self) -> None:
        self.diagnoser.reset(self.source.layers, self.spec)
        self.diagnosis_failed = ""
        self._undiagnosed = []
        self.findings_version += 1

    def _diagnose(self, frames: list, running: bool) -> None:
        """Give new frames to the diagnoser: at once when not training or when the numbers
        broke, else every DIAGNOSE_EVERY_S."""
        if not self.diagnoses:
            return
        self._undiagnosed += frames
        now = time.monotonic()
        if self.diagnosis_failed or not self._undiagnosed:
            return
        broke = any(not (math.isfinite(f.loss) and math.isfinite(f.grad_norm)) for f in frames)
        if running and not broke and now - self._diagnosed_at < DIAGNOSE_EVERY_S:
            return
        frames, self._undiagnosed, self._diagnosed_at = self._undiagnosed, [], now
        try:
            changed = self.diagnoser.push(frames)
        except Exception as exc:  # noqa: BLE001 - a rule that fails must not take the app down
            log.exception("diagnosis failed")
            self.diagnosis_failed = f"{type(exc).__name__}: {exc}"
            changed = True
        if changed:
            self.findings_version += 1

    def apply_fix(self, finding: Finding) -> None:
        """Change the spec as `finding` suggests, restart with the same seed, and train."""
        if self.spec is None or not finding.fix:
            return
        try:
            spec = self.spec.with_values(finding.fix)
        except SpecError as exc:
            self.notify(f"cannot apply the fix for {finding.kind}: {exc}", severity="error")
            return
        changes = tuple(specs.diff(self.spec, spec))
        if not changes:
            self.notify(f"The experiment already has {finding.fix_text()}", severity="warning")
            return
        self.applied = Applied(finding.kind, changes)
        self.source.reset(spec=spec)
        self.spec = spec
        if "start" in self.source.controls:
            self.source.start()
        self.notify(
            f"Applied the fix for {finding.kind}: {self.applied.text(self.glyphs)}. "
            f"Restarted with seed {spec.seed}.",
            title="Fix applied",
            timeout=6,
        )
        self.poll()

    # What the screens ask of the app.

    def change_lr(self, factor: float) -> None:
        if self.spec is None:
            return
        lr = self.spec.optimizer.lr * factor
        try:
            self.spec = self.spec.with_values({"optimizer.lr": lr})
        except SpecError as exc:
            self.notify(str(exc), severity="error")
            return
        self.source.set_lr(lr)
        # TODO: the diagnoser keeps the spec the run started with (it has no way to take a
        # new one without forgetting the frames), so an lr fix is reckoned from the first lr.
        self.notify(f"Learning rate {lr:.3g}", timeout=1.5)
        self.poll()

    def toggle_clip(self) -> None:
        if self.spec is None:
            return
        clip = self.spec.clip
        if clip.mode == "none":
            mode, value = "norm", clip.max_norm
        else:
            mode, value = "none", None
        self.spec = self.spec.with_values({"clip.mode": mode})
        self.source.set_clip(mode, value)
        self.notify(
            "Clipping off" if mode == "none" else f"Clipping by norm at {value:g}", timeout=1.5
        )
        self.poll()

    def train_spec(self, spec: Spec) -> None:
        """From the builder: restart the run with `spec` if it changed, then train."""
        if spec != self.spec:
            self.source.reset(spec=spec)
            self.spec = spec
            self.applied = None
        self.pop_screen()
        if self.status.state is not RunState.RUNNING and "start" in self.source.controls:
            self.source.start()
        self.poll()

    # App-wide actions.

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_screenshot(self) -> None:
        step = self.history.latest.step if self.history.latest else 0
        path = self.save_screenshot(f"tuigrad-step{step}.svg", str(self.screenshot_dir))
        self.notify(f"Saved {path}")

    async def action_quit(self) -> None:
        self.close_source()
        self.exit()

    def close_source(self) -> None:
        if not self._closed:
            self._closed = True
            self.source.close()

    def on_unmount(self) -> None:
        ScrollBar.renderer = self._scrollbar_renderer
        self.close_source()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Every key's action in the command palette, as offered on the current screen."""
        seen = set()
        for binding in [*screen.BINDINGS, *self.BINDINGS]:
            assert isinstance(binding, Binding)
            target = screen if binding in screen.BINDINGS else self
            if binding.action in seen or target.check_action(binding.action, ()) is not True:
                continue
            seen.add(binding.action)
            yield SystemCommand(
                binding.tooltip or binding.description,
                f"key: {binding.key_display or binding.key}",
                _runner(target, binding.action),
            )
        yield from super().get_system_commands(screen)


def _runner(target, action: str):  # noqa: ANN001, ANN202
    async def run() -> None:
        await target.run_action(action)

    return run


def settle_heap() -> None:
    """Keep the garbage collector off the frame path: freeze what is alive now (the modules,
    the app, a run's index) and collect the young generation less often.

    NOTE: a full collection walks every object of the process: 65 ms on the dashboard at 50
    layers, one every 40 frames or so (1.6 ms a frame, and a visible stall), and a seek in a
    replay that triggers one took 20 ms on a quiet machine, 200 ms on a busy one, where the
    seek itself takes 4. Frozen objects are not walked again. A frame's strips and lines live
    until the next frame: at the default threshold (700 objects) they were walked two or three
    times a frame, 0.5 ms; at YOUNG_THRESHOLD they are freed before a collection comes.
    """
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
