"""Faults on the real desktop stack: each gets a clear message, loses nothing, and porttray keeps
running (or, when no tray can be shown at all, says why and exits non-zero)."""

from __future__ import annotations

import ipaddress
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.conftest import wait_for
from tests.helpers.servers import http_server, listener
from tests.kit.desktop import Desktop
from tests.kit.tray_driver import end, mentions, running_tray, start

pytestmark = pytest.mark.e2e


def test_notification_daemon_killed_and_restarted_mid_run(desktop: Desktop, tmp_path: Path) -> None:
    notes = desktop.notifications
    with running_tray(desktop) as tray:
        notes.stop()
        try:
            with http_server(tmp_path) as (_, port):
                tray.wait_for_label(f":{port} ")  # the menu keeps working
        finally:
            notes.start()
        mark = notes.count()
        with http_server(tmp_path) as (_, port):
            notes.wait_for(lambda n: mentions(n, port), timeout=15, since=mark)


def test_no_notification_daemon_at_start_then_quit_within_2_s(
    desktop: Desktop, tmp_path: Path
) -> None:
    notes = desktop.notifications
    notes.stop()
    try:
        proc = start(desktop)
        item = desktop.tray.wait_for_item(timeout=15, pid=proc.pid)
        root = desktop.tray.wait_for(lambda r: "Quit porttray" in r.labels(), 10, item)
        with http_server(tmp_path) as (_, port):
            desktop.tray.wait_for(
                lambda r: any(c.text.startswith(f":{port} ") for c in r.children), 10, item
            )
        root = desktop.tray.layout(item)
        quit_item = root.find(lambda n: n.text == "Quit porttray")
        assert quit_item is not None
        desktop.tray.click(quit_item.id, item)
        assert proc.wait(2) == 0
        _, log = end(proc)
        assert "Traceback" not in log, log
    finally:
        notes.start()


def test_tray_host_restarted_the_icon_comes_back(desktop: Desktop, tmp_path: Path) -> None:
    with running_tray(desktop) as tray:
        desktop.tray.stop()
        desktop.tray.start()
        tray.item = desktop.tray.wait_for_item(timeout=15, pid=tray.proc.pid)
        with http_server(tmp_path) as (_, port):
            tray.wait_for_label(f":{port} ")


def test_browser_command_failing_is_reported_and_the_tray_goes_on(
    desktop: Desktop, tmp_path: Path
) -> None:
    # No other browser on PATH either: webbrowser would otherwise fall back to one it finds.
    empty = tmp_path / "no-browsers"
    empty.mkdir()
    env = {**desktop.env, "BROWSER": "/bin/false", "PATH": str(empty)}
    notes = desktop.notifications
    with running_tray(desktop, env=env) as tray, http_server(tmp_path) as (_, port):
        tray.wait_for_label(f":{port} ")
        mark = notes.count()
        tray.click(port, "Open in browser")
        note = notes.wait_for(lambda n: "Could not open" in n.body, timeout=10, since=mark)
        assert f"127.0.0.1:{port}" in note.body
        tray.click(port, "Copy address")
        assert wait_for(lambda: desktop.clipboard_text() == f"http://127.0.0.1:{port}", 5)


def test_clipboard_taken_by_another_program_then_copied_again(
    desktop: Desktop, tmp_path: Path
) -> None:
    with running_tray(desktop) as tray, http_server(tmp_path) as (_, port):
        tray.wait_for_label(f":{port} ")
        tray.click(port, "Copy address")
        assert wait_for(lambda: desktop.clipboard_text() == f"http://127.0.0.1:{port}", 5)
        _take_clipboard(desktop)
        tray.click(port, "Copy localhost URL")
        assert wait_for(lambda: desktop.clipboard_text() == f"http://localhost:{port}", 5)


