"""What one measured pass takes of each layer's output and of its gradient, as the layer runs.

The trainer's blocks and `tuigrad.watch`'s hooks call `take_forward` and `take_backward` for
each monitored layer; the frame then reads the whole pass at once. Where native.c takes a
layer's tensors (CPU, float32, contiguous), their statistics are written straight into that
layer's row of one host table: such a call comes right after the layer's own tensor work, when
each object it touches is slow to reach, and this way it touches few. Other tensors (another
device, another dtype) go through stats.forward_statistics and stats.backward_scalars as
before and stay on their device until the frame's one transfer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

from tuigrad.engine import native, stats


class PassTable:
    """One measured pass: per layer, forward_statistics of its output and backward_scalars
    of the output's gradient. Layers the pass did not reach read NaN, their histograms empty.

    Args:
        activations: each layer's activation, as stats.forward_statistics takes it.
        bins: the activation histograms' bins (0: none).
    """

    def __init__(self, activations: Sequence[str], bins: int) -> None:
        n = len(activations)
        self.activations, self.bins = tuple(activations), bins
        self._native = native.library() is not None
        # (layers, 8 + bins) and (layers, 3): native.forward's and native.moments' layouts.
        self._forward = np.full((n, 8 + bins), math.nan)
        self._backward = np.full((n, 3), math.nan)
        self._forward_at = _row_addresses(self._forward)
        self._backward_at = _row_addresses(self._backward)
        self._args = [_forward_args(a, bins) for a in activations] if self._native else []
        self._written = [False] * n  # forward rows written by native.c
        # Layers whose statistics stats.py took, as it returns them (on the tensors' device).
        self._kept_forward: dict[int, tuple[Tensor, Tensor | None]] = {}
        self._kept_backward: dict[int, Tensor] = {}

    def take_forward(self, i: int, act: Tensor, preact: Tensor | None) -> None:
        """Layer `i`'s output `act` (rows, units) and its Linear output `preact` (or None), as
        the forward pass made them (they need not be detached)."""
        if self._native and _fits(act) and (preact is None or _fits(preact)) and act.dim() == 2:
            native.forward_into(self._forward_at[i], act, preact, self._args[i])
            self._written[i] = True
        else:
            preact = preact.detach() if preact is not None else None
            self._kept_forward[i] = stats.forward_statistics(
                act.detach(), preact, self.activations[i], self.bins
            )

    def take_backward(self, i: int, out_grad: Tensor) -> None:
        """dLoss/d(output) of layer `i`."""
        if self._native and _fits(out_grad):
            native.moments_into(self._backward_at[i], out_grad)
        else:
            out_grad = out_grad.detach()
            self._kept_backward[i] = stats.backward_scalars(out_grad, out_grad)

    def forward(self, ref: Tensor) -> Tensor:
        """(layers, 6) float32: each layer's stats.forward_scalars."""
        host = torch.from_numpy(self._forward[:, :6].astype(np.float32))
        return _merged(host, {i: kept[0] for i, kept in self._kept_forward.items()}, ref)

    def backward(self, ref: Tensor) -> Tensor:
        """(layers, 2) float32: each layer's stats.backward_scalars."""
        host = torch.from_numpy(self._backward[:, 1:].astype(np.float32))
        return _merged(host, self._kept_backward, ref)

    def act_hists(self, ref: Tensor) -> Tensor:
        """(layers, 2 + bins) float64: each layer's activation histogram, range first."""
        host = torch.from_numpy(self._forward[:, 6:].copy())
        host[torch.tensor([not w for w in self._written]), 2:] = 0.0  # empty: NaN range, no counts
        kept = {i: h for i, (_, h) in self._kept_forward.items() if h is not None}
        return _merged(host, kept, ref)


def _forward_args(activation: str, bins: int) -> tuple:
    dead = activation in stats.RELU_FAMILY
    bounds = stats.BOUNDED_RANGE.get(activation)
    return native.forward_args(activation, stats.SATURATION, dead, bins, bounds)


def _row_addresses(table: np.ndarray) -> list[int]:
    return [table.ctypes.data + i * table.strides[0] for i in range(len(table))]


def _fits(t: Tensor) -> bool:
    return t.is_cpu and t.dtype == torch.float32 and t.is_contiguous() and t.numel() > 1


def _merged(host: Tensor, kept: dict[int, Tensor], ref: Tensor) -> Tensor:
    """The host table on `ref`'s device, with the rows in `kept` taken from there."""
    if not kept:
        return host.to(ref.device)
    rows = [kept[i] if i in kept else host[i].to(ref.device) for i in range(len(host))]
    return torch.stack(rows)
