"""GNOME Shell 43 `--x11` on Xvfb with the AppIndicator extension (its StatusNotifierWatcher).

The container has /run/systemd/seats but no system bus: gnome-shell would take that for a logind
session and fail. So it runs in a private mount namespace where /run/systemd is an empty tmpfs,
with a private system bus of its own. A normal user gets that namespace without root: `unshare -r
-m` (a user namespace where it is root) mounts the tmpfs, and a nested `unshare --user
--map-user=UID` turns it back into the same user before gnome-shell starts, so its D-Bus
credentials match. Settings come from GLib's keyfile backend (no dconf service on the test bus).
GNOME Shell brings its own notification server, so dunst is not started.

Menus are actors on GNOME Shell's stage, not X windows: an open menu is the patch of screen below
the top bar, at the right, that changed since before the click; a submenu opens inline and makes
that patch taller.
"""

from __future__ import annotations

import os
import shutil

from PIL import Image, ImageChops

from tests.kit import desktop
from tests.kit.desktop import BUS_CONFIG
from tests.kit.hosts.session import WATCHER
from tests.kit.hosts.x11 import X11Session
from tests.kit.wait import wait_for

EXTENSION = "ubuntu-appindicators@ubuntu.com"
KEYFILE = f"""[org/gnome/shell]
enabled-extensions=['{EXTENSION}']
disable-user-extensions=false
welcome-dialog-last-shown-version='999'
"""
MENU_LEFT = 0.7
"""Menus of icons at the right of the top bar open in the rightmost 30 % of the screen; banners
(notifications) are centred and narrower, so they stay out of that strip."""
MIN_MENU = 60


def missing() -> list[str]:
    tools = ("gnome-shell", "unshare", "Xvfb", "xdotool", "import", "xclip")
    gone = [p for p in tools if shutil.which(p) is None]
    if not os.path.isdir(f"/usr/share/gnome-shell/extensions/{EXTENSION}"):
        gone.append("gnome-shell-extension-appindicator")
    return gone


def shell_argv() -> list[str]:
    """gnome-shell in a mount namespace with an empty /run/systemd, as the same user."""
    inner = f"--map-user={os.getuid()} --map-group={os.getgid()}"
    script = f"mount -t tmpfs tmpfs /run/systemd && exec unshare --user {inner} -- "
    return ["unshare", "-r", "-m", "sh", "-c", script + "gnome-shell --x11 --replace"]


class GnomeHost(X11Session):
    name = "gnome"

    def _start(self) -> None:
        self.start_x11(notifications=False)
        system = self.tmp / "system-bus"
        system.mkdir()
        (system / "bus.conf").write_text(BUS_CONFIG.format(dir=system))
        argv = ["dbus-daemon", f"--config-file={system / 'bus.conf'}", "--nofork"]
        bus, address = desktop.start_reporting(
            [*argv, "--print-address={fd}"], self.env, system / "log"
        )
        self.processes.append(bus)
        settings = self.tmp / "config" / "glib-2.0" / "settings"
        settings.mkdir(parents=True, exist_ok=True)
        (settings / "keyfile").write_text(KEYFILE)
        self.env.update(DBUS_SYSTEM_BUS_ADDRESS=address, GSETTINGS_BACKEND="keyfile")
        self.spawn("gnome-shell", shell_argv())
        with self.step("gnome-shell starts with the AppIndicator extension"):
            assert wait_for(self._ready, 60, 0.3), "no StatusNotifierWatcher within 60 s"
        self.closed_screen: Image.Image | None = None
        self._first_height = 0

    def _ready(self) -> bool:
        if self.died():
            raise RuntimeError("gnome-shell exited")
        watching = self.reader is not None and self.reader._pid_of(WATCHER) is not None
        if watching and not 10 < self._bar_height() < 100:
            self.keys("Escape")  # GNOME starts in the overview, where the top bar is see-through
            return False
        return watching

    def _bar_height(self) -> int:
        """The top bar's height, measured down the screen's left edge (0 before it is drawn)."""
        shot = self.screenshot()
        top = shot.getpixel((0, 0))
        self._bar = next((y for y in range(shot.height) if shot.getpixel((0, y)) != top), 0)
        self._width = shot.width
        return self._bar

    def tray_area(self) -> tuple[int, int, int, int]:
        """The right half of the top bar (measured when the shell became ready)."""
        return self._width // 2, 0, self._width, self._bar

    def click(self, x: int, y: int, button: int = 1) -> None:
        if self.closed_screen is None or not self.menu_open():
            self.closed_screen = self.screenshot()
        super().click(x, y, button)

    def menu_bounds(self) -> tuple[int, int, int, int] | None:
        if self.closed_screen is None:
            return None
        shot = self.screenshot()
        bar = self._bar
        region = (int(shot.width * MENU_LEFT), bar, shot.width, shot.height)
        box = ImageChops.difference(shot.crop(region), self.closed_screen.crop(region)).getbbox()
        if box is None or min(box[2] - box[0], box[3] - box[1]) < MIN_MENU:
            return None
        return box[0] + region[0], box[1] + bar, box[2] + region[0], box[3] + bar

    def menu_count(self) -> int:
        """1 while the menu is open, 2 once an inline submenu made it taller."""
        box = self.menu_bounds()
        if box is None:
            self._first_height = 0
            return 0
        height = box[3] - box[1]
        self._first_height = self._first_height or height
        return 2 if height > self._first_height + 20 else 1
