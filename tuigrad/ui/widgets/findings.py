"""The findings panel: one summary line, or the list with the selected finding's why and fix."""

from __future__ import annotations

from tuigrad.ui.findings import PanelState, panel_lines
from tuigrad.ui.widgets.lines import Lines

STYLES = (
    "title",
    "text",
    "muted",
    "label",
    "why",
    "fix",
    "good",
    "pointer",
    "selected",
    "error",
    "warning",
    "info",
)


class FindingsPanel(Lines):
    """Draws a PanelState; `show_state` does nothing when neither the state nor the size changed."""

    STYLE_PREFIX = "findings-panel"
    COMPONENT_CLASSES = {f"findings-panel--{name}" for name in STYLES}

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.state = PanelState()
        self.max_height = 1
        self._drawn: tuple[PanelState, int, int] | None = None

    def show_state(self, state: PanelState, max_height: int) -> None:
        self.state, self.max_height = state, max_height
        width = self.size.width
        key = (state, width, max_height)
        if key == self._drawn or width <= 0:
            return
        self._drawn = key
        lines = panel_lines(state, width, max_height, self.glyphs)
        # NOTE: an explicit height: with `height: auto` a change in the number of lines
        # asked for while the screen is being resized was not always laid out.
        if self.styles.height is None or self.styles.height.value != len(lines):
            self.styles.height = len(lines)
        self.show(lines)

    def on_resize(self) -> None:
        self.show_state(self.state, self.max_height)
