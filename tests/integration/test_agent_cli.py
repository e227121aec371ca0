"""`porttray wait`, `who` and `free` as a script or an agent runs them: separate processes,
real listeners."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers.servers import child_listening, free_port, http_server, listener
from tests.helpers.users import OtherUser, is_root

PORTTRAY = [sys.executable, "-m", "tray"]


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PORTTRAY, *args], capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.mark.parametrize(
    "args",
    [
        ["wait", "http"],
        ["wait", "70000"],
        ["wait", "http://example.com:80"],
        ["wait", "http://10.0.0.1:80"],
        ["wait", "80", "--timeout", "soon"],
        ["who", "port"],
        ["who", "0"],
        ["free", "--from", "65536"],
        ["free", "-n", "0"],
    ],
)
def test_usage_errors_exit_2_with_one_line(args: list[str]) -> None:
    done = run(*args)
    assert done.returncode == 2, done
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("porttray: ")


def test_wait_returns_once_a_server_listens() -> None:
    port = free_port()
    waiting = subprocess.Popen(
        [*PORTTRAY, "wait", str(port), "--timeout", "30"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(0.5)  # let it poll a few times with nothing there (the point of the test)
        assert waiting.poll() is None, "wait returned before anything listened"
        with child_listening(["::1"], port) as child:
            out, _err = waiting.communicate(timeout=30)
    finally:
        if waiting.poll() is None:
            waiting.kill()
        waiting.communicate()
    assert waiting.returncode == 0
    assert f"pid {child.pid}" in out


def test_wait_times_out_with_exit_1() -> None:
    port = free_port()
    done = run("wait", f"http://127.0.0.1:{port}", "--timeout", "0.5")
    assert done.returncode == 1
    assert str(port) in done.stderr


def test_wait_for_an_address_ignores_the_other_family() -> None:
    with listener("::1") as sock:
        port = sock.getsockname()[1]
        assert run("wait", f"http://127.0.0.1:{port}", "--timeout", "0.3").returncode == 1
        assert run("wait", f"http://[::1]:{port}", "--timeout", "5").returncode == 0


def test_wait_http_waits_for_an_answer_not_just_a_socket(tmp_path: Path) -> None:
    with listener("127.0.0.1") as sock:  # listens, never answers
        port = sock.getsockname()[1]
        assert run("wait", str(port), "--timeout", "5").returncode == 0
        assert run("wait", str(port), "--http", "--timeout", "1").returncode == 1
    with http_server(tmp_path) as (_proc, port):
        done = run("wait", f"localhost:{port}", "--http", "--timeout", "10")
    assert done.returncode == 0, done.stderr
    assert "answering HTTP" in done.stdout


def test_who_names_the_process_user_project_and_start(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text('{"name": "who-test"}')
    with http_server(tmp_path) as (proc, port):
        text = run("who", str(port))
        as_json = run("who", str(port), "--json")
    assert text.returncode == 0 and as_json.returncode == 0
    assert f"pid {proc.pid}" in text.stdout and "project who-test" in text.stdout
    assert "since " in text.stdout and "user " in text.stdout
    (obj,) = json.loads(as_json.stdout)
    assert obj["pid"] == proc.pid and obj["project"] == "who-test"
    assert obj["kind"] == "http.server" and obj["started"] and obj["user"]


def test_who_exits_1_when_nothing_listens() -> None:
    port = free_port()
    assert run("who", str(port)).returncode == 1
    done = run("who", str(port), "--json")
    assert done.returncode == 1 and json.loads(done.stdout) == []


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "0.0.0.0", "::"])
def test_free_skips_a_port_held_on_any_address(address: str) -> None:
    with listener(address) as sock:
        port = sock.getsockname()[1]
        done = run("free", "--from", str(port), "-n", "3", "--json")
    assert done.returncode == 0, done.stderr
    ports = json.loads(done.stdout)
    assert len(ports) == 3 and port not in ports and all(p > port for p in ports)


def test_free_exits_1_when_the_range_runs_out() -> None:
    done = run("free", "--from", "65535", "-n", "5")
    assert done.returncode == 1 and "only" in done.stderr


def test_who_reports_another_users_server(other_user: OtherUser) -> None:
    with other_user.listener() as (proc, port):
        done = run("who", str(port), "--json")
    assert done.returncode == 0, done.stderr
    (obj,) = json.loads(done.stdout)
    if is_root():
        assert obj["pid"] == proc.pid and obj["user"] == other_user.name
    else:  # a normal user cannot see the process; the socket's uid still names its owner
        assert obj["pid"] is None and obj["user"] == other_user.name


def test_list_and_who_json_say_which_servers_are_orphaned() -> None:
    from tests.helpers.orphan import orphan_server

    with orphan_server() as (port, pid), child_listening(["127.0.0.1"]) as child:
        listed = {o["port"]: o for o in json.loads(run("list", "--json").stdout)}
        (who,) = json.loads(run("who", str(port), "--json").stdout)
    assert listed[port]["pid"] == pid and listed[port]["orphaned"] is True
    assert listed[child.port]["orphaned"] is False
    assert who["orphaned"] is True
