"""A real, private, headless Linux desktop for tests: X server, bus, tray host, notifications.

`running_desktop(tmp)` starts Xvfb on a free display, a private D-Bus session bus (its own config:
no service activation, so a notification server only exists when a test starts one), dunst with a
config of its own, a StatusNotifierWatcher tray host and a headless-Chromium stand-in for $BROWSER.
Nothing is exported into this process's environment: `Desktop.env` is the environment to hand to
the programs under test.

`no_leaks_except_desktop()` is the suite's leak guard with one exemption: the processes, threads
and descriptors that belong to a running desktop (they outlive single tests on purpose).

The parts live in their own modules (`stack`: the programs, Xvfb and the bus; `notifications`;
`browser`; `leaks`); this module puts them together and is where tests import them from.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.kit.browser import (
    CHROMIUM,
    NO_CHROMIUM,
    BrowserRun,
    BrowserStandIn,
    chromium_available,
    make_browser,
)
from tests.kit.leaks import (
    STACK_THREAD_PREFIX,
    Stack,
    no_leaks_except_desktop,
    register_stack,
    unregister_stack,
)
from tests.kit.notifications import NOTIFICATIONS, NotificationServer, SeenNotification
from tests.kit.sni_host import StatusNotifierHost
from tests.kit.stack import BUS_CONFIG, StackProcess, start_bus, start_reporting, start_xvfb

__all__ = [
    "BUS_CONFIG",
    "CHROMIUM",
    "NOTIFICATIONS",
    "NO_CHROMIUM",
    "STACK_THREAD_PREFIX",
    "BrowserRun",
    "BrowserStandIn",
    "Desktop",
    "NotificationServer",
    "SeenNotification",
    "Stack",
    "StackProcess",
    "chromium_available",
    "clipboard_text",
    "make_browser",
    "no_leaks_except_desktop",
    "register_stack",
    "running_desktop",
    "start_reporting",
    "tools_missing",
    "unregister_stack",
]
SCREEN = "1024x768x24"


def clipboard_text(env: dict[str, str], timeout: float = 5.0) -> str:
    """The CLIPBOARD selection's text on `env`'s display ("" when nothing owns it)."""
    result = subprocess.run(
        ["xclip", "-o", "-selection", "clipboard"],
        env=env,
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    return result.stdout.decode(errors="replace") if result.returncode == 0 else ""


@dataclass
class Desktop:
    """A running private desktop. Hand `env` to every program that should live on it."""

    display: str
    """The X display, e.g. ":3"."""
    bus_address: str
    """The private session bus address."""
    env: dict[str, str]
    """The environment for programs under test (DISPLAY, DBUS_SESSION_BUS_ADDRESS, BROWSER, ...)."""
    tmp: Path
    tray: StatusNotifierHost
    """The tray host: registered items, their menus, clicks."""
    notifications: NotificationServer
    """dunst and what it received."""
    browser: BrowserStandIn
    """The $BROWSER stand-in."""
    processes: list[StackProcess] = field(default_factory=list)

    def clipboard_text(self, timeout: float = 5.0) -> str:
        """The CLIPBOARD selection's text ("" when nothing owns it)."""
        return clipboard_text(self.env, timeout)

    def pids(self) -> set[int]:
        """The processes of the desktop itself."""
        return {p.pid for p in [*self.processes, *self.notifications.processes()]}

    def fds(self) -> set[int]:
        """The descriptors this process holds for the desktop."""
        return self.tray.fds() | self.notifications.fds()


def _desktop_env(tmp: Path, display: str, bus: str, browser: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "WAYLAND", "GDK"))}
    for key in ("DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "BROWSER", "PYSTRAY_BACKEND", "TERM"):
        env.pop(key, None)
    dirs = {f"XDG_{name}_HOME": tmp / name.lower() for name in ("CONFIG", "CACHE", "DATA", "STATE")}
    dirs["XDG_RUNTIME_DIR"] = tmp / "runtime"
    for path in dirs.values():
        path.mkdir(mode=0o700, exist_ok=True)
    env.update({key: str(path) for key, path in dirs.items()})
    env.update(
        DISPLAY=display,
        DBUS_SESSION_BUS_ADDRESS=bus,
        BROWSER=str(browser),
        NO_AT_BRIDGE="1",
        GDK_BACKEND="x11",
        PYTHONUNBUFFERED="1",
    )
    return env


@contextlib.contextmanager
def running_desktop(tmp: Path) -> Iterator[Desktop]:
    """Start the whole stack under `tmp`; stop it, reaping every process, on exit."""
    processes: list[StackProcess] = []
    base = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "DBUS_SESSION_BUS_ADDRESS")}
    with contextlib.ExitStack() as stack:
        stack.callback(_stop_all, processes)
        xvfb, display = start_xvfb(SCREEN, base, tmp / "xvfb.log")
        processes.append(xvfb)
        bus, address = start_bus(tmp, base, tmp / "bus.log")
        processes.append(bus)
        browser = make_browser(tmp / "browser")
        env = _desktop_env(tmp, display, address, browser.path)
        notifications = NotificationServer(tmp / "dunst", env)
        stack.callback(notifications.close)
        notifications.start()
        tray = StatusNotifierHost(address)
        stack.callback(tray.close)
        tray.start()
        desktop = Desktop(display, address, env, tmp, tray, notifications, browser, processes)
        register_stack(desktop)
        stack.callback(unregister_stack, desktop)
        yield desktop


def _stop_all(processes: list[StackProcess]) -> None:
    for process in reversed(processes):
        process.stop()


def tools_missing() -> list[str]:
    """The programs the desktop needs that are not installed."""
    tools = ["Xvfb", "dbus-daemon", "dunst", "dunstctl", "xclip", "notify-send"]
    return [tool for tool in tools if shutil.which(tool) is None]
