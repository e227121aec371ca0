"""Containers behind docker-proxy, against a real dockerd started here (root only).

One daemon serves the module; the image is built once per data root. Ports published on
0.0.0.0 lead to a container port where nothing listens, so nothing is served to the network.
"""

from __future__ import annotations

import json
import os
import pwd
import select
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from tests.conftest import wait_for
from tests.kit.docker import Dockerd, free_port, require_docker, short_dir
from tray.containers import Containers
from tray.containers.sockets import Located
from tray.discover import open_engine

pytestmark = pytest.mark.root
WORKTREE = Path(__file__).resolve().parents[2]
USER = "porttray-test"


@pytest.fixture(scope="module")
def daemon() -> Iterator[Dockerd]:
    require_docker()
    root = short_dir("ptd")
    engine = Dockerd(root, root / "data")
    engine.start()
    try:
        engine.build()
        yield engine
    finally:
        engine.stop()
        subprocess.run(["rm", "-rf", str(root)], check=False)


@pytest.fixture(scope="module")
def shop(daemon: Dockerd) -> dict[str, int]:
    """A Compose-labelled container, and one with two published ports (one on 0.0.0.0)."""
    ports = {"web": free_port(), "two": free_port(), "wide": free_port()}
    labels = ["--label", "com.docker.compose.project=shop"]
    labels += ["--label", "com.docker.compose.service=web"]
    daemon.run("acme-web", *labels, "-p", f"127.0.0.1:{ports['web']}:80")
    daemon.run("two", "-p", f"127.0.0.1:{ports['two']}:80", "-p", f"0.0.0.0:{ports['wide']}:8080")
    assert wait_for(lambda: all(_listening(p) for p in ports.values()), 20)
    assert wait_for(lambda: _serves(ports["web"]), 20)
    return ports


