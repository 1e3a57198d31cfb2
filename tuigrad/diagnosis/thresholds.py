"""Every number the diagnosis compares against, in one place, each with its reasoning.

The rule of thumb behind all of them: a healthy run must raise nothing. Per-layer statistics
of a healthy network differ by small factors (2-3x across layers is normal), so every
threshold sits orders of magnitude away from healthy values, and a finding needs the
condition to hold in most of the last `smooth` frames, not in one noisy minibatch.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Thresholds:
    """Limits used by the rules; pass a modified copy to `diagnose` to experiment."""

    # Frames in the rolling majority/median that decides whether a condition holds now.
    # Five sampled frames smooth out one unlucky minibatch without hiding a real change.
    smooth: int = 5

    # Vanishing: gradient reaching a hidden layer's output (per element, out_grad_std) over
    # the largest such gradient among the hidden layers. The chain rule multiplies one factor
    # per layer; healthy factors are near 1, so healthy nets stay within ~10x. 100x smaller
    # means those layers learn two orders of magnitude slower than the rest.
    vanish_warn: float = 1e-2
    vanish_error: float = 1e-4

    # Exploding through depth: the mirror image, the earliest layers receiving gradients this
    # many times larger than the smallest later one (factors above 1 compounding).
    # With an adaptive optimizer (Adam, AdamW, RMSprop, Adagrad) a ratio below the error limit
    # is only info: each weight's step is divided by the size of its own gradient, so a
    # gradient 100x larger at L1 does not mean a step 100x larger (trained Adam nets show
    # 200x with the loss near 0).
    explode_depth_warn: float = 1e2
    explode_depth_error: float = 1e4
    # Exploding over time: the total gradient norm before clipping, now over its value at the
    # start. Learning can raise it 10x as the loss surface steepens; 100x with a norm that is
    # large in absolute terms is the feedback loop of a too-large step.
    explode_growth_warn: float = 1e2
    explode_growth_error: float = 1e4
    # A gradient norm below this is never "exploding", whatever its growth: cross-entropy and
    # MSE on standardised data give total norms of order 0.1-10 in healthy nets.
    explode_min_norm: float = 1e2
    # Above this the next step overflows float16 and is near float32 trouble; always an error.
    explode_huge_norm: float = 1e6

    # Collapse: a hidden layer's activation std over the largest std among the layers before
    # it. Xavier/Kaiming keep the variance about constant with depth; a tenth means the signal
    # has lost 90% of its spread and keeps shrinking layer after layer.
    collapse_warn: float = 0.1
    collapse_error: float = 1e-3

    # Saturation (tanh, sigmoid): fraction of units in the flat tails, where the derivative
    # is under 0.06. With unit-variance pre-activations about 4% of tanh units sit there;
    # 30% means a third of the gradient path is nearly shut.
    # In layers with a skip connection saturation is only info: the skip passes the gradient
    # on unchanged (a 40-layer residual tanh net trains well with 90% of its units saturated).
    saturated_warn: float = 0.3
    saturated_error: float = 0.6

    # Dead units (ReLU): fraction of units that output 0 for every example of the batch. On
    # low-dimensional data healthy nets run with 10-30% dead, and SGD at lr 0.3 or Adam at 1e-2
    # still trains well with 50-60% dead; 70% is most of the layer's width gone for good.
    dead_warn: float = 0.7
    # Almost the whole layer: the gradient to every layer below passes through a few units.
    dead_error: float = 0.95
    # With fewer rows than this a unit can be silent on all of them by chance: no finding.
    dead_min_rows: int = 32

    # Symmetry: spread across units (unit_spread) relative to the activations' own scale.
    # Identical units differ only by rounding (~1e-7 in float32); random init gives ~1.
    symmetry_rel: float = 1e-4

    # Update:data ratio, std(update)/std(weight) per step. ~1e-3 is the usual healthy value;
    # Adam on small problems often runs at 1e-2 and trains fine, so only extremes count.
    update_target: float = 1e-3
    # The first steps are skipped: Adam's first update and warm-up are not representative.
    update_skip_steps: int = 10
    # Above this the weights change by a tenth of their size every step: too large a step.
    update_high_warn: float = 0.1
    # Above this each step replaces the weights entirely.
    update_high_error: float = 1.0
    # Below this (median over layers) learning is at least 100x slower than it should be.
    update_low_warn: float = 1e-5

    # No progress: judged only after this many steps and sampled frames.
    progress_min_steps: int = 100
    # ...and only on frames from the run's start: a flat stretch seen later (a replay opened
    # half way, a followed file) may be a loss that has already converged.
    progress_first_step: int = 0
    progress_min_frames: int = 10
    # The loss must have fallen by at least this fraction of its starting value.
    progress_min_gain: float = 0.03
    # A loss this many times its starting value is rising, not stalling.
    progress_rise: float = 1.5


THRESHOLDS = Thresholds()
