"""What the real-host tests do on any host: list a server and wait for its entry, open the menu
with a left click, add a server while the menu is open; and which tray backend porttray chose.

Each step goes through `HostSession.step`, so a failure names the host and the step.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from tests.kit.hosts.driver import HostTray, differs, settled_menu_image
from tests.kit.hosts.servers import DEFAULT_TITLE, serve
from tests.kit.hosts.session import HostSession
from tests.kit.sni_host import MenuNode
from tests.kit.wait import wait_for


def backend(session: HostSession) -> str:
    """The tray backend porttray says it runs on ("appindicator", "gtk", "sni", ...)."""
    found = re.search(r"porttray is running \((\S+) backend", session.porttray_log())
    return found.group(1) if found else "unknown"


def left_click_opens_the_menu(tray: HostTray) -> None:
    session = tray.session
    with session.step("a left click on the icon opens the menu"):
        left, top, right, bottom = tray.relocate()
        x, y = (left + right) // 2, (top + bottom) // 2
        session.point(x, y)
        opened = False
        for _ in range(2):  # as in HostTray.open_menu: a panel may drop a first click
            session.click(x, y, 1)
            opened = wait_for(session.menu_open, 5, 0.1)
            if opened:
                break
        session.screenshot(session.artifact("left-click"))
        assert opened, "no menu on screen 5 s after a left click"
    tray.close_menu()


@dataclass(frozen=True)
class OpenMenu:
    height: int
    image: Image.Image | None


@contextmanager
def a_server_added_to_the_open_menu(tray: HostTray, tmp_path: Path) -> Iterator[OpenMenu]:
    """With one server listed, open the menu, start a second server and wait until the host
    has the new menu (or, on XEmbed, porttray lists the server); yields the menu as it was."""
    session = tray.session
    with listed(tray, tmp_path / "first"):
        with session.step("open the menu"):
            tray.open_menu()
            session.park_pointer()
            before = OpenMenu(session.menu_height(), settled_menu_image(session))
            assert before.height > 0, "no menu on screen right after it opened"
        try:
            yield from _with_second_server(session, tmp_path, before)
        except BaseException:
            with contextlib.suppress(Exception):  # a later test must not find it open
                tray.close_menu()
            raise
        tray.close_menu()


def _with_second_server(
    session: HostSession, tmp_path: Path, before: OpenMenu
) -> Iterator[OpenMenu]:
    mark = session.traffic.mark() if session.traffic else 0
    with serve(tmp_path / "second") as port:
        if session.traffic is not None and session.item is not None:
            added = next(n for n in wait_for_entry(session, port).children if f":{port} " in n.text)
            with session.step("the host fetches the menu with the new server"):
                session.traffic.wait_for_layout(
                    lambda lay: added.id in {n.id for n in lay.walk()}, 15, mark
                )
        else:
            wait_for_entry(session, port)
        yield before


@contextmanager
def listed(tray: HostTray, tmp: Path, title: str = DEFAULT_TITLE, body: str = "") -> Iterator[int]:
    """A test's own server once porttray lists it; its port. Servers of earlier tests have left
    the menu first, or one leaving later would undo what the test adds (a row, a count). On
    XEmbed the menu is not on the bus: there, once the CLI lists the server, also until the tray
    redrew its badge for it (the icon is redrawn right after the menu is handed over, so a menu
    opened from then on has the server)."""
    session = tray.session
    with session.step("servers of earlier tests have left the menu"):

        def none_left() -> bool:
            return not any(n.text.startswith(":") for n in session.current_layout().children)

        assert wait_for(none_left, 20, 0.3), session.current_layout().render()
    before = tray.settled_icon() if session.item is None else None
    with serve(tmp, title, body) as port:
        wait_for_entry(session, port, title)
        if before is not None:
            with session.step(f"the tray redraws its badge for :{port}"):
                redrawn = wait_for(lambda: differs(tray.icon_image(), before), 10, 0.2)
                assert redrawn, "the icon did not change"
        yield port


def wait_for_entry(session: HostSession, port: int, title: str = DEFAULT_TITLE) -> MenuNode:
    """porttray's exported menu once it lists the server on `port` with its page title (after
    the probe: a rename after the menu opened would close it on pystray's GTK paths)."""

    def listed(layout: MenuNode) -> bool:
        return any(n.text.startswith(f":{port} ") and title in n.text for n in layout.children)

    with session.step(f"porttray lists :{port} as {title!r}"):
        if session.item is None:  # XEmbed: the menu is not on the bus; ask the CLI
            assert wait_for(lambda: listed(session.current_layout()), 15, 0.5), session.listed()
            return session.current_layout()
        assert session.reader is not None
        return session.reader.wait_for(listed, 15, session.item)
