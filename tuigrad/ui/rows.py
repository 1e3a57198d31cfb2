"""The text of the layer table: a header and one line per layer, as runs of (text, style name).

No Textual here. Everything one frame needs (column widths, the shared gradient scale, the
sparklines and histograms of the rows asked for) is computed for many rows at once.
"""

from __future__ import annotations

import math

import numpy as np

from tuigrad.frames import LayerInfo, LayerStats
from tuigrad.ui import charts
from tuigrad.ui.glyphs import Glyphs, fit, fmt_log, fmt_num, fmt_pct, fmt_signed
from tuigrad.ui.history import RunHistory
from tuigrad.ui.layout import fit_columns

# One line: a few runs of text, each with the name of a component class ("" for plain).
Run = tuple[str, str]
Line = tuple[Run, ...]

# Styles that show on blank cells (reverse video): a separator space after them stays plain.
SOLID = frozenset({"marked"})
HIST_KINDS = ("act_hist", "grad_hist", "weight_hist")
LABELS = ("name", "config")  # the columns that name a row, left of the others
HIST_TITLES = {"act_hist": "activations", "grad_hist": "log10|gW|", "weight_hist": "weights"}
BOUNDED = ("tanh", "sigmoid")
RELU_FAMILY = ("relu", "leaky_relu", "elu", "selu", "gelu", "silu")
# A layer whose gradient is this many decades below the strongest layer is drawn faded, and
# one above 10^EXPLODING_LOG is drawn as exploding. Colour hints only: diagnosis decides.
FADED_DECADES = 3.0
EXPLODING_LOG = 2.0


def changed_spans(old: Line, new: Line) -> list[tuple[int, int]] | None:
    """The cell ranges [x0, x1) where `new` differs from `old`, touching ranges merged.

    None when the runs do not line up (a different number, or a run of another width): then
    the whole line is to be repainted. Every cell holds one character (see glyphs.fit).
    """
    if len(old) != len(new):
        return None
    spans: list[tuple[int, int]] = []
    x = 0
    for (old_text, old_cls), (text, cls) in zip(old, new, strict=True):
        width = len(text)
        if len(old_text) != width:
            return None
        if text != old_text or cls != old_cls:
            if spans and spans[-1][1] == x:
                spans[-1] = (spans[-1][0], x + width)
            else:
                spans.append((x, x + width))
        x += width
    return spans


