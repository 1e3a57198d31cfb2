"""The rules: each reads a FrameTable and a Context and returns at most one Finding."""

from __future__ import annotations

from collections.abc import Callable

from tuigrad.diagnosis.context import Context
from tuigrad.diagnosis.finding import Finding
from tuigrad.diagnosis.rules.activations import collapse, dead_units, saturation, symmetry
from tuigrad.diagnosis.rules.gradients import exploding, vanishing
from tuigrad.diagnosis.rules.training import first_nonfinite, no_progress, nonfinite, update_ratio
from tuigrad.diagnosis.table import FrameTable

Rule = Callable[[FrameTable, Context], "Finding | None"]

# Every rule but nonfinite, which runs on the whole table; these run on the frames before it.
RULES: tuple[Rule, ...] = (
    symmetry,
    exploding,
    vanishing,
    collapse,
    saturation,
    dead_units,
    update_ratio,
    no_progress,
)

__all__ = [
    "RULES",
    "Rule",
    "collapse",
    "dead_units",
    "exploding",
    "first_nonfinite",
    "no_progress",
    "nonfinite",
    "saturation",
    "symmetry",
    "update_ratio",
    "vanishing",
]
