"""Fitting a table of text into a terminal's width. Pure.

Columns that may shrink give up characters in a set order (the least telling first) down to a
minimum, and their cells are cut with "…": at the end for names, at the start for paths, whose
last parts say most ("…/shop/web").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

GAP = 2
"""Spaces between two columns."""


@dataclass(frozen=True, slots=True)
class Shrink:
    """How one column may shrink."""

    column: int
    """Its index."""
    minimum: int
    """The narrowest it gets."""
    cut: Literal["end", "start"] = "end"
    """Which end of a cell gives way."""


def fit(rows: Sequence[Sequence[str]], width: int | None, shrink: Sequence[Shrink]) -> list[str]:
    """The rows as aligned lines at most `width` wide where shrinking allows (None: natural)."""
    if not rows:
        return []
    columns = len(rows[0])
    widths = [max(len(row[i]) for row in rows) for i in range(columns)]
    cuts = {s.column: s.cut for s in shrink}
    if width is not None:
        excess = sum(widths) + GAP * (columns - 1) - width
        for rule in shrink:
            if excess <= 0:
                break
            give = min(excess, max(0, widths[rule.column] - rule.minimum))
            widths[rule.column] -= give
            excess -= give
    lines = []
    for row in rows:
        cells = [cut(cell, widths[i], cuts.get(i, "end")) for i, cell in enumerate(row)]
        lines.append((" " * GAP).join(c.ljust(w) for c, w in zip(cells, widths, strict=True)))
    return [line.rstrip() for line in lines]


def cut(text: str, width: int, side: Literal["end", "start"] = "end") -> str:
    """`text` in at most `width` characters, "…" marking what was left out."""
    if len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    return "…" + text[-(width - 1) :] if side == "start" else text[: width - 1].rstrip() + "…"


def home_short(path: str, home: str | None) -> str:
    """A path under the home directory written with "~"."""
    if home and home != "/" and (path == home or path.startswith(home.rstrip("/") + "/")):
        return "~" + path[len(home.rstrip("/")) :]
    return path
