"""The experiment as data: a frozen dataclass tree, loaded from and saved to TOML.

This module imports the standard library only, so the CLI starts fast and the UI can edit
specs without torch. The engine's registries implement exactly the choices named here.
"""

from __future__ import annotations

import dataclasses
import math
import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from tuigrad.errors import SpecError, SpecFileError

INITS = (
    "default",
    "zeros",
    "constant",
    "normal",
    "uniform",
    "xavier_uniform",
    "xavier_normal",
    "kaiming_uniform",
    "kaiming_normal",
    "orthogonal",
    "lecun_normal",
)
ACTIVATIONS = (
    "identity",
    "tanh",
    "sigmoid",
    "relu",
    "leaky_relu",
    "elu",
    "selu",
    "gelu",
    "silu",
)
NORMS = ("none", "batch", "layer", "group", "instance", "rms")
NORM_POSITIONS = ("pre", "post")
BIAS_INITS = ("zeros", "default")
FAN_MODES = ("fan_in", "fan_out")
OPTIMIZERS = ("sgd", "momentum", "nesterov", "adam", "adamw", "rmsprop", "adagrad")
SCHEDULES = ("constant", "warmup", "cosine", "warmup_cosine")
CLIP_MODES = ("none", "norm", "value")
CLASSIFICATION_DATA = ("spiral", "moons", "circles", "xor", "checkerboard", "blobs")
REGRESSION_DATA = ("sine", "teacher", "gaussian")
TWO_CLASS_DATA = ("moons", "xor")  # these have two classes whatever data.classes says
DATASETS = CLASSIFICATION_DATA + REGRESSION_DATA
DEVICE_PATTERN = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")

# Short names for the one-line layer summary shown in the dashboard.
INIT_ABBREV = {
    "default": "dflt",
    "zeros": "zero",
    "constant": "const",
    "normal": "N",
    "uniform": "U",
    "xavier_uniform": "xav_u",
    "xavier_normal": "xav_n",
    "kaiming_uniform": "kai_u",
    "kaiming_normal": "kai_n",
    "orthogonal": "orth",
    "lecun_normal": "lecun",
}
NORM_ABBREV = {
    "none": "",
    "batch": "BN",
    "layer": "LN",
    "group": "GN",
    "instance": "IN",
    "rms": "RMS",
}


def _choice(choices: tuple[str, ...]) -> dict[str, Any]:
    return {"choices": choices}


def _range(lo: float | None = None, hi: float | None = None, **kw: Any) -> dict[str, Any]:
    return {"lo": lo, "hi": hi, **kw}


@dataclass(frozen=True)
class LayerSpec:
    """One hidden block: Linear -> [Norm] -> Activation -> [Dropout], skip around if residual."""

    width: int = field(default=128, metadata=_range(1, 1 << 20))
    activation: str = field(default="tanh", metadata=_choice(ACTIVATIONS))
    leaky_slope: float = field(default=0.01, metadata=_range(0.0, 1.0))
    init: str = field(default="xavier_normal", metadata=_choice(INITS))
    init_std: float = field(default=0.01, metadata=_range(0.0, None))
    init_bound: float = field(default=0.1, metadata=_range(0.0, None))
    init_value: float = field(default=0.1, metadata=_range(None, None))
    init_gain: float = field(default=1.0, metadata=_range(0.0, None))
    init_mode: str = field(default="fan_in", metadata=_choice(FAN_MODES))
    bias_init: str = field(default="zeros", metadata=_choice(BIAS_INITS))
    bias_value: float = field(default=0.0, metadata=_range(None, None))
    norm: str = field(default="none", metadata=_choice(NORMS))
    norm_groups: int = field(default=8, metadata=_range(1, None))
    norm_position: str = field(default="pre", metadata=_choice(NORM_POSITIONS))
    residual: bool = False
    dropout: float = field(default=0.0, metadata=_range(0.0, 1.0, hi_open=True))

    def summary(self) -> str:
        """The layer in a few characters, e.g. `512 tanh xav_n BN res`."""
        init = INIT_ABBREV[self.init]
        if self.init == "normal":
            init = f"N({self.init_std:g})"
        elif self.init == "constant":
            init = f"={self.init_value:g}"
        parts = [str(self.width), self.activation.replace("leaky_relu", "lrelu"), init]
        parts += [NORM_ABBREV[self.norm]] if self.norm != "none" else []
        parts += ["res"] if self.residual else []
        parts += [f"do{self.dropout:g}"] if self.dropout else []
        return " ".join(parts)


LAYER_KEYS = tuple(f.name for f in fields(LayerSpec))


