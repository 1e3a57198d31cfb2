"""The top of the dashboard: the run's state in one line, and loss, accuracy and gradient norm."""

from __future__ import annotations

import math

import numpy as np

from tuigrad.sources.base import RunState, SourceStatus
from tuigrad.spec import Spec
from tuigrad.ui import charts
from tuigrad.ui.glyphs import UNICODE, fit, fmt_num, fmt_pct
from tuigrad.ui.history import RunHistory
from tuigrad.ui.widgets.lines import Line, Lines

STATE_MARKS = {
    RunState.IDLE: ("■", "#"),
    RunState.RUNNING: ("▶", ">"),
    RunState.PAUSED: ("‖", "="),
    RunState.FINISHED: ("✓", "v"),
    RunState.STOPPED: ("■", "#"),
    RunState.ERROR: ("✗", "!"),
}


# A loss or norm chart spans at least this many decades (a factor of 1.6): changes of a few
# percent are noise to a reader of a log chart, not a trend.
LOG_MIN_SPAN = 0.2


class RunLine(Lines):
    """State, step, speed, device, learning rate and clipping; a second line says what is wrong."""

    STYLE_PREFIX = "run-line"
    COMPONENT_CLASSES = {
        f"run-line--{name}"
        for name in ("ready", "running", "paused", "finished", "stopped", "error", "text", "bad")
    }

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)

    def update_view(
        self, history: RunHistory, status: SourceStatus, spec: Spec | None, title: str
    ) -> None:
        self.show(self.build(history, status, spec, title, self.size.width))

    def build(
        self, history: RunHistory, status: SourceStatus, spec: Spec | None, title: str, width: int
    ) -> list[Line]:
        ascii_ = self.glyphs is not UNICODE
        mark = STATE_MARKS[status.state][1 if ascii_ else 0]
        frame = history.latest
        parts = [
            f"step {frame.step:,}" if frame else "step -",
            f"{status.steps_per_s:.0f} steps/s" if status.state is RunState.RUNNING else "",
            status.device,
            f"lr {fmt_num(frame.lr)}" if frame else "",
            _clip_text(spec, history),
            title,
        ]
        text = "  ".join(p for p in parts if p)
        state = f" {mark} {status.state.value} "
        lines: list[Line] = [
            ((state, status.state.value), (fit(" " + text, width - len(state)), "text"))
        ]
        notice = _notice(history, status)
        if notice:
            lines.append(((fit(" " + notice, width), "bad"),))
        return lines


def _clip_text(spec: Spec | None, history: RunHistory) -> str:
    rate = history.clip_rate()
    if spec is None:
        # A watched script clips (or not) in its own code: only the frames can tell.
        return "" if math.isnan(rate) or rate == 0 else f"clipping acting {fmt_pct(rate).strip()}"
    if spec.clip.mode == "none":
        return "no clipping"
    limit = spec.clip.max_norm if spec.clip.mode == "norm" else spec.clip.clip_value
    text = f"clip {spec.clip.mode} at {limit:g}"
    return text if math.isnan(rate) else f"{text} (acting {fmt_pct(rate).strip()})"


def _notice(history: RunHistory, status: SourceStatus) -> str:
    """A sentence for what must not go unnoticed: an error, or a non-finite loss or norm."""
    if status.state is RunState.ERROR:
        return f"error: {status.message or 'training stopped'}"
    frame = history.latest
    if history.nonfinite_since is not None:
        what = []
        if frame is not None and not math.isfinite(frame.loss):
            what.append(f"loss is {fmt_num(frame.loss)}")
        if frame is not None and not math.isfinite(frame.grad_norm):
            what.append(f"gradient norm is {fmt_num(frame.grad_norm)}")
        said = " and ".join(what) or "a loss or gradient norm was not finite"
        tail = f" ({status.message})" if status.message else ""
        return f"{said}; first non-finite at step {history.nonfinite_since}{tail}"
    if status.message and status.message != status.state.value:
        return status.message  # "paused" under a run line that says paused adds nothing
    return ""


class SeriesChart(Lines):
    """A title line over a column chart of one run-level series, the whole run resampled to fit."""

    STYLE_PREFIX = "series-chart"
    COMPONENT_CLASSES = {f"series-chart--{name}" for name in ("title", "bars", "bad")}

    def __init__(self, key: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.key = key

    def update_view(self, history: RunHistory, spec: Spec | None) -> None:
        self.show(self.build(history, spec, self.size.width, self.size.height))

    def build(self, history: RunHistory, spec: Spec | None, width: int, height: int) -> list[Line]:
        values, lo, hi, title = _series_view(self.key, history, spec, width)
        if len(title) > width:
            title = title.removesuffix("  log scale")
        bad = bool(len(values)) and not np.isfinite(values[-1])
        lines: list[Line] = [((fit(title, width, self.glyphs), "bad" if bad else "title"),)]
        for row in charts.columns(values, lo, hi, max(height - 1, 0), width, self.glyphs):
            lines.append(((row, "bars"),))
        return lines


def _series_view(
    key: str, history: RunHistory, spec: Spec | None, width: int
) -> tuple[np.ndarray, float, float, str]:
    """(values, lo, hi, title) of one chart: loss and norms on a log10 scale, accuracy linear."""
    latest = history.latest
    if key == "accuracy":
        values = history.series["accuracy"].resample(width)
        now = latest.accuracy if latest else math.nan
        if spec is not None and not spec.data.is_classification:
            return values[:0], 0.0, 1.0, "accuracy: none for regression"
        if not np.isfinite(values).any():
            # A watched script that never logs accuracy: an empty chart, not a row of NaN marks.
            return values[:0], 0.0, 1.0, "accuracy: not recorded"
        return values, 0.0, 1.0, f"accuracy {fmt_pct(now).strip()}" if latest else "accuracy"
    if key == "loss":
        raw = history.series["loss"].resample(width)
        values = _log10(raw)
        lo, hi = charts.scale(values, whole=False, min_span=LOG_MIN_SPAN)
        if latest is None:  # no step yet: no minimum either
            return values, lo, hi, "loss"
        now = fmt_num(latest.loss, 3)
        return values, lo, hi, f"loss {now}  min {fmt_num(history.min_loss, 3)}  log scale"
    before = _log10(history.series["grad_norm"].resample(width))
    lo, hi = charts.scale(before, whole=False, min_span=LOG_MIN_SPAN)
    if latest is None:
        return before, lo, hi, "grad norm"
    title = f"grad norm {fmt_num(latest.grad_norm)}"
    clips = spec.clip.mode != "none" if spec is not None else history.clip_rate() > 0
    if clips:
        title += f" -> {fmt_num(latest.grad_norm_clipped)}"
    return before, lo, hi, title + "  log scale"


def _log10(values: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log10(values)
