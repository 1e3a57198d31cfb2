"""What `tuigrad.watch(every=10)` costs a bare training loop, as a ratio of step times.

    python benchmarks/bench_watch.py [--reps 40] [--steps 100] [--every 10] [--threads 1]

One MLP (20 Linear+Tanh layers of width 256, batch 256, SGD) trains in one process. Each
repetition runs three blocks of `--steps` steps in turns, in an order that rotates: the bare
loop, the watched loop (a new watcher each block, so each block holds one histogram step, as
a run does every `10 * every` steps), and the bare loop again. The watched loop also calls
`watcher.log(loss=loss)`, as a user's would. Target: at most 2% over bare.

Two estimates of the overhead, in CPU time (every thread, the run file's writer included):
- per-step medians: each step's CPU time, pooled over all blocks by its place in the sampling
  period (the histogram step, the sampled steps, the step after each, the others), each
  place's median less the bare step's median, weighted by how often it comes in a block. A
  burst of load on this shared machine lands in a few steps, which the medians leave out;
  this is the figure reported.
- paired blocks: the median over repetitions of watched / bare, two blocks seconds apart.
Both are also given for bare again against bare: two identical loops, the noise to read the
overhead against. The extra time spread over `--every` steps is also shown as the cost of one
sampled step, in bare steps.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

import tuigrad


def make_model(depth: int, width: int) -> nn.Module:
    torch.manual_seed(0)
    layers: list[nn.Module] = []
    for _ in range(depth):
        layers += [nn.Linear(width, width), nn.Tanh()]
    return nn.Sequential(*layers, nn.Linear(width, 10))


def block(model, optimizer, x, y, steps: int, watcher=None) -> tuple[float, float, list[float]]:
    """Seconds per step over `steps` steps of the user's loop: wall time and CPU time, and
    each step's CPU time."""
    started, cpu = time.perf_counter(), time.process_time()
    each = []
    for _ in range(steps):
        t = time.process_time()
        loss = nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if watcher is not None:
            watcher.log(loss=loss)
        each.append(time.process_time() - t)
    return (time.perf_counter() - started) / steps, (time.process_time() - cpu) / steps, each


ORDERS = (
    ("bare", "watched", "bare again"),
    ("watched", "bare again", "bare"),
    ("bare again", "bare", "watched"),
    ("watched", "bare", "bare again"),
    ("bare", "bare again", "watched"),
    ("bare again", "watched", "bare"),
)


def measure(
    reps: int = 40,
    steps: int = 100,
    every: int = 10,
    depth: int = 20,
    width: int = 256,
    batch: int = 256,
    threads: int = 1,
    quick: bool = False,
) -> dict:
    """Seconds per step, bare and watched (medians of blocks, wall and CPU), and the two
    estimates of the overhead the module describes, each with its bare-again counterpart."""
    if quick:  # checks that it runs, not how fast
        reps, steps, depth, width, batch = 1, 20, 2, 16, 32
    torch.set_num_threads(threads)
    x = torch.randn(batch, width)  # (batch, width)
    y = torch.randint(0, 10, (batch,))
    model = make_model(depth, width)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

    # One model for all, so that memory layout cannot favour any; the watcher is attached
    # and closed (a new run file each time) outside the timed blocks.
    times: dict[str, list[tuple[float, float, list[float]]]] = {mode: [] for mode in ORDERS[0]}
    frames = 0
    with tempfile.TemporaryDirectory() as tmp:
        block(model, optimizer, x, y, steps)  # warm-up
        for rep in range(reps + 1):
            for mode in ORDERS[rep % len(ORDERS)]:
                if mode == "watched":
                    out = Path(tmp) / f"bench-{rep}.tuigrad"
                    watcher = tuigrad.watch(model, optimizer, out=out, every=every)
                    seconds = block(model, optimizer, x, y, steps, watcher)
                    watcher.close()
                    frames += watcher.writer.written
                else:
                    seconds = block(model, optimizer, x, y, steps)
                if rep > 0:  # the first repetition warms the watcher up
                    times[mode].append(seconds)

    result = {"net": f"MLP {depth}x{width}, batch {batch}, SGD", "threads": threads,
              "reps": reps, "steps": steps, "every": every, "frames": frames}  # fmt: skip
    for k, clock in enumerate(("wall", "cpu")):
        bare = [t[k] for t in times["bare"]]
        result[f"{clock}_ms"] = (
            statistics.median(bare) * 1e3,
            statistics.median(t[k] for t in times["watched"]) * 1e3,
        )
        for mode, key in (("watched", "overhead"), ("bare again", "noise")):
            ratios = [t[k] / b - 1 for t, b in zip(times[mode], bare, strict=True)]
            result[f"{clock}_{key}"] = statistics.median(ratios)
            if len(ratios) >= 4:
                q1, _, q3 = statistics.quantiles(ratios, n=4)
                result[f"{clock}_{key}_iqr"] = (q1, q3)
    # Each step's CPU time, pooled by its place in the sampling period over every block: a
    # burst of load on the machine lands in a few steps, whose medians leave it out.
    places = {"first": lambda k: k == 0, "sampled": lambda k: k > 0 and k % every == 0,
              "after": lambda k: k % every == 1, "between": lambda k: k % every > 1}  # fmt: skip
    bare_step = statistics.median(s for t in times["bare"] for s in t[2])
    for mode, key in (("watched", "steps"), ("bare again", "steps_noise")):
        extra = {}
        for place, where in places.items():
            pooled = [s for t in times[mode] for k, s in enumerate(t[2]) if where(k)]
            extra[place] = (statistics.median(pooled) - bare_step, sum(map(where, range(steps))))
        result[f"{key}_extra_ms"] = {place: e * 1e3 for place, (e, _) in extra.items()}
        result[f"{key}_overhead"] = sum(e * n for e, n in extra.values()) / (steps * bare_step)
    # All the extra time is spent in sampled steps.
    result["sampled_cost"] = result["cpu_overhead"] * every
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=40)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--every", type=int, default=10)
    parser.add_argument("--depth", type=int, default=20)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    r = measure(**vars(args))
    print(
        f"{r['net']}, {r['threads']} thread(s), {r['reps']} x {r['steps']} steps each, "
        f"watch(every={r['every']}): {r['frames']} frames"
    )
    for clock in ("wall", "cpu"):
        bare_ms, watched_ms = r[f"{clock}_ms"]
        over = r[f"{clock}_overhead"]
        print(
            f"{clock:4} time: bare {bare_ms:7.3f} ms/step, watched {watched_ms:7.3f} ms/step "
            f"(medians of blocks); watched / bare {over * 100:+.2f}%, "
            f"bare again / bare {r[f'{clock}_noise'] * 100:+.2f}% (medians of paired ratios)"
        )
        for key in ("overhead", "noise"):
            if f"{clock}_{key}_iqr" in r:
                q1, q3 = r[f"{clock}_{key}_iqr"]
                print(f"     {key} quartiles {q1 * 100:+.2f}% .. {q3 * 100:+.2f}%")
    for key, label in (("steps", "watched"), ("steps_noise", "bare again")):
        extra = ", ".join(f"{p} {ms:+.2f}" for p, ms in r[f"{key}_extra_ms"].items())
        print(
            f"per-step medians, {label} - bare (ms): {extra}; over a block "
            f"{r[f'{key}_overhead'] * 100:+.2f}%"
        )
    print(f"one sampled step costs {r['sampled_cost']:.3f} bare steps more (CPU time)")


if __name__ == "__main__":
    main()
