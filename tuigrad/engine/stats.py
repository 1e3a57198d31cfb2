"""The statistics of one layer at one step, from plain tensors, on whatever device they live.

Nothing here knows about models, hooks or trainers: give it the tensors and it returns one
float64 vector per layer, so a caller can stack every layer and move the lot to the host in a
single transfer. The definitions follow tuigrad.frames (LAYER_SCALARS, histogram conventions):

- `act` is the output of the layer's activation function, (batch, width): before dropout,
  before a post-activation norm and before the residual sum, so that saturation and dead units
  are seen in the nonlinearity itself. For the head it is the head's output (the logits).
- `preact` is the Linear output, before norm and activation.
- `out_grad` is dLoss/d(act).
- `weight` is the Linear weight the step used, `weight_grad` its gradient before clipping,
  `weight_after` the weight after the optimizer step.

Any tensor may be None (not measured); its statistics are then NaN.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

from tuigrad.engine import native
from tuigrad.frames import GRAD_LOG_RANGE, HISTOGRAMS, LAYER_SCALARS, Hist, LayerStats

SATURATION = 0.97  # |tanh| above this, or sigmoid within 1 - this of 0 or 1, is saturated
RELU_FAMILY = ("relu", "leaky_relu", "elu", "selu", "gelu", "silu")
BOUNDED_RANGE = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0)}
N_SCALARS = len(LAYER_SCALARS)
_TINY = torch.finfo(torch.float32).tiny
assert math.log10(_TINY) < GRAD_LOG_RANGE[0]  # below the gradient histograms' first edge


_SCRATCH_KEPT = 64  # scratch buffers a thread keeps before it lets them all go
_SCRATCH_BYTES = 4 << 20  # larger scratch is not kept: memory held matters more there
_local = threading.local()


def scratch(like: Tensor, slot: int = 0, dtype: torch.dtype | None = None) -> Tensor:
    """An uninitialised tensor with `like`'s shape (and `dtype`, default `like`'s), for a
    result that does not outlive the caller: on the CPU the same memory on every call with
    the same shape, dtype and `slot` (per thread), up to a few MB; else a fresh tensor.

    NOTE: in a training step, a fresh CPU tensor of a few hundred KB costs several times
    the elementwise operation that fills it: its pages are mapped and zeroed anew each time.
    """
    dtype = dtype or like.dtype
    if not is_host(like) or like.numel() * dtype.itemsize > _SCRATCH_BYTES:
        return torch.empty(like.shape, dtype=dtype, device=like.device)
    kept = getattr(_local, "buffers", None)
    if kept is None or len(kept) >= _SCRATCH_KEPT:
        kept = _local.buffers = {}
    key = (like.numel(), dtype, slot)
    buffer = kept.get(key)
    if buffer is None:
        buffer = kept[key] = torch.empty(like.numel(), dtype=dtype)
    return buffer.view(like.shape)


def _nan(like: Tensor) -> Tensor:
    return torch.full((), math.nan, dtype=torch.float32, device=like.device)


def _scalar(x: float) -> Tensor:
    return torch.tensor(x, dtype=torch.float32)


def is_fused(t: Tensor) -> bool:
    """True if native.c takes `t`'s statistics: float32, contiguous, in host memory, and the
    library could be built."""
    return is_host(t) and native.fits(t) and native.library() is not None


def all_fused(tensors: Sequence[Tensor]) -> bool:
    """`is_fused` of every tensor (True for none), asking for the library once."""
    return native.library() is not None and all(is_host(t) and native.fits(t) for t in tensors)


def _std(x: Tensor | None, ref: Tensor, mean: Tensor | None = None) -> Tensor:
    """Unbiased std in two passes (subtract the mean, then a norm): accurate, and on CPU
    several times faster than torch.std for the sizes a layer has."""
    if x is None or x.numel() < 2:
        return _nan(ref)
    x = x.float()
    mean = x.mean() if mean is None else mean
    return torch.linalg.vector_norm(x - mean) / math.sqrt(x.numel() - 1)


def _norm(x: Tensor | None, ref: Tensor) -> Tensor:
    return _nan(ref) if x is None else torch.linalg.vector_norm(x.float())


def std_norm(x: Tensor | None, ref: Tensor, mean: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """(unbiased std, L2 norm) of `x`, sharing the norm's pass on the CPU.

    With native.c (CPU, float32) both come from one fused pass in float64. Otherwise, on the
    CPU the std comes from the norm and the mean, (|x|^2 - n mean^2) / (n - 1), in
    float64 from the float32 reductions, unless the mean holds more than half of |x|^2: then
    the subtraction would cancel digits and the two-pass `_std` is used. Other devices always
    take the two-pass path, which needs no read-back.
    """
    # TODO: without native.c (other devices, or no C compiler) the norm is torch's float32
    # one, whose squares underflow: values under about 1e-19 read as a norm (and std) of 0.
    if x is None:
        return _nan(ref), _nan(ref)
    x = x.float()
    if is_fused(x):
        _, std, norm = native.moments([x])[0].tolist()
        return _scalar(std), _scalar(norm)
    norm = torch.linalg.vector_norm(x)
    n = x.numel()
    if n < 2 or not is_host(x):
        return _std(x, ref, mean), norm
    mean = x.mean() if mean is None else mean
    sq, m = norm.item() ** 2, mean.item()
    centred = sq - n * m * m
    if not (math.isfinite(sq) and math.isfinite(m)) or centred <= 0.5 * sq:
        return _std(x, ref, mean), norm
    return torch.tensor(math.sqrt(centred / (n - 1)), dtype=torch.float32), norm


def each_std_norm(tensors: Sequence[Tensor | None], ref: Tensor) -> Tensor:
    """(len(tensors), 2) float32: unbiased std and L2 norm of each tensor (NaN for None).

    NOTE: one tensor at a time, as `std_norm`: its second pass finds it still in the cache,
    where all norms in one operation and then all means would read each from memory twice.
    """
    given = [t.detach().float() for t in tensors if t is not None]
    if given and all_fused(given):
        table = np.full((len(tensors), 2), math.nan, dtype=np.float32)
        table[[i for i, t in enumerate(tensors) if t is not None]] = native.moments(given)[:, 1:]
        return torch.from_numpy(table)
    nan = _nan(ref)
    rows = [torch.stack(std_norm(t.detach(), ref)) if t is not None else torch.stack([nan, nan])
            for t in tensors]  # fmt: skip
    if not rows:
        return torch.full((0, 2), math.nan, dtype=torch.float32, device=ref.device)
    return torch.stack(rows)


def each_diff_std_norm(a: Sequence[Tensor], b: Sequence[Tensor], ref: Tensor) -> Tensor:
    """`each_std_norm` of each a[i] - b[i]. It may overwrite `a` with the differences."""
    a, b = [t.detach() for t in a], [t.detach() for t in b]
    if a and all_fused([*a, *b]):
        return torch.from_numpy(native.diff_moments(a, b)[:, 1:].astype(np.float32))
    torch._foreach_sub_(a, b)
    return each_std_norm(a, ref)


class CopyBuffers:
    """float32 tensors to copy weights into before an update: on the CPU the same ones on
    every sampled step (while the shapes stay the same), elsewhere fresh ones.

    NOTE: on the CPU a fresh tensor of a few hundred KB costs more than the copy into it (its
    pages are mapped and zeroed anew); other devices have torch's caching allocator, and a
    copy of every weight kept there between sampled steps would hold memory a model needs.
    """

    def __init__(self) -> None:
        self._kept: list[Tensor] | None = None

    def take(self, like: Sequence[Tensor]) -> list[Tensor]:
        kept = self._kept
        if kept is not None and [(t.shape, t.device) for t in kept] == [
            (t.shape, t.device) for t in like
        ]:
            return kept
        fresh = [torch.empty(t.shape, dtype=torch.float32, device=t.device) for t in like]
        if all(is_host(t) for t in like):
            self._kept = fresh
        return fresh


def weight_table(weights: Tensor, grads: Tensor, updates: Tensor) -> Tensor:
    """(layers, 6) float32 rows as `weight_scalars` gives them, from `each_std_norm` tables of
    the weights (before the step), their gradients and the steps' updates (or negatives)."""
    w_std = weights[:, 0]
    ratios = [grads[:, 0] / w_std, updates[:, 0] / w_std]
    return torch.stack([weights[:, 1], w_std, grads[:, 1], grads[:, 0], *ratios], dim=1)


