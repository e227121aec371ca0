"""`porttray doctor`: what porttray can do on this desktop, and how to fix what is missing.

Each check returns a `Finding`; the command prints them and exits 1 when any is a problem. The D-Bus
questions (is a StatusNotifier host there? which notification server, with actions?) go through
dbus-fast, as the tray itself does: no GTK needed.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass

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
    """Which tray backend porttray will use, what it can do, and why that one."""
    try:
        chosen = choose(watcher=_watcher_now)
    except BackendError as exc:
        text = str(exc)
        problem, _, fix = text.partition("\n  fix: ")
        return Finding("tray backend", False, problem, fix.split("\n")[0] or "see above")
    if chosen.name == "sni":
        why = "porttray's own StatusNotifierItem (a StatusNotifierWatcher is on the session bus)"
        return Finding("tray backend", True, f"sni: {why}, menu on any click, middle click opens")
    caps = [
        "menu" if chosen.has_menu else "no menu",
        "notifications" if chosen.has_notification else "no notifications",
        "click action" if chosen.has_default_action else "any click opens the menu",
    ]
    why = " (XEmbed: no StatusNotifierWatcher on the session bus)" if chosen.name == "gtk" else ""
    return Finding("tray backend", True, f"{chosen.name} ({', '.join(caps)}){why}")


def _watcher_now(wait: float) -> bool:
    from tray.sni.session import watcher_owned

    return watcher_owned(0.0)


@dataclass(frozen=True, slots=True)
class BusFacts:
    """What the session bus says about the tray host and the notification server."""

    watcher: bool
    notifications: tuple[str, str, str] | None
    """(name, vendor, version) of the running notification server, or None."""
    actions: bool


def session_bus() -> BusFacts | None:
    """Ask the session bus (dbus-fast, one-second timeouts), or None when there is none."""
    import asyncio

    try:
        return asyncio.run(_ask_bus())
    except Exception:
        return None


async def _ask_bus() -> BusFacts:
    import asyncio

    from dbus_fast.aio import MessageBus

    from tray.sni.session import DBUS, bus_call

    bus = await asyncio.wait_for(MessageBus().connect(), 2.0)
    try:
        owned = [
            bool((await bus_call(bus, DBUS, "NameHasOwner", "s", [name])).body[0])
            for name in (SNI_WATCHER, NOTIFICATIONS)
        ]
        if not owned[1]:
            return BusFacts(owned[0], None, False)
        info = (await bus_call(bus, NOTIFY, "GetServerInformation")).body
        caps = (await bus_call(bus, NOTIFY, "GetCapabilities")).body[0]
        return BusFacts(owned[0], (info[0], info[1], info[2]), "actions" in caps)
    finally:
        bus.disconnect()


NOTIFY = (NOTIFICATIONS, "/org/freedesktop/Notifications", NOTIFICATIONS)


def tray_host(bus: BusFacts | None) -> Finding:
    """Whether a StatusNotifier host (what KDE, GNOME's extension and XFCE run) is on the bus."""
    if bus is None:
        fix = "start porttray in a desktop session"
        return Finding("tray host", False, "no D-Bus session bus", fix)
    if bus.watcher:
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
        "XFCE: add the Status Tray panel plugin",
        warning=on_x11,
    )


def notifications(bus: BusFacts | None) -> Finding:
    """The notification server and whether it offers buttons (a running one: not activated)."""
    fix = "install and start a notification daemon, e.g. sudo apt-get install dunst"
    if bus is None or bus.notifications is None:
        return Finding("notifications", False, "no notification server on the session bus", fix)
    name, vendor, version = bus.notifications
    actions = "with an Open button" if bus.actions else "without buttons (no 'actions')"
    return Finding("notifications", True, f"{name} {version} by {vendor}, {actions}")


def clipboard() -> Finding:
    """How Copy reaches the clipboard, checked for real where that leaves the user's alone."""
    from tray.clipboard import linux_path

    try:
        chosen = choose(watcher=_watcher_now)
    except BackendError:
        chosen = None
    if chosen is not None and chosen.glib:
        return Finding("clipboard", True, "GTK clipboard, owned by porttray (no helper program)")
    path = linux_path()
    if path == "xlib":
        from tray.xselection import self_test

        try:
            problem = self_test()
        except Exception as exc:
            problem = str(exc)
        if problem is None:
            detail = "X11 selection owned by porttray; checked: a private selection was pasted back"
            return Finding("clipboard", True, detail)
        return Finding("clipboard", False, f"X11 selection failed: {problem}", "check DISPLAY")
    if path == "wl-copy":
        detail = "wl-copy (Wayland); found on PATH, not run: it would replace your clipboard"
        return Finding("clipboard", True, detail)
    if os.environ.get("WAYLAND_DISPLAY"):
        return Finding(
            "clipboard", False, "Wayland without wl-copy", "sudo apt-get install wl-clipboard"
        )
    return Finding("clipboard", False, "no X11 or Wayland display", "run in a desktop session")


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
