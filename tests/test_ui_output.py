"""What the app writes to the terminal: fewer bytes, the same screen (pyte is the terminal)."""

from __future__ import annotations

import io
import re

import pyte
import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from tests.ui_frames import frames_for, screen_text, scripted
from tuigrad.sources.scripted import spec_layers
from tuigrad.spec import Spec
from tuigrad.ui import TuigradApp
from tuigrad.ui.driver import compact_driver
from tuigrad.ui.output import OFF, PLAIN, CompactOutput, Style, apply_sgr, sgr_between

SPEC = Spec(title="Eight tanh layers").with_values({"model.depth": 8, "clip.mode": "norm"})


class Terminal:
    """A pyte screen fed chunk by chunk."""

    def __init__(self, width: int, height: int) -> None:
        self.screen = pyte.Screen(width, height)
        self._stream = pyte.Stream(self.screen)

    def feed(self, data: str) -> None:
        self._stream.feed(data)

    def cells(self) -> list[list[pyte.screens.Char]]:
        s = self.screen
        return [[s.buffer[y][x] for x in range(s.columns)] for y in range(s.lines)]


def record_updates(app: TuigradApp, console: Console) -> list[str]:
    """What the app writes to the terminal for each update from now on (before compacting)."""
    chunks: list[str] = []
    display = app._display

    def record(screen, renderable) -> None:  # noqa: ANN001
        # NOTE: headless, Textual renders every update but writes none: keep what it would write.
        if renderable is not None and hasattr(renderable, "render_segments"):
            chunks.append(renderable.render_segments(console))
        display(screen, renderable)

    app._display = record
    return chunks


def same_screens(chunks: list[str], width: int, height: int) -> tuple[int, int]:
    """Feeds the chunks as written and as compacted to two terminals, checking that both show
    the same cells and cursor after every chunk; returns the bytes of both."""
    raw, compact = Terminal(width, height), Terminal(width, height)
    output = CompactOutput()
    raw_bytes = compact_bytes = 0
    for i, chunk in enumerate(chunks):
        out = output.compact(chunk)
        raw.feed(chunk)
        compact.feed(out)
        raw_bytes += len(chunk.encode())
        compact_bytes += len(out.encode())
        assert raw.cells() == compact.cells(), f"chunk {i}"
        assert (raw.screen.cursor.x, raw.screen.cursor.y) == (
            compact.screen.cursor.x,
            compact.screen.cursor.y,
        ), f"chunk {i}"
    return raw_bytes, compact_bytes


@pytest.mark.parametrize(
    ("color_system", "ratio"), [("truecolor", 0.8), ("256", 0.8), ("standard", 0.8)]
)
async def test_the_dashboard_draws_the_same_screen_in_fewer_bytes(color_system, ratio):
    source = scripted(SPEC, steps=20, shown=1)
    frames = frames_for(spec_layers(SPEC), 30)
    app = TuigradApp(source)
    console = Console(color_system=color_system, force_terminal=True, file=io.StringIO())
    chunks = record_updates(app, console)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        chunks.append(app.screen._compositor.render_update(full=True).render_segments(console))
        for frame in frames[1:]:
            source.push([frame])
            app.poll()
            await pilot.pause()
    assert len(chunks) > len(frames) // 2
    raw, compact = same_screens(chunks, 120, 40)
    assert compact < ratio * raw


async def test_a_new_frame_does_not_send_the_layer_names_and_configs_again():
    source = scripted(SPEC, steps=20, shown=1)
    frames = frames_for(spec_layers(SPEC), 25)
    app = TuigradApp(source)
    chunks = record_updates(app, Console(force_terminal=True, file=io.StringIO()))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        summaries = {info.summary for info in source.layers}
        assert all(summary in screen_text(app) for summary in summaries)
        chunks.clear()
        for frame in frames[1:6]:
            source.push([frame])
            app.poll()
            await pilot.pause()
    sent = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", "".join(chunks))
    assert "step 5" in sent and any(ch in sent for ch in "▁▂▃▄▅▆▇█")  # rows were redrawn
    assert not [summary for summary in summaries if summary in sent]


