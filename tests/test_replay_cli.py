"""`tuigrad replay` and `tuigrad compare`: bad arguments are one-line errors with exit status 2."""

from __future__ import annotations

import pytest

from tests.replay_files import SPEC_A, SPEC_B, record
from tuigrad.cli import build_parser, main


@pytest.fixture
def files(tmp_path):
    good = tmp_path / "good.tuigrad"
    record(good, SPEC_A, 4)
    other = tmp_path / "other.tuigrad"
    record(other, SPEC_B, 3)
    text = tmp_path / "notes.tuigrad"
    text.write_text("these are notes, not a run\n" * 10)
    return {"good": good, "other": other, "text": text, "missing": tmp_path / "gone.tuigrad"}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["replay", "{missing}"], "{missing}: no such file"),
        (["replay", "{text}"], "{text}: not a tuigrad run file (not an SQLite database)"),
        (["replay", "{good}", "--speed", "32"], "replay speed x32: choose from x0.25 to x16"),
        (["replay", "{good}", "--follow", "--speed", "0.1"], "choose from x0.25 to x16"),
        (["compare", "{good}", "{missing}"], "{missing}: no such file"),
        (["compare", "{text}", "{good}"], "{text}: not a tuigrad run file"),
    ],
)
def test_bad_run_files_are_one_line_errors(files, capsys, argv, message):
    argv = [a.format(**files) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("tuigrad: error: ") and message.format(**files) in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "argv", [["replay"], ["compare", "a.tuigrad"], ["replay", "x.tuigrad", "--at", "soon"]]
)
def test_missing_or_malformed_arguments_exit_2(capsys, argv):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and err.startswith(f"tuigrad {argv[0]}: error: ")
    assert len(err.strip().splitlines()) == 1 and f"`tuigrad {argv[0]} --help`" in err


def test_help_lists_replay_and_compare():
    text = build_parser().format_help()
    assert "replay" in text and "compare" in text


def test_replay_and_compare_open_the_app_where_asked(files, monkeypatch):
    from tuigrad.ui.replay_app import ReplayApp
    from tuigrad.ui.screens.compare import CompareScreen
    from tuigrad.ui.screens.replay import ReplayScreen

    opened = []

    def fake_run(app, **kw):
        source = app.source
        opened.append((type(app.dashboard), source.current_step, source.playing, source.follow))

    monkeypatch.setattr(ReplayApp, "run", fake_run)
    assert main(["replay", str(files["good"]), "--at", "2", "--speed", "4"]) == 0
    assert main(["replay", str(files["good"]), "--follow"]) == 0
    assert main(["compare", str(files["good"]), str(files["other"]), "--at", "1"]) == 0
    assert opened == [
        (ReplayScreen, 2, False, False),
        (ReplayScreen, 3, True, True),  # following starts at the newest frame, live
        (CompareScreen, 1, False, False),
    ]


def test_follow_waits_for_a_run_file_that_is_not_there_yet(files, monkeypatch, capsys):
    import threading

    from tuigrad.ui.replay_app import ReplayApp

    opened = []
    monkeypatch.setattr(ReplayApp, "run", lambda app, **kw: opened.append(app.source.follow))
    late = files["missing"]
    writer = threading.Timer(0.5, record, args=(late, SPEC_A, 5))
    writer.start()
    try:
        assert main(["replay", str(late), "--follow"]) == 0
    finally:
        writer.join()
    assert opened == [True]
    err = capsys.readouterr().err
    assert err.strip() == f"tuigrad: waiting for {late} to be written (Ctrl-C to stop)"


def test_waiting_gives_up_on_a_file_that_stays_unreadable(files):
    import time

    from tuigrad.errors import RunFileError
    from tuigrad.sources.replay import wait_for_run

    started = time.monotonic()
    with pytest.raises(RunFileError, match="not a tuigrad run file"):
        wait_for_run(files["text"], poll=0.05, settle=0.3)
    assert 0.3 <= time.monotonic() - started < 5


def test_a_bad_speed_is_refused_before_waiting_for_a_file(files, capsys):
    assert main(["replay", str(files["missing"]), "--follow", "--speed", "99"]) == 2
    assert "choose from x0.25 to x16" in capsys.readouterr().err
