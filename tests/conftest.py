"""Suite-wide guards: every test leaves no thread, child process or file descriptor behind.

Also the Hypothesis profiles: a plain run tries QUICK_EXAMPLES examples per property, so the unit
tests stay a few seconds' edit-and-run loop; `--hypothesis-profile=thorough`, which
`scripts/test.sh` passes, tries Hypothesis's full count (100, or what a test asks for), and so does
CI, where Hypothesis picks its own "ci" profile."""

from __future__ import annotations

import gc
import itertools
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import psutil
import pytest
from hypothesis import settings

from tests.kit.wait import wait_for

__all__ = ["wait_for"]

QUICK_EXAMPLES = 40
"""Examples per property in a plain run, against Hypothesis's default of 100."""

settings.register_profile("thorough", settings.get_profile(settings.get_current_profile_name()))
settings.register_profile("quick", settings.get_profile("thorough"), max_examples=QUICK_EXAMPLES)
if settings.get_current_profile_name() == "default":
    settings.load_profile("quick")

if TYPE_CHECKING:
    from tests.helpers.users import OtherUser


def _fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


def _threads() -> set[threading.Thread]:
    return set(threading.enumerate())


def _children() -> list[psutil.Process]:
    """Live descendants of this process, found through /proc/PID/task/TID/children.

    psutil's recursive search reads every process on the machine (~25 ms with a few hundred);
    following the children lists costs only as much as there are descendants."""
    found: list[psutil.Process] = []
    todo = _child_pids(os.getpid())
    while todo:
        pid = todo.pop()
        try:
            proc = psutil.Process(pid)
            if proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except psutil.NoSuchProcess:
            continue
        todo += _child_pids(pid)
    return found


def _child_pids(pid: int) -> list[int]:
    pids: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return pids
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as f:
                pids += (int(p) for p in f.read().split())
        except OSError:
            continue
    return pids


@pytest.fixture(scope="session")
def _states(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("state")


_state_numbers = itertools.count()


@pytest.fixture(autouse=True)
def private_state(_states: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every porttray a test starts (the tray, watch) writes its history under a state directory
    of the test's own, never the user's. The directory is made by what writes there first (the
    history makes its parents), so the many tests that write nothing make no directory."""
    monkeypatch.setenv("XDG_STATE_HOME", str(_states / str(next(_state_numbers))))


@pytest.fixture(autouse=True)
def no_leaks() -> Iterator[None]:
    """Fail a test that leaves a thread, a child process or an open fd behind."""
    threads, fds = _threads(), _fds()
    yield
    if _threads() - threads or _fds() - fds:
        gc.collect()  # only then: a full collection costs ~60 ms with the suite's imports loaded
    assert wait_for(lambda: not (_threads() - threads), 5.0), (
        f"threads left behind: {sorted(t.name for t in _threads() - threads)}"
    )
    assert wait_for(lambda: not _children(), 5.0), f"processes left behind: {_children()}"
    assert wait_for(lambda: len(_fds() - fds) == 0, 2.0), (
        f"fds left behind: {_describe(_fds() - fds)}"
    )


def _describe(fds: set[str]) -> list[str]:
    described = []
    for fd in fds:
        try:
            described.append(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            continue
    return described


@pytest.fixture
def other_user() -> OtherUser:
    """Another user of this machine, for servers that are not ours (skipped where unavailable)."""
    from tests.helpers.users import OtherUser, other_user_available

    if not other_user_available():
        pytest.skip("needs `sudo -n -u porttray-other` (scripts/test.sh sets it up)")
    return OtherUser()


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Tests marked `root` need root's privileges; elsewhere they skip, saying so."""
    if item.get_closest_marker("root") is not None and os.geteuid() != 0:
        pytest.skip("needs root (scripts/test.sh runs the `root` tests as root)")
