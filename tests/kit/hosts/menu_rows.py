"""Picking menu entries with the pointer where keys do not reach the menu (sway + waybar).

The rows of an open menu are measured, not assumed: inside the menu's patch of screen each
entry's text is a horizontal band of dark pixels, in the order of the entries; separators are
light lines and make no band. Hovering a submenu's row opens it; the submenu is the new patch
that appears, measured the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PIL import Image, ImageChops

from tests.kit.wait import wait_for

if TYPE_CHECKING:
    from tests.kit.hosts.sway import SwayHost

Box = tuple[int, int, int, int]
"""(left, top, right, bottom) on the screen."""
INK = 170
"""A pixel is text when its darkest channel is below this (disabled text is about 150)."""
INSET = 4
"""Pixels of the menu's frame left out at each side."""


def text_rows(image: Image.Image, box: Box) -> list[int]:
    """The vertical centres (screen y) of the text bands inside `box`, top to bottom."""
    left, top, right, bottom = box
    part = image.crop((left + INSET, top + INSET, right - INSET, bottom - INSET)).convert("RGB")
    width, height = part.size
    pixels = part.load()
    assert pixels is not None
    inked = [
        any(min(pixels[x, y]) < INK for x in range(0, width, 2))  # type: ignore[arg-type]
        for y in range(height)
    ]
    rows, start = [], None
    for y, ink in enumerate([*inked, False]):
        if ink and start is None:
            start = y
        elif not ink and start is not None:
            if y - start >= 4:  # a band of text, not a stray pixel
                rows.append(top + INSET + (start + y) // 2)
            start = None
    return rows


def hover_row(session: SwayHost, top_row: int, timeout: float = 5.0) -> Box:
    """With the menu open and the pointer still on the icon: hover row `top_row` (counting
    every visible entry, separators excepted) and wait for its submenu; the submenu's box."""
    box = session.menu_box()
    assert box is not None, "no menu is open"
    menu = session.screenshot()
    rows = text_rows(menu, box)
    assert len(rows) > top_row, f"{len(rows)} rows measured in the menu at {box}"
    session.point((box[0] + box[2]) // 2, rows[top_row])
    inner: list[Box | None] = [None]

    def submenu() -> bool:
        inner[0] = _beside(session.screenshot(), menu, box)
        return inner[0] is not None

    assert wait_for(submenu, timeout, 0.2), "the submenu did not open on hover"
    assert inner[0] is not None
    return inner[0]


def pick_by_pointer(session: SwayHost, top_row: int, inner_row: int, timeout: float = 5.0) -> None:
    """Hover row `top_row`, then click row `inner_row` of the submenu that opens."""
    sub = hover_row(session, top_row)
    before = session.screenshot()
    sub_rows = text_rows(before, sub)
    assert len(sub_rows) > inner_row, f"{len(sub_rows)} rows measured in the submenu at {sub}"
    x, y = (sub[0] + sub[2]) // 2, sub_rows[inner_row]
    session.point(x, y)  # GTK takes a click only on the row it has seen the pointer enter

    def highlighted() -> bool:
        now = session.screenshot().crop(sub)
        return ImageChops.difference(now, before.crop(sub)).getbbox() is not None

    assert wait_for(highlighted, timeout, 0.2), "the row under the pointer was not highlighted"
    session.click(x, y)


def _beside(now: Image.Image, before: Image.Image, menu: Box) -> Box | None:
    """The patch that changed left or right of the menu's columns: a submenu opened beside it."""
    for left, right in ((0, menu[0]), (menu[2], now.width)):
        if right - left < 40:
            continue
        strip = (left, 0, right, now.height)
        box = ImageChops.difference(now.crop(strip), before.crop(strip)).getbbox()
        if box and box[2] - box[0] >= 40 and box[3] - box[1] >= 40:
            return box[0] + left, box[1], box[2] + left, box[3]
    return None
