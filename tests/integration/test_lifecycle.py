"""Single instance, stopping a server, start at login: real sockets, processes and files."""

from __future__ import annotations

import plistlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.conftest import wait_for
from tray.autostart import LaunchAgent, RunKey, XdgAutostart
from tray.instance import InstanceLock, session_key
from tray.stopping import alive, may_stop, stop


@pytest.mark.parametrize("use_file", [False, True])
def test_second_instance_cannot_take_the_lock(tmp_path: Path, use_file: bool) -> None:
    where = tmp_path if use_file else None
    key = f"porttray-test-{tmp_path.name}"
    first, second = InstanceLock(key, where), InstanceLock(key, where)
    assert first.acquire()
    assert not second.acquire()
    first.release()
    assert second.acquire()
    second.release()


def test_session_key_differs_per_session_bus() -> None:
    a = session_key({"DBUS_SESSION_BUS_ADDRESS": "unix:path=/tmp/a"})
    b = session_key({"DBUS_SESSION_BUS_ADDRESS": "unix:path=/tmp/b"})
    assert a != b
    assert a.startswith("porttray-")


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.wait(5)


def test_stop_terminates_the_process_it_was_shown(sleeper: subprocess.Popen[bytes]) -> None:
    started = psutil.Process(sleeper.pid).create_time()
    assert alive(sleeper.pid, started)
    result = stop(sleeper.pid, started)
    assert result.ok, result.message
    assert sleeper.wait(5) == -15
    assert not alive(sleeper.pid, started)
    assert "already exited" in stop(sleeper.pid, started).message


def test_stop_refuses_a_pid_whose_start_time_changed(sleeper: subprocess.Popen[bytes]) -> None:
    started = psutil.Process(sleeper.pid).create_time()
    result = stop(sleeper.pid, started - 100.0)  # as if the pid had been recycled
    assert not result.ok
    assert "no longer the server shown" in result.message
    assert sleeper.poll() is None
    assert not stop(sleeper.pid, None).ok


def test_force_stop_kills(sleeper: subprocess.Popen[bytes]) -> None:
    started = psutil.Process(sleeper.pid).create_time()
    assert stop(sleeper.pid, started, force=True).ok
    assert sleeper.wait(5) == -9
    assert wait_for(lambda: not alive(sleeper.pid, started))


def test_may_stop_only_own_processes() -> None:
    import getpass

    me = getpass.getuser()
    assert may_stop(1234, me)
    assert not may_stop(1234, "someone-else")
    assert not may_stop(None, me)
    assert not may_stop(1, me)


def test_xdg_autostart_entry(tmp_path: Path) -> None:
    auto = XdgAutostart({"XDG_CONFIG_HOME": str(tmp_path), "HOME": "/nonexistent"})
    assert not auto.enabled()
    auto.enable(["/opt/my tools/porttray", "--interval", "1"])
    text = (tmp_path / "autostart" / "porttray.desktop").read_text()
    assert text.startswith("[Desktop Entry]\n")
    assert 'Exec="/opt/my tools/porttray" --interval 1\n' in text
    assert auto.enabled()
    assert auto.where() == str(tmp_path / "autostart" / "porttray.desktop")
    auto.disable()
    assert not auto.enabled()
    auto.disable()  # twice is fine


def test_launch_agent_plist(tmp_path: Path) -> None:
    agent = LaunchAgent(tmp_path)
    agent.enable(["/usr/local/bin/porttray"])
    data = plistlib.loads((tmp_path / "Library/LaunchAgents/dev.porttray.plist").read_bytes())
    assert data == {
        "Label": "dev.porttray",
        "ProgramArguments": ["/usr/local/bin/porttray"],
        "RunAtLoad": True,
    }
    assert agent.enabled()
    agent.disable()
    assert not agent.enabled()


class FakeRegistry:
    """The few winreg calls RunKey makes, over a dict (Windows APIs cannot run here)."""

    HKEY_CURRENT_USER = "HKCU"
    KEY_SET_VALUE = 2
    REG_SZ = 1

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    class _Key:
        def __enter__(self) -> FakeRegistry._Key:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

    def OpenKey(self, *args: object) -> _Key:
        return self._Key()

    CreateKey = OpenKey

    def QueryValueEx(self, key: object, name: str) -> tuple[str, int]:
        if name not in self.values:
            raise FileNotFoundError(name)
        return self.values[name], 1

    def SetValueEx(self, key: object, name: str, _r: int, _t: int, value: str) -> None:
        self.values[name] = value

    def DeleteValue(self, key: object, name: str) -> None:
        if name not in self.values:
            raise FileNotFoundError(name)
        del self.values[name]


def test_windows_run_key() -> None:
    reg = FakeRegistry()
    run = RunKey(reg)
    assert not run.enabled()
    run.enable([r"C:\Program Files\porttray\porttray.exe"])
    assert reg.values == {"porttray": r'"C:\Program Files\porttray\porttray.exe"'}
    assert run.enabled()
    run.disable()
    assert not run.enabled()
    run.disable()