def _serves(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def _listening(port: int) -> bool:
    engine = open_engine()
    try:
        return any(s.port == port for s in engine.scan().servers)
    finally:
        engine.close()


def _list_json(
    daemon: Dockerd,
    user: str | None = None,
    env: dict[str, str] | None = None,
    extra: tuple[str, ...] = (),
) -> tuple[dict[int, Any], str]:
    base = {"PATH": os.environ["PATH"], "DOCKER_HOST": daemon.host, "PYTHONDONTWRITEBYTECODE": "1"}
    base |= {"PYTHONPATH": str(WORKTREE), **(env or {})}
    command = [sys.executable, "-m", "tray", "list", "--json", *extra]
    if user is not None:
        if shutil.which("runuser") is None:
            pytest.skip("needs runuser")
        try:
            pwd.getpwnam(user)
        except KeyError:
            pytest.skip(f"needs the user {user} (scripts/test.sh creates it)")
        if not _runs_as(user):
            pytest.skip(f"{user} cannot run {sys.executable} (scripts/test.sh builds one it can)")
        command = [
            "runuser",
            "-u",
            user,
            "--",
            "env",
            f"HOME=/home/{user}",
            sys.executable,
            *command[1:],
        ]
    run = subprocess.run(command, capture_output=True, text=True, env=base, timeout=60, check=True)
    return {s["port"]: s for s in json.loads(run.stdout)}, run.stderr


def _runs_as(user: str) -> bool:
    """Whether `user` may run this interpreter (the suite's venv is built so that it can)."""
    check = [shutil.which("runuser") or "runuser", "-u", user, "--", sys.executable, "-c", "pass"]
    return subprocess.run(check, capture_output=True, timeout=60, check=False).returncode == 0


def test_a_compose_container_is_named_with_its_project(
    daemon: Dockerd, shop: dict[str, int], tmp_path: Path
) -> None:
    servers, _ = _list_json(daemon, env={"HOME": str(tmp_path)})
    web = servers[shop["web"]]
    assert web["process"] == "docker-proxy"
    assert web["container"]["name"] == "acme-web"
    assert (web["container"]["project"], web["container"]["service"]) == ("shop", "web")
    assert web["container"]["image"] == "porttray-test-httpd"
    assert web["container"]["port"] == 80
    assert web["project"] == "shop"
    assert web["title"] == "Acme Shop"  # probed through the proxy like any server
    table = subprocess.run(
        [sys.executable, "-m", "tray", "list", "--wide"],
        capture_output=True,
        text=True,
        env={**os.environ, "DOCKER_HOST": daemon.host, "HOME": str(tmp_path)},
        check=True,
    ).stdout
    row = next(line for line in table.splitlines() if line.startswith(str(shop["web"])))
    assert "acme-web (shop/web)" in row


def test_two_published_ports_one_of_them_exposed(
    daemon: Dockerd, shop: dict[str, int], tmp_path: Path
) -> None:
    servers, _ = _list_json(daemon, env={"HOME": str(tmp_path)})
    local, wide = servers[shop["two"]], servers[shop["wide"]]
    assert local["container"]["name"] == wide["container"]["name"] == "two"
    assert (local["exposed"], wide["exposed"]) == (False, True)
    assert (local["container"]["port"], wide["container"]["port"]) == (80, 8080)
    assert local["container"]["project"] is None and local["project"] is None


def test_a_stalled_engine_leaves_the_listener_as_it_is(
    daemon: Dockerd, shop: dict[str, int], caplog: pytest.LogCaptureFixture
) -> None:
    boxes = Containers(lambda: Located(str(daemon.sock), "test"))
    engine = open_engine()
    pid = daemon.pid
    assert pid is not None
    try:
        assert boxes.refresh()
        os.kill(pid, signal.SIGSTOP)  # the socket still accepts; nothing answers
        assert boxes.refresh() == ()
        assert any("did not answer" in r.getMessage() for r in caplog.records)
        (web,) = [s for s in boxes.attach(engine.scan().servers) if s.port == shop["web"]]
        assert web.name == "docker-proxy" and web.container is None
    finally:
        os.kill(pid, signal.SIGCONT)
        engine.close()
    names = {b.container.name for b in boxes.refresh()}
    assert "acme-web" in names
    assert any("answers again" in r.getMessage() for r in caplog.records)


def test_stop_stops_the_container(daemon: Dockerd) -> None:
    port = free_port()
    daemon.run("stopme", "-p", f"127.0.0.1:{port}:80")
    assert wait_for(lambda: _listening(port), 20)
    boxes = Containers(lambda: Located(str(daemon.sock), "test"))
    box = next(b.container for b in boxes.refresh() if b.port == port)
    assert boxes.stop(box) == "stopped"
    assert daemon.docker("inspect", "-f", "{{.State.Status}}", "stopme") == "exited"
    assert wait_for(lambda: not _listening(port), 10)
    assert all(b.port != port for b in boxes.refresh())


def test_engine_events_are_followed(daemon: Dockerd) -> None:
    boxes = Containers(lambda: Located(str(daemon.sock), "test"))
    try:
        boxes.start()
        assert wait_for(lambda: boxes.following and boxes.refreshes >= 2)
        settled = boxes.refreshes
        daemon.run("quiet")  # no published port: no listener changes, only an event tells
        assert wait_for(lambda: boxes.refreshes > settled, 10)
        assert boxes.following  # the same stream, still open
    finally:
        boxes.close()
        daemon.docker("rm", "-f", "quiet")


def test_watch_names_a_new_container_in_its_opened_line(daemon: Dockerd, tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "DOCKER_HOST": daemon.host, "HOME": str(tmp_path)}
    command = [sys.executable, "-m", "tray", "-v", "watch", "--json", "--interval", "0.2"]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout is not None and proc.stderr is not None
        assert _line_with(proc.stderr, b"watching with")
        daemon.run(
            "watched", "--label", "com.docker.compose.project=shop", "-p", f"127.0.0.1:{port}:80"
        )
        opened = _event(proc, port)
        assert opened["event"] == "opened"
        assert opened["server"]["container"]["name"] == "watched"
        assert opened["server"]["project"] == "shop"
        daemon.docker("rm", "-f", "watched")
        closed = _event(proc, port)
        assert closed["event"] == "closed" and closed["server"]["container"]["name"] == "watched"
    finally:
        proc.terminate()
        proc.communicate(timeout=15)  # drained: other servers' lines may fill the pipe meanwhile


def _line_with(stream: IO[bytes], text: bytes, timeout: float = 20) -> bytes | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([stream], [], [], deadline - time.monotonic())
        if ready:
            line = stream.readline()
            if not line or text in line:
                return line or None
    return None


def _event(proc: subprocess.Popen[bytes], port: int) -> Any:
    assert proc.stdout is not None
    line = _line_with(proc.stdout, f'"port": {port},'.encode())
    assert line is not None, "watch printed no event for the port in time"
    return json.loads(line)


def test_a_normal_user_without_access_is_told_once(
    daemon: Dockerd, shop: dict[str, int], tmp_path: Path
) -> None:
    os.chmod(daemon.sock, 0o660)
    hidden, _ = _list_json(daemon, user=USER)
    assert shop["web"] not in hidden  # unnamed, it is root's socket: hide_system hides it
    servers, stderr = _list_json(daemon, user=USER, extra=("--all",))
    web = servers[shop["web"]]
    assert web["container"] is None and web["process"] is None  # root's proxy: owner unknown
    assert web["user"] == "root"
    complaints = [line for line in stderr.splitlines() if "no permission" in line]
    assert len(complaints) == 1, stderr


def test_a_normal_user_with_access_sees_the_containers(
    daemon: Dockerd, shop: dict[str, int]
) -> None:
    os.chmod(daemon.sock, 0o666)
    try:
        servers, stderr = _list_json(daemon, user=USER)
    finally:
        os.chmod(daemon.sock, 0o660)
    web = servers[shop["web"]]
    assert web["process"] is None and web["pid"] is None
    assert web["container"]["name"] == "acme-web" and web["project"] == "shop"
    assert "container engine" not in stderr
