"""The session-bus side of the tray item: connect, export, register with the watcher, recover.

A StatusNotifierWatcher (the panel's half of the protocol) may start after porttray, restart, or
vanish mid-call. porttray watches `NameOwnerChanged` for it and registers once per watcher
instance: the watcher's unique name is remembered, so a signal and a start-up lookup that see the
same watcher register only once. If the bus connection itself drops, porttray keeps running and
reconnects every few seconds. Everything here runs on the tray's asyncio loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os

from dbus_fast import BusType, Message, MessageType, NameFlag
from dbus_fast.aio import MessageBus

from tray.sni.dbusmenu import Menu
from tray.sni.item import MENU_PATH, PATH, Item

logger = logging.getLogger(__name__)

WATCHER = "org.kde.StatusNotifierWatcher"
WATCHER_PATH = "/StatusNotifierWatcher"
DBUS = ("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus")
CALL_TIMEOUT = 5.0
RECONNECT_EVERY = 3.0
REGISTER_TRIES = 3


async def bus_call(
    bus: MessageBus,
    target: tuple[str, str, str],
    member: str,
    signature: str = "",
    body: list[object] | None = None,
) -> Message:
    """A method call with a timeout; raises RuntimeError for a D-Bus error reply."""
    name, path, interface = target
    msg = Message(
        destination=name,
        path=path,
        interface=interface,
        member=member,
        signature=signature,
        body=body or [],
    )
    reply = await asyncio.wait_for(bus.call(msg), CALL_TIMEOUT)
    if reply.message_type == MessageType.ERROR:
        raise RuntimeError(f"{member}: {reply.error_name}: {reply.body[0] if reply.body else ''}")
    return reply


class Session:
    """Owns the bus connection for one tray item."""

    def __init__(self, item: Item, menu: Menu, bus_type: BusType = BusType.SESSION) -> None:
        self._item, self._menu, self._bus_type = item, menu, bus_type
        self.name = f"org.kde.StatusNotifierItem-{os.getpid()}-1"
        self._bus: MessageBus | None = None
        self._watcher_owner = ""
        """The unique name of the watcher porttray last registered with ("" for none)."""
        self._wanted = False
        self._lost_logged = False
        self.registrations = 0

    async def start(self) -> None:
        """Connect and export (raises when there is no session bus at all)."""
        bus = await MessageBus(bus_type=self._bus_type).connect()
        bus.export(PATH, self._item)
        bus.export(MENU_PATH, self._menu)
        await bus.request_name(self.name, NameFlag.DO_NOT_QUEUE)
        rule = (
            f"type='signal',sender='org.freedesktop.DBus',member='NameOwnerChanged',"
            f"arg0='{WATCHER}'"
        )
        await bus_call(bus, DBUS, "AddMatch", "s", [rule])
        bus.add_message_handler(self._on_message)
        bus.add_message_handler(self._note_caller)
        self._bus, self._watcher_owner = bus, ""
        if self._wanted:
            await self._register_with_current()

    async def show(self) -> None:
        """Register with the watcher now and whenever a new one appears."""
        self._wanted = True
        await self._register_with_current()

    async def _register_with_current(self) -> None:
        bus = self._bus
        if bus is None:
            return
        try:
            reply = await bus_call(bus, DBUS, "GetNameOwner", "s", [WATCHER])
        except (RuntimeError, TimeoutError):
            logger.info("no StatusNotifierWatcher yet; the icon appears when a panel starts one")
            return
        await self._register(str(reply.body[0]))

    def _note_caller(self, msg: Message) -> None:
        """Tell the menu who calls it: dbus-fast runs message handlers just before it dispatches
        the call to the exported method, on the same loop turn."""
        if msg.message_type == MessageType.METHOD_CALL and msg.path == MENU_PATH:
            self._menu.caller = msg.sender or ""

    def _on_message(self, msg: Message) -> None:
        if msg.message_type != MessageType.SIGNAL or msg.member != "NameOwnerChanged":
            return
        name, _old, new = msg.body
        if name != WATCHER:
            return
        if not new:
            logger.info("the StatusNotifierWatcher left the bus; waiting for it to return")
            self._watcher_owner = ""
        elif self._wanted:
            asyncio.get_running_loop().create_task(self._register(str(new)))

    async def _register(self, owner: str) -> None:
        bus = self._bus
        if bus is None or owner == self._watcher_owner:
            return  # already registered with this watcher
        self._watcher_owner = owner
        target = (WATCHER, WATCHER_PATH, WATCHER)
        for attempt in range(1, REGISTER_TRIES + 1):
            try:
                await bus_call(bus, target, "RegisterStatusNotifierItem", "s", [self.name])
            except TimeoutError:
                problem = f"no answer within {CALL_TIMEOUT:.0f} s"
            except RuntimeError as exc:
                problem = str(exc)
            else:
                self.registrations += 1
                logger.info("registered the tray icon with the StatusNotifierWatcher")
                return
            if self._watcher_owner != owner or self._bus is not bus:
                return  # that watcher has gone; the next one gets its own registration
            logger.warning(
                "the StatusNotifierWatcher did not take the tray icon (%s), try %d of %d",
                problem,
                attempt,
                REGISTER_TRIES,
            )
            await asyncio.sleep(1.0)
        if self._watcher_owner == owner:
            self._watcher_owner = ""  # try again when the next watcher appears

    async def run(self, stopped: asyncio.Event) -> None:
        """Stay connected until `stopped`: after a dropped connection, reconnect and register."""
        while not stopped.is_set():
            bus = self._bus
            if bus is not None:
                lost = asyncio.ensure_future(bus.wait_for_disconnect())  # type: ignore[no-untyped-call]
                done = asyncio.ensure_future(stopped.wait())
                await asyncio.wait((lost, done), return_when=asyncio.FIRST_COMPLETED)
                lost.cancel()
                done.cancel()
                if stopped.is_set():
                    return
                self._bus = None
                self._say_lost()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stopped.wait(), RECONNECT_EVERY)
            if not stopped.is_set():
                with contextlib.suppress(Exception):
                    await self.start()

    def _say_lost(self) -> None:
        if not self._lost_logged:
            self._lost_logged = True
            logger.warning(
                "lost the session bus connection; retrying every %.0f s", RECONNECT_EVERY
            )

    def close(self) -> None:
        """Leave the bus."""
        bus, self._bus = self._bus, None
        if bus is not None:
            bus.disconnect()

    def emit(self) -> bool:
        """Whether signals can go out now."""
        return self._bus is not None


def watcher_owned(wait: float = 0.0) -> bool:
    """Whether a StatusNotifierWatcher is on the session bus, waiting up to `wait` seconds for one
    to appear (a panel may start after porttray at login). False when there is no bus."""
    try:
        return asyncio.run(_watcher_owned(wait))
    except Exception as exc:
        logger.debug("could not ask the session bus for a StatusNotifierWatcher: %s", exc)
        return False


async def _watcher_owned(wait: float) -> bool:
    bus = await asyncio.wait_for(MessageBus().connect(), CALL_TIMEOUT)
    try:
        appeared = asyncio.Event()

        def seen(msg: Message) -> None:
            if msg.member == "NameOwnerChanged" and msg.body[0] == WATCHER and msg.body[2]:
                appeared.set()

        bus.add_message_handler(seen)
        rule = f"type='signal',member='NameOwnerChanged',arg0='{WATCHER}'"
        await bus_call(bus, DBUS, "AddMatch", "s", [rule])
        if (await bus_call(bus, DBUS, "NameHasOwner", "s", [WATCHER])).body[0]:
            return True
        if wait > 0:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(appeared.wait(), wait)
        return appeared.is_set()
    finally:
        bus.disconnect()
