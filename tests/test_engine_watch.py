"""tuigrad.watch on user models: statistics against plain autograd, hooks, close, errors, logging."""

import copy
import gc
import logging
import math
import time
import weakref

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

import tuigrad
from tests.watch_support import (
    SmallCNN,
    SmallTransformer,
    check_layer,
    cnn_batch,
    reference_step,
    token_batch,
    total_norm,
)
from tuigrad.engine import stats
from tuigrad.engine.watch import Watcher
from tuigrad.engine.watch_layers import WatchError
from tuigrad.frames import HISTOGRAMS, LAYER_SCALARS
from tuigrad.runs import RunReader
from tuigrad.sources.base import RunState
from tuigrad.sources.replay import ReplaySource

torch.set_num_threads(1)

CNN_NAMES = ("conv", "bn", "head")
TRANSFORMER_NAMES = (
    "emb",
    "enc.layers.0.self_attn",
    "enc.layers.0.self_attn.out_proj",
    "enc.layers.0.linear1",
    "enc.layers.0.linear2",
    "enc.layers.0.norm1",
    "enc.layers.0.norm2",
    "norm",
    "head",
)


def user_step(model, optimizer, x, y, watcher=None, clip=None, log_after=True):
    """The user's own loop body, unchanged by watching."""
    loss = nn.functional.cross_entropy(model(x), y)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if clip is not None:
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
    if watcher is not None and not log_after:
        watcher.log(loss=loss)
    optimizer.step()
    if watcher is not None and log_after:
        watcher.log(loss=loss)
    return loss


def assert_same_params(a, b):
    for (name, p), q in zip(a.named_parameters(), b.parameters(), strict=True):
        assert torch.equal(p, q), name


def mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3))


def mlp_batch(gen):
    return torch.randn(16, 6, generator=gen), torch.randint(0, 3, (16,), generator=gen)


@pytest.mark.parametrize(
    ("make", "batch", "names", "channel_first", "optim", "clip"),
    [
        (SmallCNN, cnn_batch, CNN_NAMES, ("conv", "bn"), "sgd", 0.5),
        (SmallTransformer, token_batch, TRANSFORMER_NAMES, (), "adam", 0.5),
        (SmallTransformer, token_batch, TRANSFORMER_NAMES, (), "adam", None),
    ],
    ids=["cnn", "transformer", "transformer-unclipped"],
)
def test_statistics_match_plain_autograd(tmp_path, make, batch, names, channel_first, optim, clip):
    torch.manual_seed(1)
    model = make()
    ref_model = copy.deepcopy(model)

    def optimizer(m):
        if optim == "sgd":
            return torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9)
        return torch.optim.Adam(m.parameters(), lr=1e-2)

    opt, ref_opt = optimizer(model), optimizer(ref_model)
    gen = torch.Generator().manual_seed(2)
    watcher = tuigrad.watch(
        model, opt, out=tmp_path / "run.tuigrad", every=2, bins=16, hist_every=2
    )
    assert [info.name for info in watcher.layers] == list(names)

    refs = {}
    for step in range(5):
        x, y = batch(gen)
        user_step(model, opt, x, y, watcher, clip=clip, log_after=step % 4 == 0)
        refs[step] = reference_step(ref_model, ref_opt, [(x, y)], names, clip=clip)
        assert_same_params(model, ref_model)
    watcher.close()

    with RunReader(watcher.path) as reader:
        assert reader.steps == [0, 2, 4]
        assert [info.name for info in reader.layers] == list(names)
        assert reader.is_finished
        for frame in reader.iter_frames():
            ref = refs[frame.step]
            assert frame.loss == pytest.approx(ref.loss, rel=1e-6), frame.step
            assert frame.grad_norm == pytest.approx(ref.grad_norm, rel=1e-5)
            assert frame.grad_norm_clipped == pytest.approx(ref.grad_norm_clipped, rel=1e-5)
            assert frame.clipped == (clip is not None and ref.grad_norm > clip)
            assert frame.act_rows == len(x)
            for layer in frame.layers:
                check_layer(layer, ref, layer.name, layer.name in channel_first)
                assert layer.act_hist.total == (
                    ref.outputs[layer.name].numel() if layer.name in ref.outputs else 0
                )


