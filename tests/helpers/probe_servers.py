"""Servers in threads for the probe's tests, and a record of the sockets a test's thread makes.

Each server runs in a thread of the test and is stopped and joined before the test ends, so the
suite's `no_leaks` fixture can check that threads, child processes and descriptors are back to what
they were. An audit hook records every socket the test's own thread makes, connects or resolves, so
"never connected there" is asserted, not assumed.
"""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from tray.identify.http_probe import probe
from tray.model import Identity

BUDGET = 0.6
"""The budget of probes meant to run out of time: short, to keep the file fast."""
SLACK = 1.0
"""How far past its budget a probe may return on a busy machine; far less than a hang."""

# -- what sockets this thread makes ------------------------------------------------------------

_EVENTS = ("socket.__new__", "socket.connect", "socket.getaddrinfo", "socket.gethostbyname")
_watchers: dict[int, list[tuple[str, Any]]] = {}


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _watchers and event in _EVENTS:
        seen = _watchers.get(threading.get_ident())
        if seen is not None:
            seen.append((event, args[1] if event == "socket.connect" else None))


sys.addaudithook(_audit)


@contextlib.contextmanager
def socket_events() -> Iterator[list[tuple[str, Any]]]:
    """The socket events of this thread while the block runs: (event, address for connects)."""
    seen: list[tuple[str, Any]] = []
    _watchers[threading.get_ident()] = seen
    try:
        yield seen
    finally:
        del _watchers[threading.get_ident()]


def connects(events: list[tuple[str, Any]]) -> list[tuple[str, int]]:
    return [(a[0], a[1]) for e, a in events if e == "socket.connect"]


# -- servers in threads ------------------------------------------------------------------------


@dataclass
class ThreadServer:
    """A listener on loopback whose accepted connections a handler serves, one at a time."""

    handler: Callable[[socket.socket, ThreadServer], None]
    host: str = "127.0.0.1"
    port: int = 0
    requests: list[bytes] = field(default_factory=list)
    """The request heads received, in order."""
    stop: threading.Event = field(default_factory=threading.Event)
    sock: socket.socket = field(init=False)
    thread: threading.Thread = field(init=False)

    def __post_init__(self) -> None:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((self.host, self.port))
        self.sock.listen()
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._run, name="test-probe-server")
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            with conn, contextlib.suppress(OSError):
                self.handler(conn, self)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(10)
        assert not self.thread.is_alive(), "the test server did not stop"
        self.sock.close()

    @property
    def paths(self) -> list[str]:
        return [r.split(b" ")[1].decode() for r in self.requests if r.count(b" ") >= 2]


@contextlib.contextmanager
def serving(
    handler: Callable[[socket.socket, ThreadServer], None], host: str = "127.0.0.1", port: int = 0
) -> Iterator[ThreadServer]:
    server = ThreadServer(handler, host, port)
    try:
        yield server
    finally:
        server.close()


@contextlib.contextmanager
def bare_listener(host: str, port: int = 0) -> Iterator[socket.socket]:
    """A listener nobody accepts on: a connection to it stays pending, so it can be checked."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen()
        sock.setblocking(False)
        yield sock


def never_connected(sock: socket.socket) -> bool:
    try:
        conn, _ = sock.accept()
    except BlockingIOError:
        return True
    conn.close()
    return False


def read_request(conn: socket.socket, server: ThreadServer) -> bytes | None:
    """The request head, recorded; None when the client leaves or the server stops first."""
    conn.settimeout(0.05)
    data = b""
    while b"\r\n\r\n" not in data and not server.stop.is_set():
        try:
            chunk = conn.recv(4096)
        except TimeoutError:
            continue
        if not chunk:
            return None
        data += chunk
    if b"\r\n\r\n" not in data:
        return None
    server.requests.append(data)
    return data


def wait_gone(conn: socket.socket, server: ThreadServer) -> None:
    """Until the client closes or the server stops."""
    conn.settimeout(0.05)
    while not server.stop.is_set():
        try:
            if not conn.recv(4096):
                return
        except TimeoutError:
            continue


def response(
    status: str = "200 OK",
    body: bytes = b"",
    headers: tuple[str, ...] = ("Content-Type: text/html",),
) -> bytes:
    head = [f"HTTP/1.1 {status}", "Server: test-server", *headers, "Connection: close"]
    if not any(h.lower().startswith(("transfer-encoding", "content-length")) for h in headers):
        head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


def answer(raw: bytes) -> Callable[[socket.socket, ThreadServer], None]:
    def handle(conn: socket.socket, server: ThreadServer) -> None:
        if read_request(conn, server) is not None:
            conn.sendall(raw)

    return handle


def routes(table: dict[str, bytes]) -> Callable[[socket.socket, ThreadServer], None]:
    def handle(conn: socket.socket, server: ThreadServer) -> None:
        request = read_request(conn, server)
        if request is not None:
            path = request.split(b" ")[1].decode()
            conn.sendall(table.get(path, response("404 Not Found")))

    return handle


def timed(host: str, port: int, budget: float = 1.5) -> tuple[Identity, float]:
    start = time.monotonic()
    result = probe(host, port, budget=budget)
    return result, time.monotonic() - start
