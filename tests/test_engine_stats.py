"""Every statistic of tuigrad.engine.stats against numpy on the same tensors."""

import math

import numpy as np
import pytest
import torch

from tests.stats_oracle import (  # noqa: F401 - paths is a fixture
    RTOL,
    _np,
    assert_close,
    expected_scalars,
    numpy_counts,
    paths,
)
from tuigrad.engine import stats
from tuigrad.frames import GRAD_LOG_RANGE, LAYER_SCALARS
from tuigrad.spec import ACTIVATIONS

torch.set_num_threads(1)
BINS = 24


def _act(name: str, z: torch.Tensor) -> torch.Tensor:
    fns = {
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
    return fns[name](z)


@pytest.fixture
def tensors():
    gen = torch.Generator().manual_seed(7)
    z = torch.randn(64, 48, generator=gen) * 2.5
    z[:, 3] = -torch.rand(64, generator=gen) - 0.1  # a unit that never fires
    w = torch.randn(48, 32, generator=gen) * 0.2
    g = torch.randn(48, 32, generator=gen) * 1e-3
    g[0, :4] = 0.0  # exact zeros land in the first log bin
    w_after = w - 0.1 * g
    out_grad = torch.randn(64, 48, generator=gen) * 1e-2
    return z, w, g, w_after, out_grad


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.usefixtures("paths")
def test_scalars_match_numpy(tensors, activation):
    z, w, g, w_after, og = tensors
    a = _act(activation, z)
    got = stats.layer_scalars(a, z, og, w, g, w_after, activation).tolist()
    want = expected_scalars(a, z, og, w, g, w_after, activation)
    assert len(got) == len(LAYER_SCALARS)
    for name, value in zip(LAYER_SCALARS, got, strict=True):
        assert_close(name, value, want[name])


@pytest.mark.usefixtures("paths")
def test_saturation_and_dead_counts_are_exact():
    def saturated(a, activation):  # alone, and as forward_scalars (fused) takes it
        alone = stats.saturated_fraction(a, activation).item()
        assert stats.forward_scalars(a, a, activation)[2].item() == pytest.approx(alone)
        return alone

    def dead(a, activation):
        alone = stats.dead_fraction(a, activation).item()
        fused = stats.forward_scalars(a, a, activation)[3].item()
        assert fused == pytest.approx(alone, nan_ok=True)
        return alone

    a = torch.tensor([[0.98, -0.99, 0.5, 0.0], [0.1, -0.2, 0.97, -0.971]])
    assert saturated(a, "tanh") == pytest.approx(3 / 8)
    s = torch.tensor([[0.02, 0.98, 0.5], [0.03, 0.97, 0.971]])
    assert saturated(s, "sigmoid") == pytest.approx(3 / 6)
    r = torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 2.0]])
    assert dead(r, "relu") == pytest.approx(1 / 3)
    assert math.isnan(dead(r, "tanh"))


@pytest.mark.usefixtures("paths")
def test_unit_spread_is_zero_for_identical_units():
    a = torch.arange(5.0)[:, None].expand(5, 8).contiguous()  # units equal in each example
    assert stats.unit_spread(a).item() == 0.0
    assert stats.forward_scalars(a, a, "relu")[4].item() == 0.0
    assert math.isnan(stats.unit_spread(torch.ones(5, 1)).item())
    assert math.isnan(stats.forward_scalars(torch.ones(5, 1), None, "relu")[4].item())


@pytest.mark.usefixtures("paths")
def test_missing_tensors_give_nan():
    w = torch.randn(4, 3)
    got = dict(
        zip(
            LAYER_SCALARS,
            stats.layer_scalars(None, None, None, w, None, None, "tanh").tolist(),
            strict=True,
        )
    )
    assert got["weight_norm"] == pytest.approx(float(np.linalg.norm(_np(w))), rel=RTOL)
    for name in ("act_std", "out_grad_std", "weight_grad_norm", "update_ratio", "grad_data_ratio"):
        assert math.isnan(got[name]), name


# ---- histograms ----------------------------------------------------------------------------


def _hist(row: torch.Tensor):
    row = row.numpy()
    lo, hi, counts = row[0], row[1], row[2:]
    return lo, hi, counts, np.linspace(lo, hi, len(counts) + 1)


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.usefixtures("paths")
def test_act_histogram_matches_numpy(tensors, activation):
    z = tensors[0]
    a = _act(activation, z)
    lo, hi, counts, edges = _hist(stats.act_histogram(a, activation, BINS))
    if activation in stats.BOUNDED_RANGE:
        assert (lo, hi) == stats.BOUNDED_RANGE[activation]
    else:
        assert (lo, hi) == (a.min().item(), a.max().item())
    np.testing.assert_array_equal(counts, numpy_counts(_np(a), lo, hi, edges))
    assert counts.sum() == a.numel()


