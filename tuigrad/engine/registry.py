"""The registries: one entry for every choice the spec names, keyed exactly as in tuigrad.spec.

Each registry maps a spec choice to a small function that builds the torch object. Tests check
that the keys equal the spec's choice tuples, so a choice cannot be offered without an entry.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor, nn

from tuigrad.spec import LayerSpec, OptimizerSpec

# The gain torch's kaiming init uses for each activation. SELU follows torch's advice (gain 1,
# i.e. LeCun scaling, keeps SELU self-normalizing); ELU, GELU and SiLU are treated as ReLU.
KAIMING_NONLINEARITY = {
    "identity": "linear",
    "tanh": "tanh",
    "sigmoid": "sigmoid",
    "relu": "relu",
    "leaky_relu": "leaky_relu",
    "elu": "relu",
    "selu": "linear",
    "gelu": "relu",
    "silu": "relu",
}


# ---- init: (weight, layer spec, generator) -> None, in place --------------------------------


def _fan_in(weight: Tensor) -> int:
    return weight.shape[1]


def _init_default(w: Tensor, layer: LayerSpec, gen: torch.Generator) -> None:
    # What torch.nn.Linear.reset_parameters does: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    nn.init.kaiming_uniform_(w, a=math.sqrt(5), generator=gen)


def _init_kaiming(uniform: bool) -> Callable[[Tensor, LayerSpec, torch.Generator], None]:
    def init(w: Tensor, layer: LayerSpec, gen: torch.Generator) -> None:
        nonlinearity = KAIMING_NONLINEARITY[layer.activation]
        slope = layer.leaky_slope if nonlinearity == "leaky_relu" else 0.0
        fn = nn.init.kaiming_uniform_ if uniform else nn.init.kaiming_normal_
        fn(w, a=slope, mode=layer.init_mode, nonlinearity=nonlinearity, generator=gen)

    return init


def _init_lecun(w: Tensor, layer: LayerSpec, gen: torch.Generator) -> None:
    nn.init.normal_(w, 0.0, layer.init_gain / math.sqrt(_fan_in(w)), generator=gen)


INITS: dict[str, Callable[[Tensor, LayerSpec, torch.Generator], None]] = {
    "default": _init_default,
    "zeros": lambda w, layer, gen: nn.init.zeros_(w),
    "constant": lambda w, layer, gen: nn.init.constant_(w, layer.init_value),
    "normal": lambda w, layer, gen: nn.init.normal_(w, 0.0, layer.init_std, generator=gen),
    "uniform": lambda w, layer, gen: nn.init.uniform_(
        w, -layer.init_bound, layer.init_bound, generator=gen
    ),
    "xavier_uniform": lambda w, layer, gen: nn.init.xavier_uniform_(
        w, layer.init_gain, generator=gen
    ),
    "xavier_normal": lambda w, layer, gen: nn.init.xavier_normal_(
        w, layer.init_gain, generator=gen
    ),
    "kaiming_uniform": _init_kaiming(uniform=True),
    "kaiming_normal": _init_kaiming(uniform=False),
    "orthogonal": lambda w, layer, gen: nn.init.orthogonal_(w, layer.init_gain, generator=gen),
    "lecun_normal": _init_lecun,
}


def init_linear(linear: nn.Linear, layer: LayerSpec, gen: torch.Generator) -> None:
    """Initialise a Linear's weight by `layer.init` and its bias by `layer.bias_init`."""
    with torch.no_grad():
        INITS[layer.init](linear.weight, layer, gen)
        if linear.bias is None:
            return
        if layer.bias_init == "default":
            bound = 1 / math.sqrt(_fan_in(linear.weight))
            nn.init.uniform_(linear.bias, -bound, bound, generator=gen)
        else:
            # "zeros" is a constant bias: 0 unless the spec gives bias_value.
            nn.init.constant_(linear.bias, layer.bias_value)


# ---- activations ---------------------------------------------------------------------------

ACTIVATIONS: dict[str, Callable[[LayerSpec], nn.Module]] = {
    "identity": lambda layer: nn.Identity(),
    "tanh": lambda layer: nn.Tanh(),
    "sigmoid": lambda layer: nn.Sigmoid(),
    "relu": lambda layer: nn.ReLU(),
    "leaky_relu": lambda layer: nn.LeakyReLU(layer.leaky_slope),
    "elu": lambda layer: nn.ELU(),
    "selu": lambda layer: nn.SELU(),
    "gelu": lambda layer: nn.GELU(),
    "silu": lambda layer: nn.SiLU(),
}