def test_attention_output_projection_has_gradients_but_no_activations(tmp_path):
    # nn.MultiheadAttention uses out_proj's weight without calling its forward.
    model = SmallTransformer()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with tuigrad.watch(model, opt, out=tmp_path / "t.tuigrad", every=1) as watcher:
        user_step(model, opt, *token_batch(torch.Generator().manual_seed(0)), watcher)
    with RunReader(watcher.path) as reader:
        layer = reader.frame(0).layer("enc.layers.0.self_attn.out_proj")
    assert math.isnan(layer.act_std) and layer.weight_grad_norm > 0


def test_inplace_relu_after_batchnorm_does_not_change_what_is_recorded(tmp_path):
    torch.manual_seed(3)
    model = SmallCNN(inplace=True)
    ref_model = copy.deepcopy(model)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    ref_opt = torch.optim.SGD(ref_model.parameters(), lr=0.1)
    x, y = cnn_batch(torch.Generator().manual_seed(4))
    with tuigrad.watch(model, opt, out=tmp_path / "r.tuigrad", every=1) as watcher:
        user_step(model, opt, x, y, watcher)
    ref = reference_step(ref_model, ref_opt, [(x, y)], CNN_NAMES)
    with RunReader(watcher.path) as reader:
        bn = reader.frame(0).layer("bn")
    out = ref.outputs["bn"]  # the batch-normed output, before the ReLU changed it
    assert out.min() < 0
    assert bn.act_mean == pytest.approx(out.mean().item(), abs=1e-6)
    assert bn.act_std == pytest.approx(out.std().item(), rel=1e-5)
    assert bn.act_hist.lo == pytest.approx(out.min().item())
    # The reference's gradient is taken at the ReLU's output (the tensor changed in place);
    # dLoss/d(BatchNorm output) is that, where the ReLU passed it on.
    out_grad = ref.out_grads["bn"] * (out > 0)
    assert bn.out_grad_norm == pytest.approx(out_grad.norm().item(), rel=1e-5)


def test_choosing_modules_by_name_and_type(tmp_path):
    model = SmallTransformer()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)

    def names(**options):
        w = tuigrad.watch(
            model, opt, out=tmp_path / f"{len(list(tmp_path.iterdir()))}.tuigrad", **options
        )
        w.close()
        return [info.name for info in w.layers]

    assert names(include=["enc.*linear*"]) == ["enc.layers.0.linear1", "enc.layers.0.linear2"]
    assert names(include_types=[nn.LayerNorm], exclude=["norm"]) == [
        "enc.layers.0.norm1",
        "enc.layers.0.norm2",
    ]
    assert "enc.layers.0.self_attn.out_proj" not in names(exclude_types=[nn.Linear])
    with pytest.raises(WatchError, match="no module to watch"):
        names(include=["nothing*"])
    with pytest.raises(WatchError, match="every = 0"):
        tuigrad.watch(model, opt, out=tmp_path / "x.tuigrad", every=0)


def test_hook_order_and_hooks_only_on_sampled_steps(tmp_path, monkeypatch):
    events = []
    for hook in (
        "on_forward_start",
        "on_forward",
        "on_backward_end",
        "on_step_start",
        "on_step_end",
    ):
        original = getattr(Watcher, hook)

        def record(self, *args, _name=hook, _fn=original):
            events.append(_name)
            return _fn(self, *args)

        monkeypatch.setattr(Watcher, hook, record)

    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    user_events = []
    opt.register_step_pre_hook(lambda *a: user_events.append(("user_pre", len(events))))
    gen = torch.Generator().manual_seed(0)
    with tuigrad.watch(model, opt, out=tmp_path / "o.tuigrad", every=2) as watcher:
        per_step = []
        for _ in range(3):
            events.clear()
            user_step(model, opt, *mlp_batch(gen), watcher)
            per_step.append(list(events))
            module_hooks = sum(len(m._forward_hooks) for m in model.modules())
            per_step[-1].append(f"armed={module_hooks}")

    sampled = ["on_forward_start", "on_forward", "on_forward", "on_backward_end"]
    sampled += ["on_step_start", "on_step_end"]
    plain = ["on_forward_start", "on_step_start", "on_step_end"]
    # After step 0 the next step (1) is not sampled: no forward hooks; after step 1, step 2 is.
    assert per_step == [sampled + ["armed=0"], plain + ["armed=2"], sampled + ["armed=0"]]
    # The user's pre-step hook, registered first, still runs first.
    assert [n for _, n in user_events] == [4, 1, 4]