@dataclass(frozen=True)
class ModelSpec(LayerSpec):
    """Defaults for every hidden layer, the depth, and optional per-layer overrides."""

    depth: int = field(default=6, metadata=_range(1, 10_000))
    # One tuple of (key, value) pairs per hidden layer, in order; fewer than depth is fine.
    layers: tuple[tuple[tuple[str, Any], ...], ...] = ()

    def resolved(self) -> tuple[LayerSpec, ...]:
        """Every hidden layer with its overrides applied (worked out once per model)."""
        return self._resolved

    @cached_property
    def _resolved(self) -> tuple[LayerSpec, ...]:
        # NOTE: the diagnosis asks for one layer at a time, and building all of them for each
        # made a refresh quadratic in depth: 20 ms every tenth frame on 50 layers.
        base = LayerSpec(**{k: getattr(self, k) for k in LAYER_KEYS})
        out = []
        for i in range(self.depth):
            over = dict(self.layers[i]) if i < len(self.layers) else {}
            out.append(replace(base, **over))
        return tuple(out)

    def with_layers(self, layers: tuple[LayerSpec, ...] | list[LayerSpec]) -> ModelSpec:
        """This model with the given hidden layers, stored as overrides of the defaults."""
        base = LayerSpec(**{k: getattr(self, k) for k in LAYER_KEYS})
        overrides = []
        for layer in layers:
            diff = tuple(
                (k, getattr(layer, k)) for k in LAYER_KEYS if getattr(layer, k) != getattr(base, k)
            )
            overrides.append(diff)
        while overrides and not overrides[-1]:
            overrides.pop()
        return replace(self, depth=len(layers), layers=tuple(overrides))


@dataclass(frozen=True)
class DataSpec:
    """A synthetic data set generated from the seed."""

    name: str = field(default="spiral", metadata=_choice(DATASETS))
    dim: int = field(default=2, metadata=_range(1, 1 << 20))
    samples: int = field(default=4096, metadata=_range(8, 10_000_000))
    batch_size: int = field(default=256, metadata=_range(1, 1 << 20))
    classes: int = field(default=3, metadata=_range(2, 1000))
    noise: float = field(default=0.1, metadata=_range(0.0, None))
    val_fraction: float = field(default=0.2, metadata=_range(0.0, 1.0, hi_open=True))

    @property
    def is_classification(self) -> bool:
        return self.name in CLASSIFICATION_DATA

    @property
    def num_classes(self) -> int:
        """Classes the data set has: 2 for moons and xor, `classes` otherwise."""
        return 2 if self.name in TWO_CLASS_DATA else self.classes


@dataclass(frozen=True)
class OptimizerSpec:
    """The optimizer, its hyper-parameters and the learning-rate schedule."""

    name: str = field(default="sgd", metadata=_choice(OPTIMIZERS))
    lr: float = field(default=0.01, metadata=_range(0.0, 1e6, lo_open=True))
    momentum: float = field(default=0.0, metadata=_range(0.0, 1.0, hi_open=True))
    weight_decay: float = field(default=0.0, metadata=_range(0.0, None))
    beta1: float = field(default=0.9, metadata=_range(0.0, 1.0, hi_open=True))
    beta2: float = field(default=0.999, metadata=_range(0.0, 1.0, hi_open=True))
    eps: float = field(default=1e-8, metadata=_range(0.0, None, lo_open=True))
    schedule: str = field(default="constant", metadata=_choice(SCHEDULES))
    warmup_steps: int = field(default=100, metadata=_range(0, None))
    decay_steps: int = field(default=1000, metadata=_range(1, None))
    min_lr: float = field(default=0.0, metadata=_range(0.0, None))


@dataclass(frozen=True)
class ClipSpec:
    """Gradient clipping: none, by total norm (any p, inf included), or by value."""

    mode: str = field(default="none", metadata=_choice(CLIP_MODES))
    max_norm: float = field(default=1.0, metadata=_range(0.0, None, lo_open=True))
    norm_type: float = field(default=2.0, metadata=_range(0.0, None, lo_open=True, inf_ok=True))
    clip_value: float = field(default=1.0, metadata=_range(0.0, None, lo_open=True))


@dataclass(frozen=True)
class ProbeSpec:
    """How often the probe measures and how finely."""

    every: int = field(default=10, metadata=_range(1, None))
    # The step a run pauses or stops on is always measured, whatever `every` says.
    # Histograms cost most: by default every 50th step.
    hist_every: int = field(default=50, metadata=_range(0, None))  # 0: same as every
    bins: int = field(default=40, metadata=_range(4, 512))
    act_rows: int = field(default=0, metadata=_range(0, None))  # 0: the whole batch
    # A pass over the validation split costs about a training step (20 x 256: 32 ms against
    # 26): at every 100th step that was 1.2% of training, at every 250th it is 0.5%.
    val_every: int = field(default=250, metadata=_range(0, None))  # 0: never validate


