"""XFCE 4.18: xfce4-panel with its systray plugin (an SNI host and watcher) and xfwm4, on Xvfb.

The panel's configuration is an xfconf channel file written before xfconfd starts: one panel at
the top, 32 px tall, holding only the systray plugin. xfconfd is started by hand because the test
bus activates nothing.
"""

from __future__ import annotations

import glob
import shutil

from tests.kit.hosts.session import WATCHER
from tests.kit.hosts.x11 import X11Session
from tests.kit.wait import wait_for

PANEL_XML = """<?xml version="1.0" encoding="UTF-8"?>
<channel name="xfce4-panel" version="1.0">
  <property name="configver" type="int" value="2"/>
  <property name="panels" type="array">
    <value type="int" value="1"/>
    <property name="panel-1" type="empty">
      <property name="position" type="string" value="p=6;x=0;y=0"/>
      <property name="length" type="uint" value="100"/>
      <property name="position-locked" type="bool" value="true"/>
      <property name="size" type="uint" value="32"/>
      <property name="plugin-ids" type="array"><value type="int" value="1"/></property>
    </property>
  </property>
  <property name="plugins" type="empty">
    <property name="plugin-1" type="string" value="systray"/>
  </property>
</channel>
"""
PROGRAMS = ("xfce4-panel", "xfwm4")


def xfconfd() -> str | None:
    found = glob.glob("/usr/lib/*/xfce4/xfconf/xfconfd")
    return found[0] if found else None


def missing() -> list[str]:
    """What this host needs that is not installed."""
    gone = [p for p in (*PROGRAMS, "Xvfb", "xdotool", "import") if shutil.which(p) is None]
    return gone + ([] if xfconfd() else ["xfconfd"])


class XfceHost(X11Session):
    name = "xfce"

    def _start(self) -> None:
        self.start_x11()
        channel = self.tmp / "config" / "xfce4" / "xfconf" / "xfce-perchannel-xml"
        channel.mkdir(parents=True, exist_ok=True)
        (channel / "xfce4-panel.xml").write_text(PANEL_XML)
        daemon = xfconfd()
        assert daemon is not None
        self.spawn("xfconfd", [daemon])
        self.spawn("xfwm4", ["xfwm4", "--compositor=off"])
        self.spawn("xfce4-panel", ["xfce4-panel"])
        with self.step("panel and its systray start"):
            ready = wait_for(self._ready, 30, 0.2)
            assert ready, "no panel window with a StatusNotifierWatcher within 30 s"

    def _ready(self) -> bool:
        if self.died():
            raise RuntimeError("a program of the session exited")
        owned = self.reader is not None and self.reader._pid_of(WATCHER) is not None
        return owned and self.window("xfce4-panel") is not None

    def tray_area(self) -> tuple[int, int, int, int]:
        geometry = self.window("xfce4-panel")
        assert geometry is not None, "the panel window is gone"
        x, y, w, h = geometry
        return x, y, x + w, y + h
