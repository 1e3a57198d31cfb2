"""Memory growth of a long live run: RSS of a process training a tiny net for many steps.

    python -m benchmarks.bench_memory [--steps 200000] [--depth 2] [--width 8] [--json]

The trainer runs in a ThreadLiveSource (the Runner in a thread, frames into the bounded
buffer the app reads), in this process, at the shipped probe settings; a reader takes the new
frames ten times a second, as the app does. RSS is sampled as the run goes; the figure is the
RSS at the end less the RSS after the first `--settle` steps (torch and the model loaded).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from pathlib import Path


def rss_mb() -> float:
    """Resident set size of this process in MB (from /proc on Linux, else the peak)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 1e6
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


def measure(steps: int = 200_000, depth: int = 2, width: int = 8, settle: int = 2000) -> dict:
    import torch

    from tuigrad.sources.base import RunState
    from tuigrad.sources.live import ThreadLiveSource
    from tuigrad.spec import Spec

    torch.set_num_threads(1)
    spec = Spec(title="tiny").with_values(
        {"model.depth": depth, "model.width": width, "device": "cpu"}
    )
    source = ThreadLiveSource(spec, max_steps=steps, autostart=True)
    samples: list[tuple[int, float]] = []
    read, latest, base = 0, 0, None
    started = time.monotonic()
    try:
        while source.status().state not in (RunState.FINISHED, RunState.ERROR):
            time.sleep(0.1)
            frames = source.frames_since(read)
            read += len(frames)
            latest = frames[-1].step if frames else latest
            if base is None and latest >= settle:
                base = rss_mb()
            if not samples or latest - samples[-1][0] >= steps // 20:
                samples.append((latest, rss_mb()))
        status = source.status()
    finally:
        source.close()
    samples.append((latest, rss_mb()))
    if status.state is RunState.ERROR:
        raise RuntimeError(f"the run failed: {status.message}")
    base = samples[0][1] if base is None else base
    return {
        "steps": latest + 1,
        "net": f"{depth}x{width}",
        "buffer_frames": source._limit or source.max_frames,
        "rss_after_settle_mb": base,
        "rss_end_mb": samples[-1][1],
        "peak_mb": max(m for _, m in samples),
        "growth_mb": samples[-1][1] - base,
        "seconds": time.monotonic() - started,
        "samples": samples,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200_000)
    parser.add_argument("--depth", type=int, default=2)
    parser.add_argument("--width", type=int, default=8)
    parser.add_argument("--settle", type=int, default=2000)
    parser.add_argument("--json", action="store_true", help="print the result as one JSON line")
    args = parser.parse_args()
    result = measure(args.steps, args.depth, args.width, min(args.settle, args.steps // 2))
    if args.json:
        print(json.dumps(result))
        return
    print(
        f"{result['steps']} steps of a {result['net']} net in {result['seconds']:.0f} s: RSS "
        f"{result['rss_after_settle_mb']:.1f} MB after settling, {result['rss_end_mb']:.1f} MB "
        f"at the end (growth {result['growth_mb']:+.1f} MB, peak {result['peak_mb']:.1f} MB)"
    )
    for step, mb in result["samples"]:
        print(f"  step {step:>8}  {mb:8.1f} MB")


if __name__ == "__main__":
    main()
