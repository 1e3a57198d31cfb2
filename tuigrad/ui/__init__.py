"""The terminal app. Imports spec, frames and sources, never torch: frames arrive ready-made."""

from __future__ import annotations

from tuigrad.ui.app import TuigradApp

__all__ = ["TuigradApp"]
