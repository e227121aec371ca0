"""The tray image: a plug on a rounded square, with a badge counting the servers. Pure Pillow.

Everything is drawn at several times the asked size and shrunk with a Lanczos filter, so edges and
digits stay smooth at the 16-24 px that tray hosts use. The colours are chosen to stand out on dark
and on light panels alike: the square and both badge colours keep a luminance contrast of at least
3:1 against black and against white, and the badge has a white ring that parts it from the square.

`python -m tray.icons --write-assets DIR` writes the PNG renders shipped in `assets/`; the SVG there
is drawn by hand to the same coordinates (a 64-unit grid).
"""

from __future__ import annotations

import argparse
import functools
import logging
import math
import zlib
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

logger = logging.getLogger(__name__)

ASSET_SIZES = (16, 22, 24, 32, 48, 64)
"""The sizes rendered into `assets/porttray-N.png`."""
SHIPPED_ICON = Path(__file__).with_name("porttray-64.png")
"""The 64 px icon in the package, for notifications (the tests check it against `render`)."""

SQUARE = (37, 99, 235, 255)
"""The square behind the plug (a blue with ≥ 3:1 contrast on black and on white)."""
PAUSED_SQUARE = (107, 114, 128, 255)
"""The square while notifications are paused: a grey of the same contrast."""
GLYPH = (255, 255, 255, 255)
"""The plug."""
BADGE = (21, 128, 61, 255)
"""The count badge: a deep green."""
EXPOSED_BADGE = (194, 65, 12, 255)
"""The count badge when some server is reachable from the network: a warning orange."""
RING = (255, 255, 255, 255)
"""The ring around the badge and the badge's digits."""

_OVERSAMPLE = 8
_CRISP_BELOW = 9
"""Badge digits that would shrink below this many pixels are drawn in a pixel font instead."""
_PIXEL_DIGITS_BELOW = 11
"""Badge digits shorter than this many pixels (icons up to 24 px) are drawn in a pixel font."""
_GRID = 64.0

# The plug on the 64-unit grid (the SVG uses the same numbers).
_PRONGS = ((19, 8, 27, 23), (37, 8, 45, 23))
_BODY = (12, 21, 52, 38)
_NECK = ((16, 36), (48, 36), (38, 48), (26, 48))
_CABLE = (28, 46, 36, 57)


def badge_text(count: int) -> str:
    """What the badge says: "" for none, the number up to 99, then "99+"."""
    if count <= 0:
        return ""
    return str(count) if count < 100 else "99+"


def render(
    count: int, *, size: int = 64, exposed: bool = False, paused: bool = False
) -> Image.Image:
    """The tray image for `count` servers, `size` pixels square, RGBA.

    `exposed` turns the badge orange (a server listens on every interface), `paused` greys the
    square. The result is cached and shared: copy it before drawing on it.
    """
    if size < 8:
        raise ValueError(f"icon size must be at least 8 px, got {size}")
    return _render(min(max(count, 0), 100), size, exposed=exposed, paused=paused)


