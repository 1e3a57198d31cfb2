"""The text of the findings panel: what the diagnosis says, the selected finding's why and fix,
and how the run before this one ended. No Textual here, like rows.py for the layer table.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tuigrad.diagnosis import Finding
from tuigrad.diagnosis.table import layer_label
from tuigrad.diagnosis.text import where
from tuigrad.ui.glyphs import UNICODE, Glyphs, fit, fmt_num, fmt_pct
from tuigrad.ui.history import RunHistory
from tuigrad.ui.rows import Line

# Severity words and their component classes: the word carries the meaning without colour.
SEVERITY_WORDS = {"error": "error", "warning": "warn", "info": "info"}
MAX_ROWS = 5  # findings listed at once; the window follows the selection
MAX_WHY_LINES = 3
MAX_WHERE = 32  # the widest "L1-L4, since step 0" column


@dataclass(frozen=True)
class RunSummary:
    """How a run stood when the next one replaced it: kept on screen to compare against."""

    step: int | None
    loss: float
    accuracy: float
    findings: tuple[Finding, ...]

    @staticmethod
    def of(history: RunHistory, findings: Sequence[Finding]) -> RunSummary | None:
        """The summary of a run that received frames; None for one that never started."""
        frame = history.latest
        if frame is None:
            return None
        return RunSummary(frame.step, frame.loss, frame.accuracy, tuple(findings))

    def numbers(self) -> str:
        """`at step 978: loss 1.099, acc 35%`."""
        numbers = [f"loss {fmt_num(self.loss, 3)}"]
        if not math.isnan(self.accuracy):
            numbers.append(f"acc {fmt_pct(self.accuracy).strip()}")
        return f"at step {self.step}: {', '.join(numbers)}"


@dataclass(frozen=True)
class Applied:
    """A finding's fix applied to the spec: the kind it cures and the keys as (key, was, now)."""

    kind: str
    changes: tuple[tuple[str, Any, Any], ...]

    def text(self, glyphs: Glyphs = UNICODE) -> str:
        return ", ".join(f"{key} {was} {glyphs.arrow} {now}" for key, was, now in self.changes)


@dataclass(frozen=True)
class PanelState:
    """Everything the panel draws; equal states draw equal lines, so the widget can skip work."""

    findings: tuple[Finding, ...] = ()
    selected: int = 0
    expanded: bool = True
    can_apply: bool = False  # the source can restart with a new spec
    fix_is_set: bool = False  # the experiment already has the selected finding's fix
    previous: RunSummary | None = None
    applied: Applied | None = None
    failed: str = ""  # why the diagnosis stopped, if it did

    @property
    def current(self) -> Finding | None:
        return self.findings[self.selected] if self.findings else None


def kinds_text(findings: Sequence[Finding]) -> str:
    """`vanishing at L1-L4, no_progress`, or `none`."""
    if not findings:
        return "none"
    return ", ".join(
        f"{f.kind} at {layer_label(f.layers)}" if f.layers else f.kind for f in findings
    )


def panel_lines(state: PanelState, width: int, height: int, glyphs: Glyphs = UNICODE) -> list[Line]:
    """The panel at `width`, in at most `height` lines (one line when not expanded)."""
    if not state.expanded or height <= 1:
        return [summary_line(state, width, glyphs)]
    return _expanded(state, width, height, glyphs)


def summary_line(state: PanelState, width: int, glyphs: Glyphs = UNICODE) -> Line:
    """One line: the count and kinds of the findings, then how the previous run compares."""
    if state.failed:
        return ((fit(f"Diagnosis stopped: {state.failed}", width, glyphs), "error"),)
    findings = state.findings
    if findings:
        head = f"{len(findings)} finding{'s' if len(findings) > 1 else ''}: "
        runs: list[tuple[str, str]] = [
            (f" {SEVERITY_WORDS[findings[0].severity]} ", findings[0].severity),
            (" " + head, "title"),
            (kinds_text(findings), "text"),
        ]
    else:
        runs = [(" ok ", "good"), (" Diagnosis: no findings", "muted")]
    if state.previous is not None:
        before = kinds_text(state.previous.findings)
        if state.applied is not None:
            runs.append((f"  (before {state.applied.text(glyphs)}: {before})", "muted"))
        else:
            runs.append((f"  (previous run: {before})", "muted"))
    applies = state.can_apply and _has_fix(state) and not state.fix_is_set
    hint = "  f: details" + ("  a: apply fix" if applies else "")
    if len(hint) > width // 2:
        return _fit_runs([*runs, (hint, "muted")], width, glyphs)
    # The keys stay in view at the right end; the kinds are cut before them.
    return (*_fit_runs(runs, width - len(hint), glyphs), (hint, "muted"))


