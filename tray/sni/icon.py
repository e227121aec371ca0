"""`SniIcon`: a `pystray._base.Icon` that is porttray's own StatusNotifierItem backend.

pystray stays the menu API: porttray builds `pystray.Menu`/`MenuItem` as on every platform and
pystray's setters (icon, title, visible, update_menu, stop) drive this class. `_run` owns the main
thread with an asyncio loop (dbus-fast), installs SIGTERM/SIGINT handlers on it (no GLib) and
calls `_mark_ready()` once the item is exported; the notifier runs on that loop too
(`asyncio_loop`). Calls from other threads are handed to the loop
with `call_soon_threadsafe`; a menu refresh that is already queued is not queued again.

Import pystray with `PYSTRAY_BACKEND=dummy` first (see `tray.backend.load_pystray`): only
`pystray._base` loads, never GTK.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Callable
from typing import Any

from pystray import _base

from tray.loops import quiet_loop_errors
from tray.sni import layout
from tray.sni.dbusmenu import Menu
from tray.sni.item import Item
from tray.sni.pixmap import from_image, pixmaps
from tray.sni.session import Session

logger = logging.getLogger(__name__)


class SniIcon(_base.Icon):  # type: ignore[misc]
    """A tray icon exported as org.kde.StatusNotifierItem + com.canonical.dbusmenu."""

    HAS_DEFAULT_ACTION = False
    HAS_MENU = True
    HAS_MENU_RADIO = False
    HAS_NOTIFICATION = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.on_signal: Callable[[], None] | None = None
        """Run (on a thread of its own) on SIGTERM/SIGINT; default: stop the icon."""
        self.on_secondary: Callable[[], None] | None = None
        """Run on a middle click (SecondaryActivate)."""
        self._badge: tuple[int, bool, bool] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped: asyncio.Event | None = None
        self._ids = layout.Ids()
        self._tree = layout.build((), self._ids)
        self._actions: dict[int, Any] = {}
        self._refresh_queued = False
        self._item = Item(str(self.name), self._secondary)
        self._menu_service = Menu(self._clicked, lambda: None)
        self.session = Session(self._item, self._menu_service)

    # what porttray calls beyond pystray's API

    @property
    def asyncio_loop(self) -> asyncio.AbstractEventLoop | None:
        """The loop the item runs on, once it runs: others with D-Bus work may share it."""
        loop = self._loop
        return loop if loop is not None and loop.is_running() else None

    def draw(self, count: int, *, exposed: bool = False, paused: bool = False) -> None:
        """Show porttray's badge icon, every size drawn natively (instead of `icon = image`)."""
        self._badge = (count, exposed, paused)
        self._icon_valid = False
        self._post(self._push_icon)

    # pystray's backend interface

    def _show(self) -> None:
        self._post(self._do_show)

    def _hide(self) -> None:
        self._post(lambda: self._item.set_status("Passive"))

    def _update_icon(self) -> None:
        self._badge = None
        self._post(self._push_icon)

    def _update_title(self) -> None:
        self._post(lambda: self._item.set_title(str(self.title)))

    def _update_menu(self) -> None:
        if self._loop is None:
            return  # not running yet: `_mark_ready` reads the menu once the loop is up
        if not self._refresh_queued:
            self._refresh_queued = True
            self._post(self._refresh_menu)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        loop.set_exception_handler(quiet_loop_errors)
        self._loop = loop
        try:
            for signo in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signo, self._on_signal)
            loop.run_until_complete(self._main())
        finally:
            for signo in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(signo)
            self._loop = None
            _cancel_the_rest(loop)
            loop.close()

    def _run_detached(self) -> None:
        raise NotImplementedError("the StatusNotifierItem backend runs only with run()")

    def _stop(self) -> None:
        loop, stopped = self._loop, self._stopped
        if loop is not None and stopped is not None and not loop.is_closed():
            loop.call_soon_threadsafe(stopped.set)

    # on the loop

    async def _main(self) -> None:
        self._stopped = asyncio.Event()
        await self.session.start()
        self._mark_ready()
        try:
            await self.session.run(self._stopped)
        finally:
            self.session.close()

    def _post(self, call: Callable[[], None]) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        if threading.current_thread() is threading.main_thread() and loop.is_running():
            call()
        else:
            loop.call_soon_threadsafe(call)

    def _on_signal(self) -> None:
        action = self.on_signal or self.stop
        threading.Thread(target=action, name="porttray-signal", daemon=True).start()

    def _do_show(self) -> None:
        self._item.set_status("Active")
        self._item.set_title(str(self.title))
        self._push_icon()
        asyncio.get_running_loop().create_task(self.session.show())

    def _push_icon(self) -> None:
        if self._badge is not None:
            count, exposed, paused = self._badge
            self._item.set_icon(pixmaps(count, exposed=exposed, paused=paused))
        elif self.icon is not None:
            self._item.set_icon(from_image(self.icon))
        self._icon_valid = True

    def _refresh_menu(self) -> None:
        """Read pystray's menu, give it stable ids, and send hosts only what changed."""
        self._refresh_queued = False
        order: list[Any] = []
        specs = _specs(self.menu, order) if self.menu is not None else ()
        tree = layout.build(specs, self._ids)
        change = layout.diff(self._tree, tree)
        self._tree = tree
        self._actions = dict(zip((n.id for n in list(tree.walk())[1:]), order, strict=True))
        if not change.empty and self.session.emit():
            self._menu_service.replace(tree, change)
        else:
            self._menu_service.replace(tree, layout.Change())

    def _clicked(self, item_id: int) -> None:
        """A host clicked an entry; one that has gone since does nothing."""
        item = self._actions.get(item_id)
        if item is None or item is _base.Menu.SEPARATOR or item.submenu is not None:
            return
        try:
            item(self)
        except Exception:
            logger.exception("a menu action failed")
        finally:
            self.update_menu()

    def _secondary(self) -> None:
        if self.on_secondary is not None:
            self.on_secondary()


def _cancel_the_rest(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what still runs on the loop (a notification under way at Quit), as asyncio.run
    does, so no task is destroyed while pending."""
    rest = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in rest:
        task.cancel()
    if rest:
        loop.run_until_complete(asyncio.gather(*rest, return_exceptions=True))


def _specs(menu: Any, order: list[Any]) -> tuple[layout.Spec, ...]:
    """pystray's visible items as `layout.Spec`s; `order` gets the items in walk order."""
    out: list[layout.Spec] = []
    for item in tuple(menu):
        order.append(item)
        if item is _base.Menu.SEPARATOR:
            out.append(layout.Spec("-", separator=True))
            continue
        sub = item.submenu
        checked = item.checked
        out.append(
            layout.Spec(
                str(item.text),
                key=str(getattr(item, "key", "") or ""),
                enabled=bool(item.enabled),
                checked=None if checked is None else bool(checked),
                children=None if sub is None else _specs(sub, order),
            )
        )
    return tuple(out)
