"""A real, private, headless Linux desktop for tests: X server, bus, tray host, notifications.

`running_desktop(tmp)` starts Xvfb on a free display, a private D-Bus session bus (its own config:
no service activation, so a notification server only exists when a test starts one), dunst with a
config of its own, a StatusNotifierWatcher tray host and a headless-Chromium stand-in for $BROWSER.
Nothing is exported into this process's environment: `Desktop.env` is the environment to hand to
the programs under test.

`no_leaks_except_desktop()` is the suite's leak guard with one exemption: the processes, threads
and descriptors that belong to a running desktop (they outlive single tests on purpose).
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import os
import select
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import psutil
import pytest
from jeepney import HeaderFields, MessageType
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import open_dbus_connection
from jeepney.low_level import Message
from jeepney.wrappers import unwrap_msg

from tests.kit.monitor_thread import MonitorThread
from tests.kit.sni_host import StatusNotifierHost
from tests.kit.wait import wait_for

STACK_THREAD_PREFIX = "desktop-stack"
"""Threads of a running desktop are named with this prefix."""
CHROMIUM = (
    os.environ.get("PORTTRAY_CHROMIUM")
    or shutil.which("chromium")
    or shutil.which("chromium-browser")
    or "/usr/bin/chromium"
)
"""The browser behind the $BROWSER stand-in: Debian's package, or whatever chromium is on PATH
(Ubuntu has it only as a snap, which scripts/setup.sh does not install)."""
NO_CHROMIUM = (
    "no chromium found (Debian: apt-get install chromium; Ubuntu: snap install chromium, or set "
    "PORTTRAY_CHROMIUM): the browser tests are skipped"
)
BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={dir}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""
BROWSER_SCRIPT = """#!/bin/sh
# A $BROWSER for tests: load the page in headless Chromium, record the run, exit.
profile=$(mktemp -d "{dir}/profile.XXXXXX")
{chromium} --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \\
  --disable-background-networking --disable-component-update --disable-sync \\
  --user-data-dir="$profile" --dump-dom "$1" >"{dir}/last-page.html" 2>>"{dir}/chromium.log"
rc=$?
rm -rf "$profile"
printf '%s %s\\n' "$rc" "$1" >>"{dir}/runs.log"
exit $rc
"""


class Stack(Protocol):
    """Something running for tests whose processes and descriptors outlive single tests."""

    def pids(self) -> set[int]: ...

    def fds(self) -> set[int]: ...


_RUNNING: list[Stack] = []


def register_stack(stack: Stack) -> None:
    """Exempt a running stack (a real host's session) from the leak guard until unregistered."""
    if stack not in _RUNNING:
        _RUNNING.append(stack)


def unregister_stack(stack: Stack) -> None:
    if stack in _RUNNING:
        _RUNNING.remove(stack)


class StackProcess:
    """A program of the desktop, its output in a log file."""

    def __init__(
        self, argv: list[str], env: dict[str, str], log: Path, pass_fds: tuple[int, ...] = ()
    ) -> None:
        self.argv = argv
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                argv, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out, pass_fds=pass_fds
            )
        self.log = log

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        """End it and reap it."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _read_line(fd: int, what: str, timeout: float = 10.0) -> str:
    """One line written by a starting program to our end of a pipe."""
    deadline, data = time.monotonic() + timeout, b""
    while b"\n" not in data:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            raise TimeoutError(f"{what} did not report within {timeout} s")
        chunk = os.read(fd, 4096)
        if not chunk:
            raise RuntimeError(f"{what} exited before reporting")
        data += chunk
    return data.decode().splitlines()[0].strip()


def _start_reporting(argv: list[str], env: dict[str, str], log: Path) -> tuple[StackProcess, str]:
    """Start a program that writes one line to the fd named by "{fd}" in its argv."""
    read_end, write_end = os.pipe()
    try:
        proc = StackProcess(
            [a.replace("{fd}", str(write_end)) for a in argv], env, log, (write_end,)
        )
        os.close(write_end)
        write_end = -1
        try:
            return proc, _read_line(read_end, argv[0])
        except Exception:
            proc.stop()
            raise
    finally:
        os.close(read_end)
        if write_end >= 0:
            os.close(write_end)


start_reporting = _start_reporting


DUNSTRC = """[global]
    dmenu = {dir}/pick-action
    browser = /bin/false
    notification_limit = 0
    idle_threshold = 0
    sticky_history = yes
    history_length = 100
    markup = full