@dataclass(frozen=True)
class Spec:
    """A whole experiment: what to build, what to train it on, and how to measure it."""

    title: str = "Untitled experiment"
    seed: int = field(default=0, metadata=_range(0, 2**63 - 1))
    device: str = "auto"
    description: str = ""
    look_at: str = ""
    expect: str = ""
    data: DataSpec = DataSpec()
    model: ModelSpec = ModelSpec()
    optimizer: OptimizerSpec = OptimizerSpec()
    clip: ClipSpec = ClipSpec()
    probe: ProbeSpec = ProbeSpec()

    def to_dict(self) -> dict[str, Any]:
        return _to_dict(self)

    def to_toml(self) -> str:
        return dumps(self)

    def with_values(self, assignments: dict[str, Any]) -> Spec:
        """This spec with dotted keys set (`{"optimizer.lr": 0.1}`), validated."""
        raw = self.to_dict()
        for key, value in assignments.items():
            _assign(raw, key, value)
        return from_dict(raw)

    def count_params(self) -> int:
        """Parameters of the model this spec builds, for the memory estimate."""
        width_in = self.data.dim
        total = 0
        for layer in self.model.resolved():
            total += width_in * layer.width + layer.width
            if layer.norm != "none":
                total += 2 * layer.width
            if layer.residual and width_in != layer.width:
                total += width_in * layer.width
            width_in = layer.width
        return total + width_in * self.output_dim + self.output_dim

    @property
    def output_dim(self) -> int:
        return self.data.num_classes if self.data.is_classification else 1


SECTIONS = {
    "data": DataSpec,
    "model": ModelSpec,
    "optimizer": OptimizerSpec,
    "clip": ClipSpec,
    "probe": ProbeSpec,
}


