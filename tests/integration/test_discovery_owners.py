"""The engine when a listener's owner misbehaves: it exits mid-scan, no process holds the socket,
it exits while a forked child keeps the socket, its uid is garbage, its argv has empty entries;
and a scan of unchanged listeners reuses the servers it made before.
"""

from __future__ import annotations

import array
import os
import socket
import subprocess
import sys

import psutil
import pytest

from tests.conftest import wait_for
from tests.helpers.servers import child_listening, listener
from tests.integration.test_discovery import find
from tray.discover import Engine, open_engine
from tray.discover.linux import LinuxOwners
from tray.discover.netlink import NetlinkSource
from tray.model import Listener


class KillAfterListing:
    """The real netlink source, ending a child right after the dump: the process exits mid-scan."""

    method = "netlink"

    def __init__(self) -> None:
        self.source = NetlinkSource()
        self.victim: int | None = None
        """The pid to end after the next dump; set once the child listens."""

    def listeners(self) -> list[Listener]:
        found = self.source.listeners()
        if self.victim is not None:
            os.kill(self.victim, 9)
            os.waitpid(self.victim, 0)
            self.victim = None
        return found

    def close(self) -> None:
        self.source.close()


def test_process_exiting_mid_scan_keeps_the_listener_without_owner() -> None:
    source = KillAfterListing()
    eng = Engine(source, LinuxOwners())
    try:
        with child_listening(["127.0.0.1"]) as child:
            source.victim = child.pid
            (server,) = find(eng, child.port)
            assert server.pid is None
            assert server.process is None
            child.proc.returncode = -9  # reaped above
            assert wait_for(lambda: find(eng, child.port) == [])
    finally:
        eng.close()


def test_unresolvable_socket_is_listed_once_searched_once_and_forgotten() -> None:
    """A listener held by no process (its only fd is in flight over a unix socket)."""
    owners = LinuxOwners()
    eng = Engine(NetlinkSource(), owners)
    left, right = socket.socketpair(socket.AF_UNIX)
    try:
        orphan = listener("127.0.0.1")
        port = orphan.getsockname()[1]
        inode = os.fstat(orphan.fileno()).st_ino
        fds = array.array("i", [orphan.fileno()])
        left.sendmsg([b"x"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)])
        orphan.close()
        (server,) = find(eng, port)
        assert server.pid is None and server.process is None and server.loopback
        scans = owners.index.full_scans
        for _ in range(5):
            assert len(find(eng, port)) == 1
        assert owners.index.full_scans == scans, "an unknown inode was searched for again"
        left.close()
        right.close()
        assert wait_for(lambda: find(eng, port) == [])
        assert inode not in owners.index._unknown
    finally:
        left.close()
        right.close()
        eng.close()


def test_unchanged_listeners_reuse_the_previous_servers() -> None:
    eng = open_engine("netlink")
    try:
        with listener("127.0.0.1"):
            # Other programs' listeners may change between two scans: try until two scans saw
            # the same servers; those must then be the very same objects.
            for _ in range(50):
                first, second = eng.scan(), eng.scan()
                if second.servers == first.servers:
                    assert second.servers is first.servers
                    break
            else:
                pytest.fail("the machine's listeners never held still for two scans")
    finally:
        eng.close()


DAEMONIZE = """
import os, socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
print(s.getsockname()[1], flush=True)
sys.stdin.readline()
pid = os.fork()
if pid:
    print(pid, flush=True)
    os._exit(0)
sys.stdin.read()
"""


def test_owner_that_exits_while_a_forked_child_keeps_the_socket_is_replaced() -> None:
    """The daemonize pattern: the listener is shown with the process that now holds it."""
    eng = open_engine("netlink")
    proc = subprocess.Popen(
        [sys.executable, "-c", DAEMONIZE], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdin is not None and proc.stdout is not None
    port = int(proc.stdout.readline())
    grandchild = None
    try:
        assert [s.pid for s in find(eng, port)] == [proc.pid]
        proc.stdin.write("go\n")
        proc.stdin.flush()
        grandchild = int(proc.stdout.readline())
        assert proc.wait(5) == 0
        assert wait_for(lambda: [s.pid for s in find(eng, port)] == [grandchild], 5)
    finally:
        proc.stdin.close()
        proc.stdout.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if grandchild is not None:
            assert wait_for(lambda: not psutil.pid_exists(grandchild), 5)
        eng.close()


class GarbledUids:
    """The real socket table, with the owner uid of every socket replaced by garbage."""

    method = "netlink"

    def __init__(self, uid: object) -> None:
        self.source, self.uid = NetlinkSource(), uid

    def listeners(self) -> list[Listener]:
        import dataclasses

        return [dataclasses.replace(x, uid=self.uid) for x in self.source.listeners()]  # type: ignore[arg-type]

    def close(self) -> None:
        self.source.close()


@pytest.mark.parametrize("uid", [-1, 2**32 - 1, 2**40, "0", 1.5])
def test_a_garbage_socket_uid_keeps_the_server_with_its_uid_unknown(
    uid: object, caplog: pytest.LogCaptureFixture
) -> None:
    import tray.discover

    tray.discover._bad_uid_logged = False
    eng = Engine(GarbledUids(uid), LinuxOwners())
    try:
        with listener("127.0.0.1") as sock:
            (server,) = find(eng, sock.getsockname()[1])
            eng.scan()
    finally:
        eng.close()
    assert server.uid is None and server.pid == os.getpid()
    assert server.owner is not None  # still named after its visible process
    assert len([r for r in caplog.records if "no uid" in r.message]) == 1


def test_empty_argv_entries_are_dropped_from_the_command_line() -> None:
    code = (
        "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(); "
        "print(s.getsockname()[1], flush=True); input()"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "", "--flag", "", ""],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    eng = open_engine()
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        (server,) = find(eng, port)
    finally:
        eng.close()
        proc.communicate("\n", timeout=10)
    assert server.process is not None
    assert server.process.cmdline == (sys.executable, "-c", code, "--flag")