[urgency_low]
    timeout = 0
[urgency_normal]
    timeout = 0
[urgency_critical]
    timeout = 0
"""
PICK_ACTION = """#!/bin/sh
# dunst's context menu: answer with the line of the action the test asked for ("[id,key]").
want=$(cat "{dir}/wanted-action" 2>/dev/null)
awk -v w="$want" 'w != "" && substr($0, length($0) - length(w) + 1) == w {{ print; exit }}'
"""
NOTIFICATIONS = "org.freedesktop.Notifications"
MONITOR_RULES = [
    f"type='method_call',interface='{NOTIFICATIONS}',member='Notify'",
    "type='method_return'",
    f"type='signal',interface='{NOTIFICATIONS}'",
]
"""What the notifications monitor records: Notify calls, every reply (to pair a Notify with the
id it was answered with) and the server's signals."""


@dataclass(frozen=True, slots=True)
class SeenNotification:
    """A Notify call the notification server received."""

    id: int
    """The id the server answered with (0 while the answer is not seen yet)."""
    app_name: str
    summary: str
    body: str
    actions: tuple[tuple[str, str], ...]
    """(key, label) pairs; "default" is the click on the notification itself."""
    sender: str
    """The caller's unique bus name."""

    @property
    def action_keys(self) -> list[str]:
        return [key for key, _label in self.actions]