def test_captured_tensors_are_detached_and_hold_no_graph(tmp_path):
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = mlp_batch(torch.Generator().manual_seed(0))
    plain_out = copy.deepcopy(model)(x)
    watcher = tuigrad.watch(model, opt, out=tmp_path / "d.tuigrad", every=1)
    outputs = []
    model[0].register_forward_hook(lambda m, a, o: outputs.append(weakref.ref(o)))

    out = model(x)
    assert torch.equal(out, plain_out) and out.grad_fn.name() == plain_out.grad_fn.name()
    taken = watcher._capture.table.forward(out)  # the two monitored layers, measured as they ran
    assert taken.shape == (2, 6) and torch.isfinite(taken[:, :2]).all()
    assert taken.grad_fn is None and not taken.requires_grad
    loss = nn.functional.cross_entropy(out, y)
    loss.backward()
    opt.step()
    for grad in watcher._pending.layers:  # the pending frame is plain numpy data
        assert grad.act_hist is None or type(grad.act_hist.counts).__module__ == "numpy"
    del out, loss
    gc.collect()
    assert outputs[0]() is None  # the watcher keeps no reference to the graph's tensors
    watcher.close()


def test_close_removes_every_hook_and_training_is_bit_identical(tmp_path):
    model, plain = mlp(), mlp()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    plain_opt = torch.optim.Adam(plain.parameters(), lr=1e-2)
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    gen = torch.Generator().manual_seed(0)
    batches = [mlp_batch(gen) for _ in range(8)]

    watcher = tuigrad.watch(model, opt, out=tmp_path / "c.tuigrad", every=3, scaler=scaler)
    for i, (x, y) in enumerate(batches):
        if i == 4:  # close in the middle of a sampled step, after its forward
            out = model(x)
            watcher.close()
            loss = nn.functional.cross_entropy(out, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        else:
            user_step(model, opt, x, y, watcher)
        user_step(plain, plain_opt, x, y)
        assert_same_params(model, plain)
        assert torch.equal(model(x), plain(x))

    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())
    assert not opt._optimizer_step_pre_hooks and not opt._optimizer_step_post_hooks
    assert all(not getattr(p, "_post_accumulate_grad_hooks", None) for p in model.parameters())
    assert "step" not in scaler.__dict__
    assert opt.state_dict()["state"].keys() == plain_opt.state_dict()["state"].keys()
    for a, b in zip(
        opt.state_dict()["state"].values(), plain_opt.state_dict()["state"].values(), strict=True
    ):
        assert all(torch.equal(a[k], b[k]) for k in a)
    with RunReader(watcher.path) as reader:
        assert reader.steps == [0, 3]


@pytest.mark.parametrize("where", ["forward", "step"])
def test_an_error_in_the_watcher_is_logged_once_and_training_goes_on(
    tmp_path, monkeypatch, caplog, where
):
    model, plain = mlp(), mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    plain_opt = torch.optim.SGD(plain.parameters(), lr=0.1)

    def broken(*args, **kwargs):
        raise RuntimeError("statistics failed")

    target = "unit_rows" if where == "forward" else "to_layers"
    watcher = tuigrad.watch(model, opt, out=tmp_path / "e.tuigrad", every=1)
    monkeypatch.setattr(stats, target, broken)
    gen = torch.Generator().manual_seed(0)
    with caplog.at_level(logging.ERROR, logger="tuigrad.engine.watch"):
        for _ in range(4):
            x, y = mlp_batch(gen)
            user_step(model, opt, x, y, watcher)
            user_step(plain, plain_opt, x, y)
    assert_same_params(model, plain)
    assert len(caplog.records) == 1 and "statistics failed" in caplog.records[0].getMessage()
    assert watcher.error.startswith("tuigrad.watch stopped at step 0: RuntimeError")
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())
    assert not opt._optimizer_step_pre_hooks and not opt._optimizer_step_post_hooks
    watcher.close()
    with RunReader(watcher.path) as reader:
        assert not reader.is_finished and "statistics failed" in reader.meta["watch_error"]


