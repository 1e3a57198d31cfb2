"""The shipped presets: each one loads, ships in the wheel, and shows what it says it shows."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

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