@functools.lru_cache(maxsize=64)
def _render(bucket: int, size: int, *, exposed: bool, paused: bool) -> Image.Image:
    scale = size * _OVERSAMPLE
    image = Image.new("RGBA", (scale, scale), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    _draw_glyph(draw, scale, PAUSED_SQUARE if paused else SQUARE)
    text = badge_text(bucket)
    if text:
        _draw_badge(image, size, text, EXPOSED_BADGE if exposed else BADGE)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def _at(value: float, scale: int) -> int:
    return round(value * scale / _GRID)


def _box(box: tuple[int, int, int, int], scale: int) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = box
    return (_at(x0, scale), _at(y0, scale), _at(x1, scale) - 1, _at(y1, scale) - 1)


def _draw_glyph(draw: ImageDraw.ImageDraw, scale: int, fill: tuple[int, int, int, int]) -> None:
    draw.rounded_rectangle(_box((1, 1, 63, 63), scale), radius=_at(14, scale), fill=fill)
    for prong in _PRONGS:
        draw.rounded_rectangle(_box(prong, scale), radius=_at(2, scale), fill=GLYPH)
    draw.rounded_rectangle(_box(_BODY, scale), radius=_at(6, scale), fill=GLYPH)
    draw.polygon([(_at(x, scale), _at(y, scale)) for x, y in _NECK], fill=GLYPH)
    draw.rectangle(_box(_CABLE, scale), fill=GLYPH)


def _glyph_mask(char: str, height: float) -> Image.Image:
    """One character as a tight, emboldened coverage mask whose digits are `height` tall."""
    font_px = max(height / _digit_ratio(), 1.0)
    font = ImageFont.load_default(size=font_px)
    stroke = max(1, round(font_px * 0.05))
    left, top, right, bottom = (math.floor(v) for v in font.getbbox(char, stroke_width=stroke))
    mask = Image.new("L", (right - left + 3 * stroke, bottom - top + 3 * stroke), 0)
    ImageDraw.Draw(mask).text(
        (stroke - left, stroke - top),
        char,
        font=font,
        fill=255,
        stroke_width=stroke,
        stroke_fill=255,
    )
    box = mask.getbbox()
    return mask.crop(box) if box else mask


@functools.lru_cache(maxsize=1)
def _digit_ratio() -> float:
    """Height of a digit per unit of font size, for the font Pillow ships."""
    font = ImageFont.load_default(size=100)
    mask = font.getmask("0")
    return mask.getbbox()[3] / 100 if mask.getbbox() else 0.7


def _text_mask(text: str, height: float) -> Image.Image:
    """The badge's text, set tight: digits `height` tall, a smaller "+" centred on them."""
    parts = [_glyph_mask(c, height * (0.72 if c == "+" else 1.0)) for c in text]
    gap = max(1, round(height * 0.1))
    width = sum(p.width for p in parts) + gap * (len(parts) - 1)
    tall = max(p.height for p in parts)
    mask = Image.new("L", (width, tall), 0)
    x = 0
    for part in parts:
        mask.paste(part, (x, (tall - part.height) // 2))
        x += part.width + gap
    return mask


# Pixel glyphs for badges whose digits would be under `_PIXEL_DIGITS_BELOW` pixels (16-24 px icons):
# a font shrunk that far blurs 5, 6, 8 and 9 into the same blot, while whole-pixel strokes keep
# them apart (5 and 6 differ in the lower left, 8 and 9 too). 5x7 where it fits, else 3x5.
_PIXEL_FONTS: tuple[dict[str, tuple[str, ...]], ...] = (
    {
        "0": (".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."),
        "1": ("..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."),
        "2": (".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"),
        "3": ("#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###."),
        "4": ("...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."),
        "5": ("#####", "#....", "####.", "....#", "....#", "#...#", ".###."),
        "6": ("..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."),
        "7": ("#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."),
        "8": (".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."),
        "9": (".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."),
        "+": ("...", "...", ".#.", "###", ".#.", "...", "..."),
    },
    {
        "0": ("###", "#.#", "#.#", "#.#", "###"),
        "1": (".#.", "##.", ".#.", ".#.", "###"),
        "2": ("###", "..#", "###", "#..", "###"),
        "3": ("###", "..#", ".##", "..#", "###"),
        "4": ("#.#", "#.#", "###", "..#", "..#"),
        "5": ("###", "#..", "###", "..#", "###"),
        "6": ("###", "#..", "###", "#.#", "###"),
        "7": ("###", "..#", "..#", ".#.", ".#."),
        "8": ("###", "#.#", "###", "#.#", "###"),
        "9": ("###", "#.#", "###", "..#", "###"),
        "+": ("...", ".#.", "###", ".#.", "..."),
    },
)


def _pixel_text(text: str, room: int, tall: int) -> Image.Image | None:
    """`text` in the largest pixel font that fits `room` x `tall` pixels, drawn `_OVERSAMPLE`x."""
    for font in _PIXEL_FONTS:
        if not all(c in font for c in text):
            return None
        glyphs = [font[c] for c in text]
        width = sum(len(g[0]) for g in glyphs) + len(glyphs) - 1
        if width <= room and len(glyphs[0]) <= tall:
            return _paint_cells(glyphs, width)
    return None


def _paint_cells(glyphs: list[tuple[str, ...]], width: int) -> Image.Image:
    k = _OVERSAMPLE
    mask = Image.new("L", (width * k, len(glyphs[0]) * k), 0)
    draw, left = ImageDraw.Draw(mask), 0
    for glyph in glyphs:
        for y, line in enumerate(glyph):
            for x, cell in enumerate(line, start=left):
                if cell == "#":
                    draw.rectangle((x * k, y * k, (x + 1) * k - 1, (y + 1) * k - 1), fill=255)
        left += len(glyph[0]) + 1
    return mask


def _badge_text(
    text: str, size: int, height: int, ring: int, pad: float
) -> tuple[Image.Image, bool]:
    """The text's mask, and whether it is a pixel font (to be placed on whole pixels)."""
    k = _OVERSAMPLE
    digits = (height - 2 * ring) * 0.74 * k
    if digits < _PIXEL_DIGITS_BELOW * k:
        pixel = _pixel_text(text, size - 2 * ring - 2, height - 2 * ring - 2)
        if pixel is not None:
            return pixel, True
    mask = _text_mask(text, digits)
    room = (size - 2 * ring - 2 * pad) * k
    if mask.width <= room:
        return mask, False
    shrunk = digits * room / mask.width
    if shrunk < _CRISP_BELOW * k:
        pixel = _pixel_text(text, size - 2 * ring - 2, height - 2 * ring - 2)
        if pixel is not None:
            return pixel, True
    return _text_mask(text, shrunk), False


def _draw_badge(image: Image.Image, size: int, text: str, fill: tuple[int, int, int, int]) -> None:
    k = _OVERSAMPLE
    height = round(size * (0.66 if size <= 24 else 0.58))
    ring = max(1, round(size / 16))
    pad = height * 0.14
    mask, crisp = _badge_text(text, size, height, ring, pad)
    width = min(size, max(height, math.ceil(mask.width / k + 2 * pad + 2 * ring)))
    x0, y0 = (size - width) * k, (size - height) * k
    x1 = y1 = size * k - 1
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((x0, y0, x1, y1), radius=height * k // 2, fill=RING)
    inner = (x0 + ring * k, y0 + ring * k, x1 - ring * k, y1 - ring * k)
    draw.rounded_rectangle(inner, radius=(height - 2 * ring) * k // 2, fill=fill)
    if crisp:
        left = x0 + (width * k - mask.width) // (2 * k) * k
        top = y0 + (height * k - mask.height) // (2 * k) * k
    else:
        left = x0 + round((width * k - mask.width) / 2)
        top = y0 + round((height * k - mask.height) / 2)
    image.paste(RING, (left, top), mask)


def notification_icon(folder: Path | None = None) -> Path | None:
    """The icon file notifications show: the one porttray ships, else one drawn into `folder`
    (the cache folder). Encoding a PNG would keep Pillow's PNG plugin and zlib's compressor in
    the tray (half a MiB), so a drawn file is named by a checksum of its pixels and reused."""
    if folder is None and SHIPPED_ICON.is_file():
        return SHIPPED_ICON
    image = render(0, size=64)
    try:
        if folder is None:
            from platformdirs import user_cache_dir

            folder = Path(user_cache_dir("porttray"))
        path = folder / f"porttray-64-{zlib.crc32(image.tobytes()):08x}.png"
        if not path.is_file():
            folder.mkdir(parents=True, exist_ok=True)
            partial = folder / f".partial-{path.name}"  # ".png": only Pillow's PNG plugin loads
            image.save(partial)
            partial.replace(path)
            for old in set(folder.glob("porttray-64*.png")) - {path}:
                old.unlink(missing_ok=True)  # an icon drawn by an earlier porttray
    except OSError as exc:
        logger.info("notifications will show no porttray icon: %s", exc)
        return None
    return path


def write_assets(folder: Path, sizes: Sequence[int] = ASSET_SIZES) -> list[Path]:
    """Write `porttray-N.png` (no badge) for each size into `folder`; return the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for size in sizes:
        path = folder / f"porttray-{size}.png"
        render(0, size=size).save(path, format="PNG")
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m tray.icons --write-assets DIR`: regenerate the shipped PNG renders."""
    parser = argparse.ArgumentParser(prog="python -m tray.icons", description=main.__doc__)
    parser.add_argument("--write-assets", metavar="DIR", type=Path, required=True)
    args = parser.parse_args(argv)
    for path in write_assets(args.write_assets):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
