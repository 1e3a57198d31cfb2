"""The trainer: frames against a plain-torch replay of the same step, determinism, controls."""

import copy
import math
from dataclasses import replace

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from tests.stats_oracle import _np, assert_close, expected_scalars, numpy_counts, paths  # noqa: F401
from tuigrad.engine.trainer import Trainer
from tuigrad.errors import SpecError, TrainingError
from tuigrad.frames import GRAD_LOG_RANGE, LAYER_SCALARS, has_nonfinite
from tuigrad.spec import Spec

torch.set_num_threads(1)


def tiny(**values) -> Spec:
    base = {
        "device": "cpu",
        "data.name": "spiral",
        "data.dim": 5,
        "data.samples": 200,
        "data.batch_size": 32,
        "model.depth": 3,
        "model.width": 16,
        "model.activation": "tanh",
        "model.init": "xavier_normal",
        "model.bias_init": "default",
        "probe.bins": 16,
        "probe.val_every": 1,
        "probe.every": 1,
    }
    return Spec().with_values({**base, **values})


def replay(trainer: Trainer):
    """The step the trainer is about to take, recomputed with plain torch ops on copies."""
    x, y = trainer._batch(peek=True)
    weights = [b.linear.weight.detach().clone().requires_grad_() for b in trainer.model.blocks]
    biases = [b.linear.bias.detach().clone().requires_grad_() for b in trainer.model.blocks]
    h, zs, acts = x, [], []
    for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
        z = h @ w.T + b
        a = torch.tanh(z) if i < len(weights) - 1 else z
        a.retain_grad()
        zs.append(z)
        acts.append(a)
        h = a
    loss = F.cross_entropy(h, y)
    loss.backward()
    with torch.no_grad():
        hv = trainer.data.x_val
        for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
            hv = hv @ w.T + b
            hv = torch.tanh(hv) if i < len(weights) - 1 else hv
        val_loss = F.cross_entropy(hv, trainer.data.y_val).item()
        val_acc = (hv.argmax(1) == trainer.data.y_val).float().mean().item()
    grads = [t.grad for t in weights + biases]
    grad_norm = math.sqrt(sum(float((_np(g) ** 2).sum()) for g in grads))
    accuracy = (h.argmax(1) == y).float().mean().item()
    return locals()


@pytest.mark.parametrize("norm_type", [1.0, 2.0, math.inf])
def test_the_gradient_norm_shown_is_the_l2_norm_before_clipping_whatever_the_clip_norm(norm_type):
    spec = tiny(**{"clip.mode": "norm", "clip.max_norm": 0.05, "clip.norm_type": norm_type})
    trainer = Trainer(spec)
    r = replay(trainer)
    frame = trainer.step()
    assert frame.clipped
    assert frame.grad_norm == pytest.approx(r["grad_norm"], rel=1e-5)
    after = math.sqrt(sum(float((_np(p.grad) ** 2).sum()) for p in trainer.params))
    assert frame.grad_norm_clipped == pytest.approx(after, rel=1e-5)


