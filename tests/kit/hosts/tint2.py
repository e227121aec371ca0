"""tint2: a classic XEmbed system tray (no StatusNotifier host at all), on Xvfb.

The bus has no StatusNotifierWatcher, so porttray takes its XEmbed path and docks a GTK status
icon in tint2's systray; the menu is porttray's own GTK menu, a new override-redirect window.
"""

from __future__ import annotations

import shutil

from tests.kit.hosts.x11 import X11Session
from tests.kit.wait import wait_for

TINT2RC = """# Background 1 (defined before use), then one panel at the top holding only the tray.
rounded = 0
border_width = 0
background_color = #404858 100
border_color = #404858 100
panel_items = S
panel_position = top center horizontal
panel_size = 100% 32
panel_margin = 0 0
panel_padding = 4 0 4
panel_background_id = 1
systray_padding = 4 2 4
systray_icon_size = 24
systray_background_id = 0
"""


def missing() -> list[str]:
    return [p for p in ("tint2", "Xvfb", "xdotool", "import") if shutil.which(p) is None]


class Tint2Host(X11Session):
    name = "tint2"

    def _start(self) -> None:
        self.start_x11()
        (self.tmp / "tint2rc").write_text(TINT2RC)
        self.spawn("tint2", ["tint2", "-c", str(self.tmp / "tint2rc")])
        with self.step("tint2 starts and takes the system tray selection"):
            assert wait_for(self._ready, 30, 0.2), "tint2 did not take the tray within 30 s"

    def _ready(self) -> bool:
        if self.died():
            raise RuntimeError("a program of the session exited")
        return self.tray_selection_owned() and self.window("tint2") is not None

    def menu_button(self) -> int:
        """pystray's GTK status icon runs the default item on a left click and shows the menu on
        a right click; libayatana's fallback icon shows the menu on either."""
        return 3 if "(gtk backend" in self.porttray_log() else 1

    def tray_selection_owned(self) -> bool:
        """Whether some window owns _NET_SYSTEM_TRAY_S0 (the XEmbed tray is up)."""
        from Xlib import display

        conn = display.Display(self.display)
        try:
            atom = conn.intern_atom("_NET_SYSTEM_TRAY_S0")
            return bool(conn.get_selection_owner(atom))
        finally:
            conn.close()

    def tray_area(self) -> tuple[int, int, int, int]:
        geometry = self.window("tint2")
        assert geometry is not None, "the tint2 panel window is gone"
        x, y, w, h = geometry
        return x, y, x + w, y + h
