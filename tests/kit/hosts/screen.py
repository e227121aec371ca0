"""What each real host provides to the tests: its screen, its input, its menus, its clipboard.

`HostScreen` is the interface a host class fills in (X11 hosts through `X11Session`, sway on its
own); the keyboard-driven defaults suit every host whose menus take keys.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image

from tests.kit.sni_host import MenuNode
from tests.kit.wait import wait_for

if TYPE_CHECKING:
    from tests.kit.hosts.traffic import MenuTraffic

PARKED = (40, 400)
"""Where the pointer waits: left of every menu (the tray icons are at the right or at the top
left, menus open next to them), below every panel."""


class HostScreen:
    """A host's screen, input, menus and clipboard."""

    traffic: MenuTraffic | None

    # -- what each host provides ------------------------------------------------------------

    def screenshot(self, path: Path | None = None) -> Image.Image:
        """The whole screen now (saved to `path` if given)."""
        raise NotImplementedError

    def tray_area(self) -> tuple[int, int, int, int]:
        """(left, top, right, bottom) of the panel area where tray icons are shown, measured."""
        raise NotImplementedError

    def point(self, x: int, y: int) -> None:
        """Move the real pointer to (x, y)."""
        raise NotImplementedError

    def click(self, x: int, y: int, button: int = 1) -> None:
        """A real pointer click at (x, y)."""
        raise NotImplementedError

    def menu_button(self) -> int:
        """The mouse button that opens porttray's menu here: the left one on SNI hosts."""
        return 1

    def park_pointer(self) -> None:
        """Move the pointer off the panel and any menu (no tooltip, no cursor on the icon)."""
        self.point(PARKED[0], PARKED[1])

    def keys(self, *names: str) -> None:
        """Real key presses, e.g. "Down", "Right", "Return", "Escape"."""
        raise NotImplementedError

    def dismiss_menu(self) -> None:
        """Close the open menu level as a person would (Escape)."""
        self.keys("Escape")

    def open_submenu(self, layout: MenuNode, port: int) -> None:
        """With the menu open: open the submenu of the server on `port`, by keys."""
        from tests.kit.hosts.driver import keys_to

        self.keys(*keys_to(layout, port, "Open in browser")[:-1])

    def pick(self, layout: MenuNode, port: int, label: str) -> bool:
        """With the menu open: pick `label` in the submenu of the server on `port`, by keys.

        Down to the entry, Right into its submenu, Down to `label`; Return only if the submenu
        is up and the menu's structure did not change meanwhile (a changed menu may have moved
        the selection). Returns whether it picked."""
        from tests.kit.hosts.driver import keys_to

        mark = self.traffic.mark() if self.traffic else 0
        keys = keys_to(layout, port, label)
        self.keys(*keys[:-1])
        wait_for(lambda: self.menu_count() >= 2, 3.0, 0.1)
        moved = self.traffic is not None and bool(
            self.traffic.calls("LayoutUpdated", mark)
            or self.traffic.calls("RegisterStatusNotifierItem", mark)
        )
        if self.menu_count() < 2 or moved:
            return False
        self.keys("Return")
        return True

    def menu_count(self) -> int:
        """How many menu levels (popups) of the host are on screen now."""
        raise NotImplementedError

    def menu_bounds(self) -> tuple[int, int, int, int] | None:
        """(left, top, right, bottom) of the open menu's first level, None when none is open."""
        raise NotImplementedError

    def menu_height(self) -> int:
        """The height of the open menu's first level (0 when none is open)."""
        box = self.menu_bounds()
        return 0 if box is None else box[3] - box[1]

    def menu_image(self) -> Image.Image | None:
        """What the open menu's first level shows now."""
        box = self.menu_bounds()
        return None if box is None else self.screenshot().crop(box)

    def menu_open(self) -> bool:
        """Whether a menu of the host is on screen now."""
        return self.menu_count() > 0

    def clipboard(self) -> str:
        """The session clipboard's text ("" if nothing owns it)."""
        raise NotImplementedError
