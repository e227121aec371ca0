"""The engine on real sockets in this process and in child processes, on every kind of address.

How it copes with owners that exit, vanish or report garbage is in test_discovery_owners.py.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.conftest import wait_for
from tests.helpers.servers import NON_LOCAL_ADDRESS, child_listening, http_server, listener
from tray.discover import Engine, open_engine
from tray.model import Server

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
        assert (server in [s for s in engine.scan().servers if s.loopback]) is reachable
        assert server in engine.scan().servers
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
