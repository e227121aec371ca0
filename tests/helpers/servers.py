"""Real listening sockets and server processes for the tests."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from tests.conftest import wait_for

LISTEN_CHILD = Path(__file__).with_name("listen_child.py")

IP_FREEBIND = 15
NON_LOCAL_ADDRESS = "192.0.2.1"
"""TEST-NET-1: never routed. Bound with IP_FREEBIND, it stands for "another interface's address"."""


def listener(address: str, port: int = 0, *, v6only: bool | None = None) -> socket.socket:
    """A listening TCP socket in this process."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6 and v6only is not None:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, int(v6only))
    if address == NON_LOCAL_ADDRESS:
        sock.setsockopt(socket.SOL_IP, IP_FREEBIND, 1)
    sock.bind((address, port))
    sock.listen()
    return sock


def free_port() -> int:
    """A port nothing listens on right now, on both 127.0.0.1 and ::1."""
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port: int = probe.getsockname()[1]
        with contextlib.suppress(OSError), socket.socket(socket.AF_INET6) as six:
            six.bind(("::1", port))
            return port


class Child:
    """A child process that listens on the given addresses and prints its port."""

    def __init__(self, addresses: Sequence[str], port: int = 0) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(LISTEN_CHILD), str(port), *addresses],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line, "the listening child died before it listened"
        self.port = int(line)
        self.pid = self.proc.pid

    def stop(self) -> None:
        """Close its sockets by ending it, and reap it."""
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()


@contextlib.contextmanager
def child_listening(addresses: Sequence[str], port: int = 0) -> Iterator[Child]:
    """A `Child` for the duration of a with block."""
    child = Child(addresses, port)
    try:
        yield child
    finally:
        child.stop()


@contextlib.contextmanager
def http_server(
    directory: Path,
    bind: str = "127.0.0.1",
    port: int | None = None,
    log: Path | None = None,
    *,
    named: bool = False,
) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """`python -m http.server` in a directory, yielded once it accepts connections.

    With `log`, the server's request log (its stderr) is written to that file as it happens.
    With `named`, the directory is also on its command line (`--directory`), so a settings rule
    can pick out the test's own servers among everything else listening on the machine.
    """
    port = port or free_port()
    with contextlib.ExitStack() as files:
        stderr = files.enter_context(log.open("wb")) if log else subprocess.PIPE
        named_args = ["--directory", str(directory)] if named else []
        proc = subprocess.Popen(
            [sys.executable, "-m", "http.server", str(port), "--bind", bind, *named_args],
            cwd=directory,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        with _serving(proc, bind, port):
            yield proc, port


@contextlib.contextmanager
def _serving(proc: subprocess.Popen[bytes], bind: str, port: int) -> Iterator[None]:
    """Wait until the server accepts connections; stop and reap it afterwards."""
    try:
        assert wait_for(lambda: _accepts(bind, port) or proc.poll() is not None, 10)
        assert proc.poll() is None, "http.server exited at start"
        yield
    finally:
        proc.terminate()
        proc.wait(5)
        if proc.stderr:
            proc.stderr.close()


def _accepts(host: str, port: int) -> bool:
    target = "127.0.0.1" if host in ("0.0.0.0", "") else "::1" if host == "::" else host
    try:
        with socket.create_connection((target, port), timeout=0.2):
            return True
    except OSError:
        return False