def _to_dict(obj: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(obj):
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            out[f.name] = _to_dict(value)
        elif f.name == "layers":
            out[f.name] = [dict(over) for over in value]
        else:
            out[f.name] = value
    return out


def _assign(raw: dict[str, Any], key: str, value: Any) -> None:
    parts = key.split(".")
    if len(parts) == 3 and parts[0] == "model" and parts[1].isdigit():
        # model.<i>.<key>: an override of hidden layer i (1-based, as L1...Ln on screen).
        index = int(parts[1]) - 1
        layers = raw["model"].setdefault("layers", [])
        depth = raw["model"].get("depth", ModelSpec.depth)
        if not 0 <= index < depth:
            raise SpecError(key, value, f"layer index must be 1..{depth}")
        layers.extend({} for _ in range(index + 1 - len(layers)))
        layers[index][parts[2]] = value
        return
    node = raw
    for part in parts[:-1]:
        if part not in SECTIONS or not isinstance(node.get(part), dict):
            raise SpecError(key, value, f"unknown section; valid: {', '.join(SECTIONS)}")
        node = node[part]
    node[parts[-1]] = value


def parse_assignment(text: str) -> tuple[str, Any]:
    """`optimizer.lr=0.1` -> ("optimizer.lr", 0.1); values are TOML, bare words are strings."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise SpecError("--set", text, "expected key=value, e.g. optimizer.lr=0.1")
    value = value.strip()
    try:
        return key, tomllib.loads(f"v = {value}")["v"]
    except tomllib.TOMLDecodeError:
        return key, value


def _check_value(key: str, value: Any, f: dataclasses.Field) -> Any:
    want = (
        f.type
        if isinstance(f.type, type)
        else {"int": int, "float": float, "bool": bool, "str": str}[f.type]
    )
    meta = f.metadata
    if want is float and isinstance(value, str) and value.lower() in ("inf", "infinity"):
        value = math.inf
    if want is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if want is int and isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, want) or (want is not bool and isinstance(value, bool)):
        raise SpecError(key, value, f"expected {want.__name__}")
    if "choices" in meta and value not in meta["choices"]:
        raise SpecError(key, value, f"valid choices: {', '.join(meta['choices'])}")
    if want in (int, float):
        _check_range(key, value, meta)
    return value


def _check_range(key: str, value: float, meta: Any) -> None:
    lo, hi = meta.get("lo"), meta.get("hi")
    if math.isnan(value) or (math.isinf(value) and not meta.get("inf_ok")):
        raise SpecError(key, value, "must be a finite number")
    too_low = lo is not None and (value < lo or (meta.get("lo_open") and value == lo))
    too_high = hi is not None and (value > hi or (meta.get("hi_open") and value == hi))
    if too_low or too_high:
        left = "(" if meta.get("lo_open") else "["
        right = ")" if meta.get("hi_open") else "]"
        lo_s = "-inf" if lo is None else f"{lo:g}"
        hi_s = "inf" if hi is None else f"{hi:g}"
        raise SpecError(key, value, f"allowed range {left}{lo_s}, {hi_s}{right}")


def _build(cls: type, raw: Any, prefix: str) -> Any:
    if not isinstance(raw, dict):
        raise SpecError(prefix, raw, "expected a table")
    known = {f.name: f for f in fields(cls)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        path = f"{prefix}.{key}" if prefix else key
        if key not in known:
            raise SpecError(path, value, f"unknown key; valid keys: {', '.join(known)}")
        f = known[key]
        if key in SECTIONS and not prefix:
            values[key] = _build(SECTIONS[key], value, key)
        elif key == "layers" and cls is ModelSpec:
            values[key] = _build_overrides(value, path)
        else:
            values[key] = _check_value(path, value, f)
    return cls(**values)


def _build_overrides(raw: Any, prefix: str) -> tuple[tuple[tuple[str, Any], ...], ...]:
    if not isinstance(raw, list):
        raise SpecError(prefix, raw, "expected an array of tables ([[model.layers]])")
    known = {f.name: f for f in fields(LayerSpec)}
    out = []
    for i, table in enumerate(raw):
        path = f"{prefix}[{i + 1}]"
        if not isinstance(table, dict):
            raise SpecError(path, table, "expected a table of layer keys")
        over = []
        for key, value in table.items():
            if key not in known:
                raise SpecError(
                    f"{path}.{key}", value, f"unknown layer key; valid: {', '.join(known)}"
                )
            over.append((key, _check_value(f"{path}.{key}", value, known[key])))
        out.append(tuple(sorted(over)))
    return tuple(out)


def _check_whole(spec: Spec) -> Spec:
    if not DEVICE_PATTERN.match(spec.device):
        raise SpecError("device", spec.device, "valid: auto, cpu, cuda, cuda:N, mps")
    if len(spec.model.layers) > spec.model.depth:
        raise SpecError(
            "model.layers",
            len(spec.model.layers),
            f"more layer tables than model.depth = {spec.model.depth}",
        )
    for i, layer in enumerate(spec.model.resolved(), start=1):
        if layer.norm == "group" and layer.width % layer.norm_groups:
            raise SpecError(
                f"model (layer L{i}).norm_groups",
                layer.norm_groups,
                f"must divide the layer width {layer.width}",
            )
    data = spec.data
    if data.batch_size > data.samples:
        raise SpecError(
            "data.batch_size", data.batch_size, f"must be at most data.samples = {data.samples}"
        )
    if data.name in ("sine",) and data.dim < 1:
        raise SpecError("data.dim", data.dim, "must be at least 1")
    return spec


def from_dict(raw: dict[str, Any]) -> Spec:
    """Validate a plain dict (as parsed from TOML) and build the spec."""
    return _check_whole(_build(Spec, raw, ""))


def loads(text: str, source: str = "<string>") -> Spec:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecFileError(f"{source}: not valid TOML: {exc}") from None
    return from_dict(raw)


def load(path: str | Path) -> Spec:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecFileError(f"{path}: no such file") from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as exc:
        raise SpecFileError(f"{path}: cannot read: {exc}") from None
    return loads(text, str(path))


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        if "\n" in value:
            return '"""\n' + value.replace("\\", "\\\\").replace('"""', '\\"""') + '"""'
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    raise TypeError(f"cannot write {value!r} as TOML")


def dumps(spec: Spec) -> str:
    """The spec as TOML; `loads(dumps(s)) == s` for every valid spec."""
    raw = spec.to_dict()
    lines = []
    for key, value in raw.items():
        if key not in SECTIONS:
            lines.append(f"{key} = {_toml_value(value)}")
    for section in SECTIONS:
        lines.append(f"\n[{section}]")
        layers = raw[section].pop("layers", None)
        lines += [f"{k} = {_toml_value(v)}" for k, v in raw[section].items()]
        for over in layers or []:
            lines.append("\n[[model.layers]]")
            lines += [f"{k} = {_toml_value(v)}" for k, v in over.items()]
    return "\n".join(lines) + "\n"


def save(spec: Spec, path: str | Path) -> None:
    Path(path).write_text(dumps(spec), encoding="utf-8")


def diff(a: Spec, b: Spec) -> list[tuple[str, Any, Any]]:
    """Dotted keys whose values differ between two specs, with both values."""
    flat_a, flat_b = _flatten(a.to_dict()), _flatten(b.to_dict())
    keys = list(dict.fromkeys([*flat_a, *flat_b]))
    return [(k, flat_a.get(k), flat_b.get(k)) for k in keys if flat_a.get(k) != flat_b.get(k)]


def _flatten(raw: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in raw.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, path + "."))
        elif key == "layers":
            for i, over in enumerate(value, start=1):
                out.update({f"{prefix}{i}.{k}": v for k, v in over.items()})
        else:
            out[path] = value
    return out
