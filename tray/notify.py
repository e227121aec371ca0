"""Desktop notifications with an optional button and click action, from any thread.

desktop-notifier speaks the platform's notification service (D-Bus on Linux, WinRT on Windows,
UserNotifications on macOS). Its click and button callbacks only fire while an asyncio loop runs:
the notifier runs on the loop it is given (the StatusNotifierItem's, so the tray has one loop and
one thread for D-Bus), else on one of its own on a named daemon thread. Every `notify` is a
coroutine handed to that loop: callers never wait.

The notification server is asked what it can do before anything is offered: a button only where
it has actions, a click-to-open only where it reports clicks. When desktop-notifier cannot deliver
(no session bus, no notification server, an unsigned macOS app, an error) porttray says so once
and hands notifications to the fallback given at construction (the tray's own balloon). Every
later notification tries desktop-notifier again with a fresh connection, so a notification server
that comes back is used again; the return is logged once too.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from tray.loops import end_loop_thread, loop_on_thread
from tray.text import lines, markup, printable

logger = logging.getLogger(__name__)

Fallback = Callable[[str, str], None]
"""Shows (title, body) some other way."""
Action = Callable[[], None]
THREAD = "porttray-notifier"
"""The name of the notifier's own thread, when it is not given a loop."""


class Capability(enum.Enum):
    """What notifications can do right now."""

    DELIVER = "deliver"
    """A notification reaches the user (natively or through the fallback)."""
    BUTTONS = "buttons"
    """A notification can carry a button."""
    CLICK = "click"
    """Clicking the notification itself runs an action."""


