"""The X11 half of a real-host session: Xvfb, real input through xdotool, screenshots, popups.

A menu a host opens is a new mapped override-redirect window on the root (GTK and Qt menus both
are): `popups()` lists them with python-xlib, so "the menu is open" and "the menu stayed open"
are facts about the X server, not about pixels.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from PIL import Image
from Xlib import X, display

from tests.kit import desktop
from tests.kit.desktop import clipboard_text
from tests.kit.hosts.session import HostSession

Geometry = tuple[int, int, int, int]
"""(x, y, width, height) on the screen."""
SCREEN = "1280x800x24"
MENU_MIN_SIZE = 60
"""Tooltips are about 30 px tall and window managers' edge windows 1 px wide; porttray's smallest
menu (three entries and a line) is bigger both ways."""


class X11Session(HostSession):
    """Xvfb + private bus + dunst; subclasses start the window manager and the panel."""

    def start_x11(self, notifications: bool = True) -> None:
        """Xvfb, the session bus, and (unless the host brings its own) dunst."""
        base = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
        argv = ["Xvfb", "-displayfd", "{fd}", "-screen", "0", SCREEN, "-nolisten", "tcp"]
        argv.append("-noreset")
        xvfb, number = desktop.start_reporting(argv, base, self.tmp / "xvfb.log")
        self.processes.append(xvfb)
        self.host_programs["Xvfb"] = xvfb
        self.display = f":{number}"
        self.start_bus(base)
        self.env = desktop._desktop_env(self.tmp, self.display, self.bus_address, self.browser.path)
        if notifications:
            self.start_notifications()

    def run(self, *argv: str, timeout: float = 10.0) -> str:
        """A tool on this display; its output."""
        done = subprocess.run(
            argv, env=self.env, capture_output=True, text=True, timeout=timeout, check=True
        )
        return done.stdout

    def screenshot(self, path: Path | None = None) -> Image.Image:
        target = path or self.tmp / "screen.png"
        self.run("import", "-window", "root", str(target), timeout=20)
        with Image.open(target) as image:
            return image.convert("RGB")

    def point(self, x: int, y: int) -> None:
        self.run("xdotool", "mousemove", str(x), str(y))

    def click(self, x: int, y: int, button: int = 1) -> None:
        self.run("xdotool", "mousemove", str(x), str(y), "click", str(button))

    def keys(self, *names: str) -> None:
        self.run("xdotool", "key", "--delay", "60", *names)

    def clipboard(self) -> str:
        return clipboard_text(self.env)

    def window(self, name: str) -> Geometry | None:
        """The on-screen geometry of the first window whose name starts with `name`."""
        return named_window(self.run("xwininfo", "-root", "-tree"), name)

    def popups(self) -> list[Geometry]:
        """Mapped override-redirect windows taller than a tooltip, notifications excepted (dunst's,
        and Plasma's, which say they are): open menus."""
        conn = display.Display(self.display)
        try:
            found = []
            kind = conn.intern_atom("_NET_WM_WINDOW_TYPE")
            notification = conn.intern_atom("_NET_WM_WINDOW_TYPE_NOTIFICATION")
            for win in conn.screen().root.query_tree().children:
                attrs = win.get_attributes()
                if attrs.map_state != X.IsViewable or not attrs.override_redirect:
                    continue
                geo = win.get_geometry()
                if min(geo.width, geo.height) < MENU_MIN_SIZE or _is_dunst(win):
                    continue
                if notification not in _atoms(win, kind):
                    found.append((geo.x, geo.y, geo.width, geo.height))
            return found
        finally:
            conn.close()

    def menu_count(self) -> int:
        return len(self.popups())

    def menu_bounds(self) -> tuple[int, int, int, int] | None:
        """The lowest popup: a submenu is mapped later, above its parent."""
        popups = self.popups()
        if not popups:
            return None
        x, y, w, h = popups[0]
        return x, y, x + w, y + h


def _is_dunst(win: object) -> bool:
    try:
        wm_class = win.get_wm_class()  # type: ignore[attr-defined]
    except Exception:  # the window went away meanwhile
        return False
    return bool(wm_class) and "Dunst" in wm_class


def _atoms(win: object, name: int) -> list[int]:
    """An atom-list property of a window (empty if it has none or went away)."""
    try:
        prop = win.get_full_property(name, X.AnyPropertyType)  # type: ignore[attr-defined]
    except Exception:  # the window went away meanwhile
        return []
    return list(prop.value) if prop is not None else []


def named_window(tree: str, name: str) -> Geometry | None:
    """(x, y, width, height) of the first window in `xwininfo -root -tree` output whose name
    starts with `name`."""
    for line in tree.splitlines():
        if f'"{name}' in line:
            match = re.search(r"(\d+)x(\d+)\+-?\d+\+-?\d+\s+\+(-?\d+)\+(-?\d+)", line)
            if match:
                w, h, x, y = (int(v) for v in match.groups())
                return x, y, w, h
    return None
