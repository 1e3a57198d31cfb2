import math

import pytest

from tuigrad import spec as specs
from tuigrad.errors import SpecError, SpecFileError
from tuigrad.spec import Spec

CONTRACT = """
title = "Six tanh layers at N(0, 0.01)"
seed = 0
device = "auto"

[data]
name = "gaussian"
dim = 512
samples = 4096
batch_size = 256

[model]
depth = 6
width = 512
activation = "tanh"
init = "normal"
init_std = 0.01
bias_init = "zeros"
norm = "none"
norm_position = "pre"
residual = false
dropout = 0.0

[[model.layers]]
width = 256
activation = "relu"

[optimizer]
name = "sgd"
lr = 0.01
momentum = 0.0
weight_decay = 0.0

[clip]
mode = "none"
max_norm = 1.0

[probe]
every = 1
"""


def test_contract_spec_loads_with_overrides():
    spec = specs.loads(CONTRACT)
    layers = spec.model.resolved()
    assert len(layers) == 6
    assert (layers[0].width, layers[0].activation) == (256, "relu")
    assert (layers[1].width, layers[1].activation, layers[1].init_std) == (512, "tanh", 0.01)


def test_toml_round_trip_is_lossless():
    spec = specs.loads(CONTRACT).with_values({"clip.norm_type": math.inf, "title": 'a "b" \\ c'})
    again = specs.loads(specs.dumps(spec))
    assert again == spec
    assert again.clip.norm_type == math.inf


def test_with_values_sets_dotted_keys_and_layer_overrides():
    spec = Spec().with_values(
        {"model.init": "xavier_normal", "optimizer.lr": 0.1, "model.3.width": 7}
    )
    assert spec.model.init == "xavier_normal"
    assert spec.optimizer.lr == 0.1
    assert [layer.width for layer in spec.model.resolved()][:4] == [128, 128, 7, 128]


def test_with_layers_round_trips_resolved_layers():
    spec = specs.loads(CONTRACT)
    layers = list(spec.model.resolved())
    layers.insert(2, layers[0])
    model = spec.model.with_layers(layers)
    assert model.resolved() == tuple(layers)


@pytest.mark.parametrize(
    "key, value, words",
    [
        ("model.width", 0, "allowed range [1"),
        ("optimizer.lr", -0.1, "allowed range (0"),
        ("model.dropout", 1.5, "allowed range [0, 1)"),
        ("model.depth", 0, "allowed range [1"),
        ("model.activation", "tanhh", "valid choices: identity, tanh"),
        ("model.init", "xavier", "valid choices: default, zeros"),
        ("data.name", "mnist", "valid choices: spiral"),
        ("model.width", "wide", "expected int"),
        ("model.residual", 1, "expected bool"),
        ("model.colour", "red", "unknown key; valid keys: width"),
        ("device", "gpu", "valid: auto, cpu, cuda"),
    ],
)
def test_bad_values_name_key_value_and_choices(key, value, words):
    with pytest.raises(SpecError) as err:
        Spec().with_values({key: value})
    message = str(err.value)
    assert message.startswith(f"{key} = ")
    assert words in message
    assert "\n" not in message


def test_unparsable_toml_names_the_line(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('title = "x"\n[model\n')
    with pytest.raises(SpecFileError, match="line 2"):
        specs.load(path)


def test_missing_file_is_a_spec_file_error(tmp_path):
    with pytest.raises(SpecFileError, match="no such file"):
        specs.load(tmp_path / "nope.toml")


def test_parse_assignment_reads_toml_values_and_bare_words():
    assert specs.parse_assignment("optimizer.lr=0.1") == ("optimizer.lr", 0.1)
    assert specs.parse_assignment("model.init=xavier_normal") == ("model.init", "xavier_normal")
    assert specs.parse_assignment("model.residual=true") == ("model.residual", True)


def test_diff_lists_changed_keys():
    a = Spec()
    b = a.with_values({"optimizer.lr": 0.5, "model.2.width": 9})
    assert specs.diff(a, b) == [("optimizer.lr", 0.01, 0.5), ("model.2.width", None, 9)]


def test_resolved_layers_are_worked_out_once_per_model():
    # The diagnosis asks for one layer's spec at a time, for every layer of every rule.
    spec = Spec().with_values({"model.depth": 50, "model.3.activation": "relu"})
    layers = spec.model.resolved()
    assert spec.model.resolved() is layers
    assert [layer.activation for layer in layers[:4]] == ["tanh", "tanh", "relu", "tanh"]

    changed = spec.with_values({"model.activation": "gelu"})
    assert [layer.activation for layer in changed.model.resolved()[:4]] == [
        "gelu",
        "gelu",
        "relu",
        "gelu",
    ]
    assert changed.model != spec.model and spec.model.resolved() is layers
