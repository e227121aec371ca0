"""The suite's leak guard for tests that share a running desktop.

`no_leaks_except_desktop()` fails a block that leaves a thread, child process or descriptor
behind, with one exemption: what belongs to a running stack (a `Desktop`, a real host's session),
which outlives single tests on purpose. A stack registers itself (`register_stack`) and answers
for its processes and descriptors; its threads are named with `STACK_THREAD_PREFIX`.
"""

from __future__ import annotations

import contextlib
import gc
import os
import threading
from collections.abc import Iterator
from typing import Protocol

import psutil

from tests.kit.wait import wait_for

STACK_THREAD_PREFIX = "desktop-stack"
"""Threads of a running desktop are named with this prefix."""


class Stack(Protocol):
    """Something running for tests whose processes and descriptors outlive single tests."""

    def pids(self) -> set[int]: ...

    def fds(self) -> set[int]: ...


_RUNNING: list[Stack] = []


def register_stack(stack: Stack) -> None:
    """Exempt a running stack (a real host's session) from the leak guard until unregistered."""
    if stack not in _RUNNING:
        _RUNNING.append(stack)


def unregister_stack(stack: Stack) -> None:
    if stack in _RUNNING:
        _RUNNING.remove(stack)


def _fds() -> set[int]:
    return {int(fd) for fd in os.listdir("/proc/self/fd")}


def _exempt() -> tuple[set[int], set[int]]:
    pids: set[int] = set()
    fds: set[int] = set()
    for desktop in _RUNNING:
        pids |= desktop.pids()
        fds |= desktop.fds()
    return pids, fds


def _foreign_children() -> list[psutil.Process]:
    """Live descendants of this process that are not the desktop or started by it."""
    exempt, _ = _exempt()
    found = []
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess):
            lineage = {child.pid, *(p.pid for p in child.parents())}
            if child.status() != psutil.STATUS_ZOMBIE and not lineage & exempt:
                found.append(child)
    return found


def _foreign_threads(before: set[threading.Thread]) -> set[threading.Thread]:
    new = set(threading.enumerate()) - before
    return {t for t in new if not t.name.startswith(STACK_THREAD_PREFIX)}


@contextlib.contextmanager
def no_leaks_except_desktop() -> Iterator[None]:
    """Fail when the block leaves a thread, child process or fd behind, the desktop's excepted."""
    threads, fds = set(threading.enumerate()), _fds()
    yield
    gc.collect()
    assert wait_for(lambda: not _foreign_threads(threads), 5.0), (
        f"threads left behind: {sorted(t.name for t in _foreign_threads(threads))}"
    )
    assert wait_for(lambda: not _foreign_children(), 5.0), (
        f"processes left behind: {_foreign_children()}"
    )
    assert wait_for(lambda: not (_fds() - fds - _exempt()[1]), 2.0), (
        f"fds left behind: {[_describe(fd) for fd in _fds() - fds - _exempt()[1]]}"
    )


def _describe(fd: int) -> str:
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return str(fd)