@pytest.mark.parametrize("clip", ["none", "norm", "value"])
@pytest.mark.usefixtures("paths")
def test_frame_equals_plain_torch_replay(clip):
    spec = tiny(**{"clip.mode": clip, "clip.max_norm": 0.05, "clip.clip_value": 1e-3})
    spec = spec.with_values({"probe.act_rows": 20, "optimizer.name": "momentum"})
    trainer = Trainer(spec)
    r = replay(trainer)
    frame = trainer.step()

    assert frame.step == 0 and frame.act_rows == 20
    assert frame.loss == pytest.approx(r["loss"].item(), rel=1e-5)
    assert frame.accuracy == pytest.approx(r["accuracy"], rel=1e-5)
    assert frame.val_loss == pytest.approx(r["val_loss"], rel=1e-5)
    assert frame.val_accuracy == pytest.approx(r["val_acc"], rel=1e-5)
    assert frame.grad_norm == pytest.approx(r["grad_norm"], rel=1e-5)
    assert frame.lr == spec.optimizer.lr
    after = [p.grad for p in trainer.params]
    clipped_norm = math.sqrt(sum(float((_np(g) ** 2).sum()) for g in after))
    assert frame.grad_norm_clipped == pytest.approx(clipped_norm, rel=1e-5)
    assert frame.clipped == (clip != "none")
    if clip == "none":
        assert frame.grad_norm_clipped == frame.grad_norm

    for i, layer in enumerate(frame.layers):
        act = "tanh" if i < 3 else "identity"
        w_before, w_grad = r["weights"][i], r["weights"][i].grad
        w_after = trainer.model.blocks[i].linear.weight
        a, z = r["acts"][i][:20], r["zs"][i][:20]
        want = expected_scalars(a, z, r["acts"][i].grad[:20], w_before, w_grad, w_after, act)
        for name in LAYER_SCALARS:
            assert_close(f"{layer.name}.{name}", getattr(layer, name), want[name])

        lo, hi = (-1.0, 1.0) if act == "tanh" else (a.min().item(), a.max().item())
        hist = layer.act_hist
        assert (hist.lo, hist.hi) == (lo, hi)
        np.testing.assert_array_equal(hist.counts, numpy_counts(_np(a), lo, hi, hist.edges))
        with np.errstate(divide="ignore"):
            logs = np.log10(np.abs(_np(w_grad)))
        assert (layer.grad_hist.lo, layer.grad_hist.hi) == GRAD_LOG_RANGE
        g_edges = layer.grad_hist.edges
        np.testing.assert_array_equal(
            layer.grad_hist.counts, numpy_counts(logs, *GRAD_LOG_RANGE, g_edges)
        )
        wh = layer.weight_hist
        assert (wh.lo, wh.hi) == (w_before.min().item(), w_before.max().item())
        np.testing.assert_array_equal(
            wh.counts, numpy_counts(_np(w_before), wh.lo, wh.hi, wh.edges)
        )


@pytest.mark.parametrize("norm", ["none", "batch"])
def test_activation_gradients_of_residual_blocks_match_autograd(norm):
    # A residual sum hands the same gradient to the block and to its skip, where the next
    # gradient is added: the kept gradient must still be dLoss/d(act) of this block alone.
    spec = tiny(**{"model.residual": True, "model.norm": norm, "model.norm_position": "post"})
    trainer = Trainer(spec)
    x, y = trainer._batch(peek=True)
    model = copy.deepcopy(trainer.model)
    outs = []
    for block in model.blocks:
        block.act.register_forward_hook(lambda _m, _i, out: outs.append(out))
    loss = F.cross_entropy(model(x), y)
    want = torch.autograd.grad(loss, outs)

    frame = trainer.step()
    for layer, g in zip(frame.layers, want, strict=True):
        assert layer.out_grad_norm == pytest.approx(float(np.linalg.norm(_np(g))), rel=1e-5)
        assert layer.out_grad_std == pytest.approx(float(np.std(_np(g), ddof=1)), rel=1e-5)


def test_step_zero_is_the_initial_network():
    trainer = Trainer(tiny())
    w0 = trainer.model.blocks[0].linear.weight.detach().clone()
    frame = trainer.step()
    assert frame.layers[0].weight_norm == pytest.approx(
        torch.linalg.vector_norm(w0).item(), rel=1e-6
    )
    assert not torch.equal(trainer.model.blocks[0].linear.weight, w0)  # the update happened after
    assert frame.layers[0].update_ratio > 0


def test_sampling_every_and_hist_every():
    trainer = Trainer(tiny(**{"probe.every": 2, "probe.hist_every": 4, "probe.val_every": 4}))
    frames = [trainer.step() for _ in range(9)]
    steps = [f.step for f in frames if f is not None]
    assert steps == [0, 2, 4, 6, 8]
    with_hist = [f.step for f in frames if f is not None and f.layers[0].act_hist is not None]
    assert with_hist == [0, 4, 8]
    with_val = [f.step for f in frames if f is not None and not math.isnan(f.val_loss)]
    assert with_val == [0, 4, 8]
    assert trainer.step(measure=True).step == 9


def _frames(spec: Spec, n: int):
    trainer = Trainer(spec)
    return [replace(trainer.step(), wall_time=0.0) for _ in range(n)]


def test_same_spec_and_seed_give_identical_frames():
    spec = tiny(**{"model.dropout": 0.2, "model.norm": "batch", "optimizer.name": "adam"})
    assert _frames(spec, 3) == _frames(spec, 3)
    assert _frames(spec, 2) != _frames(replace(spec, seed=1), 2)


