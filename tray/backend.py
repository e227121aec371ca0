"""Choosing the tray backend before pystray is imported.

On Linux porttray exports its own StatusNotifierItem (`tray.sni`, on dbus-fast, no GTK) whenever a
StatusNotifierWatcher is on the session bus — KDE, XFCE, GNOME with the AppIndicator extension,
waybar, on X11 and on Wayland. When none is there at start it waits `WATCHER_WAIT` seconds for one
(a panel may start after porttray at login). Without one, an X11 session gets the XEmbed icon of
pystray's `gtk` backend if PyGObject (the `porttray[xembed]` extra) is installed; otherwise
`BackendError` says what to install. pystray itself picks its backend at import time and would
silently settle for `xorg` (no menu, lost clicks), so porttray always names it (PYSTRAY_BACKEND).
"""

from __future__ import annotations

import logging
import os
import sys
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

SETUP_HINT = "bash scripts/setup.sh   (in porttray's source folder)"
APT_XEMBED = (
    "sudo apt-get install gir1.2-gtk-3.0 libgirepository1.0-dev libcairo2-dev pkg-config "
    "python3-dev gcc"
)
WATCHER_WAIT = 8.0
"""Seconds to wait at start for a StatusNotifierWatcher before falling back (PORTTRAY_TRAY_WAIT
overrides it)."""


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
    "sni": Backend("sni", True, False, False, False),
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


def choose(
    env: Mapping[str, str] = os.environ,
    platform: str = sys.platform,
    *,
    watcher: Callable[[float], bool] | None = None,
) -> Backend:
    """The backend to use here, or BackendError. `watcher(wait)` says whether a
    StatusNotifierWatcher is on the session bus (waiting up to `wait` s for one)."""
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
    return _linux(env, watcher or _watcher_owned)


def _watcher_owned(wait: float) -> bool:
    from tray.sni.session import watcher_owned

    return watcher_owned(wait)


def watcher_wait(env: Mapping[str, str]) -> float:
    """How long to wait for a StatusNotifierWatcher at start."""
    try:
        return max(0.0, float(env.get("PORTTRAY_TRAY_WAIT", WATCHER_WAIT)))
    except ValueError:
        return WATCHER_WAIT


def _linux(env: Mapping[str, str], watcher: Callable[[float], bool]) -> Backend:
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        raise BackendError("no graphical session: neither DISPLAY nor WAYLAND_DISPLAY is set")
    if not session_bus_available(env):
        raise BackendError(
            "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset and /run/user/UID/bus is "
            "missing); the tray icon and its menu are published over it. Start porttray from "
            "your desktop session, or wrap it in `dbus-run-session`"
        )
    if watcher(watcher_wait(env)):
        return BACKENDS["sni"]
    if not env.get("DISPLAY"):
        raise BackendError(
            "no StatusNotifier host (tray) on the session bus, and Wayland has no other tray.\n"
            "  fix: enable your panel's tray (GNOME: the 'AppIndicator and KStatusNotifierItem "
            "Support' extension; waybar: the tray module)"
        )
    return _xembed()


def _xembed() -> Backend:
    """The X11 system tray (XEmbed) through pystray's gtk backend, which needs PyGObject."""
    try:
        import gi
    except ImportError:
        raise BackendError(
            "no StatusNotifier host (tray) on the session bus, and the X11 system tray (XEmbed) "
            "needs PyGObject, which is not installed.\n"
            f"  fix: {APT_XEMBED} && pip install 'porttray[xembed]'\n  or:  {SETUP_HINT}"
        ) from None
    try:
        gi.require_version("Gtk", "3.0")
    except ValueError:
        raise BackendError(
            "GTK 3 introspection data is missing.\n  fix: sudo apt-get install gir1.2-gtk-3.0"
        ) from None
    return BACKENDS["gtk"]


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
    """Import pystray with the chosen backend; BackendError if that backend will not load.

    For "sni" pystray loads as `dummy` (only `pystray._base`, no GTK) and the result is a module
    whose `Icon` is porttray's own `tray.sni.icon.SniIcon`.
    """
    pystray = _import_pystray("dummy" if backend.name == "sni" else backend.name, backend.name)
    if backend.name in ("gtk", "appindicator"):
        guard_gtk_notifier()
    if backend.name != "sni":
        return pystray
    from tray.sni.icon import SniIcon

    facade = types.ModuleType("porttray_pystray", "pystray's menu API on porttray's SNI icon")
    facade.Icon = SniIcon  # type: ignore[attr-defined]
    facade.Menu = pystray.Menu  # type: ignore[attr-defined]
    facade.MenuItem = pystray.MenuItem  # type: ignore[attr-defined]
    return facade


def _import_pystray(name: str, shown: str) -> Any:
    """pystray, loaded with backend `name`. pystray reads PYSTRAY_BACKEND once, at import: the
    variable is set only for that moment, so programs porttray starts (and a test process's later
    children) never inherit a choice that was made for this process."""
    before = os.environ.get("PYSTRAY_BACKEND")
    os.environ["PYSTRAY_BACKEND"] = name
    try:
        import pystray
    except Exception as exc:  # pystray raises ImportError, ValueError or Xlib errors here
        raise BackendError(f"the {shown} tray backend failed to load: {exc}") from exc
    finally:
        if before is None:
            del os.environ["PYSTRAY_BACKEND"]
        else:
            os.environ["PYSTRAY_BACKEND"] = before
    return pystray


def guard_gtk_notifier() -> None:
    """Keep pystray's GTK backends running when the notification service fails to activate.

    They connect to org.freedesktop.Notifications inside `run()`; a service that crashes at
    activation makes that raise before the icon is ready, and pystray's setup thread then waits
    for ever. porttray notifies through desktop-notifier anyway, so a failed connection only
    costs pystray's own notify(): replace it with a stand-in that says so.
    """
    from pystray._util import notify_dbus

    real = notify_dbus.Notifier
    if getattr(real, "porttray_guarded", False):
        return

    class Guarded:
        porttray_guarded = True

        def __init__(self) -> None:
            try:
                self._real: Any = real()
            except Exception as exc:
                logging.getLogger(__name__).warning(
                    "no notification service for the tray backend (%s); running without", exc
                )
                self._real = None

        def notify(self, *args: Any) -> None:
            if self._real is not None:
                self._real.notify(*args)

        def hide(self) -> None:
            if self._real is not None:
                self._real.hide()

    notify_dbus.Notifier = Guarded


def release_setup(icon: Any) -> None:
    """Let pystray's setup thread end when the backend failed before it was ready.

    pystray starts a non-daemon thread that waits on a queue for the backend's "ready"; a backend
    that raises first (GTK's, when the notification service crashes at activation) leaves it
    waiting for ever and the process never exits. One more item on that queue wakes it, and
    `App._setup` returns at once once stopping.
    """
    waiting = getattr(icon, "_Icon__queue", None)
    thread = getattr(icon, "_setup_thread", None)
    if waiting is not None and thread is not None and thread.is_alive():
        waiting.put(False)
        thread.join(2.0)
