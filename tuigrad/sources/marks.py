"""Where a recording's diagnosis findings begin: the steps the replay's `f` key jumps to."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tuigrad.frames import Frame
from tuigrad.runs.reader import RunReader

# diagnose() looks at no more frames than this, so reading more would be wasted.
SAMPLE_FRAMES = 600


@dataclass(frozen=True, order=True)
class Mark:
    """A step where a finding begins, and what it says."""

    step: int
    text: str


def finding_marks(reader: RunReader, label: str = "") -> list[Mark]:
    """Findings recorded in the file, and those diagnosis finds in its frames, by step."""
    from tuigrad.diagnosis import diagnose

    prefix = f"{label}: " if label else ""
    marks = {
        Mark(step, f"{prefix}{kind}: {data.get('message', '')}".rstrip(": "))
        for step, kind, data in reader.findings()
    }
    for finding in diagnose(_sample(reader), reader.layers, reader.spec):
        marks.add(Mark(finding.since_step, f"{prefix}{finding.kind}: {finding.message}"))
    return sorted(marks)


def next_mark(marks: list[Mark], step: int | None) -> Mark | None:
    """The first mark after `step`; wraps round to the first when none is after it."""
    if not marks:
        return None
    after = [m for m in marks if step is None or m.step > step]
    return after[0] if after else marks[0]


def _sample(reader: RunReader) -> list[Frame]:
    n = len(reader)
    if n <= SAMPLE_FRAMES:
        return reader.frames(0, n)
    # NOTE: an even sample keeps the first and last frames; a finding then begins at the
    # first sampled step that shows it, at most n / SAMPLE_FRAMES frames late.
    picked = np.unique(np.linspace(0, n - 1, SAMPLE_FRAMES).astype(int))
    return [reader.frame(int(i)) for i in picked]
