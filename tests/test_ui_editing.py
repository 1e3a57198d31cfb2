"""Builder edits as pure functions: typed text in, a validated spec or a reason out."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tuigrad import spec as specs
from tuigrad.errors import SpecError
from tuigrad.spec import LayerSpec, Spec
from tuigrad.ui import editing


def _stack(spec: Spec) -> list[tuple[int, str]]:
    return [(layer.width, layer.activation) for layer in spec.model.resolved()]


def test_parse_by_field_type():
    assert editing.parse("width", " 64 ") == 64
    assert editing.parse("width", "1e2") == 100
    assert editing.parse("optimizer.lr", "1e-3") == 0.001
    assert editing.parse("dropout", ".5") == 0.5
    assert editing.parse("seed", "7") == 7
    assert editing.parse("device", "cpu") == "cpu"
    assert editing.parse("residual", True) is True


@pytest.mark.parametrize(
    ("key", "text"), [("width", "12.5"), ("width", "wide"), ("optimizer.lr", "fast")]
)
def test_parse_rejects_what_is_not_a_number(key, text):
    with pytest.raises(SpecError) as err:
        editing.parse(key, text)
    assert "expected" in err.value.allowed and err.value.key == key


def test_layer_edit_changes_only_that_layer():
    spec = Spec().with_values({"model.depth": 3})
    new = editing.set_layer_value(spec, 1, "width", 32)
    assert _stack(new) == [(128, "tanh"), (32, "tanh"), (128, "tanh")]
    assert specs.loads(new.to_toml()) == new  # round-trips through TOML


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        ("width", 0, "allowed range"),
        ("dropout", 1.0, "allowed range"),
        ("activation", "swish", "valid choices"),
    ],
)
def test_invalid_layer_values_raise_with_the_reason(key, value, reason):
    with pytest.raises(SpecError) as err:
        editing.set_layer_value(Spec(), 0, key, value)
    assert reason in err.value.allowed


def test_cross_field_checks_reach_the_edit():
    spec = Spec().with_values({"data.samples": 300, "data.batch_size": 100})
    with pytest.raises(SpecError) as err:
        editing.set_value(spec, "data.batch_size", 500)
    assert err.value.key == "data.batch_size" and "at most" in err.value.allowed


def test_stack_edits():
    spec = editing.set_layer_value(Spec().with_values({"model.depth": 2}), 0, "width", 16)
    added = editing.insert_layer(spec, 1)
    assert _stack(added) == [(16, "tanh"), (128, "tanh"), (128, "tanh")]
    dup = editing.insert_layer(spec, 1, spec.model.resolved()[0])
    assert _stack(dup) == [(16, "tanh"), (16, "tanh"), (128, "tanh")]
    moved = editing.move_layer(spec, 0, 1)
    assert _stack(moved) == [(128, "tanh"), (16, "tanh")]
    assert editing.move_layer(spec, 0, -1) == spec  # nothing above the first layer
    removed = editing.remove_layer(spec, 0)
    assert _stack(removed) == [(128, "tanh")] and removed.model.depth == 1
    with pytest.raises(SpecError):
        editing.remove_layer(removed, 0)


def test_with_layers_stores_overrides_only():
    base = Spec()
    layers = [replace(LayerSpec(), width=8), LayerSpec()]
    spec = editing.with_layers(base, layers)
    assert spec.model.layers == ((("width", 8),),)
    assert spec.model.resolved()[0].width == 8 and spec.model.resolved()[1].width == 128


def test_init_and_clip_parameters_name_real_keys():
    for init, (key, _) in editing.INIT_PARAMS.items():
        assert init in specs.INITS and key in specs.LAYER_KEYS
    for mode, key in editing.CLIP_PARAMS.items():
        assert mode in specs.CLIP_MODES and editing.field_type(key) is float
