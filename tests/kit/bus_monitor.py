"""A D-Bus monitor for one client: every signal it emits and every method call it makes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from jeepney import HeaderFields, MessageType
from jeepney.bus_messages import Monitoring, message_bus
from jeepney.io.blocking import open_dbus_connection
from jeepney.wrappers import unwrap_msg


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
        self._conn = open_dbus_connection(address)
        rules = [
            f"type='signal',sender='{unique_name}'",
            f"type='method_call',sender='{unique_name}'",
        ]
        unwrap_msg(self._conn.send_and_get_reply(Monitoring().BecomeMonitor(rules), timeout=5))
        self._seen: list[Seen] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="test-bus-monitor")
        self._thread.start()

    def _watch(self) -> None:
        while not self._stopping.is_set():
            try:
                msg = self._conn.receive(timeout=0.1)
            except TimeoutError:
                continue
            except (OSError, ValueError):
                return
            fields = msg.header.fields
            kind = {MessageType.signal: "signal", MessageType.method_call: "call"}.get(
                msg.header.message_type
            )
            if kind is None:
                continue
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
        self._stopping.set()
        self._thread.join(5)
        self._conn.close()


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
