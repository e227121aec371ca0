"""Manners with other people's servers, as a normal user meets them: listed, never probed.

The other user's servers here are real (a plain listener, a real redis). Whether porttray connects
to them is read from Python's audit events for every `socket.connect` porttray's threads make, not
from the servers' own logs: on a shared machine other programs may connect to any new listener.
These run as the suite's unprivileged user (and as root too: another uid's socket is not root's).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import wait_for
from tests.helpers.servers import free_port
from tests.helpers.users import OtherUser, is_root
from tray import rules, users
from tray.config import DEFAULT, Config, parse
from tray.discover import open_engine
from tray.identify_many import identify_all
from tray.model import Server

PORTTRAY = [sys.executable, "-m", "tray"]
_connects: list[list[int]] = []


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _connects and event == "socket.connect":
        address = args[1]
        if isinstance(address, tuple) and len(address) >= 2:
            for seen in _connects:
                seen.append(address[1])


sys.addaudithook(_audit)


@contextlib.contextmanager
def connected_ports() -> Iterator[list[int]]:
    """The ports this process connects to, from any thread, while the block runs."""
    seen: list[int] = []
    _connects.append(seen)
    try:
        yield seen
    finally:
        _connects.remove(seen)


def porttray(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PORTTRAY, *args], capture_output=True, text=True, timeout=60, check=False
    )


def listed(port: int, settings: Config = DEFAULT) -> tuple[Server, bool]:
    """The server on `port` as `porttray list --all` finds and probes it; whether it is shown."""
    engine = open_engine()
    try:
        (server,) = [s for s in engine.scan().servers if s.port == port]
    finally:
        engine.close()
    (server,) = identify_all((server,), settings)
    return server, rules.shown(settings, server, users.real_user(), users.real_uid())


def test_another_users_listener_is_listed_as_theirs_hidden_and_never_probed(
    other_user: OtherUser,
) -> None:
    with other_user.listener() as (_proc, port), connected_ports() as ports:
        server, shown = listed(port)
        done = porttray("list", "--json", "--all")
    assert port not in ports
    assert server.uid is not None and server.uid != users.real_uid()
    assert server.owner == other_user.name and not shown  # hide_system hides other uids
    assert server.identity.protocol == "other" and server.identity.title is None
    (obj,) = [o for o in json.loads(done.stdout) if o["port"] == port]
    assert (obj["user"], obj["uid"], obj["protocol"]) == (other_user.name, server.uid, "other")


def test_probe_others_lets_porttray_ask_another_users_server(other_user: OtherUser) -> None:
    with other_user.listener() as (_proc, port), connected_ports() as ports:
        listed(port, parse("probe_others = true\nhide_system = false"))
    assert port in ports


def _redis(port: int) -> list[str]:
    redis = shutil.which("redis-server")
    if redis is None:
        pytest.skip("needs redis-server (scripts/setup.sh --test installs it)")
    return [redis, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", "/tmp"]


def test_a_real_redis_of_another_user_is_listed_but_not_sent_a_byte(
    other_user: OtherUser,
) -> None:
    port = free_port()
    proc = other_user.start(_redis(port))
    try:
        wait_for(lambda: _answers_ping(port), 20)
        with connected_ports() as ports:
            server, shown = listed(port, parse("hide_system = false"))
    finally:
        proc.stop()
    assert port not in ports
    assert server.identity.protocol == "other" and shown and server.owner == other_user.name
    if is_root():
        assert server.identity.kind == "redis"
    else:
        assert server.pid is None  # a normal user cannot see the process, only its uid


def test_my_own_redis_on_any_port_is_never_probed() -> None:
    port = free_port()
    proc = subprocess.Popen(
        _redis(port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/tmp"
    )
    try:
        wait_for(lambda: _answers_ping(port), 20)
        with connected_ports() as ports:
            server, shown = listed(port, parse("probe_others = true"))
    finally:
        proc.terminate()
        proc.wait(10)
    assert port not in ports
    assert (server.identity.kind, server.identity.protocol, shown) == ("redis", "other", True)


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False
