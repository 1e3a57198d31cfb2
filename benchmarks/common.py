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
    rng = random.Random(seed)
    names = list(variants)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(reps):
        rng.shuffle(names)
        for name in names:
            call = variants[name]
            t = clock()
            for _ in range(inner):
                call()
            samples[name].append((clock() - t) / inner)
    return samples


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
