"""The model a spec describes: hidden blocks L1..Ln and a head, each a monitored layer.

A block is Linear -> [Norm] -> Activation -> [Dropout] ("pre" norm, as in the course) or
Linear -> Activation -> [Norm] -> [Dropout] ("post"), with a skip around it when residual
(through a bias-free projection where the widths differ). When asked to capture, each block
keeps its Linear output and its activation output, and the latter's gradient after backward
(`out_grad`).
"""

from __future__ import annotations

from dataclasses import replace

import torch
from torch import Tensor, nn

from tuigrad.engine import registry
from tuigrad.engine.layout import head_spec
from tuigrad.spec import LayerSpec, Spec


class Dropout(nn.Module):
    """Inverted dropout drawing its mask from the trainer's generator, not torch's global one.

    A private generator keeps runs reproducible even when several trainers share a process.
    """

    def __init__(self, p: float, gen: torch.Generator) -> None:
        super().__init__()
        self.p = p
        self.gen = gen

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0:
            return x
        keep = torch.empty_like(x).bernoulli_(1 - self.p, generator=self.gen)
        return x * keep / (1 - self.p)


class Block(nn.Module):
    """One monitored layer: a hidden block, or the head (a Linear alone)."""

    def __init__(
        self,
        width_in: int,
        layer: LayerSpec,
        gen: torch.Generator,
        dropout_gen: torch.Generator | None = None,
        is_head: bool = False,
    ) -> None:
        super().__init__()
        self.layer = layer
        self.activation = "identity" if is_head else layer.activation
        self.linear = nn.utils.skip_init(nn.Linear, width_in, layer.width)
        registry.init_linear(self.linear, layer, gen)
        self.capture = False
        self.captured: tuple[Tensor, Tensor] | None = None  # (preact, act)
        self.out_grad: Tensor | None = None  # dLoss/d(act), after backward
        if is_head:
            self.norm, self.act, self.drop, self.proj = None, nn.Identity(), None, None
            self.residual = False
            return

        self.norm = registry.NORMS[layer.norm](layer.width, layer)
        self.act = registry.ACTIVATIONS[layer.activation](layer)
        self.drop = Dropout(layer.dropout, dropout_gen) if layer.dropout > 0 else None
        self.residual = layer.residual
        self.proj = None
        if layer.residual and width_in != layer.width:
            # The projection is initialised as torch's Linear would be, whatever the block's init.
            self.proj = nn.utils.skip_init(nn.Linear, width_in, layer.width, bias=False)
            registry.init_linear(self.proj, replace(layer, init="default"), gen)

    def forward(self, x: Tensor) -> Tensor:
        z = self.linear(x)  # (batch, width)
        pre = self.norm is not None and self.layer.norm_position == "pre"
        a = self.act(self.norm(z) if pre else z)
        out = a
        if self.norm is not None and not pre:
            out = self.norm(out)
        if self.drop is not None:
            out = self.drop(out)
        if self.residual:
            out = out + (self.proj(x) if self.proj is not None else x)

        if self.capture:
            self.out_grad = None
            if a.requires_grad:
                # NOTE: a hook keeps the gradient itself; retain_grad would keep a copy of it,
                # a full pass over the activations of every layer on each sampled step.
                # Autograd never adds into a gradient someone else still holds.
                a.register_hook(self._keep_out_grad)
            self.captured = (z, a)
        return out

    def _keep_out_grad(self, grad: Tensor) -> None:
        self.out_grad = grad


class Net(nn.Module):
    """Hidden blocks L1..Ln, then the head; `blocks` lists all n + 1 monitored layers."""

    def __init__(self, spec: Spec, gen: torch.Generator, dropout_gen: torch.Generator) -> None:
        super().__init__()
        blocks = []
        width_in = spec.data.dim
        for layer in spec.model.resolved():
            blocks.append(Block(width_in, layer, gen, dropout_gen))
            width_in = layer.width
        blocks.append(Block(width_in, head_spec(spec), gen, is_head=True))
        self.blocks = nn.ModuleList(blocks)
        self.capturing = False

    def forward(self, x: Tensor) -> Tensor:
        for block in self.blocks:
            x = block(x)
        return x

    def set_capture(self, on: bool) -> None:
        if not on and not self.capturing:
            return  # nothing kept: a plain step pays nothing here
        self.capturing = on
        for block in self.blocks:
            block.capture = on
            block.captured = block.out_grad = None