def _take_clipboard(desktop: Desktop) -> None:
    """Another program owns the clipboard (porttray loses ownership)."""
    taker = subprocess.Popen(
        ["xclip", "-i", "-selection", "clipboard", "-loops", "1"],
        stdin=subprocess.PIPE,
        env=desktop.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    assert taker.stdin is not None
    taker.stdin.write(b"someone else")
    taker.stdin.close()
    assert wait_for(lambda: desktop.clipboard_text() == "someone else", 5)
    taker.wait(5)  # -loops 1: it serves the one read above, then exits


def test_settings_replaced_by_garbage_while_running(desktop: Desktop, tmp_path: Path) -> None:
    path = Path(desktop.env["XDG_CONFIG_HOME"]) / "porttray" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    saved = path.read_text() if path.exists() else None
    notes = desktop.notifications
    try:
        with running_tray(desktop) as tray:
            mark = notes.count()
            path.write_text("\x00\x01 this is { not toml\n")
            note = notes.wait_for(
                lambda n: "settings not applied" in n.body, timeout=10, since=mark
            )
            assert "config.toml" in note.body
            assert not wait_for(
                lambda: len([n for n in notes.notifications()[mark:] if "settings" in n.body]) > 1,
                2.5,
            )
            with http_server(tmp_path) as (_, port):
                tray.wait_for_label(f":{port} ")
    finally:
        if saved is None:
            path.unlink(missing_ok=True)
        else:
            path.write_text(saved)


def start_without_tray(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Start porttray where it cannot show a tray; it must return by itself."""
    return subprocess.run(
        [sys.executable, "-m", "tray"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def no_tray_env(desktop: Desktop, **changes: str | None) -> dict[str, str]:
    env = dict(desktop.env)
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"DISPLAY": None}, "no graphical session"),
        ({"DBUS_SESSION_BUS_ADDRESS": None}, "no D-Bus session bus"),
    ],
)
def test_no_tray_possible_says_why_and_exits_non_zero(
    desktop: Desktop, tmp_path: Path, changes: dict[str, str | None], message: str
) -> None:
    done = start_without_tray(no_tray_env(desktop, XDG_RUNTIME_DIR=str(tmp_path), **changes))
    assert done.returncode == 3
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def hide_gi(tmp_path: Path, env: dict[str, str]) -> dict[str, str]:
    """`env` with PyGObject made unimportable (a shadowing `gi` that raises ImportError)."""
    shadow = tmp_path / "shadow" / "gi"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('gi hidden for this test')\n")
    return {**env, "PYTHONPATH": os.pathsep.join([str(shadow.parent), os.getcwd()])}


def test_without_pygobject_the_status_notifier_item_works(desktop: Desktop, tmp_path: Path) -> None:
    with running_tray(desktop, env=hide_gi(tmp_path, desktop.env)) as tray:
        with http_server(tmp_path) as (_, port):
            tray.wait_for_label(f":{port} ")
        maps = Path(f"/proc/{tray.proc.pid}/maps").read_text()
        assert "libgtk" not in maps
        assert "_gi." not in maps


def test_without_pygobject_or_a_tray_host_it_names_the_fix(
    desktop: Desktop, tmp_path: Path
) -> None:
    env = {**hide_gi(tmp_path, desktop.env), "PORTTRAY_TRAY_WAIT": "0.5"}
    desktop.tray.stop()
    try:
        done = start_without_tray(env)
    finally:
        desktop.tray.start()
    assert done.returncode == 3
    assert "needs PyGObject, which is not installed" in done.stderr
    assert "porttray[xembed]" in done.stderr
    assert "fix:" in done.stderr


def test_the_tray_never_listens_and_connects_only_to_loopback(desktop: Desktop) -> None:
    """Sampled while a server opens and is probed: porttray's own inet sockets. The server never
    accepts, so the probe's connection stays open for its whole budget and is surely sampled."""
    seen: list[tuple[str, str]] = []
    with running_tray(desktop) as tray, listener("0.0.0.0") as silent:
        port = silent.getsockname()[1]
        proc = psutil.Process(tray.proc.pid)
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:
            for conn in proc.net_connections("inet"):
                remote = conn.raddr.ip if conn.raddr else ""
                seen.append((conn.status, remote))
            time.sleep(0.02)
        tray.wait_for_label(f":{port} ")
    assert all(status != psutil.CONN_LISTEN for status, _ in seen), seen
    assert all(not ip or ipaddress.ip_address(ip).is_loopback for _, ip in seen), seen
    assert any(ip for _, ip in seen), "the probe's connection was never sampled"
