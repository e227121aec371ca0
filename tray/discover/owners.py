"""Which process holds a listening socket, found incrementally (Linux).

The kernel reports a socket's inode but not its process. The only unprivileged way to connect the
two is to read `/proc/<pid>/fd/*` links, which costs a few microseconds per open file — tens of
milliseconds on a busy desktop. So this module never does it per poll:

- only inodes not seen before are searched for;
- processes that appeared since the last search are tried first, newest first, and the search stops
  as soon as every new inode is found (a new server is nearly always a new process);
- an inode nobody readable holds (another user's socket, another namespace's) costs one full scan
  and is then remembered as unknown for as long as it exists;
- caches forget inodes and processes once their sockets are gone.

A socket shared across fork (uvicorn --reload, gunicorn workers) is named after the process that
created it: the search walks up to the oldest ancestor that holds the same inode.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Collection, Iterable

import psutil

from tray.model import ProcessInfo

logger = logging.getLogger(__name__)

CMDLINE_LIMIT = 1024
"""Characters of a command line kept: enough to recognise a server, bounded for hostile ones."""


def socket_inodes(pid: int, proc: str = "/proc") -> set[int]:
    """Inodes of the sockets a process holds; empty when it is gone or unreadable."""
    fd_dir = f"{proc}/{pid}/fd"
    found: set[int] = set()
    try:
        names = os.listdir(fd_dir)
    except OSError:
        return found
    for name in names:
        try:
            target = os.readlink(f"{fd_dir}/{name}")
        except OSError:
            continue
        if target.startswith("socket:["):
            found.add(int(target[8:-1]))
    return found


def parent_pid(pid: int, proc: str = "/proc") -> int | None:
    """The parent of a process from /proc/<pid>/stat, or None when it is gone."""
    try:
        with open(f"{proc}/{pid}/stat", "rb") as stat:
            text = stat.read()
    except OSError:
        return None
    # The name in parentheses may hold spaces and parentheses: fields resume after the last ')'.
    fields = text[text.rfind(b")") + 2 :].split()
    try:
        return int(fields[1])
    except (IndexError, ValueError):
        return None


def list_pids(proc: str = "/proc") -> list[int]:
    """Every process id visible in /proc."""
    try:
        return [int(name) for name in os.listdir(proc) if name.isdigit()]
    except OSError:
        return []


class OwnerIndex:
    """Maps socket inodes to the pid that created them, searching /proc only for new inodes."""

    def __init__(self, proc: str = "/proc") -> None:
        self._proc = proc
        self._owner: dict[int, int] = {}
        self._unknown: set[int] = set()
        self._known_pids: set[int] = set()
        self.full_scans = 0
        """How many searches had to read every process (a measure for tests and benchmarks)."""

    def owners(self, inodes: Collection[int]) -> dict[int, int | None]:
        """The owning pid of each inode (None when unreadable), resolving only new ones."""
        self._forget(inodes)
        new = {i for i in inodes if i not in self._owner and i not in self._unknown}
        if new:
            self._search(new)
        return {i: self._owner.get(i) for i in inodes}

    def forget_dead(self) -> set[int]:
        """Forget inodes whose owner has exited; the pids that were gone."""
        dead = {
            pid for pid in set(self._owner.values()) if not os.path.exists(f"{self._proc}/{pid}")
        }
        if dead:
            for inode in [i for i, pid in self._owner.items() if pid in dead]:
                del self._owner[inode]
        return dead

    def _forget(self, live: Collection[int]) -> None:
        live_set = live if isinstance(live, set | frozenset) else set(live)
        for inode in [i for i in self._owner if i not in live_set]:
            del self._owner[inode]
        self._unknown &= live_set

    def _search(self, wanted: set[int]) -> None:
        pids = list_pids(self._proc)
        fresh = sorted((p for p in pids if p not in self._known_pids), reverse=True)
        rest = sorted((p for p in pids if p in self._known_pids), reverse=True)
        self._known_pids = set(pids)
        remaining = set(wanted)
        scanned = 0
        for pid in fresh + rest:
            scanned += 1
            held = socket_inodes(pid, self._proc) & remaining
            for inode in held:
                self._owner[inode] = self._creator(pid, inode)
            remaining -= held
            if not remaining:
                break
        if scanned == len(pids):
            self.full_scans += 1
        self._unknown |= remaining
        if remaining:
            logger.debug("no readable process holds socket inodes %s", sorted(remaining))

    def _creator(self, pid: int, inode: int) -> int:
        """Walk up from pid while the parent holds the same socket."""
        seen = {pid}
        while True:
            parent = parent_pid(pid, self._proc)
            if parent is None or parent <= 1 or parent in seen:
                return pid
            if inode not in socket_inodes(parent, self._proc):
                return pid
            seen.add(parent)
            pid = parent


class ProcessDetails:
    """Reads name, command line, cwd, user and start time once per process."""

    def __init__(self) -> None:
        self._cache: dict[int, ProcessInfo] = {}
        self._denied_reported: set[tuple[int, str]] = set()

    def get(self, pid: int) -> ProcessInfo | None:
        """The details of a live process (cached), or None when it has gone."""
        info = self._cache.get(pid)
        if info is None:
            info = self._read(pid)
            if info is not None:
                self._cache[pid] = info
        return info

    def pids(self) -> list[int]:
        """The processes whose details are cached."""
        return list(self._cache)

    def retain(self, pids: Iterable[int]) -> None:
        """Forget every process but these."""
        keep = set(pids)
        for pid in [p for p in self._cache if p not in keep]:
            del self._cache[pid]

    def _read(self, pid: int) -> ProcessInfo | None:
        try:
            proc = psutil.Process(pid)
            with proc.oneshot():
                started = proc.create_time()
                values = {
                    "name": self._field(proc, "name"),
                    "cwd": self._field(proc, "cwd"),
                    "user": self._field(proc, "username"),
                }
                cmdline = self._field(proc, "cmdline")
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            return None
        except psutil.AccessDenied:
            return ProcessInfo(pid=pid)
        return ProcessInfo(
            pid=pid,
            name=_text(values["name"]),
            cmdline=cut_cmdline(cmdline if isinstance(cmdline, list) else []),
            cwd=_text(values["cwd"]),
            user=_text(values["user"]),
            started=started,
        )

    def _field(self, proc: psutil.Process, name: str) -> object:
        try:
            return getattr(proc, name)()
        except psutil.AccessDenied:
            if (proc.pid, name) not in self._denied_reported:
                self._denied_reported.add((proc.pid, name))
                logger.info("cannot read %s of process %d: access denied", name, proc.pid)
            return None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def cut_cmdline(args: list[str], limit: int = CMDLINE_LIMIT) -> tuple[str, ...]:
    """The first arguments of a command line, at most `limit` characters in all. Empty entries
    are dropped: Next.js rewrites its title to `next-server (vX)` and leaves dozens of them."""
    kept: list[str] = []
    total = 0
    for arg in args:
        if not arg:
            continue
        if total + len(arg) > limit:
            kept.append(arg[: max(0, limit - total)] + "…")
            break
        kept.append(arg)
        total += len(arg) + 1
    return tuple(kept)
