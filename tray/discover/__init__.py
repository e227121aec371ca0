"""Finding the machine's listening TCP servers: one interface, a backend per platform.

`open_engine()` picks the cheapest way the platform allows — netlink on Linux, falling back to
/proc/net when netlink is refused; psutil on Windows and macOS — and returns an `Engine` whose
`scan()` gives an immutable `Snapshot`. Every socket appears, even when its owner cannot be seen
(pid and process are then None); whether it is reachable on loopback is decided by the caller with
`Server.loopback`, so `--all` needs no second scan.
"""

from __future__ import annotations

import logging
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from tray.discover.netlink import NetlinkError
from tray.model import Listener, ProcessInfo, Server, Snapshot
from tray.users import user_name

logger = logging.getLogger(__name__)


class Source(Protocol):
    """Something that lists the machine's listening TCP sockets."""

    method: str

    def listeners(self) -> list[Listener]:
        """Every listening socket now."""
        ...

    def close(self) -> None:
        """Release what the source holds."""
        ...


class Owners(Protocol):
    """Something that tells which process holds each socket and what that process is."""

    def resolve(self, listeners: Sequence[Listener]) -> dict[int, int | None]:
        """inode → pid (None when it cannot be seen), for every listener given."""
        ...

    def details(self, pid: int) -> ProcessInfo | None:
        """The process's details, or None once it has gone."""
        ...

    def retain(self, pids: Iterable[int]) -> None:
        """Forget cached details of every process but these."""
        ...

    def forget_dead(self) -> bool:
        """Drop owners that have exited (their socket may live on in a child); True if any."""
        ...


REVALIDATE_EVERY = 4
"""Every this many polls, check that cached owners still exist (about 2 µs per owner)."""


class Engine:
    """Takes snapshots of the listening servers; keeps caches between polls."""

    def __init__(self, source: Source, owners: Owners) -> None:
        self._source = source
        self._owners = owners
        self._fallback: Callable[[], Source] | None = None
        self._last_listeners: list[Listener] | None = None
        self._last_servers: tuple[Server, ...] = ()
        self._polls = 0

    @property
    def method(self) -> str:
        """The discovery method in use ("netlink", "proc" or "psutil")."""
        return self._source.method

    def set_fallback(self, fallback: Callable[[], Source]) -> None:
        """A source to switch to, once and for good, if the current one fails."""
        self._fallback = fallback

    def scan(self) -> Snapshot:
        """The listening servers now. Never raises for bad system data; it logs instead."""
        listeners = self._listeners()
        self._polls += 1
        revalidate = self._polls % REVALIDATE_EVERY == 0
        if listeners != self._last_listeners or (revalidate and self._owners.forget_dead()):
            self._last_servers = self._servers(listeners)
            self._last_listeners = listeners
        return Snapshot(servers=self._last_servers, method=self.method, taken=time.time())

    def _listeners(self) -> list[Listener]:
        try:
            return self._source.listeners()
        except NetlinkError as exc:
            if self._fallback is None:
                logger.warning("%s; keeping the last known servers", exc)
                return self._last_listeners or []
            logger.warning("%s; switching to /proc/net", exc)
            self._source.close()
            self._source, self._fallback = self._fallback(), None
            return self._source.listeners()

    def _servers(self, listeners: list[Listener]) -> tuple[Server, ...]:
        owners = self._owners.resolve(listeners)
        groups: dict[tuple[int, int | None], list[Listener]] = defaultdict(list)
        for listener in listeners:
            pid = listener.pid if listener.pid is not None else owners.get(listener.inode)
            groups[(listener.port, pid)].append(listener)
        servers = [self._server(port, pid, group) for (port, pid), group in groups.items()]
        self._owners.retain(s.pid for s in servers if s.pid is not None)
        servers.sort(key=lambda s: (s.port, s.pid if s.pid is not None else -1))
        return tuple(servers)

    def _server(self, port: int, pid: int | None, group: list[Listener]) -> Server:
        v6only = next((item.v6only for item in group if item.v6only is not None), None)
        uid = next((item.uid for item in group if _is_uid(item.uid)), None)
        process = self._owners.details(pid) if pid is not None else None
        return Server(
            port=port,
            addresses=tuple(sorted({item.address for item in group})),
            pid=pid,
            process=process,
            v6only=v6only,
            uid=uid,
            owner=user_name(uid) or (process.user if process else None),
        )

    def close(self) -> None:
        """Release the source's socket."""
        self._source.close()


_bad_uid_logged = False


def _is_uid(value: object) -> bool:
    """A uid the kernel could have reported; garbage from a broken source is dropped (the server
    is kept, its uid unknown) and logged once."""
    global _bad_uid_logged
    if value is None or (isinstance(value, int) and 0 <= value < 2**32 - 1):
        return value is not None
    if not _bad_uid_logged:
        _bad_uid_logged = True
        logger.warning("ignoring a socket owner that is no uid: %r", value)
    return False


def open_engine(method: str | None = None) -> Engine:
    """The best engine for this platform, or the named method ("netlink", "proc", "psutil")."""
    chosen = method or ("netlink" if sys.platform.startswith("linux") else "psutil")
    if chosen == "psutil":
        from tray.discover.psutil_source import PsutilOwners, PsutilSource

        source = PsutilSource()
        return Engine(source, PsutilOwners())
    from tray.discover.linux import LinuxOwners
    from tray.discover.procnet import ProcNetSource

    if chosen == "proc":
        return Engine(ProcNetSource(), LinuxOwners())
    from tray.discover.netlink import NetlinkSource

    try:
        engine = Engine(NetlinkSource(), LinuxOwners())
    except NetlinkError as exc:
        logger.warning("%s; reading /proc/net instead", exc)
        return Engine(ProcNetSource(), LinuxOwners())
    engine.set_fallback(ProcNetSource)
    return engine


__all__ = ["Engine", "Owners", "Source", "open_engine"]
