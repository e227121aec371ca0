"""The tray image: sizes, count buckets, contrast on dark and light panels, the shipped assets."""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageDraw

from tray.icons import (
    ASSET_SIZES,
    SHIPPED_ICON,
    badge_text,
    notification_icon,
    render,
    write_assets,
)

ROOT = Path(__file__).resolve().parents[2]
ASSETS = ROOT / "assets"
BLACK, WHITE = (0, 0, 0), (255, 255, 255)
RGB = tuple[int, int, int]


def pixel(image: Image.Image, at: tuple[int, int]) -> tuple[int, ...]:
    """One pixel's channels."""
    value = image.getpixel(at)
    if isinstance(value, int | float):
        return (int(value),)
    assert isinstance(value, tuple)
    return value


def rgb(image: Image.Image, at: tuple[int, int]) -> RGB:
    """One pixel's red, green and blue."""
    r, g, b = pixel(image, at)[:3]
    return (r, g, b)


def largest_difference(diff: Image.Image) -> int:
    """The largest value in any channel of a difference image."""
    return max(max(i for i, n in enumerate(b.histogram()) if n) for b in diff.split())


def luminance(rgb: RGB) -> float:
    """WCAG relative luminance of an sRGB colour."""

    def linear(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: RGB, b: RGB) -> float:
    """WCAG contrast ratio, 1 to 21."""
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def over(image: Image.Image, background: RGB) -> Image.Image:
    """The icon as a panel of that colour shows it."""
    panel = Image.new("RGBA", image.size, (*background, 255))
    panel.alpha_composite(image)
    return panel.convert("RGB")


def badge_pixels(count: int, size: int, exposed: bool = False) -> list[tuple[int, int]]:
    """Where the badge is: the pixels that differ from the image without a badge."""
    with_badge, without = render(count, size=size, exposed=exposed), render(0, size=size)
    diff = ImageChops.difference(with_badge, without).convert("L")
    return [(x, y) for y in range(size) for x in range(size) if pixel(diff, (x, y))[0] > 24]


@pytest.mark.parametrize("size", [*ASSET_SIZES, 128])
def test_every_size_is_square_rgba_with_transparent_corners(size: int) -> None:
    for count in (0, 5, 42, 500):
        image = render(count, size=size)
        assert image.mode == "RGBA"
        assert image.size == (size, size)
        assert pixel(image, (0, 0))[3] < 8


def test_badge_text_buckets() -> None:
    assert [badge_text(n) for n in (-3, 0, 1, 9, 10, 99, 100, 150)] == [
        "",
        "",
        "1",
        "9",
        "10",
        "99",
        "99+",
        "99+",
    ]


def test_count_buckets_give_different_images() -> None:
    counts = (0, 1, 9, 10, 99, 100)
    images = [render(n, size=22).tobytes() for n in counts]
    assert len(set(images)) == len(counts)
    assert render(150, size=22) is render(100, size=22)
    assert render(-1, size=22) is render(0, size=22)


def test_renders_are_cached() -> None:
    assert render(3, size=24) is render(3, size=24)
    assert render(3, size=24) is not render(3, size=24, exposed=True)


def badge_fill(shown: Image.Image, where: list[tuple[int, int]]) -> RGB:
    """The badge's fill: its most common strongly coloured pixel."""
    hsv = shown.convert("HSV")
    coloured = [rgb(shown, p) for p in where if pixel(hsv, p)[1] > 128]
    return Counter(coloured).most_common(1)[0][0]


def test_exposed_turns_the_badge_orange_and_paused_greys_the_square() -> None:
    for exposed in (False, True):
        shown = over(render(3, size=32, exposed=exposed), WHITE)
        r, g, _ = badge_fill(shown, badge_pixels(3, 32, exposed))
        assert (r > 2 * g) if exposed else (g > r)  # orange, else green

    def square_saturation(image: Image.Image) -> float:
        hsv = over(image, WHITE).convert("HSV")
        return sum(pixel(hsv, (4, y))[1] for y in range(8, 24)) / 16

    assert square_saturation(render(0, size=32)) > 128
    assert square_saturation(render(0, size=32, paused=True)) < 64


