"""The engine on real sockets in this process and in child processes, on every kind of address."""

from __future__ import annotations

import array
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.conftest import wait_for
from tests.helpers.servers import NON_LOCAL_ADDRESS, child_listening, http_server, listener
from tray.diff import visible
from tray.discover import Engine, open_engine
from tray.discover.linux import LinuxOwners
from tray.discover.netlink import NetlinkSource
from tray.model import Listener, Server

METHODS = ("netlink", "proc", "psutil")


@pytest.fixture(params=METHODS)
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    eng = open_engine(request.param)
    assert eng.method == request.param
    yield eng
    eng.close()


def find(eng: Engine, port: int) -> list[Server]:
    return [s for s in eng.scan().servers if s.port == port]


# address bound, (reachable on loopback, exposed, host a client should use)
CASES = [
    ("127.0.0.1", None, True, False, "127.0.0.1"),
    ("127.0.0.2", None, True, False, "127.0.0.2"),
    ("::1", None, True, False, "::1"),
    ("0.0.0.0", None, True, True, "127.0.0.1"),
    ("::", False, True, True, "127.0.0.1"),
    (NON_LOCAL_ADDRESS, None, False, False, None),
]


@pytest.mark.parametrize(("address", "v6only", "reachable", "exposed", "host"), CASES)
def test_listener_in_this_process(
    engine: Engine, address: str, v6only: bool | None, reachable: bool, exposed: bool, host: str
) -> None:
    with listener(address, v6only=v6only) as sock:
        port = sock.getsockname()[1]
        (server,) = find(engine, port)
        assert server.pid == os.getpid()
        assert server.process is not None
        assert server.process.name == psutil.Process().name()
        assert server.loopback is reachable
        assert server.exposed is exposed
        assert server.host == host
        assert (server in visible(engine.scan().servers)) is reachable
        assert server in visible(engine.scan().servers, include_all=True)
    assert find(engine, port) == []


def test_v6only_wildcard_is_reached_on_ipv6_loopback() -> None:
    eng = open_engine("netlink")
    try:
        with listener("::", v6only=True) as sock:
            (server,) = find(eng, sock.getsockname()[1])
            assert server.v6only is True
            assert server.exposed
            assert server.host == "::1"
            assert server.url == f"http://[::1]:{server.port}"
    finally:
        eng.close()


@pytest.mark.parametrize(
    ("addresses", "expected"),
    [
        (["127.0.0.1", "::1"], ("127.0.0.1", "::1")),
        (["::/v6only", "0.0.0.0"], ("0.0.0.0", "::")),
    ],
)
def test_both_families_of_one_child_are_one_server(
    engine: Engine, addresses: list[str], expected: tuple[str, ...]
) -> None:
    with child_listening(addresses) as child:
        assert wait_for(lambda: len(find(engine, child.port)) == 1)
        (server,) = find(engine, child.port)
        assert server.pid == child.pid
        assert server.addresses == expected
        assert server.process is not None
        assert server.process.cmdline[1].endswith("listen_child.py")
    assert wait_for(lambda: find(engine, child.port) == [])


def test_http_server_child_has_pid_name_cwd_and_goes_away(engine: Engine, tmp_path: Path) -> None:
    with http_server(tmp_path) as (proc, port):
        (server,) = find(engine, port)
        assert server.pid == proc.pid
        assert server.process is not None
        assert server.process.name == psutil.Process(proc.pid).name()
        assert server.process.cmdline[1:4] == ("-m", "http.server", str(port))
        assert server.process.cwd == str(tmp_path)
        assert server.process.started == pytest.approx(psutil.Process(proc.pid).create_time())
        assert server.url == f"http://127.0.0.1:{port}"
        assert not server.exposed
    assert wait_for(lambda: find(engine, port) == [])


def test_backends_agree_with_each_other_and_with_psutil() -> None:
    engines = [open_engine(m) for m in METHODS]
    socks = [listener(a) for a in ("127.0.0.1", "::1", "0.0.0.0", "127.0.0.3")]
    try:
        with child_listening(["127.0.0.1", "::1"]) as one, child_listening(["0.0.0.0"]) as two:
            # Only the test's own ports: other programs may open and close theirs meanwhile.
            ours = {one.port, two.port, *(s.getsockname()[1] for s in socks)}
            views = [
                {(s.port, s.addresses, s.pid) for s in e.scan().servers if s.port in ours}
                for e in engines
            ]
            assert len(views[0]) == 6
            assert views[0] == views[1] == views[2]
            truth = {
                (c.laddr[1], c.pid)
                for c in psutil.net_connections("tcp")
                if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr[1] in ours
            }
            assert {(port, pid) for port, _, pid in views[0]} == truth
            assert {port for port, _, _ in views[0]} == ours
    finally:
        for sock in socks:
            sock.close()
        for eng in engines:
            eng.close()


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
