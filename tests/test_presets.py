"""The shipped presets: each one loads, ships in the wheel, and shows what it says it shows."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import numpy as np
import pytest

from tests.preset_runs import train
from tuigrad import presets
from tuigrad import spec as specs
from tuigrad.cli import main

ROOT = Path(__file__).resolve().parent.parent
NAMES = sorted(p.stem for p in (ROOT / "presets").glob("*.toml"))
PRESET_FILES = [ROOT / "presets" / f"{name}.toml" for name in NAMES]


# ---- the files themselves ----------------------------------------------------------------


def test_preset_dir_lists_every_file():
    assert presets.preset_dir().resolve() == (ROOT / "presets").resolve()
    assert presets.preset_names() == NAMES
    assert "default" in NAMES
    assert len(NAMES) >= 20


def test_pyproject_ships_the_presets_inside_the_package():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    force = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    assert force["presets"] == "tuigrad/presets"


def test_installed_wheel_finds_its_presets(tmp_path):
    build = pytest.importorskip("hatchling.build")
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        wheel = tmp_path / build.build_wheel(str(tmp_path))
    finally:
        os.chdir(cwd)

    # A pure-Python wheel installs by unpacking; run from elsewhere so the checkout is not found.
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    assert (site / "tuigrad" / "engine" / "native.c").is_file()  # the fused statistics' source
    code = (
        "from tuigrad import presets; print(presets.preset_dir()); print(*presets.preset_names())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert Path(out[0]) == site / "tuigrad" / "presets"
    assert out[1].split() == NAMES


@pytest.mark.parametrize("path", PRESET_FILES, ids=NAMES)
def test_preset_is_a_complete_valid_spec(path):
    raw = tomllib.loads(path.read_text())
    spec = specs.load(path)

    # Fixed seed written out, and the words a preset owes its reader.
    assert isinstance(raw.get("seed"), int)
    assert spec.title != specs.Spec.title and len(spec.title) <= 70
    for text in (spec.description, spec.look_at, spec.expect):
        assert len(text.split()) >= 10
    assert specs.loads(specs.dumps(spec)) == spec


# ---- the presets command -----------------------------------------------------------------


def _flat(text: str) -> str:
    # Drop Rich's borders and line breaks so wrapped prose can be searched for.
    words = text.replace("│", " ").replace("╭", " ").replace("╰", " ").split()
    return " ".join(words)


def test_presets_command_lists_every_preset(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["presets"]) == 0
    out = capsys.readouterr().out
    for name in NAMES:
        assert f" {name} " in out
        assert presets.load_preset(name).title in out


def test_presets_command_shows_one_in_full(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["presets", "tanh-small-init"]) == 0
    out = _flat(capsys.readouterr().out)
    spec = presets.load_preset("tanh-small-init")
    for text in (spec.title, spec.description, spec.look_at, spec.expect):
        assert " ".join(text.split()) in out
    assert "6 x 4096 tanh N(0.01)" in out
    assert "gaussian" in out and "sgd, lr 0.01" in out
    assert "tuigrad open tanh-small-init" in out


def test_presets_command_reads_a_spec_file(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("COLUMNS", "200")
    path = tmp_path / "mine.toml"
    specs.save(presets.load_preset("exploding-clipped"), path)
    assert main(["presets", str(path)]) == 0
    assert "grad norm to 1 (p = 2)" in _flat(capsys.readouterr().out)


def test_unknown_preset_is_one_line_listing_the_names(capsys):
    assert main(["presets", "tanh-tiny-init"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert "'tanh-tiny-init'" in lines[0]
    assert all(name in lines[0] for name in NAMES)


# ---- every preset runs -------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_preset_validates_and_trains_three_steps(name):
    spec = presets.load_preset(name)
    assert specs.from_dict(spec.to_dict()) == spec
    if spec.model.width >= 4096:
        # Three steps of a 6 x 4096 net take ~10 s here: the same layers, narrower, do it.
        spec = spec.with_values({"model.width": 256, "data.dim": 256})
    run = train(spec.with_values({"probe.every": 1}), 3)
    assert [f.step for f in run.frames] == [0, 1, 2]
    assert all(len(f.layers) == spec.model.depth + 1 for f in run.frames)


# ---- each preset shows its lesson ---------------------------------------------------------
# The thresholds sit next to each expectation; the preset's `expect` text states the same.

LN3 = math.log(3)


def _stds(run, frame=None):
    return np.array(run.stat(frame or run.first, "act_std"))


@pytest.mark.slow
def test_zero_init_symmetry_never_breaks(preset_runs):
    run = preset_runs("zero-init")
    # Unit spread exactly 0 in every hidden layer at every sampled step; the loss stays within
    # 0.01 of ln 3 (only the head's bias learns, the class shares of each batch).
    assert len(run.frames) >= 20
    assert all(s == 0.0 for f in run.frames for s in run.stat(f, "unit_spread"))
    assert all(abs(f.loss - LN3) < 0.01 for f in run.frames)


@pytest.mark.slow
def test_constant_init_symmetry_with_signal(preset_runs):
    run = preset_runs("constant-init")
    for f in run.frames:
        spread, std = np.array(run.stat(f, "unit_spread")), _stds(run, f)
        # Units identical (spread below a millionth of the std) while activations are not 0.
        assert (spread <= 1e-6 * std).all() and (std > 0.01).all()
    assert run.last.loss < LN3 and run.last.loss > 0.8


@pytest.mark.slow
def test_tanh_small_init_signal_fades(preset_runs):
    run = preset_runs("tanh-small-init")
    std = _stds(run)
    assert std[5] < 0.1 * std[0]  # L6 below a tenth of L1
    assert (np.diff(std) < 0).all()  # shrinking layer after layer
    grad = run.stat(run.first, "out_grad_std")
    assert grad[0] < 0.2 * grad[5]  # the gradient reaching L1 is the smallest


@pytest.mark.slow
def test_tanh_large_init_saturates(preset_runs):
    run = preset_runs("tanh-large-init")
    assert min(run.stat(run.first, "act_saturated")) >= 0.3  # in every layer


@pytest.mark.slow
def test_tanh_xavier_signal_holds(preset_runs):
    run = preset_runs("tanh-xavier")
    std = _stds(run)
    assert ((std > 0.2) & (std < 0.9)).all()
    assert std[5] > 0.4 * std[0]
    assert max(run.stat(run.first, "act_saturated")) < 0.05


def _weight_grad_ratio(run):
    grads = run.stat(run.first, "weight_grad_norm")
    return grads[0] / grads[-1]  # L1 against the last hidden layer


@pytest.mark.slow
def test_sigmoid_net_vanishes_where_tanh_and_relu_do_not(preset_runs):
    sigmoid = preset_runs("sigmoid-deep")
    tanh, relu = preset_runs("sigmoid-deep-tanh"), preset_runs("sigmoid-deep-relu")
    assert _weight_grad_ratio(sigmoid) < 1e-3
    for other in (tanh, relu):
        assert 1 / 20 < _weight_grad_ratio(other) < 20
    assert abs(sigmoid.last.loss - LN3) < 0.05
    assert tanh.last.loss < 0.6 and tanh.last.loss < sigmoid.last.loss
    assert relu.last.loss < LN3 - 0.03 and relu.last.loss < sigmoid.last.loss


def _per_layer_factor(std):
    return (std[-1] / std[0]) ** (1 / (len(std) - 1))


@pytest.mark.slow
def test_relu_xavier_halves_the_variance_per_layer(preset_runs):
    std = _stds(preset_runs("relu-xavier"))
    assert 0.6 < _per_layer_factor(std) < 0.8  # 1/sqrt(2) = 0.71 per layer
    assert std[-1] < std[0] / 100


@pytest.mark.slow
def test_relu_kaiming_holds_the_variance(preset_runs):
    std = _stds(preset_runs("relu-kaiming"))
    assert 0.85 < _per_layer_factor(std) < 1.15
    assert 0.5 < std[-1] / std[0] < 2


@pytest.mark.slow
def test_torch_default_init_fades_in_a_deep_relu_net(preset_runs):
    std = _stds(preset_runs("torch-default-init"))
    assert std[1] < std[0] / 2 and std[2] < std[1] / 2
    assert std[-1] < std[0] / 10


@pytest.mark.slow
def test_exploding_reaches_a_non_finite_loss(preset_runs):
    run = preset_runs("exploding")
    assert run.first.grad_norm > 10
    broken = [f for f in run.frames if not (math.isfinite(f.loss) and math.isfinite(f.grad_norm))]
    assert broken and broken[0].step < 10
    assert run.halted.startswith("non-finite")


@pytest.mark.slow
def test_exploding_clipped_trains_and_clips(preset_runs):
    run = preset_runs("exploding-clipped")
    assert not run.halted
    assert all(math.isfinite(f.loss) and math.isfinite(f.grad_norm) for f in run.frames)
    assert np.mean([f.clipped for f in run.frames]) >= 0.25
    assert all(f.grad_norm_clipped <= 1.0 + 1e-4 for f in run.frames)
    assert run.last.loss < run.first.loss / 2


@pytest.mark.slow
def test_residual_connections_let_the_deep_net_learn(preset_runs):
    plain, residual = preset_runs("deep-plain"), preset_runs("deep-residual")
    assert plain.last.loss > 1.05  # still near ln 3
    assert residual.last.loss < plain.last.loss / 2


@pytest.mark.parametrize("norm", ["batchnorm", "layernorm", "groupnorm"])
def test_normalisation_rescues_the_bad_init(preset_runs, norm):
    bad, rescued = preset_runs("bad-init"), preset_runs(f"bad-init-{norm}")
    assert _stds(bad)[-1] < 1e-6 * _stds(bad)[0]
    assert (_stds(rescued) > 0.3).all()
    assert rescued.last.loss < bad.last.loss / 2


@pytest.mark.slow
def test_dead_relus_die_and_leaky_and_gelu_recover(preset_runs):
    dead = preset_runs("dead-relu")
    leaky, gelu = preset_runs("dead-relu-leaky"), preset_runs("dead-relu-gelu")
    assert max(dead.stat(dead.first, "act_dead")) >= 0.9
    assert max(dead.stat(dead.last, "act_dead")) >= 0.9
    assert abs(dead.last.loss - LN3) < 0.01
    assert max(leaky.stat(leaky.last, "act_dead")) < 0.5
    assert max(gelu.stat(gelu.last, "act_dead")) < 0.9
    for other in (leaky, gelu):
        assert other.last.loss < dead.last.loss / 10


@pytest.mark.slow
def test_adam_beats_sgd_on_the_same_net(preset_runs):
    sgd, adam = preset_runs("optim-sgd"), preset_runs("optim-adam")
    assert adam.last.loss < sgd.last.loss / 2


@pytest.mark.slow
def test_default_preset_learns(preset_runs):
    run = preset_runs("default")
    assert run.last.loss < run.first.loss / 2
    assert run.last.accuracy > 0.9


def test_the_dead_relu_bias_reaches_the_model():
    import torch

    from tuigrad.engine.trainer import Trainer

    trainer = Trainer(presets.load_preset("dead-relu"))
    for block in trainer.model.blocks:
        assert torch.equal(block.linear.bias, torch.full_like(block.linear.bias, -1.0))