def _expanded(state: PanelState, width: int, height: int, glyphs: Glyphs) -> list[Line]:
    tail = _tail_lines(state, width, glyphs)
    findings = state.findings
    title = "Diagnosis: " + (
        f"{len(findings)} finding{'s' if len(findings) > 1 else ''}, most severe first"
        if findings
        else "no findings"
    )
    hint = "j/k select  a apply  f hide" if len(findings) > 1 else "f hide"
    lines: list[Line] = [
        _fit_runs(
            [(title, "title"), (_gap(title, hint, width), ""), (hint, "muted")], width, glyphs
        )
    ]
    if state.failed:
        lines.append(((fit(f"  Diagnosis stopped: {state.failed}", width, glyphs), "error"),))
    if not findings:
        return (lines + tail)[:height]

    # The rows: as many as fit beside the fix and the comparison, the selection always shown.
    room = height - len(lines) - len(tail) - 1
    shown = max(1, min(len(findings), MAX_ROWS, room))
    first = min(max(state.selected - shown + 1, 0), len(findings) - shown)
    where_w = min(max(len(where(f)) for f in findings[first : first + shown]), MAX_WHERE)
    for i in range(first, first + shown):
        lines.append(_finding_row(findings[i], i == state.selected, where_w, width, glyphs))
    if shown < len(findings):
        tail.insert(
            0, ((fit(f"  {len(findings) - shown} more: j/k to see them", width, glyphs), "muted"),)
        )

    most = max(1, min(MAX_WHY_LINES, height - len(lines) - len(tail)))
    why = _why_lines(state.current, width, most, glyphs)
    return (lines + why + tail)[:height]


def _finding_row(f: Finding, selected: bool, where_w: int, width: int, glyphs: Glyphs) -> Line:
    pointer = glyphs.gauge_above if selected else " "
    return _fit_runs(
        [
            (pointer + " ", "pointer"),
            (f"{SEVERITY_WORDS[f.severity]:<5}", f.severity),
            (f" {f.kind:<12} ", "selected" if selected else "text"),
            (fit(where(f), where_w, glyphs) + " ", "muted"),
            (f.message, "text"),
        ],
        width,
        glyphs,
    )


def _why_lines(f: Finding | None, width: int, most: int, glyphs: Glyphs) -> list[Line]:
    if f is None or not f.explanation:
        return []
    wrapped = textwrap.wrap(f.explanation, max(width - 8, 10))
    if len(wrapped) > most:
        # The last line shown says that the explanation goes on.
        wrapped = wrapped[:most]
        wrapped[-1] += glyphs.ellipsis
    return [
        _fit_runs([("  why: " if i == 0 else "       ", "label"), (text, "why")], width, glyphs)
        for i, text in enumerate(wrapped)
    ]


def _tail_lines(state: PanelState, width: int, glyphs: Glyphs) -> list[Line]:
    """The selected finding's fix, what was applied last, and the run before this one."""
    lines: list[Line] = []
    f = state.current
    if f is not None:
        if not f.fix:
            fix = [("no spec change to suggest", "muted")]
        elif state.fix_is_set:
            fix = [(f.fix_text(), "fix"), ("   (already set in this experiment)", "muted")]
        elif state.can_apply:
            fix = [
                (f.fix_text(), "fix"),
                ("   a: apply it and restart with the same seed", "muted"),
            ]
        else:
            fix = [
                (f.fix_text(), "fix"),
                ("   (set it in the experiment; this run is a recording)", "muted"),
            ]
        lines.append(_fit_runs([("  try: ", "label"), *fix], width, glyphs))
    if state.applied is not None:
        text = f"for {state.applied.kind}: {state.applied.text(glyphs)}"
        lines.append(_fit_runs([("  applied: ", "label"), (text, "fix")], width, glyphs))
    if state.previous is not None:
        # The two runs one above the other: what each one showed.
        before = state.previous
        now = kinds_text(state.findings)
        lines.append(
            _fit_runs(
                [
                    ("  previous run: ", "label"),
                    (kinds_text(before.findings), "text"),
                    (f"  ({before.numbers()})", "muted"),
                ],
                width,
                glyphs,
            )
        )
        lines.append(
            _fit_runs(
                [("  this run:     ", "label"), (now, "good" if not state.findings else "text")],
                width,
                glyphs,
            )
        )
    return lines


def _has_fix(state: PanelState) -> bool:
    return state.current is not None and bool(state.current.fix)


def _gap(left: str, right: str, width: int) -> str:
    return " " * max(2, width - len(left) - len(right))


def _fit_runs(runs: list[tuple[str, str]], width: int, glyphs: Glyphs) -> Line:
    """Runs cut to `width` cells in all, the last one cut ending in an ellipsis, then padded."""
    out: list[tuple[str, str]] = []
    left = width
    for text, cls in runs:
        if left <= 0:
            break
        if len(text) > left:
            out.append((fit(text, left, glyphs), cls))
            left = 0
            break
        out.append((text, cls))
        left -= len(text)
    if left > 0:
        out.append((" " * left, ""))
    return tuple(out)
