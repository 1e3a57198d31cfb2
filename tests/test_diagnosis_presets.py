"""Diagnosis on the shipped presets: each broken one is named correctly, the healthy ones raise
nothing, and each suggested fix cures what it was suggested for within the preset's horizon."""

from __future__ import annotations

import pytest

from tests.preset_runs import HORIZON
from tuigrad.diagnosis import Diagnoser

# The warnings each broken preset raises at the end of its horizon; the first is the one listed
# first (most severe, root cause first), whose fix is tried below.
BROKEN = {
    "zero-init": ("symmetry",),
    "constant-init": ("symmetry",),
    "tanh-small-init": ("collapse",),
    "tanh-large-init": ("saturation",),
    "sigmoid-deep": ("vanishing", "no_progress"),
    "relu-xavier": ("collapse", "vanishing"),
    "torch-default-init": ("vanishing", "collapse"),
    "exploding": ("nonfinite", "exploding"),
    "deep-plain": ("vanishing", "no_progress"),
    "bad-init": ("vanishing", "collapse", "no_progress"),
    "dead-relu": ("dead_units", "no_progress"),
}
# Cured of the symptom, not of its cause: clipping keeps exploding-clipped finite and training,
# but its init is still too large. Through depth its gradients grow about 1.25x a layer, and
# as the loss falls the ratio wanders around the 100x warning limit (30x to 180x over the last
# 100 steps, by CPU kernel), so the depth finding may stand at the end, never anything else.
TAMED = {"exploding-clipped": {"exploding"}}
HEALTHY = sorted(set(HORIZON) - set(BROKEN) - set(TAMED))


def test_every_preset_is_either_broken_or_healthy():
    assert set(BROKEN) <= set(HORIZON)
    assert "default" in HEALTHY and "optim-sgd" in HEALTHY
    assert set(TAMED) <= set(HORIZON) and not set(TAMED) & (set(BROKEN) | set(HEALTHY))


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_preset_is_diagnosed_and_named(preset_runs, name):
    warnings = preset_runs(name).warnings()
    assert [f.kind for f in warnings] == list(BROKEN[name])
    assert all(f.message and f.explanation for f in warnings)


@pytest.mark.slow
@pytest.mark.parametrize("name", HEALTHY)
def test_healthy_preset_raises_no_warning(preset_runs, name):
    assert preset_runs(name).warnings() == []


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(BROKEN))
def test_suggested_fix_removes_the_finding(preset_runs, name):
    found = preset_runs(name).warnings()[0]
    assert found.fix, f"{name}: {found.kind} suggests no fix"
    cured = preset_runs(name, found.fix)
    assert found.kind not in {f.kind for f in cured.warnings()}


# Healthy at the end, not at the start: what each of these shows on its first frames, and why.
STARTS_BROKEN = {
    # The negative bias of dead-relu: the units start silent, then recover.
    "dead-relu-leaky": {"vanishing", "collapse"},
    "dead-relu-gelu": {"vanishing"},
    # Xavier halves the variance at each ReLU layer (the relu-xavier lesson) until trained.
    "sigmoid-deep-relu": {"collapse"},
}


@pytest.mark.slow
@pytest.mark.parametrize("name", HEALTHY)
def test_healthy_preset_never_raises_a_warning_on_the_way(preset_runs, name):
    run = preset_runs(name)
    diagnoser = Diagnoser(run.layers, run.spec, every=1)
    seen: set[str] = set()
    for frame in run.frames:
        diagnoser.push([frame])
        seen |= {f.kind for f in diagnoser.findings if f.is_warning}
    assert seen == STARTS_BROKEN.get(name, set())
    assert not {f.kind for f in diagnoser.findings if f.is_warning}  # and all of it cleared


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(TAMED))
def test_tamed_preset_keeps_only_the_cause_it_does_not_cure(preset_runs, name):
    run = preset_runs(name)
    diagnoser = Diagnoser(run.layers, run.spec, every=1)
    first: dict[str, int] = {}
    for frame in run.frames:
        diagnoser.push([frame])
        for f in diagnoser.findings:
            if f.is_warning:
                first.setdefault(f.kind, frame.step)
    assert set(first) == TAMED[name]  # nothing else on the way: no non-finite, no growth in time
    assert max(first.values()) < 50  # the cause shows from the start
    for finding in run.warnings():
        assert finding.layers and "larger than the last hidden layers" in finding.message
        assert finding.fix == {"model.init": "kaiming_normal"}
