"""What the rules know besides the frames: which layers are hidden, their activations, the spec.

Also the fixes: each rule asks here for the spec change that cures its problem, chosen from
the activation, init, depth and optimizer the spec describes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tuigrad.diagnosis.thresholds import THRESHOLDS, Thresholds
from tuigrad.frames import LayerInfo
from tuigrad.spec import LayerSpec, Spec

RELU_FAMILY = ("relu", "leaky_relu", "elu", "gelu", "silu")
BOUNDED = ("tanh", "sigmoid")
# The init whose variance argument matches each activation: Xavier keeps variance for
# activations with slope 1 at 0 (tanh, identity), Kaiming doubles it back for ReLU's halving.
SUITED_INIT = {"selu": "lecun_normal", **{a: "kaiming_normal" for a in RELU_FAMILY}}
# Optimizers that divide each weight's step by a running size of its own gradient.
ADAPTIVE = ("adam", "adamw", "rmsprop", "adagrad")
# Inits that follow a variance argument: small-std or constant inits do not.
SCALED_INITS = (
    "xavier_normal",
    "xavier_uniform",
    "kaiming_normal",
    "kaiming_uniform",
    "orthogonal",
    "lecun_normal",
)


def suited_init(activation: str) -> str:
    return SUITED_INIT.get(activation, "xavier_normal")


@dataclass(frozen=True)
class Context:
    """The layers being diagnosed and the experiment behind them (spec is None for user models)."""

    names: tuple[str, ...]
    activations: tuple[str, ...]
    widths: tuple[int, ...]
    hidden: np.ndarray  # (layers,) bool: False for the head
    spec: Spec | None
    limits: Thresholds

    @staticmethod
    def build(
        layers: Sequence[LayerInfo], spec: Spec | None = None, limits: Thresholds = THRESHOLDS
    ) -> Context:
        names = tuple(layer.name for layer in layers)
        hidden = np.array(
            [not _is_head(i, layer, layers) for i, layer in enumerate(layers)], dtype=bool
        )
        widths = tuple(int(layer.shape[0]) if layer.shape else 0 for layer in layers)
        acts = tuple(layer.activation for layer in layers)
        return Context(names, acts, widths, hidden, spec, limits)

    def layer_spec(self, name: str) -> LayerSpec | None:
        """The spec of hidden layer `Li`, when there is a spec and the name is numbered."""
        if self.spec is None or not (name[:1] == "L" and name[1:].isdigit()):
            return None
        resolved = self.spec.model.resolved()
        i = int(name[1:]) - 1
        return resolved[i] if 0 <= i < len(resolved) else None

    def main_activation(self, names: Sequence[str]) -> str:
        """The most common activation among the named layers."""
        acts = [self.activations[self.names.index(n)] for n in names if n in self.names]
        return max(set(acts), key=acts.count) if acts else "identity"

    @property
    def depth(self) -> int:
        return int(self.hidden.sum())

    @property
    def lr(self) -> float:
        return self.spec.optimizer.lr if self.spec else math.nan

    def is_adaptive(self) -> bool:
        """True when the optimizer scales each weight's step by its own gradient history."""
        return self.spec is not None and self.spec.optimizer.name in ADAPTIVE

    def are_residual(self, names: Sequence[str]) -> bool:
        """True when every named layer has a skip connection around it."""
        specs = [self.layer_spec(n) for n in names]
        return bool(specs) and all(s is not None and s.residual for s in specs)

    def has_structure(self) -> bool:
        """True when the spec already has residual connections or normalisation."""
        if self.spec is None:
            return False
        return any(s.residual or s.norm != "none" for s in self.spec.model.resolved())

    def set_layers(self, key: str, value: Any, names: Sequence[str] = ()) -> dict[str, Any]:
        """{"model.key": value}, plus `model.i.key` for named layers that override the key."""
        fix: dict[str, Any] = {f"model.{key}": value}
        if self.spec is None:
            return fix
        for i, over in enumerate(self.spec.model.layers, start=1):
            if key in dict(over) and (not names or f"L{i}" in names):
                fix[f"model.{i}.{key}"] = value
        return fix

    def init_fix(self, names: Sequence[str]) -> dict[str, Any]:
        """The variance-preserving init for the named layers' activation."""
        return self.set_layers("init", suited_init(self.main_activation(names)), names)

    def has_suited_init(self, names: Sequence[str]) -> bool:
        """True when every named layer already uses an init made for its activation."""
        specs = [self.layer_spec(n) for n in names]
        if not specs or any(s is None for s in specs):
            return False
        return all(s.init == suited_init(s.activation) or s.init == "orthogonal" for s in specs)

    def structure_fix(self) -> dict[str, Any]:
        """Residual connections for deep plain nets, else normalisation."""
        if self.spec is not None and not any(s.residual for s in self.spec.model.resolved()):
            if self.depth >= 8:
                return self.set_layers("residual", True)
        return self.set_layers("norm", "batch")

    def lr_fix(self, factor: float) -> dict[str, Any]:
        """The learning rate scaled by `factor`, rounded to one significant digit."""
        if self.spec is None:
            return {}
        return {"optimizer.lr": round_lr(self.spec.optimizer.lr * factor)}

    def clip_fix(self) -> dict[str, Any]:
        """Clip by norm when no clipping is on; otherwise a ten times smaller step."""
        if self.spec is None or self.spec.clip.mode == "none":
            return {"clip.mode": "norm", "clip.max_norm": 1.0}
        return self.lr_fix(0.1)


def round_lr(lr: float) -> float:
    """One significant digit, kept inside the spec's allowed range."""
    if not math.isfinite(lr) or lr <= 0:
        return 1e-3
    return min(max(float(f"{lr:.1g}"), 1e-8), 10.0)


def _is_head(i: int, layer: LayerInfo, layers: Sequence[LayerInfo]) -> bool:
    if any(x.name == "head" for x in layers):
        return layer.name == "head"
    return i == len(layers) - 1 and layer.activation == "identity" and len(layers) > 1