def test_log_before_or_after_the_step_and_bad_names(tmp_path):
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    gen = torch.Generator().manual_seed(0)
    losses = []
    with tuigrad.watch(model, opt, out=tmp_path / "l.tuigrad", every=2) as watcher:
        for step in range(6):
            x, y = mlp_batch(gen)
            loss = user_step(model, opt, x, y, watcher, log_after=step < 3)
            watcher.log(accuracy=0.25 * step) if step == 4 else None
            losses.append(loss.item())
        with pytest.raises(WatchError, match="loggable values are loss, accuracy"):
            watcher.log(los=1.0)
    with RunReader(watcher.path) as reader:
        frames = reader.frames()
    assert [f.step for f in frames] == [0, 2, 4]
    assert [f.loss for f in frames] == pytest.approx([losses[0], losses[2], losses[4]])
    assert math.isnan(frames[0].accuracy) and frames[2].accuracy == 1.0
    assert frames[0].lr == pytest.approx(0.1)


def test_run_file_is_followed_live_while_training(tmp_path):
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    gen = torch.Generator().manual_seed(0)
    watcher = tuigrad.watch(model, opt, out=tmp_path / "f.tuigrad", every=1)
    for _ in range(3):
        user_step(model, opt, *mlp_batch(gen), watcher)
    user_step(model, opt, *mlp_batch(gen), watcher)  # its forward writes step 2's frame

    source = ReplaySource(watcher.path, follow=True)
    deadline = time.monotonic() + 10
    while len(source.reader) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
        source.version()
    assert [info.name for info in source.layers] == ["0", "2"]
    assert source.frames_since(0)[-1].step == 2
    assert source.status().state == RunState.RUNNING

    watcher.close()
    while source.status().state != RunState.FINISHED and time.monotonic() < deadline:
        time.sleep(0.1)
        source.version()
    assert source.status().state == RunState.FINISHED
    assert source.frames_since(0)[-1].step == 3
    source.close()


def test_activation_statistics_on_the_first_rows_only(tmp_path):
    torch.manual_seed(5)
    model = SmallCNN()
    ref_model = copy.deepcopy(model)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    ref_opt = torch.optim.SGD(ref_model.parameters(), lr=0.1)
    x, y = cnn_batch(torch.Generator().manual_seed(6))
    with tuigrad.watch(model, opt, out=tmp_path / "rows.tuigrad", every=1, act_rows=3) as w:
        user_step(model, opt, x, y, w)
    ref = reference_step(ref_model, ref_opt, [(x, y)], CNN_NAMES)
    ref.outputs = {n: o[:3] for n, o in ref.outputs.items()}
    ref.out_grads = {n: g[:3] for n, g in ref.out_grads.items()}
    with RunReader(w.path) as reader:
        frame = reader.frame(0)
    assert frame.act_rows == 3
    for layer in frame.layers:  # weights and gradients still over everything
        check_layer(layer, ref, layer.name, layer.name in ("conv", "bn"))


def test_import_tuigrad_stays_free_of_torch_until_watch_is_used():
    import subprocess
    import sys

    code = "import sys, tuigrad; a = 'torch' in sys.modules; tuigrad.watch; print(a, 'torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]
    with pytest.raises(AttributeError, match="no attribute 'wach'"):
        tuigrad.wach  # noqa: B018


class _Ops(TorchDispatchMode):
    """Records every tensor operation run while active, forward and backward."""

    def __init__(self):
        super().__init__()
        self.ops = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.ops.append(str(func))
        return func(*args, **(kwargs or {}))


