"""`porttray doctor` against the real desktop stack: what works, and the fix for what does not."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.kit.desktop import Desktop

pytestmark = pytest.mark.e2e


def doctor(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tray", "doctor"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_doctor_on_a_working_desktop(desktop: Desktop) -> None:
    done = doctor(desktop.env)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "✓ tray backend: sni: porttray's own StatusNotifierItem" in out
    assert "✓ tray host: a StatusNotifier host is running" in out
    assert "✓ notifications: dunst" in out
    assert "with an Open button" in out
    assert "✓ clipboard: X11 selection owned by porttray; checked" in out
    assert "✓ discovery: netlink" in out
    assert "✓ settings:" in out


def test_doctor_names_the_fix_for_each_missing_service(desktop: Desktop) -> None:
    desktop.tray.stop()
    desktop.notifications.stop()
    try:
        done = doctor(desktop.env)
    finally:
        desktop.notifications.start()
        desktop.tray.start()
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    host = lines.index(next(line for line in lines if line.startswith("! tray host")))
    assert "falls back to the X11 system tray" in lines[host]
    assert "gnome-shell-extension-appindicator" in lines[host + 1]
    notes = lines.index(next(line for line in lines if line.startswith("✗ notifications")))
    assert lines[notes + 1].strip().startswith("fix: install and start a notification daemon")
