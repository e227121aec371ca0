"""`Containers` against a stand-in engine on a real unix socket: the answers a real engine gives
rarely (garbage, huge bodies, unknown versions, silence, vanished containers) and its events."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import wait_for
from tests.helpers.fake_engine import FakeEngine, SilentEngine, container
from tray.containers import Containers, EngineError
from tray.containers.client import RESPONSE_LIMIT
from tray.containers.sockets import Located
from tray.model import Container, ProcessInfo, Server

PROXY = Server(18080, ("127.0.0.1",), 77, process=ProcessInfo(77, "docker-proxy"))


@pytest.fixture
def sock(tmp_path: Path) -> Path:
    return tmp_path / "engine.sock"


@pytest.fixture
def engine(sock: Path) -> Iterator[FakeEngine]:
    fake = FakeEngine(sock)
    yield fake
    fake.close()


def at(path: Path) -> Containers:
    return Containers(lambda: Located(str(path), "test"))


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_container_is_attached_to_its_proxy(engine: FakeEngine, sock: Path) -> None:
    engine.routes["/containers/json"] = lambda: (
        200,
        b"[%s]" % _dump(container("c1", "web", 18080)),
    )
    boxes = at(sock)
    assert len(boxes.refresh()) == 1
    (server,) = boxes.attach((PROXY,))
    assert server.container is not None and server.container.name == "web"
    assert server.name == "docker-proxy"  # the process is still what it is
    servers = (PROXY,)
    assert boxes.attach(servers) is boxes.attach(servers)  # unchanged polls cost nothing


@pytest.mark.parametrize(
    ("answer", "complaint"),
    [
        ((200, b"{not json"), "not JSON"),
        ((200, b'{"an": "object"}'), "expected a list"),
        ((500, b'{"message": "boom"}'), "answered 500"),
        ((200, b"[" + b" " * (RESPONSE_LIMIT + 10) + b"]"), "too large"),
    ],
)
def test_bad_answers_keep_the_listener_and_are_logged_once(
    engine: FakeEngine,
    sock: Path,
    caplog: pytest.LogCaptureFixture,
    answer: tuple[int, bytes],
    complaint: str,
) -> None:
    engine.routes["/containers/json"] = lambda: answer
    boxes = at(sock)
    for _ in range(3):
        assert boxes.refresh() == ()
    assert boxes.attach((PROXY,)) == (PROXY,)
    logged = [m for m in warnings(caplog) if complaint in m]
    assert len(logged) == 1, warnings(caplog)


@pytest.mark.parametrize("version", ["banana", "1.12", ""])
def test_unknown_api_versions(sock: Path, caplog: pytest.LogCaptureFixture, version: str) -> None:
    fake = FakeEngine(sock, version=version)
    try:
        boxes = at(sock)
        assert boxes.refresh() == () and boxes.refresh() == ()
        assert len([m for m in warnings(caplog) if "API" in m]) == 1
        assert "GET /containers/json" not in fake.requests  # nothing asked in a guessed dialect
    finally:
        fake.close()


def test_a_newer_engine_is_spoken_to_in_our_version(sock: Path) -> None:
    fake = FakeEngine(sock, version="1.52")
    try:
        at(sock).refresh()
        assert fake.requests == ["GET /_ping", "GET /containers/json"]
    finally:
        fake.close()


def test_malformed_entries_are_skipped(engine: FakeEngine, sock: Path) -> None:
    good = _dump(container("c1", "web", 18080))
    engine.routes["/containers/json"] = lambda: (200, b'["junk", {"Id": 3}, %s]' % good)
    assert [b.container.name for b in at(sock).refresh()] == ["web"]


def test_a_silent_engine_never_holds_up_the_poll(
    sock: Path, caplog: pytest.LogCaptureFixture
) -> None:
    silent = SilentEngine(sock)
    boxes = at(sock)
    try:
        boxes.start()
        assert boxes.attach((PROXY,)) == (PROXY,)  # returns while the engine is being asked
        assert wait_for(lambda: any("did not answer" in m for m in warnings(caplog)), 10)
        assert boxes.attach((PROXY,)) == (PROXY,)
    finally:
        boxes.close()
        silent.close()


def test_no_engine_at_all(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    boxes = at(tmp_path / "none.sock")
    assert boxes.refresh() == () and boxes.refresh() == ()
    assert len([m for m in warnings(caplog) if "no container engine" in m]) == 1
    before = len(warnings(caplog))
    nothing = Containers(lambda: Located(None, "default"))
    assert nothing.refresh() == ()
    assert len(warnings(caplog)) == before  # no socket anywhere: nothing to say


def test_events_refresh_without_a_listener_change(engine: FakeEngine, sock: Path) -> None:
    running: list[bytes] = []
    engine.routes["/containers/json"] = lambda: (200, b"[%s]" % b",".join(running))
    boxes = at(sock)
    try:
        boxes.start()
        assert wait_for(lambda: engine.followers == 1 and boxes.following)
        servers: tuple[Server, ...] = ()
        assert boxes.attach(servers) == ()
        running.append(_dump(container("c2", "nat", 18090, "0.0.0.0")))
        engine.emit({"Type": "container", "Action": "start", "id": "c2"})
        assert wait_for(lambda: len(boxes.attach(servers)) == 1)
        (nat,) = boxes.attach(servers)
        assert nat.pid is None and nat.process is None and nat.exposed
        assert nat.container is not None and nat.container.name == "nat"
    finally:
        boxes.close()


def test_stopping_a_vanished_container(engine: FakeEngine, sock: Path) -> None:
    with pytest.raises(EngineError, match="no longer exists"):
        at(sock).stop(Container("gone", "gone"))
    engine.routes["/containers/ok/stop"] = lambda: (204, b"")
    assert at(sock).stop(Container("ok", "ok")) == "stopped"
    assert "POST /containers/ok/stop" in engine.requests


def _dump(value: object) -> bytes:
    return json.dumps(value).encode()


def test_list_shows_a_published_port_nothing_listens_on(
    engine: FakeEngine, sock: Path, tmp_path: Path
) -> None:
    """nerdctl/CNI style: the kernel forwards the port, so only the engine knows of it."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    listed = b"[%s]" % _dump(container("c3", "cni-web", port, "0.0.0.0"))
    engine.routes["/containers/json"] = lambda: (200, listed)
    env = {**os.environ, "DOCKER_HOST": f"unix://{sock}", "HOME": str(tmp_path)}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    run = subprocess.run(
        [sys.executable, "-m", "tray", "list", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    (nat,) = [s for s in json.loads(run.stdout) if s["port"] == port]
    assert nat["pid"] is None and nat["process"] is None
    assert nat["container"]["name"] == "cni-web" and nat["exposed"] is True
    assert nat["url"] == f"http://127.0.0.1:{port}"
    assert "container engine" not in run.stderr
