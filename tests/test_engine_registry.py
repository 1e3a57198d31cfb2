"""Registries match the spec's choices exactly, and every entry builds and trains."""

import math

import pytest
import torch

from tests.specs import tiny as tiny_spec
from tuigrad import spec as specs
from tuigrad.engine import data, registry
from tuigrad.engine.layout import layer_infos
from tuigrad.engine.model import Net
from tuigrad.engine.trainer import Trainer
from tuigrad.frames import has_nonfinite
from tuigrad.spec import LayerSpec, Spec

torch.set_num_threads(1)


def tiny(**values) -> Spec:
    return tiny_spec(**{"data.dim": 4, "probe.val_every": 2, **values})


def trains_three_steps(spec: Spec) -> None:
    trainer = Trainer(spec)
    frames = [trainer.step() for _ in range(3)]
    assert [f.step for f in frames] == [0, 1, 2]
    assert not trainer.halted
    assert all(not has_nonfinite(f) for f in frames)
    names = [f"L{i}" for i in range(1, spec.model.depth + 1)] + ["head"]
    assert [layer.name for layer in frames[-1].layers] == names
    assert frames[-1].loss != frames[0].loss or spec.model.init == "zeros"


@pytest.mark.parametrize(
    ("registry_map", "choices"),
    [
        (registry.INITS, specs.INITS),
        (registry.ACTIVATIONS, specs.ACTIVATIONS),
        (registry.NORMS, specs.NORMS),
        (registry.OPTIMIZERS, specs.OPTIMIZERS),
        (registry.SCHEDULES, specs.SCHEDULES),
        (registry.OPTIMIZER_STATE, specs.OPTIMIZERS),
        (registry.KAIMING_NONLINEARITY, specs.ACTIVATIONS),
        (data.DATASETS, specs.DATASETS),
    ],
)
def test_registry_keys_equal_spec_choices(registry_map, choices):
    assert tuple(registry_map) == choices


@pytest.mark.parametrize("init", specs.INITS)
def test_every_init_trains(init):
    trains_three_steps(tiny(**{"model.init": init, "model.activation": "relu"}))


@pytest.mark.parametrize("activation", specs.ACTIVATIONS)
def test_every_activation_trains(activation):
    trains_three_steps(tiny(**{"model.activation": activation, "model.init": "kaiming_normal"}))


@pytest.mark.parametrize("position", specs.NORM_POSITIONS)
@pytest.mark.parametrize("norm", specs.NORMS)
def test_every_norm_trains(norm, position):
    values = {"model.norm": norm, "model.norm_position": position, "model.norm_groups": 4}
    trains_three_steps(tiny(**values))


@pytest.mark.parametrize("name", specs.OPTIMIZERS)
def test_every_optimizer_trains(name):
    trains_three_steps(tiny(**{"optimizer.name": name}))


@pytest.mark.parametrize("schedule", specs.SCHEDULES)
def test_every_schedule_trains(schedule):
    values = {"optimizer.schedule": schedule, "optimizer.warmup_steps": 2}
    trains_three_steps(tiny(**values, **{"optimizer.decay_steps": 4}))


@pytest.mark.parametrize("mode", specs.CLIP_MODES)
def test_every_clip_mode_trains(mode):
    trains_three_steps(tiny(**{"clip.mode": mode, "clip.norm_type": math.inf}))


@pytest.mark.parametrize("name", specs.DATASETS)
def test_every_dataset_trains(name):
    trains_three_steps(tiny(**{"data.name": name, "data.dim": 3}))


def test_residual_with_projection_dropout_and_overrides_trains():
    spec = tiny(**{"model.residual": True, "model.dropout": 0.1, "model.depth": 3})
    spec = spec.with_values({"model.3.width": 12, "model.2.activation": "gelu"})
    trains_three_steps(spec)
    net = Net(spec, torch.Generator().manual_seed(0), torch.Generator().manual_seed(1))
    assert net.blocks[0].proj is not None  # 4 -> 8
    assert net.blocks[1].proj is None  # 8 -> 8
    assert net.blocks[2].proj is not None  # 8 -> 12


