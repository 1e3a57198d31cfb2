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


def test_every_command_and_its_flags_are_in_the_readme():
    from tuigrad.cli import COMMANDS, build_parser

    readme = (ROOT / "README.md").read_text()
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for name in COMMANDS:
        assert f"`tuigrad {name}" in readme or f"`tuigrad [{name}]" in readme, name
        flags = [
            opt
            for action in sub.choices[name]._actions
            for opt in action.option_strings
            if opt.startswith("--") and opt != "--help"
        ]
        missing = [flag for flag in flags if flag not in readme]
        assert not missing, f"tuigrad {name}: {missing} not in the README"


def test_every_preset_is_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    names = sorted(p.stem for p in (ROOT / "presets").glob("*.toml"))
    assert [n for n in names if f"| `{n}` |" not in readme] == []
