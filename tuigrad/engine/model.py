"""The model a spec describes: hidden blocks L1..Ln and a head, each a monitored layer.

A block is Linear -> [Norm] -> Activation -> [Dropout] ("pre" norm, as in the course) or
Linear -> Activation -> [Norm] -> [Dropout] ("post"), with a skip around it when residual
(through a bias-free projection where the widths differ). When asked to measure, each block
takes the statistics of its Linear output and of its activation output as it runs, and those
of the activation's gradient as backward reaches it: while each is still in the cache, and
without keeping any of them alive past its use.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from torch import Tensor, nn

from tuigrad.engine import registry
from tuigrad.engine.layout import head_spec
from tuigrad.engine.pass_table import PassTable
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


@dataclass
class Measuring:
    """What the blocks of a net measure in their next passes (one object, shared by them).

    NOTE: a plain object, not attributes of each module: nn.Module's __setattr__ costs a few
    microseconds a call, which added up to a good part of a sampled step's bookkeeping.
    """

    on: bool = False
    rows: int = 0  # the first `rows` rows of the batch (0: all of them)
    table: PassTable | None = None  # where the blocks' statistics go


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
        self.measuring = Measuring()  # replaced by the net's own, shared by its blocks
        self.index = 0  # the block's row in the net's measurements
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

        if self.measuring.on:
            self._measure_forward(z, a)
            if a.requires_grad:
                a.register_hook(self._measure_backward)
        return out

    def _first_rows(self, t: Tensor) -> Tensor:
        rows = self.measuring.rows
        return t[:rows] if rows and rows < len(t) else t

    def _measure_forward(self, z: Tensor, a: Tensor) -> None:
        self.measuring.table.take_forward(self.index, self._first_rows(a), self._first_rows(z))

    def _measure_backward(self, grad: Tensor) -> None:
        # dLoss/d(act), as backward reaches it; it is left as it is and not kept.
        self.measuring.table.take_backward(self.index, self._first_rows(grad))


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
        self.measuring = Measuring()
        for i, block in enumerate(blocks):
            block.measuring, block.index = self.measuring, i

    def forward(self, x: Tensor) -> Tensor:
        for block in self.blocks:
            x = block(x)
        return x

    def set_measuring(self, on: bool, rows: int = 0, bins: int = 0) -> None:
        """Measure the next passes (the first `rows` rows; activation histograms of `bins`)
        into a new `measuring.table`."""
        m = self.measuring
        if not on and not m.on:
            return  # a plain step pays nothing here
        m.on, m.rows = on, rows
        m.table = PassTable([b.activation for b in self.blocks], bins) if on else None
