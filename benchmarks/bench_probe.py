"""Probe overhead: the trainer's step, measured, against the same step written plainly in torch.

    python -m benchmarks.bench_probe [--configs 20x256:tanh:sgd,...] [--reps 7] [--inner 50]

The variants run on one torch thread, in one process, in turns (benchmarks.common
.interleaved_calls), each step timed. bare, default, the PROBES and all train one network (the
default variant's model and optimizer); floor and tensorboard, which add hooks of their own,
train their own copy of it (same spec, same seed):

- bare: forward, loss, backward, optimizer step, and nothing else (plain torch); "bare again"
  is the same step in turns of its own, whose overhead over bare is the noise;
- default: `Trainer.step()` at the shipped probe settings (`ProbeSpec()`), its validation pass
  (every `val_every` steps) timed on its own and added, amortised over `val_every` steps;
- the PROBES below: `Trainer.step()` at other sampling settings, for comparison; "plain"
  measures no step, which leaves what the trainer's step costs besides the probe (the
  gradient norm and its non-finite check, above all);
- all: `Trainer.step()` measuring every statistic and every histogram at every step (no
  validation pass);
- floor: the bare step plus one extra read of every activation, its gradient and every weight
  gradient (a sum over each, all sums moved to the host at once): no probe can cost less;
- tensorboard: the bare step plus, per layer, `SummaryWriter.add_histogram` of the activation,
  the weight gradient and the weight, and `add_scalar` of six statistics computed in torch.
  Timed in turns of its own with the bare step and "all" (its writer works in a thread of its
  own). Skipped when tensorboard is not importable.

Two estimates of each overhead over the bare step, in CPU time:
- steady (the figure reported): common.per_position over all of a variant's turns, against
  the bare step's. Turns of one variant on this shared machine differ by 2 to 3 points, in
  bursts that land in a few steps; the per-place medians leave those out and keep every cost
  that comes at the same place in each turn, sampled steps and a turn's first steps included;
- turns: the median over repetitions of a turn's mean step / the bare turn's in the same
  repetition.
"""

from __future__ import annotations

import argparse
import math
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F

from benchmarks.common import interleaved, interleaved_calls, median, median_ratio, per_position
from tuigrad.engine.trainer import Trainer
from tuigrad.spec import ProbeSpec, Spec


@dataclass(frozen=True)
class Config:
    depth: int
    width: int
    batch: int
    activation: str
    optimizer: str

    @property
    def name(self) -> str:
        return f"{self.depth}x{self.width} b{self.batch} {self.activation} {self.optimizer}"

    def spec(self, probe: ProbeSpec = ProbeSpec()) -> Spec:  # noqa: B008 - frozen, shared
        init = "xavier_normal" if self.activation == "tanh" else "kaiming_normal"
        lr = 0.01 if self.optimizer == "sgd" else 0.001
        spec = Spec(title=self.name).with_values(
            {
                "device": "cpu",
                "model.depth": self.depth,
                "model.width": self.width,
                "model.activation": self.activation,
                "model.init": init,
                "optimizer.name": self.optimizer,
                "optimizer.lr": lr,
                "data.batch_size": self.batch,
                "data.samples": max(4096, 4 * self.batch),
            }
        )
        return spec.with_values({f"probe.{k}": v for k, v in vars(probe).items()})


def parse_config(text: str) -> Config:
    """`20x256:tanh:sgd` or `8x1024:relu:adam:512` (depth x width : activation : optimizer : batch)."""
    shape, activation, optimizer, *batch = text.split(":")
    depth, width = (int(x) for x in shape.split("x"))
    return Config(depth, width, int(batch[0]) if batch else 256, activation, optimizer)


NEVER = 10**9  # an interval no run reaches: only the first step is measured

# Other sampling settings measured beside the default: name -> (settings, description).
PROBES = {
    "plain": (
        ProbeSpec(every=NEVER, hist_every=NEVER, val_every=0),
        "no step measured, the trainer alone",
    ),
    "every1": (ProbeSpec(every=1, hist_every=10, val_every=0), "every step, histograms every 10th"),
    "every10_hist10": (
        ProbeSpec(every=10, hist_every=10, val_every=0),
        "every 10th step, histograms too",
    ),
}

SHAPES = ((20, 256, 256), (50, 128, 256), (8, 1024, 512))
COMBOS = (("tanh", "sgd"), ("tanh", "adam"), ("relu", "sgd"), ("relu", "adam"))
CONFIGS = tuple(Config(d, w, b, a, o) for d, w, b in SHAPES for a, o in COMBOS)


def has_tensorboard() -> bool:
    try:
        from torch.utils.tensorboard import SummaryWriter  # noqa: F401
    except ImportError:
        return False
    return True


# ---- the variants --------------------------------------------------------------------------


