"""Which modules of a user's model `tuigrad.watch` monitors, what each one is, and the checks
on `watch`'s arguments.

By default a module is monitored when it owns parameters itself (not through children): every
leaf with parameters (Linear, Conv, Embedding, the norms) and modules such as
nn.MultiheadAttention that hold their input projection directly. Names are the modules'
qualified names (`encoder.layers.0.self_attn`), as `model.named_modules()` gives them.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from tuigrad.errors import TuigradError
from tuigrad.frames import LayerInfo

# Modules whose output carries its units (channels) in dimension 1, not in the last one.
CHANNEL_FIRST = (
    nn.modules.conv._ConvNd,
    nn.modules.batchnorm._NormBase,
    nn.GroupNorm,
)


class WatchError(TuigradError):
    """`tuigrad.watch` was called with arguments it cannot use."""


@dataclass(frozen=True, eq=False)
class Watched:
    """One monitored module: its name, the module, and the parameter its weight statistics use."""

    name: str
    module: nn.Module
    weight: nn.Parameter
    channel_dim: int  # where the output's units are: 1 (channels) or -1 (features)

    @property
    def info(self) -> LayerInfo:
        shape = tuple(self.weight.shape)
        summary = f"{type(self.module).__name__} {'x'.join(map(str, shape))}"
        return LayerInfo(self.name, summary, shape, "identity")


def main_weight(module: nn.Module) -> nn.Parameter | None:
    """`module.weight` when it is a parameter; else its first own parameter of 2+ dims; else its first."""
    own = [p for p in module.parameters(recurse=False)]
    weight = getattr(module, "weight", None)
    if isinstance(weight, nn.Parameter):
        return weight
    return next((p for p in own if p.dim() >= 2), own[0] if own else None)


def _matches(name: str, module: nn.Module, patterns: Sequence[str], types: Sequence[type]) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in patterns) or isinstance(module, tuple(types))


def _check(kind: str, patterns: Sequence[str], types: Sequence[type]) -> None:
    for p in patterns:
        if not isinstance(p, str):
            raise WatchError(f"{kind} = {p!r}: give name patterns as strings, e.g. 'encoder.*'")
    for t in types:
        if not (isinstance(t, type) and issubclass(t, nn.Module)):
            raise WatchError(f"{kind}_types = {t!r}: give nn.Module classes, e.g. nn.Linear")


def select_modules(
    model: nn.Module,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    include_types: Sequence[type] = (),
    exclude_types: Sequence[type] = (),
) -> tuple[Watched, ...]:
    """The monitored modules, in `named_modules()` order.

    With `include` / `include_types`, only the modules matching one of them are kept (name
    patterns use fnmatch: `blocks.*.fc1`); `exclude` / `exclude_types` remove modules and win
    over include. A module without any parameter of its own cannot be monitored. A model that
    holds parameters itself (a bare nn.Linear) is named `model`.
    """
    _check("include", include, include_types)
    _check("exclude", exclude, exclude_types)
    chosen = []
    for name, module in model.named_modules():
        weight = main_weight(module)
        if weight is None:
            continue
        name = name or "model"
        picked = _matches(name, module, include, include_types)
        if not picked and (include or include_types):
            continue
        if _matches(name, module, exclude, exclude_types):
            continue
        dim = 1 if isinstance(module, CHANNEL_FIRST) else -1
        chosen.append(Watched(name, module, weight, dim))
    if not chosen:
        raise WatchError(
            f"no module to watch in {type(model).__name__} with include={list(include)}, "
            f"exclude={list(exclude)}: modules with parameters are "
            f"{[n for n, m in model.named_modules() if main_weight(m) is not None][:8]}"
        )
    return tuple(chosen)


def check_args(
    model: Any,
    optimizer: Any,
    every: Any,
    bins: Any,
    hist_every: Any,
    act_rows: Any,
    scaler: Any,
) -> None:
    """Refuse `watch`'s arguments that cannot work, in one line naming the bad value."""
    if not isinstance(model, nn.Module):
        raise WatchError(f"model = {type(model).__name__}: give the torch.nn.Module you train")
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise WatchError(f"optimizer = {type(optimizer).__name__}: give a torch.optim.Optimizer")
    if not isinstance(every, int) or every < 1:
        raise WatchError(f"every = {every!r}: give a whole number of steps, 1 or more")
    if not isinstance(bins, int) or not (bins == 0 or 4 <= bins <= 512):
        raise WatchError(f"bins = {bins!r}: give 0 (no histograms) or 4 to 512")
    if hist_every is not None and (not isinstance(hist_every, int) or hist_every < 1):
        raise WatchError(f"hist_every = {hist_every!r}: give a whole number of steps, 1 or more")
    if not isinstance(act_rows, int) or act_rows < 0:
        raise WatchError(f"act_rows = {act_rows!r}: give 0 (the whole batch) or a number of rows")
    if scaler is not None and not hasattr(scaler, "step"):
        raise WatchError(f"scaler = {type(scaler).__name__}: give a torch.amp.GradScaler or None")
