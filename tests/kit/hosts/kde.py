"""KDE Plasma 5.27 on Xvfb: kwin_x11, kded5 with its statusnotifierwatcher module, plasmashell.

A Plasma session starts these itself; here each is started by hand because the test bus
activates nothing: kactivitymanagerd and kglobalaccel5 (plasmashell refuses to load its shell
without the activity manager), kded5 with the watcher module loaded over D-Bus, then plasmashell
with software rendering. Plasma brings its own notification server, so dunst is not started.
Qt menus are override-redirect windows (seen by `X11Session.popups`). Qt submenus ignore
synthetic hover under Xvfb, so entries are picked with keys, once Plasma has fetched the
submenu (it fetches each submenu with a GetLayout of its own).
"""

from __future__ import annotations

import glob
import re
import shutil

from jeepney import DBusAddress, new_method_call
from jeepney.io.blocking import open_dbus_connection

from tests.kit.hosts.session import WATCHER
from tests.kit.hosts.x11 import X11Session
from tests.kit.sni_host import MenuNode
from tests.kit.wait import wait_for

RENDERING = {
    "QT_QUICK_BACKEND": "software",
    "LIBGL_ALWAYS_SOFTWARE": "1",
    "QT_QPA_PLATFORM": "xcb",
    "XDG_CURRENT_DESKTOP": "KDE",
    "KDE_FULL_SESSION": "true",
}


def _libexec(name: str) -> str | None:
    found = glob.glob(f"/usr/lib/*/libexec/{name}")
    return found[0] if found else None


def missing() -> list[str]:
    tools = ("kwin_x11", "kded5", "plasmashell", "kglobalaccel5", "Xvfb", "xdotool", "import")
    gone = [p for p in tools if shutil.which(p) is None]
    if not _libexec("kactivitymanagerd"):
        gone.append("kactivitymanagerd")
    if not glob.glob("/usr/share/plasma/shells/org.kde.plasma.desktop"):
        gone.append("plasma-desktop")
    return gone


class KdeHost(X11Session):
    name = "kde"

    def _start(self) -> None:
        self.start_x11(notifications=False)
        self.env.update(RENDERING)
        self.spawn("kwin_x11", ["kwin_x11"])
        self.spawn("kded5", ["kded5"])
        amd = _libexec("kactivitymanagerd")
        assert amd is not None
        self.spawn("kactivitymanagerd", [amd])
        self.spawn("kglobalaccel5", ["kglobalaccel5"])
        with self.step("kded5 loads its statusnotifierwatcher module"):
            assert wait_for(lambda: self._owned("org.kde.kded5"), 30, 0.2), "no kded5 on the bus"
            self._load_watcher()
            assert wait_for(lambda: self._owned(WATCHER), 20, 0.2), "no StatusNotifierWatcher"
        self.spawn("plasmashell", ["plasmashell", "--no-respawn"])
        with self.step("plasmashell shows its panel"):
            assert wait_for(self._ready, 90, 0.5), "no Plasma panel within 90 s"

    def _owned(self, name: str) -> bool:
        if self.died():
            raise RuntimeError("a program of the session exited")
        return self.reader is not None and self.reader._pid_of(name) is not None

    def _load_watcher(self) -> None:
        kded = DBusAddress("/kded", "org.kde.kded5", "org.kde.kded5")
        msg = new_method_call(kded, "loadModule", "s", ("statusnotifierwatcher",))
        with open_dbus_connection(self.bus_address) as conn:
            conn.send_and_get_reply(msg, timeout=30)

    def _ready(self) -> bool:
        return self._owned("org.kde.plasmashell") and self._panel() is not None

    def _panel(self) -> tuple[int, int, int, int] | None:
        """The panel: a plasmashell window as wide as the screen and less than 100 px tall."""
        for line in self.run("xwininfo", "-root", "-tree").splitlines():
            if "plasmashell" not in line:
                continue
            found = re.search(r"(\d+)x(\d+)\+-?\d+\+-?\d+\s+\+(-?\d+)\+(-?\d+)", line)
            if found:
                w, h, x, y = (int(v) for v in found.groups())
                if w >= 1000 and 20 <= h < 100:
                    return x, y, x + w, y + h
        return None

    def menu_button(self) -> int:
        """Plasma shows the exported menu itself on a right click (ContextMenu is not sent);
        a left click is Activate (see test_a_left_click_opens_the_menu)."""
        return 3

    def tray_area(self) -> tuple[int, int, int, int]:
        panel = self._panel()
        assert panel is not None, "the Plasma panel is gone"
        left, top, right, bottom = panel
        return (left + right) // 2, top, right, bottom

    def open_submenu(self, layout: MenuNode, port: int) -> None:
        self.wait_for_submenu(layout, port)
        super().open_submenu(layout, port)

    def pick(self, layout: MenuNode, port: int, label: str) -> bool:
        self.wait_for_submenu(layout, port)
        return super().pick(layout, port, label)

    def wait_for_submenu(self, layout: MenuNode, port: int, timeout: float = 10.0) -> None:
        """Wait until Plasma has fetched the server's submenu (a GetLayout of its own)."""
        assert self.traffic is not None
        entry = next(n for n in layout.children if n.text.startswith(f":{port} "))
        wanted = {c.id for c in entry.children}

        def fetched(view: MenuNode) -> bool:
            node = view.find(lambda n: n.id == entry.id)
            return node is not None and wanted <= {c.id for c in node.children}

        self.traffic.wait_for_layout(fetched, timeout)
