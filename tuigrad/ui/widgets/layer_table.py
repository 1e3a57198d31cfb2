"""One row per monitored layer, in model order, under a header that stays put while rows scroll.

The name and config of each row are a widget of their own on the left (LayerLabels), so that
Textual, which repaints a changed span of a line from the start of the widget, never sends them
again when only the numbers and charts change. The table scrolls them with its rows.
"""

from __future__ import annotations

from textual import events
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tuigrad.frames import LayerInfo
from tuigrad.ui.glyphs import UNICODE, Glyphs
from tuigrad.ui.history import RunHistory
from tuigrad.ui.rows import HIST_KINDS, Line, TableView, changed_spans
from tuigrad.ui.widgets.lines import Lines, LineStyles

__all__ = ["HIST_KINDS", "LayerLabels", "LayerTable"]

STYLES = (
    "header",
    "muted",
    "spark",
    "faded",
    "hot",
    "hist",
    "good",
    "warn",
    "bad",
)


class LayerLabels(Lines):
    """The name and config columns of the rows `table` shows; the mouse wheel scrolls the table."""

    STYLE_PREFIX = "layer-labels"
    COMPONENT_CLASSES = {f"layer-labels--{name}" for name in ("header", "name", "marked", "config")}

    def __init__(self, table: LayerTable) -> None:
        super().__init__(id=f"{table.id}-labels" if table.id else None)
        self.table = table

    def fit_width(self, width: int) -> None:
        if self.styles.width is None or self.styles.width.value != width:
            self.styles.width = width

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        event.stop()
        self.table.scroll_relative(y=self.app.scroll_sensitivity_y, animate=False)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        event.stop()
        self.table.scroll_relative(y=-self.app.scroll_sensitivity_y, animate=False)

    def on_click(self) -> None:
        self.table.focus()


class LayerTable(ScrollView, can_focus=True):
    """Rows L1..head; row 0 is the column header and never scrolls.

    On new frames only the visible rows are rebuilt, and only lines whose text changed are
    repainted; rows scrolled into view are built when first drawn. Compose `labels` to its left.
    """

    COMPONENT_CLASSES = {f"layer-table--{name}" for name in STYLES}

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.labels = LayerLabels(self)
        self.kind = "act_hist"
        self.infos: tuple[LayerInfo, ...] = ()
        self.history = RunHistory(())
        self.marked: frozenset[str] = frozenset()
        self._styles = LineStyles(self, "layer-table")
        self._view: TableView | None = None
        self._rows: dict[int, tuple[TableView, Line, Strip | None]] = {}
        self._header: tuple[Line, Strip | None] = ((), None)
        self._labels_key: tuple = ()

    @property
    def glyphs(self) -> Glyphs:
        return getattr(self.app, "glyphs", UNICODE)

    # What the dashboard calls.

    def set_run(self, layers: tuple[LayerInfo, ...], history: RunHistory) -> None:
        self.infos, self.history = layers, history
        self.virtual_size = Size(self.size.width, len(layers) + 1)
        self._rows.clear()
        self.data_changed()

    def set_marked(self, names: frozenset[str]) -> None:
        """Point at these layers' rows (the selected finding's layers)."""
        if names != self.marked:
            self.marked = names
            self.data_changed()

    def set_kind(self, kind: str) -> None:
        self.kind = kind
        self.data_changed()

    def data_changed(self) -> None:
        """New frames: rebuild the visible rows, repaint the lines whose text changed."""
        view = self._new_view()
        width = self.scrollable_content_region.width
        # Over SSH the bytes are what counts: a changed line is repainted up to its last
        # changed run only.
        dirty: list[Region] = []
        header = view.header()
        if header != self._header[0]:
            dirty += _regions(self._header[0], header, 0, width)
            self._header = (header, None)
        top = round(self.scroll_y)
        visible = max(self.scrollable_content_region.height - 1, 0)
        for row, line in view.lines(top, top + visible).items():
            _, old, strip = self._rows.get(row, (view, (), None))
            if line != old:
                self._rows[row] = (view, line, None)
                dirty += _regions(old, line, row - top + 1, width)
            else:
                self._rows[row] = (view, old, strip)
        if dirty:
            self.refresh(*dirty)
        self._show_labels(view)

    def on_resize(self) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, len(self.infos) + 1)
        self._show_labels(self._new_view())

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self._show_labels(self._view or self._new_view())

    def _show_labels(self, view: TableView) -> None:
        """The labels of the rows shown, line for line beside them."""
        top = round(self.scroll_y)
        visible = max(self.scrollable_content_region.height - 1, 0)
        # New frames leave the labels as they are: nothing to build then.
        key = (self.infos, view.marked, view.label_cols, view.glyphs, top, visible)
        if key == self._labels_key:
            return
        self._labels_key = key
        rows = view.labels(top, top + visible)
        self.labels.fit_width(view.label_width)
        self.labels.show([view.label_header(), *(rows[row] for row in sorted(rows))])

    def _new_view(self) -> TableView:
        # The columns are laid out over the labels' width and the table's together.
        width = self.labels.outer_size.width + self.scrollable_content_region.width
        self._view = TableView(self.infos, self.history, self.kind, width, self.glyphs, self.marked)
        return self._view

    def notify_style_update(self) -> None:
        super().notify_style_update()
        # A new theme: the strips drawn so far have the old colours.
        self._styles.forget()
        self._rows.clear()
        self._header = (self._header[0], None)

    # Line API.

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        view = self._view or self._new_view()
        if y == 0:
            line, strip = self._header
            if not line:
                line = view.header()
            if strip is None or strip.cell_length != width:
                strip = self._styles.strip(line, width)
                self._header = (line, strip)
            return strip
        row = round(self.scroll_y) + y - 1
        if row >= len(self.infos):
            return Strip.blank(width, self._styles.plain)
        built, line, strip = self._rows.get(row, (None, (), None))
        if built is not view:
            line, strip = view.lines(row, row + 1)[row], None
        if strip is None or strip.cell_length != width:
            strip = self._styles.strip(line, width)
        self._rows[row] = (view, line, strip)
        return strip


def _regions(old: Line, new: Line, y: int, width: int) -> list[Region]:
    """The region of line `y` to repaint when its runs go from `old` to `new`.

    NOTE: Textual writes a dirty span from the start of the widget's line to the span's end,
    so one region per line, up to the last changed run, is what saves bytes: the unchanged
    tail of the line is not sent again.
    """
    spans = changed_spans(old, new)
    end = width if not spans else spans[-1][1]
    return [Region(0, y, end, 1)]