class TableView:
    """The table of one frame at one width: `header()` and `lines(start, stop)` for the columns
    of numbers and charts, `label_header()` and `labels(start, stop)` for those that name a row."""

    def __init__(
        self,
        infos: tuple[LayerInfo, ...],
        history: RunHistory,
        kind: str,
        width: int,
        glyphs: Glyphs,
        marked: frozenset[str] = frozenset(),
    ) -> None:
        self.infos, self.history, self.kind, self.glyphs = infos, history, kind, glyphs
        self.marked = marked
        # Two cells more than the longest name: room for the marker of a finding's layers.
        name_w = max((len(info.name) for info in infos), default=4) + 2
        config_w = max((len(info.summary) for info in infos), default=8)
        cols = fit_columns(width, name_w, config_w)
        self.widths = dict(cols)
        # The name and config columns are drawn apart (they change only with the rows shown),
        # each with the gap after it: the rest of the table starts at `label_width`.
        self.label_cols = [(key, w) for key, w in cols if key in LABELS]
        self.cols = [(key, w) for key, w in cols if key not in LABELS]
        self.label_width = sum(w + 1 for _, w in self.label_cols)
        self.recent = history.grad_log(self.widths.get("grad", 0))  # (k, layers)
        self.scale = charts.scale(self.recent)
        latest = self.recent[-1] if len(self.recent) else np.zeros(0)
        finite = latest[np.isfinite(latest)]
        self.strongest = float(finite.max()) if finite.size else math.nan
        self.bins = self._shared_bins()

    def label_header(self) -> Line:
        titles = {"name": "layer", "config": "config"}
        text = "".join(fit(titles[key], w, self.glyphs) + " " for key, w in self.label_cols)
        return ((text, "header"),)

    def labels(self, start: int, stop: int) -> dict[int, Line]:
        """The name and config of layers start..stop-1 (0-based rows), each with its gap."""
        out = {}
        for row in range(start, min(stop, len(self.infos))):
            info = self.infos[row]
            cells = {"name": self._name(info.name), "config": (info.summary, "config")}
            out[row] = self._join([cells[key] for key, _ in self.label_cols], self.label_cols)
        return out

    def header(self) -> Line:
        g = self.glyphs
        lo, hi = self.scale
        titles = {
            "grad": f"log10|gW| {lo:+.0f}{g.ellipsis}{hi:+.0f}",
            "gval": "now",
            "hist": HIST_TITLES[self.kind] + (self.bins[2] if self.bins else ""),
            "mean": "mean ±std",
            "health": "sat/dead",
            "upd": "upd:data",
            "uval": "",
        }
        return ((" ".join(fit(titles[key], w, g) for key, w in self.cols), "header"),)

    def lines(self, start: int, stop: int) -> dict[int, Line]:
        """The lines of layers start..stop-1 (0-based rows)."""
        stop = min(stop, len(self.infos))
        if start >= stop:
            return {}
        sparks = self._sparks(start, stop)
        hists = self._hists(start, stop)
        out = {}
        for row in range(start, stop):
            info = self.infos[row]
            stats = self.history.layer_stats[row] if row < len(self.history.layer_stats) else None
            cells = {}
            if stats is not None:
                cells = self._cells(info, stats, sparks[row - start], hists[row - start])
            line = self._join([cells.get(key, ("", "muted")) for key, _ in self.cols], self.cols)
            out[row] = _without_last_gap(line)
        return out

    def _join(self, cells: list[Run], cols: list[tuple[str, int]]) -> Line:
        """The cells at their column widths, each followed by a space.

        The space joins the run before it (one style change fewer per column: over SSH every
        escape sequence counts), except after a run whose style shows on blank cells.
        """
        runs: list[Run] = []
        for (text, cls), (_, width) in zip(cells, cols, strict=True):
            text = fit(text, width, self.glyphs)
            if cls in SOLID:
                runs += [(text, cls), (" ", "")]
            else:
                runs.append((text + " ", cls))
        return tuple(run for run in runs if run[0])

    def _name(self, name: str) -> Run:
        if name not in self.marked:
            return (name, "name")
        width = self.widths["name"]
        return (name.ljust(width - 1)[: width - 1] + self.glyphs.gauge_below, "marked")

    def _cells(self, info: LayerInfo, stats: LayerStats, spark: Run, hist: Run) -> dict[str, Run]:
        ratio = stats.update_ratio_log10
        return {
            "grad": spark,
            "gval": (fmt_log(stats.weight_grad_norm_log10), "muted"),
            "hist": hist,
            "mean": (f"{fmt_signed(stats.act_mean)} ±{_unsigned(stats.act_std)}", "muted"),
            "health": _health(info, stats),
            "upd": (
                charts.gauge(ratio, self.widths.get("upd", 0), self.glyphs),
                _ratio_class(ratio),
            ),
            "uval": (fmt_log(ratio), "muted"),
        }

    def _sparks(self, start: int, stop: int) -> list[Run]:
        width = self.widths.get("grad", 0)
        if not width or not len(self.recent):
            return [("", "muted")] * (stop - start)
        lo, hi = self.scale
        texts = charts.sparklines(self.recent[:, start:stop], lo, hi, width, self.glyphs)
        return [
            (text, self._grad_class(row))
            for text, row in zip(texts, range(start, stop), strict=True)
        ]

    def _grad_class(self, row: int) -> str:
        value = float(self.recent[-1, row])
        if math.isnan(value) or value == math.inf:
            return "bad"
        if value > EXPLODING_LOG:
            return "hot"
        if value == -math.inf or (
            math.isfinite(self.strongest) and value < self.strongest - FADED_DECADES
        ):
            return "faded"
        return "spark"

    def _hists(self, start: int, stop: int) -> list[Run]:
        """Histogram cells; rows whose numbers are not finite say so in words."""
        width = self.widths.get("hist", 0)
        out: list[Run] = [("", "muted")] * (stop - start)
        if not width:
            return out
        drawable: dict[int, list[int]] = {}  # bins -> rows with a histogram of that many bins
        for row in range(start, stop):
            stats = self.history.layer_stats[row] if row < len(self.history.layer_stats) else None
            hist = (
                self.history.hists[self.kind][row] if row < len(self.history.layer_stats) else None
            )
            words = _hist_words(self.kind, stats, hist)
            if words is not None:
                out[row - start] = words
            elif hist is not None:
                drawable.setdefault(len(hist.counts), []).append(row)
        for rows in drawable.values():
            counts = np.stack([self.history.hists[self.kind][row].counts for row in rows])
            if self.bins is not None:
                counts = counts[:, self.bins[0] : self.bins[1]]
            for row, text in zip(rows, charts.bar_rows(counts, width, self.glyphs), strict=True):
                out[row - start] = (
                    (text, "hist") if text is not None else ("histogram not finite", "bad")
                )
        return out

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


def _without_last_gap(line: Line) -> Line:
    if not line:
        return line
    text, cls = line[-1]
    return (*line[:-1], (text[:-1], cls)) if text[:-1] else line[:-1]


def _hist_words(kind: str, stats: LayerStats | None, hist) -> Run | None:  # noqa: ANN001
    """What to write instead of a histogram, or None when it can be drawn."""
    if stats is None:
        return ("", "muted")
    if kind == "act_hist" and not math.isfinite(stats.act_std):
        return (f"activations {fmt_num(stats.act_std)}", "bad")
    if kind == "grad_hist" and not math.isfinite(stats.weight_grad_norm):
        return (f"gradient {fmt_num(stats.weight_grad_norm)}", "bad")
    if hist is None:
        return ("not sampled", "muted")
    if not (math.isfinite(hist.lo) and math.isfinite(hist.hi)):
        return ("histogram not finite", "bad")
    return None


def _unsigned(value: float) -> str:
    """A std without its sign; NaN and Inf as words (the sign of `+0.41` dropped, not of `NaN`)."""
    return fmt_signed(value)[1:] if math.isfinite(value) else fmt_num(value)


def _health(info: LayerInfo, stats: LayerStats) -> Run:
    if info.activation in BOUNDED:
        value, label = stats.act_saturated, "sat"
    elif info.activation in RELU_FAMILY:
        value, label = stats.act_dead, "dead"
    else:
        return ("", "muted")
    if math.isnan(value):
        return (f"{label}   -", "muted")
    cls = "muted" if value < 0.1 else "warn" if value < 0.5 else "bad"
    return (f"{label}{fmt_pct(value)}", cls)


def _ratio_class(value: float) -> str:
    if not math.isfinite(value):
        return "bad"
    off = abs(value - charts.UPDATE_BAND)
    return "good" if off <= 1 else "warn" if off <= 2 else "bad"