def saturated_fraction(act: Tensor, activation: str) -> Tensor:
    """Fraction of elements in the flat tails; NaN for activations without tails."""
    if activation == "tanh":
        # The sign of |act| - SATURATION (exact for values this close) is 1 in the tails: on
        # the CPU twice as fast as counting a boolean mask. nansum leaves NaN out, as the mask.
        tails = torch.abs(act, out=scratch(act)).sub_(SATURATION).clamp_(min=0).sign_()
        return tails.nansum() / act.numel()
    if activation == "sigmoid":
        return ((act < 1 - SATURATION) | (act > SATURATION)).sum() / act.numel()
    return _nan(act)


def dead_fraction(act: Tensor, activation: str) -> Tensor:
    """Fraction of units whose output is <= 0 for every row (ReLU family; else NaN).

    For ReLU that is "outputs 0 for every example"; for its smooth and leaky relatives a unit
    whose output is never positive only ever sees the negative side of its input.
    """
    if activation not in RELU_FAMILY:
        return _nan(act)
    # The largest output of each unit, not an (act <= 0) mask: several times faster on CPU.
    # A NaN output makes its unit's max NaN, so that unit counts as not dead, as with the mask.
    return (act.amax(0) <= 0).float().mean()


def unit_spread(act: Tensor) -> Tensor:
    """Std across the units of each example, averaged over examples: 0 = identical units."""
    if act.shape[1] < 2:
        return _nan(act)
    act = act.float()
    centred = torch.sub(act, act.mean(dim=1, keepdim=True), out=scratch(act))  # (batch, width)
    return (torch.linalg.vector_norm(centred, dim=1) / math.sqrt(act.shape[1] - 1)).mean()


