"""A pass's per-layer statistics, written into one table as each layer runs, against numpy."""

import math

import numpy as np
import pytest
import torch

from tests.stats_oracle import (  # noqa: F401 - paths is a fixture
    _np,
    assert_close,
    expected_scalars,
    numpy_counts,
    paths,
)
from tuigrad.engine import native, stats
from tuigrad.engine.pass_table import PassTable
from tuigrad.frames import LAYER_SCALARS
from tuigrad.spec import ACTIVATIONS

BINS = 16
FORWARD, BACKWARD = LAYER_SCALARS[:6], LAYER_SCALARS[6:8]
ACTS = {
    "identity": lambda t: t,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "relu": torch.relu,
    "leaky_relu": lambda t: torch.nn.functional.leaky_relu(t, 0.01),
    "elu": torch.nn.functional.elu,
    "selu": torch.nn.functional.selu,
    "gelu": torch.nn.functional.gelu,
    "silu": torch.nn.functional.silu,
}


def _layer(activation: str, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(40, 24, generator=gen) * 2.0  # (rows, units)
    z[:, 5] = -torch.rand(40, generator=gen) - 0.1  # a unit that never fires
    return ACTS[activation](z), z, torch.randn(40, 24, generator=gen) * 1e-3


def _check_row(table: PassTable, i: int, a, z, og, activation: str) -> None:
    w = torch.arange(4.0).reshape(2, 2)  # the weight columns are not the table's: any will do
    want = expected_scalars(a, z, og, w, w, w, activation)
    forward, backward = table.forward(a)[i].tolist(), table.backward(a)[i].tolist()
    for name, got in zip(FORWARD + BACKWARD, forward + backward, strict=True):
        assert_close(name, got, want[name])
    lo, hi, *counts = table.act_hists(a)[i].tolist()
    if activation in stats.BOUNDED_RANGE:
        assert (lo, hi) == stats.BOUNDED_RANGE[activation]
    else:
        assert (lo, hi) == (a.min().item(), a.max().item())
    edges = np.linspace(lo, hi, BINS + 1)
    np.testing.assert_array_equal(counts, numpy_counts(_np(a), lo, hi, edges))


@pytest.mark.usefixtures("paths")
def test_each_layer_row_matches_numpy():
    table = PassTable(ACTIVATIONS, BINS)
    layers = [_layer(activation, seed) for seed, activation in enumerate(ACTIVATIONS)]
    for i, (a, z, og) in enumerate(layers):
        table.take_forward(i, a, z)
        table.take_backward(i, og)
    for i, ((a, z, og), activation) in enumerate(zip(layers, ACTIVATIONS, strict=True)):
        _check_row(table, i, a, z, og, activation)


def test_rows_native_c_cannot_take_are_taken_by_torch_in_the_same_table():
    # float64, and a transposed (non-contiguous) output: both go through stats.py.
    cases = [("tanh", lambda t: t), ("relu", torch.Tensor.double), ("gelu", lambda t: t)]
    table = PassTable([activation for activation, _ in cases], BINS)
    layers = []
    for i, (activation, cast) in enumerate(cases):
        a, z, og = _layer(activation, 10 + i)
        if i == 2:
            a, z = a.t().contiguous().t(), z  # same values, column-major
        a, z, og = cast(a), cast(z), cast(og)
        table.take_forward(i, a, z)
        table.take_backward(i, og)
        layers.append((a.float(), z.float(), og.float()))
    assert table.forward(layers[0][0]).dtype == torch.float32
    for i, ((a, z, og), (activation, _)) in enumerate(zip(layers, cases, strict=True)):
        _check_row(table, i, a, z, og, activation)


@pytest.mark.usefixtures("paths")
def test_layers_the_pass_did_not_reach_read_nan_with_empty_histograms():
    table = PassTable(("tanh", "relu"), BINS)
    a, z, og = _layer("tanh", 1)
    table.take_forward(0, a, z)  # layer 1 never ran; no backward at all
    assert torch.isfinite(table.forward(a)[0, :3]).all()  # tanh has no dead units: NaN
    assert torch.isnan(table.forward(a)[1]).all() and torch.isnan(table.backward(a)).all()
    hists = table.act_hists(a)
    assert hists[0, 2:].sum() == a.numel()
    assert math.isnan(hists[1, 0]) and math.isnan(hists[1, 1]) and hists[1, 2:].sum() == 0


def test_a_pass_through_native_c_gives_what_stats_gives_for_the_same_tensors():
    if native.library() is None:
        pytest.skip("no C compiler here: native.c is not built")
    a, z, og = _layer("sigmoid", 3)
    table = PassTable(("sigmoid",), BINS)
    table.take_forward(0, a, z)
    table.take_backward(0, og)
    scalars, hist = stats.forward_statistics(a, z, "sigmoid", BINS)
    same = {"rtol": 0, "atol": 0, "equal_nan": True}  # bit for bit; sigmoid has no dead units
    torch.testing.assert_close(table.forward(a)[0], scalars, **same)
    torch.testing.assert_close(table.act_hists(a)[0], hist, **same)
    torch.testing.assert_close(table.backward(a)[0], stats.backward_scalars(og, og), **same)
