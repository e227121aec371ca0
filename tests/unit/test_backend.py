"""Choosing the tray backend before pystray is imported: what each environment gets."""

from __future__ import annotations

from pathlib import Path

import pytest

from tray.backend import BACKENDS, BackendError, choose, session_bus_available, ui_caller

DESKTOP = {"DISPLAY": ":0", "DBUS_SESSION_BUS_ADDRESS": "unix:path=/tmp/bus"}


def test_linux_desktop_gets_appindicator() -> None:
    chosen = choose(DESKTOP, "linux")
    assert chosen.name == "appindicator"
    assert chosen.has_menu
    assert not chosen.has_default_action


@pytest.mark.parametrize(
    ("env", "reason"),
    [
        ({"DBUS_SESSION_BUS_ADDRESS": "unix:path=/tmp/bus"}, "no graphical session"),
        ({"DISPLAY": ":0", "XDG_RUNTIME_DIR": "/nonexistent"}, "no D-Bus session bus"),
        ({**DESKTOP, "PYSTRAY_BACKEND": "xorg"}, "has no menu"),
        ({**DESKTOP, "PYSTRAY_BACKEND": "nonsense"}, "has no menu or is unknown"),
    ],
)
def test_no_backend_with_a_menu_is_an_error_that_says_why(env: dict[str, str], reason: str) -> None:
    with pytest.raises(BackendError, match=reason):
        choose(env, "linux")


@pytest.mark.parametrize(("platform", "name"), [("win32", "win32"), ("darwin", "darwin")])
def test_other_platforms(platform: str, name: str) -> None:
    assert choose({}, platform).name == name


def test_forced_dummy_for_tests() -> None:
    assert choose({"PYSTRAY_BACKEND": "dummy"}, "linux").name == "dummy"


def test_session_bus_found_by_its_socket(tmp_path: Path) -> None:
    assert not session_bus_available({"XDG_RUNTIME_DIR": str(tmp_path)})
    (tmp_path / "bus").touch()
    assert session_bus_available({"XDG_RUNTIME_DIR": str(tmp_path)})


def test_thread_safe_backends_update_directly_and_only_darwin_needs_the_main_thread() -> None:
    calls: list[str] = []
    ui_caller(BACKENDS["appindicator"])(lambda: calls.append("now"))
    assert calls == ["now"]
    assert [b.name for b in BACKENDS.values() if not b.thread_safe_updates] == ["darwin"]
