"""Run-file costs: bytes per layer per frame, write cost per frame, open and seek times.

    python -m benchmarks.bench_runs [--frames 100000] [--layers 6] [--bins 40] [--hist-every 10]

Writes one run file of `--frames` frames to a temporary folder (or `--keep PATH`), the way a
trainer would (histograms on every `--hist-every`-th frame), then opens it and seeks to random
steps, as the replay view does.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from tuigrad.codec import encode_layers
from tuigrad.frames import HISTOGRAMS, LAYER_SCALARS, Frame, Hist, LayerInfo, LayerStats
from tuigrad.runs import RunReader, RunWriter
from tuigrad.sources.replay import ReplaySource
from tuigrad.ui.app import settle_heap


def templates(layers: int, bins: int, count: int = 16) -> list[tuple[Frame, Frame]]:
    """Pairs of (with histograms, without) frames with random statistics."""
    rng = np.random.default_rng(0)
    out = []
    for _ in range(count):
        stats = []
        for i in range(layers):
            values = dict(
                zip(LAYER_SCALARS, rng.standard_normal(len(LAYER_SCALARS)).tolist(), strict=True)
            )
            hists = {
                k: Hist(-1.0, 1.0, rng.integers(0, 500, bins).astype(np.float32))
                for k in HISTOGRAMS
            }
            stats.append(LayerStats(name=f"L{i + 1}", **values, **hists))
        full = Frame(step=0, loss=1.0, accuracy=0.5, lr=0.01, grad_norm=1.0, layers=tuple(stats))
        bare = replace(
            full,
            layers=tuple(
                replace(s, act_hist=None, grad_hist=None, weight_hist=None) for s in stats
            ),
        )
        out.append((full, bare))
    return out


def write_file(
    path: Path, frames: int, layers: int, bins: int, hist_every: int
) -> dict[str, float]:
    pairs = templates(layers, bins)
    infos = [LayerInfo(f"L{i + 1}", "256 tanh xav_n", (256, 256), "tanh") for i in range(layers)]
    calls = []
    started = time.perf_counter()
    with RunWriter(path, None, infos, queue_size=frames + 1) as writer:
        for step in range(frames):
            full, bare = pairs[step % len(pairs)]
            frame = replace(
                full if step % hist_every == 0 else bare, step=step, wall_time=step * 0.01
            )
            t = time.perf_counter()
            writer.write(frame)
            calls.append(time.perf_counter() - t)
    total = time.perf_counter() - started
    assert writer.error is None and writer.dropped == 0, (writer.error, writer.dropped)
    calls.sort()
    return {
        "write_call_mean_us": statistics.fmean(calls) * 1e6,
        "write_call_p99_us": calls[int(len(calls) * 0.99)] * 1e6,
        "recorded_frames_per_s": frames / total,
        "full_blob_bytes": len(encode_layers(pairs[0][0].layers)),
        "bare_blob_bytes": len(encode_layers(pairs[0][1].layers)),
    }


def seek_times(path: Path, seeks: int, window: int | None) -> dict[str, float]:
    started = time.perf_counter()
    reader = RunReader(path)
    opened = time.perf_counter() - started
    rng = random.Random(0)
    last = reader.last_step or 0

    frame_at = []
    for _ in range(seeks):
        t = time.perf_counter()
        reader.frame_at(rng.randint(0, last))
        frame_at.append(time.perf_counter() - t)
    reader.close()

    # What the replay view pays: seek, then read the view (up to `window` frames) it shows,
    # in a heap settled as the replay app settles it once it is up.
    source = ReplaySource(path, play=False, **({"window": window} if window else {}))
    settle_heap()
    view = []
    for _ in range(seeks):
        t = time.perf_counter()
        source.seek(rng.randint(0, last))
        source.version()
        source.frames_since(0)
        view.append(time.perf_counter() - t)
    source.close()
    return {
        "open_ms": opened * 1e3,
        "frame_at_median_ms": statistics.median(frame_at) * 1e3,
        "frame_at_max_ms": max(frame_at) * 1e3,
        "replay_seek_median_ms": statistics.median(view) * 1e3,
        "replay_seek_p95_ms": sorted(view)[int(len(view) * 0.95)] * 1e3,
        "replay_seek_max_ms": max(view) * 1e3,
        "replay_window": source.window,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100_000)
    parser.add_argument("--layers", type=int, default=6)
    parser.add_argument("--bins", type=int, default=40)
    parser.add_argument("--hist-every", type=int, default=10)
    parser.add_argument("--seeks", type=int, default=200)
    parser.add_argument("--window", type=int, help="replay view size (default: ReplaySource's)")
    parser.add_argument("--keep", type=Path, help="write the run file here and keep it")
    parser.add_argument("--reuse", action="store_true", help="seek in the --keep file only")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "bench.tuigrad"
        results = {}
        if not args.reuse:
            results = write_file(path, args.frames, args.layers, args.bins, args.hist_every)
        size = path.stat().st_size
        results["file_mb"] = size / 1e6
        results["file_bytes_per_layer_frame"] = size / (args.frames * args.layers)
        results.update(seek_times(path, args.seeks, args.window))

    print(
        f"{args.frames} frames x {args.layers} layers, {args.bins} bins, histograms every {args.hist_every}"
    )
    n = args.layers
    if "full_blob_bytes" in results:
        bare, full = results["bare_blob_bytes"] / n, results["full_blob_bytes"] / n
        print(f"  blob per layer: {bare:.0f} B scalars only, {full:.0f} B with 3 histograms")
    for key, value in results.items():
        print(f"  {key:28s} {value:10.3f}")


if __name__ == "__main__":
    main()
