"""Running the rules: once over a whole run, or incrementally as frames arrive."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import replace

import numpy as np

from tuigrad.diagnosis.context import Context
from tuigrad.diagnosis.finding import Finding, sort_findings
from tuigrad.diagnosis.rules import RULES, first_nonfinite, nonfinite
from tuigrad.diagnosis.table import FrameTable, frame_row
from tuigrad.diagnosis.thresholds import THRESHOLDS, Thresholds
from tuigrad.frames import Frame, LayerInfo
from tuigrad.spec import Spec

# Frames that only follow from an unbroken symmetry: the symmetry finding explains them.
FOLLOW_SYMMETRY = (
    "vanishing",
    "collapse",
    "saturation",
    "dead_units",
    "update_ratio",
    "no_progress",
)
# Findings that explain a stalled loss, in the order their fix is preferred.
CAUSES = ("exploding", "vanishing", "collapse", "saturation", "dead_units", "update_ratio")
HEAD_ROWS = 20  # the start of a run, always kept: baselines for growth and progress
TAIL_ROWS = 120  # the recent frames the incremental Diagnoser keeps
MAX_ROWS = 600  # diagnose() samples longer runs down to this many frames,
RECENT_ROWS = 300  # keeping every one of the last RECENT_ROWS


def diagnose(
    frames: Sequence[Frame],
    layers: Sequence[LayerInfo] = (),
    spec: Spec | None = None,
    limits: Thresholds = THRESHOLDS,
) -> list[Finding]:
    """Findings for a run's frames, most severe first.

    layers: the run's LayerInfo (activations and the head matter); when empty, the names of
    the first frame's layers are used and activations are unknown. spec: the experiment, used
    to explain and to choose fixes; None for models that were not built from a spec.
    """
    frames = list(frames)
    if not frames:
        return []
    infos = list(layers) or [LayerInfo(s.name, "", ()) for s in frames[0].layers]
    ctx = Context.build(infos, spec, limits)
    picked = [frames[i] for i in _pick(frames)]
    return evaluate(FrameTable.from_frames(picked, ctx.names), ctx)


def evaluate(table: FrameTable, ctx: Context) -> list[Finding]:
    """Run every rule; rules other than nonfinite see only the frames before the numbers broke."""
    findings: list[Finding] = []
    row = first_nonfinite(table)
    if row >= 0:
        findings.append(nonfinite(table, ctx))
        table = table.head(row)
    if len(table):
        findings += [f for rule in RULES if (f := rule(table, ctx)) is not None]
    return sort_findings(explain_away(findings))


def explain_away(findings: list[Finding]) -> list[Finding]:
    """Drop findings that are symptoms of another, and point a stalled loss at its cause."""
    kinds = {f.kind: f for f in findings}
    if "symmetry" in kinds:
        findings = [f for f in findings if f.kind not in FOLLOW_SYMMETRY]
    dead = kinds.get("dead_units")
    if dead is not None and dead.severity == "error":
        # A layer of dead units passes no gradient back and no signal on: that is the cause.
        findings = [f for f in findings if f.kind not in ("vanishing", "collapse")]
    if "vanishing" in kinds:
        # Tiny updates in most layers are what vanishing gradients look like from the optimizer.
        findings = [f for f in findings if not (f.kind == "update_ratio" and not f.layers)]

    kinds = {f.kind: f for f in findings}
    cause = next((kinds[k] for k in CAUSES if k in kinds and kinds[k].is_warning), None)
    if "no_progress" in kinds and cause is not None and cause.fix:
        stalled = kinds["no_progress"]
        better = replace(
            stalled, message=f"{stalled.message}; likely cause: {cause.kind}", fix=dict(cause.fix)
        )
        findings = [better if f is stalled else f for f in findings]
    return findings


class Diagnoser:
    """Findings kept current as frames arrive, cheap enough to call from the UI thread.

    Converts each frame to arrays once, keeps the first HEAD_ROWS and the last `window` rows,
    and reruns the rules at most every `every` frames (every frame at the start of a run,
    and at once when a non-finite value appears). After the numbers break it stops updating:
    later frames of a NaN run say nothing new.
    """

    def __init__(
        self,
        layers: Sequence[LayerInfo],
        spec: Spec | None = None,
        *,
        every: int = 10,
        window: int = TAIL_ROWS,
        limits: Thresholds = THRESHOLDS,
    ) -> None:
        self.every = max(1, every)
        self.window = window
        self.limits = limits
        self.reset(layers, spec)

    def reset(self, layers: Sequence[LayerInfo] | None = None, spec: Spec | None = None) -> None:
        """Forget every frame (a new run); optionally with new layers and spec."""
        if layers is not None:
            self._ctx = Context.build(list(layers), spec, self.limits)
        elif spec is not None:
            self._ctx = replace(self._ctx, spec=spec)
        self._head: list[tuple[np.ndarray, np.ndarray]] = []
        self._tail: deque[tuple[np.ndarray, np.ndarray]] = deque(maxlen=self.window)
        self._pending = 0
        self._seen = 0
        self._broken = False
        self._findings: list[Finding] = []

    @property
    def findings(self) -> list[Finding]:
        """The latest findings, most severe first."""
        return self._findings

    def push(self, frames: Iterable[Frame]) -> bool:
        """Take new frames; True when the findings changed."""
        urgent = False
        for frame in frames:
            if self._broken:
                continue
            row = frame_row(frame, self._ctx.names)
            (self._head if len(self._head) < HEAD_ROWS else self._tail).append(row)
            self._pending += 1
            self._seen += 1
            urgent |= not (math.isfinite(frame.loss) and not math.isinf(frame.grad_norm))
            urgent |= bool(np.isinf(row[1]).any())
        if self._pending and (urgent or self._pending >= self.every or self._seen <= self.every):
            return self.refresh()
        return False

    def refresh(self) -> bool:
        """Rerun the rules now; True when the findings changed."""
        self._pending = 0
        rows = [*self._head, *self._tail]
        if not rows:
            return False
        found = evaluate(FrameTable.from_rows(self._ctx.names, rows), self._ctx)
        # A finding that was already showing keeps the step it began at, even once that
        # step has left the window.
        before = {f.kind: f.since_step for f in self._findings}
        found = [
            replace(f, since_step=min(f.since_step, before.get(f.kind, f.since_step)))
            for f in found
        ]
        self._broken = any(f.kind == "nonfinite" for f in found)
        changed = found != self._findings
        self._findings = found
        return changed


def _pick(frames: Sequence[Frame]) -> list[int]:
    """Indices to diagnose: all frames of a short run; head, tail and an even sample otherwise."""
    n = len(frames)
    if n <= MAX_ROWS:
        return list(range(n))
    keep = set(range(HEAD_ROWS)) | set(range(n - RECENT_ROWS, n))
    keep |= set(
        np.linspace(
            HEAD_ROWS, n - RECENT_ROWS, MAX_ROWS - HEAD_ROWS - RECENT_ROWS, dtype=int
        ).tolist()
    )
    # The first broken frame decides where nonfinite begins: never sample it away.
    for i, f in enumerate(frames):
        if not math.isfinite(f.loss) or math.isinf(f.grad_norm):
            keep |= {max(i - 1, 0), i}
            break
    return sorted(keep)