class NotificationServer:
    """dunst on the private desktop, and a bus monitor recording what it was sent."""

    def __init__(self, directory: Path, env: dict[str, str]) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.dir, self.env = directory, env
        (directory / "dunstrc").write_text(DUNSTRC.format(dir=directory))
        pick = directory / "pick-action"
        pick.write_text(PICK_ACTION.format(dir=directory))
        pick.chmod(0o755)
        self._dunst: StackProcess | None = None
        self._lock = threading.Lock()
        self._seen: list[SeenNotification] = []
        self._pending: dict[tuple[str, int], int] = {}
        self._invoked: list[tuple[int, str]] = []
        self._closed: list[tuple[int, int]] = []
        self._control = open_dbus_connection(env["DBUS_SESSION_BUS_ADDRESS"])
        self._monitor = MonitorThread(
            env["DBUS_SESSION_BUS_ADDRESS"],
            MONITOR_RULES,
            self._record,
            f"{STACK_THREAD_PREFIX}-notify",
        )

    def start(self) -> None:
        """Start dunst and wait until it owns org.freedesktop.Notifications."""
        argv = ["dunst", "-config", str(self.dir / "dunstrc")]
        self._dunst = StackProcess(argv, self.env, self.dir / "dunst.log")
        if not wait_for(
            lambda: self.running or self._dunst is None or self._dunst.proc.poll() is not None, 10.0
        ):
            raise TimeoutError("dunst did not take the notifications name")
        if not self.running:
            raise RuntimeError(f"dunst failed to start; see {self.dir / 'dunst.log'}")

    def stop(self) -> None:
        """Stop dunst: the notification server goes away."""
        if self._dunst is not None:
            self._dunst.stop()
            self._dunst = None
        if not wait_for(lambda: not self.running, 5.0):
            raise TimeoutError("the notifications name is still owned after dunst stopped")

    @property
    def running(self) -> bool:
        """Whether some program owns org.freedesktop.Notifications right now."""
        reply = self._control.send_and_get_reply(message_bus.NameHasOwner(NOTIFICATIONS), timeout=5)
        return bool(unwrap_msg(reply)[0])

    def notifications(self) -> list[SeenNotification]:
        """Every notification sent to the server so far, oldest first."""
        with self._lock:
            return list(self._seen)

    def count(self) -> int:
        """How many notifications were sent so far: a mark for `wait_for(..., since=)`."""
        with self._lock:
            return len(self._seen)

    def wait_for(
        self,
        predicate: Callable[[SeenNotification], bool],
        timeout: float = 10.0,
        since: int = 0,
    ) -> SeenNotification:
        """The first notification from mark `since` on, its id known, that satisfies `predicate`."""

        def match() -> SeenNotification | None:
            later = self.notifications()[since:]
            return next((n for n in later if n.id and predicate(n)), None)

        if not wait_for(lambda: match() is not None, timeout):
            raise TimeoutError(f"no such notification within {timeout} s: {self.notifications()}")
        found = match()
        assert found is not None
        return found

    def invoked(self) -> list[tuple[int, str]]:
        """The (id, action key) of every ActionInvoked the server emitted."""
        with self._lock:
            return list(self._invoked)

    def closed(self) -> list[tuple[int, int]]:
        """The (id, reason) of every NotificationClosed the server emitted."""
        with self._lock:
            return list(self._closed)

    def invoke_action(self, notification_id: int, action_key: str, timeout: float = 10.0) -> None:
        """Pick an action of a displayed notification through dunst's context menu."""
        wanted = (notification_id, action_key)
        before = self.invoked().count(wanted)
        (self.dir / "wanted-action").write_text(f"[{notification_id},{action_key}]")
        subprocess.run(["dunstctl", "context"], env=self.env, check=True, timeout=timeout)
        if not wait_for(lambda: self.invoked().count(wanted) > before, timeout):
            raise TimeoutError(f"dunst did not invoke {action_key!r} on {notification_id}")

    def close_all(self) -> None:
        """Close every displayed notification."""
        subprocess.run(["dunstctl", "close-all"], env=self.env, check=True, timeout=10)

    def processes(self) -> list[StackProcess]:
        return [self._dunst] if self._dunst is not None else []

    def fds(self) -> set[int]:
        fd = self._control.sock.fileno()
        return self._monitor.fds() | ({fd} if fd >= 0 else set())

    def close(self) -> None:
        """Stop dunst and the monitor."""
        self.stop()
        self._monitor.close()
        self._control.close()

    def _record(self, msg: Message) -> None:
        with self._lock:
            self._record_locked(msg)

    def _record_locked(self, msg: Message) -> None:
        fields, kind = msg.header.fields, msg.header.message_type
        member = fields.get(HeaderFields.member)
        if kind == MessageType.method_call and member == "Notify":
            app, _replaces, _icon, summary, body, actions, _hints, _timeout = msg.body
            pairs = tuple(zip(actions[::2], actions[1::2], strict=False))
            sender = str(fields.get(HeaderFields.sender))
            self._pending[(sender, msg.header.serial)] = len(self._seen)
            self._seen.append(SeenNotification(0, app, summary, body, pairs, sender))
        elif kind == MessageType.method_return:
            key = (str(fields.get(HeaderFields.destination)), fields.get(HeaderFields.reply_serial))
            index = self._pending.pop(key, None)
            if index is not None and msg.body:
                self._seen[index] = dataclasses.replace(self._seen[index], id=int(msg.body[0]))
        elif member == "ActionInvoked":
            self._invoked.append((int(msg.body[0]), str(msg.body[1])))
        elif member == "NotificationClosed":
            self._closed.append((int(msg.body[0]), int(msg.body[1])))


@dataclass(frozen=True, slots=True)
class BrowserRun:
    """One run of the browser stand-in."""

    url: str
    exit_code: int


@dataclass(frozen=True, slots=True)
class BrowserStandIn:
    """A $BROWSER that loads the URL in headless Chromium and exits."""

    path: Path
    """The executable to set as $BROWSER."""
    dir: Path
    """Its records: runs.log, last-page.html, chromium.log."""

    def runs(self) -> list[BrowserRun]:
        """Every finished run, oldest first."""
        log = self.dir / "runs.log"
        lines = log.read_text().splitlines() if log.exists() else []
        return [BrowserRun(url, int(code)) for code, url in (ln.split(" ", 1) for ln in lines)]

    def wait_for_run(self, url: str, timeout: float = 30.0) -> BrowserRun:
        """The first finished run that opened `url` (skips the test where there is no Chromium)."""
        if not chromium_available():
            pytest.skip(NO_CHROMIUM)
        if not wait_for(lambda: any(r.url == url for r in self.runs()), timeout, 0.05):
            raise TimeoutError(f"the browser did not open {url} within {timeout} s")
        return next(r for r in self.runs() if r.url == url)

    def last_page(self) -> str:
        """The DOM Chromium dumped on its last run."""
        return (self.dir / "last-page.html").read_text()


