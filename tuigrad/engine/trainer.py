"""The synchronous trainer: builds what a spec describes and trains it one step at a time.

A sampled step is measured on the network the step used, before its update: the frame at step
0 is the initial network. Only the update ratio looks past the update, at the step just taken.
Everything a frame holds is computed on the training device and reaches the host in one copy.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from tuigrad.engine import registry, stats
from tuigrad.engine.data import make_dataset
from tuigrad.engine.device import VAL_CHUNK, check_memory, resolve_device
from tuigrad.engine.layout import layer_infos
from tuigrad.engine.model import Net
from tuigrad.frames import Frame, LayerInfo
from tuigrad.spec import Spec

# Frame-level values in the host copy, before the per-layer rows.
_HEAD = (
    "loss",
    "accuracy",
    "grad_norm",
    "grad_norm_clipped",
    "clipped",
    "val_loss",
    "val_accuracy",
)


def _seed(seed: int, stream: int) -> int:
    # Independent streams for data order, init and dropout, all from the one spec seed.
    return (seed * 1_000_003 + stream) % 2**63


@dataclass(frozen=True)
class _Weights:
    """What a sampled step measured of its weights before the update."""

    table: Tensor  # (layers, 2) std and L2 norm of each weight the step used
    grads: Tensor  # (layers, 2) the same of each weight's gradient, before clipping
    hists: Tensor | None  # (layers, 2, 2 + bins) gradient and weight histograms
    before: list[Tensor] | None  # the weights copied, for the update; None: no update


class Trainer:
    """Builds the model, data and optimizer a spec describes and trains them step by step.

    `step()` returns a Frame on sampled steps. A non-finite loss or gradient skips that update,
    returns its frame and leaves the reason in `halted`; it is never raised. Building raises
    TrainingError (device, memory) or SpecError (data) with a one-line message.
    """

    spec: Spec
    device: torch.device
    layers: tuple[LayerInfo, ...]
    step_count: int  # steps taken; the next step's number
    halted: str  # why the last step skipped its update (non-finite), or ""

    def __init__(self, spec: Spec) -> None:
        self._build(spec)

    def _build(self, spec: Spec) -> None:
        device = resolve_device(spec.device)
        check_memory(spec, device)
        data = make_dataset(spec.data, spec.seed).to(device)
        init_gen = torch.Generator().manual_seed(_seed(spec.seed, 1))
        dropout_gen = torch.Generator(device=device).manual_seed(_seed(spec.seed, 2))
        model = Net(spec, init_gen, dropout_gen).to(device)
        params = list(model.parameters())
        optimizer = registry.OPTIMIZERS[spec.optimizer.name](params, spec.optimizer)

        self.spec, self.device, self.data = spec, device, data
        self.model, self.params, self.optimizer = model, params, optimizer
        self.layers = layer_infos(spec)
        self._names = [info.name for info in self.layers]
        self._dropout_gen = dropout_gen
        self._batch_gen = torch.Generator().manual_seed(_seed(spec.seed, 3))
        self._order: Tensor | None = None
        self._cursor = 0
        self.step_count = 0
        self.halted = ""
        self._next_val = 0
        self._next_hist = 0
        self._before = stats.CopyBuffers()  # for the weights before a sampled step
        self._others: tuple[list[Tensor], list[Tensor]] | None = None  # see _unmonitored
        self._t0 = time.perf_counter()

    # ---- controls ----------------------------------------------------------------------

    def reset(self, spec: Spec | None = None, reseed: bool = False) -> None:
        """Rebuild from `spec` (default: the current one); the same seed gives the same weights.

        With `reseed` the seed moves on by one, so the new run is still reproducible.
        """
        spec = spec or self.spec
        if reseed:
            spec = replace(spec, seed=(spec.seed + 1) % 2**63)
        self._build(spec)

    def reseed(self) -> None:
        self.reset(reseed=True)

    def set_lr(self, lr: float) -> None:
        """Change the base learning rate from the next step on (the schedule still applies)."""
        self.spec = self.spec.with_values({"optimizer.lr": lr})

    def set_clip(self, mode: str, value: float | None = None) -> None:
        """Clip by "norm" (value = max_norm), by "value" (value = clip_value), or "none"."""
        values: dict[str, object] = {"clip.mode": mode}
        key = {"norm": "clip.max_norm", "value": "clip.clip_value"}.get(mode)
        if key and value is not None:
            values[key] = value
        self.spec = self.spec.with_values(values)

    def lr_at(self, step: int) -> float:
        opt = self.spec.optimizer
        return registry.SCHEDULES[opt.schedule](step, opt.lr, opt)

    # ---- one step ----------------------------------------------------------------------

    def step(self, measure: bool | None = None) -> Frame | None:
        """Train one step; return its frame if the step is sampled (or `measure` is True)."""
        k = self.step_count
        sampled = k % self.spec.probe.every == 0 if measure is None else measure
        lr = self.lr_at(k)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        x, y = self._batch()
        val = self._validate() if sampled and k >= self._next_val else None

        bins = self._bins_due(k) if sampled else 0
        out, loss = self._forward_backward(x, y, sampled, bins)
        weights = self._weights(bins) if sampled else None
        grads = self._grads(loss, weights)
        if grads is None:  # non-finite on a step that was not sampled: measure it again
            sampled, bins = True, self._bins_due(k)
            out, loss = self._forward_backward(x, y, True, bins)
            weights = self._weights(bins)
            grads = self._grads(loss, weights)

        if not self.halted:
            self.optimizer.step()
        self.step_count += 1
        if weights is None:
            return None
        if self.halted:
            weights = replace(weights, before=None)  # no update was made
        frame = self._frame(k, lr, out, y, loss, *grads, weights, val, bins)
        self.model.set_measuring(False)
        return frame

    def measure(self, backward: bool = True, histograms: bool = True) -> Frame:
        """Measure the network as it is, on the next batch, without changing anything.

        With `backward` False only the forward statistics are measured (gradients are NaN).
        """
        x, y = self._batch(peek=True)
        buffers = [b.detach().clone() for b in self.model.buffers()]  # BatchNorm running stats
        rng = self._dropout_gen.get_state()
        bins = self.spec.probe.bins if histograms else 0
        if backward:
            out, loss = self._forward_backward(x, y, True, bins)
            grads = [p.grad for p in self.params if p.grad is not None]
            grad_norm = stats.total_norm(grads, loss)
        else:
            self.model.set_measuring(True, self.spec.probe.act_rows, bins)
            with torch.no_grad():
                out = self.model(x)
                loss = self._loss(out, y)
            grad_norm = torch.tensor(math.nan, device=self.device)
        weights = self._weights(bins, grads=backward, copy=False)
        nan = torch.tensor(math.nan, device=self.device)
        frame = self._frame(
            self.step_count, self.lr_at(self.step_count), out, y, loss, grad_norm, grad_norm,
            nan, weights, None, bins,
        )  # fmt: skip
        self.model.set_measuring(False)
        self.optimizer.zero_grad(set_to_none=True)
        for saved, buf in zip(buffers, self.model.buffers(), strict=True):
            buf.copy_(saved)
        self._dropout_gen.set_state(rng)
        return frame

    # ---- pieces of a step ----------------------------------------------------------------

    def _batch(self, peek: bool = False) -> tuple[Tensor, Tensor]:
        n = len(self.data.x_train)
        size = min(self.spec.data.batch_size, n)
        if self._order is None or self._cursor + size > n:
            self._order = torch.randperm(n, generator=self._batch_gen).to(self.device)
            self._cursor = 0
        idx = self._order[self._cursor : self._cursor + size]
        if not peek:
            self._cursor += size
        return self.data.x_train[idx], self.data.y_train[idx]

    def _loss(self, out: Tensor, y: Tensor, reduction: str = "mean") -> Tensor:
        if self.data.classification:
            return F.cross_entropy(out, y, reduction=reduction)
        return F.mse_loss(out, y, reduction=reduction)

    def _forward_backward(
        self, x: Tensor, y: Tensor, measure: bool, bins: int = 0
    ) -> tuple[Tensor, Tensor]:
        if not self.model.training:  # walking the modules costs more than a small layer
            self.model.train()
        self.model.set_measuring(measure, self.spec.probe.act_rows, bins)
        out = self.model(x)  # (batch, outputs)
        loss = self._loss(out, y)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        return out, loss

    def _grads(
        self, loss: Tensor, weights: _Weights | None
    ) -> tuple[Tensor, Tensor, Tensor] | None:
        """Gradient norm, clipping, and the non-finite check (the one sync of a plain step):
        the norm before and after clipping and whether clipping acted. `weights`, measured on
        a sampled step, gives the monitored weights' gradient norms.

        Returns None when the step is non-finite and not sampled, so it is measured again.
        """
        sampled = weights is not None
        grads = [p.grad for p in self.params if p.grad is not None]
        grad_norm, clipped = self._clip(grads, weights, loss)

        if stats.is_host(grad_norm):  # reading back costs nothing here
            loss_ok, grad_ok = math.isfinite(loss.item()), math.isfinite(grad_norm.item())
        else:  # one sync for both
            finite = torch.stack([torch.isfinite(loss), torch.isfinite(grad_norm)]).tolist()
            loss_ok, grad_ok = finite
        self.halted = ""
        if not (loss_ok and grad_ok):
            what = "loss" if not loss_ok else "gradient"
            self.halted = f"non-finite {what} at step {self.step_count}: update skipped, run paused"
            if not sampled:
                return None

        grad_norm_clipped = grad_norm
        if sampled and self.spec.clip.mode != "none":
            grad_norm_clipped = stats.total_norm(grads, loss)
        return grad_norm, grad_norm_clipped, clipped

    def _weights(self, bins: int, grads: bool = True, copy: bool = True) -> _Weights:
        """The weights the step uses and their gradients before clipping, measured, and with
        `copy` the weights copied for the update (in the same read, on the CPU)."""
        weights = [b.linear.weight.detach() for b in self.model.blocks]
        pre_clip = [b.linear.weight.grad if grads else None for b in self.model.blocks]
        copies = self._before.take(weights) if copy else None
        table, grad_table, hists = stats.weight_statistics(weights, pre_clip, bins, copies)
        return _Weights(table, grad_table, hists, copies)

    def _clip(
        self, grads: list[Tensor], weights: _Weights | None, ref: Tensor
    ) -> tuple[Tensor, Tensor]:
        """Clip in place; returns the L2 norm of the gradients before clipping, and whether
        clipping acted (only worked out on sampled steps, those with `weights`)."""
        clip, sampled = self.spec.clip, weights is not None
        if clip.mode == "norm" and clip.norm_type == 2:
            # Clipping's own pass over the gradients gives their norm: no second pass.
            total = torch.nn.utils.clip_grad_norm_(self.params, clip.max_norm)
            return total.float(), (total > clip.max_norm).float()
        if weights is not None:  # the monitored weights' gradients are read already
            others = [p.grad for p in self._unmonitored() if p.grad is not None]
            grad_norm = stats.total_norm(others, ref, weights.grads[:, 1])
        else:
            grad_norm = stats.total_norm(grads, ref)
        acted = torch.zeros((), device=self.device)
        if clip.mode == "norm":
            total = torch.nn.utils.clip_grad_norm_(self.params, clip.max_norm, clip.norm_type)
            acted = (total > clip.max_norm).float()
        elif clip.mode == "value":
            if sampled:
                biggest = torch.stack([g.detach().abs().amax() for g in grads]).amax()
                acted = (biggest > clip.clip_value).float()
            torch.nn.utils.clip_grad_value_(self.params, clip.clip_value)
        return grad_norm, acted

    def _unmonitored(self) -> list[Tensor]:
        """The parameters besides the monitored weights (biases, norms, projections)."""
        kept = self._others
        if kept is None or kept[0] is not self.params:  # found once for these parameters
            monitored = {id(b.linear.weight) for b in self.model.blocks}
            kept = self._others = (self.params, [p for p in self.params if id(p) not in monitored])
        return kept[1]

    def _validate(self) -> tuple[Tensor, Tensor]:
        """Loss and accuracy on the validation split, in eval mode (BatchNorm running stats)."""
        every = self.spec.probe.val_every
        self._next_val = (self.step_count // every + 1) * every if every else math.inf
        x, y = self.data.x_val, self.data.y_val
        nan = torch.tensor(math.nan, device=self.device)
        if every == 0 or len(x) == 0:
            return nan, nan

        self.model.eval()
        self.model.set_measuring(False)
        total, correct = torch.zeros((), device=self.device), torch.zeros((), device=self.device)
        with torch.no_grad():
            for i in range(0, len(x), VAL_CHUNK):
                out = self.model(x[i : i + VAL_CHUNK])
                total += self._loss(out, y[i : i + VAL_CHUNK], reduction="sum")
                if self.data.classification:
                    correct += (out.argmax(1) == y[i : i + VAL_CHUNK]).sum()
        self.model.train()
        accuracy = correct / len(x) if self.data.classification else nan
        return total / len(x), accuracy

    def _bins_due(self, step: int) -> int:
        """The histograms' bins if a sampled `step` takes them (0: not this one)."""
        if step < self._next_hist:
            return 0
        every = self.spec.probe.hist_every or self.spec.probe.every
        self._next_hist = (step // every + 1) * every
        return self.spec.probe.bins

    def _frame(
        self,
        k: int,
        lr: float,
        out: Tensor,
        y: Tensor,
        loss: Tensor,
        grad_norm: Tensor,
        grad_norm_clipped: Tensor,
        clipped: Tensor,
        weights: _Weights,
        val: tuple[Tensor, Tensor] | None,
        bins: int,
    ) -> Frame:
        """The frame of a measured step: the blocks took their forward and backward statistics
        as they ran, and `weights` holds the weights' (the update is taken here)."""
        blocks, ref, measured = self.model.blocks, loss, self.model.measuring.table
        if weights.before is not None:  # before - after: the update's negative, same std
            after = [b.linear.weight for b in blocks]
            u_table = stats.each_diff_std_norm(weights.before, after, ref)
        else:
            u_table = stats.each_std_norm([None] * len(blocks), ref)
        table = stats.weight_table(weights.table, weights.grads, u_table)
        forward, backward = measured.forward(ref), measured.backward(ref)
        rows = [torch.cat([forward, backward, table], dim=1).double()]
        if bins:
            hists = torch.cat([measured.act_hists(ref).unsqueeze(1), weights.hists], dim=1)
            rows.append(hists.reshape(len(blocks), -1))
        act_rows = self.spec.probe.act_rows
        act_rows = act_rows if 0 < act_rows < len(out) else len(out)

        nan = torch.tensor(math.nan, device=self.device)
        val_loss, val_acc = val if val is not None else (nan, nan)
        head = [
            loss.detach(),
            self._accuracy(out, y),
            grad_norm,
            grad_norm_clipped,
            clipped,
            val_loss,
            val_acc,
        ]
        layer_rows = torch.cat(rows, dim=1)  # (layers, values)
        host = (
            torch.cat([torch.stack(head).double().reshape(-1), layer_rows.reshape(-1)])
            .cpu()
            .numpy()
        )
        return self._to_frame(k, lr, host, layer_rows.shape, bins, act_rows)

    def _accuracy(self, out: Tensor, y: Tensor) -> Tensor:
        if not self.data.classification:
            return torch.tensor(math.nan, device=self.device)
        return (out.detach().argmax(1) == y).float().mean()

    def _to_frame(
        self, k: int, lr: float, host: np.ndarray, shape: torch.Size, bins: int, rows: int
    ) -> Frame:
        values = dict(zip(_HEAD, host[: len(_HEAD)].tolist(), strict=True))
        layer_rows = host[len(_HEAD) :].reshape(tuple(shape))
        layers = stats.to_layers(self._names, layer_rows, bins)
        return Frame(
            step=k,
            loss=values["loss"],
            accuracy=values["accuracy"],
            lr=lr,
            grad_norm=values["grad_norm"],
            grad_norm_clipped=values["grad_norm_clipped"],
            clipped=bool(values["clipped"] > 0),
            wall_time=time.perf_counter() - self._t0,
            val_loss=values["val_loss"],
            val_accuracy=values["val_accuracy"],
            act_rows=rows,
            layers=layers,
        )
