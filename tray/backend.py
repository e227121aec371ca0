"""Choosing pystray's backend before pystray is imported.

pystray picks its backend at import time and, on Linux, silently settles for `xorg` when PyGObject
or GTK is missing — an icon with no menu whose clicks are lost. porttray decides first: it names the
backend explicitly (PYSTRAY_BACKEND) when one with a menu can be had, and otherwise raises
`BackendError` saying what is missing and the command that installs it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

SETUP_HINT = "bash scripts/setup.sh   (in porttray's source folder)"
APT_RUNTIME = (
    "sudo apt-get install gir1.2-gtk-3.0 gir1.2-ayatanaappindicator3-0.1 "
    "libgirepository1.0-dev libcairo2-dev pkg-config python3-dev"
)


@dataclass(frozen=True, slots=True)
class Backend:
    """A pystray backend and what it can do."""

    name: str
    """pystray's name for it ("appindicator", "gtk", "win32", "darwin", "dummy")."""
    has_menu: bool
    """Whether it shows a menu."""
    has_default_action: bool
    """Whether a left click runs the default item (appindicator: every click opens the menu)."""
    has_notification: bool
    """Whether pystray's own notify() works there."""
    glib: bool
    """Whether it runs a GLib main loop (GTK clipboard, GLib signal handlers)."""
    thread_safe_updates: bool = True
    """Whether menu and icon updates may come from any thread (GTK and appindicator marshal them
    through the GLib loop, win32 through window messages; AppKit wants the main thread)."""


BACKENDS = {
    "appindicator": Backend("appindicator", True, False, True, True),
    "gtk": Backend("gtk", True, True, True, True),
    "win32": Backend("win32", True, True, True, False),
    "darwin": Backend("darwin", True, False, True, False, thread_safe_updates=False),
    "dummy": Backend("dummy", True, False, False, False),
}


def ui_caller(backend: Backend) -> Callable[[Callable[[], None]], None]:
    """How to run a UI update from the monitor thread: directly, or queued to AppKit's main loop."""
    if backend.thread_safe_updates:
        return _call_now
    from PyObjCTools import AppHelper  # shipped with pyobjc, which pystray needs on macOS

    def on_main_thread(update: Callable[[], None]) -> None:
        AppHelper.callAfter(update)

    return on_main_thread


def _call_now(update: Callable[[], None]) -> None:
    update()


class BackendError(Exception):
    """No tray backend with a menu can be had; the message says why and how to fix it."""


def choose(env: Mapping[str, str] = os.environ, platform: str = sys.platform) -> Backend:
    """The backend to use here, or BackendError."""
    forced = env.get("PYSTRAY_BACKEND")
    if forced:
        if forced not in BACKENDS:
            raise BackendError(
                f"PYSTRAY_BACKEND={forced} has no menu or is unknown; "
                f"use one of {', '.join(sorted(BACKENDS))}, or unset it"
            )
        return BACKENDS[forced]
    if platform == "win32":
        return BACKENDS["win32"]
    if platform == "darwin":
        return BACKENDS["darwin"]
    return _linux(env)


def _linux(env: Mapping[str, str]) -> Backend:
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        raise BackendError("no graphical session: neither DISPLAY nor WAYLAND_DISPLAY is set")
    if not session_bus_available(env):
        raise BackendError(
            "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset and /run/user/UID/bus is "
            "missing); the tray icon and its menu are published over it. Start porttray from "
            "your desktop session, or wrap it in `dbus-run-session`"
        )
    try:
        import gi
    except ImportError:
        raise BackendError(
            "PyGObject is not installed, so no tray icon with a menu can be shown.\n"
            f"  fix: {SETUP_HINT}\n  or:  {APT_RUNTIME} && pip install 'PyGObject<3.51'"
        ) from None
    try:
        gi.require_version("Gtk", "3.0")
    except ValueError:
        raise BackendError(
            "GTK 3 introspection data is missing.\n  fix: sudo apt-get install gir1.2-gtk-3.0"
        ) from None
    if has_appindicator(gi):
        return BACKENDS["appindicator"]
    if env.get("DISPLAY"):
        return BACKENDS["gtk"]
    raise BackendError(
        "the AppIndicator library is missing and this Wayland session has no X11 for a fallback "
        "icon.\n  fix: sudo apt-get install gir1.2-ayatanaappindicator3-0.1"
    )


def has_appindicator(gi: Any) -> bool:
    """Whether an AppIndicator typelib (Ayatana's or Canonical's) can be loaded."""
    require = gi.require_version
    for name in ("AyatanaAppIndicator3", "AppIndicator3"):
        try:
            require(name, "0.1")
            return True
        except ValueError:
            continue
    return False


def session_bus_available(env: Mapping[str, str]) -> bool:
    """Whether a session bus address is set or the systemd user bus socket exists."""
    if env.get("DBUS_SESSION_BUS_ADDRESS"):
        return True
    runtime = env.get("XDG_RUNTIME_DIR") or f"/run/user/{os.getuid()}"
    return os.path.exists(os.path.join(runtime, "bus"))


def load_pystray(backend: Backend) -> object:
    """Import pystray with the chosen backend; BackendError if that backend will not load."""
    os.environ["PYSTRAY_BACKEND"] = backend.name
    try:
        import pystray
    except Exception as exc:  # pystray raises ImportError, ValueError or Xlib errors here
        raise BackendError(f"the {backend.name} tray backend failed to load: {exc}") from exc
    return pystray
