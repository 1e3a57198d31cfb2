"""The engine: registries, data, model builder, probe statistics and the trainer (needs torch)."""

from __future__ import annotations

from tuigrad.engine.trainer import Trainer

__all__ = ["Trainer"]
