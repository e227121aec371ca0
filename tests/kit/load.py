"""Machine load for benchmarks: many idle processes holding open files and loopback listeners.

Port discovery that reads `/proc/<pid>/fd` costs time per process and per open file, so a fair
benchmark needs a machine that looks like a busy desktop. `idle_processes` forks that many children
straight from the calling process (no interpreter start-up, and memory shared copy-on-write), each
opening its own files and pipes, some listening on 127.0.0.1, then blocking on a read.

Teardown is layered so nothing outlives the benchmark:

- every child is in one process group, which is killed with SIGKILL and then reaped child by child,
  with SIGINT held back while that happens, so a Ctrl-C cannot interrupt it;
- every child blocks reading a "lifeline" pipe whose only writer is the benchmark, so if the
  benchmark itself is killed the read returns end-of-file and the children exit by themselves.

Fork only while the calling process runs a single thread.
"""

from __future__ import annotations

import contextlib
import functools
import os
import resource
import signal
import socket
import struct
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

_REPORT = struct.Struct("=iid")  # pid, port (0 for none), time.time() right after listen()
_HELD = {signal.SIGINT, signal.SIGTERM}


@dataclass(frozen=True, slots=True)
class Load:
    """The idle processes made by `idle_processes`."""

    pids: tuple[int, ...]
    """Every child, in order of creation."""
    ports: tuple[int, ...]
    """The 127.0.0.1 ports listened on, one per listening child."""
    listener_pids: tuple[int, ...]
    """The pid holding each port in `ports`, at the same index."""
    pgid: int
    """The process group of every child."""


@dataclass(frozen=True, slots=True)
class Spawned:
    """One child process listening on a loopback port, made by `listening_process`."""

    pid: int
    """The child's pid."""
    port: int
    """The 127.0.0.1 port it listens on."""
    listened_at: float
    """time.time() in the child right after listen() returned."""


