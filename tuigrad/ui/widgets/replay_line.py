"""The replay's run line: where the cursor is in the recording, the speed, and the writer's state."""

from __future__ import annotations

from textual import events

from tuigrad.sources.base import RunState, SourceStatus
from tuigrad.spec import Spec
from tuigrad.ui.glyphs import UNICODE, fit, fmt_num
from tuigrad.ui.history import RunHistory
from tuigrad.ui.widgets.lines import Line
from tuigrad.ui.widgets.overview import STATE_MARKS, RunLine, _clip_text, _notice

WORDS_WIDTH = 44  # cells after the scrub bar for what the source says


class ReplayRunLine(RunLine):
    """State, step k of N, frame, speed; a scrub bar below (click it to seek); then any notice.

    `source` is a ReplaySource (or anything with its cursor, frame_count, speed and follow).
    """

    COMPONENT_CLASSES = {"run-line--bar", "run-line--mark"}
    DEFAULT_CSS = """
    ReplayRunLine {
        & > .run-line--bar { color: $foreground 45%; }
        & > .run-line--mark { color: $accent; text-style: bold; }
    }
    """

    def __init__(self, source, *, id: str | None = None) -> None:  # noqa: ANN001
        super().__init__(id=id)
        self.source = source

    def build(
        self, history: RunHistory, status: SourceStatus, spec: Spec | None, title: str, width: int
    ) -> list[Line]:
        source = self.source
        mark = STATE_MARKS[status.state][0 if self.glyphs is UNICODE else 1]
        state = f" {mark} {status.state.value} "
        frame = history.latest
        count, cursor = source.frame_count, source.cursor
        last = source.reader.steps[-1] if count else None
        parts = [
            f"step {frame.step:,} of {last:,}" if frame and last is not None else "step -",
            f"frame {cursor + 1:,}/{count:,}" if count else "no frames",
            f"x{source.speed:g}",
            status.device,
            f"lr {fmt_num(frame.lr)}" if frame else "",
            _clip_text(spec, history),
            title,
        ]
        text = "  ".join(p for p in parts if p)
        lines: list[Line] = [
            ((state, status.state.value), (fit(" " + text, width - len(state)), "text"))
        ]
        lines.append(self._bar(status, width))
        quiet = SourceStatus(status.state, status.message if status.state is RunState.ERROR else "")
        notice = _notice(history, quiet)
        if notice:
            lines.append(((fit(" " + notice, width), "bad"),))
        return lines

    def _bar(self, status: SourceStatus, width: int) -> Line:
        """A scrub bar over the whole recording with the cursor on it, then what the source says."""
        words = status.message
        if self.source.follow and "writer" not in words:
            words = f"writer {self.source.reader.writer_state()}: {words}"
        # The words take a fixed share of the line, so that the bar keeps its length.
        words = fit("  " + words, min(WORDS_WIDTH, width // 3), self.glyphs)
        span = self._span(width)
        if span <= 0:
            return ((fit(words, width), "text"),)
        at = self._mark_at(span)
        line = self.glyphs.gauge_line
        return (
            (" " + line * at, "bar"),
            (self.glyphs.gauge_mark if span else "", "mark"),
            (line * max(span - at - 1, 0) + " ", "bar"),
            (words, "text"),
        )

    def _span(self, width: int) -> int:
        """Cells of the scrub bar at `width`: it starts at x = 1."""
        return max(width - min(WORDS_WIDTH, width // 3) - 2, 0)

    def _mark_at(self, span: int) -> int:
        count = self.source.frame_count
        if count <= 1 or self.source.cursor < 0:
            return 0
        return round(self.source.cursor / (count - 1) * (span - 1))

    def on_click(self, event: events.Click) -> None:
        """A click on the scrub bar shows the frame at that point of the recording."""
        if event.y != 1 or self.source.frame_count == 0:
            return
        span = self._span(self.size.width)
        if span <= 1:
            return
        x = min(max(event.x - 1, 0), span - 1)
        self.source.seek_index(round(x / (span - 1) * (self.source.frame_count - 1)))
        self.app.poll()
