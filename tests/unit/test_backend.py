"""Choosing the tray backend before pystray is imported: what each environment gets."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tray.backend import (
    BACKENDS,
    BackendError,
    choose,
    load_pystray,
    session_bus_available,
    ui_caller,
)

DESKTOP = {"DISPLAY": ":0", "DBUS_SESSION_BUS_ADDRESS": "unix:path=/tmp/bus"}


def recorder(answer: bool, waited: list[float]) -> Callable[[float], bool]:
    """A stand-in for the session-bus question that notes how long it was asked to wait."""

    def watcher(wait: float) -> bool:
        waited.append(wait)
        return answer

    return watcher


def test_linux_with_a_status_notifier_watcher_gets_porttrays_own_item() -> None:
    waited: list[float] = []
    chosen = choose(DESKTOP, "linux", watcher=recorder(True, waited))
    assert chosen.name == "sni"
    assert chosen.has_menu
    assert not chosen.glib
    assert waited == [8.0]
    wayland = {"WAYLAND_DISPLAY": "wayland-0", "DBUS_SESSION_BUS_ADDRESS": "unix:path=/x"}
    assert choose(wayland, "linux", watcher=lambda wait: True).name == "sni"


def test_no_watcher_on_x11_falls_back_to_xembed_and_on_wayland_says_what_to_enable() -> None:
    env = {**DESKTOP, "PORTTRAY_TRAY_WAIT": "0.5"}
    waited: list[float] = []
    assert choose(env, "linux", watcher=recorder(False, waited)).name == "gtk"
    assert waited == [0.5]
    wayland = {"WAYLAND_DISPLAY": "wayland-0", "DBUS_SESSION_BUS_ADDRESS": "unix:path=/x"}
    with pytest.raises(BackendError, match="no StatusNotifier host"):
        choose(wayland, "linux", watcher=lambda wait: False)


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
        choose(env, "linux", watcher=lambda wait: True)


@pytest.mark.parametrize(("platform", "name"), [("win32", "win32"), ("darwin", "darwin")])
def test_other_platforms(platform: str, name: str) -> None:
    assert choose({}, platform).name == name


def test_forced_dummy_for_tests() -> None:
    assert choose({"PYSTRAY_BACKEND": "dummy"}, "linux").name == "dummy"
    assert choose({"PYSTRAY_BACKEND": "sni"}, "linux").name == "sni"


def test_session_bus_found_by_its_socket(tmp_path: Path) -> None:
    assert not session_bus_available({"XDG_RUNTIME_DIR": str(tmp_path)})
    (tmp_path / "bus").touch()
    assert session_bus_available({"XDG_RUNTIME_DIR": str(tmp_path)})


def test_thread_safe_backends_update_directly_and_only_darwin_needs_the_main_thread() -> None:
    calls: list[str] = []
    ui_caller(BACKENDS["appindicator"])(lambda: calls.append("now"))
    assert calls == ["now"]
    assert [b.name for b in BACKENDS.values() if not b.thread_safe_updates] == ["darwin"]


def test_loading_the_sni_backend_leaves_no_pystray_choice_in_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A child porttray starts (a browser, a second porttray in a test) must choose for itself."""
    monkeypatch.delenv("PYSTRAY_BACKEND", raising=False)
    facade = load_pystray(BACKENDS["sni"])
    assert facade.Icon.__name__ == "SniIcon"  # type: ignore[attr-defined]
    assert "PYSTRAY_BACKEND" not in os.environ