def unit_rows(t: Tensor, channel_dim: int = -1) -> Tensor:
    """A layer's output as (rows, units), the shape the activation statistics expect.

    A unit is a feature (Linear, attention, Embedding, LayerNorm: the last dimension) or a
    channel (Conv, BatchNorm: `channel_dim` 1); every other dimension (batch, sequence,
    spatial positions) becomes rows. A 1-d tensor is one row.
    """
    dims = t.dim()
    if dims < 2:
        return t.reshape(1, -1)
    if dims == 2 and channel_dim in (-1, 1):  # already (rows, units)
        return t
    return t.movedim(channel_dim, -1).reshape(-1, t.shape[channel_dim])


def forward_scalars(act: Tensor | None, preact: Tensor | None, activation: str) -> Tensor:
    """(6,) float32: act_mean, act_std, act_saturated, act_dead, unit_spread, preact_std.

    The first six of LAYER_SCALARS, from what the forward pass gives: a trainer can take them
    as each layer runs, while its output is still in the cache.
    """
    return forward_statistics(act, preact, activation, 0)[0]


def forward_statistics(
    act: Tensor | None, preact: Tensor | None, activation: str, bins: int
) -> tuple[Tensor, Tensor | None]:
    """`forward_scalars`, and `act_histogram` when bins > 0 (else None), in one read of `act`
    where native.c takes it."""
    a = act.float() if act is not None and act.dim() == 2 and act.numel() > 1 else None
    pre = preact.float() if preact is not None else None
    if a is not None and all_fused([a] if pre is None else [a, pre]):
        bounds = BOUNDED_RANGE.get(activation)
        dead = activation in RELU_FAMILY
        values = native.forward(a, pre, activation, SATURATION, dead, bins, bounds)
        scalars = torch.from_numpy(values[:6].astype(np.float32))
        return scalars, torch.from_numpy(values[6:]) if bins > 0 else None
    hist = act_histogram(act, activation, bins) if act is not None and bins > 0 else None
    return _forward_scalars(act, preact, activation), hist


def _forward_scalars(act: Tensor | None, preact: Tensor | None, activation: str) -> Tensor:
    ref = act if act is not None else preact
    nan = _nan(ref)
    if act is not None and act.numel() > 1:
        act_mean = act.float().mean()
        act_std = std_norm(act, ref, act_mean)[0]
        acts = [act_mean, act_std, saturated_fraction(act, activation)]
        acts += [dead_fraction(act, activation), unit_spread(act)]
    else:
        acts = [nan] * 5
    return torch.stack([*acts, std_norm(preact, ref)[0]])


def backward_scalars(out_grad: Tensor | None, ref: Tensor) -> Tensor:
    """(2,) float32: out_grad_std, out_grad_norm (the next two of LAYER_SCALARS)."""
    if out_grad is not None and is_fused(out_grad):
        return torch.from_numpy(native.moments([out_grad])[0, 1:].astype(np.float32))
    return torch.stack(std_norm(out_grad, ref))


