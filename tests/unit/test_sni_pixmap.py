"""The icon as StatusNotifierItem pixmaps: every size drawn natively, digits told apart at 16 px."""

from __future__ import annotations

import pytest
from PIL import Image, ImageChops

from tray import icons
from tray.sni.pixmap import SIZES, argb, pixmaps


def test_argb_is_network_byte_order() -> None:
    image = Image.new("RGBA", (2, 1), (10, 20, 30, 40))
    assert argb(image) == bytes([40, 10, 20, 30]) * 2


def test_pixmaps_carry_every_size_natively_drawn() -> None:
    sent = pixmaps(7)
    assert [(w, h) for w, h, _ in sent] == [(s, s) for s in SIZES]
    assert all(len(data) == w * h * 4 for w, h, data in sent)
    assert sent[0][2] == argb(icons.render(7, size=16))


@pytest.mark.parametrize("size", [16, 22, 24])
@pytest.mark.parametrize(("a", "b"), [(5, 6), (6, 8), (8, 9), (5, 9), (56, 58), (89, 98)])
def test_badge_digits_that_blur_together_differ_in_whole_pixels_at_panel_sizes(
    size: int, a: int, b: int
) -> None:
    """5, 6, 8 and 9 are whole-pixel glyphs at panel sizes: two of them differ in at least two
    pixels by more than a third of the light range, not just in a grey shade."""
    first = icons.render(a, size=size).convert("L")
    second = icons.render(b, size=size).convert("L")
    diff = ImageChops.difference(first, second)
    strong = sum(1 for value in diff.tobytes() if value > 85)
    assert strong >= 2, f"{a} and {b} at {size} px differ in {strong} pixels"
