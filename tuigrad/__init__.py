"""tuigrad: watch the health of a deep network's gradients while it trains, in a terminal."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tuigrad.engine.watch import Watcher, watch

__version__ = "0.1.0"
__all__ = ["Watcher", "watch"]


def __getattr__(name: str) -> Any:
    # `import tuigrad` and `tuigrad --help` stay free of torch: it loads on first use of watch.
    if name in ("watch", "Watcher"):
        from tuigrad.engine import watch as module

        return getattr(module, name)
    raise AttributeError(f"module 'tuigrad' has no attribute {name!r}")
