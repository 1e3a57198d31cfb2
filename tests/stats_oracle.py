"""Independent computations of the probe's statistics, in numpy float64, for the tests."""

import math

import numpy as np
import pytest
import torch

from tuigrad.engine import native, stats


@pytest.fixture(params=["native", "host", "device"])
def paths(request, monkeypatch):
    """Every code path: the CPU's fused one (native.c), the CPU's in torch (reads values
    back), and the one other devices take."""
    if request.param == "native":
        if native.compiler() is None:
            pytest.skip("no C compiler here: native.c is not built")
        assert native.library() is not None, "native.c did not build"
    if request.param in ("host", "device"):
        monkeypatch.setattr(native, "library", lambda: None)
    if request.param == "device":
        monkeypatch.setattr(stats, "is_host", lambda t: False)
    return request.param


RELU_FAMILY = ("relu", "leaky_relu", "elu", "selu", "gelu", "silu")
RTOL = 1e-5


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().numpy().astype(np.float64)


def expected_scalars(a, z, og, w, g, w_after, activation):
    a, z, og, w, g, w_after = map(_np, (a, z, og, w, g, w_after))
    nan = math.nan
    saturated = {
        "tanh": np.mean(np.abs(a) > 0.97),
        "sigmoid": np.mean((a < 0.03) | (a > 0.97)),
    }.get(activation, nan)
    dead = np.mean(np.all(a <= 0, axis=0)) if activation in RELU_FAMILY else nan
    w_std = np.std(w, ddof=1)
    g_std = np.std(g, ddof=1)
    return {
        "act_mean": np.mean(a),
        "act_std": np.std(a, ddof=1),
        "act_saturated": saturated,
        "act_dead": dead,
        "unit_spread": np.mean(np.std(a, axis=1, ddof=1)),
        "preact_std": np.std(z, ddof=1),
        "out_grad_std": np.std(og, ddof=1),
        "out_grad_norm": np.sqrt(np.sum(og**2)),
        "weight_norm": np.sqrt(np.sum(w**2)),
        "weight_std": w_std,
        "weight_grad_norm": np.sqrt(np.sum(g**2)),
        "weight_grad_std": g_std,
        "grad_data_ratio": g_std / w_std,
        "update_ratio": np.std(w_after - w, ddof=1) / w_std,
    }


def assert_close(name, got, want, rtol=RTOL):
    if math.isnan(want):
        assert math.isnan(got), f"{name}: {got} should be NaN"
    else:
        assert got == pytest.approx(want, rel=rtol, abs=1e-9), name


def numpy_counts(values: np.ndarray, lo: float, hi: float, edges: np.ndarray) -> np.ndarray:
    # The convention: outside [lo, hi] counts in the end bins, NaN not at all.
    v = values[~np.isnan(values)]
    return np.histogram(np.clip(v, lo, hi), bins=edges)[0]