def weight_scalars(
    weight: Tensor | None, weight_grad: Tensor | None, weight_after: Tensor | None, ref: Tensor
) -> Tensor:
    """(6,) float32: weight_norm, weight_std, weight_grad_norm, weight_grad_std,
    grad_data_ratio, update_ratio (the last six of LAYER_SCALARS)."""
    update = None
    if weight is not None and weight_after is not None:
        update = weight_after.float() - weight.float()
    tables = [each_std_norm([t], ref) for t in (weight, weight_grad, update)]
    return weight_table(*tables)[0]


def layer_scalars(
    act: Tensor | None,
    preact: Tensor | None,
    out_grad: Tensor | None,
    weight: Tensor | None,
    weight_grad: Tensor | None,
    weight_after: Tensor | None,
    activation: str,
) -> Tensor:
    """The layer's scalars in LAYER_SCALARS order, as a (N_SCALARS,) float32 tensor."""
    ref = next(t for t in (act, preact, out_grad, weight) if t is not None)
    parts = [forward_scalars(act, preact, activation) if act is not None or preact is not None
             else torch.full((6,), math.nan, device=ref.device)]  # fmt: skip
    parts += [
        backward_scalars(out_grad, ref),
        weight_scalars(weight, weight_grad, weight_after, ref),
    ]
    return torch.cat(parts)


def total_norm(tensors: list[Tensor], ref: Tensor, norms: Tensor | None = None) -> Tensor:
    """L2 norm of all `tensors` together (float32, on `ref`'s device); NaN when there are none.

    `norms`, (k,), are the L2 norms of k more tensors, already taken: they count as if
    those tensors were among `tensors`, without another read of them.
    """
    if not tensors and norms is None:
        return _nan(ref)
    fused = all_fused(tensors)
    if not fused:
        tensors = [t.detach().float() for t in tensors]
        fused = all_fused(tensors)
    if fused and (norms is None or is_host(norms)):
        known = float((norms.double() ** 2).sum()) if norms is not None else 0.0
        return _scalar(math.sqrt((native.sum_squares(tensors) if tensors else 0.0) + known))
    parts = list(torch._foreach_norm(tensors)) if tensors else []
    if norms is not None:
        parts += list(norms.float().unbind())
    return torch.linalg.vector_norm(torch.stack(parts))


# ---- histograms ----------------------------------------------------------------------------


def is_host(t: Tensor) -> bool:
    """True for CPU tensors: reading a value back costs nothing there, so no need to avoid it."""
    return t.is_cpu


def histogram(values: Tensor, bins: int, lo: float | Tensor, hi: float | Tensor) -> Tensor:
    """(2 + bins,) float64: lo, hi, then counts over `bins` uniform bins on [lo, hi].

    Values outside [lo, hi] count in the end bins; NaN is not counted. Binning is done in
    float32, the precision the values have: it agrees with numpy.histogram on edges =
    linspace(lo, hi, bins + 1) except for a value within a float32 rounding of an edge, which
    may count in the bin beside it (in float64 it took twice the time and memory passes).
    """
    v = values.detach().reshape(-1)  # (n,)
    if v.dtype != torch.float32:
        v = v.float()
    on_cpu = is_host(v)
    if on_cpu:
        lo, hi = float(lo), float(hi)  # free on the CPU, and scalar arithmetic is faster there
    if is_fused(v):
        return torch.from_numpy(np.concatenate([[lo, hi], native.histogram(v, bins, lo, hi)]))
    # Clamped to [0, bins - 1] first, the integer part is the floor: no floor pass needed.
    idx = torch.sub(v, lo, out=scratch(v)).mul_(bins / (hi - lo)).clamp_(0, bins - 1)
    idx = idx.nan_to_num_(nan=bins)  # NaN goes to an extra bin, dropped below
    if on_cpu:
        return torch.cat([torch.tensor([lo, hi], dtype=torch.float64), _count(idx, bins)])

    # NOTE: bincount would sync with the device to size its output; index_add_ does not.
    ones = torch.ones((), dtype=torch.float64, device=v.device).expand(v.numel())
    counts = torch.zeros(bins + 1, dtype=torch.float64, device=v.device)
    counts = counts.index_add_(0, idx.long(), ones)[:bins]
    bounds = torch.stack(
        [torch.as_tensor(b, dtype=torch.float64, device=v.device) for b in (lo, hi)]
    )
    return torch.cat([bounds, counts])


_SETS = 4  # separate sets of bins that consecutive values are counted into
_STRIPE = 8192  # length of the repeating pattern of set offsets
_offsets: dict[int, Tensor] = {}  # bins -> (_STRIPE,) int16 offsets of each value's set


