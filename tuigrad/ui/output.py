"""What the app writes to the terminal, in fewer bytes: style changes sent as differences.

Textual writes every styled run as a full SGR sequence and a reset (`ESC[1;38;2;r;g;b;48;2;r;g;b m
text ESC[0m`), about 40 bytes per run in truecolor, most of it the background every run shares.
`CompactOutput` keeps the terminal's style state and sends only what changes from one run to the
next, when a run is drawn; cursor moves that nothing is drawn after are dropped. The screen ends
up the same cell for cell. No Textual here.
"""

from __future__ import annotations

import re
from typing import NamedTuple

# The codes that switch an attribute off, by the attribute they switch off (ECMA-48).
OFF = {1: 22, 2: 22, 3: 23, 4: 24, 21: 24, 5: 25, 6: 25, 7: 27, 8: 28, 9: 29}
OFF |= {51: 54, 52: 54, 53: 55}
COLOR_SLOTS = {38: 0, 48: 1, 58: 2}  # extended colour: foreground, background, underline
DEFAULT_COLORS = ("39", "49", "59")
# A CSI sequence: parameters, intermediates, final byte.
CSI = re.compile(r"\x1b\[([0-?]*)([ -/]*)([@-~])")
# Private modes that change nothing drawn: synchronized output, cursor shown or hidden.
NEUTRAL_MODES = frozenset({"?2026", "?25"})
CACHE_LIMIT = 4096


class Style(NamedTuple):
    """The terminal's graphic state: attribute codes on, and three colours as SGR text."""

    flags: frozenset[int] = frozenset()
    colors: tuple[str | None, str | None, str | None] = (None, None, None)

    def codes(self) -> list[str]:
        return [str(flag) for flag in sorted(self.flags)] + [c for c in self.colors if c]


PLAIN = Style()


def apply_sgr(style: Style, params: str) -> Style | None:
    """The state after `ESC[<params>m`, from `style`; None for codes not understood."""
    try:
        codes = [int(code) if code else 0 for code in params.split(";")]
    except ValueError:
        return None  # sub-parameters (`4:3`) and the like
    flags, colors = set(style.flags), list(style.colors)
    i = 0
    while i < len(codes):
        code = codes[i]
        if code == 0:
            flags.clear()
            colors = [None, None, None]
        elif code in OFF:
            flags.add(code)
        elif code in OFF.values():
            flags -= {flag for flag, off in OFF.items() if off == code}
        elif 30 <= code <= 37 or 90 <= code <= 97:
            colors[0] = str(code)
        elif 40 <= code <= 47 or 100 <= code <= 107:
            colors[1] = str(code)
        elif code in (39, 49, 59):
            colors[(39, 49, 59).index(code)] = None
        elif code in COLOR_SLOTS:
            size = {5: 3, 2: 5}.get(codes[i + 1] if i + 1 < len(codes) else -1)
            if size is None or i + size > len(codes):
                return None
            colors[COLOR_SLOTS[code]] = ";".join(map(str, codes[i : i + size]))
            i += size - 1
        else:
            return None
        i += 1
    return Style(frozenset(flags), tuple(colors))


def sgr_between(old: Style | None, new: Style) -> str:
    """The shortest SGR sequence that takes the terminal from `old` (None: unknown) to `new`."""
    if old == new:
        return ""
    reset = ";".join(["0", *new.codes()]) if new != PLAIN else "0"
    if old is None or new == PLAIN:
        return f"\x1b[{reset}m"
    offs = sorted({OFF[flag] for flag in old.flags - new.flags})
    # One off code can clear two attributes (22: bold and dim): set again the one kept.
    cleared = {flag for flag in old.flags if OFF[flag] in offs}
    ons = sorted((new.flags - old.flags) | (new.flags & cleared))
    codes = [str(code) for code in offs + ons]
    for was, now, default in zip(old.colors, new.colors, DEFAULT_COLORS, strict=True):
        if was != now:
            codes.append(now or default)
    delta = ";".join(codes)
    return f"\x1b[{delta if len(delta) < len(reset) else reset}m"


class CompactOutput:
    """Rewrites what is written to one terminal; keep one per terminal, feed it every write.

    Style changes wait until text is drawn, so a reset followed by a new style becomes one short
    difference. Anything that is not text, a style, a cursor move or a neutral mode is passed on
    as it is, after the pending style, and the state is taken as unknown after it.
    """

    def __init__(self) -> None:
        self._sent: Style | None = None  # what the terminal has; None: unknown
        self._wanted: Style | None = None  # what the stream asked for so far
        self._after: dict[tuple[Style | None, str], Style | None] = {}
        self._between: dict[tuple[Style | None, Style], str] = {}

    def compact(self, data: str) -> str:
        """What to write instead of `data`: fewer bytes, the same screen."""
        out: list[str] = []
        move = ""  # a cursor move not yet sent: dropped if another follows before any text
        # text, then (params, intermediates, final byte, text) for each CSI sequence after it
        pieces = CSI.split(data)
        last = len(pieces) - 1
        after = self._after.get
        for i in range(0, len(pieces), 4):
            text = pieces[i]
            if not text:
                pass
            elif "\x1b" in text:  # other sequences (OSC, ...): passed on, the state unknown
                out += [move, *self._style_now(), text]
                move, self._sent, self._wanted = "", None, None
            # NOTE: Textual ends every line of an update with a newline, then moves the cursor
            # to the next line it draws: a newline just before a cursor move changes nothing.
            elif text != "\n" or i == last or pieces[i + 3] != "H" or pieces[i + 2]:
                if move:
                    out.append(move)
                    move = ""
                if self._wanted != self._sent:
                    out += self._style_now()
                out.append(text)
            if i == last:
                break
            params, between, final = pieces[i + 1 : i + 4]
            if final == "m" and not between:
                style = after((self._wanted, params))  # most often: a state seen before
                if style is not None:
                    self._wanted = style
                    continue
                self._set_style(params, out, move)
                if self._wanted is None:
                    move = ""
            elif final == "H" and not between:
                move = f"\x1b[{params}H"
            elif final in ("h", "l") and not between and params in NEUTRAL_MODES:
                out.append(f"\x1b[{params}{final}")
            else:
                out += [move, *self._style_now(), f"\x1b[{params}{between}{final}"]
                move, self._sent, self._wanted = "", None, None
        out += [move, *self._style_now()]
        return "".join(out)

    def _set_style(self, params: str, out: list[str], move: str) -> None:
        wanted = self._wanted
        if wanted is None and params.split(";", 1)[0] in ("", "0"):
            wanted = PLAIN  # a reset makes an unknown state known
        if wanted is None:
            out += [move, f"\x1b[{params}m"]  # on top of an unknown state: pass it on
            return
        key = (wanted, params)
        if key not in self._after:
            if len(self._after) > CACHE_LIMIT:
                self._after.clear()
            self._after[key] = apply_sgr(wanted, params)
        self._wanted = self._after[key]
        if self._wanted is None:
            out += [move, *self._style_now(wanted), f"\x1b[{params}m"]
            self._sent = None

    def _style_now(self, wanted: Style | None = None) -> list[str]:
        """The sequence that brings the terminal to the wanted style, if it differs."""
        if wanted is None:
            wanted = self._wanted
        if wanted is None or wanted == self._sent:
            return []
        key = (self._sent, wanted)
        if key not in self._between:
            if len(self._between) > CACHE_LIMIT:
                self._between.clear()
            self._between[key] = sgr_between(self._sent, wanted)
        self._sent = wanted
        return [self._between[key]]
