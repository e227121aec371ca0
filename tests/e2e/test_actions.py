"""Menu actions on the real tray: Hide this port, Stop server (and Force stop), Start at login,
Pause notifications — each clicked through dbusmenu as a desktop's tray host would."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.conftest import wait_for
from tests.helpers.servers import http_server
from tests.kit.desktop import Desktop
from tests.kit.tray_driver import Tray, mentions, running_tray

pytestmark = pytest.mark.e2e

STUBBORN = """
import signal, socket, sys
signal.signal(signal.SIGTERM, signal.SIG_IGN)
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
print(s.getsockname()[1], flush=True)
sys.stdin.read()
"""


@pytest.fixture
def tray(desktop: Desktop) -> Iterator[Tray]:
    with running_tray(desktop) as running:
        yield running


def settings(desktop: Desktop) -> Path:
    return Path(desktop.env["XDG_CONFIG_HOME"]) / "porttray" / "config.toml"


def test_hide_this_port_writes_an_ignore_rule_and_keeps_the_users_text(
    tray: Tray, tmp_path: Path
) -> None:
    path = settings(tray.desktop)
    path.parent.mkdir(parents=True, exist_ok=True)
    original = '# my settings\naddress = "127.0.0.1"  # keep this\n'
    if not path.exists():
        path.write_text(original)
    before = path.read_text()
    with http_server(tmp_path) as (_, port):
        tray.wait_for_label(f":{port} ")
        tray.click(port, f"Hide port {port}")
        tray.wait_for_label(f":{port} ", timeout=5, present=False)
        text = path.read_text()
        assert text.startswith(before)
        assert f"port = {port}" in text
        assert 'on_open = "ignore"' in text


def test_stop_server_asks_first_then_stops_the_process(tray: Tray, tmp_path: Path) -> None:
    with http_server(tmp_path) as (server, port):
        tray.wait_for_label(f":{port} ")
        stop = tray.find(port, "Stop server")
        assert stop is not None
        assert [c.text for c in stop.children] == [
            f"Yes, stop {stop_name(server.pid)} (pid {server.pid})"
        ]
        assert server.poll() is None  # opening the submenu does nothing
        tray.click(port, "Stop server", "Yes, stop")
        assert server.wait(5) == -signal.SIGTERM
        tray.wait_for_label(f":{port} ", timeout=3, present=False)


def stop_name(pid: int) -> str:
    return psutil.Process(pid).name()


def test_force_stop_is_offered_when_sigterm_is_ignored(tray: Tray) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", STUBBORN], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        tray.wait_for_label(f":{port} ")
        tray.click(port, "Stop server", "Yes, stop")
        tray.desktop.tray.wait_for(
            lambda root: tray.find(port, "Force stop") is not None, 10, tray.item
        )
        assert proc.poll() is None
        tray.click(port, "Force stop")
        assert proc.wait(5) == -signal.SIGKILL
        tray.wait_for_label(f":{port} ", timeout=3, present=False)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(5)
        for stream in (proc.stdin, proc.stdout):
            if stream:
                stream.close()


def test_start_at_login_toggle_writes_and_removes_the_autostart_entry(tray: Tray) -> None:
    entry = Path(tray.desktop.env["XDG_CONFIG_HOME"]) / "autostart" / "porttray.desktop"
    assert not entry.exists()
    assert not tray.toggled("Start at login")
    tray.click("Start at login")
    assert wait_for(entry.exists, 5)
    assert "Exec=" in entry.read_text()
    tray.desktop.tray.wait_for(lambda root: tray.toggled("Start at login"), 5, tray.item)
    tray.click("Start at login")
    assert wait_for(lambda: not entry.exists(), 5)
    tray.desktop.tray.wait_for(lambda root: not tray.toggled("Start at login"), 5, tray.item)


def test_pause_silences_new_server_notifications(tray: Tray, tmp_path: Path) -> None:
    notes = tray.desktop.notifications
    tray.click("Pause notifications")
    tray.desktop.tray.wait_for(lambda root: tray.toggled("Pause notifications"), 5, tray.item)
    mark = notes.count()
    with http_server(tmp_path) as (_, port):
        tray.wait_for_label(f":{port} ")
        assert not wait_for(lambda: any(mentions(n, port) for n in notes.notifications()[mark:]), 3)
    tray.click("Pause notifications")
    tray.desktop.tray.wait_for(lambda root: not tray.toggled("Pause notifications"), 5, tray.item)


def test_orphaned_servers_are_marked_and_stopped_after_one_question(tray: Tray) -> None:
    from tests.helpers.orphan import orphan_server

    with orphan_server() as (port, pid), orphan_server() as (port2, pid2):
        tray.wait_for_label(f":{port} ")
        tray.wait_for_label("Stop orphaned servers (2)")
        assert tray.server_entry(port).text.endswith("(orphaned)")
        assert tray.server_entry(port2).text.endswith("(orphaned)")
        stop = tray.find("Stop orphaned servers")
        assert stop is not None and [c.text for c in stop.children] == [
            "Yes, stop 2 orphaned servers"
        ]
        assert psutil.pid_exists(pid) and psutil.pid_exists(pid2)  # opening it does nothing
        tray.click("Stop orphaned servers", "Yes, stop")
        tray.wait_for_label(f":{port} ", timeout=5, present=False)
        tray.wait_for_label(f":{port2} ", timeout=5, present=False)
        tray.wait_for_label("Stop orphaned servers", timeout=5, present=False)
