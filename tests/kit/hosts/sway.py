"""sway 1.7 (headless wlroots, pixman renderer, no XWayland) with waybar's tray: pure Wayland.

sway refuses to run as root, so this host needs the suite's normal user. Input: a virtual pointer
client (virtual_pointer.py) gives the seat a pointer, `swaymsg seat seat0 cursor ...` moves and
clicks it, and wtype (a virtual keyboard) types into the menu. Screenshots come from grim. A menu
is a GTK popup of waybar: it is seen as a changed patch of the screen next to the bar (the
bar is at the bottom, dunst's notifications at the top left, so neither is mistaken for a menu).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from PIL import Image, ImageChops

from tests.kit import desktop
from tests.kit.hosts.driver import rows_to
from tests.kit.hosts.menu_rows import Box, hover_row, pick_by_pointer
from tests.kit.hosts.session import WATCHER, HostSession
from tests.kit.sni_host import MenuNode
from tests.kit.wait import wait_for

SIZE = (1280, 800)
BAR_HEIGHT = 32
SWAY_CONFIG = f"""xwayland disable
output HEADLESS-1 resolution {SIZE[0]}x{SIZE[1]} position 0 0 background #203040 solid_color
default_border none
focus_follows_mouse no
"""
WAYBAR_CONFIG = f"""{{"layer": "top", "position": "bottom", "height": {BAR_HEIGHT},
 "modules-right": ["tray"], "tray": {{"icon-size": 24, "spacing": 4}}}}"""
WAYBAR_STYLE = "* { font-family: sans-serif; } window#waybar { background: #e0e0e0; }"
DUNST_PLACE = "    origin = top-left\n    notification_limit = 1\n"
MIN_MENU = 60
POINTER = Path(__file__).with_name("virtual_pointer.py")


def missing() -> list[str]:
    tools = ("sway", "swaymsg", "waybar", "grim", "wtype", "wl-paste", "wl-copy")
    gone = [p for p in tools if shutil.which(p) is None]
    return gone + (["a user other than root (sway refuses root)"] if os.getuid() == 0 else [])


class SwayHost(HostSession):
    name = "sway"

    def _start(self) -> None:
        base = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "WAYLAND"))}
        for key in ("DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "BROWSER", "GDK_BACKEND", "TERM"):
            base.pop(key, None)
        self.start_bus(base)
        self.env = self._session_env(base)
        (self.tmp / "sway.conf").write_text(SWAY_CONFIG)
        self.spawn("sway", ["sway", "-c", str(self.tmp / "sway.conf")], self._sway_env())
        with self.step("sway starts and listens"):
            assert wait_for(self._wayland_up, 30, 0.2), "no Wayland socket from sway within 30 s"
        self._start_notifications_top_left()
        self._start_input()
        (self.tmp / "waybar.json").write_text(WAYBAR_CONFIG)
        (self.tmp / "waybar.css").write_text(WAYBAR_STYLE)
        waybar = ["waybar", "-c", str(self.tmp / "waybar.json"), "-s", str(self.tmp / "waybar.css")]
        self.spawn("waybar", waybar)
        with self.step("waybar starts its tray (StatusNotifierWatcher)"):
            assert wait_for(self._tray_up, 30, 0.2), "waybar's tray did not come up within 30 s"
        self.closed_screen: Image.Image | None = None
        self._level_width = 0

    def _session_env(self, base: dict[str, str]) -> dict[str, str]:
        env = dict(base)
        for name in ("CONFIG", "CACHE", "DATA", "STATE"):
            path = self.tmp / name.lower()
            path.mkdir(mode=0o700, exist_ok=True)
            env[f"XDG_{name}_HOME"] = str(path)
        runtime = self.tmp / "runtime"
        runtime.mkdir(mode=0o700, exist_ok=True)
        env.update(
            XDG_RUNTIME_DIR=str(runtime),
            DBUS_SESSION_BUS_ADDRESS=self.bus_address,
            BROWSER=str(self.browser.path),
            SWAYSOCK=str(runtime / "sway-ipc.sock"),
            GDK_BACKEND="wayland",
            XDG_SESSION_TYPE="wayland",
            XDG_CURRENT_DESKTOP="sway",
            NO_AT_BRIDGE="1",
            PYTHONUNBUFFERED="1",
        )
        return env

    def _sway_env(self) -> dict[str, str]:
        return {
            **self.env,
            "WLR_BACKENDS": "headless",
            "WLR_LIBINPUT_NO_DEVICES": "1",
            "WLR_RENDERER": "pixman",
            "WLR_HEADLESS_OUTPUTS": "1",
        }

    def _wayland_up(self) -> bool:
        if self.died():
            raise RuntimeError("sway exited")
        runtime = Path(self.env["XDG_RUNTIME_DIR"])
        sockets = sorted(p.name for p in runtime.glob("wayland-*") if not p.name.endswith(".lock"))
        if not sockets or not Path(self.env["SWAYSOCK"]).exists():
            return False
        self.env["WAYLAND_DISPLAY"] = sockets[0]
        return self.swaymsg("-t", "get_outputs", check=False).returncode == 0

    def _tray_up(self) -> bool:
        if self.died():
            raise RuntimeError("a program of the session exited")
        return self.reader is not None and self.reader._pid_of(WATCHER) is not None

    def _start_notifications_top_left(self) -> None:
        self.start_notifications(DUNST_PLACE)

    def _start_input(self) -> None:
        with self.step("a virtual pointer joins the seat"):
            argv = [sys.executable, str(POINTER), "{fd}"]
            proc, said = desktop.start_reporting(argv, self.env, self.tmp / "virtual-pointer.log")
            self.processes.append(proc)
            self.host_programs["virtual-pointer"] = proc
            assert said == "ready", f"the virtual pointer client said {said!r}"

    def swaymsg(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["swaymsg", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=10,
            check=check,
        )

    # -- what the tests use ---------------------------------------------------------------

    def screenshot(self, path: Path | None = None) -> Image.Image:
        target = path or self.tmp / "screen.png"
        subprocess.run(["grim", str(target)], env=self.env, check=True, timeout=20)
        with Image.open(target) as image:
            return image.convert("RGB")

    def tray_area(self) -> tuple[int, int, int, int]:
        return 0, SIZE[1] - BAR_HEIGHT, SIZE[0], SIZE[1]

    def point(self, x: int, y: int) -> None:
        self.swaymsg("seat", "seat0", "cursor", "set", str(x), str(y))

    def click(self, x: int, y: int, button: int = 1) -> None:
        if self.closed_screen is None or not self.menu_open():
            self.closed_screen = self.screenshot()
        self.point(x, y)
        self.swaymsg("seat", "seat0", "cursor", "press", f"button{button}")
        self.swaymsg("seat", "seat0", "cursor", "release", f"button{button}")

    def keys(self, *names: str) -> None:
        argv = ["wtype", "-d", "60"]
        for name in names:
            argv += ["-k", name]
        subprocess.run(argv, env=self.env, check=True, timeout=20, capture_output=True)

    def clipboard(self) -> str:
        done = subprocess.run(
            ["wl-paste", "--no-newline"], env=self.env, capture_output=True, timeout=5, check=False
        )
        return done.stdout.decode(errors="replace") if done.returncode == 0 else ""

    def menu_box(self, since: Image.Image | None = None) -> Box | None:
        """The patch of screen above the bar, right half, that differs from `since` (before the
        click, by default): an open menu, on the screen."""
        before = since or self.closed_screen
        if before is None:
            return None
        region = (SIZE[0] // 2, SIZE[1] // 3, SIZE[0], SIZE[1] - BAR_HEIGHT)
        now = self.screenshot().crop(region)
        box = ImageChops.difference(now, before.crop(region)).getbbox()
        if box is None or min(box[2] - box[0], box[3] - box[1]) < MIN_MENU:
            return None
        return box[0] + region[0], box[1] + region[1], box[2] + region[0], box[3] + region[1]

    def pick(self, layout: MenuNode, port: int, label: str) -> bool:
        """By pointer: sway gives a bar's popup menu no keyboard focus, so keys never reach it."""
        pick_by_pointer(self, *rows_to(layout, port, label))
        return True

    def open_submenu(self, layout: MenuNode, port: int) -> None:
        hover_row(self, rows_to(layout, port, "Open in browser")[0])
        self._level_width = 1  # from now on the menu patch is wider than its first level

    def dismiss_menu(self) -> None:
        """A click on the empty desktop, outside the menu, closes it."""
        self.click(40, SIZE[1] // 2)

    def menu_count(self) -> int:
        box = self.menu_box()
        if box is None:
            self._level_width = 0
            return 0
        width = box[2] - box[0]
        self._level_width = self._level_width or width
        return 2 if width > self._level_width * 1.3 else 1

    def menu_bounds(self) -> Box | None:
        return self.menu_box()
