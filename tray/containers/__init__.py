"""What is behind docker-proxy: the containers of the local container engine, by published port.

`Containers` is the one object the monitor and the command line talk to. A poll only calls
`attach(servers)`, which lays the last known container list over the scan — a dictionary walk
over an immutable tuple, never I/O. The engine is asked on threads of its own: when the set of
listeners changes (a new docker-proxy), and when its `/events` stream reports a container
starting, stopping or changing health. A stalled or dead engine costs those threads a one-second
timeout; the servers keep their process names; each kind of problem is logged once.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING

from tray.containers.common import TIMEOUT, EngineError
from tray.containers.mapping import PROXIES, BadPayload, Binding, attach, bindings
from tray.containers.sockets import Located, locate
from tray.model import Container, Key, Server

if TYPE_CHECKING:
    from tray.containers.client import Client

logger = logging.getLogger(__name__)

RETRY_MIN = 1.0
RETRY_MAX = 30.0
"""Seconds between attempts to follow the engine's events while it is away (doubling)."""
STOP_JOIN = 2.0


class Containers:
    """The container engine as seen from the poll: a snapshot refreshed off the poll's thread."""

    def __init__(self, find: Callable[[], Located] = locate, timeout: float = TIMEOUT) -> None:
        self._find = find
        self._timeout = timeout
        self._published: tuple[Binding, ...] = ()
        self._seen: tuple[Server, ...] | None = None
        self._cache: tuple[tuple[Server, ...], tuple[Binding, ...], tuple[Server, ...]] | None
        self._cache = None
        self._client: Client | None = None
        self._logged: set[str] = set()
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._stream: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self._present = False
        """Whether the last refresh reached an engine."""
        self.refreshes = 0
        """How many times the engine was asked for its containers."""

    @property
    def published(self) -> tuple[Binding, ...]:
        """The published ports as the engine last reported them."""
        return self._published

    @property
    def following(self) -> bool:
        """Whether the engine's event stream is open now."""
        return self._stream is not None

    def start(self) -> None:
        """Ask the engine once now (off this thread) and follow its events from then on."""
        for name, target in (("refresh", self._refresher), ("events", self._follower)):
            thread = threading.Thread(target=target, name=f"porttray-containers-{name}")
            thread.daemon = True
            self._threads.append(thread)
            thread.start()
        self._wake.set()

    def attach(self, servers: tuple[Server, ...]) -> tuple[Server, ...]:
        """The servers with their containers: never blocks. The same input and engine answer
        give the very same tuple back, so callers can skip unchanged polls by identity."""
        if servers is not self._seen:
            self._seen = servers
            self._wake.set()  # the listeners changed: a container may have come or gone
        published, cache = self._published, self._cache
        if cache is not None and cache[0] is servers and cache[1] is published:
            return cache[2]
        result = attach(servers, published)
        self._cache = (servers, published, result)
        return result

    def pending(self, servers: tuple[Server, ...], known: Collection[Key]) -> bool:
        """Whether a listener not in `known` looks like a container's (a proxy, or an owner
        nobody can see) but has none yet. The engine publishes a port before it lists the
        container as running, so `watch` waits a moment for it. False when there is no engine."""
        if not self._present:
            return False
        return any(
            s.container is None and s.key not in known and (s.process is None or s.name in PROXIES)
            for s in servers
        )

    def refresh(self) -> tuple[Binding, ...]:
        """Ask the engine for its containers now (blocks up to the timeout per request)."""
        self.refreshes += 1
        located = self._find()
        if located.path is None:
            if located.problem:
                self._log_once(located.problem)
            self._present = False
            self._set(())
            return ()
        client = self._client
        if client is None or client.path != located.path:
            client = self._client = _client(located.path, self._timeout)
        try:
            found, skipped = bindings(client.containers())
        except (EngineError, BadPayload) as exc:
            self._client = None  # negotiate afresh: the engine may have been replaced
            self._log_once(f"{exc}; published ports show their proxy process only")
            self._present = False
            self._set(())
            return ()
        if skipped:
            self._log_once(f"skipped {skipped} malformed container entries from {client.path}")
        elif self._logged:
            logger.warning("the container engine at %s answers again", client.path)
            self._logged.clear()
        self._present = True
        self._set(found)
        return found

    def stop(self, container: Container) -> str:
        """Stop a container through the engine; a sentence saying what happened. Raises
        `EngineError` when it could not be stopped."""
        located = self._find()
        if located.path is None:
            raise EngineError(located.problem or "no container engine is reachable")
        try:
            return _client(located.path, self._timeout).stop(container.id)
        finally:
            self._wake.set()

    def close(self) -> None:
        """End both threads (within about two seconds)."""
        with self._lock:
            self._closed.set()
            if self._stream is not None:
                _shutdown(self._stream)
        self._wake.set()
        for thread in self._threads:
            thread.join(STOP_JOIN)
        self._threads.clear()

    def _set(self, found: tuple[Binding, ...]) -> None:
        if found != self._published:
            self._published = found  # a new tuple only when something changed

    def _log_once(self, message: str) -> None:
        if message not in self._logged:
            self._logged.add(message)
            logger.warning("%s", message)

    def _refresher(self) -> None:
        while True:
            self._wake.wait()
            if self._closed.is_set():
                return
            self._wake.clear()
            try:
                self.refresh()
            except Exception:
                logger.exception("reading the container engine failed; trying again later")

    def _follower(self) -> None:
        """Follow `/events`; each event (and each end of the stream) asks for a refresh."""
        delay = RETRY_MIN
        while not self._closed.is_set():
            located = self._find()
            began = time.monotonic()
            if located.path is not None:
                self._follow(located.path)
            if self._closed.is_set():
                return
            delay = RETRY_MIN if time.monotonic() - began > RETRY_MAX else delay
            self._closed.wait(delay)
            delay = min(delay * 2, RETRY_MAX)

    def _follow(self, path: str) -> None:
        try:
            _client(path, self._timeout).events(self._wake.set, self._opened)
        except EngineError as exc:
            logger.debug("not following the engine's events: %s", exc)
        except Exception:
            logger.exception("following the container engine's events failed")
        with self._lock:
            self._stream = None
        self._wake.set()  # the stream ended: the engine may have stopped

    def _opened(self, stream: socket.socket) -> None:
        with self._lock:
            self._stream = stream
            if self._closed.is_set():
                _shutdown(stream)
        self._wake.set()  # catch up with whatever happened while the stream was down


def _shutdown(stream: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed by its own thread
        stream.shutdown(socket.SHUT_RDWR)


__all__ = ["Binding", "Container", "Containers", "EngineError", "attach", "bindings", "locate"]


def _client(path: str, timeout: float) -> Client:
    """A client for the engine at `path`; `http.client` is loaded with the first one."""
    from tray.containers.client import Client

    return Client(path, timeout)
