"""A StatusNotifierWatcher and tray host for tests: what GNOME, KDE and XFCE do with a tray item.

A thread owns `org.kde.StatusNotifierWatcher` on the test bus and serves it: items register, hosts
register, the properties answer, `StatusNotifierItemRegistered` is emitted and an item that leaves
the bus is forgotten. A second connection plays the host's client side: it reads an item's
properties, asks for its menu through `com.canonical.dbusmenu` (`AboutToShow` then `GetLayout`,
like a real host opening the menu) and sends `Event(id, "clicked", ...)`.

libayatana-appindicator registers with an object path (the item is then the sender's unique name
plus that path); KDE-style items register with a bus name and live at `/StatusNotifierItem`. Both
are handled. `stop()` releases the watcher name, `start()` takes it again: the fault "tray host goes
away and comes back" seen from the item's side.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, NamedTuple

from jeepney import DBusAddress, HeaderFields, MessageType, new_method_call
from jeepney.bus_messages import MatchRule, message_bus
from jeepney.io.blocking import DBusConnection, open_dbus_connection
from jeepney.low_level import Message
from jeepney.wrappers import new_error, new_method_return, new_signal, unwrap_msg

from tests.kit.leaks import STACK_THREAD_PREFIX
from tests.kit.menu_layout import MenuNode, RawLayout, parse_layout

__all__ = [
    "DBUSMENU",
    "ITEM_INTERFACE",
    "WATCHER",
    "MenuNode",
    "RawLayout",
    "SniItem",
    "StatusNotifierHost",
    "parse_layout",
]

WATCHER = "org.kde.StatusNotifierWatcher"
WATCHER_PATH = "/StatusNotifierWatcher"
ITEM_INTERFACE = "org.kde.StatusNotifierItem"
DBUSMENU = "com.canonical.dbusmenu"
PROPERTIES = "org.freedesktop.DBus.Properties"
CALL_TIMEOUT = 5.0
INTROSPECTION = f"""<node><interface name="{WATCHER}">
<method name="RegisterStatusNotifierItem"><arg type="s" direction="in"/></method>
<method name="RegisterStatusNotifierHost"><arg type="s" direction="in"/></method>
<property name="RegisteredStatusNotifierItems" type="as" access="read"/>
<property name="IsStatusNotifierHostRegistered" type="b" access="read"/>
<property name="ProtocolVersion" type="i" access="read"/>
<signal name="StatusNotifierItemRegistered"><arg type="s"/></signal>
<signal name="StatusNotifierItemUnregistered"><arg type="s"/></signal>
<signal name="StatusNotifierHostRegistered"/>
</interface></node>"""


class SniItem(NamedTuple):
    """A registered tray item."""

    bus_name: str
    object_path: str


class StatusNotifierHost:
    """The tray side of the StatusNotifierItem protocol, on the bus at `address`."""

    def __init__(self, address: str) -> None:
        self.address = address
        self._items: list[SniItem] = []
        self._changed = threading.Condition()
        self._stopping = threading.Event()
        self._server: DBusConnection | None = None
        self._thread: threading.Thread | None = None
        self._client = open_dbus_connection(address)
        self._client_lock = threading.Lock()

    # -- the watcher service ----------------------------------------------------------------

    def start(self) -> None:
        """Own the watcher name and serve it on a thread."""
        conn = open_dbus_connection(self.address)
        # Subscribe before taking the name: calls that arrive while send_and_get_reply waits for
        # a reply are dropped, and items call RegisterStatusNotifierItem as soon as the name is
        # taken.
        rule = MatchRule(type="signal", sender="org.freedesktop.DBus", member="NameOwnerChanged")
        conn.send_and_get_reply(message_bus.AddMatch(rule), timeout=CALL_TIMEOUT)
        reply = conn.send_and_get_reply(message_bus.RequestName(WATCHER, 4), timeout=CALL_TIMEOUT)
        if unwrap_msg(reply)[0] != 1:
            conn.close()
            raise RuntimeError(f"{WATCHER} is already owned on {self.address}")
        self._server, self._stopping = conn, threading.Event()
        self._thread = threading.Thread(
            target=self._serve, args=(conn, self._stopping), name=f"{STACK_THREAD_PREFIX}-sni-host"
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and release the name: items see the tray host go away."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(5)
        if self._server is not None:
            self._server.close()
        self._server = self._thread = None
        with self._changed:
            self._items.clear()
            self._changed.notify_all()

    def close(self) -> None:
        """Stop serving and close the client connection too."""
        self.stop()
        self._client.close()

    def fds(self) -> set[int]:
        """The file descriptors this host holds (for leak checks)."""
        conns = [c for c in (self._server, self._client) if c is not None]
        return {c.sock.fileno() for c in conns if c.sock.fileno() >= 0}

    def _serve(self, conn: DBusConnection, stopping: threading.Event) -> None:
        while not stopping.is_set():
            try:
                msg = conn.receive(timeout=0.1)
            except TimeoutError:
                continue
            except (OSError, ValueError):
                return
            if msg.header.message_type == MessageType.method_call:
                self._answer(conn, msg)
            elif msg.header.fields.get(HeaderFields.member) == "NameOwnerChanged":
                name, _old, new = msg.body
                if not new:
                    self._forget(conn, name)

    def _answer(self, conn: DBusConnection, msg: Message) -> None:
        fields = msg.header.fields
        member = fields.get(HeaderFields.member)
        if fields.get(HeaderFields.path) != WATCHER_PATH:
            reply = new_error(msg, "org.freedesktop.DBus.Error.UnknownObject")
        elif member == "RegisterStatusNotifierItem":
            self._register(conn, str(fields.get(HeaderFields.sender)), msg.body[0])
            reply = new_method_return(msg)
        elif member == "RegisterStatusNotifierHost":
            reply = new_method_return(msg)
            conn.send(new_signal(self._emitter(), "StatusNotifierHostRegistered"))
        elif member in ("Get", "GetAll"):
            reply = self._properties(msg, member)
        elif member == "Introspect":
            reply = new_method_return(msg, "s", (INTROSPECTION,))
        elif member == "Ping":
            reply = new_method_return(msg)
        else:
            reply = new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod")
        if not msg.header.flags & 1:  # NO_REPLY_EXPECTED
            conn.send(reply)

    def _properties(self, msg: Message, member: str) -> Message:
        with self._changed:
            names = [f"{item.bus_name}{item.object_path}" for item in self._items]
        props = {
            "RegisteredStatusNotifierItems": ("as", names),
            "IsStatusNotifierHostRegistered": ("b", True),
            "ProtocolVersion": ("i", 0),
        }
        if member == "GetAll":
            return new_method_return(msg, "a{sv}", (props,))
        if msg.body[1] not in props:
            return new_error(msg, "org.freedesktop.DBus.Error.UnknownProperty")
        return new_method_return(msg, "v", (props[msg.body[1]],))

    def _register(self, conn: DBusConnection, sender: str, service: str) -> None:
        if service.startswith("/"):
            item = SniItem(sender, service)
        else:
            item = SniItem(service, "/StatusNotifierItem")
        with self._changed:
            if item not in self._items:
                self._items.append(item)
            self._changed.notify_all()
        signal = "StatusNotifierItemRegistered"
        conn.send(new_signal(self._emitter(), signal, "s", (item.bus_name + item.object_path,)))

    def _forget(self, conn: DBusConnection, name: str) -> None:
        with self._changed:
            gone = [item for item in self._items if item.bus_name == name]
            self._items = [item for item in self._items if item.bus_name != name]
            self._changed.notify_all()
        for item in gone:
            signal = "StatusNotifierItemUnregistered"
            conn.send(new_signal(self._emitter(), signal, "s", (item.bus_name + item.object_path,)))

    @staticmethod
    def _emitter() -> DBusAddress:
        return DBusAddress(WATCHER_PATH, interface=WATCHER)

    # -- the host's client side -------------------------------------------------------------

    @property
    def items(self) -> list[SniItem]:
        """The items registered right now."""
        with self._changed:
            return list(self._items)

    def wait_for_item(self, timeout: float = 10.0, pid: int | None = None) -> SniItem:
        """The most recently registered item (of process `pid`, if given), waiting for one."""
        deadline = time.monotonic() + timeout
        while True:
            for item in reversed(self.items):
                if pid is None or self._pid_of(item.bus_name) == pid:
                    return item
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                owner = "" if pid is None else f" by process {pid}"
                raise TimeoutError(f"no StatusNotifierItem registered{owner} within {timeout} s")
            with self._changed:
                self._changed.wait(min(remaining, 0.1))

    def _pid_of(self, bus_name: str) -> int | None:
        address = DBusAddress(
            "/org/freedesktop/DBus", "org.freedesktop.DBus", "org.freedesktop.DBus"
        )
        try:
            return int(self._call(address, "GetConnectionUnixProcessID", "s", (bus_name,))[0])
        except RuntimeError:
            return None  # the item's owner has left the bus

    def _item(self, item: SniItem | None) -> SniItem:
        return item if item is not None else self.wait_for_item(0)

    def _call(
        self, address: DBusAddress, method: str, signature: str, body: tuple[Any, ...]
    ) -> Any:
        with self._client_lock:
            reply = self._client.send_and_get_reply(
                new_method_call(address, method, signature, body), timeout=CALL_TIMEOUT
            )
        if reply.header.message_type == MessageType.error:
            error = reply.header.fields.get(HeaderFields.error_name)
            raise RuntimeError(f"{method} on {address.bus_name}{address.object_path}: {error}")
        return reply.body

    def item_property(self, name: str, item: SniItem | None = None) -> Any:
        """An item property: Menu, Status, IconName, IconPixmap, Title, Id..."""
        target = self._item(item)
        address = DBusAddress(target.object_path, target.bus_name, PROPERTIES)
        _signature, value = self._call(address, "Get", "ss", (ITEM_INTERFACE, name))[0]
        return value

    def _menu(self, item: SniItem | None) -> DBusAddress:
        target = self._item(item)
        path = str(self.item_property("Menu", target))
        return DBusAddress(path, target.bus_name, DBUSMENU)

    def layout(self, item: SniItem | None = None) -> MenuNode:
        """The whole menu, read the way a host opens it: AboutToShow(0), then GetLayout(0, -1)."""
        menu = self._menu(item)
        self._call(menu, "AboutToShow", "i", (0,))
        _revision, raw = self._call(menu, "GetLayout", "iias", (0, -1, []))
        return parse_layout(raw)

    def click(self, item_id: int, item: SniItem | None = None) -> None:
        """Send the "clicked" event for a menu entry, as a host does when the user picks it."""
        event = (item_id, "clicked", ("i", 0), int(time.time()) & 0xFFFFFFFF)
        self._call(self._menu(item), "Event", "isvu", event)

    def find(self, label: Callable[[str], bool], item: SniItem | None = None) -> MenuNode | None:
        """The first entry whose displayed text satisfies `label`."""
        return self.layout(item).find(lambda node: node.id != 0 and label(node.text))

    def wait_for(
        self,
        predicate: Callable[[MenuNode], bool],
        timeout: float = 10.0,
        item: SniItem | None = None,
    ) -> MenuNode:
        """The layout once `predicate(layout)` holds, polling GetLayout until `timeout`."""
        deadline = time.monotonic() + timeout
        last: MenuNode | None = None
        while True:
            try:
                last = self.layout(item)
                if predicate(last):
                    return last
            except (RuntimeError, TimeoutError):
                pass  # the item is re-exporting its menu, or has not registered yet
            if time.monotonic() >= deadline:
                shown = last.render() if last else "(no menu)"
                raise TimeoutError(f"menu condition not met within {timeout} s; menu:\n{shown}")
            time.sleep(0.05)
