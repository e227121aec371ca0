"""A notification service that crashes at activation (dunst with no DISPLAY in the bus's
activation environment does): start-up must not hang on either tray path, porttray runs without
notifications, says so, and SIGTERM still ends it."""

from __future__ import annotations

import contextlib
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import wait_for
from tests.kit.desktop import BUS_CONFIG, Desktop, StackProcess, start_reporting
from tests.kit.sni_host import StatusNotifierHost
from tests.kit.tray_driver import end, start

pytestmark = pytest.mark.e2e

CRASHING_SERVICE = """[D-BUS Service]
Name=org.freedesktop.Notifications
Exec=/bin/sh -c 'echo crashing at activation >&2; kill -SEGV $$'
"""


@pytest.fixture
def crashing_bus(tmp_path: Path) -> Iterator[str]:
    """A private session bus whose only notification service crashes when activated."""
    with private_bus(tmp_path) as (_, address):
        yield address


@contextlib.contextmanager
def private_bus(tmp_path: Path) -> Iterator[tuple[StackProcess, str]]:
    """A dbus-daemon of its own (with the crashing notification service), and its address."""
    services = tmp_path / "services"
    services.mkdir()
    (services / "org.freedesktop.Notifications.service").write_text(CRASHING_SERVICE)
    config = BUS_CONFIG.format(dir=tmp_path).replace(
        "</busconfig>", f"  <servicedir>{services}</servicedir>\n</busconfig>"
    )
    (tmp_path / "bus.conf").write_text(config)
    argv = ["dbus-daemon", f"--config-file={tmp_path / 'bus.conf'}", "--nofork"]
    bus: StackProcess
    bus, address = start_reporting([*argv, "--print-address={fd}"], {}, tmp_path / "bus.log")
    try:
        yield bus, address
    finally:
        bus.stop()


def output_of(proc: subprocess.Popen[str]) -> str:
    code, log = end(proc)
    print(log)
    assert code == 0, log
    assert "Traceback" not in log, log
    return log


def stop_within(proc: subprocess.Popen[str], seconds: float) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(seconds)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"porttray did not exit within {seconds} s of SIGTERM") from None


def test_status_notifier_path_runs_without_notifications(
    desktop: Desktop, crashing_bus: str
) -> None:
    host = StatusNotifierHost(crashing_bus)
    host.start()
    env = {**desktop.env, "DBUS_SESSION_BUS_ADDRESS": crashing_bus}
    proc = start(desktop, env=env)
    stderr = proc.stderr
    assert stderr is not None
    lines: list[str] = []
    try:
        item = host.wait_for_item(timeout=20, pid=proc.pid)
        host.wait_for(lambda root: "Quit porttray" in root.labels(), 10, item)

        def said_so() -> bool:
            lines.append(stderr.readline() if proc.poll() is None else "")
            return "Desktop notifications are unavailable" in lines[-1]

        assert wait_for(said_so, 20), "".join(lines)
        stop_within(proc, 5)
    finally:
        host.close()
        output_of(proc)


def test_xembed_path_runs_without_notifications(desktop: Desktop, crashing_bus: str) -> None:
    """No watcher on this bus: pystray's GTK backend, whose own notification connection used to
    raise in run() and leave its setup thread waiting for ever."""
    env = {**desktop.env, "DBUS_SESSION_BUS_ADDRESS": crashing_bus, "PORTTRAY_TRAY_WAIT": "0.5"}
    proc = start(desktop, env=env)
    lines: list[str] = []
    stderr = proc.stderr
    assert stderr is not None
    try:

        def running() -> bool:
            line = stderr.readline() if proc.poll() is None else ""
            lines.append(line)
            return "porttray is running (gtk backend" in line

        assert wait_for(running, 30), "".join(lines)
        stop_within(proc, 8)
    finally:
        log = "".join(lines) + output_of(proc)
    assert "no notification service for the tray backend" in log


def test_the_session_bus_going_away_leaves_the_tray_running(
    desktop: Desktop, tmp_path: Path
) -> None:
    with private_bus(tmp_path) as (bus, address):
        host = StatusNotifierHost(address)
        host.start()
        proc = start(desktop, env={**desktop.env, "DBUS_SESSION_BUS_ADDRESS": address})
        stderr = proc.stderr
        assert stderr is not None
        lines: list[str] = []
        try:
            item = host.wait_for_item(timeout=20, pid=proc.pid)
            host.wait_for(lambda root: "Quit porttray" in root.labels(), 10, item)
            host.close()
            bus.stop()

            def lost() -> bool:
                lines.append(stderr.readline() if proc.poll() is None else "")
                return "lost the session bus connection" in lines[-1]

            assert wait_for(lost, 20), "".join(lines)
            assert proc.poll() is None
            stop_within(proc, 8)
        finally:
            host.close()
            log = "".join(lines) + output_of(proc)
    assert "Traceback" not in log
