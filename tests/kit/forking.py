"""Forked children that cannot outlive the caller, and the fixed-size reports they send back.

Teardown is layered so nothing outlives a benchmark:

- every child is in one process group, which is killed with SIGKILL and then reaped child by child,
  with SIGINT held back while that happens, so a Ctrl-C cannot interrupt it;
- a child keeps only the descriptors it is given (its lifeline and report pipes), so it holds
  nothing of the caller's open.

Fork only while the calling process runs a single thread.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import struct
import time
from collections.abc import Callable

REPORT = struct.Struct("=iid")
"""A child's report: pid, port (0 for none), time.time() right after listen()."""
_HELD = {signal.SIGINT, signal.SIGTERM}


def fork_child(body: Callable[[], None], keep: tuple[int, ...], pgid: int) -> int:
    """Fork; the child joins process group pgid (0: a new one), keeps only `keep`, runs body.

    SIGINT and SIGTERM are blocked across the fork so that a Ctrl-C cannot raise
    KeyboardInterrupt in the child before it has left the caller's stack.
    """
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
    try:
        pid = os.fork()
        if pid == 0:
            _child(body, keep, pgid, old)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
    with contextlib.suppress(OSError):  # also from this side, so the group exists when we kill
        os.setpgid(pid, pgid or pid)
    return pid


def _child(body: Callable[[], None], keep: tuple[int, ...], pgid: int, mask: set[int]) -> None:
    """Run body in a forked child and exit; never return into the caller's stack."""
    code = 1
    try:
        os.setpgid(0, pgid)
        for signo in _HELD:
            signal.signal(signo, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        _close_all_but(keep)
        body()
        code = 0
    finally:
        os._exit(code)


def _close_all_but(keep: tuple[int, ...]) -> None:
    low = 3
    for fd in sorted(keep):
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, 1 << 20)


def listen_on(host: str) -> socket.socket:
    """A new socket listening on `host`, on a port the kernel picks."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind((host, 0))
    server.listen(16)
    return server


def read_reports(fd: int, count: int, timeout: float = 60.0) -> list[tuple[int, int, float]]:
    """Read `count` fixed-size reports; fail if the children die or stall first."""
    data = b""
    deadline = time.monotonic() + timeout
    while len(data) < count * REPORT.size:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {len(data) // REPORT.size} of {count} children reported")
        chunk = os.read(fd, count * REPORT.size - len(data))
        if not chunk:
            raise RuntimeError(f"only {len(data) // REPORT.size} of {count} children started")
        data += chunk
    return [REPORT.unpack_from(data, i * REPORT.size) for i in range(count)]


def close_fds(*fds: int) -> None:
    for fd in fds:
        if fd >= 0:
            with contextlib.suppress(OSError):
                os.close(fd)


def kill_and_reap(pgid: int, pids: list[int]) -> None:
    """SIGKILL the group and wait for every child, with SIGINT held back meanwhile."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
    try:
        if pgid:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, signal.SIGKILL)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)  # in case it never joined the group
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
