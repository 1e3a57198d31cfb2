"""Which columns of the layer table fit a given width, and how wide each one is."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    key: str
    width: int  # the least width it is shown at
    priority: int  # lower is kept longer when the terminal is narrow
    flex: int = 0  # share of the spare width
    cap: int = 0  # the most width it grows to (0: its least width)


COLUMNS = (
    Column("name", 5, 0),
    Column("config", 8, 1, cap=24),
    Column("grad", 16, 0, flex=3, cap=200),
    Column("gval", 5, 3),
    Column("hist", 12, 1, flex=2, cap=80),
    Column("mean", 12, 5),
    Column("health", 8, 2),
    Column("upd", 9, 3),
    Column("uval", 5, 4),
)


def fit_columns(width: int, name_width: int = 5, config_width: int = 24) -> list[tuple[str, int]]:
    """(key, width) of the columns shown at `width`, in screen order, one space between them.

    The least important columns are hidden first; spare width goes to the config column up to
    the longest summary, then to the charts.
    """
    least = {c.key: c.width for c in COLUMNS}
    least["name"] = max(least["name"], name_width)
    caps = {c.key: max(c.cap, least[c.key]) for c in COLUMNS}
    caps["config"] = max(least["config"], min(config_width, caps["config"]))

    shown: set[str] = set()
    used = -1
    for col in sorted(COLUMNS, key=lambda c: c.priority):
        if used + 1 + least[col.key] <= width:
            shown.add(col.key)
            used += 1 + least[col.key]
    widths = {key: least[key] for key in shown}

    spare = width - used
    if "config" in shown:
        grow = min(spare, caps["config"] - widths["config"])
        widths["config"] += grow
        spare -= grow
    flexible = [c for c in COLUMNS if c.key in shown and c.flex]
    while spare > 0 and flexible:
        total = sum(c.flex for c in flexible)
        given = 0
        for col in flexible:
            grow = min(
                max(spare * col.flex // total, 1), caps[col.key] - widths[col.key], spare - given
            )
            widths[col.key] += grow
            given += grow
        spare -= given
        flexible = [c for c in flexible if widths[c.key] < caps[c.key]]
        if given == 0:
            break
    return [(c.key, widths[c.key]) for c in COLUMNS if c.key in shown]
