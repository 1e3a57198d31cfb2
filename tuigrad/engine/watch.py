"""`tuigrad.watch`: attach tuigrad to a user's own model and optimizer, and record a run file.

The engine imports tuigrad.runs here, and only here: watching a user's training means writing
its run file, which `tuigrad replay RUN --follow` shows live.

How a step is seen, without any change to the user's loop:
- step boundaries: the optimizer's step pre- and post-hooks (and, with a GradScaler given,
  a wrapper on that scaler's `step`, to count the steps it skips);
- activations: forward hooks on the monitored modules, present only during sampled steps;
  each output is measured in its hook, before anything after the module (an in-place ReLU)
  can change it, and dLoss/d(output) in a hook on that output as backward reaches it;
- gradients before clipping: a callback queued on the autograd engine, run when backward
  ends (after DDP has averaged the gradients), unscaled by the GradScaler's scale;
- gradients after clipping, and the weights before the update: the optimizer's pre-hook;
- the update: the optimizer's post-hook, which also turns the step into a frame.
Each tensor is read where it lies, once for all its statistics: no output or gradient is
copied, and the weights are copied for the update in the read that measures them. Between
sampled steps the hooks only count: nothing is measured and nothing waits on the device. A
sampled step's statistics reach the host in one transfer.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from tuigrad.engine import stats, watch_dist
from tuigrad.engine.pass_table import PassTable
from tuigrad.engine.watch_layers import Watched, WatchError, check_args, select_modules
from tuigrad.frames import HISTOGRAMS, LAYER_SCALARS, Frame, Hist, LayerInfo, LayerStats
from tuigrad.runs.writer import RunWriter, default_path

log = logging.getLogger(__name__)

LOGGABLE = ("loss", "accuracy", "val_loss", "val_accuracy")
_OUT_GRAD = [LAYER_SCALARS.index("out_grad_std"), LAYER_SCALARS.index("out_grad_norm")]
_ENGINE = torch.autograd.Variable._execution_engine


@dataclass
class _Capture:
    """What one sampled step has measured so far, all on the device."""

    table: PassTable  # each layer's output and dLoss/d(output) (scaled), as they were seen
    bins: int = 0  # the histograms' bins on this step (0: none)
    # Under torch.distributed, this rank's outputs and their gradients, as (rows, units):
    # their statistics are combined across ranks at the step's end.
    acts: dict[int, Tensor] = field(default_factory=dict)
    out_grads: dict[int, Tensor] = field(default_factory=dict)
    grads: Tensor | None = None  # (layers, 2) the weights' gradients before clipping: std, norm
    grad_hists: Tensor | None = None  # (layers, 2 + bins)
    pre_norm: Tensor | None = None  # total grad norm before clipping
    post_norm: Tensor | None = None
    seen: list[tuple[Tensor, int]] | None = None  # every grad and its version after backward
    weights: Tensor | None = None  # (layers, 2) the weights before the update: std, norm
    weight_hists: Tensor | None = None  # (layers, 2 + bins)
    before: list[Tensor] | None = None  # the weights before the update, copied
    batch: int = 0  # rows of the batch, from the first captured output
    logged: dict[str, Any] = field(default_factory=dict)


def watch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    out: str | Path | None = None,
    every: int = 10,
    **options: Any,
) -> Watcher:
    """Watch `model` trained by `optimizer`, recording every `every`-th step to run file `out`.

    See Watcher for the options (scaler, include, exclude, include_types, exclude_types, bins,
    hist_every, act_rows, title, overwrite). Returns the Watcher; close it (or use it as a context
    manager) when training ends.
    """
    return Watcher(model, optimizer, out, every, **options)


class Watcher:
    """Hooks on a model and its optimizer that record sampled steps to a run file.

    Args:
        out: the run file; default `runs/<time>-<title>.tuigrad`.
        every: measure every `every`-th optimizer step (step 0 included).
        scaler: the torch.amp.GradScaler the loop uses, if any: gradients are then reported
            unscaled, and steps it skips (inf/NaN gradients) are counted in `skipped_steps`
            and the run file's meta, never recorded as frames; the next step is measured.
        include, exclude: fnmatch patterns on qualified module names; include_types,
            exclude_types: module classes. See tuigrad.engine.watch_layers.select_modules.
        bins: histogram bins (0: no histograms).
        hist_every: histograms on the first sampled step of every `hist_every` steps; by
            default 10 * every, since binning costs several times the scalars.
        act_rows: activation and dLoss/d(output) statistics use the first `act_rows` rows
            (along dimension 0) of each output, on every rank; 0: all. Frames record how
            many rows that was in `act_rows`. Weight and gradient statistics use everything.

    Under torch.distributed, every rank must call `watch` the same way; rank 0 writes the file.
    Errors inside the hooks never reach the training loop: the first is logged, and the
    watcher disables itself (`error` holds the message).
    """

    def __init__(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        out: str | Path | None = None,
        every: int = 10,
        *,
        scaler: Any = None,
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
        include_types: Sequence[type] = (),
        exclude_types: Sequence[type] = (),
        bins: int = 32,
        hist_every: int | None = None,
        act_rows: int = 64,
        title: str | None = None,
        overwrite: bool = False,
    ) -> None:
        check_args(model, optimizer, every, bins, hist_every, act_rows, scaler)
        inner = getattr(model, "module", model) if _is_wrapper(model) else model
        self.model, self.optimizer, self.scaler = inner, optimizer, scaler
        self.every, self.bins, self.act_rows = every, bins, act_rows
        self.hist_every = hist_every if hist_every is not None else 10 * every
        self.watched: tuple[Watched, ...] = select_modules(
            inner, include, exclude, include_types, exclude_types
        )
        self.layers: tuple[LayerInfo, ...] = tuple(w.info for w in self.watched)
        self.params = [p for group in optimizer.param_groups for p in group["params"]]
        param_ids = {id(p) for p in self.params}
        # The layers whose gradient norms count in the total norm, as already taken: each
        # weight the optimizer steps, at its first layer (tied weights count once).
        first: dict[int, int] = {}
        for i, w in enumerate(self.watched):
            if id(w.weight) in param_ids:
                first.setdefault(id(w.weight), i)
        self._counted = list(first.values())
        device = self.watched[0].weight.device
        self._counted_rows = torch.tensor(self._counted, device=device) if first else None
        self._uncounted = [p for p in self.params if id(p) not in first]
        # A monitored module's parameters get their gradients through its output, whose
        # gradient hook ends backward; the others need hooks of their own.
        owned = {id(p) for w in self.watched for p in w.module.parameters()}
        self._unowned = [p for p in self.params if id(p) not in owned]
        self.distributed = watch_dist.is_distributed()
        self.world = torch.distributed.get_world_size() if self.distributed else 1
        self.rank = torch.distributed.get_rank() if self.distributed else 0

        self.step = 0  # steps taken so far: the number of the step in progress
        self.skipped_steps = 0
        self.error: str | None = None
        self.writer: RunWriter | None = None
        if self.rank == 0:
            title = title if title is not None else type(inner).__name__
            device = str(self.watched[0].weight.device)
            path = out if out is not None else default_path(title)
            self.writer = RunWriter(path, layers=self.layers, title=title, device=device,
                                    overwrite=overwrite)  # fmt: skip
            self.writer.set_meta("source", "tuigrad.watch")
            self.writer.set_meta("world_size", str(self.world))

        self._enabled = True
        self._retry = False  # measure the next step: the sampled one was skipped
        self._next_hist = 0
        self._capture: _Capture | None = None
        self._pending: Frame | None = None
        self._pending_logs: dict[str, Any] = {}
        self._queued = False
        self._stepped = False
        self._in_step_hook = False
        self._t0 = time.perf_counter()
        self._handles: list[Any] = []  # for the whole run
        self._armed: list[Any] = []  # for the sampled step in progress
        self._before = stats.CopyBuffers()
        self._out_hooks = [
            self._guard(self._out_grad_hook(i, w)) for i, w in enumerate(self.watched)
        ]
        self._attach()
        if self._is_due():
            self._arm()

    # ---- the user's side -----------------------------------------------------------------

    def log(self, **values: float | Tensor) -> None:
        """Record scalars the hooks cannot see (loss, accuracy, val_loss, val_accuracy).

        Called before the optimizer step, they belong to the step in progress; after it (before
        the next forward), to the step just taken. Off sampled steps this costs nothing.
        """
        bad = [k for k in values if k not in LOGGABLE]
        if bad:
            raise WatchError(
                f"watcher.log({bad[0]}=...): loggable values are {', '.join(LOGGABLE)}"
            )
        if not self._enabled:
            return
        if self._pending is not None:
            # The step's statistics just reached the host, so reading these waits for nothing.
            self._pending_logs.update({k: _host(v) for k, v in values.items()})
        elif self._capture is not None:  # read after the step's one transfer
            self._capture.logged.update(
                {k: v.detach() if isinstance(v, Tensor) else v for k, v in values.items()}
            )

    def close(self, finished: bool = True) -> None:
        """Write what is left, close the run file, and remove every hook."""
        was_enabled = self._enabled
        self._enabled = False
        self._detach()
        if was_enabled:
            self._flush()
        if self.writer is not None:
            self.writer.set_meta("skipped_steps", str(self.skipped_steps))
            self.writer.close(finished=finished and self.error is None)

    def __enter__(self) -> Watcher:
        return self

    def __exit__(self, exc_type: type | None, *exc: object) -> None:
        self.close(finished=exc_type is None)

    @property
    def path(self) -> Path | None:
        """The run file (None on ranks other than 0)."""
        return self.writer.path if self.writer is not None else None

    # ---- hooks: attaching and detaching ----------------------------------------------------

    def _attach(self) -> None:
        opt = self.optimizer
        self._handles += [
            opt.register_step_pre_hook(self._guard(self.on_step_start, optimizer_hook=True)),
            opt.register_step_post_hook(self._guard(self.on_step_end, optimizer_hook=True)),
            self.model.register_forward_pre_hook(self._guard(self.on_forward_start)),
        ]
        if self.scaler is not None:
            self._scaler_step = self.scaler.step
            self.scaler.step = self._wrap_scaler_step(self._scaler_step)

    def _wrap_scaler_step(self, step: Callable[..., Any]) -> Callable[..., Any]:
        def scaler_step(optimizer: torch.optim.Optimizer, *args: Any, **kwargs: Any) -> Any:
            self._stepped = False
            result = step(optimizer, *args, **kwargs)
            if optimizer is self.optimizer and not self._stepped and self._enabled:
                self._guard(self.on_step_skipped)()
            return result

        return scaler_step

    def _arm(self) -> None:
        """Hooks for one sampled step: forward hooks, and gradient-ready hooks that end backward."""
        bins = self.bins if self._hist_due() else 0
        self._capture = _Capture(PassTable(("identity",) * len(self.watched), bins), bins)
        self._queued = False
        for i, w in enumerate(self.watched):
            hook = self._guard(self._forward_hook(i, w))
            self._armed.append(w.module.register_forward_hook(hook))
        self._hook_params(self._unowned)

    def _hook_params(self, params: Sequence[Tensor]) -> None:
        """Gradient-ready hooks on `params` for this step: each ends backward when reached."""
        ready = self._guard(self.on_grad_ready)
        for p in params:
            if p.requires_grad:
                self._armed.append(p.register_post_accumulate_grad_hook(ready))

    def _disarm(self) -> None:
        for handle in self._armed:
            handle.remove()
        self._armed = []

    def _detach(self) -> None:
        self._disarm()
        self._capture = None
        if not self._in_step_hook:  # removing an optimizer hook while they run would raise
            for handle in self._handles:
                handle.remove()
            self._handles = []
        if self.scaler is not None and "step" in self.scaler.__dict__:
            del self.scaler.step

    def _guard(self, fn: Callable[..., Any], optimizer_hook: bool = False) -> Callable[..., Any]:
        """`fn` as a hook that never raises: the first error disables the watcher."""

        def hook(*args: Any) -> None:
            if not self._enabled:
                if not optimizer_hook:  # hooks left by a failure inside an optimizer hook
                    self._detach()
                return
            self._in_step_hook = optimizer_hook
            try:
                fn(*args)
            except Exception as exc:  # noqa: BLE001 - the user's training must go on
                self._fail(exc)
            finally:
                self._in_step_hook = False

        return hook

    def _fail(self, exc: Exception) -> None:
        self.error = f"tuigrad.watch stopped at step {self.step}: {type(exc).__name__}: {exc}"
        log.error("%s; training goes on unwatched", self.error, exc_info=exc)
        self._enabled = False
        self._detach()
        if self.writer is not None:
            self.writer.set_meta("watch_error", self.error)
            self.writer.close(finished=False)

    # ---- hooks: what they do ----------------------------------------------------------------

    def on_forward_start(self, module: nn.Module, args: Any) -> None:
        """The model's forward begins: the step just taken can no longer be logged to."""
        if self._pending is not None:
            self._flush()

    def _forward_hook(self, i: int, w: Watched) -> Callable[..., None]:
        def on_forward(module: nn.Module, args: Any, output: Any) -> None:
            self.on_forward(i, w, module, output)

        return on_forward

    def on_forward(self, i: int, w: Watched, module: nn.Module, output: Any) -> None:
        """A monitored module ran on a sampled step: measure its output now.

        NOTE: now, because something after the module may change the output in place
        (ReLU(inplace=True)); measured here, it needs no copy.
        """
        out = _first_tensor(output)
        cap = self._capture
        if cap is None or not torch.is_grad_enabled():
            return
        if not (isinstance(output, Tensor) and output.requires_grad):
            # Its parameters' gradients may come through another of its outputs, or none.
            self._hook_params(list(module.parameters()))
        if out is None or not out.is_floating_point():
            return
        kept = self._rows(out.detach())
        units = stats.unit_rows(kept, w.channel_dim)
        if self.distributed:  # combined with the other ranks' at the step's end
            cap.acts[i] = units.clone()
        else:
            cap.table.take_forward(i, units, None)
        cap.batch = cap.batch or (len(kept) if kept.dim() > 1 else 1)
        if out.requires_grad:
            out.register_hook(self._out_hooks[i])

    def _rows(self, t: Tensor) -> Tensor:
        # The first act_rows entries along dimension 0 (the batch, for batch-first outputs).
        return t[: self.act_rows] if self.act_rows and t.dim() > 1 else t

    def _out_grad_hook(self, i: int, w: Watched) -> Callable[[Tensor], None]:
        def on_out_grad(grad: Tensor) -> None:
            cap = self._capture
            if cap is not None:
                units = stats.unit_rows(self._rows(grad.detach()), w.channel_dim)
                if self.distributed:
                    cap.out_grads[i] = units
                else:
                    cap.table.take_backward(i, units)
                self._queue_backward_end()

        return on_out_grad

    def on_grad_ready(self, param: Tensor) -> None:
        """A parameter's gradient was accumulated during a sampled step's backward."""
        self._queue_backward_end()

    def _queue_backward_end(self) -> None:
        if not self._queued:
            self._queued = True
            # Queued from a callback, the second one runs after DDP's own end-of-backward
            # callback, which averages the gradients across ranks.
            _ENGINE.queue_callback(
                lambda: _ENGINE.queue_callback(self._guard(self.on_backward_end))
            )

    def on_backward_end(self) -> None:
        """Backward finished: the gradients as it left them, before any clipping."""
        self._queued = False
        cap = self._capture
        if cap is None:
            return
        self._measure_grads(cap, self._scale())

    def _measure_grads(self, cap: _Capture, scale: Tensor | float) -> None:
        """The monitored weights' gradients as they are now, and the norm of every gradient,
        unscaled by `scale`: one read of each gradient."""
        ref = self.watched[0].weight
        mine = [w.weight.grad for w in self.watched]
        table = stats.each_std_norm(mine, ref)  # (layers, 2): std, norm
        grads = [p.grad for p in self.params if p.grad is not None]
        if all(mine[i] is not None for i in self._counted):  # the norms counted as always
            rows, uncounted = self._counted_rows, self._uncounted
            norms = table[rows, 1] if rows is not None else None
        else:  # some weights have no gradient: the others' norms count
            present = [i for i in self._counted if mine[i] is not None]
            kept = {id(self.watched[i].weight) for i in present}
            uncounted = [p for p in self.params if id(p) not in kept]
            # NOTE: rows picked one by one: an index list would be one more copy to the device.
            norms = torch.stack([table[i, 1] for i in present]) if present else None
        others = [p.grad for p in uncounted if p.grad is not None]
        cap.pre_norm = stats.total_norm(others, ref, norms) / scale
        cap.grads = table / scale
        cap.seen = [(g, g._version) for g in grads]
        if cap.bins:
            hists = [stats.grad_histogram(_unscaled(g, scale), cap.bins) if g is not None
                     else stats.empty_histogram(cap.bins, ref) for g in mine]  # fmt: skip
            cap.grad_hists = torch.stack(hists)

    def on_step_start(self, optimizer: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
        """The optimizer is about to step: the gradients as it sees them, after clipping, and
        the weights it starts from (copied for the update in the read that measures them)."""
        self._stepped = True
        cap = self._capture
        if cap is None:
            return
        if cap.grads is None:  # no backward seen (gradients set by hand): the optimizer's
            self._measure_grads(cap, 1.0)
        grads = [p.grad for p in self.params if p.grad is not None]
        if self._touched(cap, grads):
            cap.post_norm = stats.total_norm(grads, self.watched[0].weight)
        else:  # clipping did nothing to them: the same norm
            cap.post_norm = cap.pre_norm
        weights = [w.weight.detach() for w in self.watched]
        cap.before = self._before.take(weights)
        no_grads = [None] * len(weights)
        cap.weights, _, hists = stats.weight_statistics(weights, no_grads, cap.bins, cap.before)
        cap.weight_hists = hists[:, 1] if hists is not None else None

    def _touched(self, cap: _Capture, grads: list[Tensor]) -> bool:
        """True if the gradients changed since backward ended (clipping, unscaling)."""
        if cap.seen is None:
            return True
        same = len(grads) == len(cap.seen) and all(
            g is seen and g._version == version
            for g, (seen, version) in zip(grads, cap.seen, strict=True)
        )
        return not same

    def on_step_end(self, optimizer: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
        """The optimizer stepped: a sampled step becomes a frame; the next step begins."""
        if self._capture is not None:
            self._flush()
            self._pending = self._measure(self._capture)
            self._pending_logs = {k: _host(v) for k, v in self._capture.logged.items()}
            self._disarm()
            self._capture = None
        self._advance()

    def on_step_skipped(self) -> None:
        """The GradScaler skipped the step (inf or NaN gradients): count it, measure the next."""
        self.skipped_steps += 1
        if self._capture is not None:
            if self._capture.bins:  # the step measured instead takes its histograms
                self._next_hist = 0
            self._disarm()
            self._capture = None
            self._retry = True
        self._advance()

    def _advance(self) -> None:
        self.step += 1
        if self._is_due() and self._capture is None:
            self._arm()

    def _is_due(self) -> bool:
        return self._retry or self.step % self.every == 0

    def _scale(self) -> Tensor | float:
        if self.scaler is None or not self.scaler.is_enabled():
            return 1.0
        scale = getattr(self.scaler, "_scale", None)  # a device tensor: reading it needs no sync
        return scale.double() if isinstance(scale, Tensor) else float(self.scaler.get_scale())

    # ---- measuring ------------------------------------------------------------------------

    def _hist_due(self) -> bool:
        if self.bins <= 0 or self.step < self._next_hist:
            return False
        self._next_hist = (self.step // self.hist_every + 1) * self.hist_every
        return True

    # TODO: under torch.distributed, a rank whose watcher failed stops joining the collectives
    # below while the others wait in them; the ranks should agree on failing first.
    def _measure(self, cap: _Capture) -> Frame | None:
        """The sampled step's frame (on rank 0; None elsewhere), from one host transfer."""
        self._retry = False
        bins, ref, n = cap.bins, self.watched[0].weight, len(self.watched)
        after = [w.weight.detach() for w in self.watched]
        updates = stats.each_diff_std_norm(cap.before, after, ref)  # before - after: same std

        nan = torch.full((6,), math.nan, dtype=torch.float32, device=ref.device)
        forward, backward = cap.table.forward(ref), cap.table.backward(ref)
        grads = cap.grads if cap.grads is not None else nan[:2].expand(n, 2)
        weights = stats.weight_table(cap.weights, grads.float(), updates)
        table = torch.cat([forward.double(), backward.double(), weights.double()], dim=1)
        if self.distributed:
            moments = [watch_dist.local_moments(cap.acts.get(i), cap.out_grads.get(i), self.world, ref)
                       for i in range(n)]  # fmt: skip
            table = watch_dist.combine_scalars(table, torch.stack(moments))
        scale = self._scale()
        if not (isinstance(scale, float) and scale == 1.0):  # dLoss/d(output) of the scaled loss
            table[:, _OUT_GRAD] = table[:, _OUT_GRAD] / scale
        if bins:
            table = torch.cat([table, self._histograms(cap, bins, ref).reshape(n, -1)], dim=1)
        if self.rank != 0:
            return None

        pre_norm = cap.pre_norm if cap.pre_norm is not None else cap.post_norm
        post_norm = cap.post_norm if cap.post_norm is not None else pre_norm
        nan0 = torch.full((), math.nan, dtype=torch.float64, device=ref.device)
        pre_norm = nan0 if pre_norm is None else torch.as_tensor(pre_norm, device=ref.device)
        post_norm = nan0 if post_norm is None else torch.as_tensor(post_norm, device=ref.device)
        clipped = post_norm < pre_norm * (1 - 1e-6)
        head = torch.stack([pre_norm.double(), post_norm.double(), clipped.double()])
        host = torch.cat([head, table.reshape(-1)]).cpu().numpy()  # the one transfer

        names = [info.name for info in self.layers]
        layers = tuple(_with_empty_hists(layer, bins)
                       for layer in stats.to_layers(names, host[3:].reshape(table.shape), bins))  # fmt: skip
        return Frame(
            step=self.step,
            lr=float(self.optimizer.param_groups[0]["lr"]),
            grad_norm=float(host[0]),
            grad_norm_clipped=float(host[1]),
            clipped=bool(host[2] > 0),
            wall_time=time.perf_counter() - self._t0,
            act_rows=cap.batch * self.world,
            layers=layers,
        )

    def _histograms(self, cap: _Capture, bins: int, ref: Tensor) -> Tensor:
        """(layers, 3, 2 + bins) float64: each layer's histograms, in HISTOGRAMS order."""
        n, empty = len(self.watched), stats.empty_histogram(bins, ref)
        if self.distributed:  # every rank's activations over their common range
            acts = [watch_dist.combined_histogram(cap.acts.get(i), bins, ref) for i in range(n)]
            acts = torch.stack(acts)
        else:
            acts = cap.table.act_hists(ref)
        grads = cap.grad_hists if cap.grad_hists is not None else empty.expand(n, -1)
        return torch.stack([acts, grads, cap.weight_hists], dim=1)

    def _flush(self) -> None:
        """Write the pending frame, with the values logged for it."""
        frame, self._pending = self._pending, None
        if frame is None or self.writer is None:
            return
        logged, self._pending_logs = self._pending_logs, {}
        self.writer.write(replace(frame, **logged) if logged else frame)
        if self.skipped_steps:
            self.writer.set_meta("skipped_steps", str(self.skipped_steps))


# ---- small helpers -------------------------------------------------------------------------


def _with_empty_hists(layer: LayerStats, bins: int) -> LayerStats:
    # NOTE: a run file keeps a kind of histogram only when every layer has one, so a layer
    # that did not run (or has no gradient) gets empty counts rather than none.
    if not bins:
        return layer
    empty = {k: Hist.empty(bins) for k in HISTOGRAMS if getattr(layer, k) is None}
    return replace(layer, **empty) if empty else layer


def _unscaled(grad: Tensor, scale: Tensor | float) -> Tensor:
    """`grad` divided by the GradScaler's scale (in float64, then float32)."""
    if isinstance(scale, float) and scale == 1.0:
        return grad
    return (grad.detach().double() / scale).float()


def _host(value: float | Tensor) -> float:
    return float(value.detach()) if isinstance(value, Tensor) else float(value)


def _first_tensor(output: Any) -> Tensor | None:
    if isinstance(output, Tensor):
        return output
    if isinstance(output, (tuple, list)) and output and isinstance(output[0], Tensor):
        return output[0]
    return None


def _is_wrapper(model: nn.Module) -> bool:
    parallel = (nn.parallel.DistributedDataParallel, nn.DataParallel)
    return isinstance(model, parallel)
