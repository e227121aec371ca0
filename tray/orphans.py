"""Orphaned dev servers: the launcher is gone and nothing will ever stop them.

A server whose parent (an `npm run dev`, an agent's shell) exited is reparented to init or to
the nearest subreaper (on a desktop, the user's `systemd --user`) and, once its terminal is
closed, has no controlling terminal either. Such a process is orphaned: nobody holds a Ctrl-C for
it. Services a service manager started on purpose look alike (parent init, no terminal), so a
process in a systemd service's own cgroup (`….service`) is not called orphaned. Reads /proc on
Linux (a few small files, only when asked); psutil elsewhere. Never raises: a process that cannot
be read is not known.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING

from tray.programs import SYSTEM_NAMES

if TYPE_CHECKING:
    from tray.model import Key
    from tray.state import Entry

SUBREAPERS = frozenset({"systemd", "init", "tini", "dumb-init", "catatonit", "s6-svscan", "runit"})
"""Names of processes that adopt orphans (init, and subreapers such as `systemd --user`)."""


def parse_stat(text: bytes) -> tuple[int, int] | None:
    """(ppid, tty_nr) from /proc/<pid>/stat; the name may hold spaces and parentheses."""
    fields = text[text.rfind(b")") + 2 :].split()
    try:
        return int(fields[1]), int(fields[4])
    except (IndexError, ValueError):
        return None


def decide(ppid: int, parent_name: str | None, cgroup_leaf: str, *, has_tty: bool) -> bool:
    """Orphaned: adopted by init or a subreaper, no terminal, and not a managed service."""
    if has_tty or (cgroup_leaf.endswith(".service") and not cgroup_leaf.startswith("app-")):
        return False
    return ppid <= 1 or (parent_name or "") in SUBREAPERS


def orphaned(pid: int | None, proc: str = "/proc") -> bool | None:
    """Whether a process is orphaned; None when that cannot be told (gone, unreadable)."""
    if pid is None or pid <= 1:
        return None
    if not sys.platform.startswith("linux"):
        return _orphaned_psutil(pid)
    stat = _read(f"{proc}/{pid}/stat")
    parsed = parse_stat(stat) if stat is not None else None
    if parsed is None:
        return None
    ppid, tty = parsed
    if tty != 0:
        return False  # the common case costs one read
    parent = _read(f"{proc}/{ppid}/comm") if ppid > 1 else None
    name = parent.decode("utf-8", "replace").strip() if parent else None
    if ppid > 1 and name not in SUBREAPERS:
        return False
    cgroup = (_read(f"{proc}/{pid}/cgroup") or b"").decode("utf-8", "replace").strip()
    leaf = cgroup.splitlines()[-1].rsplit("/", 1)[-1] if cgroup else ""
    return decide(ppid, name, leaf, has_tty=False)


def orphaned_keys(entries: Iterable[Entry], user: str) -> frozenset[Key]:
    """The listed servers of `user` that have lost the terminal or launcher that started them.
    System daemons (dockerd, sshd, …) detach on purpose: they are never orphans."""
    mine = [e.server for e in entries if e.server.process and e.server.process.user == user]
    candidates = [s for s in mine if s.name not in SYSTEM_NAMES]
    lost = {pid for pid in {s.pid for s in candidates} if orphaned(pid)}  # once per process
    return frozenset(s.key for s in candidates if s.pid in lost)


def _orphaned_psutil(pid: int) -> bool | None:
    import psutil

    try:
        process = psutil.Process(pid)
        parent = process.parent()
        terminal = getattr(process, "terminal", lambda: None)()
        name = parent.name() if parent is not None else None
        return decide(parent.pid if parent else 0, name, "", has_tty=terminal is not None)
    except (psutil.Error, OSError):
        return None


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as file:
            return file.read(65536)
    except OSError:
        return None
