"""The XEmbed fallback: with no StatusNotifier host, the icon docks in a classic X11 tray (trayer);
a click opens the menu. Screenshots of both are saved in the artifacts directory (test-artifacts/)
for a person to look at. The menu is found by measurement — what changed on screen after the click —
since where it opens depends on the icon's place and the menu's width."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

from tests.conftest import wait_for
from tests.helpers.artifacts import artifacts_dir
from tests.helpers.servers import http_server
from tests.kit.desktop import Desktop
from tests.kit.hosts.x11 import named_window

pytestmark = pytest.mark.e2e

MENU_MIN = (100, 50)
"""A menu with a server entry, Pause and Quit is at least this big (a hover highlight is not)."""


def window_geometry(env: dict[str, str], name: str) -> tuple[int, int, int, int] | None:
    """(x, y, width, height) of the first window whose name starts with `name`."""
    tree = subprocess.run(
        ["xwininfo", "-root", "-tree"],
        env=env,
        capture_output=True,
        text=True,
        timeout=10,
        check=True,
    ).stdout
    return named_window(tree, name)


def screenshot(env: dict[str, str], path: Path) -> Image.Image:
    subprocess.run(["import", "-window", "root", str(path)], env=env, check=True, timeout=20)
    return Image.open(path).convert("RGB")


def changed_region(
    before: Image.Image, after: Image.Image, at_least: tuple[int, int] = MENU_MIN
) -> tuple[int, int, int, int] | None:
    """The box around what changed between two screenshots, if it is at least `at_least` big and
    mostly changed (a window opened there), else None."""
    mask = ImageChops.difference(before, after).convert("L").point(lambda v: 255 if v > 24 else 0)
    box = mask.getbbox()
    if box is None:
        return None
    width, height = box[2] - box[0], box[3] - box[1]
    if width < at_least[0] or height < at_least[1]:
        return None
    changed = ImageStat.Stat(mask.crop(box)).mean[0] / 255
    return box if changed > 0.3 else None


@pytest.fixture
def trayer(desktop: Desktop) -> Iterator[None]:
    desktop.tray.stop()  # no StatusNotifierWatcher: libayatana falls back to XEmbed
    proc = subprocess.Popen(
        [
            "trayer",
            "--edge",
            "top",
            "--align",
            "right",
            "--widthtype",
            "request",
            "--height",
            "32",
            "--SetDockType",
            "true",
            "--transparent",
            "false",
            "--tint",
            "0x303030",
        ],
        env=desktop.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert wait_for(lambda: window_geometry(desktop.env, "panel") is not None, 10)
        yield
    finally:
        proc.terminate()
        proc.wait(5)
        desktop.tray.start()


def docked_screen(env: dict[str, str], icon_at: tuple[int, int, int, int]) -> Image.Image:
    """The screen with the icon docked, kept with a 4x crop of the icon; fails on a blank icon."""
    x, y, w, h = icon_at
    artifacts = artifacts_dir()
    docked = screenshot(env, artifacts / "xembed-docked.png")
    icon = docked.crop((x, y, x + w, y + h))
    icon.resize((w * 4, h * 4), Image.Resampling.NEAREST).save(artifacts / "xembed-icon.png")
    assert max(ImageStat.Stat(icon).stddev) > 20, "the docked icon is blank"
    return docked


def test_icon_docks_in_trayer_and_a_click_opens_the_menu(
    desktop: Desktop, trayer: None, tmp_path: Path
) -> None:
    (tmp_path / "index.html").write_text("<title>Docked demo</title>")
    with http_server(tmp_path):
        proc = subprocess.Popen(
            [sys.executable, "-m", "tray"],
            env={**desktop.env, "PORTTRAY_TRAY_WAIT": "1"},  # no watcher will come: don't wait
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            assert wait_for(lambda: window_geometry(desktop.env, "porttray: ") is not None, 15)
            x, y, w, h = window_geometry(desktop.env, "porttray: ") or (0, 0, 0, 0)
            docked = docked_screen(desktop.env, (x, y, w, h))
            subprocess.run(
                # a right click: on pystray's GTK status icon a left click runs the default item
                ["xdotool", "mousemove", str(x + w // 2), str(y + h // 2), "click", "3"],
                env=desktop.env,
                check=True,
                timeout=10,
            )

            def menu_shown() -> bool:
                after = screenshot(desktop.env, artifacts_dir() / "xembed-menu.png")
                return changed_region(docked, after) is not None

            assert wait_for(menu_shown, 10, step=0.5), "no menu opened on click"
        finally:
            proc.terminate()
            out, _ = proc.communicate(timeout=5)
            print(out)
    assert proc.returncode == 0
    assert "Traceback" not in out, out  # neither docking nor the click raised
