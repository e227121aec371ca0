"""Using porttray through a real host as a person does: find the icon, click it, pick entries.

The icon is found by measurement: the tray area is photographed before porttray starts and again
until a stable difference appears; that difference's bounding box is the icon. Entries are picked
with the keyboard in the menu the host opened (Down to the entry, Right into its submenu, Return):
the path is worked out from the layout porttray exports, which is what the host renders.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image, ImageChops, ImageStat

from tests.kit.hosts.session import HostSession
from tests.kit.sni_host import MenuNode
from tests.kit.wait import wait_for

Box = tuple[int, int, int, int]
"""(left, top, right, bottom) on the screen."""


def settled_tray_area(session: HostSession, timeout: float = 20.0) -> Image.Image:
    """The tray area once the panel has painted it (not Xvfb's black) and it stops changing."""
    last: list[Image.Image | None] = [None]

    def settled() -> bool:
        now = session.screenshot().crop(session.tray_area())
        previous, last[0] = last[0], now
        painted = now.getextrema() != ((0, 0), (0, 0), (0, 0))
        same = previous is not None and not ImageChops.difference(now, previous).getbbox()
        return painted and same

    if not wait_for(settled, timeout, 0.5):
        raise TimeoutError(f"the panel did not finish painting its tray area within {timeout} s")
    assert last[0] is not None
    return last[0]


@dataclass
class HostTray:
    """porttray's icon on a real host."""

    session: HostSession
    baseline: Image.Image
    """The tray area before porttray started."""
    icon: Box = (0, 0, 0, 0)

    def find_icon(self, timeout: float = 20.0) -> Box:
        """Wait for the icon to appear in the tray area and settle; its box on the screen."""
        area = self.session.tray_area()
        self.session.park_pointer()
        last: list[Box | None] = [None]

        def settled() -> bool:
            now = self.session.screenshot().crop(area)
            box = ImageChops.difference(now, self.baseline).getbbox()
            stable = box is not None and box == last[0]
            last[0] = box
            return stable

        if not wait_for(settled, timeout, 0.3):
            raise TimeoutError(f"no icon appeared in the tray area {area} within {timeout} s")
        box = last[0]
        assert box is not None
        now = self.session.screenshot().crop(area)
        box = porttray_blob(ImageChops.difference(now, self.baseline), now, box)
        self.icon = (area[0] + box[0], area[1] + box[1], area[0] + box[2], area[1] + box[3])
        return self.icon

    def relocate(self) -> Box:
        """Where the icon is now: a tray may later show another icon and move porttray's
        (Plasma shows its clipboard's once something was copied), and the rest of the panel
        changes too (the clock), so it is found by its blue, in the row it was found in, with
        the size it had. The pointer is parked first."""
        left, top, right, bottom = self.icon
        area = self.session.tray_area()
        self.session.park_pointer()
        row = self.session.screenshot().crop((area[0], top, area[2], bottom))
        found = bluest_run(row)
        if found is not None:
            middle = area[0] + (found[0] + found[1]) // 2
            left = middle - (right - left) // 2
            self.icon = (left, top, left + self.icon[2] - self.icon[0], bottom)
        return self.icon

    def icon_image(self) -> Image.Image:
        return self.session.screenshot().crop(self.icon)

    def settled_icon(self, timeout: float = 10.0) -> Image.Image:
        """The icon once two looks half a second apart agree (a redraw may be under way)."""
        self.relocate()
        last: list[Image.Image | None] = [None]

        def same() -> bool:
            now = self.icon_image()
            previous, last[0] = last[0], now
            return previous is not None and not ImageChops.difference(now, previous).getbbox()

        if not wait_for(same, timeout, 0.5):
            raise TimeoutError(f"the icon kept changing for {timeout} s")
        assert last[0] is not None
        return last[0]

    def icon_is_drawn(self) -> bool:
        """Whether the icon has more in it than a flat patch."""
        return max(ImageStat.Stat(self.icon_image()).stddev) > 20

    def open_menu(self, timeout: float = 15.0, attempts: int = 3) -> None:
        """Click the icon's centre and wait for the host's menu to be on screen.

        The pointer goes there first, and if no menu came it leaves and comes back before the
        next click, as a person's would: a panel can drop a click that arrives before it has
        seen the pointer enter its button."""
        left, top, right, bottom = self.relocate()
        x, y = (left + right) // 2, (top + bottom) // 2
        for attempt in range(1, attempts + 1):
            self.session.point(x, y)
            self.session.click(x, y, self.session.menu_button())
            if wait_for(self.session.menu_open, timeout / attempts, 0.1):
                break
            if attempt == attempts:
                raise TimeoutError(f"no menu on screen after {attempts} clicks in {timeout} s")
            self.session.park_pointer()
        settled_menu_image(self.session)  # the menu finished its map: keys reach it now

    def close_menu(self, timeout: float = 5.0) -> None:
        """Dismiss every menu level; wait until nothing is open."""
        for _ in range(3):
            if not self.session.menu_open():
                return
            self.session.dismiss_menu()
            wait_for(lambda: not self.session.menu_open(), 1.0, 0.1)
        if not wait_for(lambda: not self.session.menu_open(), timeout, 0.1):
            raise TimeoutError("the menu did not close")

    def choose(self, port: int, label: str, attempts: int = 3) -> None:
        """Open the menu and pick `label` in the submenu of the server on `port`; if the menu
        changed or closed on the way (see `HostSession.pick`), close it and try again."""
        for _ in range(attempts):
            self.open_menu()
            traffic = self.session.traffic if self.session.item is not None else None
            mark = traffic.mark() if traffic is not None else 0
            if self.session.pick(self.session.current_layout(), port, label):
                if traffic is not None:
                    traffic.wait_for_click(mark)
                return
            self.close_menu()
        raise TimeoutError(f"the menu kept changing or closing: could not pick {label!r}")


def porttray_blob(diff: Image.Image, now: Image.Image, box: Box) -> Box:
    """Of the changed column runs inside `box`, the one with the most of porttray's blue.

    A tray may add or move other icons while porttray's appears (Plasma adds its keyboard
    layout icon late and reorders); porttray's icon is the blue one."""
    width = diff.width
    changed = [
        any(diff.getpixel((x, y)) != (0, 0, 0) for y in range(box[1], box[3])) for x in range(width)
    ]
    runs, start = [], None
    for x, hit in enumerate([*changed, False]):
        if hit and start is None:
            start = x
        elif not hit and start is not None:
            runs.append((start, x))
            start = None

    def blue(run: tuple[int, int]) -> int:
        return _blue(now.crop((run[0], box[1], run[1], box[3])))

    best = max(runs, key=blue, default=(box[0], box[2]))
    return best[0], box[1], best[1], box[3]


def _blue(image: Image.Image) -> int:
    """How many of the image's pixels are porttray's blue."""
    raw = image.convert("RGB").tobytes()
    pixels = zip(raw[0::3], raw[1::3], raw[2::3], strict=True)
    return sum(1 for r, g, b in pixels if b > 180 and r < 110 and 60 < g < 170)


def bluest_run(row: Image.Image) -> tuple[int, int] | None:
    """Of the runs of columns of `row` that hold porttray's blue, the one with the most; None
    when there is none."""
    counts = [_blue(row.crop((x, 0, x + 1, row.height))) for x in range(row.width)]
    runs, start = [], None
    for x, count in enumerate([*counts, 0]):
        if count and start is None:
            start = x
        elif not count and start is not None:
            runs.append((start, x))
            start = None
    return max(runs, key=lambda run: sum(counts[run[0] : run[1]]), default=None)


def selectable(node: MenuNode) -> list[MenuNode]:
    """The children keyboard navigation stops at (visible, enabled, not separators)."""
    return [c for c in node.children if c.visible and c.enabled and c.type != "separator"]


def keys_to(layout: MenuNode, port: int, label: str) -> list[str]:
    """The key presses that pick `label` in the submenu of the server on `port`."""
    top = selectable(layout)
    index = next((i for i, n in enumerate(top) if n.text.startswith(f":{port} ")), None)
    assert index is not None, f"no entry for :{port} in\n{layout.render()}"
    inner = selectable(top[index])
    position = next((i for i, n in enumerate(inner) if n.text == label), None)
    assert position is not None, f"no {label!r} under :{port} in\n{layout.render()}"
    return ["Down"] * (index + 1) + ["Right"] + ["Down"] * position + ["Return"]


def rows_to(layout: MenuNode, port: int, label: str) -> tuple[int, int]:
    """The rows (visible entries, separators not counted) of the server on `port` and of
    `label` in its submenu: what a pointer counts."""

    def shown(node: MenuNode) -> list[MenuNode]:
        return [c for c in node.children if c.visible and c.type != "separator"]

    top = shown(layout)
    index = next((i for i, n in enumerate(top) if n.text.startswith(f":{port} ")), None)
    assert index is not None, f"no entry for :{port} in\n{layout.render()}"
    inner = [n.text for n in shown(top[index])]
    assert label in inner, f"no {label!r} under :{port} in\n{layout.render()}"
    return index, inner.index(label)


def settled_menu_image(session: HostSession) -> Image.Image | None:
    """The open menu once two looks agree (the pointer leaving it redraws a row)."""
    last: list[Image.Image | None] = [None]

    def same() -> bool:
        now = session.menu_image()
        previous, last[0] = last[0], now
        return now is not None and previous is not None and not differs(now, previous)

    wait_for(same, 5, 0.3)
    return last[0]


def differs(now: Image.Image | None, before: Image.Image | None) -> bool:
    """Whether two looks at the menu differ (False when either is missing)."""
    if now is None or before is None:
        return False
    return now.size != before.size or ImageChops.difference(now, before).getbbox() is not None
