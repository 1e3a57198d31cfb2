"""The fused C statistics (tuigrad.engine.native): built on first use, checked against numpy,
and left out cleanly where they cannot be built."""

import math
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from tests.stats_oracle import _np, numpy_counts
from tuigrad.engine import native, stats
from tuigrad.frames import GRAD_LOG_RANGE

pytestmark = pytest.mark.skipif(native.compiler() is None, reason="no C compiler here")

BINS = 40


def test_the_library_is_built_and_measures_host_float32_tensors():
    assert native.library() is not None
    assert stats.is_fused(torch.ones(3))
    assert not stats.is_fused(torch.ones(4, 4).t())  # not contiguous: torch takes it
    assert not stats.is_fused(torch.ones(3, dtype=torch.float64))


def _in_subprocess(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
        env={**os.environ, **env},
    )  # fmt: skip


CHECK = """
import logging, math, torch
logging.basicConfig(level=logging.WARNING, format="%(message)s")
from tuigrad.engine import native, stats
x = torch.arange(10.0)
print(native.library() is None, round(stats.std_norm(x, x)[0].item(), 6))
"""


def test_without_a_working_compiler_statistics_come_from_torch(tmp_path):
    done = _in_subprocess(CHECK, CC="false", TUIGRAD_CACHE=str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", str(round(float(np.std(np.arange(10), ddof=1)), 6))]
    assert "could not build" in done.stderr and "Traceback" not in done.stderr
    assert not list(tmp_path.glob("*.so"))  # nothing half-built is left behind


def test_tuigrad_native_0_turns_it_off(tmp_path):
    done = _in_subprocess(CHECK, TUIGRAD_NATIVE="0", TUIGRAD_CACHE=str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[0] == "True"


def test_a_cache_folder_that_cannot_be_made_falls_back_to_the_temporary_folder(tmp_path):
    (tmp_path / "file").write_text("")
    temp = tmp_path / "tmp"
    temp.mkdir()
    done = _in_subprocess(CHECK, TUIGRAD_CACHE=str(tmp_path / "file" / "cache"), TMPDIR=str(temp))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[0] == "False"
    assert len(list(temp.glob("tuigrad-*/native-*.so"))) == 1


def test_a_build_is_kept_in_the_cache_folder_and_reused(tmp_path):
    first = _in_subprocess(CHECK, TUIGRAD_CACHE=str(tmp_path))
    built = list(tmp_path.glob("native-*.so"))
    assert first.stdout.split()[0] == "False" and len(built) == 1
    stamp = built[0].stat().st_mtime_ns
    _in_subprocess(CHECK, TUIGRAD_CACHE=str(tmp_path))
    assert [p.stat().st_mtime_ns for p in tmp_path.glob("native-*.so")] == [stamp]


def test_magnitudes_on_either_side_of_every_bin_edge_land_in_the_right_bin():
    # The float32 at or just above each edge 10^e opens bin k; the one just below is in k - 1.
    lo, hi = GRAD_LOG_RANGE
    exact = 10.0 ** (lo + np.arange(1, BINS) * ((hi - lo) / BINS))
    at = exact.astype(np.float32)
    at[at.astype(np.float64) < exact] = np.nextafter(at[at < exact], np.float32(np.inf))
    below = np.nextafter(at, np.float32(0))
    values = torch.from_numpy(np.concatenate([at, -below]))
    counts = native.magnitude_histogram(values, BINS, lo, hi)
    logs = np.log10(np.abs(values.numpy().astype(np.float64)))
    np.testing.assert_array_equal(counts, numpy_counts(logs, lo, hi, np.linspace(lo, hi, BINS + 1)))
    assert counts[0] == 1 and counts[-1] == 1 and (counts[1:-1] == 2).all()


# The default range, others whose bins are estimated from the bits (up to 16.7 bins a decade,
# 63 bins), and one with too many bins for that (looked up).
@pytest.mark.parametrize(
    ("lo", "hi", "bins"),
    [
        (*GRAD_LOG_RANGE, BINS),
        (-30.0, 10.0, 40),
        (-8.0, 0.0, 63),
        (-3.0, 0.0, 50),
        (-20.0, 5.0, 100),
    ],
)
def test_magnitudes_across_every_binary_exponent_land_in_the_right_bins(lo, hi, bins):
    # Every 4099th float32 bit pattern from zero to infinity: about 520,000 magnitudes, some
    # in every binade, subnormals included, each sign, and a NaN.
    bits = np.arange(0, 0x7F800001, 4099, dtype=np.uint32)
    values = np.concatenate([bits.view(np.float32), -bits[::7].view(np.float32), [np.nan]])
    with np.errstate(divide="ignore"):
        logs = np.log10(np.abs(values.astype(np.float64)))
    want = numpy_counts(logs, lo, hi, np.linspace(lo, hi, bins + 1))
    got = native.magnitude_histogram(torch.from_numpy(values.astype(np.float32)), bins, lo, hi)
    np.testing.assert_array_equal(got, want)


def _float32_counts(x: np.ndarray, bins: int, lo: float, hi: float) -> np.ndarray:
    # stats.histogram's arithmetic, in numpy float32: subtract, multiply, clamp, floor.
    scale = np.float32(bins / (hi - lo))
    t = (x[~np.isnan(x)] - np.float32(lo)) * scale
    return np.bincount(np.clip(t, 0, bins - 1).astype(np.int64), minlength=bins)


# Around the size from which native.c counts values in pairs (PAIR_MIN), odd sizes too.
@pytest.mark.parametrize("n", [32767, 32768, 65537])
@pytest.mark.parametrize("bins", [BINS, 100])  # 100: too many bins for a table of pairs
def test_large_histograms_count_every_value_once(n, bins):
    gen = torch.Generator().manual_seed(n + bins)
    x = torch.randn(n, generator=gen)
    x[::3] = 0.0  # a third in one bin, as ReLU's zeros
    x[5], x[9], x[-1] = math.nan, math.inf, -math.inf

    counts = native.histogram(x, bins, -2.0, 2.0)
    np.testing.assert_array_equal(counts, _float32_counts(x.numpy(), bins, -2.0, 2.0))
    assert counts.sum() == n - 1  # all but the NaN

    lo, hi = GRAD_LOG_RANGE
    mags = x * 1e-6
    with np.errstate(divide="ignore"):
        logs = np.log10(np.abs(_np(mags)))
    edges = np.linspace(lo, hi, bins + 1)
    got = native.magnitude_histogram(mags, bins, lo, hi)
    np.testing.assert_array_equal(got, numpy_counts(logs, lo, hi, edges))

    act = x[: n - n % 257].reshape(-1, 257).relu()  # (rows, 257) over its own range
    forward = native.forward(act, None, "relu", 0.97, True, bins, None)
    a_lo, a_hi = stats.data_range(act)
    assert (forward[6], forward[7]) == (a_lo, a_hi)
    np.testing.assert_array_equal(
        forward[8:], _float32_counts(act.numpy().ravel(), bins, a_lo, a_hi)
    )


def test_moments_of_huge_tiny_and_non_finite_values_match_numpy():
    gen = torch.Generator().manual_seed(2)
    base = torch.randn(3000, generator=gen)
    cases = [base * 1e25, base * 1e-30, base + 1e4, torch.zeros(3000), torch.full((5,), 2.0)]
    got = native.moments(cases)
    for row, t in zip(got, cases, strict=True):
        x = _np(t)
        want = [x.mean(), x.std(ddof=1), np.sqrt(np.sum(x**2))]
        np.testing.assert_allclose(row, want, rtol=1e-6, atol=1e-45)
    for t in cases:  # the sum of squares behind the gradient norm, tensor by tensor
        want = np.sum(_np(t) ** 2)
        assert native.sum_squares([t]) == pytest.approx(want, rel=1e-6, abs=1e-300)
    odd = native.moments([torch.tensor([1.0, math.inf]), torch.tensor([1.0, math.nan]), base[:1]])
    assert odd[0, 2] == math.inf and math.isnan(odd[0, 1])
    assert np.isnan(odd[1]).all()
    assert math.isnan(odd[2, 1]) and odd[2, 2] == pytest.approx(abs(base[0].item()))


def test_the_update_is_the_difference_of_the_copies_taken_in_float32():
    gen = torch.Generator().manual_seed(4)
    a, b = torch.randn(700, 3, generator=gen), torch.randn(700, 3, generator=gen)
    got = native.diff_moments([a], [b])[0]
    d = (a - b).numpy().astype(np.float64)  # torch's float32 difference, then numpy
    np.testing.assert_allclose(got, [d.mean(), d.std(ddof=1), np.linalg.norm(d)], rtol=1e-6)


def test_weight_statistics_copy_measure_and_bin_in_one_read():
    gen = torch.Generator().manual_seed(6)
    ws = [torch.randn(64, 33, generator=gen) * 0.1, torch.randn(17, generator=gen)]
    ws[1][3], ws[1][5] = math.nan, -math.inf  # outside the range, or not counted
    gs = [torch.randn(64, 33, generator=gen) * 1e-4, None]
    copies = [torch.empty_like(w) for w in ws]
    table, grad_table, hists = stats.weight_statistics(ws, gs, BINS, copies)

    for w, c in zip(ws, copies, strict=True):
        assert torch.equal(w.nan_to_num(), c.nan_to_num())
    w0, g0 = _np(ws[0]), _np(gs[0])
    np.testing.assert_allclose(table[0], [w0.std(ddof=1), np.linalg.norm(w0)], rtol=1e-5)
    np.testing.assert_allclose(grad_table[0], [g0.std(ddof=1), np.linalg.norm(g0)], rtol=1e-5)
    assert np.isnan(grad_table[1].numpy()).all()

    for i, w in enumerate(ws):  # each weight over its finite range
        lo, hi = stats.data_range(w)
        row = hists[i, 1].numpy()
        assert (row[0], row[1]) == (lo, hi)
        want = numpy_counts(_np(w), lo, hi, np.linspace(lo, hi, BINS + 1))
        np.testing.assert_array_equal(row[2:], want)
    logs = np.log10(np.abs(g0))
    edges = np.linspace(*GRAD_LOG_RANGE, BINS + 1)
    np.testing.assert_array_equal(hists[0, 0, 2:], numpy_counts(logs, *GRAD_LOG_RANGE, edges))
    assert np.isnan(hists[1, 0, :2].numpy()).all() and not hists[1, 0, 2:].any()


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_a_run_measured_with_and_without_it_shows_the_same_numbers(monkeypatch, activation):
    from tests.specs import tiny
    from tuigrad.engine.trainer import Trainer
    from tuigrad.frames import HISTOGRAMS, LAYER_SCALARS

    def frames():
        spec = tiny(**{"model.activation": activation, "probe.every": 3, "probe.hist_every": 6})
        trainer = Trainer(spec)
        return [f for f in (trainer.step() for _ in range(25)) if f is not None]

    fused = frames()
    monkeypatch.setattr(native, "library", lambda: None)
    plain = frames()
    assert [f.step for f in fused] == [f.step for f in plain]
    for a, b in zip(fused, plain, strict=True):
        assert a.grad_norm == pytest.approx(b.grad_norm, rel=1e-5)
        for la, lb in zip(a.layers, b.layers, strict=True):
            for name in LAYER_SCALARS:
                want = getattr(lb, name)
                assert getattr(la, name) == pytest.approx(want, rel=1e-4, nan_ok=True), name
            for kind in HISTOGRAMS:
                ha, hb = getattr(la, kind), getattr(lb, kind)
                assert (ha is None) == (hb is None)
                if ha is not None:
                    assert (ha.lo, ha.hi) == (hb.lo, hb.hi)
                    assert np.abs(ha.counts - hb.counts).sum() <= 2, kind  # edges' rounding
