"""Statistics of a watched step, for all layers of one weight shape at once.

The watcher copies a sampled step's tensors into one stack per shape; each statistic is then
one operation on the stack instead of dozens of small ones per layer, which on the CPU was most
of a sampled step's cost.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from tuigrad.engine import native, stats
from tuigrad.frames import LAYER_SCALARS

# NOTE: these follow stats.layer_scalars exactly (a test compares them with
# stats.measure_layer), but take each statistic of every layer of one shape in one operation
# on their stack: a sampled step then costs a few operations per distinct shape instead of
# dozens per layer, which on the CPU was most of its cost.


class Buffers:
    """Host tensors for a sampled step's copies, kept for the next sampled step.

    NOTE: on the CPU a fresh tensor of a few MB costs more than the arithmetic done in it (its
    pages are mapped and zeroed anew each time). Other devices take memory from torch's
    caching allocator, so no buffer is kept for them. On the CPU they hold about three copies
    of the monitored weights between sampled steps, as much as a sampled step needs anyway.
    """

    def __init__(self) -> None:
        self._free: dict[tuple[Any, ...], list[Tensor]] = {}

    def take(self, shape: Sequence[int], like: Tensor) -> Tensor:
        free = self._free.get((tuple(shape), like.dtype, like.device))
        return free.pop() if free else like.new_empty(shape)

    def give(self, t: Tensor) -> None:
        """`t` is free for reuse: nothing refers to it any more (CPU work is done when issued)."""
        if stats.is_host(t):
            self._free.setdefault((tuple(t.shape), t.dtype, t.device), []).append(t)


@dataclass(frozen=True, eq=False)
class Stacked:
    """Same-shaped tensors of several layers: the layers' indices and their stack."""

    index: tuple[int, ...]
    values: Tensor  # (len(index), *shape)


def stack(tensors: Sequence[Tensor | None], buffers: Buffers) -> list[Stacked]:
    """The tensors given, copied into one stack per shape, dtype and device."""
    groups: dict[tuple[Any, ...], list[int]] = {}
    for i, t in enumerate(tensors):
        if t is not None:
            groups.setdefault((t.shape, t.dtype, t.device), []).append(i)
    stacked = []
    for index in groups.values():
        rows = [tensors[i].detach() for i in index]  # type: ignore[union-attr]
        values = torch.stack(rows, out=buffers.take((len(rows), *rows[0].shape), rows[0]))
        stacked.append(Stacked(tuple(index), values))
    return stacked


def unstack(groups: list[Stacked], n: int) -> list[Tensor | None]:
    """Each layer's tensor in the stacks (None for a layer in none of them)."""
    rows: list[Tensor | None] = [None] * n
    for group in groups:
        for i, row in zip(group.index, group.values.unbind(0), strict=True):
            rows[i] = row
    return rows


def per_layer(
    groups: list[Stacked], n: int, empty: Tensor, fn: Callable[[Tensor], Tensor]
) -> Tensor:
    """(n, width): `fn` of each stack, (group, ...) -> (group, width); `empty` for other layers."""
    rows = [empty] * n
    for group in groups:
        out = fn(group.values.float())
        for i, row in zip(group.index, out.unbind(0), strict=True):
            rows[i] = row
    return torch.stack(rows)


def nan_row(width: int, ref: Tensor) -> Tensor:
    return torch.full((width,), math.nan, dtype=torch.float32, device=ref.device)


def moments(x: Tensor, buffers: Buffers, norm: bool = True) -> Tensor:
    """(group, 3) per stacked tensor: mean, unbiased std (as stats.std_norm), L2 norm.

    On the CPU the std comes from the norm's pass, (|x|^2 - n mean^2) / (n - 1) in float64,
    for every tensor whose mean holds at most half of |x|^2 (no digits cancel); otherwise,
    and on other devices (no read-back there), from the deviations in a second pass.
    """
    flat = x.reshape(len(x), -1)  # (group, elements)
    if stats.is_fused(flat):
        out = torch.from_numpy(native.moments(list(flat)).astype(np.float32))
        if not norm:
            out[:, 2] = 0.0
        return out
    mean = flat.mean(1)
    size = flat.shape[1]
    l2 = torch.linalg.vector_norm(flat, dim=1)
    if size < 2:
        std = torch.full_like(mean, math.nan)
    elif stats.is_host(flat):
        sq, m = l2.double() ** 2, mean.double()
        centred = sq - size * m * m
        std = (centred.clamp(min=0) / (size - 1)).sqrt().float()
        unsafe = ~(torch.isfinite(centred) & (centred > 0.5 * sq))
        if unsafe.any():
            std = torch.where(unsafe, _two_pass_std(flat, mean, buffers), std)
    else:
        std = _two_pass_std(flat, mean, buffers)
    return torch.stack([mean, std, l2 if norm else torch.zeros_like(mean)], dim=1)


