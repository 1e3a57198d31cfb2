"""The engine: registries, data, model builder, probe statistics, the trainer and its thread.

`tuigrad.engine.layout` needs no torch; everything else does. The trainer and runner are
imported on first use, so importing the package itself stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tuigrad.engine.runner import Runner
    from tuigrad.engine.trainer import Trainer

__all__ = ["Runner", "Trainer"]


def __getattr__(name: str) -> Any:
    if name == "Trainer":
        from tuigrad.engine.trainer import Trainer

        return Trainer
    if name == "Runner":
        from tuigrad.engine.runner import Runner

        return Runner
    raise AttributeError(f"module 'tuigrad.engine' has no attribute {name!r}")