def _count(idx: Tensor, bins: int) -> Tensor:
    """(bins,) float64 counts of the bin numbers 0..bins in `idx` (float), leaving out `bins`.

    NOTE: on the CPU, bincount over values bunched in a few bins (gradient magnitudes span a
    few of the 40) waits on its own increments of one counter; counting consecutive values
    into _SETS separate sets of bins and summing the sets takes about half the time. int16
    converts several times faster than uint8 or int64, and _SETS * (bins + 1) fits it.
    """
    ints = scratch(idx, dtype=torch.int16).copy_(idx)  # (n,)
    offsets = _offsets.get(bins)
    if offsets is None:
        pattern = torch.arange(_STRIPE) % _SETS * (bins + 1)
        offsets = _offsets[bins] = pattern.to(torch.int16)
    n = ints.numel()
    whole = n - n % _STRIPE
    if whole:  # row by row: a contiguous pattern broadcast over rows adds fast
        ints[:whole].view(-1, _STRIPE).add_(offsets)
    ints[whole:].add_(offsets[: n - whole])
    counts = torch.bincount(ints, minlength=_SETS * (bins + 1))
    return counts.view(_SETS, bins + 1).sum(0)[:bins].double()


def data_range(values: Tensor) -> tuple[float, float] | tuple[Tensor, Tensor]:
    """[min, max] of the finite values, widened by 0.5 each way if equal; [0, 1] if none.

    Floats on the CPU; on other devices float64 0-d tensors, computed without a sync.
    """
    v = values.detach().reshape(-1).float()
    if is_host(v):
        lo, hi = (t.item() for t in torch.aminmax(v))
        if not (math.isfinite(lo) and math.isfinite(hi)):
            finite = v[torch.isfinite(v)]
            lo, hi = (finite.min().item(), finite.max().item()) if finite.numel() else (0.0, 1.0)
        if lo == hi:
            lo, hi = float(np.float32(lo - 0.5)), float(np.float32(hi + 0.5))
        return lo, hi

    finite = torch.isfinite(v)
    lo = torch.where(finite, v, math.inf).amin()
    hi = torch.where(finite, v, -math.inf).amax()
    empty = ~finite.any()
    lo, hi = torch.where(empty, 0.0, lo), torch.where(empty, 1.0, hi)
    same = lo == hi
    return torch.where(same, lo - 0.5, lo).double(), torch.where(same, hi + 0.5, hi).double()


def act_histogram(act: Tensor, activation: str, bins: int) -> Tensor:
    """Activations over the activation's own range (tanh, sigmoid) or the data's range."""
    lo, hi = BOUNDED_RANGE.get(activation) or data_range(act)
    return histogram(act, bins, lo, hi)


def grad_histogram(grad: Tensor, bins: int) -> Tensor:
    """log10 |grad| over GRAD_LOG_RANGE; exact zeros land in the first bin."""
    lo, hi = GRAD_LOG_RANGE
    grad = grad.detach().float()
    if is_fused(grad):
        counts = native.magnitude_histogram(grad, bins, lo, hi)
        return torch.from_numpy(np.concatenate([[lo, hi], counts]))
    # NOTE: on the CPU, log10 of a zero or a subnormal takes a slow path: with ReLU's many
    # exact zeros it took four times the rest of the histogram. Raised to the smallest
    # normal float (log10 -37.9), they land in the first bin all the same; NaN stays NaN.
    mags = torch.abs(grad, out=scratch(grad, slot=1)).clamp_(min=_TINY)
    return histogram(mags.log10_(), bins, lo, hi)


def weight_histogram(weight: Tensor, bins: int) -> Tensor:
    lo, hi = data_range(weight)
    return histogram(weight, bins, lo, hi)


def empty_histogram(bins: int, ref: Tensor) -> Tensor:
    """A histogram row with nothing in it: NaN range, zero counts."""
    out = torch.full((bins + 2,), math.nan, dtype=torch.float64, device=ref.device)
    out[2:] = 0.0
    return out


def layer_histograms(
    act: Tensor | None,
    weight_grad: Tensor | None,
    weight: Tensor | None,
    activation: str,
    bins: int,
    act_hist: Tensor | None = None,
) -> Tensor:
    """(3, 2 + bins) float64 in HISTOGRAMS order (act, grad, weight): lo, hi, counts.

    `act_hist`, when given, is the activation histogram already taken (then `act` is unused).
    """
    ref = next(t for t in (act, weight_grad, weight, act_hist) if t is not None)
    if act_hist is None:
        act_hist = act_histogram(act, activation, bins) if act is not None else None
    rows = [
        act_hist if act_hist is not None else empty_histogram(bins, ref),
        grad_histogram(weight_grad, bins)
        if weight_grad is not None
        else empty_histogram(bins, ref),
        weight_histogram(weight, bins) if weight is not None else empty_histogram(bins, ref),
    ]
    return torch.stack(rows)


