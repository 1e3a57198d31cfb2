"""Small user models and an independent reference step for the tuigrad.watch tests.

The reference trains an unwatched copy of the model with plain autograd, keeping every
module's output, dLoss/d(output), the gradients before and after clipping and the weights
before and after the step, so the watcher's frames can be checked against numpy on them.
"""

import math
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from torch import nn

from tests.stats_oracle import assert_close, expected_scalars, numpy_counts
from tuigrad.frames import GRAD_LOG_RANGE, LAYER_SCALARS

CHANNEL_FIRST = (nn.Conv2d, nn.BatchNorm2d)


class SmallCNN(nn.Module):
    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 6, 3, padding=1)
        self.bn = nn.BatchNorm2d(6)
        self.act = nn.ReLU(inplace=inplace)
        self.head = nn.Linear(6 * 4 * 4, 5)

    def forward(self, x):  # (batch, 3, 8, 8)
        h = self.act(self.bn(self.conv(x)))  # (batch, 6, 8, 8)
        h = nn.functional.max_pool2d(h, 2).flatten(1)  # (batch, 96)
        return self.head(h)


class SmallTransformer(nn.Module):
    def __init__(self, vocab: int = 11, d: int = 16) -> None:
        super().__init__()
        self.emb = nn.Embedding(vocab, d)
        layer = nn.TransformerEncoderLayer(d, 2, 32, dropout=0.0, batch_first=True)
        self.enc = nn.TransformerEncoder(layer, 1, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d)
        self.head = nn.Linear(d, vocab)

    def forward(self, tokens):  # (batch, seq)
        h = self.norm(self.enc(self.emb(tokens)))  # (batch, seq, d)
        return self.head(h).flatten(0, 1)  # (batch * seq, vocab)


def cnn_batch(gen: torch.Generator, n: int = 8):
    return torch.randn(n, 3, 8, 8, generator=gen), torch.randint(0, 5, (n,), generator=gen)


def token_batch(gen: torch.Generator, n: int = 4, seq: int = 6):
    tokens = torch.randint(0, 11, (n, seq), generator=gen)
    return tokens, torch.roll(tokens, 1, dims=1).flatten()


@dataclass
class Reference:
    """One step of the unwatched copy, every tensor detached and copied."""

    outputs: dict  # module name -> output (as the module returned it)
    out_grads: dict  # module name -> dLoss/d(output)
    grads: dict  # module name -> main weight's grad before clipping
    before: dict  # module name -> main weight before the step
    after: dict  # module name -> main weight after the step
    grad_norm: float
    grad_norm_clipped: float
    loss: float


def main_weight(module):
    w = getattr(module, "weight", None)
    return w if isinstance(w, nn.Parameter) else next(module.parameters(recurse=False))


def reference_step(model, optimizer, shards, names, clip: float | None = None) -> Reference:
    """Train `model` one step with plain autograd, recording what the watcher measures.

    `shards` is a list of (x, y): the loss is the mean of their mean losses, as DDP's averaged
    gradients are; each module's outputs are the shards' outputs, concatenated.
    """
    modules = dict(model.named_modules())
    outputs, values = {n: [] for n in names}, {n: [] for n in names}

    def keep(name, output):
        out = output[0] if isinstance(output, tuple) else output
        outputs[name].append(out)
        values[name].append(out.detach().clone())  # before any in-place op that follows

    handles = [modules[n].register_forward_hook(lambda m, a, o, n=n: keep(n, o)) for n in names]
    losses = [nn.functional.cross_entropy(model(x), y) for x, y in shards]
    loss = sum(losses) / len(losses)
    for h in handles:
        h.remove()
    outputs = {n: o for n, o in outputs.items() if o}

    params = list(model.parameters())
    flat = [t for n in outputs for t in outputs[n]]
    grads = torch.autograd.grad(loss, params + flat)
    for p, g in zip(params, grads, strict=False):
        p.grad = g
    flat_grads = iter(grads[len(params) :])
    out_grads = {n: torch.cat([next(flat_grads) for _ in o]) for n, o in outputs.items()}
    kept = {n: torch.cat(values[n]) for n in outputs}

    weights = {n: main_weight(modules[n]) for n in names}
    pre = {n: w.grad.detach().clone() for n, w in weights.items()}
    grad_norm = total_norm([p.grad for p in params])
    if clip is not None:
        torch.nn.utils.clip_grad_norm_(params, clip)
    grad_norm_clipped = total_norm([p.grad for p in params])
    before = {n: w.detach().clone() for n, w in weights.items()}
    optimizer.step()
    after = {n: w.detach().clone() for n, w in weights.items()}
    return Reference(kept, out_grads, pre, before, after, grad_norm, grad_norm_clipped, loss.item())


def total_norm(tensors) -> float:
    """The L2 norm of all `tensors` together, in float64."""
    return math.sqrt(sum(float((t.double() ** 2).sum()) for t in tensors))


def as_rows(t: torch.Tensor, channel_first: bool) -> np.ndarray:
    """numpy (rows, units): channels last for conv-like outputs, features last otherwise."""
    a = t.detach().double().numpy()
    if channel_first:
        a = np.moveaxis(a, 1, -1)
    return a.reshape(-1, a.shape[-1])


def check_layer(layer, ref, name, channel_first, rtol=1e-5, slack=0):
    """Every statistic of one recorded layer against numpy on the reference tensors.

    `slack`: how many gradients may fall in a neighbouring bin (rounding at a bin's edge).
    """
    if name in ref.outputs:
        a = torch.from_numpy(as_rows(ref.outputs[name], channel_first))
        og = torch.from_numpy(as_rows(ref.out_grads[name], channel_first))
    else:  # the module never ran its forward: activation statistics are NaN
        a = og = torch.full((2, 2), math.nan, dtype=torch.float64)
    with np.errstate(divide="ignore", invalid="ignore"):  # BatchNorm's weights start equal
        want = expected_scalars(
            a, a, og, ref.before[name], ref.grads[name], ref.after[name], "identity"
        )
    want["preact_std"] = math.nan  # a module's output has no separate pre-activation
    for key in LAYER_SCALARS:
        if key == "act_mean" and name in ref.outputs:
            # A normalised output's mean is float32 rounding noise around 0: compare to its std.
            tol = 1e-6 * float(want["act_std"])
            assert layer.act_mean == pytest.approx(float(want[key]), rel=rtol, abs=tol), name
        else:
            assert_close(f"{name}.{key}", getattr(layer, key), float(want[key]), rtol)

    if layer.grad_hist is not None:
        with np.errstate(divide="ignore"):  # exact zeros: -inf, the first bin
            g = np.log10(np.abs(ref.grads[name].double().numpy().ravel()))
        lo, hi = GRAD_LOG_RANGE
        want = numpy_counts(g, lo, hi, layer.grad_hist.edges)
        assert np.abs(layer.grad_hist.counts - want).sum() <= 2 * slack, name
    if layer.act_hist is not None and name in ref.outputs:
        v = as_rows(ref.outputs[name], channel_first).ravel()
        assert layer.act_hist.lo == float(np.float32(v.min()))
        assert layer.act_hist.hi == float(np.float32(v.max()))
        want = numpy_counts(v, layer.act_hist.lo, layer.act_hist.hi, layer.act_hist.edges)
        np.testing.assert_array_equal(layer.act_hist.counts, want)