def test_styles_reset_moves_and_unknown_sequences_draw_the_same():
    chunks = [
        "\x1b[1;1H\x1b[1;38;2;1;2;3;48;2;9;9;9mbold\x1b[0m\x1b[2;38;2;4;5;6;48;2;9;9;9mdim\x1b[0m",
        "\x1b[1;8H\x1b[7mrev\x1b[0m plain\n\x1b[2;1H\x1b[4;31munder\x1b[0m\n\x1b[3;1H\x1b[3;5H",
        # A hyperlink, a sub-parameter and a mode that may touch the state: passed on as they are.
        "\x1b]8;id=1;https://example.org\x1b\\\x1b[1mlink\x1b[0m\x1b]8;;\x1b\\",
        "\x1b[4:3mcurly\x1b[0m\x1b[?1049h\x1b[32mgreen\x1b[0m\x1b[?25l\x1b[5;5H",
        "\x1b[38;5;200;48;5;17mx\x1b[0;1;4my\x1b[22;24mz\x1b[m\r\x1b[93;104mw\x1b[0m",
    ]
    raw, compact = same_screens(chunks, 30, 6)
    assert compact < raw


def test_a_reset_and_a_new_style_become_one_short_difference():
    out = CompactOutput()
    out.compact("\x1b[0m")  # from a known state
    bg = "48;2;18;18;18"
    data = f"\x1b[1;1H\x1b[1;38;2;224;224;224;{bg}mL1 \x1b[0m\x1b[38;2;141;141;141;{bg}m128\x1b[0m"
    assert out.compact(data) == (
        f"\x1b[1;1H\x1b[1;38;2;224;224;224;{bg}mL1 \x1b[22;38;2;141;141;141m128\x1b[0m"
    )


def test_cursor_moves_with_nothing_drawn_between_are_dropped():
    out = CompactOutput()
    out.compact("\x1b[0m")
    data = "\x1b[0m\x1b[2;40H\n\x1b[2;41Hab\x1b[0m\n\x1b[3;1Hc\x1b[0m\x1b[1;1H"
    assert out.compact(data) == "\x1b[2;41Hab\x1b[3;1Hc\x1b[1;1H"


def test_the_state_is_kept_from_one_write_to_the_next():
    out = CompactOutput()
    assert out.compact("\x1b[31ma\x1b[0m") == "\x1b[31ma\x1b[0m"  # unknown at first: as it came
    assert out.compact("\x1b[31mb\x1b[0m") == "\x1b[31mb\x1b[0m"
    # Each write leaves the terminal as the stream asked, even with nothing drawn after.
    assert out.compact("\x1b[0m\x1b[32m") == "\x1b[32m"
    assert out.compact("c") == "c"


STYLES = st.builds(
    Style,
    st.frozensets(st.sampled_from(sorted(OFF)), max_size=4),
    st.tuples(
        st.sampled_from([None, "31", "97", "38;5;200", "38;2;1;2;3"]),
        st.sampled_from([None, "44", "48;5;17", "48;2;18;18;18"]),
        st.sampled_from([None, "58;5;9"]),
    ),
)


@given(STYLES, STYLES)
def test_the_difference_between_two_styles_leads_from_one_to_the_other(old, new):
    delta = sgr_between(old, new)
    assert delta.startswith("\x1b[") and delta.endswith("m") or (delta == "" and old == new)
    assert apply_sgr(old, delta[2:-1]) == new if delta else old == new
    assert apply_sgr(PLAIN, sgr_between(None, new)[2:-1]) == new
    assert len(delta) <= len(sgr_between(None, new))


def test_apply_sgr_reads_what_rich_writes():
    bold_dim = apply_sgr(PLAIN, "1;2;38;2;1;2;3;48;5;17")
    assert bold_dim == Style(frozenset({1, 2}), ("38;2;1;2;3", "48;5;17", None))
    assert apply_sgr(bold_dim, "22;2") == Style(frozenset({2}), bold_dim.colors)
    assert apply_sgr(bold_dim, "39;49") == Style(frozenset({1, 2}))
    assert apply_sgr(bold_dim, "") == PLAIN
    assert apply_sgr(PLAIN, "4:3") is None and apply_sgr(PLAIN, "38;2;1") is None


def test_the_app_writes_through_the_driver_textual_picks():
    app = TuigradApp(scripted(SPEC, steps=2))
    base = type(app).__mro__[1].get_driver_class(app)
    assert issubclass(app.driver_class, base) and app.driver_class is compact_driver(base)
