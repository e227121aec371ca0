"""The programs of a test desktop: started with their output in a log, asked for the one line
they report at start-up (Xvfb's display number, dbus-daemon's address), stopped and reaped.

`start_xvfb` and `start_bus` are the two servers every desktop starts first; the bus has its own
config (`BUS_CONFIG`): no service activation, so a service exists only when a test starts it, and
eavesdropping allowed, so the kit's bus monitors can watch it.
"""

from __future__ import annotations

import os
import select
import subprocess
import time
from pathlib import Path

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={dir}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


class StackProcess:
    """A program of the desktop, its output in a log file."""

    def __init__(
        self, argv: list[str], env: dict[str, str], log: Path, pass_fds: tuple[int, ...] = ()
    ) -> None:
        self.argv = argv
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                argv, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out, pass_fds=pass_fds
            )
        self.log = log

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        """End it and reap it."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _read_line(fd: int, what: str, timeout: float = 10.0) -> str:
    """One line written by a starting program to our end of a pipe."""
    deadline, data = time.monotonic() + timeout, b""
    while b"\n" not in data:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            raise TimeoutError(f"{what} did not report within {timeout} s")
        chunk = os.read(fd, 4096)
        if not chunk:
            raise RuntimeError(f"{what} exited before reporting")
        data += chunk
    return data.decode().splitlines()[0].strip()


def start_reporting(argv: list[str], env: dict[str, str], log: Path) -> tuple[StackProcess, str]:
    """Start a program that writes one line to the fd named by "{fd}" in its argv."""
    read_end, write_end = os.pipe()
    try:
        proc = StackProcess(
            [a.replace("{fd}", str(write_end)) for a in argv], env, log, (write_end,)
        )
        os.close(write_end)
        write_end = -1
        try:
            return proc, _read_line(read_end, argv[0])
        except Exception:
            proc.stop()
            raise
    finally:
        os.close(read_end)
        if write_end >= 0:
            os.close(write_end)


def start_xvfb(screen: str, env: dict[str, str], log: Path) -> tuple[StackProcess, str]:
    """Xvfb on a free display (it picks one and reports it), no TCP; the display, e.g. ":3"."""
    argv = ["Xvfb", "-displayfd", "{fd}", "-screen", "0", screen, "-nolisten", "tcp"]
    xvfb, number = start_reporting([*argv, "-noreset"], env, log)
    return xvfb, f":{number}"


def start_bus(directory: Path, env: dict[str, str], log: Path) -> tuple[StackProcess, str]:
    """A private dbus-daemon listening in `directory` (its config written there); its address."""
    (directory / "bus.conf").write_text(BUS_CONFIG.format(dir=directory))
    argv = ["dbus-daemon", f"--config-file={directory / 'bus.conf'}", "--nofork"]
    return start_reporting([*argv, "--print-address={fd}"], env, log)