@pytest.mark.usefixtures("paths")
def test_grad_histogram_is_log10_magnitude(tensors):
    g = tensors[2]
    lo, hi, counts, edges = _hist(stats.grad_histogram(g, BINS))
    assert (lo, hi) == GRAD_LOG_RANGE
    with np.errstate(divide="ignore"):
        logs = np.log10(np.abs(_np(g)))
    np.testing.assert_array_equal(counts, numpy_counts(logs, lo, hi, edges))
    assert counts[0] >= 4  # the exact zeros


@pytest.mark.usefixtures("paths")
def test_grad_histogram_with_zeros_subnormals_and_non_finite_values_matches_numpy():
    g = torch.tensor([0.0, -0.0, 1e-40, -3e-45, 1e-21, 1e-19, -2e-3, 7e4, 1e6, math.inf,
                      -math.inf, math.nan] * 700)  # fmt: skip
    assert g[2].item() != 0  # a subnormal float32, not flushed to zero
    lo, hi, counts, edges = _hist(stats.grad_histogram(g, BINS))
    with np.errstate(divide="ignore"):
        logs = np.log10(np.abs(_np(g)))
    np.testing.assert_array_equal(counts, numpy_counts(logs, lo, hi, edges))
    assert counts[0] == 700 * 6 and counts[-1] == 700 * 4 and counts.sum() == g.numel() - 700


@pytest.mark.usefixtures("paths")
def test_weight_histogram_over_its_own_range(tensors):
    w = tensors[1]
    lo, hi, counts, edges = _hist(stats.weight_histogram(w, BINS))
    assert (lo, hi) == (w.min().item(), w.max().item())
    np.testing.assert_array_equal(counts, numpy_counts(_np(w), lo, hi, edges))


@pytest.mark.usefixtures("paths")
def test_histogram_counts_outside_values_at_the_ends_and_skips_nan():
    v = torch.tensor([-5.0, -1.0, 0.0, 0.999, 1.0, 3.0, math.inf, -math.inf, math.nan])
    lo, hi, counts, edges = _hist(stats.histogram(v, 4, -1.0, 1.0))
    np.testing.assert_array_equal(counts, [3, 0, 1, 4])
    np.testing.assert_array_equal(counts, numpy_counts(_np(v), lo, hi, edges))


@pytest.mark.usefixtures("paths")
def test_data_range_ignores_non_finite_and_widens_constants():
    def data_range(values):
        return tuple(float(x) for x in stats.data_range(torch.tensor(values)))

    assert data_range([2.0, math.nan, -3.0, math.inf]) == (-3.0, 2.0)
    assert data_range([0.0] * 10) == (-0.5, 0.5)
    assert data_range([0.25] * 3) == (-0.25, 0.75)
    assert data_range([math.nan, math.inf]) == (0.0, 1.0)


@pytest.mark.usefixtures("paths")
def test_random_histograms_agree_with_numpy():
    gen = torch.Generator().manual_seed(3)
    for trial in range(30):
        x = torch.randn(257, 31, generator=gen) * float(torch.rand((), generator=gen) * 5)
        lo, hi = stats.data_range(x)
        lo, hi, counts, edges = _hist(stats.histogram(x, 1 + trial, lo, hi))
        np.testing.assert_array_equal(counts, numpy_counts(_np(x), lo, hi, edges))


@pytest.mark.usefixtures("paths")
def test_measure_layer_round_trips_to_layer_stats(tensors):
    z, w, g, w_after, og = tensors
    a = torch.tanh(z)
    row = stats.measure_layer(a, z, og, w, g, w_after, "tanh", BINS)
    assert row.shape == (stats.N_SCALARS + 3 * (BINS + 2),)
    layer = stats.to_layer_stats("L1", row.numpy(), BINS)
    assert layer.act_std == pytest.approx(float(np.std(_np(a), ddof=1)), rel=RTOL)
    assert layer.act_hist.total == a.numel()
    assert layer.grad_hist.total == g.numel()
    assert layer.weight_hist.lo == w.min().item()
    bare = stats.to_layer_stats("L1", stats.measure_layer(a, z, og, w, g, None, "tanh").numpy())
    assert bare.act_hist is None and math.isnan(bare.update_ratio)


# ---- shapes beyond Linear layers, and totals ----------------------------------------------


def test_unit_rows_puts_channels_or_features_last():
    conv = torch.randn(2, 3, 4, 5)  # (batch, channels, height, width)
    rows = stats.unit_rows(conv, channel_dim=1)
    np.testing.assert_array_equal(rows.numpy(), np.moveaxis(conv.numpy(), 1, -1).reshape(-1, 3))
    seq = torch.randn(2, 7, 6)  # (batch, sequence, features)
    np.testing.assert_array_equal(stats.unit_rows(seq).numpy(), seq.numpy().reshape(14, 6))
    assert stats.unit_rows(torch.ones(5)).shape == (1, 5)


