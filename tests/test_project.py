"""Project-level promises: the README's commands, start-up cost, and the dependency rules."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ci_runs_the_readme_test_command_verbatim():
    readme = (ROOT / "README.md").read_text()
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    command = [line for line in ci_lines if line.startswith("python3 -m venv")]
    assert len(command) == 1
    assert command[0] in readme


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys; print(' '.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    return {name.split(".")[0] for name in out.split()}


def test_help_does_not_import_torch_or_textual():
    loaded = _modules_after("from tuigrad.cli import build_parser; build_parser().format_help()")
    assert "torch" not in loaded
    assert "textual" not in loaded


def test_spec_and_frames_import_without_torch():
    loaded = _modules_after("import tuigrad.spec, tuigrad.frames, tuigrad.codec, tuigrad.presets")
    assert "torch" not in loaded