@contextlib.contextmanager
def idle_processes(n: int, fds_each: int, listeners: int) -> Iterator[Load]:
    """Fork n idle children, each holding at least fds_each open fds; `listeners` of them listen.

    The listeners are spread evenly over the children, one per child while there are enough
    children. Yields once every child has opened all its files; kills and reaps them all on exit.
    """
    if not 0 <= listeners <= n:
        raise ValueError(f"cannot spread {listeners} listeners over {n} processes")
    lifeline_r, lifeline_w = os.pipe()
    report_r, report_w = os.pipe()
    listening = {(i * n) // listeners for i in range(listeners)} if listeners else set()
    pids: list[int] = []
    pgid = 0
    try:
        for index in range(n):
            body = functools.partial(
                _idle_child, lifeline_r, report_w, fds_each, index in listening
            )
            pid = _fork_child(body, keep=(lifeline_r, report_w), pgid=pgid)
            pids.append(pid)
            pgid = pgid or pid
        os.close(report_w)
        report_w = -1
        reports = _read_reports(report_r, n)
        by_pid = {pid: port for pid, port, _ in reports if port}
        ordered = [pid for pid in pids if pid in by_pid]
        yield Load(
            pids=tuple(pids),
            ports=tuple(by_pid[pid] for pid in ordered),
            listener_pids=tuple(ordered),
            pgid=pgid,
        )
    finally:
        _kill_and_reap(pgid, pids)
        _close(lifeline_w, report_r, report_w, lifeline_r)


@contextlib.contextmanager
def listening_process(host: str = "127.0.0.1") -> Iterator[Spawned]:
    """Fork one child that listens on a new port of `host` at once; kill and reap it on exit."""
    lifeline_r, lifeline_w = os.pipe()
    report_r, report_w = os.pipe()
    pid = 0
    try:
        body = functools.partial(_listening_child, lifeline_r, report_w, host)
        pid = _fork_child(body, keep=(lifeline_r, report_w), pgid=0)
        os.close(report_w)
        report_w = -1
        (_, port, listened_at) = _read_reports(report_r, 1)[0]
        yield Spawned(pid=pid, port=port, listened_at=listened_at)
    finally:
        _kill_and_reap(pid, [pid] if pid else [])
        _close(lifeline_w, report_r, report_w, lifeline_r)


class Armed:
    """Forked children waiting to listen: each `fire()` makes one listen on a new port now."""

    def __init__(self) -> None:
        self._ready: list[tuple[int, int, int]] = []
        """(pid, trigger write end, report read end) of each child not fired yet."""
        self._fired: dict[int, tuple[int, int]] = {}
        """pid → (trigger write end, report read end) of each child fired and not released."""
        self.pgid = 0

    def _add(self, pid: int, trigger: int, report: int) -> None:
        self._ready.append((pid, trigger, report))
        self.pgid = self.pgid or pid

    def fire(self) -> Spawned:
        """The next child listens on a new 127.0.0.1 port; returns once it has."""
        pid, trigger, report = self._ready.pop(0)
        self._fired[pid] = (trigger, report)
        os.write(trigger, b"g")
        (_, port, listened_at) = _read_reports(report, 1, timeout=10.0)[0]
        return Spawned(pid=pid, port=port, listened_at=listened_at)

    def release(self, spawned: Spawned) -> None:
        """That child closes its listener and exits; it is reaped."""
        trigger, report = self._fired.pop(spawned.pid)
        _close(trigger, report)
        _kill_and_reap(0, [spawned.pid])

    def pids(self) -> list[int]:
        """Every child not yet released."""
        return [pid for pid, _, _ in self._ready] + list(self._fired)

    def close(self) -> None:
        """Kill and reap every child left; close every pipe."""
        _kill_and_reap(self.pgid, self.pids())
        for _, trigger, report in self._ready:
            _close(trigger, report)
        for trigger, report in self._fired.values():
            _close(trigger, report)
        self._ready, self._fired = [], {}


@contextlib.contextmanager
def armed_listeners(n: int) -> Iterator[Armed]:
    """Fork n children that each wait for `Armed.fire()` to listen on a new port.

    Fork them while the process is still single-threaded (before starting a desktop or any
    thread); firing one later costs a pipe write, not a fork, and its listen() happens at once.
    """
    armed = Armed()
    try:
        for _ in range(n):
            trigger_r, trigger_w = os.pipe()
            report_r, report_w = os.pipe()
            try:
                body = functools.partial(_armed_child, trigger_r, report_w)
                pid = _fork_child(body, keep=(trigger_r, report_w), pgid=armed.pgid)
            finally:
                _close(trigger_r, report_w)
            armed._add(pid, trigger_w, report_r)
        yield armed
    finally:
        armed.close()


def _armed_child(trigger: int, report: int) -> None:
    if os.read(trigger, 1) != b"g":
        return
    server = _listen("127.0.0.1")
    at = time.time()
    os.write(report, _REPORT.pack(os.getpid(), server.getsockname()[1], at))
    os.read(trigger, 1)  # blocks until released (end of file)
    server.close()


def _fork_child(body: Callable[[], None], keep: tuple[int, ...], pgid: int) -> int:
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


def _idle_child(lifeline: int, report: int, fds_each: int, listen: bool) -> None:
    held = _open_fds(fds_each)
    port, at = 0, 0.0
    if listen:
        server = _listen("127.0.0.1")
        held.append(server)
        port, at = server.getsockname()[1], time.time()
    os.write(report, _REPORT.pack(os.getpid(), port, at))
    os.close(report)
    os.read(lifeline, 1)  # blocks until the benchmark closes its end or dies
    for item in held:
        if isinstance(item, socket.socket):
            item.close()
        else:
            os.close(item)


def _open_fds(count: int) -> list[socket.socket | int]:
    """Open `count` fds, a mix like a real program's: files, pipes, socket pairs."""
    held: list[socket.socket | int] = []
    while len(held) < count:
        room = count - len(held) >= 2
        if room and len(held) % 4 == 3:
            held.extend(os.pipe())
        elif room and len(held) % 8 == 6:
            held.extend(socket.socketpair())
        else:
            path = "/proc/self/status" if len(held) % 2 else "/dev/null"
            held.append(os.open(path, os.O_RDONLY))
    return held


def _listening_child(lifeline: int, report: int, host: str) -> None:
    server = _listen(host)
    at = time.time()
    os.write(report, _REPORT.pack(os.getpid(), server.getsockname()[1], at))
    os.close(report)
    os.read(lifeline, 1)
    server.close()


def _listen(host: str) -> socket.socket:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind((host, 0))
    server.listen(16)
    return server


def _read_reports(fd: int, count: int, timeout: float = 60.0) -> list[tuple[int, int, float]]:
    """Read `count` fixed-size reports; fail if the children die or stall first."""
    data = b""
    deadline = time.monotonic() + timeout
    while len(data) < count * _REPORT.size:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {len(data) // _REPORT.size} of {count} children reported")
        chunk = os.read(fd, count * _REPORT.size - len(data))
        if not chunk:
            raise RuntimeError(f"only {len(data) // _REPORT.size} of {count} children started")
        data += chunk
    return [_REPORT.unpack_from(data, i * _REPORT.size) for i in range(count)]


def _close(*fds: int) -> None:
    for fd in fds:
        if fd >= 0:
            with contextlib.suppress(OSError):
                os.close(fd)


def _kill_and_reap(pgid: int, pids: list[int]) -> None:
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


@contextlib.contextmanager
def many_listeners(n: int) -> Iterator[list[socket.socket]]:
    """n sockets listening on 127.0.0.1 in this process (the fd limit raised as needed)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = n + 512
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    socks: list[socket.socket] = []
    try:
        for _ in range(n):
            sock = socket.socket()
            socks.append(sock)
            sock.bind(("127.0.0.1", 0))
            sock.listen(4)
        yield socks
    finally:
        for sock in socks:
            sock.close()


__all__ = [
    "Armed",
    "Load",
    "Spawned",
    "armed_listeners",
    "idle_processes",
    "listening_process",
    "many_listeners",
]
