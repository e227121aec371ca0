"""`porttray doctor`: what porttray can do on this desktop, and how to fix what is missing.

Each check returns a `Finding`; the command prints them and exits 1 when any is a problem. The D-Bus
questions (is a StatusNotifier host there? which notification server, with actions?) go through Gio,
which the Linux tray needs anyway; without it they are reported as unknown.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from tray.backend import BackendError, choose

SNI_WATCHER = "org.kde.StatusNotifierWatcher"
NOTIFICATIONS = "org.freedesktop.Notifications"


@dataclass(frozen=True, slots=True)
class Finding:
    """One line of the report."""

    topic: str
    """What was checked."""
    ok: bool
    """Whether it is fine."""
    detail: str
    """What was found."""
    fix: str = ""
    """How to fix it, when not ok."""
    warning: bool = False
    """Works, but not as well as it could (shown with "!", does not fail the check)."""


def run() -> int:
    """Print the report; 0 when all is well, 1 when something needs fixing."""
    findings = list(check_all())
    for f in findings:
        mark = "!" if f.warning else "✓" if f.ok else "✗"
        print(f"{mark} {f.topic}: {f.detail}")
        if f.fix:
            print(f"    fix: {f.fix}")
    return 0 if all(f.ok for f in findings) else 1


def check_all() -> Iterator[Finding]:
    """Every check, in the order a person would read them."""
    yield backend()
    if sys.platform.startswith("linux"):
        bus = session_bus()
        yield tray_host(bus)
        yield notifications(bus)
        yield clipboard()
    yield discovery()
    yield from _optional("settings", _settings)


def backend() -> Finding:
    """Which pystray backend porttray will use, and what it can do."""
    try:
        chosen = choose()
    except BackendError as exc:
        text = str(exc)
        problem, _, fix = text.partition("\n  fix: ")
        return Finding("tray backend", False, problem, fix.split("\n")[0] or "see above")
    caps = [
        "menu" if chosen.has_menu else "no menu",
        "notifications" if chosen.has_notification else "no notifications",
        "click action" if chosen.has_default_action else "any click opens the menu",
    ]
    return Finding("tray backend", True, f"{chosen.name} ({', '.join(caps)})")


def session_bus() -> Any:
    """A Gio connection to the session bus, or None."""
    try:
        import gi

        gi.require_version("Gio", "2.0")
        from gi.repository import Gio

        return Gio.bus_get_sync(Gio.BusType.SESSION, None)
    except Exception:
        return None


def _call(bus: Any, target: tuple[str, str, str], method: str, args: Any = None) -> Any:
    """Call `method` on (bus name, object path, interface), with a one-second timeout."""
    from gi.repository import Gio

    name, path, iface = target
    reply = bus.call_sync(name, path, iface, method, args, None, Gio.DBusCallFlags.NONE, 1000, None)
    return reply.unpack()


BUS = ("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus")
NOTIFY = (NOTIFICATIONS, "/org/freedesktop/Notifications", NOTIFICATIONS)


def _has_owner(bus: Any, name: str) -> bool:
    from gi.repository import GLib

    args = GLib.Variant("(s)", (name,))
    owned: bool = _call(bus, BUS, "NameHasOwner", args)[0]
    return owned


def tray_host(bus: Any) -> Finding:
    """Whether a StatusNotifier host (what KDE, GNOME's extension and XFCE run) is on the bus."""
    if bus is None:
        fix = "start porttray in a desktop session"
        return Finding("tray host", False, "no D-Bus session bus", fix)
    if _has_owner(bus, SNI_WATCHER):
        return Finding("tray host", True, "a StatusNotifier host is running")
    on_x11 = bool(os.environ.get("DISPLAY"))
    return Finding(
        "tray host",
        on_x11,
        "no StatusNotifier host; the icon falls back to the X11 system tray (XEmbed)"
        if on_x11
        else "no StatusNotifier host, and Wayland has no other tray",
        "GNOME: sudo apt-get install gnome-shell-extension-appindicator, then enable "
        "'AppIndicator and KStatusNotifierItem Support'; "
        "XFCE: add the Status Notifier panel plugin",
        warning=on_x11,
    )


def notifications(bus: Any) -> Finding:
    """The notification server and whether it offers buttons."""
    fix = "install and start a notification daemon, e.g. sudo apt-get install dunst"
    if bus is None or not _has_owner(bus, NOTIFICATIONS):
        return Finding("notifications", False, "no notification server on the session bus", fix)
    name, vendor, version, _spec = _call(bus, NOTIFY, "GetServerInformation")
    caps = _call(bus, NOTIFY, "GetCapabilities")[0]
    actions = "with an Open button" if "actions" in caps else "without buttons (no 'actions')"
    return Finding("notifications", True, f"{name} {version} by {vendor}, {actions}")


def clipboard() -> Finding:
    """How Copy reaches the clipboard."""
    try:
        chosen = choose()
    except BackendError:
        return Finding(
            "clipboard",
            False,
            "no GTK; Copy needs pyperclip and xclip or wl-copy",
            "sudo apt-get install xclip",
        )
    if chosen.glib:
        return Finding("clipboard", True, "GTK clipboard, owned by porttray (no helper program)")
    return Finding("clipboard", True, "pyperclip")


def discovery() -> Finding:
    """The discovery method, and whether other users' sockets can be attributed."""
    from tray.discover import open_engine

    engine = open_engine()
    try:
        servers = engine.scan().servers
    finally:
        engine.close()
    hidden = sum(1 for s in servers if s.pid is None)
    detail = f"{engine.method}, {len(servers)} listening servers"
    if engine.method == "proc":
        return Finding("discovery", True, detail + " (netlink refused; /proc/net is slower)")
    if hidden:
        return Finding(
            "discovery",
            True,
            f"{detail}; {hidden} owned by processes porttray cannot see (other users' or other "
            "namespaces'): they are listed without a process",
        )
    return Finding("discovery", True, detail)


def _optional(topic: str, check: Callable[[], Finding]) -> Iterator[Finding]:
    try:
        yield check()
    except ImportError:
        return


def _settings() -> Finding:
    from tray import config

    path = config.default_path()
    try:
        config.load(path)
    except config.ConfigError as exc:
        return Finding("settings", False, str(exc), f"edit {path}, then run porttray config check")
    state = "found" if path.exists() else "not present (defaults in use)"
    return Finding("settings", True, f"{path} {state}")
