"""tuigrad: watch the health of a deep network's gradients while it trains, in a terminal."""

from __future__ import annotations

__version__ = "0.1.0"
