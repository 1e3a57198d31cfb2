"""What a seek costs in the replay and compare views: the source's seek plus the app's redraw.

    python -m benchmarks.bench_replay_seek RUN [--seeks 60] [--size 120x40]

Opens RUN (e.g. a file kept by `python -m benchmarks.bench_runs --keep PATH`) in the replay
view, and the pair (RUN, RUN) in the compare view, headless; then seeks to random steps and
times each seek with the poll that reads the new view and redraws the screen. Also times the
first `f` (diagnosing the recording).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time

from tuigrad.cli.replay_cmd import VIEW_WINDOW
from tuigrad.sources.compare import compare_source
from tuigrad.sources.replay import ReplaySource
from tuigrad.ui.replay_app import ReplayApp


async def measure(path: str, compare: bool, seeks: int, size: tuple[int, int]) -> str:
    source = (
        compare_source(path, path)
        if compare
        else ReplaySource(path, play=False, window=VIEW_WINDOW)
    )
    app = ReplayApp(source, compare=compare)
    rng = random.Random(0)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        last = source.reader.steps[-1]
        times = []
        for _ in range(seeks):
            t = time.perf_counter()
            source.seek(rng.randint(0, last))
            app.poll()
            times.append((time.perf_counter() - t) * 1e3)
            await pilot.pause()
        t = time.perf_counter()
        marks = source.finding_marks()
        diagnosed = (time.perf_counter() - t) * 1e3
    times.sort()
    return (
        f"{'compare' if compare else 'replay':8s} seek + redraw: median "
        f"{statistics.median(times):.1f} ms, p95 {times[int(0.95 * len(times))]:.1f} ms, "
        f"max {times[-1]:.1f} ms; {len(marks)} findings in {diagnosed:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_file", metavar="RUN")
    parser.add_argument("--seeks", type=int, default=60)
    parser.add_argument("--size", default="120x40")
    args = parser.parse_args()
    size = tuple(int(x) for x in args.size.split("x"))
    for compare in (False, True):
        print(asyncio.run(measure(args.run_file, compare, args.seeks, size)))  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
