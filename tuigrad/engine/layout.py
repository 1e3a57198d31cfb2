"""What the monitored layers of a spec are, worked out without torch.

Frame sources and the UI use this to name and describe layers before (or without) building
the model; the model builder uses `head_spec` so both agree.
"""

from __future__ import annotations

from dataclasses import replace

from tuigrad.frames import LayerInfo
from tuigrad.spec import LAYER_KEYS, LayerSpec, Spec


def head_spec(spec: Spec) -> LayerSpec:
    """The head as a layer: the model's default init; no activation, norm, skip or dropout."""
    defaults = LayerSpec(**{k: getattr(spec.model, k) for k in LAYER_KEYS})
    return replace(
        defaults,
        width=spec.output_dim,
        activation="identity",
        norm="none",
        residual=False,
        dropout=0.0,
    )


def layer_names(spec: Spec) -> tuple[str, ...]:
    return tuple(f"L{i}" for i in range(1, spec.model.depth + 1)) + ("head",)


def layer_infos(spec: Spec) -> tuple[LayerInfo, ...]:
    """What each monitored layer is, in model order (no torch needed to compute it)."""
    infos = []
    width_in = spec.data.dim
    layers = spec.model.resolved()
    for name, layer in zip(layer_names(spec), layers, strict=False):
        infos.append(LayerInfo(name, layer.summary(), (layer.width, width_in), layer.activation))
        width_in = layer.width
    head = head_spec(spec)
    infos.append(LayerInfo("head", head.summary(), (head.width, width_in), "identity"))
    return tuple(infos)
