"""The XEmbed fallback: with no StatusNotifier host, the icon docks in a classic X11 tray (trayer);
a click opens the menu. Screenshots of both are saved in test-artifacts/ for a person to look at."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageStat

from tests.conftest import wait_for
from tests.e2e.desktop import Desktop
from tests.helpers.servers import http_server

pytestmark = pytest.mark.e2e

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


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
    for line in tree.splitlines():
        if f'"{name}' in line:
            match = re.search(r"(\d+)x(\d+)\+-?\d+\+-?\d+\s+\+(-?\d+)\+(-?\d+)", line)
            if match:
                w, h, x, y = (int(v) for v in match.groups())
                return x, y, w, h
    return None


def screenshot(env: dict[str, str], path: Path) -> Image.Image:
    ARTIFACTS.mkdir(exist_ok=True)
    subprocess.run(["import", "-window", "root", str(path)], env=env, check=True, timeout=20)
    return Image.open(path).convert("RGB")


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


def test_icon_docks_in_trayer_and_a_click_opens_the_menu(
    desktop: Desktop, trayer: None, tmp_path: Path
) -> None:
    (tmp_path / "index.html").write_text("<title>Docked demo</title>")
    with http_server(tmp_path) as (_, port):
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
            docked = screenshot(desktop.env, ARTIFACTS / "xembed-docked.png")
            icon = docked.crop((x, y, x + w, y + h))
            icon.resize((w * 4, h * 4), Image.Resampling.NEAREST).save(
                ARTIFACTS / "xembed-icon.png"
            )
            assert max(ImageStat.Stat(icon).stddev) > 20, "the docked icon is blank"

            subprocess.run(
                ["xdotool", "mousemove", str(x + w // 2), str(y + h // 2), "click", "1"],
                env=desktop.env,
                check=True,
                timeout=10,
            )
            before = docked.crop((0, 40, 800, 600))

            def menu_shown() -> bool:
                after = screenshot(desktop.env, ARTIFACTS / "xembed-menu.png").crop(
                    (0, 40, 800, 600)
                )
                return max(ImageStat.Stat(after).stddev) > max(ImageStat.Stat(before).stddev) + 5

            assert wait_for(menu_shown, 10, step=0.5), "no menu opened on click"
        finally:
            proc.terminate()
            out, _ = proc.communicate(timeout=5)
            print(out)
    assert proc.returncode == 0
    assert f":{port}" not in out  # nothing went wrong enough to be logged about the server
