"""org.kde.StatusNotifierItem over dbus-fast: the icon, its title and tooltip, and its clicks.

`ItemIsMenu` is true, so XFCE, waybar and GNOME's extension open the menu on a left click.
Plasma 5.27 ignores `ItemIsMenu`: it calls `Activate` and opens the menu only when that call
fails (as for libappindicator items, which have no Activate), so `Activate` answers
UnknownMethod; GNOME's extension takes the same answer as "left click is the menu". A middle click
(`SecondaryActivate`) runs `on_secondary` (porttray opens the newest server). The icon goes as
`IconPixmap` in every size porttray draws, so hosts pick a native one instead of shrinking 64 px.
"""

# No `from __future__ import annotations`: dbus-fast reads these annotations at class creation.

import logging
from collections.abc import Callable
from typing import Annotated, Any

from dbus_fast import PropertyAccess
from dbus_fast.annotations import DBusBool, DBusInt32, DBusObjectPath, DBusSignature, DBusStr
from dbus_fast.errors import DBusError
from dbus_fast.service import ServiceInterface, dbus_method, dbus_property, dbus_signal

logger = logging.getLogger(__name__)

INTERFACE = "org.kde.StatusNotifierItem"
PATH = "/StatusNotifierItem"
MENU_PATH = "/MenuBar"
NO_ACTIVATE = "org.freedesktop.DBus.Error.UnknownMethod"

Pixmaps = Annotated[list[Any], DBusSignature("a(iiay)")]
ToolTipSig = Annotated[list[Any], DBusSignature("(sa(iiay)ss)")]
StatusSig = Annotated[str, DBusSignature("s")]


class Item(ServiceInterface):
    """The tray item. The setters change a property and emit its New* signal."""

    def __init__(self, item_id: str, on_secondary: Callable[[], None]) -> None:
        super().__init__(INTERFACE)
        self._id = item_id
        self._on_secondary = on_secondary
        self._title = ""
        self._pixmaps: list[Any] = []
        self._status = "Active"

    def set_icon(self, pixmaps: list[Any]) -> None:
        """New icon pixmaps (`a(iiay)`)."""
        if pixmaps != self._pixmaps:
            self._pixmaps = pixmaps
            self.NewIcon()

    def set_title(self, title: str) -> None:
        """New title, also the tooltip's text."""
        if title != self._title:
            self._title = title
            self.NewTitle()
            self.NewToolTip()

    def set_status(self, status: str) -> None:
        """ "Active" (shown) or "Passive" (hidden where the host can hide items)."""
        if status != self._status:
            self._status = status
            self.NewStatus(status)

    @dbus_property(access=PropertyAccess.READ)
    def Category(self) -> DBusStr:
        return "ApplicationStatus"

    @dbus_property(access=PropertyAccess.READ)
    def Id(self) -> DBusStr:
        return self._id

    @dbus_property(access=PropertyAccess.READ)
    def Title(self) -> DBusStr:
        return self._title

    @dbus_property(access=PropertyAccess.READ)
    def Status(self) -> DBusStr:
        return self._status

    @dbus_property(access=PropertyAccess.READ)
    def WindowId(self) -> DBusInt32:
        return 0

    @dbus_property(access=PropertyAccess.READ)
    def IconName(self) -> DBusStr:
        return ""

    @dbus_property(access=PropertyAccess.READ)
    def IconPixmap(self) -> Pixmaps:
        return self._pixmaps

    @dbus_property(access=PropertyAccess.READ)
    def OverlayIconName(self) -> DBusStr:
        return ""

    @dbus_property(access=PropertyAccess.READ)
    def AttentionIconName(self) -> DBusStr:
        return ""

    @dbus_property(access=PropertyAccess.READ)
    def IconAccessibleDesc(self) -> DBusStr:
        """What a screen reader says for the icon (GNOME's extension reads it): the title."""
        return self._title

    @dbus_property(access=PropertyAccess.READ)
    def AttentionAccessibleDesc(self) -> DBusStr:
        return self._title

    @dbus_property(access=PropertyAccess.READ)
    def ToolTip(self) -> ToolTipSig:
        return ["", [], self._title, ""]

    @dbus_property(access=PropertyAccess.READ)
    def ItemIsMenu(self) -> DBusBool:
        return True

    @dbus_property(access=PropertyAccess.READ)
    def Menu(self) -> DBusObjectPath:
        return MENU_PATH

    @dbus_method()
    def Activate(self, x: DBusInt32, y: DBusInt32) -> None:
        logger.debug("Activate at %d,%d: answered UnknownMethod so the host shows the menu", x, y)
        raise DBusError(NO_ACTIVATE, "porttray's item has no primary action: show its menu")

    @dbus_method()
    def SecondaryActivate(self, x: DBusInt32, y: DBusInt32) -> None:
        try:
            self._on_secondary()
        except Exception:
            logger.exception("the middle-click action failed")

    @dbus_method()
    def ContextMenu(self, x: DBusInt32, y: DBusInt32) -> None:
        logger.debug("ContextMenu at %d,%d: hosts show the exported menu themselves", x, y)

    @dbus_method()
    def Scroll(self, delta: DBusInt32, orientation: DBusStr) -> None:
        pass

    @dbus_signal()
    def NewTitle(self) -> None:
        pass

    @dbus_signal()
    def NewIcon(self) -> None:
        pass

    @dbus_signal()
    def NewToolTip(self) -> None:
        pass

    @dbus_signal()
    def NewStatus(self, status: str) -> StatusSig:
        return status
