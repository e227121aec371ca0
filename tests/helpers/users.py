"""Another user on this machine: servers that belong to someone else, as a normal user meets them.

The suite runs as an unprivileged user (`porttray-test` in CI). `scripts/test.sh` creates a second
user, `porttray-other`, and lets the suite's user run commands as it through `sudo -n -u
porttray-other`; nothing else is allowed. Tests that need another user's process take the
`other_user` fixture (skipped where that rule is missing) and start programs with `OtherUser.start`;
those programs run on Debian's own /usr/bin/python3 (a venv under another home may be unreadable to
the other user) and are stopped through sudo as well, since the suite may not signal them itself.
"""

from __future__ import annotations

import contextlib
import functools
import os
import pwd
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import psutil

from tests.conftest import wait_for

OTHER = "porttray-other"
"""The second user's name."""
SYSTEM_PYTHON = "/usr/bin/python3"
"""An interpreter every user can run."""


def is_root() -> bool:
    """Whether the suite runs with root's privileges (it sees every process)."""
    return os.geteuid() == 0


@functools.cache
def other_user_available() -> bool:
    """Whether this user may run commands as `porttray-other` without a password."""
    if shutil.which("sudo") is None:
        return False
    probe = subprocess.run(
        ["sudo", "-n", "-u", OTHER, "true"], capture_output=True, timeout=10, check=False
    )
    return probe.returncode == 0


@dataclass
class OtherProcess:
    """A program running as the other user; `pid` is the program itself, not sudo."""

    sudo: subprocess.Popen[str]
    pid: int

    def stop(self) -> None:
        """End it (through sudo, as its owner) and reap the sudo process."""
        if self.sudo.poll() is None:
            subprocess.run(
                ["sudo", "-n", "-u", OTHER, "kill", "-TERM", str(self.pid)],
                capture_output=True,
                timeout=10,
                check=False,
            )
            try:
                self.sudo.wait(5)
            except subprocess.TimeoutExpired:
                subprocess.run(
                    ["sudo", "-n", "-u", OTHER, "kill", "-KILL", str(self.pid)],
                    capture_output=True,
                    timeout=10,
                    check=False,
                )
                self.sudo.wait(5)
        for stream in (self.sudo.stdout, self.sudo.stderr, self.sudo.stdin):
            if stream is not None:
                stream.close()


class OtherUser:
    """Starts programs as `porttray-other`."""

    name = OTHER

    def start(self, argv: Sequence[str], *, cwd: str = "/") -> OtherProcess:
        """Run `argv` as the other user; its stdout is a text pipe (read its first line, say)."""
        sudo = subprocess.Popen(
            ["sudo", "-n", "-u", OTHER, "--", *argv],
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        return OtherProcess(sudo, _command_pid(sudo))

    @contextlib.contextmanager
    def listener(self, address: str = "127.0.0.1") -> Iterator[tuple[OtherProcess, int]]:
        """A plain TCP listener owned by the other user, and its port; it counts connections
        and prints one line per accepted connection after the first line (its port)."""
        code = (
            "import socket,sys\n"
            f"s=socket.socket(socket.AF_INET6 if ':' in {address!r} else socket.AF_INET)\n"
            f"s.bind(({address!r},0)); s.listen()\n"
            "print(s.getsockname()[1], flush=True)\n"
            "while True:\n"
            "    c,_=s.accept(); print('connection', flush=True); c.close()\n"
        )
        proc = self.start([SYSTEM_PYTHON, "-c", code])
        try:
            assert proc.sudo.stdout is not None
            line = proc.sudo.stdout.readline()
            assert line.strip().isdigit(), f"the other user's listener did not start: {line!r}"
            yield proc, int(line)
        finally:
            proc.stop()


def _command_pid(sudo: subprocess.Popen[str], timeout: float = 10.0) -> int:
    """The pid of the command sudo runs: its descendant that runs as the other user (with
    `use_pty`, Debian's default, sudo forks a monitor process of root's first)."""
    parent = psutil.Process(sudo.pid)
    uid = pwd.getpwnam(OTHER).pw_uid

    def command() -> int | None:
        try:
            for child in parent.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    if child.uids().real == uid:
                        return child.pid
        except psutil.NoSuchProcess:
            pass
        return None

    wait_for(lambda: command() is not None or sudo.poll() is not None, timeout)
    return command() or sudo.pid