# ---- norms: (width, layer spec) -> module or None -----------------------------------------


class RMSNorm(nn.Module):
    """x / sqrt(mean(x^2) + eps) * weight, over the units of each example."""

    def __init__(self, width: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(width))

    def forward(self, x: Tensor) -> Tensor:
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class InstanceNorm(nn.Module):
    """torch's InstanceNorm1d on each example's units seen as a one-channel signal.

    A flat (batch, width) layer has no spatial axis, so each example is normalised over its
    own units, with one learned scale and shift.
    """

    def __init__(self) -> None:
        super().__init__()
        self.norm = nn.InstanceNorm1d(1, affine=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.norm(x.unsqueeze(1)).squeeze(1)  # (batch, 1, width) -> (batch, width)


NORMS: dict[str, Callable[[int, LayerSpec], nn.Module | None]] = {
    "none": lambda width, layer: None,
    "batch": lambda width, layer: nn.BatchNorm1d(width),
    "layer": lambda width, layer: nn.LayerNorm(width),
    "group": lambda width, layer: nn.GroupNorm(layer.norm_groups, width),
    "instance": lambda width, layer: InstanceNorm(),
    "rms": lambda width, layer: RMSNorm(width),
}


# ---- optimizers ----------------------------------------------------------------------------


def _momentum(opt: OptimizerSpec) -> float:
    # The momentum choices need a non-zero momentum; 0.9 when the spec leaves it at 0.
    return opt.momentum or 0.9


OPTIMIZERS: dict[str, Callable[[list[nn.Parameter], OptimizerSpec], torch.optim.Optimizer]] = {
    "sgd": lambda params, o: torch.optim.SGD(
        params, lr=o.lr, momentum=o.momentum, weight_decay=o.weight_decay
    ),
    "momentum": lambda params, o: torch.optim.SGD(
        params, lr=o.lr, momentum=_momentum(o), weight_decay=o.weight_decay
    ),
    "nesterov": lambda params, o: torch.optim.SGD(
        params, lr=o.lr, momentum=_momentum(o), nesterov=True, weight_decay=o.weight_decay
    ),
    "adam": lambda params, o: torch.optim.Adam(
        params, lr=o.lr, betas=(o.beta1, o.beta2), eps=o.eps, weight_decay=o.weight_decay
    ),
    "adamw": lambda params, o: torch.optim.AdamW(
        params, lr=o.lr, betas=(o.beta1, o.beta2), eps=o.eps, weight_decay=o.weight_decay
    ),
    "rmsprop": lambda params, o: torch.optim.RMSprop(
        params, lr=o.lr, eps=o.eps, momentum=o.momentum, weight_decay=o.weight_decay
    ),
    "adagrad": lambda params, o: torch.optim.Adagrad(
        params, lr=o.lr, eps=o.eps, weight_decay=o.weight_decay
    ),
}

# Optimizer state kept per parameter, in parameter-sized tensors (for the memory estimate).
OPTIMIZER_STATE = {
    "sgd": 1,
    "momentum": 1,
    "nesterov": 1,
    "adam": 2,
    "adamw": 2,
    "rmsprop": 2,
    "adagrad": 1,
}


# ---- learning-rate schedules: (step, base lr, optimizer spec) -> lr -------------------------


def _warmup(step: int, lr: float, o: OptimizerSpec) -> float:
    if o.warmup_steps == 0:
        return lr
    return lr * min(1.0, (step + 1) / o.warmup_steps)


def _cosine(step: int, lr: float, o: OptimizerSpec) -> float:
    t = min(step, o.decay_steps) / o.decay_steps
    return o.min_lr + (lr - o.min_lr) * 0.5 * (1.0 + math.cos(math.pi * t))


def _warmup_cosine(step: int, lr: float, o: OptimizerSpec) -> float:
    if step < o.warmup_steps:
        return _warmup(step, lr, o)
    return _cosine(step - o.warmup_steps, lr, o)


SCHEDULES: dict[str, Callable[[int, float, OptimizerSpec], float]] = {
    "constant": lambda step, lr, o: lr,
    "warmup": _warmup,
    "cosine": _cosine,
    "warmup_cosine": _warmup_cosine,
}