def weight_statistics(
    weights: Sequence[Tensor],
    grads: Sequence[Tensor | None],
    bins: int,
    copies: Sequence[Tensor] | None = None,
) -> tuple[Tensor, Tensor, Tensor | None]:
    """Each layer's weight and its gradient (None: none), in one read of each on the CPU.

    Returns their `each_std_norm` tables, (layers, 2) float32 each, and with bins > 0 their
    histograms, (layers, 2, 2 + bins) float64 (the gradient's, then the weight's, as
    `layer_histograms` takes them). Copies each weight into `copies` too, when given.
    """
    weights = [w.detach() for w in weights]
    grads = [g.detach().float() if g is not None else None for g in grads]
    given = [*weights, *(g for g in grads if g is not None), *(copies or ())]
    if weights and all_fused(given):
        out = native.weights(weights, grads, bins, GRAD_LOG_RANGE, copies)
        tables = torch.from_numpy(out[:, [1, 2, 4, 5]].astype(np.float32))
        hists = None
        if bins > 0:
            w_hist = out[:, 6 : 8 + bins]
            g_hist = np.concatenate([np.tile(GRAD_LOG_RANGE, (len(out), 1)), out[:, 8 + bins :]], 1)
            for row, g in zip(g_hist, grads, strict=True):
                if g is None:
                    row[:2] = math.nan
            hists = torch.from_numpy(np.stack([g_hist, w_hist], axis=1))
        return tables[:, :2], tables[:, 2:], hists

    if copies is not None:
        for copy, w in zip(copies, weights, strict=True):
            copy.copy_(w)
    ref = weights[0]
    hists = None
    if bins > 0:
        rows = [torch.stack([grad_histogram(g, bins) if g is not None else empty_histogram(bins, ref),
                             weight_histogram(w, bins)]) for w, g in zip(weights, grads, strict=True)]  # fmt: skip
        hists = torch.stack(rows)
    return each_std_norm(weights, ref), each_std_norm(grads, ref), hists


def measure_layer(
    act: Tensor | None,
    preact: Tensor | None,
    out_grad: Tensor | None,
    weight: Tensor | None,
    weight_grad: Tensor | None,
    weight_after: Tensor | None,
    activation: str,
    bins: int = 0,
) -> Tensor:
    """One layer as a float64 vector: the scalars, then (if bins > 0) the three histograms.

    Length N_SCALARS + 3 * (bins + 2) with histograms, N_SCALARS without. Stack the vectors
    of every layer and move them to the host at once; `to_layer_stats` reads them back.
    """
    scalars = layer_scalars(act, preact, out_grad, weight, weight_grad, weight_after, activation)
    if bins <= 0:
        return scalars.double()
    hists = layer_histograms(act, weight_grad, weight, activation, bins)
    return torch.cat([scalars.double(), hists.reshape(-1)])


def to_layers(names: Sequence[str], rows: np.ndarray, bins: int = 0) -> tuple[LayerStats, ...]:
    """The LayerStats each `measure_layer` vector in `rows` (layers, values) stands for, one
    per name (rows on the host, as numpy)."""
    scalars = rows[:, :N_SCALARS].tolist()
    if bins <= 0:
        return tuple(LayerStats.from_values(n, v) for n, v in zip(names, scalars, strict=True))
    block = rows[:, N_SCALARS:].reshape(len(rows), len(HISTOGRAMS), bins + 2)
    counts = block[:, :, 2:].astype(np.float32)  # (layers, histograms, bins)
    layers = []
    for name, values, ranges, layer_counts in zip(
        names, scalars, block[:, :, :2].tolist(), counts, strict=True
    ):
        hists = tuple(None if math.isnan(lo) else Hist(lo, hi, c)
                      for (lo, hi), c in zip(ranges, layer_counts, strict=True))  # fmt: skip
        layers.append(LayerStats.from_values(name, values, hists))
    return tuple(layers)


def to_layer_stats(name: str, row: np.ndarray, bins: int = 0) -> LayerStats:
    """The LayerStats a `measure_layer` vector stands for (row on the host, as numpy)."""
    return to_layers([name], row[None], bins)[0]