def test_reset_restores_initial_weights_and_reseed_moves_on():
    trainer = Trainer(tiny())
    w0 = trainer.model.blocks[1].linear.weight.detach().clone()
    trainer.step()
    trainer.step()
    trainer.reset()
    assert trainer.step_count == 0
    assert torch.equal(trainer.model.blocks[1].linear.weight, w0)
    trainer.reseed()
    assert trainer.spec.seed == 1
    assert not torch.equal(trainer.model.blocks[1].linear.weight, w0)


def test_set_lr_and_clip_apply_from_the_next_step():
    trainer = Trainer(tiny())
    trainer.set_lr(0.5)
    trainer.set_clip("norm", 1e-4)
    frame = trainer.step()
    assert frame.lr == 0.5 and frame.clipped
    assert frame.grad_norm_clipped == pytest.approx(1e-4, rel=1e-3)
    with pytest.raises(SpecError, match="optimizer.lr"):
        trainer.set_lr(-1.0)
    with pytest.raises(SpecError, match="clip.mode"):
        trainer.set_clip("sometimes")


def test_non_finite_loss_skips_the_update_and_reports_it():
    trainer = Trainer(tiny(**{"probe.every": 5, "model.init": "normal", "model.init_std": 1.0}))
    trainer.step()
    with torch.no_grad():
        trainer.model.blocks[0].linear.weight[0, 0] = math.nan
    w = trainer.model.blocks[1].linear.weight.detach().clone()
    frame = trainer.step()  # step 1 is not sampled, yet it gets a frame
    assert frame is not None and frame.step == 1
    assert has_nonfinite(frame)
    assert "non-finite loss at step 1" in trainer.halted
    assert torch.equal(trainer.model.blocks[1].linear.weight, w)  # no update


def test_batchnorm_measured_in_train_mode_validated_in_eval_mode():
    trainer = Trainer(tiny(**{"model.norm": "batch", "model.depth": 2}))
    x, _ = trainer._batch(peek=True)
    blocks = trainer.model.blocks
    w, b = blocks[0].linear.weight.detach().clone(), blocks[0].linear.bias.detach().clone()
    # Eval mode at the initial weights: running statistics still 0 and 1, scale 1, shift 0.
    with torch.no_grad():
        h = trainer.data.x_val
        for block in blocks[:-1]:
            h = torch.tanh(block.linear(h) / math.sqrt(1 + block.norm.eps))
        want_val = F.cross_entropy(blocks[-1].linear(h), trainer.data.y_val).item()

    frame = trainer.step()

    # Train mode: L1's activation is tanh of the Linear output normalised by batch statistics.
    a = torch.tanh(F.batch_norm(x @ w.T + b, None, None, training=True, eps=1e-5))
    assert frame.layers[0].act_std == pytest.approx(float(np.std(_np(a), ddof=1)), rel=1e-5)
    assert frame.val_loss == pytest.approx(want_val, rel=1e-5)
    assert blocks[0].norm.num_batches_tracked.item() == 1  # validation did not touch them


def test_measure_changes_nothing():
    spec = tiny(**{"model.norm": "batch", "model.dropout": 0.3})
    a, b = Trainer(spec), Trainer(spec)
    forward_only = a.measure(backward=False)
    assert math.isnan(forward_only.layers[0].out_grad_std)
    assert not math.isnan(forward_only.layers[0].act_std)
    assert not math.isnan(a.measure().layers[0].weight_grad_norm)
    assert replace(a.step(), wall_time=0) == replace(b.step(), wall_time=0)


def test_bad_device_is_one_line():
    with pytest.raises(TrainingError, match=r"device = 'cuda:7'.*valid here: auto, cpu"):
        Trainer(tiny(device="cuda:7"))


def test_model_too_large_is_refused_before_allocating():
    spec = tiny(**{"model.width": 200_000, "model.depth": 100})
    with pytest.raises(TrainingError) as err:
        Trainer(spec)
    message = str(err.value)
    assert "\n" not in message and "model.width" in message and "GB" in message


def test_data_too_low_dimensional_is_a_spec_error():
    with pytest.raises(SpecError, match="data.dim = 1: spiral needs at least 2"):
        Trainer(tiny(**{"data.dim": 1}))