def test_conv_output_statistics_treat_channels_as_units():
    out = torch.relu(torch.randn(4, 3, 5, 5))
    out[:, 1] = 0.0  # a dead channel
    a = stats.unit_rows(out, channel_dim=1)
    got = dict(
        zip(
            LAYER_SCALARS,
            stats.layer_scalars(a, None, None, None, None, None, "relu").tolist(),
            strict=True,
        )
    )
    rows = np.moveaxis(out.numpy().astype(np.float64), 1, -1).reshape(-1, 3)
    assert got["act_dead"] == pytest.approx(1 / 3)
    assert got["unit_spread"] == pytest.approx(np.mean(np.std(rows, axis=1, ddof=1)), rel=RTOL)


@pytest.mark.usefixtures("paths")
def test_total_norm_over_tensors_of_any_shape():
    tensors = [torch.randn(3, 4), torch.randn(5), torch.randn(2, 3, 3, 3)]
    want = np.sqrt(sum(np.sum(_np(t) ** 2) for t in tensors))
    assert stats.total_norm(tensors, tensors[0]).item() == pytest.approx(want, rel=RTOL)
    assert math.isnan(stats.total_norm([], tensors[0]).item())
    # Norms taken already count as their tensors would.
    norms = torch.stack([torch.linalg.vector_norm(t) for t in tensors[1:]])
    partly = stats.total_norm(tensors[:1], tensors[0], norms).item()
    assert partly == pytest.approx(want, rel=RTOL)
    assert stats.total_norm([], tensors[0], norms).item() == pytest.approx(
        np.sqrt(sum(np.sum(_np(t) ** 2) for t in tensors[1:])), rel=RTOL
    )


@pytest.mark.usefixtures("paths")
def test_dead_fraction_with_nan_and_negative_zero_matches_numpy():
    a = torch.tensor([[0.0, -1.0, math.nan, 2.0], [-0.0, -2.0, -1.0, 0.0], [0.0, -3.0, -1.0, -1.0]])
    want = np.mean(np.all(a.numpy() <= 0, axis=0))  # units 0 and 1; NaN makes unit 2 alive
    assert stats.dead_fraction(a, "relu").item() == pytest.approx(want) == pytest.approx(0.5)
    assert stats.forward_scalars(a, None, "relu")[3].item() == pytest.approx(want)


@pytest.mark.parametrize("offset", [0.0, 0.005, 0.5, 100.0])
@pytest.mark.usefixtures("paths")
def test_std_and_norm_agree_with_numpy_whatever_the_mean(offset):
    # A large mean makes the one-pass formula cancel digits: the two-pass path takes over.
    x = torch.randn(300, 70, generator=torch.Generator().manual_seed(5)) * 0.01 + offset
    std, norm = stats.std_norm(x, x)
    want = x.numpy().astype(np.float64)
    assert std.item() == pytest.approx(np.std(want, ddof=1), rel=1e-5)
    assert norm.item() == pytest.approx(np.sqrt(np.sum(want**2)), rel=1e-5)


@pytest.mark.usefixtures("paths")
def test_each_std_and_norm_match_numpy_even_where_the_mean_dominates():
    gen = torch.Generator().manual_seed(5)
    x = torch.randn(3, 40, 50, generator=gen)
    x[1] += 1000.0  # the one-pass std would lose every digit here: two passes are used
    x[2] *= 1e-15
    flat = _np(x).reshape(3, -1)
    want = np.stack([flat.std(1, ddof=1), np.linalg.norm(flat, axis=1)], 1)
    each = stats.each_std_norm(list(x) + [None], x).numpy()
    np.testing.assert_allclose(each[:3], want, rtol=1e-5)
    assert np.isnan(each[3]).all()


@pytest.mark.usefixtures("paths")
def test_statistics_taken_in_two_threads_at_once_are_each_threads_own():
    # Temporaries are reused between calls: two trainers measuring at once must not share them.
    import threading

    gen = torch.Generator().manual_seed(3)
    inputs = [torch.randn(128, 96, generator=gen) * s for s in (0.5, 3.0)]
    want = [
        (stats.forward_scalars(a.tanh(), a, "tanh"), stats.grad_histogram(a * 1e-3, BINS))
        for a in inputs
    ]
    wrong = []

    def measure(i: int) -> None:
        a = inputs[i]
        for _ in range(1000):
            got = stats.forward_scalars(a.tanh(), a, "tanh"), stats.grad_histogram(a * 1e-3, BINS)
            same = (torch.allclose(g, w, rtol=0, atol=0, equal_nan=True) for g, w in zip(got, want[i], strict=True))  # fmt: skip
            if not all(same):
                wrong.append(i)

    threads = [threading.Thread(target=measure, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not wrong
