"""Widgets drawn line by line from runs of (text, component class), repainting changed lines only."""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from tuigrad.ui.glyphs import UNICODE, Glyphs
from tuigrad.ui.rows import Line, changed_spans


class LineStyles:
    """Turns lines of runs into Strips with the widget's component styles, merging equal styles."""

    def __init__(self, widget: Widget, prefix: str) -> None:
        self._widget = widget
        self._prefix = prefix
        self._plain: Style | None = None

    @property
    def plain(self) -> Style:
        """The widget's own style, for plain runs and padding (cached: it costs 16 us)."""
        if self._plain is None:
            self._plain = self._widget.rich_style
        return self._plain

    def forget(self) -> None:
        """The widget's styles changed."""
        self._plain = None

    def strip(self, line: Line, width: int) -> Strip:
        segments = []
        get = self._widget.get_component_rich_style
        # NOTE: plain runs and padding take the widget's own style, never None: Textual's
        # monochrome filter (NO_COLOR) fails on a segment without a style, and an unstyled
        # cell shows the terminal's background instead of the theme's.
        plain = self.plain
        for text, cls in line:
            if not text:
                continue
            style = get(f"{self._prefix}--{cls}") if cls else plain
            if segments and segments[-1].style == style:
                segments[-1] = Segment(segments[-1].text + text, style)
            else:
                segments.append(Segment(text, style))
        return Strip(segments).adjust_cell_length(width, plain)


class Lines(Widget):
    """A widget whose content is a list of Lines; `show` repaints only the lines that changed."""

    DEFAULT_CSS = "Lines { height: auto; }"

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._lines: list[Line] = []
        self._strips: dict[int, Strip] = {}
        self._styles = LineStyles(self, self.STYLE_PREFIX)

    STYLE_PREFIX = "lines"

    @property
    def glyphs(self) -> Glyphs:
        return getattr(self.app, "glyphs", UNICODE)

    def show(self, lines: list[Line]) -> None:
        width = self.size.width
        if len(lines) != len(self._lines):
            self._lines = list(lines)
            self._strips.clear()
            self.refresh(layout=True)
            return
        dirty = []
        for y, line in enumerate(lines):
            if line == self._lines[y]:
                continue
            # Up to the last changed run: the unchanged tail of the line is not sent again.
            spans = changed_spans(self._lines[y], line)
            dirty.append(Region(0, y, spans[-1][1] if spans else width, 1))
            self._lines[y] = line
            self._strips.pop(y, None)
        if dirty:
            self.refresh(*dirty)

    def get_content_height(self, container, viewport, width: int) -> int:  # noqa: ANN001
        return len(self._lines)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y >= len(self._lines):
            return Strip.blank(width, self._styles.plain)
        strip = self._strips.get(y)
        if strip is None or strip.cell_length != width:
            strip = self._strips[y] = self._styles.strip(self._lines[y], width)
        return strip

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.forget()
        self._strips.clear()
