"""The UI's pure parts: chart strings, column layout, and the history the dashboard keeps."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.ui_frames import frames_for
from tuigrad.frames import Frame, LayerInfo, LayerStats
from tuigrad.ui import charts
from tuigrad.ui.glyphs import ASCII, UNICODE, fit, fmt_log, fmt_num, fmt_signed
from tuigrad.ui.history import RunHistory, Series
from tuigrad.ui.layout import fit_columns

BLOCKS = set(UNICODE.levels)


def test_sparkline_maps_values_to_levels_newest_right():
    line = charts.sparkline(np.array([0.0, 7.0, 3.5]), 0.0, 7.0, 5)
    assert line == "  ▁█▅"  # 3.5 of 7 rounds to level 4 of 0..7 (banker's rounding on .5)


def test_sparkline_markers_for_nonfinite():
    values = np.array([math.nan, math.inf, -math.inf, 1.0])
    assert charts.sparkline(values, 0.0, 1.0, 4) == "×▲·█"
    assert charts.sparkline(values, 0.0, 1.0, 4, ASCII) == "x^0#"


@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=50), st.integers(0, 40))
@settings(max_examples=50)
def test_sparkline_is_always_exactly_width(values, width):
    assert len(charts.sparkline(np.array(values, dtype=float), -3.0, 2.0, width)) == width


def test_scale_is_whole_decades_around_finite_values():
    values = np.array([[-3.2, math.nan], [-math.inf, 0.4]])
    assert charts.scale(values) == (-4.0, 1.0)
    assert charts.scale(values, whole=False) == (-3.2, 0.4)
    assert charts.scale(np.array([math.nan])) == (-1.0, 0.0)
    assert charts.scale(np.array([2.0, 2.0])) == (2.0, 3.0)
    # A loss flat to 0.1% (log10 1.097 .. 1.099) is drawn on at least min_span decades.
    flat = np.log10(np.array([1.097, 1.099]))
    lo, hi = charts.scale(flat, whole=False, min_span=0.2)
    assert hi - lo == pytest.approx(0.2) and lo < flat.min() and hi > flat.max()
    assert charts.scale(np.array([-3.0, 0.0]), whole=False, min_span=0.2) == (-3.0, 0.0)


def test_rebin_keeps_the_total_when_merging():
    counts = np.arange(40, dtype=float)
    for width in (1, 7, 13, 39):
        assert charts.rebin(counts, width).sum() == counts.sum()
    stretched = charts.rebin(np.array([1.0, 2.0]), 5)
    assert stretched.tolist() == [1.0, 1.0, 2.0, 2.0, 0.0]


def test_bars_scale_to_the_peak_and_show_small_tails():
    assert charts.bars(np.array([0.0, 1.0, 100.0]), 3) == " ▁█"
    assert charts.bars(np.zeros(4), 4) == "    "
    assert charts.bars(np.array([1.0, math.nan]), 2) is None


def test_gauge_marks_the_band_and_the_value():
    assert charts.gauge(-3.0, 7) == "───●───"
    assert charts.gauge(-6.0, 7) == "●──┼───"
    assert charts.gauge(-9.0, 7) == "◀──┼───"
    assert charts.gauge(1.0, 7) == "───┼──▶"
    assert charts.gauge(math.nan, 7) == "───×───"


def test_columns_chart_heights():
    rows = charts.columns(np.array([0.0, 0.5, 1.0, math.nan]), 0.0, 1.0, 2, 5)
    assert rows == ["   █ ", "  ▄██×"[1:]] or rows == ["   █ ", " ▁██×"]
    top, bottom = rows
    assert bottom[0] == " " and bottom[-1] == "×" and top[3] == "█"


def test_number_formats():
    assert fmt_num(math.nan) == "NaN" and fmt_num(-math.inf) == "-Inf"
    assert fmt_num(0.5) == "0.50" and fmt_num(1.2e-5) == "1.2e-05"
    assert fmt_log(0.0) == "+0.0" and fmt_log(-math.inf) == "-Inf"
    assert fmt_signed(0.0123) == "+0.01" and fmt_signed(-1234.0) == "-1e+03"
    assert fit("abcdef", 4) == "abc…" and fit("ab", 4) == "ab  "


@given(st.integers(20, 400), st.integers(2, 8), st.integers(4, 40))
def test_columns_always_fit_the_width(width, name_width, config_width):
    cols = fit_columns(width, name_width, config_width)
    used = sum(w for _, w in cols) + len(cols) - 1
    assert used <= width
    if width >= 60:
        assert {"name", "grad", "hist"} <= {k for k, _ in cols}


def test_narrow_terminals_hide_columns_wide_ones_grow_charts():
    narrow = dict(fit_columns(78))
    wide = dict(fit_columns(200))
    assert "mean" not in narrow and "mean" in wide
    assert wide["grad"] > narrow["grad"] and wide["hist"] > narrow["hist"]


def _layers(n: int) -> tuple[LayerInfo, ...]:
    return tuple(LayerInfo(f"L{i + 1}", "8 tanh", (8, 8), "tanh") for i in range(n))


def test_history_grad_log_is_log10_of_weight_grad_norms():
    layers = _layers(3)
    frames = frames_for(layers, 30)
    history = RunHistory([x.name for x in layers], window=16)
    history.add(frames[:10])
    history.add(frames[10:])
    expected = np.log10([[s.weight_grad_norm for s in f.layers] for f in frames])
    np.testing.assert_allclose(history.grad_log(12), expected[-12:])
    np.testing.assert_allclose(history.grad_log(100), expected[-16:])  # bounded by the window


def test_history_takes_more_frames_than_its_window_at_once():
    layers = _layers(2)
    frames = frames_for(layers, 40)
    history = RunHistory([x.name for x in layers], window=8)
    history.add(frames)
    expected = np.log10([[s.weight_grad_norm for s in f.layers] for f in frames])
    np.testing.assert_allclose(history.grad_log(8), expected[-8:])
    assert history.count == 40 and history.latest is frames[-1]


def test_clip_rate_is_the_clipped_fraction_of_recent_frames():
    rng = np.random.default_rng(3)
    clipped = rng.random(250) < 0.3
    frames = [
        Frame(step=i, loss=1.0, grad_norm=1.0, clipped=bool(c)) for i, c in enumerate(clipped)
    ]
    history = RunHistory(())
    history.add(frames)
    assert history.clip_rate(100) == pytest.approx(clipped[-100:].mean())
    assert history.clip_rate(7) == pytest.approx(clipped[-7:].mean())
    assert math.isnan(RunHistory(()).clip_rate())


def test_min_loss_and_first_nonfinite_step():
    losses = [2.0, 0.7, math.nan, 0.5, math.inf]
    frames = [Frame(step=10 * i, loss=v, grad_norm=1.0) for i, v in enumerate(losses)]
    history = RunHistory(())
    history.add(frames[:2])
    history.add(frames[2:])
    assert history.min_loss == np.nanmin(np.where(np.isfinite(losses), losses, np.nan))
    assert history.nonfinite_since == 20


def test_series_resample_is_bucket_means_and_keeps_nan():
    series = Series(cap=64)
    values = np.arange(100, dtype=float)
    values[37] = math.nan
    series.extend(values[:50])
    series.extend(values[50:])
    assert len(series) == 50 and series.stride == 2
    stored = series.values()
    np.testing.assert_allclose(stored, values.reshape(-1, 2).mean(axis=1))  # NaN stays NaN
    out = series.resample(10)
    edges = np.linspace(0, len(stored), 11).astype(int)
    expected = [stored[a:b].mean() for a, b in zip(edges[:-1], edges[1:], strict=True)]
    np.testing.assert_allclose(out, expected)
    assert np.isnan(out).sum() == 1


@given(st.lists(st.integers(0, 300), min_size=1, max_size=12))
def test_series_stores_the_mean_of_every_stride_values(chunks):
    series = Series(cap=16)
    values = np.arange(sum(chunks), dtype=float) ** 1.5
    offset = 0
    for n in chunks:
        series.extend(values[offset : offset + n])
        offset += n
    assert len(series) <= 17
    pending = series._pending
    stored = series.values()[: len(series) - (1 if len(pending) else 0)]
    # Each stored point stands for `stride` values and the incomplete group is kept raw.
    assert stored.sum() * series.stride + pending.sum() == pytest.approx(values.sum(), rel=1e-9)
    assert len(pending) < series.stride or series.stride == 1 and len(pending) == 0


def test_history_keeps_the_last_histogram_when_a_frame_has_none():
    layers = _layers(1)
    first = frames_for(layers, 1)[0]
    bare = Frame(step=1, loss=1.0, layers=(LayerStats("L1", weight_grad_norm=1.0),))
    history = RunHistory(["L1"])
    history.add([first, bare])
    assert history.hists["act_hist"][0] is first.layers[0].act_hist
    assert history.layer_stats[0] is bare.layers[0]


def test_a_run_without_a_spec_shows_what_its_frames_say_about_clipping_and_accuracy():
    from tuigrad.ui.widgets.overview import _clip_text, _series_view

    # A watched script: no spec, accuracy never logged, its own clipping acting every other step.
    frames = [
        Frame(step=k, loss=1.0 / (k + 1), grad_norm=2.0, grad_norm_clipped=1.0, clipped=k % 2 == 0)
        for k in range(10)
    ]
    history = RunHistory(())
    history.add(frames)
    assert _clip_text(None, history) == "clipping acting 50%"
    values, _, _, title = _series_view("accuracy", history, None, 20)
    assert title == "accuracy: not recorded" and len(values) == 0
    _, _, _, title = _series_view("grad_norm", history, None, 20)
    assert title == "grad norm 2.00 -> 1.00  log scale"

    quiet = RunHistory(())
    quiet.add([Frame(step=k, loss=1.0, grad_norm=2.0, grad_norm_clipped=2.0) for k in range(3)])
    assert _clip_text(None, quiet) == ""
    assert "->" not in _series_view("grad_norm", quiet, None, 20)[3]
