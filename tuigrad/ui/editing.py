"""Spec edits as the builder makes them: typed text in, a validated Spec or a SpecError out.

No Textual here, so every edit the builder offers is testable on its own.
"""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

from tuigrad import spec as specs
from tuigrad.errors import SpecError
from tuigrad.spec import LayerSpec, Spec

# The parameter each init scheme reads, as (layer key, label); schemes without one are absent.
INIT_PARAMS = {
    "normal": ("init_std", "std"),
    "uniform": ("init_bound", "bound"),
    "constant": ("init_value", "value"),
    "xavier_uniform": ("init_gain", "gain"),
    "xavier_normal": ("init_gain", "gain"),
    "orthogonal": ("init_gain", "gain"),
}
# The threshold each clipping mode reads.
CLIP_PARAMS = {"norm": "clip.max_norm", "value": "clip.clip_value"}

_TYPES = {"int": int, "float": float, "bool": bool, "str": str}


def field_type(key: str) -> type:
    """The Python type of a dotted spec key (`optimizer.lr`) or a layer key (`width`)."""
    parts = key.split(".")
    cls: Any = LayerSpec if len(parts) == 1 and key in specs.LAYER_KEYS else Spec
    if len(parts) == 2:
        cls = specs.SECTIONS[parts[0]]
    name = parts[-1]
    for f in fields(cls):
        if f.name == name:
            return _TYPES[f.type] if isinstance(f.type, str) else f.type
    raise SpecError(key, None, "unknown key")


def parse(key: str, text: str | bool) -> Any:
    """Text typed into a field, as the type the spec wants; SpecError if it is not one."""
    want = field_type(key)
    if want is bool or want is str or not isinstance(text, str):
        return text
    text = text.strip()
    try:
        if want is int:
            number = float(text)
            if not number.is_integer():
                raise ValueError(text)
            return int(number)
        return float(text)
    except ValueError:
        kind = "a whole number" if want is int else "a number, e.g. 0.01 or 1e-3"
        raise SpecError(key, text, f"expected {kind}") from None


def set_value(spec: Spec, key: str, value: Any) -> Spec:
    """The spec with one dotted key set, validated as a whole."""
    return spec.with_values({key: value})


def set_layer_value(spec: Spec, index: int, key: str, value: Any) -> Spec:
    """The spec with `key` of hidden layer `index` (0-based) set, validated as a whole."""
    layers = list(spec.model.resolved())
    layers[index] = replace(layers[index], **{key: value})
    return with_layers(spec, layers)


def with_layers(spec: Spec, layers: list[LayerSpec]) -> Spec:
    """The spec with this hidden-layer stack, validated (at least one layer)."""
    if not layers:
        raise SpecError("model.depth", 0, "a model needs at least one hidden layer")
    candidate = replace(spec, model=spec.model.with_layers(layers))
    return specs.from_dict(candidate.to_dict())


def insert_layer(spec: Spec, index: int, layer: LayerSpec | None = None) -> Spec:
    """A layer (default: the model's defaults) inserted at `index`."""
    layers = list(spec.model.resolved())
    if layer is None:
        layer = LayerSpec(**{k: getattr(spec.model, k) for k in specs.LAYER_KEYS})
    layers.insert(index, layer)
    return with_layers(spec, layers)


def remove_layer(spec: Spec, index: int) -> Spec:
    layers = list(spec.model.resolved())
    del layers[index]
    return with_layers(spec, layers)


def move_layer(spec: Spec, index: int, offset: int) -> Spec:
    layers = list(spec.model.resolved())
    target = index + offset
    if not 0 <= target < len(layers):
        return spec
    layers[index], layers[target] = layers[target], layers[index]
    return with_layers(spec, layers)