@pytest.mark.parametrize("count", [3, 12, 150])
@pytest.mark.parametrize("exposed", [False, True])
def test_badge_stands_out_on_dark_and_light_panels_at_22px(count: int, exposed: bool) -> None:
    where = badge_pixels(count, 22, exposed)
    assert len(where) > 40
    for background in (BLACK, WHITE):
        shown = over(render(count, size=22, exposed=exposed), background)
        fill = badge_fill(shown, where)
        assert contrast(fill, background) >= 3.0, (background, fill)
        digits = max((rgb(shown, p) for p in where), key=luminance)
        assert contrast(digits, fill) >= 3.0, (digits, fill)
        standing_out = [p for p in where if contrast(rgb(shown, p), background) >= 3.0]
        assert len(standing_out) >= len(where) / 3, (background, len(standing_out), len(where))


def test_render_rejects_tiny_sizes() -> None:
    with pytest.raises(ValueError, match="at least 8"):
        render(1, size=4)


def test_svg_parses_with_a_view_box() -> None:
    root = ET.parse(ASSETS / "porttray.svg").getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("viewBox") == "0 0 64 64"


def _draw_svg(path: Path, size: int) -> Image.Image:
    """Rasterise the SVG's rects and polygons (all it uses) with Pillow."""
    k = size / 64
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    for node in ET.parse(path).getroot().iter():
        tag = node.tag.rsplit("}", 1)[-1]
        fill = node.get("fill") or "#ffffff"
        if tag == "rect":
            x, y, w, h = (float(node.get(a, "0")) * k for a in ("x", "y", "width", "height"))
            radius = float(node.get("rx", "0")) * k
            draw.rounded_rectangle((x, y, x + w - 1, y + h - 1), radius=radius, fill=fill)
        elif tag == "polygon":
            numbers = [float(n) * k for n in re.split(r"[ ,]+", node.get("points", "").strip())]
            draw.polygon(list(zip(numbers[::2], numbers[1::2], strict=True)), fill=fill)
    return image


def test_svg_draws_the_same_shape_as_render() -> None:
    drawn = _draw_svg(ASSETS / "porttray.svg", 512).resize((64, 64), Image.Resampling.LANCZOS)
    diff = ImageChops.difference(drawn, render(0, size=64)).convert("L")
    differing = diff.point(lambda v: 255 if v > 64 else 0).histogram()[255]
    assert differing < 0.01 * 64 * 64


@pytest.mark.parametrize("size", ASSET_SIZES)
def test_shipped_pngs_match_render(size: int) -> None:
    path = ASSETS / f"porttray-{size}.png"
    assert path.is_file(), f"missing {path}: run python -m tray.icons --write-assets assets/"
    with Image.open(path) as shipped:
        assert shipped.size == (size, size)
        diff = ImageChops.difference(shipped.convert("RGBA"), render(0, size=size))
    assert largest_difference(diff) <= 8


def test_notifications_use_the_icon_shipped_in_the_package_without_drawing_it() -> None:
    assert SHIPPED_ICON.parent == ROOT / "tray"
    with Image.open(SHIPPED_ICON) as shipped:
        diff = ImageChops.difference(shipped.convert("RGBA"), render(0, size=64))
    assert largest_difference(diff) <= 8
    found = subprocess.run(
        [sys.executable, "-c", NOTIFICATION_ICON_SHIPPED],
        check=True,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert found.stdout.split() == [str(SHIPPED_ICON), "False"]


NOTIFICATION_ICON_SHIPPED = """
import sys
from tray.icons import notification_icon
print(notification_icon(), "PIL.PngImagePlugin" in sys.modules)
"""


def test_write_assets_writes_every_size(tmp_path: Path) -> None:
    written = write_assets(tmp_path / "out", sizes=(16, 22))
    assert [p.name for p in written] == ["porttray-16.png", "porttray-22.png"]
    with Image.open(written[1]) as image:
        assert image.tobytes() == render(0, size=22).tobytes()


NOTIFICATION_ICON_AGAIN = """
import sys
from pathlib import Path
from tray.icons import notification_icon
print(notification_icon(Path(sys.argv[1])), "PIL.PngImagePlugin" in sys.modules)
"""


def test_the_notification_icon_is_written_once_and_then_only_read(tmp_path: Path) -> None:
    (tmp_path / "porttray-64.png").write_bytes(b"an icon of an earlier porttray")
    (tmp_path / "porttray-64-00000000.png").write_bytes(b"another one")
    path = notification_icon(tmp_path)
    assert path is not None and path.parent == tmp_path
    with Image.open(path) as written:
        assert ImageChops.difference(written.convert("RGBA"), render(0, size=64)).getbbox() is None
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # the stale ones are gone
    again = subprocess.run(
        [sys.executable, "-c", NOTIFICATION_ICON_AGAIN, str(tmp_path)],
        check=True,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.stdout.split() == [str(path), "False"]  # found by name: no PNG encoder loaded