def test_steps_between_samples_run_no_tensor_operation_of_the_watcher(tmp_path):
    model, plain = mlp(), mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    plain_opt = torch.optim.SGD(plain.parameters(), lr=0.1)
    gen = torch.Generator().manual_seed(0)
    with tuigrad.watch(model, opt, out=tmp_path / "n.tuigrad", every=4) as watcher:
        x, y = mlp_batch(gen)
        user_step(model, opt, x, y, watcher)  # step 0, sampled
        user_step(plain, plain_opt, x, y)
        x, y = mlp_batch(gen)
        with _Ops() as watched_ops:
            user_step(model, opt, x, y, watcher)  # step 1: only counted
        with _Ops() as plain_ops:
            user_step(plain, plain_opt, x, y)
        with _Ops() as sampled_ops:
            for _ in range(3):
                user_step(model, opt, *mlp_batch(gen), watcher)  # steps 2, 3 and sampled 4
    assert watched_ops.ops == plain_ops.ops
    assert len(sampled_ops.ops) > 3 * len(plain_ops.ops)  # the probe can see the sampled step


def test_gradients_changed_in_place_before_the_step_are_measured_as_backward_left_them(
    tmp_path,
):
    # From step 2 on the loop halves every gradient in place between backward and the step,
    # as clipping would: each layer's gradient is still the one backward gave, and the
    # frame shows the clipping.
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    gen = torch.Generator().manual_seed(0)
    norms = {}
    with tuigrad.watch(model, opt, out=tmp_path / "g.tuigrad", every=2) as watcher:
        for step in range(5):
            x, y = mlp_batch(gen)
            loss = nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            norms[step] = model[2].weight.grad.norm().item()
            total = total_norm(p.grad for p in model.parameters())
            norms[step, "total"] = total
            if step >= 2:
                for p in model.parameters():
                    p.grad.mul_(0.5)
            opt.step()
    with RunReader(watcher.path) as reader:
        frames = {f.step: f for f in reader.frames()}
    for step in (0, 2, 4):
        frame = frames[step]
        assert frame.layer("2").weight_grad_norm == pytest.approx(norms[step], rel=1e-6)
        assert frame.grad_norm == pytest.approx(norms[step, "total"], rel=1e-6)
        assert frame.clipped == (step >= 2)
        half = 0.5 if step >= 2 else 1.0
        assert frame.grad_norm_clipped == pytest.approx(frame.grad_norm * half, rel=1e-6)


class _SecondOutput(nn.Module):
    """A layer returning (its output detached, its output): the loss uses the second."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(4, 4) / 2)

    def forward(self, x):
        h = x @ self.weight.T
        return h.detach(), h


class _Branches(nn.Module):
    """tuple output: one layer, whose loss comes through its second output; unwatched head:
    `head` reads `body`'s output detached, so backward never reaches that output."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        if kind == "tuple output":
            self.body = _SecondOutput()
        else:
            self.body, self.head = nn.Linear(4, 4), nn.Linear(4, 3)

    def forward(self, x):
        if self.kind == "tuple output":
            return torch.tanh(self.body(x)[1])[:, :3]
        return self.head(torch.tanh(self.body(x).detach()) + x)


@pytest.mark.parametrize(
    ("kind", "include", "layer"),
    [("tuple output", ["body"], "body"), ("unwatched head", ["body"], None)],
)
def test_backward_s_end_is_seen_where_no_watched_output_carries_the_gradient(
    tmp_path, kind, include, layer
):
    # The gradients are halved in place before the step, as clipping would: they must be
    # measured as backward left them, which needs backward's end seen through the layer's
    # own parameters (tuple output) or the unwatched ones (unwatched head).
    torch.manual_seed(0)
    model = _Branches(kind)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    gen = torch.Generator().manual_seed(1)
    x, y = torch.randn(8, 4, generator=gen), torch.randint(0, 3, (8,), generator=gen)
    with tuigrad.watch(model, opt, out=tmp_path / "b.tuigrad", include=include) as watcher:
        nn.functional.cross_entropy(model(x), y).backward()
        grads = [p.grad for p in model.parameters() if p.grad is not None]
        total = total_norm(grads)
        mine = model.body.weight.grad.norm().item() if layer else None
        for g in grads:
            g.mul_(0.5)
        opt.step()
    with RunReader(watcher.path) as reader:
        (frame,) = reader.frames()
    assert frame.grad_norm == pytest.approx(total, rel=1e-6)
    assert frame.clipped
    if layer:
        assert frame.layer(layer).weight_grad_norm == pytest.approx(mine, rel=1e-6)


