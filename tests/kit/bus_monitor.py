"""A D-Bus monitor for one client: every signal it emits and every method call it makes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from jeepney import HeaderFields, MessageType
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import open_dbus_connection
from jeepney.low_level import Message
from jeepney.wrappers import unwrap_msg

from tests.kit.monitor_thread import MonitorThread

THREAD_NAME = "test-bus-monitor"
"""Not a desktop thread: the test that opens a `BusMonitor` closes it (the leak guard checks)."""


@dataclass(frozen=True, slots=True)
class Seen:
    """One message the client sent."""

    kind: str
    """"signal" or "call"."""
    interface: str
    member: str
    body: tuple[Any, ...]


class BusMonitor:
    """What `unique_name` sends, recorded on a thread until `close()`."""

    def __init__(self, address: str, unique_name: str) -> None:
        rules = [
            f"type='signal',sender='{unique_name}'",
            f"type='method_call',sender='{unique_name}'",
        ]
        self._seen: list[Seen] = []
        self._lock = threading.Lock()
        self._monitor = MonitorThread(address, rules, self._record, THREAD_NAME)

    def _record(self, msg: Message) -> None:
        fields = msg.header.fields
        kind = {MessageType.signal: "signal", MessageType.method_call: "call"}.get(
            msg.header.message_type
        )
        if kind is None:
            return
        seen = Seen(
            kind,
            str(fields.get(HeaderFields.interface, "")),
            str(fields.get(HeaderFields.member, "")),
            tuple(msg.body),
        )
        with self._lock:
            self._seen.append(seen)

    @property
    def seen(self) -> list[Seen]:
        with self._lock:
            return list(self._seen)

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()

    def members(self, *names: str) -> list[Seen]:
        """What was seen with one of these member names (all when none are given)."""
        return [s for s in self.seen if not names or s.member in names]

    def close(self) -> None:
        self._monitor.close()


def unique_name(address: str, name: str) -> str:
    """The unique connection name that owns `name`."""
    conn = open_dbus_connection(address)
    try:
        reply = conn.send_and_get_reply(message_bus.GetNameOwner(name), timeout=5)
        return str(unwrap_msg(reply)[0])
    finally:
        conn.close()


@contextmanager
def monitoring(address: str, name: str) -> Iterator[BusMonitor]:
    """A monitor of the client owning `name`, closed on exit."""
    monitor = BusMonitor(address, unique_name(address, name))
    try:
        yield monitor
    finally:
        monitor.close()
