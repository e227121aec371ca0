"""Listening sockets through psutil: Windows and macOS.

Windows: `psutil.net_connections()` wraps GetExtendedTcpTable, which returns every socket with its
owner pid in one call — cheap, so it is used as it is. macOS: the system-wide call needs root, so
porttray asks each of the user's own processes for its sockets (`Process.net_connections`), skipping
those that vanish or refuse. Both report the pid with the socket, so no inode search is needed.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import psutil

from tray.discover.owners import ProcessDetails
from tray.model import Listener, ProcessInfo
from tray.users import real_user

logger = logging.getLogger(__name__)

Connections = Callable[[], Iterable[Any]]


def listeners_from(connections: Iterable[Any], *, wildcard_v6only: bool) -> list[Listener]:
    """psutil connection tuples (fields laddr, status, pid) → listeners in state LISTEN."""
    found: list[Listener] = []
    for conn in connections:
        if conn.status != psutil.CONN_LISTEN or not conn.laddr:
            continue
        address, port = conn.laddr[0], conn.laddr[1]
        v6only = wildcard_v6only if address == "::" else None
        found.append(Listener(address=address, port=port, inode=0, v6only=v6only, pid=conn.pid))
    return found


def system_connections() -> list[Any]:
    """Every TCP socket on the machine with its owner (Windows; root elsewhere)."""
    return list(psutil.net_connections("tcp"))


def user_connections(user: str | None = None) -> list[Any]:
    """TCP sockets of the current user's processes, with their pid attached."""
    me = user or real_user()
    found: list[Any] = []
    for proc in psutil.process_iter(["username"]):
        if proc.info.get("username") != me:
            continue
        try:
            conns = proc.net_connections("tcp")
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
        found.extend(_with_pid(conn, proc.pid) for conn in conns)
    return found


@dataclass(frozen=True, slots=True)
class Connection:
    """The fields of a psutil connection that porttray reads, with the owner's pid."""

    laddr: Any
    """The local (address, port)."""
    status: str
    """The TCP state, one of psutil's CONN_* names."""
    pid: int | None
    """The owning process."""


def _with_pid(conn: Any, pid: int) -> Connection:
    return Connection(conn.laddr, conn.status, pid)


class PsutilSource:
    """Listeners with their pids, from psutil."""

    method = "psutil"

    def __init__(self, connections: Connections | None = None, platform: str = sys.platform):
        self._platform = platform
        if connections is None:
            connections = user_connections if platform == "darwin" else system_connections
        self._connections = connections

    def listeners(self) -> list[Listener]:
        """Every listening socket psutil can see."""
        try:
            conns = self._connections()
        except psutil.AccessDenied:
            logger.warning("psutil was refused the system socket table; listing own processes")
            self._connections = user_connections
            conns = self._connections()
        # Windows makes IPv6 sockets v6-only by default; macOS and Linux do not.
        return listeners_from(conns, wildcard_v6only=self._platform == "win32")

    def close(self) -> None:
        """Nothing to release."""


class PsutilOwners:
    """Owners come with the sockets; only process details are read, once per process."""

    def __init__(self) -> None:
        self._details = ProcessDetails()

    def resolve(self, listeners: Sequence[Listener]) -> dict[int, int | None]:
        """psutil sockets carry their pid already."""
        return {}

    def details(self, pid: int) -> ProcessInfo | None:
        """Details of a process, read once."""
        return self._details.get(pid)

    def retain(self, pids: Iterable[int]) -> None:
        """Forget processes that hold no listener any more."""
        self._details.retain(pids)

    def forget_dead(self) -> bool:
        """psutil reports the live owner with every socket: nothing can go stale."""
        return False
