"""Stopping a server from the menu, safely.

A pid can be recycled between the moment the menu was drawn and the click, so porttray checks,
just before signalling, that the process still has the start time it was shown with, and that it
belongs to the current user. It sends SIGTERM first; Force stop (SIGKILL) is offered only when the
process is still alive a few seconds later.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass

import psutil

from tray.users import real_user

START_TOLERANCE = 0.05
"""Seconds two readings of one process's start time may differ by (psutil rounds them)."""


@dataclass(frozen=True, slots=True)
class StopResult:
    """What happened when porttray tried to stop a process."""

    ok: bool
    """Whether the signal was sent."""
    message: str
    """A sentence for the user."""


def may_stop(pid: int | None, user: str | None) -> bool:
    """Whether the menu offers Stop for this process: only the current user's own."""
    return pid is not None and pid > 1 and user is not None and user == real_user()


def stop(pid: int, started: float | None, *, force: bool = False) -> StopResult:
    """Signal a process if, and only if, it is still the one the user saw."""
    try:
        proc = psutil.Process(pid)
        if started is None or abs(proc.create_time() - started) > START_TOLERANCE:
            return StopResult(False, f"process {pid} is no longer the server shown; nothing sent")
        if proc.username() != real_user():
            return StopResult(False, f"process {pid} belongs to another user; nothing sent")
        proc.send_signal(signal.SIGKILL if force else signal.SIGTERM)
    except psutil.NoSuchProcess:
        return StopResult(False, f"process {pid} has already exited")
    except psutil.AccessDenied:
        return StopResult(False, f"not allowed to signal process {pid}")
    verb = "killed" if force else "asked to stop"
    return StopResult(True, f"process {pid} {verb}")


def alive(pid: int, started: float | None) -> bool:
    """Whether the same process (pid and start time) is still running."""
    try:
        proc = psutil.Process(pid)
        return (
            started is not None
            and abs(proc.create_time() - started) <= START_TOLERANCE
            and proc.status() != psutil.STATUS_ZOMBIE
        )
    except psutil.NoSuchProcess:
        return False
