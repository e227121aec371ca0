"""`--userland-proxy=false`: the engine forwards published ports in the kernel, and dockerd itself
holds the port (to reserve it) — a system daemon that `hide_system` would hide, were it not for its
container. Then the engine goes away under a running monitor. Root only; a dockerd of its own.
(Ports with no listener at all — nerdctl, CNI — are tested with a stand-in engine.)"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import wait_for
from tests.kit.docker import Dockerd, free_port, require_docker, short_dir
from tray import menu
from tray.config import DEFAULT
from tray.containers import Containers
from tray.containers.sockets import Located
from tray.discover import open_engine
from tray.monitor import Hooks, Monitor
from tray.state import AppState

pytestmark = pytest.mark.root
WORKTREE = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def daemon() -> Iterator[Dockerd]:
    require_docker()
    root = short_dir("ptn")
    engine = Dockerd(root, root / "data", "--userland-proxy=false")
    engine.start()
    try:
        engine.build()
        yield engine
    finally:
        engine.stop()
        subprocess.run(["rm", "-rf", str(root)], check=False)


@pytest.fixture(scope="module")
def nat_port(daemon: Dockerd) -> int:
    port = free_port()
    daemon.run("nat", "-p", f"127.0.0.1:{port}:80")
    return port


def test_a_port_held_by_dockerd_names_its_container(
    daemon: Dockerd, nat_port: int, tmp_path: Path
) -> None:
    env = {**os.environ, "DOCKER_HOST": daemon.host, "HOME": str(tmp_path)}
    env["PYTHONPATH"] = str(WORKTREE)
    listed = subprocess.run(
        [sys.executable, "-m", "tray", "list", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    ).stdout
    (nat,) = [s for s in json.loads(listed) if s["port"] == nat_port]
    assert nat["process"] == "dockerd" and nat["pid"] == daemon.pid
    assert nat["container"]["name"] == "nat" and nat["container"]["port"] == 80
    assert nat["url"] == f"http://127.0.0.1:{nat_port}" and nat["exposed"] is False


def test_the_engine_stopping_mid_run(
    daemon: Dockerd, nat_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    """The monitor shows the container's port, then the engine stops: the port closes, the
    problem is logged once, and the monitor keeps polling. (Runs last: it ends the daemon.)"""
    states: list[AppState] = []
    boxes = Containers(lambda: Located(str(daemon.sock), "test"))
    hooks = Hooks(on_state=states.append, on_notes=lambda servers: None)
    monitor = Monitor(open_engine(), hooks, config=DEFAULT, interval=0.05, containers=boxes)

    def shown() -> bool:
        return bool(states) and states[-1].find((nat_port, daemon.pid)) is not None

    try:
        monitor.start()
        assert wait_for(shown, 10)
        entry = states[-1].find((nat_port, daemon.pid))
        assert entry is not None and entry.server.container is not None
        assert entry.server.container.name == "nat"
        (item,) = [
            i for i in menu.build(states[-1], user="root") if i.label.startswith(f":{nat_port} ")
        ]
        assert item.label == f":{nat_port}  nat"
        (stop,) = [i for i in item.children if i.label == "Stop server"]
        assert stop.children[0].label == "Yes, stop container nat"
        with caplog.at_level(logging.WARNING, logger="tray"):
            daemon.stop()
            assert wait_for(lambda: not any(e.server.port == nat_port for e in states[-1].entries))
            assert any(g.server.port == nat_port for g in states[-1].recent)
            count = len(states)
            assert wait_for(lambda: len(states) > count or monitor.state is states[-1], 2)
        complaints = [r for r in caplog.records if "no container engine" in r.getMessage()]
        assert len(complaints) == 1, [r.getMessage() for r in caplog.records]
    finally:
        monitor.stop()
