"""The terminal driver Textual would pick, writing through CompactOutput (ui/output.py)."""

from __future__ import annotations

import threading
from functools import cache

from textual.driver import Driver

from tuigrad.ui.output import CompactOutput


@cache
def compact_driver(base: type[Driver]) -> type[Driver]:
    """A subclass of `base` whose writes carry style changes as differences."""

    class CompactDriver(base):
        _output: CompactOutput | None = None
        _output_lock = threading.Lock()

        def write(self, data: str) -> None:
            # NOTE: the state of the terminal is carried from one write to the next, so the
            # rewriting and the write itself happen in the order they were asked for.
            with self._output_lock:
                if self._output is None:
                    self._output = CompactOutput()
                super().write(self._output.compact(data))

    CompactDriver.__name__ = CompactDriver.__qualname__ = f"Compact{base.__name__}"
    return CompactDriver
