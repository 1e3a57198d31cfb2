"""Activation statistics combined across the ranks of a torch.distributed job.

Every rank holds the activations of its own share of the batch. Each rank reduces its share to
a few moments (count, mean, sum of squared deviations), the moments of all ranks are gathered,
and combined exactly (Chan's pairwise formula), so the result is what one process would
compute over the whole batch. Histograms first agree on a common range (all-reduce min and
max), then sum their counts. Weights and gradients need none of this: under DDP they are the
same on every rank once backward has synchronised them.

`out_grad` is dLoss/d(output) of the rank's own loss. DDP averages gradients over ranks, which
is the gradient of the mean of the ranks' losses, so a rank's share of the whole batch's
out_grad is its own divided by the world size; the moments are scaled to match.
"""

from __future__ import annotations

import math

import torch
import torch.distributed as dist
from torch import Tensor

from tuigrad.engine import stats
from tuigrad.frames import LAYER_SCALARS

# Per layer: act count, mean, M2, sum of per-row stds, rows; out_grad count, mean, M2, sum sq.
_N_MOMENTS = 9
_ACT_MEAN, _ACT_STD = LAYER_SCALARS.index("act_mean"), LAYER_SCALARS.index("act_std")
_SPREAD = LAYER_SCALARS.index("unit_spread")
_OG_STD, _OG_NORM = LAYER_SCALARS.index("out_grad_std"), LAYER_SCALARS.index("out_grad_norm")


def is_distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def _moments(x: Tensor | None, ref: Tensor) -> list[Tensor]:
    if x is None or x.numel() == 0:
        zero = torch.zeros((), dtype=torch.float64, device=ref.device)
        return [zero, zero, zero]
    x = x.double()
    mean = x.mean()
    n = torch.full((), x.numel(), dtype=torch.float64, device=ref.device)
    return [n, mean, torch.linalg.vector_norm(x - mean) ** 2]


def local_moments(act: Tensor | None, out_grad: Tensor | None, world: int, ref: Tensor) -> Tensor:
    """(_N_MOMENTS,) float64 for one layer on this rank; `act` and `out_grad` as (rows, units)."""
    row = _moments(act, ref)
    if act is not None and act.numel() > 0 and act.shape[1] > 1:
        a = act.double()
        spread = torch.linalg.vector_norm(a - a.mean(1, keepdim=True), dim=1)  # (rows,)
        spread = spread / math.sqrt(a.shape[1] - 1)
        row += [spread.sum(), torch.full_like(spread.sum(), a.shape[0])]
    else:
        row += [torch.zeros_like(row[0]), torch.zeros_like(row[0])]
    og = out_grad.double() / world if out_grad is not None else None
    row += _moments(og, ref)
    sumsq = torch.linalg.vector_norm(og) ** 2 if og is not None else torch.zeros_like(row[0])
    return torch.stack(row + [sumsq])


def _combine(n: Tensor, mean: Tensor, m2: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Exact pooled count, mean and M2 from per-rank ones, each (world, layers)."""
    total = n.sum(0)  # (layers,)
    pooled = (n * mean).sum(0) / total
    m2 = m2.sum(0) + (n * (mean - pooled) ** 2).sum(0)
    return total, pooled, m2


def combine_scalars(rows: Tensor, moments: Tensor) -> Tensor:
    """`rows` (layers, values) with the activation scalars replaced by the all-rank ones.

    `moments` is (layers, _N_MOMENTS) from `local_moments`; this is a collective call.
    """
    world = dist.get_world_size()
    gathered = [torch.empty_like(moments) for _ in range(world)]
    dist.all_gather(gathered, moments)
    m = torch.stack(gathered)  # (world, layers, _N_MOMENTS)

    n, mean, m2 = _combine(m[..., 0], m[..., 1], m[..., 2])
    act_std = torch.sqrt(m2 / (n - 1))
    spread = m[..., 3].sum(0) / m[..., 4].sum(0)
    og_n, _, og_m2 = _combine(m[..., 5], m[..., 6], m[..., 7])
    og_std = torch.sqrt(og_m2 / (og_n - 1))
    og_norm = torch.sqrt(m[..., 8].sum(0))
    og_std, og_norm = (torch.where(og_n > 0, v, math.nan) for v in (og_std, og_norm))

    rows = rows.clone()
    for col, value in ((_ACT_MEAN, mean), (_ACT_STD, act_std), (_SPREAD, spread)):
        rows[:, col] = value
    rows[:, _OG_STD], rows[:, _OG_NORM] = og_std, og_norm
    return rows


def combined_histogram(act: Tensor | None, bins: int, ref: Tensor) -> Tensor:
    """(2 + bins,) float64 histogram of every rank's `act` over their common range; collective.

    The range is the union of the ranks' `stats.data_range`, so one process holding the whole
    batch would pick the same edges.
    """
    inf = torch.full((), math.inf, dtype=torch.float64, device=ref.device)
    if act is not None and act.numel() > 0:
        lo, hi = (
            torch.as_tensor(v, dtype=torch.float64, device=ref.device)
            for v in stats.data_range(act)
        )
    else:
        lo, hi = inf, -inf
    bounds = torch.stack([lo, -hi])
    dist.all_reduce(bounds, op=dist.ReduceOp.MIN)  # the min of lo and the max of hi, at once
    nobody = ~torch.isfinite(bounds).all()  # no rank saw this layer run
    lo = torch.where(nobody, 0.0, bounds[0])
    hi = torch.where(nobody, 1.0, -bounds[1])

    values = act if act is not None else torch.empty(0, device=ref.device)
    hist = stats.histogram(values, bins, lo, hi)
    counts = hist[2:].contiguous()
    dist.all_reduce(counts, op=dist.ReduceOp.SUM)
    return torch.cat([hist[:2], counts])
