"""Machine load for benchmarks: many idle processes holding open files and loopback listeners.

Port discovery that reads `/proc/<pid>/fd` costs time per process and per open file, so a fair
benchmark needs a machine that looks like a busy desktop. `idle_processes` forks that many children
straight from the calling process (no interpreter start-up, and memory shared copy-on-write), each
opening its own files and pipes, some listening on 127.0.0.1, then blocking on a read.

Every child blocks reading a "lifeline" pipe whose only writer is the benchmark, so if the
benchmark itself is killed the read returns end-of-file and the children exit by themselves; the
forking, reporting and killing are in `tests.kit.forking`.

Fork only while the calling process runs a single thread.
"""

from __future__ import annotations

import contextlib
import functools
import os
import resource
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass

from tests.kit.forking import REPORT, close_fds, fork_child, kill_and_reap, listen_on, read_reports


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
            pid = fork_child(body, keep=(lifeline_r, report_w), pgid=pgid)
            pids.append(pid)
            pgid = pgid or pid
        os.close(report_w)
        report_w = -1
        reports = read_reports(report_r, n)
        by_pid = {pid: port for pid, port, _ in reports if port}
        ordered = [pid for pid in pids if pid in by_pid]
        yield Load(
            pids=tuple(pids),
            ports=tuple(by_pid[pid] for pid in ordered),
            listener_pids=tuple(ordered),
            pgid=pgid,
        )
    finally:
        kill_and_reap(pgid, pids)
        close_fds(lifeline_w, report_r, report_w, lifeline_r)


@contextlib.contextmanager
def listening_process(host: str = "127.0.0.1") -> Iterator[Spawned]:
    """Fork one child that listens on a new port of `host` at once; kill and reap it on exit."""
    lifeline_r, lifeline_w = os.pipe()
    report_r, report_w = os.pipe()
    pid = 0
    try:
        body = functools.partial(_listening_child, lifeline_r, report_w, host)
        pid = fork_child(body, keep=(lifeline_r, report_w), pgid=0)
        os.close(report_w)
        report_w = -1
        (_, port, listened_at) = read_reports(report_r, 1)[0]
        yield Spawned(pid=pid, port=port, listened_at=listened_at)
    finally:
        kill_and_reap(pid, [pid] if pid else [])
        close_fds(lifeline_w, report_r, report_w, lifeline_r)


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
        (_, port, listened_at) = read_reports(report, 1, timeout=10.0)[0]
        return Spawned(pid=pid, port=port, listened_at=listened_at)

    def release(self, spawned: Spawned) -> None:
        """That child closes its listener and exits; it is reaped."""
        trigger, report = self._fired.pop(spawned.pid)
        close_fds(trigger, report)
        kill_and_reap(0, [spawned.pid])

    def pids(self) -> list[int]:
        """Every child not yet released."""
        return [pid for pid, _, _ in self._ready] + list(self._fired)

    def close(self) -> None:
        """Kill and reap every child left; close every pipe."""
        kill_and_reap(self.pgid, self.pids())
        for _, trigger, report in self._ready:
            close_fds(trigger, report)
        for trigger, report in self._fired.values():
            close_fds(trigger, report)
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
                pid = fork_child(body, keep=(trigger_r, report_w), pgid=armed.pgid)
            finally:
                close_fds(trigger_r, report_w)
            armed._add(pid, trigger_w, report_r)
        yield armed
    finally:
        armed.close()


def _armed_child(trigger: int, report: int) -> None:
    if os.read(trigger, 1) != b"g":
        return
    server = listen_on("127.0.0.1")
    at = time.time()
    os.write(report, REPORT.pack(os.getpid(), server.getsockname()[1], at))
    os.read(trigger, 1)  # blocks until released (end of file)
    server.close()


def _idle_child(lifeline: int, report: int, fds_each: int, listen: bool) -> None:
    held = _open_fds(fds_each)
    port, at = 0, 0.0
    if listen:
        server = listen_on("127.0.0.1")
        held.append(server)
        port, at = server.getsockname()[1], time.time()
    os.write(report, REPORT.pack(os.getpid(), port, at))
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
    server = listen_on(host)
    at = time.time()
    os.write(report, REPORT.pack(os.getpid(), server.getsockname()[1], at))
    os.close(report)
    os.read(lifeline, 1)
    server.close()


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
