"""Write a contact sheet of porttray's tray icon for a person to look at.

Every size the panels ask for (16, 22, 24, 32 px), with no, a few, a dozen and a hundred-odd
servers, plain, exposed beyond loopback and paused, on black, dark grey, light grey and white
panels; drawn 4x and unsmoothed so each pixel shows.

Run: `.venv/bin/python scripts/icons_sheet.py [OUT.png]` (default: test-artifacts/icons.png).
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tray.icons import render  # noqa: E402

SIZES = (16, 22, 24, 32)
COUNTS = (0, 3, 12, 150)
LOOKS: tuple[dict[str, bool], ...] = ({}, {"exposed": True}, {"paused": True})
PANELS = ((0, 0, 0), (48, 48, 48), (235, 235, 235), (255, 255, 255))
CELL, ZOOM = 40, 4


def sheet() -> Image.Image:
    """Rows: panel x size; columns: look x count."""
    out = Image.new("RGB", (CELL * len(COUNTS) * len(LOOKS), CELL * len(SIZES) * len(PANELS)))
    for row, (panel, size) in enumerate((p, s) for p in PANELS for s in SIZES):
        for col, (look, count) in enumerate((lk, n) for lk in LOOKS for n in COUNTS):
            tile = Image.new("RGBA", (CELL, CELL), (*panel, 255))
            tile.alpha_composite(render(count, size=size, **look), ((CELL - size) // 2,) * 2)
            out.paste(tile.convert("RGB"), (col * CELL, row * CELL))
    return out.resize((out.width * ZOOM, out.height * ZOOM), Image.Resampling.NEAREST)


def main() -> int:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "test-artifacts" / "icons.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet().save(path)
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
