"""The tray application: wiring, threads and lifecycle. The only module that imports pystray.

Threads: pystray's `run()` owns the main thread (macOS requires it) and only renders the state the
monitor published last and dispatches clicks; the monitor thread scans and decides; probes run on
its pool; desktop-notifier runs on the StatusNotifierItem's asyncio loop, or on a loop of its own
with the other backends. Quit stops them all within two seconds.
"""

from __future__ import annotations

import functools
import logging
import signal
import threading
from collections.abc import Callable
from typing import Any

from tray import autostart, config, icons, memory, menu, users
from tray.backend import Backend, release_setup, ui_caller
from tray.browser import open_url
from tray.clipboard import Clipboard
from tray.containers import Containers
from tray.discover import open_engine
from tray.messages import Hooks, SetAutostart, SetPaused, StillRunning
from tray.model import Identity, Key, Server
from tray.monitor import Monitor
from tray.notify import Notifier
from tray.policy import note_for
from tray.pystray_menu import to_pystray
from tray.state import RECENT_LIMIT, AppState
from tray.stop_actions import Stopper

logger = logging.getLogger(__name__)


class App:
    """porttray in the tray."""

    def __init__(
        self,
        pystray: Any,
        backend: Backend,
        *,
        settings_path: Any,
        interval: float | None,
        method: str | None,
    ) -> None:
        self._pystray = pystray
        self._backend = backend
        self._user = users.real_user()
        self._settings_path = settings_path
        self._autostart = autostart.for_platform()
        watcher = config.ConfigWatcher(settings_path)
        first = watcher.check()  # read the file before the first scan, not a second after it
        self._startup_error = first[1] if first else None
        self._on_ui = ui_caller(backend)
        self._drawn: tuple[int, bool, bool] | None = None
        self._shrink = memory.Shrink()
        self._menu_items = menu.build(AppState(), user=self._user)
        self.icon = pystray.Icon(
            "porttray", icon=icons.render(0), title="porttray", menu=pystray.Menu(self._menu)
        )
        if hasattr(self.icon, "on_signal"):  # porttray's own StatusNotifierItem backend
            self.icon.on_signal = self.quit
            self.icon.on_secondary = self._open_newest
        self._notifier = Notifier(fallback=self._fallback_notify, icon=icons.notification_icon())
        self._clipboard = Clipboard(on_error=self.report, use_gtk=backend.glib)
        self._containers = Containers()
        self._stopper = Stopper(
            self._containers, self.report, lambda key: self.monitor.send(StillRunning(key))
        )
        self.monitor = self._make_monitor(watcher, interval=interval, method=method)
        self._actions = self._action_table()
        self._stopping = threading.Event()

    def _make_monitor(
        self, watcher: config.ConfigWatcher, *, interval: float | None, method: str | None
    ) -> Monitor:
        """The monitor, wired to this app's hooks and to the history of past runs."""
        from tray import history
        from tray.recorder import Recorder

        self._history = Recorder(history.History(), self.report)
        past = history.History()  # read here, before the first scan; notices wait for _setup
        self._history_notices = past.notices
        hooks = Hooks(
            self._on_state, self._on_notes, self._open_server, self.report, self._history.events
        )
        return Monitor(
            open_engine(method),
            hooks,
            config=watcher.config,
            interval=interval,
            identify=self._identify,
            describe=_described,
            watcher=watcher,
            recent=history.recently_closed(RECENT_LIMIT, past),
            containers=self._containers,
        )

    def run(self) -> int:
        """Show the icon and block until Quit (or SIGTERM/SIGINT)."""
        try:
            self.icon.run(setup=self._setup)
        except Exception as exc:
            if not self._stopping.is_set():
                logger.exception("the tray stopped")
                self._shutdown()
                release_setup(self.icon)
                return 1
            logger.debug("the tray backend complained while stopping: %s", exc)
        self._shutdown()
        release_setup(self.icon)
        return 0

    def _setup(self, icon: Any) -> None:
        if self._stopping.is_set():
            return  # the backend failed before it was ready (see backend.release_setup)
        self._history.start()
        self.monitor.start()  # the first scan fills the menu before the icon shows
        icon.visible = True
        title, icon.title = icon.title, ""  # pystray's gtk backend pushed no title while hidden
        icon.title = title
        self._install_signal_handlers()
        # on the tray item's loop where it has one; may wait a moment for the server's answer
        self._notifier.start(getattr(icon, "asyncio_loop", None))
        if self._startup_error is not None:
            self.report(f"settings not applied, using the defaults: {self._startup_error}")
        for notice in self._history_notices:
            self.report(notice)
        self.monitor.send(SetAutostart(self._autostart.enabled()))
        logger.info(
            "porttray is running (%s backend, %s discovery)",
            self._backend.name,
            self.monitor.state.method,
        )

    def _install_signal_handlers(self) -> None:
        if self._backend.glib:
            from gi.repository import GLib

            for signo in (signal.SIGTERM, signal.SIGINT):
                GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signo, self._on_signal)

    def _on_signal(self) -> bool:
        self.quit()
        return False

    def quit(self) -> None:
        """Stop everything; pystray's run() then returns on the main thread."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        self.monitor.stop()
        self.icon.stop()

    def _shutdown(self) -> None:
        self._stopping.set()
        self.monitor.stop()
        self._history.stop()
        self._notifier.stop()
        self._clipboard.close()

    # state → UI

    def _menu(self) -> list[Any]:
        return to_pystray(self._pystray, self._menu_items, self.dispatch)

    def _on_state(self, state: AppState) -> None:
        """On the monitor thread: build the menu data, then hand the redraw to the UI thread."""
        items = menu.build(state, user=self._user)
        drawn = (len(state.entries), state.exposed, state.paused)
        self._on_ui(lambda: self._redraw(items, drawn))
        if self._shrink.fell(len(state.entries)):
            memory.trim_soon()  # most servers left: give their memory back

    def _redraw(self, items: tuple[menu.Item, ...], drawn: tuple[int, bool, bool]) -> None:
        """Only what changed: a menu rebuild closes an open menu on some desktops."""
        if items != self._menu_items:
            self._menu_items = items
            self.icon.update_menu()
        if drawn != self._drawn:
            self._drawn = drawn
            draw = getattr(self.icon, "draw", None)  # the SNI icon draws every size itself
            if draw is not None:
                draw(drawn[0], exposed=drawn[1], paused=drawn[2])
            else:
                self.icon.icon = icons.render(drawn[0], exposed=drawn[1], paused=drawn[2])
            self.icon.title = _title(drawn[0])

    def _on_notes(self, servers: tuple[Server, ...]) -> None:
        note = note_for(servers, address=self.monitor.state.config.address)
        url = note.url
        if url is None:
            self._notifier.notify(note.title, note.body)
            return

        def open_it() -> None:
            open_url(url, self.report)

        self._notifier.notify(
            note.title, note.body, button=(note.button, open_it), on_click=open_it
        )

    def _open_newest(self) -> None:
        """Middle click on the icon: open the server that started last."""
        state = self.monitor.state
        newest = max(state.entries, key=lambda e: e.since, default=None)
        if newest is not None:
            self._open_server(newest.server)

    def _open_server(self, server: Server) -> None:
        note = note_for((server,), address=self.monitor.state.config.address)
        open_url(note.url or server.url, self.report)

    # clicks

    def dispatch(self, action: menu.Action) -> None:
        """Carry out a menu action. Runs on the UI thread: nothing here may block."""
        handler = self._actions.get(action.kind)
        if handler is not None:
            handler(action)

    def _action_table(self) -> dict[str, Callable[[menu.Action], None]]:
        """What each kind of menu action does (see `menu.Action.kind`)."""
        return {
            "open": lambda action: open_url(action.value, self.report),
            "copy": lambda action: self._clipboard.copy(action.value),
            "pause": lambda _action: self.monitor.send(SetPaused(not self.monitor.state.paused)),
            "autostart": lambda _action: self._toggle_autostart(not self.monitor.state.autostart),
            "hide": self._hide,
            "stop": functools.partial(self._stop_server, force=False),
            "force": functools.partial(self._stop_server, force=True),
            "stop_orphans": lambda _action: self._stop_orphans(),
            "quit": lambda _action: self.quit(),
        }

    def _stop_server(self, action: menu.Action, *, force: bool) -> None:
        if action.server is not None:
            self._stop(action.server, force=force)

    def _stop_orphans(self) -> None:
        for key in sorted(self.monitor.state.orphans, key=lambda k: (k[0], k[1] or 0)):
            self._stop(key, force=False)  # each re-checked as Stop server does

    def _toggle_autostart(self, enable: bool) -> None:
        try:
            if enable:
                self._autostart.enable(autostart.launch_command())
            else:
                self._autostart.disable()
        except OSError as exc:
            self.report(f"could not change start at login ({self._autostart.where()}): {exc}")
        self.monitor.send(SetAutostart(self._autostart.enabled()))

    def _hide(self, action: menu.Action) -> None:
        if action.server is None:
            return
        port = action.server[0]
        try:
            config.add_ignore_rule(self._settings_path, port)
        except (OSError, ValueError, config.ConfigError) as exc:
            self.report(f"could not hide port {port}: {exc}")
        # the monitor notices the changed file within a second and applies it

    def _stop(self, key: Key, *, force: bool) -> None:
        entry = self.monitor.state.find(key)
        if entry is not None:
            self._stopper.stop(entry, force=force)

    def _identify(self, server: Server) -> Identity:
        """Runs on a probe worker: what the server is, honouring the probe settings."""
        from tray.identify import identify

        return identify(server, config=self.monitor.state.config)

    def report(self, message: str) -> None:
        """Tell the user something went wrong, without stopping anything."""
        logger.warning("%s", message)
        self._notifier.notify("porttray", message)

    def _fallback_notify(self, title: str, body: str) -> None:
        if self._backend.has_notification:
            self.icon.notify(body, title)


def _described(server: Server) -> Identity:
    """On the monitor thread: what a new server's process tells of it (no probe)."""
    from tray.identify import from_process

    return from_process(server)


def _title(count: int) -> str:
    if count == 0:
        return "porttray: no local servers"
    return f"porttray: {count} local server{'s' if count != 1 else ''}"
