"""Each diagnosis rule on constructed frames: both edges of every threshold, NaN and Inf, fixes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.diagnosis_factory import Run
from tuigrad.diagnosis import KINDS, THRESHOLDS, Finding, diagnose
from tuigrad.spec import Spec

LIM = THRESHOLDS


def kinds(findings: list[Finding]) -> list[str]:
    return [f.kind for f in findings]


def only(findings: list[Finding], kind: str) -> Finding:
    match = [f for f in findings if f.kind == kind]
    assert len(match) == 1, findings
    return match[0]


def check_fixes_apply(findings: list[Finding], spec: Spec) -> None:
    for f in findings:
        spec.with_values(f.fix)  # raises SpecError on a key or value the spec rejects


# Healthy runs -------------------------------------------------------------------------------


@pytest.mark.parametrize("act", ["tanh", "relu", "sigmoid", "gelu"])
@pytest.mark.parametrize("noise", [0.0, 0.3])
def test_healthy_runs_raise_nothing(act, noise):
    run = Run(steps=300, depth=8, act=act, noise=noise)
    # Gradients 3x apart across layers and activations narrowing 2x with depth are normal.
    run.stats["out_grad_std"] *= np.geomspace(0.33, 1.0, 9)
    run.stats["act_std"] *= np.geomspace(1.0, 0.5, 9)
    assert diagnose(run.frames(), run.layers, Spec()) == []


def test_healthy_adam_at_large_update_ratio_raises_nothing():
    run = Run(steps=200, act="relu", noise=0.2)
    run.stats["update_ratio"] *= 30  # 3e-2: Adam on small problems
    run.stats["act_dead"][:] = 0.55  # SGD at lr 0.3 trains well with this many dead units
    assert diagnose(run.frames(), run.layers) == []


def test_no_frames_no_findings():
    assert diagnose([], Run().layers) == []


# Vanishing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("factor", "expected"),
    [
        (LIM.vanish_warn * 1.1, None),
        (LIM.vanish_warn * 0.9, "warning"),
        (LIM.vanish_error * 0.9, "error"),
    ],
)
def test_vanishing_edges(factor, expected):
    run = Run()
    run.stats["out_grad_std"][:, :3] *= factor
    found = [f for f in diagnose(run.frames(), run.layers) if f.kind == "vanishing"]
    if expected is None:
        assert found == []
    else:
        assert found[0].severity == expected
        assert found[0].layers == ("L1", "L2", "L3")
        assert found[0].since_step == 0


def test_vanishing_message_states_the_measured_ratio():
    run = Run()
    run.stats["out_grad_std"][:, 0] = 2e-9
    run.stats["out_grad_std"][:, 5] = 4e-3
    f = only(diagnose(run.frames(), run.layers), "vanishing")
    assert f.layers == ("L1",)
    assert "2e6x smaller than L6" in f.message  # 4e-3 / 2e-9
    assert f.message.startswith("L1 receives gradients")


def test_vanishing_towards_the_output_is_not_vanishing():
    run = Run()
    run.stats["out_grad_std"][:, 3:6] *= 1e-4  # later layers smaller: not the input side
    assert "vanishing" not in kinds(diagnose(run.frames(), run.layers))


def test_vanishing_needs_most_recent_frames_and_reports_when_it_began():
    run = Run(steps=40, every=5)
    run.stats["out_grad_std"][20:, :2] *= 1e-3
    run.stats["out_grad_std"][31, :2] /= 1e-3  # one healthy frame in the middle changes nothing
    f = only(diagnose(run.frames(), run.layers), "vanishing")
    assert f.since_step == 5 * 20  # where it began, though the majority confirmed it 2 rows later
    one_frame = Run()
    one_frame.stats["out_grad_std"][-1, :2] *= 1e-3
    assert diagnose(one_frame.frames(), one_frame.layers) == []


@pytest.mark.parametrize(
    ("assign", "fix"),
    [
        ({"model.init": "normal", "model.init_std": 0.01}, {"model.init": "xavier_normal"}),
        (
            {"model.activation": "relu", "model.init": "xavier_normal"},
            {"model.init": "kaiming_normal"},
        ),
        (
            {"model.activation": "sigmoid"},
            {"model.activation": "relu", "model.init": "kaiming_normal"},
        ),
        ({"model.depth": 12}, {"model.residual": True}),
        ({"model.depth": 4}, {"model.norm": "batch"}),
    ],
)
def test_vanishing_fix_follows_the_spec(assign, fix):
    spec = Spec().with_values(assign)
    depth = spec.model.depth
    run = Run(depth=depth, act=spec.model.activation)
    run.stats["out_grad_std"][:, :2] *= 1e-3
    f = only(diagnose(run.frames(), run.layers, spec), "vanishing")
    assert f.fix == fix
    spec.with_values(f.fix)


def test_vanishing_fix_reaches_layers_that_override_the_init():
    spec = Spec().with_values({"model.init": "normal", "model.2.init": "uniform"})
    run = Run()
    run.stats["out_grad_std"][:, :3] *= 1e-3
    f = only(diagnose(run.frames(), run.layers, spec), "vanishing")
    assert f.fix == {"model.init": "xavier_normal", "model.2.init": "xavier_normal"}
    fixed = spec.with_values(f.fix)
    assert {layer.init for layer in fixed.model.resolved()} == {"xavier_normal"}


# Exploding ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("factor", "expected"),
    [
        (LIM.explode_depth_warn * 0.9, None),
        (LIM.explode_depth_warn * 1.1, "warning"),
        (LIM.explode_depth_error * 1.1, "error"),
    ],
)
def test_exploding_through_depth_edges(factor, expected):
    run = Run()
    run.stats["out_grad_std"][:, :2] *= factor
    found = [f for f in diagnose(run.frames(), run.layers) if f.kind == "exploding"]
    assert [f.severity for f in found] == ([] if expected is None else [expected])
    if found:
        assert found[0].layers == ("L1", "L2")
        assert found[0].message.startswith("L1-L2 receive gradients")


@pytest.mark.parametrize(
    ("optimizer", "factor", "expected"),
    [
        ("sgd", LIM.explode_depth_warn * 2, "warning"),
        ("adam", LIM.explode_depth_warn * 2, "info"),
        ("rmsprop", LIM.explode_depth_warn * 2, "info"),
        ("adam", LIM.explode_depth_error * 2, "error"),  # beyond what Adam shrugs off
    ],
)
def test_exploding_through_depth_under_adaptive_optimizers(optimizer, factor, expected):
    run = Run()
    run.stats["out_grad_std"][:, :2] *= factor
    spec = Spec().with_values({"optimizer.name": optimizer, "model.depth": 6})
    assert only(diagnose(run.frames(), run.layers, spec), "exploding").severity == expected


def grow(run: Run, factor: float, start: float = 1.0) -> None:
    """Gradient norm from `start` growing geometrically by `factor` over the run."""
    n = len(run.step)
    run.glob["grad_norm"] = start * np.geomspace(1.0, factor, n)


@pytest.mark.parametrize(
    ("growth", "start", "expected"),
    [
        (50.0, 1.0, None),  # 50x but still a norm of ~30
        (400.0, 1.0, "warning"),
        (1e6, 1.0, "error"),
        (5.0, 1e6, "error"),  # huge whatever the growth
        (400.0, 1e-4, None),  # 400x growth of a tiny norm is not exploding
    ],
)
def test_exploding_over_time_edges(growth, start, expected):
    run = Run(steps=40)
    grow(run, growth, start)
    found = [f for f in diagnose(run.frames(), run.layers) if f.kind == "exploding"]
    assert [f.severity for f in found] == ([] if expected is None else [expected])
    if found:
        assert found[0].fix == {"clip.mode": "norm", "clip.max_norm": 1.0}


def test_exploding_growth_threshold_both_sides():
    for ratio, found in [(0.95, False), (1.05, True)]:
        run = Run(steps=40)
        run.glob["grad_norm"][:] = 2.0
        run.glob["grad_norm"][20:] = 2.0 * LIM.explode_growth_warn * ratio
        run.glob["grad_norm"][20:] = np.maximum(run.glob["grad_norm"][20:], LIM.explode_min_norm)
        assert ("exploding" in kinds(diagnose(run.frames(), run.layers))) is found


def test_clipping_that_holds_a_falling_loss_is_not_exploding():
    run = Run(steps=40)
    grow(run, 1e4, 1.0)
    run.glob["clipped"][:] = True
    assert "exploding" not in kinds(diagnose(run.frames(), run.layers))

    run.glob["loss"] = np.linspace(1.0, 5.0, 40)  # clipped, and the loss still rises
    spec = Spec().with_values({"clip.mode": "norm", "optimizer.lr": 0.1})
    f = only(diagnose(run.frames(), run.layers, spec), "exploding")
    assert f.fix == {"optimizer.lr": 0.01}


# Non-finite ---------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_nonfinite_loss_is_an_error_from_its_first_step(bad):
    run = Run(steps=20, every=10)
    grow(run, 1e8)
    run.glob["loss"][12:] = bad
    found = diagnose(run.frames(), run.layers)
    f = found[0]
    assert (f.kind, f.severity, f.since_step) == ("nonfinite", "error", 120)
    assert f.fix == {"clip.mode": "norm", "clip.max_norm": 1.0}
    assert "overflowed" in f.explanation  # the norm grew before it broke


def test_inf_in_one_layer_names_that_layer():
    run = Run(steps=10)
    run.stats["weight_grad_norm"][6:, 2] = math.inf
    f = only(diagnose(run.frames(), run.layers), "nonfinite")
    assert (f.layers, f.since_step) == (("L3",), 6)


def test_nan_where_a_statistic_is_not_measured_is_not_nonfinite():
    run = Run(steps=10, act="relu")  # act_saturated NaN throughout, update_ratio NaN at step 0
    run.stats["weight_grad_std"][:] = math.nan
    assert diagnose(run.frames(), run.layers) == []


def test_nan_after_a_statistic_was_measured_is_nonfinite():
    run = Run(steps=10)
    run.stats["act_std"][4:, 1] = math.nan
    f = only(diagnose(run.frames(), run.layers), "nonfinite")
    assert (f.layers, f.since_step) == (("L2",), 4)


def test_rules_see_only_the_frames_before_the_numbers_broke():
    run = Run(steps=30)
    run.glob["loss"][20:] = math.nan
    for k in ("act_std", "out_grad_std", "unit_spread", "act_saturated"):
        run.stats[k][20:] = math.nan
    assert kinds(diagnose(run.frames(), run.layers)) == ["nonfinite"]


def test_all_nan_frames_do_not_crash():
    run = Run(steps=5)
    for v in run.stats.values():
        v[:] = math.nan
    run.glob["loss"][:] = math.nan
    run.glob["grad_norm"][:] = math.nan
    assert kinds(diagnose(run.frames(), run.layers)) == ["nonfinite"]
    assert kinds(diagnose(run.frames()[:1], run.layers)) == ["nonfinite"]


def test_nonfinite_with_clipping_on_suggests_a_smaller_step():
    run = Run(steps=10)
    run.glob["loss"][5:] = math.nan
    spec = Spec().with_values({"clip.mode": "norm", "optimizer.lr": 0.3})
    assert only(diagnose(run.frames(), run.layers, spec), "nonfinite").fix == {"optimizer.lr": 0.03}


# Collapse -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("factor", "expected"),
    [
        (LIM.collapse_warn * 1.1, None),
        (LIM.collapse_warn * 0.9, "warning"),
        (LIM.collapse_error * 0.9, "error"),
    ],
)
def test_collapse_edges(factor, expected):
    run = Run()
    run.stats["act_std"][:, 3:6] *= factor
    found = [f for f in diagnose(run.frames(), run.layers) if f.kind == "collapse"]
    assert [f.severity for f in found] == ([] if expected is None else [expected])
    if found:
        assert found[0].layers == ("L4", "L5", "L6")


def test_collapse_shrinking_layer_by_layer():
    run = Run(act="relu")
    run.stats["act_std"][:] = 0.53 * 0.5 ** np.arange(7)  # halves every layer, like ReLU + Xavier
    spec = Spec().with_values({"model.activation": "relu"})
    f = only(diagnose(run.frames(), run.layers, spec), "collapse")
    assert f.layers == ("L5", "L6")  # 1/16 and 1/32 of L1's spread
    assert "0.53 in L1" in f.message and "0.017 in L6" in f.message
    assert "about 0.5" in f.explanation  # the per-layer factor, measured
    assert f.fix == {"model.init": "kaiming_normal"}


def test_collapse_with_a_suited_init_suggests_normalisation():
    run = Run()
    run.stats["act_std"][:, 4:6] *= 0.01
    f = only(diagnose(run.frames(), run.layers, Spec()), "collapse")  # tanh + Xavier already
    assert f.fix == {"model.norm": "batch"}


# Saturation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (LIM.saturated_warn - 0.01, None),
        (LIM.saturated_warn + 0.01, "warning"),
        (LIM.saturated_error + 0.01, "error"),
    ],
)
def test_saturation_edges(value, expected):
    run = Run()
    run.stats["act_saturated"][:, :6] = value
    found = [f for f in diagnose(run.frames(), run.layers) if f.kind == "saturation"]
    assert [f.severity for f in found] == ([] if expected is None else [expected])


def test_saturation_behind_skip_connections_is_info():
    run = Run()
    run.stats["act_saturated"][:, :6] = 0.9
    plain = Spec().with_values({"model.depth": 6})
    assert only(diagnose(run.frames(), run.layers, plain), "saturation").severity == "error"

    residual = plain.with_values({"model.residual": True})
    f = only(diagnose(run.frames(), run.layers, residual), "saturation")
    assert f.severity == "info" and not f.is_warning
    assert "skip connections" in f.message


def test_saturation_only_for_bounded_activations():
    run = Run(act="relu")
    run.stats["act_saturated"][:, :6] = 0.9  # a source that fills it for ReLU is ignored
    assert "saturation" not in kinds(diagnose(run.frames(), run.layers))


def test_saturation_fix_from_init_or_from_training():
    spec = Spec().with_values({"model.init": "normal", "model.init_std": 0.2})
    run = Run()
    run.stats["act_saturated"][:, 2:6] = 0.7
    f = only(diagnose(run.frames(), run.layers, spec), "saturation")
    assert f.layers == ("L3", "L4", "L5", "L6") and f.fix == {"model.init": "xavier_normal"}
    assert "70%" in f.message

    late = Run(steps=40)
    late.stats["act_saturated"][20:, :6] = 0.5  # Xavier, and saturated only after step 20
    f = only(
        diagnose(late.frames(), late.layers, Spec().with_values({"optimizer.lr": 1.0})),
        "saturation",
    )
    assert f.since_step == 20 and f.fix == {"optimizer.lr": 0.3}


# Dead units ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [(LIM.dead_warn - 0.01, None), (LIM.dead_warn + 0.01, "warning"), (LIM.dead_error, "error")],
)
def test_dead_units_edges(value, expected):
    run = Run(act="relu")
    run.stats["act_dead"][:, 2] = value
    found = [f for f in diagnose(run.frames(), run.layers) if f.kind == "dead_units"]
    assert [f.severity for f in found] == ([] if expected is None else [expected])
    if found:
        assert found[0].layers == ("L3",)
        assert found[0].fix == {"model.activation": "leaky_relu"}


def test_dead_units_need_enough_rows():
    run = Run(act="relu")
    run.stats["act_dead"][:, 2] = 0.8
    run.glob["act_rows"][:] = LIM.dead_min_rows - 1
    assert diagnose(run.frames(), run.layers) == []
    run.glob["act_rows"][:] = LIM.dead_min_rows
    assert kinds(diagnose(run.frames(), run.layers)) == ["dead_units"]


def test_a_dead_layer_explains_the_gradients_and_activations_it_stops():
    run = Run(act="relu")
    run.stats["act_dead"][:, 3] = 1.0
    for k in ("act_std", "act_mean", "unit_spread"):
        run.stats[k][:, 3] = 0.0
        run.stats[k][:, 4:6] = 0.01  # only the biases reach past it
    run.stats["out_grad_std"][:, :3] = 0.0
    assert kinds(diagnose(run.frames(), run.layers)) == ["dead_units"]


# Symmetry -----------------------------------------------------------------------------------


def test_identical_units_are_symmetry_unbroken_since_step_0():
    run = Run(steps=50)
    run.stats["unit_spread"][:, :6] = 3e-8  # rounding only
    f = only(diagnose(run.frames(), run.layers, Spec()), "symmetry")
    assert (f.severity, f.since_step, f.layers) == ("error", 0, tuple(f"L{i}" for i in range(1, 7)))
    assert "unbroken" in f.message


@pytest.mark.parametrize(
    ("rel", "found"), [(LIM.symmetry_rel * 0.9, True), (LIM.symmetry_rel * 1.1, False)]
)
def test_symmetry_edges(rel, found):
    run = Run()
    run.stats["unit_spread"][:, 1] = run.stats["act_std"][:, 1] * rel
    assert ("symmetry" in kinds(diagnose(run.frames(), run.layers))) is found


def test_zero_init_is_symmetry_and_explains_its_consequences():
    spec = Spec().with_values({"model.init": "zeros", "model.activation": "relu"})
    run = Run(steps=200, act="relu")
    for k in ("act_std", "act_mean", "unit_spread", "weight_std", "update_ratio"):
        run.stats[k][:, :6] = 0.0
    run.stats["act_dead"][:, :6] = 1.0
    run.stats["out_grad_std"][:, :6] = 0.0
    run.glob["loss"][:] = 1.0986
    found = diagnose(run.frames(), run.layers, spec)
    assert kinds(found) == ["symmetry"]
    assert found[0].fix == {"model.init": "kaiming_normal"}


def test_an_all_zero_layer_with_random_weights_is_dead_not_symmetric():
    run = Run(act="relu")
    for k in ("act_std", "act_mean", "unit_spread"):
        run.stats[k][:, 2] = 0.0
    run.stats["act_dead"][:, 2] = 1.0
    assert kinds(diagnose(run.frames(), run.layers)) == ["dead_units"]


def test_width_one_layers_are_never_symmetric():
    run = Run()
    run.layers[2] = run.layers[2].__class__("L3", "", (1, 64), "tanh")
    run.stats["unit_spread"][:, 2] = 0.0
    assert diagnose(run.frames(), run.layers) == []


# Update ratio -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (LIM.update_high_warn * 0.9, None),
        (LIM.update_high_warn * 1.1, "warning"),
        (LIM.update_high_error * 1.1, "error"),
    ],
)
def test_update_ratio_high_edges(value, expected):
    run = Run(steps=40)
    run.stats["update_ratio"][1:, 4] = value
    found = [f for f in diagnose(run.frames(), run.layers, Spec()) if f.kind == "update_ratio"]
    assert [f.severity for f in found] == ([] if expected is None else [expected])
    if found:
        assert found[0].layers == ("L5",)
        assert found[0].fix == {"optimizer.lr": pytest.approx(float(f"{0.01 * 1e-2 / value:.1g}"))}


@pytest.mark.parametrize(
    ("value", "found"), [(LIM.update_low_warn * 1.1, False), (LIM.update_low_warn * 0.9, True)]
)
def test_update_ratio_low_edges(value, found):
    run = Run(steps=40)
    run.stats["update_ratio"][1:] = value
    got = [f for f in diagnose(run.frames(), run.layers, Spec()) if f.kind == "update_ratio"]
    assert bool(got) is found
    if found:
        # lr scaled so the ratio lands near 1e-3: 0.01 * 1e-3 / 9e-6 ~ 1.1 -> 1
        assert got[0].fix == {"optimizer.lr": float(f"{0.01 * 1e-3 / value:.1g}")}


def test_update_ratio_skips_the_first_steps_and_a_decayed_lr():
    run = Run(steps=LIM.update_skip_steps)
    run.stats["update_ratio"][1:] = 5.0
    assert diagnose(run.frames(), run.layers) == []

    run = Run(steps=40)
    run.stats["update_ratio"][1:] = 1e-7
    run.glob["lr"][:] = 1e-4  # a schedule brought it down from 0.01
    assert diagnose(run.frames(), run.layers, Spec()) == []


# No progress --------------------------------------------------------------------------------


def test_flat_loss_is_no_progress_only_after_enough_steps():
    run = Run(steps=LIM.progress_min_steps + 1)
    run.glob["loss"][:] = 1.0986
    f = only(diagnose(run.frames(), run.layers, Spec()), "no_progress")
    assert f.severity == "warning" and "100 steps" in f.message
    assert "chance is 0.33" in f.message

    short = Run(steps=LIM.progress_min_steps)
    short.glob["loss"][:] = 1.0986
    assert diagnose(short.frames(), short.layers) == []


def test_a_flat_loss_seen_without_the_runs_start_is_not_no_progress():
    # A replay opened late, or a followed file: the loss may have converged long before.
    late = Run(steps=LIM.progress_min_steps * 2)
    late.step = late.step + 2000
    late.glob["loss"][:] = 4.5e-4
    assert "no_progress" not in kinds(diagnose(late.frames(), late.layers))

    from_start = Run(steps=LIM.progress_min_steps * 2)
    from_start.glob["loss"][:] = 4.5e-4
    assert "no_progress" in kinds(diagnose(from_start.frames(), from_start.layers))


@pytest.mark.parametrize(
    ("gain", "found"), [(LIM.progress_min_gain * 0.9, True), (LIM.progress_min_gain * 1.1, False)]
)
def test_no_progress_edges(gain, found):
    run = Run(steps=200)
    run.glob["loss"][:] = 1.0
    run.glob["loss"][100:] = 1.0 - gain
    assert ("no_progress" in kinds(diagnose(run.frames(), run.layers))) is found


def test_rising_loss_suggests_a_smaller_step():
    run = Run(steps=200)
    run.glob["loss"] = np.linspace(1.0, 1.0 * LIM.progress_rise * 1.2, 200)
    f = only(diagnose(run.frames(), run.layers, Spec()), "no_progress")
    assert "rose" in f.message and f.fix == {"optimizer.lr": 0.001}


def test_no_progress_points_at_its_cause():
    spec = Spec().with_values({"model.init": "normal", "model.init_std": 0.01})
    run = Run(steps=200)
    run.glob["loss"][:] = 1.0986
    run.stats["out_grad_std"][:, :3] *= 1e-4
    found = diagnose(run.frames(), run.layers, spec)
    assert kinds(found) == ["vanishing", "no_progress"]
    assert found[1].fix == found[0].fix == {"model.init": "xavier_normal"}
    assert found[1].message.endswith("likely cause: vanishing")


@pytest.mark.parametrize(
    ("assign", "fix"),
    [
        ({"model.depth": 12}, {"model.residual": True}),
        ({"model.depth": 4}, {"optimizer.name": "adam", "optimizer.lr": 1e-3}),
        (
            {"model.depth": 4, "optimizer.name": "adam", "optimizer.lr": 1e-4},
            {"optimizer.lr": 3e-4},
        ),
    ],
)
def test_no_progress_fix_without_another_cause(assign, fix):
    spec = Spec().with_values(assign)
    run = Run(steps=200, depth=spec.model.depth)
    run.glob["loss"][:] = 1.0986
    f = only(diagnose(run.frames(), run.layers, spec), "no_progress")
    assert f.fix == fix


# Findings as data ---------------------------------------------------------------------------


def test_finding_json_has_the_contract_keys_and_is_most_severe_first():
    run = Run(steps=200)
    run.glob["loss"][:] = 1.0986
    run.stats["act_saturated"][:, :6] = 0.7
    run.stats["out_grad_std"][:, :2] *= 1e-3
    found = diagnose(run.frames(), run.layers, Spec())
    assert [f.severity for f in found] == sorted(
        (f.severity for f in found), key=["error", "warning", "info"].index
    )
    for f in found:
        data = f.to_json()
        assert set(data) == {
            "kind",
            "severity",
            "layers",
            "since_step",
            "message",
            "explanation",
            "fix",
        }
        assert data["kind"] in KINDS and isinstance(data["layers"], list)
    check_fixes_apply(found, Spec())


def test_finding_rejects_unknown_kind_and_severity():
    with pytest.raises(ValueError, match="valid kinds"):
        Finding("gradient", "error", (), 0, "x")
    with pytest.raises(ValueError, match="valid"):
        Finding("vanishing", "fatal", (), 0, "x")


def test_finding_layer_names_are_plain_strings():
    finding = Finding("saturation", "warning", tuple(np.array(["L1", "L2"])), 0, "x")
    assert finding.layers == ("L1", "L2")
    assert all(type(name) is str for name in finding.layers)


def test_fix_text_is_what_set_accepts():
    from tuigrad.spec import parse_assignment

    f = Finding(
        "exploding",
        "error",
        (),
        3,
        "m",
        fix={"clip.mode": "norm", "clip.max_norm": 1.0, "model.residual": True},
    )
    pairs = dict(parse_assignment(kv) for kv in f.fix_text().split())
    assert Spec().with_values(pairs) == Spec().with_values(f.fix)