def test_default_init_is_what_torch_linear_does():
    layer = LayerSpec(width=7, init="default", bias_init="default")
    torch.manual_seed(5)
    reference = torch.nn.Linear(11, 7)
    ours = torch.nn.Linear(11, 7)
    registry.init_linear(ours, layer, torch.Generator().manual_seed(5))
    assert torch.equal(ours.weight, reference.weight)
    assert torch.equal(ours.bias, reference.bias)


@pytest.mark.parametrize(
    ("activation", "mode", "want_std"),
    [
        ("relu", "fan_in", math.sqrt(2 / 400)),
        ("relu", "fan_out", math.sqrt(2 / 200)),
        ("tanh", "fan_in", (5 / 3) / math.sqrt(400)),
        ("leaky_relu", "fan_in", math.sqrt(2 / (1 + 0.2**2) / 400)),
        ("selu", "fan_in", math.sqrt(1 / 400)),
    ],
)
def test_kaiming_follows_the_layers_activation_and_fan_mode(activation, mode, want_std):
    layer = LayerSpec(init="kaiming_normal", activation=activation, init_mode=mode, leaky_slope=0.2)
    linear = torch.nn.Linear(400, 200)
    registry.init_linear(linear, layer, torch.Generator().manual_seed(0))
    assert linear.weight.std().item() == pytest.approx(want_std, rel=0.02)
    assert torch.count_nonzero(linear.bias) == 0


@pytest.mark.parametrize(
    ("init", "want_std"),
    [
        ("normal", 0.01),
        ("uniform", 0.1 / math.sqrt(3)),
        ("xavier_normal", math.sqrt(2 / 600)),
        ("xavier_uniform", math.sqrt(2 / 600)),
        ("lecun_normal", math.sqrt(1 / 400)),
        ("orthogonal", math.sqrt(1 / 400)),
    ],
)
def test_init_scales(init, want_std):
    linear = torch.nn.Linear(400, 200)
    registry.init_linear(linear, LayerSpec(init=init), torch.Generator().manual_seed(0))
    assert linear.weight.std().item() == pytest.approx(want_std, rel=0.03)


def test_schedules_shape_the_learning_rate():
    o = specs.OptimizerSpec(lr=1.0, warmup_steps=4, decay_steps=10, min_lr=0.1)
    assert [registry.SCHEDULES["warmup"](k, 1.0, o) for k in (0, 3, 9)] == [0.25, 1.0, 1.0]
    assert registry.SCHEDULES["cosine"](0, 1.0, o) == 1.0
    assert registry.SCHEDULES["cosine"](5, 1.0, o) == pytest.approx(0.55)
    assert registry.SCHEDULES["cosine"](50, 1.0, o) == pytest.approx(0.1)
    assert registry.SCHEDULES["warmup_cosine"](4, 1.0, o) == 1.0


@pytest.mark.parametrize("name", specs.DATASETS)
def test_datasets_are_reproducible_and_split(name):
    d = specs.DataSpec(name=name, dim=6, samples=100, val_fraction=0.2, classes=3)
    a, b = data.make_dataset(d, 4), data.make_dataset(d, 4)
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.y_val, b.y_val)
    assert a.x_train.shape == (80, 6) and a.x_val.shape == (20, 6)
    assert not torch.equal(a.x_train, data.make_dataset(d, 5).x_train)
    if d.is_classification:
        labels = torch.cat([a.y_train, a.y_val]).unique().tolist()
        assert labels == list(range(d.num_classes))
    else:
        assert a.y_train.shape == (80, 1)


def _distances(x: torch.Tensor) -> torch.Tensor:
    return (x[:, None, :] - x[None, :, :]).norm(dim=-1)


def test_embedding_keeps_distances():
    low = data.make_dataset(specs.DataSpec(name="moons", dim=2, samples=50), 0)
    high = data.make_dataset(specs.DataSpec(name="moons", dim=9, samples=50), 0)
    assert torch.equal(low.y_train, high.y_train)
    assert torch.allclose(_distances(low.x_train), _distances(high.x_train), atol=1e-5)


def test_layer_infos_name_every_monitored_layer():
    spec = tiny(**{"model.depth": 2, "data.dim": 3, "model.2.width": 5})
    infos = layer_infos(spec)
    assert [i.name for i in infos] == ["L1", "L2", "head"]
    assert [i.shape for i in infos] == [(8, 3), (5, 8), (3, 5)]
    assert infos[0].summary == spec.model.resolved()[0].summary()
    assert infos[-1].activation == "identity"
