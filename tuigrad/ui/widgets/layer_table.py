"""One row per monitored layer, in model order, under a header that stays put while rows scroll."""

from __future__ import annotations

import math

import numpy as np
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tuigrad.frames import Hist, LayerInfo, LayerStats
from tuigrad.ui import charts
from tuigrad.ui.glyphs import UNICODE, Glyphs, fit, fmt_log, fmt_num, fmt_pct, fmt_signed
from tuigrad.ui.history import RunHistory
from tuigrad.ui.layout import fit_columns
from tuigrad.ui.widgets.lines import Line, LineStyles

HIST_KINDS = ("act_hist", "grad_hist", "weight_hist")
HIST_TITLES = {"act_hist": "activations", "grad_hist": "log10|gW|", "weight_hist": "weights"}
BOUNDED = ("tanh", "sigmoid")
RELU_FAMILY = ("relu", "leaky_relu", "elu", "selu", "gelu", "silu")
# A layer whose gradient is this many decades below the strongest layer is drawn faded, and
# one above 10^EXPLODING_LOG is drawn as exploding. Colour hints only: diagnosis decides.
FADED_DECADES = 3.0
EXPLODING_LOG = 2.0


class LayerTable(ScrollView, can_focus=True):
    """Rows L1..head, each a few styled runs; row 0 is the column header and never scrolls."""

    COMPONENT_CLASSES = {
        f"layer-table--{name}"
        for name in (
            "header",
            "name",
            "config",
            "muted",
            "spark",
            "faded",
            "hot",
            "hist",
            "good",
            "warn",
            "bad",
        )
    }

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.kind = "act_hist"
        self.infos: tuple[LayerInfo, ...] = ()
        self.history = RunHistory(())
        self._styles = LineStyles(self, "layer-table")
        self._epoch = 0
        self._rows: dict[int, tuple[int, Line, Strip | None]] = {}
        self._header: tuple[Line, Strip | None] = ((), None)
        self._cols: list[tuple[str, int]] = []
        self._frame_view: dict[str, object] = {}

    @property
    def glyphs(self) -> Glyphs:
        return getattr(self.app, "glyphs", UNICODE)

    # What the dashboard calls.

    def set_run(self, layers: tuple[LayerInfo, ...], history: RunHistory) -> None:
        self.infos, self.history = layers, history
        self.virtual_size = Size(self.size.width, len(layers) + 1)
        self._rows.clear()
        self.data_changed()

    def set_kind(self, kind: str) -> None:
        self.kind = kind
        self.data_changed()

    def data_changed(self) -> None:
        """New frames: recompute the visible rows, repaint the ones whose text changed."""
        self._epoch += 1
        self._layout()
        width = self.scrollable_content_region.width
        self._refresh_if_changed(0, self._header_line(), width)
        top = round(self.scroll_y)
        for y in range(1, self.scrollable_content_region.height):
            row = top + y - 1
            if row < len(self.infos):
                self._refresh_if_changed(y, self._row_line(row), width, row)

    def on_resize(self) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, len(self.infos) + 1)
        self._epoch += 1
        self._layout()

    # Line API.

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if y == 0:
            line, strip = self._header
            if strip is None or strip.cell_length != width:
                line = self._header_line()
                strip = self._styles.strip(line, width)
                self._header = (line, strip)
            return strip
        row = round(self.scroll_y) + y - 1
        if row >= len(self.infos):
            return Strip.blank(width)
        epoch, line, strip = self._rows.get(row, (-1, (), None))
        if epoch != self._epoch:
            line, strip = self._row_line(row), None
        if strip is None or strip.cell_length != width:
            strip = self._styles.strip(line, width)
        self._rows[row] = (self._epoch, line, strip)
        return strip

    # Building lines.

    def _refresh_if_changed(self, y: int, line: Line, width: int, row: int | None = None) -> None:
        if row is None:
            if line != self._header[0]:
                self._header = (line, None)
                self.refresh(Region(0, 0, width, 1))
            return
        _, old, strip = self._rows.get(row, (-1, (), None))
        if line != old:
            self._rows[row] = (self._epoch, line, None)
            self.refresh(Region(0, y, width, 1))
        else:
            self._rows[row] = (self._epoch, old, strip)

    def _layout(self) -> None:
        width = self.scrollable_content_region.width
        name_w = max((len(info.name) for info in self.infos), default=4)
        config_w = max((len(info.summary) for info in self.infos), default=8)
        self._cols = fit_columns(width, name_w, config_w)
        widths = dict(self._cols)
        recent = self.history.grad_log(widths.get("grad", 0))
        lo, hi = charts.scale(recent)
        latest = recent[-1] if len(recent) else np.full(len(self.infos), np.nan)
        finite = latest[np.isfinite(latest)]
        self._frame_view = {
            "recent": recent,
            "scale": (lo, hi),
            "strongest": float(finite.max()) if finite.size else math.nan,
            "bins": self._shared_bins(),
        }

    def _shared_bins(self) -> tuple[int, int, str] | None:
        """Gradient histograms: the bins any layer fills, so all rows share one x axis.

        Returns (first bin, end bin, a label of that range in log10 units).
        """
        if self.kind != "grad_hist":
            return None
        hists = [
            h
            for h in self.history.hists["grad_hist"]
            if h is not None and np.isfinite(h.counts).all()
        ]
        used = [u for u in (np.flatnonzero(h.counts) for h in hists) if u.size]
        if not used:
            return None
        first, end = min(int(u[0]) for u in used), max(int(u[-1]) for u in used) + 1
        edges = hists[0].edges
        return (first, end, f" {edges[first]:+.0f}{self.glyphs.ellipsis}{edges[end]:+.0f}")

    def _header_line(self) -> Line:
        g = self.glyphs
        lo, hi = self._frame_view.get("scale", (0.0, 1.0))
        bins = self._frame_view.get("bins")
        titles = {
            "name": "layer",
            "config": "config",
            "grad": f"log10|gW| {lo:+.0f}{g.ellipsis}{hi:+.0f}",
            "gval": "now",
            "hist": HIST_TITLES[self.kind] + (bins[2] if bins else ""),
            "mean": "mean ±std",
            "health": "sat/dead",
            "upd": "upd:data",
            "uval": "",
        }
        return ((" ".join(fit(titles[key], w, g) for key, w in self._cols), "header"),)

    def _row_line(self, row: int) -> Line:
        info = self.infos[row]
        stats = self.history.layer_stats[row] if row < len(self.history.layer_stats) else None
        g = self.glyphs
        runs: list[tuple[str, str]] = []
        for key, width in self._cols:
            text, cls = self._cell(key, width, row, info, stats)
            runs.append((fit(text, width, g) if key not in ("grad", "hist", "upd") else text, cls))
            runs.append((" ", ""))
        runs.pop()
        return tuple(runs)

    def _cell(
        self, key: str, width: int, row: int, info: LayerInfo, stats: LayerStats | None
    ) -> tuple[str, str]:
        g = self.glyphs
        view = self._frame_view
        if key == "name":
            return info.name, "name"
        if key == "config":
            return info.summary, "config"
        if stats is None:
            return " " * width if key in ("grad", "hist", "upd") else "", "muted"
        if key == "grad":
            lo, hi = view["scale"]
            series = view["recent"][:, row] if len(view["recent"]) else np.zeros(0)
            return charts.sparkline(series, lo, hi, width, g), self._grad_class(stats)
        if key == "gval":
            return fmt_log(stats.weight_grad_norm_log10), "muted"
        if key == "hist":
            return self._hist_cell(row, width, stats)
        if key == "mean":
            return f"{fmt_signed(stats.act_mean)} ±{fmt_signed(stats.act_std)[1:]}", "muted"
        if key == "health":
            return _health(info, stats)
        if key == "upd":
            return charts.gauge(stats.update_ratio_log10, width, g), _ratio_class(
                stats.update_ratio_log10
            )
        if key == "uval":
            return fmt_log(stats.update_ratio_log10), "muted"
        raise KeyError(key)

    def _grad_class(self, stats: LayerStats) -> str:
        value = stats.weight_grad_norm_log10
        if math.isnan(value) or value == math.inf:
            return "bad"
        if value > EXPLODING_LOG:
            return "hot"
        strongest = self._frame_view["strongest"]
        if value == -math.inf or (math.isfinite(strongest) and value < strongest - FADED_DECADES):
            return "faded"
        return "spark"

    def _hist_cell(self, row: int, width: int, stats: LayerStats) -> tuple[str, str]:
        hist: Hist | None = self.history.hists[self.kind][row]
        if self.kind == "act_hist" and not math.isfinite(stats.act_std):
            return fit(f"activations {fmt_num(stats.act_std)}", width, self.glyphs), "bad"
        if self.kind == "grad_hist" and not math.isfinite(stats.weight_grad_norm):
            return fit(f"gradient {fmt_num(stats.weight_grad_norm)}", width, self.glyphs), "bad"
        if hist is None:
            return fit("not sampled", width, self.glyphs), "muted"
        counts = hist.counts
        bins = self._frame_view.get("bins")
        if bins is not None:
            counts = counts[bins[0] : bins[1]]
        text = charts.bars(counts, width, self.glyphs)
        if text is None or not (math.isfinite(hist.lo) and math.isfinite(hist.hi)):
            return fit("histogram not finite", width, self.glyphs), "bad"
        return text, "hist"


def _health(info: LayerInfo, stats: LayerStats) -> tuple[str, str]:
    if info.activation in BOUNDED:
        value, label = stats.act_saturated, "sat"
    elif info.activation in RELU_FAMILY:
        value, label = stats.act_dead, "dead"
    else:
        return "", "muted"
    if math.isnan(value):
        return f"{label}   -", "muted"
    cls = "muted" if value < 0.1 else "warn" if value < 0.5 else "bad"
    return f"{label}{fmt_pct(value)}", cls


def _ratio_class(value: float) -> str:
    if not math.isfinite(value):
        return "bad"
    off = abs(value - charts.UPDATE_BAND)
    return "good" if off <= 1 else "warn" if off <= 2 else "bad"
