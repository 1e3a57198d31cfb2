"""tuigrad.watch under mixed precision: unscaled gradients, and skipped steps counted, not drawn."""

import copy
import math

import pytest
import torch
from torch import nn

import tuigrad
from tests.watch_support import SmallCNN, cnn_batch
from tuigrad.runs import RunReader

torch.set_num_threads(1)


def amp_step(model, optimizer, scaler, x, y, poison=False):
    """The usual GradScaler loop: scaled backward, unscale, clip, step, update."""
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = nn.functional.cross_entropy(model(x), y)
    optimizer.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    if poison:  # an overflow the scaler must catch
        model.head.weight.grad[0, 0] = math.inf
    scaler.unscale_(optimizer)
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    scaler.step(optimizer)
    scaler.update()
    return loss


def test_gradients_are_reported_unscaled(tmp_path):
    torch.manual_seed(0)
    model = SmallCNN()
    plain = copy.deepcopy(model)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**12)
    x, y = cnn_batch(torch.Generator().manual_seed(1))
    with tuigrad.watch(model, opt, out=tmp_path / "amp.tuigrad", every=1, scaler=scaler) as w:
        amp_step(model, opt, scaler, x, y)

    # The same step without a scaler: a power-of-two scale cancels exactly.
    out_grads = {}

    def keep_grad(name, out):
        out.register_hook(lambda g: out_grads.__setitem__(name, g.detach().clone()))

    for name, module in plain.named_children():
        module.register_forward_hook(lambda m, a, out, name=name: keep_grad(name, out))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = nn.functional.cross_entropy(plain(x), y)
    loss.backward()
    grads = {n: m.weight.grad for n, m in plain.named_children() if hasattr(m, "weight")}
    total = math.sqrt(sum(float(p.grad.double().pow(2).sum()) for p in plain.parameters()))
    with RunReader(w.path) as reader:
        frame = reader.frame(0)
    assert frame.grad_norm == pytest.approx(total, rel=1e-5)
    assert frame.grad_norm_clipped == pytest.approx(min(total, 1.0), rel=1e-5)
    for name, grad in grads.items():
        layer = frame.layer(name)
        assert layer.weight_grad_norm == pytest.approx(grad.norm().item(), rel=1e-5)
        # dLoss/d(output) too is the unscaled loss's.
        out_grad = out_grads[name].double()
        assert layer.out_grad_norm == pytest.approx(out_grad.norm().item(), rel=1e-3)
        assert layer.out_grad_std == pytest.approx(out_grad.std().item(), rel=1e-3)


def test_skipped_steps_are_counted_and_the_next_step_is_measured(tmp_path):
    torch.manual_seed(0)
    model = SmallCNN()
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**12)
    gen = torch.Generator().manual_seed(1)
    with tuigrad.watch(model, opt, out=tmp_path / "skip.tuigrad", every=2, scaler=scaler) as w:
        for step in range(6):
            amp_step(model, opt, scaler, *cnn_batch(gen), poison=step == 2)
    assert scaler.get_scale() == 2.0**11  # the scaler did skip step 2
    assert w.skipped_steps == 1 and w.step == 6
    with RunReader(w.path) as reader:
        assert reader.steps == [0, 3, 4]
        assert reader.meta["skipped_steps"] == "1"
        assert all(math.isfinite(f.grad_norm) for f in reader.frames())
