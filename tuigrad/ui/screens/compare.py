"""Comparing two recordings: both runs' layer rows interleaved, aligned by step, on one scale."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult

from tuigrad.frames import Frame
from tuigrad.ui.glyphs import fit, fmt_num, fmt_pct
from tuigrad.ui.screens.replay import ReplayScreen
from tuigrad.ui.widgets.lines import Line, Lines

MAX_DIFF_LINES = 3


class CompareHead(Lines):
    """Each run's file, title and numbers at the cursor; then how their specs differ."""

    STYLE_PREFIX = "compare-head"
    COMPONENT_CLASSES = {f"compare-head--{name}" for name in ("label", "text", "diff", "same")}
    DEFAULT_CSS = """
    CompareHead {
        & > .compare-head--label { color: $primary; text-style: bold; }
        & > .compare-head--text { color: $foreground; }
        & > .compare-head--diff { color: $warning; }
        & > .compare-head--same { color: $foreground 60%; }
    }
    """

    def update_view(self, pair: Any, cursor: int) -> None:
        self.show(build_head(pair, cursor, self.size.width))


def build_head(pair: Any, cursor: int, width: int) -> list[Line]:
    """The lines of CompareHead for a RunPair with the cursor at union index `cursor`."""
    sides = pair.sides(cursor) if len(pair) and cursor >= 0 else (None, None)
    lines: list[Line] = []
    for label, reader, path, frame in zip("AB", pair.readers, pair.paths, sides, strict=True):
        text = f" {_numbers(frame)}  {reader.title}  {path}"
        lines.append(((f" {label} ", "label"), (fit(text, width - 3), "text")))
    problems = pair.spec_problems()
    full = pair.spec_diff() or []
    diff = [item for item in full if item[0] not in NOTES]
    if problems:
        lines += [((fit(" spec: " + p, width), "diff"),) for p in problems]
    elif not diff:
        but = " but for the title and notes" if full else ""
        lines.append(((fit(f" the two runs have the same spec{but}", width), "same"),))
    else:
        lines += _diff_lines(diff, width)
    return lines


def _numbers(frame: Frame | None) -> str:
    if frame is None:
        return "no frame yet at this step"
    return (
        f"step {frame.step:,}  loss {fmt_num(frame.loss, 3)}  "
        f"acc {fmt_pct(frame.accuracy).strip()}  grad norm {fmt_num(frame.grad_norm)}"
    )


def _diff_lines(diff: list[tuple[str, Any, Any]], width: int) -> list[Line]:
    """`key A -> B` items packed into at most MAX_DIFF_LINES lines."""
    items = [f"{key} {_value(a)} -> {_value(b)}" for key, a, b in diff]
    lines: list[str] = []
    current = " spec A -> B:"
    for k, item in enumerate(items):
        if len(current) + 2 + len(item) > width and current.strip():
            if len(lines) == MAX_DIFF_LINES - 1:
                current += f"  (+{len(items) - k} more)"
                break
            lines.append(current)
            current = "  "
        current += ("  " if current.strip() else "") + item
    lines.append(current)
    return [((fit(text, width), "diff"),) for text in lines]


def _value(value: Any) -> str:
    if value is None:
        return "(unset)"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


# The titles are on the lines above; the notes of two presets differ whenever the presets do.
NOTES = ("title", "description", "look_at", "expect")


class CompareScreen(ReplayScreen):
    """Two runs: a head with their numbers and spec differences, then the interleaved rows."""

    HELP_WHERE = "compare"

    def compose(self) -> ComposeResult:
        self.head = CompareHead(id="compare-head")
        yield self.head
        yield from super().compose()

    def on_mount(self) -> None:
        super().on_mount()
        # The run-level charts would show run A alone: the head gives both runs' numbers.
        self.query_one("#charts").display = False
        self.query_one("#findings").display = False

    def redraw(self) -> None:
        super().redraw()
        source = self.app.source
        self.head.update_view(source.reader, source.cursor)
