"""The tray image as StatusNotifierItem's `IconPixmap`: every size drawn natively, ARGB32."""

from __future__ import annotations

from typing import Any

from PIL import Image

from tray import icons

SIZES = (16, 22, 24, 32, 48, 64)
"""What hosts use: 16-24 px in panels, larger in HiDPI panels and overflow menus."""


def argb(image: Image.Image) -> bytes:
    """An RGBA image's pixels as ARGB32 in network byte order (what the spec asks for)."""
    red, green, blue, alpha = image.convert("RGBA").split()
    return Image.merge("RGBA", (alpha, red, green, blue)).tobytes()


def pixmaps(count: int, *, exposed: bool = False, paused: bool = False) -> list[Any]:
    """`a(iiay)` for the icon showing `count` servers, one entry per size."""
    images = (icons.render(count, size=s, exposed=exposed, paused=paused) for s in SIZES)
    return [[im.width, im.height, argb(im)] for im in images]


def from_image(image: Image.Image) -> list[Any]:
    """`a(iiay)` for an image given to pystray (scaled to each size; porttray's own icon goes
    through `pixmaps` instead, which draws each size natively)."""
    out = []
    for size in SIZES:
        scaled = image.convert("RGBA").resize((size, size), Image.Resampling.LANCZOS)
        out.append([size, size, argb(scaled)])
    return out
