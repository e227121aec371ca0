"""Address rules, snapshot diffing and the JSON shape: plain tables of inputs and outputs."""

from __future__ import annotations

import dataclasses
import json
from collections import namedtuple

import pytest

from tray.diff import diff
from tray.discover.psutil_source import PsutilSource
from tray.model import Closed, Identity, Opened, ProcessInfo, Server, Snapshot, loopback_host
from tray.report import server_json, table


@pytest.mark.parametrize(
    ("addresses", "v6only", "host", "exposed"),
    [
        (("127.0.0.1",), None, "127.0.0.1", False),
        (("127.0.0.2",), None, "127.0.0.2", False),
        (("::1",), None, "::1", False),
        (("127.0.0.1", "::1"), None, "127.0.0.1", False),
        (("0.0.0.0",), None, "127.0.0.1", True),
        (("::",), False, "127.0.0.1", True),
        (("::",), None, "127.0.0.1", True),
        (("::",), True, "::1", True),
        (("::ffff:127.0.0.5",), None, "127.0.0.5", False),
        (("::ffff:0.0.0.0",), None, "127.0.0.1", True),
        (("10.0.0.5",), None, None, False),
        (("fe80::1%eth0",), None, None, False),
        (("not-an-address",), None, None, False),
    ],
)
def test_loopback_host_and_exposure(
    addresses: tuple[str, ...], v6only: bool | None, host: str | None, exposed: bool
) -> None:
    server = Server(port=80, addresses=addresses, pid=1, v6only=v6only)
    assert loopback_host(addresses, v6only=v6only) == host
    assert server.host == host
    assert server.loopback is (host is not None)
    assert server.exposed is exposed


def snap(*servers: Server, at: float = 100.0) -> Snapshot:
    return Snapshot(servers=servers, method="test", taken=at)


A = Server(port=3000, addresses=("127.0.0.1",), pid=10)
B = Server(port=5173, addresses=("::1",), pid=11)
A_NEW_PID = Server(port=3000, addresses=("127.0.0.1",), pid=12)
UNKNOWN = Server(port=8080, addresses=("0.0.0.0",), pid=None)


def test_first_snapshot_reports_nothing() -> None:
    assert diff(None, snap(A, B)) == []


def test_opened_and_closed() -> None:
    assert diff(snap(A), snap(A, B, at=5)) == [Opened(B, 5)]
    assert diff(snap(A, B), snap(B, at=6)) == [Closed(A, 6)]
    assert diff(snap(A, B), snap(A, B)) == []


def test_new_pid_on_same_port_is_close_then_open() -> None:
    assert diff(snap(A, UNKNOWN), snap(A_NEW_PID, UNKNOWN, at=7)) == [
        Closed(A, 7),
        Opened(A_NEW_PID, 7),
    ]


def test_json_shape_with_unknowns_as_null() -> None:
    obj = server_json(UNKNOWN)
    assert json.loads(json.dumps(obj)) == {
        "port": 8080,
        "url": "http://127.0.0.1:8080",
        "addresses": ["0.0.0.0"],
        "exposed": True,
        "pid": None,
        "process": None,
        "cmdline": None,
        "cwd": None,
        "user": None,
        "uid": None,
        "started": None,
        "protocol": None,
        "title": None,
        "http_status": None,
        "server_header": None,
        "project": None,
        "kind": None,
        "label": None,
        "container": None,
    }


def test_json_and_table_with_details() -> None:
    proc = ProcessInfo(
        pid=10, name="node", cmdline=("node", "vite"), cwd="/w/shop", user="ann", started=0.0
    )
    server = Server(port=5173, addresses=("::1",), pid=10, process=proc)
    obj = server_json(server)
    assert obj["url"] == "http://[::1]:5173"
    assert obj["cmdline"] == ["node", "vite"] and obj["process"] == "node" and obj["user"] == "ann"
    assert isinstance(obj["started"], str) and obj["started"].startswith("19")
    lines = table((server, UNKNOWN)).splitlines()
    assert lines[0].split() == ["PORT", "URL", "NAME", "PROCESS", "PID", "DIRECTORY"]
    assert lines[1].split() == ["5173", "http://[::1]:5173", "node", "10", "/w/shop"]  # no name yet
    named = dataclasses.replace(server, identity=Identity(protocol="https", title="Shop"))
    row = table((named,), {named.key: "My shop"}).splitlines()[1]
    assert row.split()[:4] == ["5173", "https://[::1]:5173", "My", "shop"]
    assert (
        lines[2].split()[:4] == ["8080", "http://127.0.0.1:8080", "?", "?"]
        and "exposed" in lines[2]
    )


Addr = namedtuple("Addr", "ip port")
Conn = namedtuple("Conn", "fd family type laddr raddr status pid")


@pytest.mark.parametrize(("platform", "v6only"), [("win32", True), ("darwin", False)])
def test_psutil_shaped_connections(platform: str, v6only: bool | None) -> None:
    conns = [
        Conn(3, 2, 1, Addr("127.0.0.1", 3000), (), "LISTEN", 10),
        Conn(4, 23, 1, Addr("::", 3000), (), "LISTEN", 10),
        Conn(5, 2, 1, Addr("127.0.0.1", 50000), Addr("127.0.0.1", 3000), "ESTABLISHED", 11),
        Conn(6, 2, 1, (), (), "LISTEN", 12),
        Conn(7, 2, 1, Addr("0.0.0.0", 135), (), "LISTEN", None),
    ]
    found = PsutilSource(lambda: conns, platform=platform).listeners()
    assert [(x.address, x.port, x.pid, x.v6only) for x in found] == [
        ("127.0.0.1", 3000, 10, None),
        ("::", 3000, 10, v6only),
        ("0.0.0.0", 135, None, None),
    ]
