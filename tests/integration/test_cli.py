"""`porttray list` and `porttray watch` run as a user runs them: as a separate process."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.helpers.servers import child_listening, http_server, listener

PORTTRAY = [sys.executable, "-m", "tray"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PORTTRAY, *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_version_and_help() -> None:
    from tray import __version__

    assert run("--version").stdout.strip() == f"porttray {__version__}"
    helped = run("--help")
    assert helped.returncode == 0 and "list" in helped.stdout and "watch" in helped.stdout


@pytest.mark.parametrize("args", [["lst"], ["watch", "--interval", "soon"], ["list", "--bogus"]])
def test_usage_errors_are_one_line_and_exit_2(args: list[str]) -> None:
    done = run(*args)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("porttray: ")


def test_list_json_describes_a_real_http_server(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<title>Acme &amp; Co  shop</title>")
    (tmp_path / "package.json").write_text('{"name": "acme-web"}')
    with http_server(tmp_path) as (proc, port):
        done = run("list", "--json")
    assert done.returncode == 0, done.stderr
    (obj,) = [o for o in json.loads(done.stdout) if o["port"] == port]
    assert obj["url"] == f"http://127.0.0.1:{port}"
    assert obj["addresses"] == ["127.0.0.1"] and obj["exposed"] is False
    assert obj["pid"] == proc.pid and obj["process"].startswith("python")
    assert obj["cmdline"][1:4] == ["-m", "http.server", str(port)]
    assert obj["cwd"] == str(tmp_path) and obj["user"]
    assert obj["protocol"] == "http"
    assert obj["title"] == "Acme & Co shop"
    assert obj["http_status"] == 200 and obj["server_header"].startswith("SimpleHTTP/")
    assert obj["project"] == "acme-web"
    assert obj["kind"] == "http.server"
    assert obj["label"] is None
    assert obj["started"][:4].isdigit() and "T" in obj["started"]


def test_list_all_adds_non_loopback_and_table_marks_exposed() -> None:
    with listener("192.0.2.1") as other, listener("0.0.0.0") as wild:
        other_port, wild_port = other.getsockname()[1], wild.getsockname()[1]
        plain = {o["port"] for o in json.loads(run("list", "--json").stdout)}
        every = {o["port"] for o in json.loads(run("list", "--json", "--all").stdout)}
        text = run("list").stdout
    assert wild_port in plain and other_port not in plain
    assert {wild_port, other_port} <= every
    (row,) = [line for line in text.splitlines() if line.startswith(f"{wild_port} ")]
    assert "⚠" in row and f"http://127.0.0.1:{wild_port}" in row  # "⚠ exposed" where it fits


@contextmanager
def watching(*args: str) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [*PORTTRAY, "-v", "watch", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        wait_started(proc)
        yield proc
    finally:
        _PENDING.pop(proc.pid, None)
        if proc.poll() is None:
            proc.kill()
        proc.wait(5)
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()


_PENDING: dict[int, list[str]] = {}


def read_line(proc: subprocess.Popen[str], port: int, timeout: float = 5.0) -> str:
    """The next line watch prints about `port` (other programs on the machine open ports too).
    Read raw from the pipe: a buffered readline could keep a line from select's sight."""
    assert proc.stdout is not None
    fd, pending = proc.stdout.fileno(), _PENDING.setdefault(proc.pid, [""])
    deadline = time.monotonic() + timeout
    while True:
        *lines, pending[0] = pending[0].split("\n")
        for index, line in enumerate(lines):
            if f" {port} " in line or f'"port": {port},' in line:
                pending[0] = "\n".join([*lines[index + 1 :], pending[0]])
                return line + "\n"
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        assert ready, f"watch printed nothing about port {port} in time"
        pending[0] += os.read(fd, 65536).decode()


