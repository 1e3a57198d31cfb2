"""What every benchmark shares: interleaved timing with medians, and the machine's description.

The machine these figures come from is shared and busy, so no figure rests on one timing: the
variants that a ratio compares run in turns, in a fresh random order each repetition, and the
ratio is the median over repetitions of the ratio within each repetition.
"""

from __future__ import annotations

import os
import platform
import random
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _turns(names: list[str], reps: int, seed: int):
    """The variants' turns: every name once per repetition, in a fresh random order each."""
    rng = random.Random(seed)
    names = list(names)
    for _ in range(reps):
        rng.shuffle(names)
        yield from names


def interleaved(
    variants: dict[str, Callable[[], None]],
    reps: int,
    inner: int,
    clock: Callable[[], float] = time.process_time,
    seed: int = 0,
) -> dict[str, list[float]]:
    """Seconds per call of each variant, one sample per repetition.

    Each repetition runs every variant `inner` times in a row, the variants in a fresh random
    order. The default clock is this process's CPU time (all threads): on a machine shared with
    other work it counts what the variant costs, not how long it waited for a core.
    """
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for name in _turns(list(variants), reps, seed):
        call = variants[name]
        t = clock()
        for _ in range(inner):
            call()
        samples[name].append((clock() - t) / inner)
    return samples


def interleaved_calls(
    variants: dict[str, Callable[[], None]],
    reps: int,
    inner: int,
    clock: Callable[[], float] = time.process_time,
    seed: int = 0,
) -> dict[str, list[list[float]]]:
    """As `interleaved`, in the same turns, but the seconds of every call: samples[name][rep]
    holds the `inner` calls of that repetition's turn, in order. For calls of milliseconds:
    the clock is read around each."""
    samples: dict[str, list[list[float]]] = {name: [] for name in variants}
    for name in _turns(list(variants), reps, seed):
        call, each = variants[name], []
        for _ in range(inner):
            t = clock()
            call()
            each.append(clock() - t)
        samples[name].append(each)
    return samples


def per_position(turns: list[list[float]]) -> float:
    """Seconds per call from the calls of several turns of one variant: for each place in a
    turn, the median over the turns; then the mean over the places.

    A burst of load on the machine lands in a few calls of one turn, which the medians leave
    out; a cost that comes at the same place in every turn (a sampled step, the first call of
    a turn) stays in.
    """
    return statistics.fmean(statistics.median(calls) for calls in zip(*turns, strict=True))


def median_ratio(num: list[float], den: list[float]) -> float:
    """The median of the per-repetition ratios num / den (paired, so slow spells cancel)."""
    return statistics.median(a / b for a, b in zip(num, den, strict=True))


def median(values: list[float]) -> float:
    return statistics.median(values)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, str]:
    """The machine in a few fields, for the results file."""
    import torch

    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "-"
    return {
        "cpu": cpu_model(),
        "cores": f"{os.cpu_count()} ({usable} usable by this process)",
        "load average at start (1, 5, 15 min)": load,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch threads": f"{torch.get_num_threads()} by default; the probe figures set 1",
        "gpu": "CUDA available"
        if torch.cuda.is_available()
        else "none (CUDA figures not measured)",
        "os": platform.platform(),
    }


def git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
    except OSError:
        return "-"
    return out.stdout.strip() + (" (with local changes)" if dirty.stdout.strip() else "")