def _two_pass_std(flat: Tensor, mean: Tensor, buffers: Buffers) -> Tensor:
    centred = torch.sub(flat, mean[:, None], out=buffers.take(flat.shape, flat))
    std = torch.linalg.vector_norm(centred, dim=1) / math.sqrt(flat.shape[1] - 1)
    buffers.give(centred)
    return std


def norm_std(x: Tensor, buffers: Buffers) -> Tensor:
    """(group, 2) per stacked tensor: L2 norm, unbiased std."""
    return moments(x, buffers)[:, 1:].flip(1)


def _act_scalars(act: Tensor, buffers: Buffers) -> Tensor:
    """(group, 3) per stacked (rows, units) activation: mean, std, unit spread."""
    rows, units = act.shape[1:]
    if rows * units < 2:
        return torch.full((len(act), 3), math.nan, dtype=act.dtype, device=act.device)
    if stats.is_fused(act):
        out = np.stack([native.forward(a, None, "identity", 1.0, False, 0, None) for a in act])
        return torch.from_numpy(out[:, [0, 1, 4]].astype(np.float32))
    mean_std = moments(act, buffers, norm=False)[:, :2]
    if units < 2:
        spread = torch.full_like(mean_std[:, 0], math.nan)
    else:
        means = act.mean(dim=2, keepdim=True)
        centred = torch.sub(act, means, out=buffers.take(act.shape, act))  # (group, rows, units)
        spread = (torch.linalg.vector_norm(centred, dim=2) / math.sqrt(units - 1)).mean(1)
        buffers.give(centred)
    return torch.cat([mean_std, spread[:, None]], dim=1)


_SCALAR_COLUMNS = {
    "act_mean": 0,
    "act_std": 1,
    "unit_spread": 2,
    "out_grad_std": 3,
    "out_grad_norm": 4,
    "weight_norm": 5,
    "weight_std": 6,
    "weight_grad_norm": 7,
    "weight_grad_std": 8,
    "grad_data_ratio": 9,
    "update_ratio": 10,
}  # any other column (saturation, dead units, pre-activation std) is NaN: column 11


def each_norm_std(tensors: Sequence[Tensor | None], ref: Tensor) -> Tensor:
    """(len(tensors), 2): L2 norm and unbiased std of each tensor, NaN for None.

    NOTE: for tensors measured where they lie, without a copy into a stack.
    """
    return stats.each_std_norm(tensors, ref).flip(1)


def scalar_table(
    acts: list[Stacked],
    out_grads: list[Stacked],
    grad: Tensor,
    weights: Tensor,
    updates: Tensor,
    n: int,
    buffers: Buffers,
    ref: Tensor,
) -> Tensor:
    """(n, N_SCALARS) float64 in LAYER_SCALARS order, as stats.layer_scalars gives them.

    `grad` and `weights` are (n, 2): the gradient's and the weight's (before the step) norm
    and std; `updates` (n, 1) the update's std.
    """
    act = per_layer(acts, n, nan_row(3, ref), lambda a: _act_scalars(a, buffers))
    og = per_layer(out_grads, n, nan_row(2, ref), lambda g: moments(g, buffers)[:, 1:])
    w_std = weights[:, 1:2]
    ratios = torch.cat([grad[:, 1:2] / w_std, updates / w_std], dim=1)
    nan = torch.full((n, 1), math.nan, dtype=torch.float32, device=ref.device)
    table = torch.cat([act, og, weights, grad, ratios, nan], dim=1)  # (layers, 12)
    order = [_SCALAR_COLUMNS.get(name, 11) for name in LAYER_SCALARS]
    # NOTE: columns picked one by one: an index list would be one more copy to the device.
    return torch.stack([table[:, k] for k in order], dim=1).double()
