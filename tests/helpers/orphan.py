"""A real orphaned server: double-forked with setsid, so init (or a subreaper) adopts it and it
has no controlling terminal."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator

from tests.conftest import wait_for

_CODE = """
import os, socket, sys, time
if os.fork():
    os._exit(0)                      # the launcher goes away
os.setsid()                          # no controlling terminal from here on
if os.fork():
    os._exit(0)
sock = socket.socket()
sock.bind(("127.0.0.1", 0))
sock.listen()
print(sock.getsockname()[1], os.getpid(), flush=True)
sys.stdout.close()
os.close(1)
while True:
    conn, _ = sock.accept()
    conn.close()
"""


@contextlib.contextmanager
def orphan_server() -> Iterator[tuple[int, int]]:
    """(port, pid) of an orphaned listener; it is killed afterwards."""
    launcher = subprocess.run(
        [sys.executable, "-c", _CODE],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        timeout=30,
        check=True,
    )
    port, pid = (int(word) for word in launcher.stdout.split())
    try:
        yield port, pid
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        assert wait_for(lambda: not _alive(pid), 5)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().split(b")")[-1].split()[0] != b"Z"
    except OSError:
        return False