class _Skipping(nn.Module):
    """Two layers; `b` runs on odd calls only, so on even ones it has no gradient."""

    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = nn.Linear(4, 4), nn.Linear(4, 3)
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        h = torch.tanh(self.a(x))
        return self.b(h) if self.calls % 2 == 0 else h[:, :3]


def test_the_total_norm_counts_only_the_gradients_a_step_has(tmp_path):
    torch.manual_seed(0)
    model = _Skipping()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    gen = torch.Generator().manual_seed(1)
    totals = {}
    with tuigrad.watch(model, opt, out=tmp_path / "s.tuigrad", every=1) as watcher:
        for step in range(4):
            x, y = torch.randn(8, 4, generator=gen), torch.randint(0, 3, (8,), generator=gen)
            opt.zero_grad(set_to_none=True)
            nn.functional.cross_entropy(model(x), y).backward()
            grads = [p.grad for p in model.parameters() if p.grad is not None]
            totals[step] = total_norm(grads)
            opt.step()
    with RunReader(watcher.path) as reader:
        frames = {f.step: f for f in reader.frames()}
    for step in range(4):
        assert frames[step].grad_norm == pytest.approx(totals[step], rel=1e-6)
        b_norm = frames[step].layer("b").weight_grad_norm
        assert math.isnan(b_norm) == (step % 2 == 0)


def test_layers_of_one_shape_read_as_if_measured_one_at_a_time(tmp_path):
    # Layers of one shape are measured on their stack; each must read as stats.measure_layer
    # gives it for that layer alone, also with Inf, NaN and constant weights.
    torch.manual_seed(7)
    model = nn.Sequential(
        nn.Linear(5, 5), nn.Tanh(), nn.Linear(5, 5), nn.Linear(5, 5), nn.Tanh(), nn.Linear(5, 2)
    )
    names = ("0", "2", "3", "5")
    modules = dict(model.named_modules())
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    outputs, out_grads = {}, {}

    def keep(name, output):
        outputs[name] = output.detach().clone()
        output.register_hook(lambda g: out_grads.__setitem__(name, g.detach().clone()))

    for n in names:
        modules[n].register_forward_hook(lambda m, a, o, n=n: keep(n, o))
    x, y = torch.randn(16, 5), torch.randint(0, 2, (16,))
    watcher = tuigrad.watch(model, opt, out=tmp_path / "s.tuigrad", every=1, bins=8, hist_every=1)
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    with torch.no_grad():  # the loop's own doing, between backward and the step
        modules["2"].weight[0, 0] = math.inf
        modules["2"].weight[1, 1] = math.nan
        modules["3"].weight.fill_(0.25)
    before = {n: modules[n].weight.detach().clone() for n in names}
    grads = {n: modules[n].weight.grad.detach().clone() for n in names}
    opt.step()
    watcher.close()
    after = {n: modules[n].weight.detach() for n in names}

    with RunReader(watcher.path) as reader:
        frame = reader.frame(0)
    for n in names:
        row = stats.measure_layer(
            outputs[n], None, out_grads[n], before[n], grads[n], after[n], "identity", 8
        )
        want, got = stats.to_layer_stats(n, row.numpy(), 8), frame.layer(n)
        for key in LAYER_SCALARS:
            w, g = getattr(want, key), getattr(got, key)
            assert (math.isnan(w) and math.isnan(g)) or g == pytest.approx(w, rel=1e-5), (n, key)
        for kind in HISTOGRAMS:
            w, g = getattr(want, kind), getattr(got, kind)
            assert (w.lo, w.hi) == pytest.approx((g.lo, g.hi)), (n, kind)
            np.testing.assert_array_equal(g.counts, w.counts)
    assert math.isnan(frame.layer("2").update_ratio) and frame.layer("3").weight_std == 0