class Notifier:
    """Sends notifications through desktop-notifier, or through `fallback` when it cannot."""

    def __init__(
        self,
        app_name: str = "porttray",
        fallback: Fallback | None = None,
        *,
        timeout: float = 5.0,
        icon: Path | None = None,
    ) -> None:
        self._app_name = app_name
        self._icon = icon
        self._fallback = fallback
        self._timeout = timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._native: Any = None
        self._native_caps: frozenset[Capability] | None = None
        self._available: bool | None = None
        self._one_at_a_time = asyncio.Lock()
        self._pending: set[Future[Any]] = set()
        """The notifier's coroutines not yet done on the loop (which may not be its own)."""
        self._markup: bool | None = None
        """Whether the connected notification server reads bodies as markup (None: not asked)."""

    @property
    def capabilities(self) -> frozenset[Capability]:
        """What a notification sent now can do."""
        if self._native_caps is not None:
            return self._native_caps
        return frozenset({Capability.DELIVER}) if self._fallback else frozenset()

    def start(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """Start on `loop` (running on another thread), else on a loop of a thread of its own,
        and ask the notification server what it supports (waits `timeout`)."""
        if self._loop is not None:
            return
        if loop is None:
            loop, self._thread = loop_on_thread(THREAD)
        self._loop, self._one_at_a_time = loop, asyncio.Lock()
        probe = self._submit(loop, self._probe())
        with contextlib.suppress(Exception):
            probe.result(self._timeout + 1)

    def stop(self, timeout: float = 2.0) -> None:
        """Close the connection and end the loop's thread (if its own) within `timeout` seconds."""
        loop, thread = self._loop, self._thread
        self._loop = self._thread = None
        if loop is None:
            return
        if loop.is_running():
            closing = asyncio.run_coroutine_threadsafe(self._shutdown(timeout / 2), loop)
            with contextlib.suppress(Exception):
                closing.result(timeout / 2)
        else:  # the loop it was given has ended: no waiting for the bus, just leave it
            self._forget()
        if thread is not None and not end_loop_thread(loop, thread, timeout / 2):
            logger.warning("The notifier thread did not stop within %.1f s", timeout)

    def notify(
        self,
        title: str,
        body: str,
        *,
        button: tuple[str, Action] | None = None,
        on_click: Action | None = None,
    ) -> None:
        """Show a notification. Returns at once; callable from any thread."""
        loop = self._loop
        if loop is None or loop.is_closed():
            self._fall_back(title, body)
            return
        try:
            self._submit(loop, self._deliver(title, body, button, on_click))
        except RuntimeError:  # the loop closed under us
            self._fall_back(title, body)

    def _submit(self, loop: asyncio.AbstractEventLoop, work: Any) -> Future[Any]:
        """Run the coroutine `work` on `loop`, counted among the notifier's own."""
        future = asyncio.run_coroutine_threadsafe(work, loop)
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)
        return future

    async def _probe(self) -> None:
        async with self._one_at_a_time:
            await self._connect()

    async def _deliver(
        self, title: str, body: str, button: tuple[str, Action] | None, on_click: Action | None
    ) -> None:
        async with self._one_at_a_time:  # in order, and one connection attempt at a time
            server = await self._connect()
            if server is None:
                self._fall_back(title, body)
            elif not await self._send(server, title, body, button, on_click):
                await self._drop()
                self._unavailable("the notification server did not take the notification")
                self._fall_back(title, body)

    async def _connect(self) -> frozenset[Any] | None:
        """The server's capabilities, connecting first if needed; None if it cannot deliver."""
        from desktop_notifier import Capability as Native

        try:
            if self._native is None:
                self._native = _new_native(self._app_name, self._icon)
            server: frozenset[Any] = await asyncio.wait_for(
                self._native.get_capabilities(), self._timeout
            )
        except Exception as exc:
            await self._drop()
            self._unavailable(_describe(exc))
            return None
        if Native.TITLE not in server:
            await self._drop()
            self._unavailable("this platform has no notification service")
            return None
        if self._markup is None:
            self._markup = await self._reads_markup()
        self._native_caps = frozenset(
            {Capability.DELIVER}
            | ({Capability.BUTTONS} if Native.BUTTONS in server else set())
            | ({Capability.CLICK} if Native.ON_CLICKED in server else set())
        )
        self._now_available()
        return server

    async def _reads_markup(self) -> bool:
        """Whether the D-Bus notification server reports "body-markup" (desktop-notifier keeps
        the raw capability list to itself, so its proxy is asked directly). Elsewhere: False."""
        interface = getattr(getattr(self._native, "_backend", None), "interface", None)
        ask = getattr(interface, "call_get_capabilities", None)
        if ask is None:
            return False
        try:
            caps = await asyncio.wait_for(ask(), self._timeout)
        except Exception as error:  # no server, or it went away: plain text is always safe
            logger.debug("asking the notification server for body-markup failed: %r", error)
            return False
        return "body-markup" in caps

    async def _send(
        self,
        server: frozenset[Any],
        title: str,
        body: str,
        button: tuple[str, Action] | None,
        on_click: Action | None,
    ) -> bool:
        from desktop_notifier import Button
        from desktop_notifier import Capability as Native

        dispatched = threading.Event()
        buttons: tuple[Button, ...] = ()
        if button is not None and Native.BUTTONS in server:
            buttons = (Button(title=button[0], on_pressed=_guarded(button[1])),)
        clicked = _guarded(on_click) if on_click and Native.ON_CLICKED in server else None
        title, body = printable(title), lines(body)
        if self._markup:
            body = markup(body)
        try:
            await asyncio.wait_for(
                self._native.send(
                    title, body, buttons=buttons, on_clicked=clicked, on_dispatched=dispatched.set
                ),
                self._timeout,
            )
        except Exception as error:  # the caller reports it once, as "unavailable"
            logger.debug("desktop-notifier send failed: %r", error)
            return False
        return dispatched.is_set()

    async def _drop(self, timeout: float | None = None) -> None:
        """Forget the desktop-notifier instance and close its bus connection.

        desktop-notifier 6 keeps its D-Bus connection in `_backend.bus` and never closes it.
        """
        bus = self._forget()
        if bus is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(bus.wait_for_disconnect(), timeout or self._timeout)

    def _forget(self) -> Any:
        """Forget the desktop-notifier instance and start closing its connection; the bus."""
        native, self._native, self._native_caps = self._native, None, None
        self._markup = None
        bus = getattr(getattr(native, "_backend", None), "bus", None)
        if bus is None or not getattr(bus, "connected", False):
            return None
        bus.disconnect()
        return bus

    async def _shutdown(self, timeout: float) -> None:
        for future in list(self._pending):  # only the notifier's own: the loop may be shared
            future.cancel()  # its task is cancelled on the loop's next turn
        await self._drop(timeout)

    def _unavailable(self, reason: str) -> None:
        if self._available is not False:
            where = "the tray's own notifications" if self._fallback else "nothing"
            logger.warning("Desktop notifications are unavailable (%s); using %s", reason, where)
        self._available = False

    def _now_available(self) -> None:
        if self._available is False:
            logger.info("Desktop notifications are available again")
        self._available = True

    def _fall_back(self, title: str, body: str) -> None:
        if self._fallback is None:
            return
        try:
            self._fallback(printable(title), lines(body))
        except Exception:
            logger.debug("The fallback notification failed too", exc_info=True)


def _new_native(app_name: str, icon: Path | None) -> Any:
    if sys.platform == "darwin":
        from desktop_notifier.backends.macos_support import is_bundle, is_signed_bundle

        if not (is_bundle() and is_signed_bundle()):
            raise RuntimeError("macOS delivers notifications only from a signed app bundle")
    from desktop_notifier import DesktopNotifier, Icon

    return DesktopNotifier(app_name=app_name, app_icon=Icon(path=icon) if icon else None)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "the notification server did not answer"
    return str(exc) or type(exc).__name__


def _guarded(action: Action) -> Action:
    """`action`, with its exceptions logged instead of lost in the notifier's loop."""

    def run() -> None:
        try:
            action()
        except Exception:
            logger.exception("A notification action failed")

    return run
