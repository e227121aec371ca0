"""The programs of a real host's session, and where a failed step's screenshot is kept."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from pathlib import Path

import psutil

from tests.kit.stack import StackProcess
from tests.kit.wait import wait_for

ARTIFACTS_ENV = "PORTTRAY_TEST_ARTIFACTS"


class HostProgram(StackProcess):
    """A program of a host, in a process group of its own: stopping it ends every process it
    started too, even helpers a crashed parent left behind (a panel's plugin wrappers)."""

    def __init__(self, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.argv, self.log = argv, log
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                argv,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                start_new_session=True,
            )

    def group(self) -> list[psutil.Process]:
        """The live processes of its group (the program itself and what it started)."""
        found = []
        for proc in psutil.process_iter():
            with contextlib.suppress(psutil.Error, ProcessLookupError):  # it just exited
                if os.getpgid(proc.pid) == self.pid and proc.status() != psutil.STATUS_ZOMBIE:
                    found.append(proc)
        return found

    def stop(self) -> None:
        """End the whole group: SIGTERM, then SIGKILL what is left after 5 s; reap."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(5)
            if wait_for(lambda: not self.group(), 5 if sig == signal.SIGTERM else 2, 0.1):
                break
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def artifacts_dir() -> Path:
    """Where screenshots are kept: $PORTTRAY_TEST_ARTIFACTS, else test-artifacts/ in the tree
    (else a directory under /tmp when the tree is not writable, as for the test user)."""
    chosen = os.environ.get(ARTIFACTS_ENV)
    tree = Path(__file__).resolve().parents[3] / "test-artifacts"
    path = Path(chosen) if chosen else tree
    if not chosen and not os.access(tree.parent, os.W_OK):
        path = Path(f"/tmp/porttray-test-artifacts-{os.getuid()}")
    path.mkdir(parents=True, exist_ok=True)
    return path