class Batches:
    """The training split in a fresh random order each epoch, batch by batch."""

    def __init__(self, trainer: Trainer, batch: int) -> None:
        self.x, self.y = trainer.data.x_train, trainer.data.y_train
        self.batch = batch
        self.gen = torch.Generator().manual_seed(1)
        self.order, self.cursor = torch.randperm(len(self.x), generator=self.gen), 0

    def next(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self.cursor + self.batch > len(self.x):
            self.order, self.cursor = torch.randperm(len(self.x), generator=self.gen), 0
        idx = self.order[self.cursor : self.cursor + self.batch]
        self.cursor += self.batch
        return self.x[idx], self.y[idx]


def bare_step(config: Config, trainer: Trainer | None = None) -> Callable[[], None]:
    """The plain torch step, on `trainer`'s own model and optimizer when given.

    NOTE: two copies of the same network can differ by several percent in speed (where their
    tensors landed in memory), so the default variant is timed on the same tensors as the
    bare step it is compared with.
    """
    trainer = trainer or Trainer(config.spec())
    model, optimizer, batches = trainer.model, trainer.optimizer, Batches(trainer, config.batch)

    def step() -> None:
        x, y = batches.next()
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return step


class Kept:
    """Each block's Linear output, activation output and its gradient, kept by hooks of our own
    (as a user's logger would take them) on every step."""

    def __init__(self, block: torch.nn.Module) -> None:
        self.block = block
        self.preact = self.act = self.out_grad = None
        block.linear.register_forward_hook(lambda _m, _i, out: setattr(self, "preact", out))
        block.act.register_forward_hook(self._keep_act)

    def _keep_act(self, _module: torch.nn.Module, _inputs: tuple, out: torch.Tensor) -> None:
        self.act = out
        if out.requires_grad:
            out.register_hook(lambda grad: setattr(self, "out_grad", grad))


def captured_step(config: Config, after: Callable[[list[Kept], int], None]) -> Callable[[], None]:
    """The bare step with activations kept (and their gradients), then `after(kept, step)`."""
    trainer = Trainer(config.spec())
    kept = [Kept(block) for block in trainer.model.blocks]
    bare = bare_step(config, trainer)
    count = [0]

    def step() -> None:
        bare()
        after(kept, count[0])
        count[0] += 1

    return step


def floor_read(kept: list[Kept], step: int) -> None:
    sums = []
    for k in kept:
        sums += [k.act.detach().sum(), k.out_grad.sum(), k.block.linear.weight.grad.sum()]
    torch.stack(sums).tolist()


def tensorboard_logger(folder: str) -> Callable[[list[Kept], int], None]:
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(folder, max_queue=1000, flush_secs=3600)

    def log(kept: list[Kept], step: int) -> None:
        for i, k in enumerate(kept):
            pre, act, out_grad = k.preact, k.act.detach(), k.out_grad
            weight, grad = k.block.linear.weight.detach(), k.block.linear.weight.grad
            name = f"L{i + 1}"
            writer.add_histogram(f"{name}/act", act, step)
            writer.add_histogram(f"{name}/grad", grad, step)
            writer.add_histogram(f"{name}/weight", weight, step)
            writer.add_scalar(f"{name}/act_mean", act.mean(), step)
            writer.add_scalar(f"{name}/act_std", act.std(), step)
            writer.add_scalar(f"{name}/preact_std", pre.detach().std(), step)
            writer.add_scalar(f"{name}/out_grad_std", out_grad.std(), step)
            writer.add_scalar(f"{name}/grad_norm", grad.norm(), step)
            writer.add_scalar(f"{name}/grad_to_weight", grad.std() / weight.std(), step)

    log.writer = writer  # type: ignore[attr-defined]
    return log


def trainer_step(config: Config, probe: ProbeSpec, network: Trainer) -> Callable[[], None]:
    """`Trainer.step()` at `probe`'s settings, training `network`'s model and optimizer (as
    the bare step does: where a network's tensors land moves its speed by a few percent)."""
    trainer = Trainer(config.spec(probe))
    trainer.model, trainer.optimizer, trainer.params = (
        network.model,
        network.optimizer,
        network.params,
    )
    trainer.step()  # the first step is always measured
    return lambda: trainer.step()


# ---- one configuration ---------------------------------------------------------------------


def measure(config: Config, reps: int, inner: int, tensorboard: bool | None = None) -> dict:
    """Seconds per step of each variant (medians) and the overheads over the bare step.

    Each turn runs `inner` steps of a variant: make it a multiple of the default's `every` (50
    also holds one histogram step), or turns differ in how many sampled steps they hold.
    """
    torch.set_num_threads(1)
    # NOTE: on Intel CPUs, Adam's first moments of dead ReLU units decay into subnormal floats
    # within about 1,000 steps, and each operation on one then takes a microcode assist: the
    # shared network's bare step (20 x 256 ReLU Adam) doubled as it trained, while the floor
    # and TensorBoard variants, each with a network of its own a tenth as old, did not. Flushed
    # to zero, every network runs at one speed whatever its age. Plain torch does not flush.
    flush = torch.set_flush_denormal(True)
    try:
        return _measure(config, reps, inner, tensorboard)
    finally:
        if flush:
            torch.set_flush_denormal(False)


def _measure(config: Config, reps: int, inner: int, tensorboard: bool | None) -> dict:
    tensorboard = has_tensorboard() if tensorboard is None else tensorboard
    default = ProbeSpec()
    shipped = Trainer(config.spec(default))
    variants = {
        "bare": bare_step(config, shipped),
        # The same bare step again, in turns of its own: the noise to read the overheads by.
        "bare again": bare_step(config, shipped),
        # NOTE: the default's validation comes once in val_every steps, in one turn of several,
        # and a median over turns would leave it out: it is timed on its own and added.
        "default": trainer_step(config, replace(default, val_every=0), shipped),
        "validation": lambda: shipped._validate(),
        **{name: trainer_step(config, probe, shipped) for name, (probe, _) in PROBES.items()},
        "floor": captured_step(config, floor_read),
    }
    # The shipped default may already measure everything every step: then it is "all".
    if (default.every, default.hist_every or default.every) != (1, 1):
        every_step = ProbeSpec(every=1, hist_every=1, val_every=0)
        variants["all"] = trainer_step(config, every_step, shipped)
    for call in variants.values():  # warm up: allocator, first-call paths, histogram ranges
        for _ in range(3):
            call()
    calls = interleaved_calls(variants, reps, inner)
    calls.setdefault("all", calls["default"])
    val_every = default.val_every or math.inf
    validation = [sum(turn) / len(turn) for turn in calls.pop("validation")]
    # Two estimates of each variant's seconds per step: the mean of each turn (one sample per
    # repetition, compared in pairs with the bare turn of the same repetition), and
    # per_position over all its turns.
    samples = {name: [sum(turn) / len(turn) for turn in turns] for name, turns in calls.items()}
    steady = {name: per_position(turns) for name, turns in calls.items()}
    samples["default"] = [d + v / val_every for d, v in zip(samples["default"], validation, strict=True)]  # fmt: skip
    steady["default"] += median(validation) / val_every
    bare = samples["bare"]
    out = {"config": config.name, "reps": reps, "inner": inner}
    out["ms"] = {name: median(s) * 1e3 for name, s in samples.items()}
    out["validation_ms"] = median(validation) * 1e3
    out["overhead"] = {n: median_ratio(s, bare) - 1 for n, s in samples.items() if n != "bare"}
    out["steady_ms"] = {name: seconds * 1e3 for name, seconds in steady.items()}
    out["steady_overhead"] = {n: s / steady["bare"] - 1 for n, s in steady.items() if n != "bare"}
    if tensorboard:
        out.update(_tensorboard_turns(config, variants, reps, min(inner, 10)))
    return out


def _tensorboard_turns(config: Config, variants: dict, reps: int, inner: int) -> dict:
    """TensorBoard against the bare step and the probe's "all", in turns of their own.

    NOTE: SummaryWriter writes from a thread of its own; timed in the same turns as the other
    variants, its work landed in their CPU time and on the other core, and made the default
    look a few percent dearer than it is.
    """
    with tempfile.TemporaryDirectory() as folder:
        logger = tensorboard_logger(folder)
        logged = captured_step(config, logger)
        for _ in range(3):
            logged()
        turns = {"bare": variants["bare"], "all": variants.get("all", variants["default"])}
        samples = interleaved({**turns, "tensorboard": logged}, reps, inner)
        logger.writer.close()
    bare = samples["bare"]
    extra_tb = [t - b for t, b in zip(samples["tensorboard"], bare, strict=True)]
    extra_all = [a - b for a, b in zip(samples["all"], bare, strict=True)]
    ratios = [t / a if a > 0 else math.inf for t, a in zip(extra_tb, extra_all, strict=True)]
    return {
        "tensorboard_ms": median(samples["tensorboard"]) * 1e3,
        "tensorboard_overhead": median_ratio(samples["tensorboard"], bare) - 1,
        "tensorboard_vs_probe": median(ratios),
    }


def describe(result: dict) -> str:
    ms, over, steady = result["ms"], result["overhead"], result["steady_overhead"]
    parts = [f"bare {ms['bare']:.2f} ms"]
    parts += [f"{n} {ms[n]:.2f} ms ({steady[n]:+.1%}; turns {over[n]:+.1%})" for n in over]
    if "tensorboard_vs_probe" in result:
        tb_ms, tb_over = result["tensorboard_ms"], result["tensorboard_overhead"]
        parts.append(f"tensorboard {tb_ms:.2f} ms ({tb_over:+.1%})")
        parts.append(f"tensorboard extra / probe extra {result['tensorboard_vs_probe']:.1f}x")
    return f"{result['config']}: " + ", ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", default=",".join(f"{c.depth}x{c.width}:{c.activation}:"
                        f"{c.optimizer}:{c.batch}" for c in CONFIGS))  # fmt: skip
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--inner", type=int, default=50)
    parser.add_argument("--no-tensorboard", action="store_true")
    args = parser.parse_args()
    for text in args.configs.split(","):
        config = parse_config(text)
        tb = False if args.no_tensorboard else None
        print(describe(measure(config, args.reps, args.inner, tb)), flush=True)


if __name__ == "__main__":
    main()
