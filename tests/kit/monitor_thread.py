"""A D-Bus monitor on a thread: the one way the kit eavesdrops on a test bus.

`MonitorThread(address, rules, on_message, name)` opens a connection, makes it a monitor with
`BecomeMonitor(rules)` (the test buses' config allows eavesdropping) and hands every message it
receives to `on_message` on a thread called `name`. A monitor only listens: it can never send or
answer, so what it records is exactly what the bus carried. `close()` stops the thread and closes
the connection.

The thread's name is how leak guards recognise it: a monitor that belongs to a running desktop is
named with the desktop's prefix (`tests.kit.leaks.STACK_THREAD_PREFIX`) and may outlive a test;
any other must be closed by the test that opened it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from jeepney.bus_messages import Monitoring
from jeepney.io.blocking import DBusConnection, open_dbus_connection
from jeepney.low_level import Message
from jeepney.wrappers import unwrap_msg

POLL = 0.1
"""How long one receive waits, in seconds: how soon `close()` is noticed."""


class MonitorThread:
    """A monitor connection on `address` for `rules`, read on a thread named `name`."""

    def __init__(
        self,
        address: str,
        rules: list[str],
        on_message: Callable[[Message], None],
        name: str,
    ) -> None:
        self._conn = become_monitor(address, rules)
        self._on_message = on_message
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._read, name=name)
        self._thread.start()

    def fds(self) -> set[int]:
        """The descriptor of the monitor's connection (for leak checks)."""
        fd = self._conn.sock.fileno()
        return {fd} if fd >= 0 else set()

    def close(self) -> None:
        """Stop the thread, then close the connection."""
        self._stopping.set()
        self._thread.join(5)
        self._conn.close()

    def _read(self) -> None:
        while not self._stopping.is_set():
            try:
                msg = self._conn.receive(timeout=POLL)
            except TimeoutError:
                continue
            except (OSError, ValueError):
                return  # the connection was closed under us, or the bus went away
            self._on_message(msg)


def become_monitor(address: str, rules: list[str]) -> DBusConnection:
    """A new connection to `address` that is a monitor for `rules` (closed if it cannot be)."""
    conn = open_dbus_connection(address)
    try:
        unwrap_msg(conn.send_and_get_reply(Monitoring().BecomeMonitor(rules), timeout=5))
    except Exception:
        conn.close()
        raise
    return conn