def make_browser(directory: Path) -> BrowserStandIn:
    """Write the browser stand-in script into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "porttray-test-browser"
    script.write_text(BROWSER_SCRIPT.format(dir=directory, chromium=CHROMIUM))
    script.chmod(0o755)
    return BrowserStandIn(script, directory)


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
        xvfb_argv = [
            "Xvfb",
            "-displayfd",
            "{fd}",
            "-screen",
            "0",
            "1024x768x24",
            "-nolisten",
            "tcp",
        ]
        xvfb, number = _start_reporting([*xvfb_argv, "-noreset"], base, tmp / "xvfb.log")
        processes.append(xvfb)
        (tmp / "bus.conf").write_text(BUS_CONFIG.format(dir=tmp))
        bus_argv = ["dbus-daemon", f"--config-file={tmp / 'bus.conf'}", "--nofork"]
        bus, address = _start_reporting([*bus_argv, "--print-address={fd}"], base, tmp / "bus.log")
        processes.append(bus)
        browser = make_browser(tmp / "browser")
        env = _desktop_env(tmp, f":{number}", address, browser.path)
        notifications = NotificationServer(tmp / "dunst", env)
        stack.callback(notifications.close)
        notifications.start()
        tray = StatusNotifierHost(address)
        stack.callback(tray.close)
        tray.start()
        desktop = Desktop(f":{number}", address, env, tmp, tray, notifications, browser, processes)
        _RUNNING.append(desktop)
        stack.callback(_RUNNING.remove, desktop)
        yield desktop


def _stop_all(processes: list[StackProcess]) -> None:
    for process in reversed(processes):
        process.stop()


def _fds() -> set[int]:
    return {int(fd) for fd in os.listdir("/proc/self/fd")}


def _exempt() -> tuple[set[int], set[int]]:
    pids: set[int] = set()
    fds: set[int] = set()
    for desktop in _RUNNING:
        pids |= desktop.pids()
        fds |= desktop.fds()
    return pids, fds


def _foreign_children() -> list[psutil.Process]:
    """Live descendants of this process that are not the desktop or started by it."""
    exempt, _ = _exempt()
    found = []
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess):
            lineage = {child.pid, *(p.pid for p in child.parents())}
            if child.status() != psutil.STATUS_ZOMBIE and not lineage & exempt:
                found.append(child)
    return found


def _foreign_threads(before: set[threading.Thread]) -> set[threading.Thread]:
    new = set(threading.enumerate()) - before
    return {t for t in new if not t.name.startswith(STACK_THREAD_PREFIX)}


@contextlib.contextmanager
def no_leaks_except_desktop() -> Iterator[None]:
    """Fail when the block leaves a thread, child process or fd behind, the desktop's excepted."""
    threads, fds = set(threading.enumerate()), _fds()
    yield
    gc.collect()
    assert wait_for(lambda: not _foreign_threads(threads), 5.0), (
        f"threads left behind: {sorted(t.name for t in _foreign_threads(threads))}"
    )
    assert wait_for(lambda: not _foreign_children(), 5.0), (
        f"processes left behind: {_foreign_children()}"
    )
    assert wait_for(lambda: not (_fds() - fds - _exempt()[1]), 2.0), (
        f"fds left behind: {[_describe(fd) for fd in _fds() - fds - _exempt()[1]]}"
    )


def _describe(fd: int) -> str:
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return str(fd)


def chromium_available() -> bool:
    """Whether the browser stand-in can run here."""
    return os.access(CHROMIUM, os.X_OK)


def tools_missing() -> list[str]:
    """The programs the desktop needs that are not installed."""
    tools = ["Xvfb", "dbus-daemon", "dunst", "dunstctl", "xclip", "notify-send"]
    return [tool for tool in tools if shutil.which(tool) is None]
