"""The real tray process on the test desktop (`python -m tray -v`), as the soak and the
benchmarks drive it: started, awaited until it polls, sampled, stopped."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from tests.kit.desktop import Desktop


def read_text(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


class TrayProcess:
    """`python -m tray -v` on the desktop, its output in a log file."""

    def __init__(self, desktop: Desktop, log: Path, extra_env: dict[str, str] | None = None):
        self.desktop = desktop
        self.log = log
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tray", "-v"],
                env={**desktop.env, **(extra_env or {})},
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
            )
        self.exit_code: int | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_ready(self, timeout: float = 20.0) -> None:
        """Until its menu is served and its first scan is done (the menu is up before that)."""
        item = self.desktop.tray.wait_for_item(timeout=timeout, pid=self.pid)
        self.desktop.tray.wait_for(lambda r: "Quit porttray" in r.labels(), timeout, item)
        self.item = item
        deadline = time.monotonic() + timeout
        while "porttray is running" not in self.output():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the tray did not start polling: {self.output()}")
            time.sleep(0.05)

    def top_labels(self) -> list[str]:
        """The displayed text of the top-level menu entries."""
        return [n.text for n in self.desktop.tray.layout(self.item).children]

    def stop(self) -> int:
        """SIGTERM, then SIGKILL after 5 s; the exit status (negative: killed by that signal)."""
        self.exit_code = terminate(self.proc)
        return self.exit_code

    def output(self) -> str:
        """Everything it printed so far."""
        return read_text(self.log)

    def tracebacks(self) -> int:
        """How many tracebacks it printed."""
        return self.output().count("Traceback")


@contextlib.contextmanager
def running_tray(
    desktop: Desktop, log: Path, extra_env: dict[str, str] | None = None
) -> Iterator[TrayProcess]:
    """A ready tray on the desktop; stopped (and reaped) on exit."""
    tray = TrayProcess(desktop, log, extra_env)
    try:
        tray.wait_ready()
        yield tray
    finally:
        tray.stop()


def terminate(proc: subprocess.Popen[bytes]) -> int:
    """SIGTERM a child, SIGKILL it after 5 s, reap it; its exit status."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode
