"""A real desktop host's session for tests: its own bus, dunst, $BROWSER stand-in, and porttray.

`HostSession` is what every host shares; a host class (XFCE, tint2, sway, ...) adds the display
server and the panel, and says how to see the panel, click the icon and tell that a menu is open.
Every step a test takes goes through `step()`: a failure names the host and the step, says which
of the host's programs died (with the end of its log) and keeps a screenshot of that moment.
`close()` stops every program it started, porttray too, and reaps them.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
from jeepney import DBusAddress, new_method_call
from jeepney.io.blocking import open_dbus_connection
from jeepney.wrappers import unwrap_msg

from tests.kit.browser import BrowserStandIn, make_browser
from tests.kit.hosts.program import HostProgram, artifacts_dir
from tests.kit.hosts.screen import HostScreen
from tests.kit.hosts.servers import SETTINGS, xembed_layout
from tests.kit.hosts.traffic import MenuTraffic
from tests.kit.leaks import register_stack, unregister_stack
from tests.kit.notifications import NotificationServer
from tests.kit.sni_host import MenuNode, SniItem, StatusNotifierHost
from tests.kit.stack import StackProcess, start_bus
from tests.kit.wait import wait_for

WATCHER = "org.kde.StatusNotifierWatcher"

__all__ = ["WATCHER", "HostProgram", "HostSession", "HostStepFailed", "artifacts_dir"]


class HostStepFailed(AssertionError):
    """A step of a real-host test failed; the message names the host, the step and why."""


class HostSession(HostScreen):
    """What every real-host session has: a private bus, dunst, a browser, porttray on top."""

    name = "host"
    """Short name used in messages and artifact file names."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.processes: list[StackProcess] = []
        self.host_programs: dict[str, StackProcess] = {}
        """The programs that make up the host, by name: checked after a failed step."""
        self.env: dict[str, str] = {}
        self.bus_address = ""
        self.notifications: NotificationServer | None = None
        self.traffic: MenuTraffic | None = None
        self.reader: StatusNotifierHost | None = None
        self.browser: BrowserStandIn = make_browser(tmp / "browser")
        self.porttray: subprocess.Popen[str] | None = None
        self.item: SniItem | None = None
        self._closers: contextlib.ExitStack = contextlib.ExitStack()

    # -- life cycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Start the host; on any failure stop what was started and say which step failed."""
        register_stack(self)
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    def _start(self) -> None:
        raise NotImplementedError

    def spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> HostProgram:
        """Start one program of the session, its output in `<name>.log`."""
        proc = HostProgram(argv, env or self.env, self.tmp / f"{name}.log")
        self.processes.append(proc)
        self.host_programs[name] = proc
        return proc

    def start_bus(self, base: dict[str, str]) -> None:
        """A private session bus (no activation: only what the session starts exists)."""
        bus, self.bus_address = start_bus(self.tmp, base, self.tmp / "bus.log")
        self.processes.append(bus)
        self.host_programs["dbus-daemon"] = bus
        self.traffic = MenuTraffic(self.bus_address)
        self._closers.callback(self.traffic.close)
        self.reader = StatusNotifierHost(self.bus_address)
        self._closers.callback(self.reader.close)
        self.traffic.ignore(self.reader._client.unique_name)

    def start_notifications(self, settings: str = "") -> None:
        """dunst, started by us with the session's environment (see LINUX-DESKTOP.md); `settings`
        are added to its [global] section."""
        self.notifications = NotificationServer(self.tmp / "dunst", self.env)
        self._closers.callback(self.notifications.close)
        rc = self.tmp / "dunst" / "dunstrc"
        rc.write_text(rc.read_text().replace("[global]\n", f"[global]\n{settings}", 1))
        self.notifications.start()

    def close(self) -> None:
        """Stop porttray and every program of the session, newest first; reap them all."""
        self.stop_porttray()
        self._closers.close()
        for proc in reversed(self.processes):
            proc.stop()
        self.processes.clear()
        self._sweep()
        unregister_stack(self)

    def _sweep(self) -> None:
        """End what a host daemonised out of its process group (Plasma starts a second kded5
        with setsid): every process of ours whose environment names this session's runtime
        directory."""
        runtime = self.env.get("XDG_RUNTIME_DIR")
        if not runtime:
            return
        marker = f"XDG_RUNTIME_DIR={runtime}"
        strays = []
        for proc in psutil.process_iter():
            with contextlib.suppress(psutil.Error, OSError):
                if proc.uids().real == os.getuid() and proc.pid != os.getpid():
                    environ = Path(f"/proc/{proc.pid}/environ").read_bytes().split(b"\0")
                    if marker.encode() in environ:
                        strays.append(proc)
        for proc in strays:
            with contextlib.suppress(psutil.Error):
                proc.kill()
        psutil.wait_procs(strays, timeout=5)

    def pids(self) -> set[int]:
        pids = {p.pid for p in self.processes}
        if self.notifications is not None:
            pids |= {p.pid for p in self.notifications.processes()}
        if self.porttray is not None:
            pids.add(self.porttray.pid)
        return pids

    def fds(self) -> set[int]:
        fds: set[int] = set()
        for part in (self.traffic, self.reader, self.notifications):
            if part is not None:
                fds |= part.fds()
        if self.porttray is not None:
            fds |= {f.fileno() for f in (self.porttray.stdout, self.porttray.stderr) if f}
        return fds

    # -- porttray ---------------------------------------------------------------------------

    def start_porttray(self) -> subprocess.Popen[str]:
        """`porttray -v` in the session, its output in porttray.log, showing only the servers
        started with `serve`."""
        settings = Path(self.env["XDG_CONFIG_HOME"]) / "porttray" / "config.toml"
        settings.parent.mkdir(parents=True, exist_ok=True)
        settings.write_text(SETTINGS)
        log = (self.tmp / "porttray.log").open("a")
        with log:
            self.porttray = subprocess.Popen(
                [sys.executable, "-m", "tray", "-v"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                text=True,
            )
        return self.porttray

    def stop_porttray(self) -> None:
        if self.porttray is None:
            return
        if self.porttray.poll() is None:
            self.porttray.terminate()
            try:
                self.porttray.wait(5)
            except subprocess.TimeoutExpired:
                self.porttray.kill()
                self.porttray.wait()
        self.porttray = None
        self.item = None

    def porttray_log(self) -> str:
        path = self.tmp / "porttray.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def wait_for_item(self, timeout: float = 20.0) -> SniItem:
        """porttray's item, once the host's watcher lists it."""
        assert self.porttray is not None
        pid = self.porttray.pid

        def mine() -> SniItem | None:
            return next((i for i in self.registered_items() if self._pid_of(i) == pid), None)

        if not wait_for(lambda: mine() is not None, timeout, 0.1):
            raise TimeoutError(f"porttray's item is not registered with the watcher in {timeout} s")
        self.item = mine()
        assert self.item is not None
        return self.item

    def registered_items(self) -> list[SniItem]:
        """The items the host's StatusNotifierWatcher lists."""
        address = DBusAddress("/StatusNotifierWatcher", WATCHER, "org.freedesktop.DBus.Properties")
        msg = new_method_call(address, "Get", "ss", (WATCHER, "RegisteredStatusNotifierItems"))
        with contextlib.closing(open_dbus_connection(self.bus_address)) as conn:
            try:
                _sig, names = unwrap_msg(conn.send_and_get_reply(msg, timeout=5))[0]
            except Exception:  # the watcher is not there (yet)
                return []
        items = []
        for name in names:
            bus, slash, path = str(name).partition("/")
            items.append(SniItem(bus, f"/{path}" if slash else "/StatusNotifierItem"))
        return items

    def current_layout(self) -> MenuNode:
        """The menu porttray exports right now (what the host renders); on an XEmbed host, where
        the menu is porttray's own GTK menu, the menu its settings make: the tests' servers in
        port order, each with its standard submenu (see `xembed_layout`)."""
        if self.item is None:
            return xembed_layout(self.listed())
        assert self.reader is not None
        return self.reader.layout(self.item)

    def listed(self) -> list[dict[str, Any]]:
        """`porttray list --json` in this session (same settings as the tray)."""
        done = subprocess.run(
            [sys.executable, "-m", "tray", "list", "--json"],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        servers: list[dict[str, Any]] = json.loads(done.stdout)
        return servers

    def _pid_of(self, item: SniItem) -> int | None:
        assert self.reader is not None
        return self.reader._pid_of(item.bus_name)

    # -- steps ------------------------------------------------------------------------------

    @contextlib.contextmanager
    def step(self, what: str) -> Iterator[None]:
        """Run one step; a failure names the host, the step and dead programs, with a screenshot."""
        try:
            yield
        except Exception as exc:
            shot = self.artifact(f"failed-{what.replace(' ', '-')}")
            with contextlib.suppress(Exception):
                self.screenshot(shot)
            raise HostStepFailed(
                f"{self.name}: step '{what}' failed: {exc}\n{self.died()}screenshot: {shot}"
            ) from exc

    def died(self) -> str:
        """A line per host program that has exited, with the end of its log."""
        lines = []
        for name, proc in self.host_programs.items():
            if proc.proc.poll() is not None:
                tail = proc.log.read_text(errors="replace")[-600:] if proc.log.exists() else ""
                lines.append(f"{name} exited with {proc.proc.returncode}; its log ends:\n{tail}\n")
        if self.porttray is not None and self.porttray.poll() is not None:
            lines.append(f"porttray exited: {self.porttray_log()[-600:]}\n")
        return "".join(lines)

    def artifact(self, what: str) -> Path:
        return artifacts_dir() / f"host-{self.name}-{what}.png"
