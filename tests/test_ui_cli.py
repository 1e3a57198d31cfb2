"""`tuigrad open`: argument checks, and the headless run that writes the dashboard as SVG."""

from __future__ import annotations

import pytest

from tests.ui_frames import scripted
from tuigrad.cli import main, open_cmd
from tuigrad.spec import Spec


def test_no_arguments_means_open(monkeypatch):
    seen = {}

    def fake_run(args):
        seen.update(vars(args))
        return 0

    monkeypatch.setattr(open_cmd, "run", fake_run)
    assert main([]) == 0 and seen["spec"] is None and seen["fps"] == 10.0
    assert main(["--fps", "5", "--ascii"]) == 0 and seen["fps"] == 5.0 and seen["ascii"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["open", "--steps", "5"], "--steps and --screenshot go together"),
        (
            ["open", "--set", "model.width=0", "--steps", "1", "--screenshot", "x.svg"],
            "model.width = 0",
        ),
    ],
)
def test_bad_arguments_are_one_line_errors(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_bad_fps_is_refused(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["open", "--fps", "0"])
    assert exit_.value.code == 2 and "between 0.5 and 60" in capsys.readouterr().err


def test_steps_then_screenshot_writes_the_dashboard(tmp_path, monkeypatch, capsys):
    sources = []

    def live(spec: Spec, recorder=None):
        sources.append(scripted(spec, steps=400, shown=1, rate=100.0))
        return sources[-1]

    monkeypatch.setattr(open_cmd, "live_source", live)
    out = tmp_path / "shots" / "dash.svg"
    argv = [
        "open",
        "--set",
        "model.depth=3",
        "--steps",
        "20",
        "--screenshot",
        str(out),
        "--size",
        "100x30",
    ]
    assert main(argv) == 0
    svg = out.read_text()
    assert svg.startswith("<svg") and "L3" in svg and "head" in svg
    source = sources[0]
    assert source.calls[0] == ("run_steps", 20) and source.closed
    step = int(capsys.readouterr().out.split("at step ")[1])
    assert step == 20  # the scripted run shows its step 0 before it is asked to run


@pytest.mark.parametrize(
    ("argv", "command", "hint"),
    [
        (["--preset", "exploding-clipped"], "open", "`tuigrad exploding-clipped`"),
        (["train", "--spec", "my.toml"], "train", "`tuigrad my.toml`"),
        (["open", "--colour"], "open", "`tuigrad open --help` lists the options"),
        (["train", "x.toml", "--out", "r"], "train", "`tuigrad train --help` lists the options"),
    ],
)
def test_a_usage_error_is_one_line_that_says_what_to_type(capsys, argv, command, hint):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert err.startswith(f"tuigrad {command}: error: unrecognized arguments: ")
    assert len(err.strip().splitlines()) == 1 and hint in err