def wait_started(proc: subprocess.Popen[str]) -> None:
    """watch logs its start at -v; that line means the baseline is taken."""
    assert proc.stderr is not None
    fd, seen = proc.stderr.fileno(), b""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and b"watching with" not in seen:
        # raw reads: a buffered readline could leave the line wanted in its buffer, unseen by select
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        chunk = os.read(fd, 65536) if ready else b""
        if ready and not chunk:
            break  # watch exited
        seen += chunk
    if b"watching with" not in seen:
        raise AssertionError(f"watch did not start: {seen!r}")


def test_watch_json_reports_open_and_close_but_not_what_was_there() -> None:
    with listener("127.0.0.1") as before, watching("--json", "--interval", "0.1") as proc:
        with child_listening(["127.0.0.1", "::1"]) as child:
            opened = json.loads(read_line(proc, child.port))
        closed = json.loads(read_line(proc, child.port))
        assert opened["event"] == "opened" and closed["event"] == "closed"
        for event in (opened, closed):
            assert event["server"]["port"] == child.port
            assert event["server"]["pid"] == child.pid
            assert event["server"]["addresses"] == ["127.0.0.1", "::1"]
            assert "T" in event["at"]
        assert before.getsockname()[1] != child.port
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(5) == 0
        assert proc.stdout is not None
        assert str(child.port) not in _PENDING.pop(proc.pid)[0] + proc.stdout.read()


def test_watch_text_lines_and_ctrl_c_exits_0() -> None:
    with watching("--interval", "0.1") as proc:
        with listener("127.0.0.1") as sock:
            port = sock.getsockname()[1]
            line = read_line(proc, port)
        assert "opened" in line and str(port) in line and str(os.getpid()) in line
        assert "closed" in read_line(proc, port)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(5) == 0


SLOW_SERVER = """
import socket, sys, threading, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
print(s.getsockname()[1], flush=True)
def answer(c):
    c.recv(4096); time.sleep(float(sys.argv[1]))  # compiling the first page
    c.sendall(b"HTTP/1.1 200 OK\\r\\nContent-Length: 27\\r\\n\\r\\n<title>Compiled</title>    ")
    c.close()
while True:
    threading.Thread(target=answer, args=(s.accept()[0],), daemon=True).start()
"""


@contextmanager
def slow_server(delay: float) -> Iterator[int]:
    proc = subprocess.Popen(
        [sys.executable, "-c", SLOW_SERVER, str(delay)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        yield int(proc.stdout.readline())
    finally:
        proc.kill()
        proc.wait(5)
        assert proc.stdout is not None
        proc.stdout.close()


def test_list_says_starting_for_a_silent_server_and_wait_names_it() -> None:
    with slow_server(2.5) as port:
        quick = run("list")
        waited = run("list", "--json", "--wait", "6")
    (row,) = [line for line in quick.stdout.splitlines() if line.startswith(f"{port} ")]
    assert "starting" in row
    (obj,) = [o for o in json.loads(waited.stdout) if o["port"] == port]
    assert (obj["protocol"], obj["title"]) == ("http", "Compiled")


def test_list_fits_columns_and_a_closed_pipe_is_no_error(tmp_path: Path) -> None:
    deep = tmp_path / ("a-rather-long-folder-name-" * 6)
    deep.mkdir()
    with http_server(deep) as (_proc, port):
        narrow = subprocess.run(
            [*PORTTRAY, "list"], capture_output=True, text=True, timeout=60, check=False,
            env={**os.environ, "COLUMNS": "80"},
        )  # fmt: skip
        wide = run("list", "--wide")
        head = subprocess.run(
            f"{sys.executable} -m tray list --json | head -1",
            shell=True, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    (row,) = [line for line in narrow.stdout.splitlines() if line.startswith(f"{port} ")]
    assert len(row) <= 80 and "…" in row
    (full,) = [line for line in wide.stdout.splitlines() if line.startswith(f"{port} ")]
    assert str(deep) in full
    assert head.stdout == "[\n" and head.stderr == ""
