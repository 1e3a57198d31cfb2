"""What recording costs a live run: training steps/s with and without a run file being written.

    python -m benchmarks.bench_recording [--steps 1500] [--repeats 2] [--set key=value ...]

Trains the spec in the spawned child process (as `tuigrad open` does) until `--steps`, polling
the source the way the UI does, alternately with a Recorder writing every frame in this process
and without one. Prints the steps/s of each run and the ratio of the medians.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from tuigrad import presets
from tuigrad.runs import Recorder, RunReader
from tuigrad.sources.base import RunState
from tuigrad.sources.live import LiveSource

POLL_S = 0.1  # the UI's pull interval at its default 10 fps


def train(spec, steps: int, recorder: Recorder | None) -> float:  # noqa: ANN001
    """Steps/s of one run of `steps` steps, timed from its first frame to its last."""
    source = LiveSource(spec, max_steps=steps, recorder=recorder)
    try:
        source.start()
        first = None
        read = 0
        while source.status().state is not RunState.FINISHED:
            if source.status().state is RunState.ERROR:
                raise SystemExit(source.status().message)
            frames = source.frames_since(read)
            read += len(frames)
            if frames and first is None:
                first = (time.perf_counter(), frames[0].step)
            time.sleep(POLL_S)
        frames = source.frames_since(read)
        last_step = frames[-1].step if frames else steps - 1
        t0, step0 = first or (time.perf_counter(), 0)
        return (last_step - step0) / (time.perf_counter() - t0)
    finally:
        source.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--set", dest="assignments", action="append", default=["device=cpu"])
    args = parser.parse_args()
    spec = presets.resolve(None, args.assignments)

    rates: dict[bool, list[float]] = {False: [], True: []}
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(args.repeats):
            for recording in (False, True):
                recorder = Recorder(Path(tmp) / f"run{k}.tuigrad") if recording else None
                rates[recording].append(train(spec, args.steps, recorder))
                if recorder is not None:
                    with RunReader(recorder.paths[0]) as reader:
                        frames = len(reader)
                    print(f"  recorded {frames} frames", flush=True)
                label = "recording" if recording else "plain"
                print(f"  {label:9s} {rates[recording][-1]:8.1f} steps/s", flush=True)
    plain, recorded = (statistics.median(rates[r]) for r in (False, True))
    print(
        f"{spec.title}: {plain:.1f} steps/s plain, {recorded:.1f} recording ({recorded / plain:.3f})"
    )


if __name__ == "__main__":
    main()
