"""The tray application: wiring, threads and lifecycle. The only module that imports pystray.

Threads: pystray's `run()` owns the main thread (macOS requires it) and only renders the state the
monitor published last and dispatches clicks; the monitor thread scans and decides; probes run on
its pool; desktop-notifier runs its own asyncio loop. Quit stops them all within two seconds.
"""

from __future__ import annotations

import functools
import logging
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tray import autostart, config, icons, menu, stopping, users
from tray.backend import Backend, BackendError, choose, load_pystray, ui_caller
from tray.browser import open_url
from tray.clipboard import Clipboard
from tray.containers import Containers, EngineError
from tray.discover import open_engine
from tray.instance import InstanceLock
from tray.model import Container, Identity, Server
from tray.monitor import Hooks, Monitor, SetAutostart, SetPaused, StillRunning
from tray.notify import Notifier
from tray.policy import note_for
from tray.state import RECENT_LIMIT, AppState

logger = logging.getLogger(__name__)

FORCE_AFTER = 3.0
"""Seconds after Stop before Force stop is offered for a server that is still running."""


def to_pystray(
    pystray: Any, items: tuple[menu.Item, ...], dispatch: Callable[[menu.Action], None]
) -> list[Any]:
    """Menu data → pystray items. Actions are bound with closures: pystray counts parameters.

    Every item carries its menu key as `.key` (see `keyed_item`), which the StatusNotifierItem
    backend turns into a stable dbusmenu id; other backends ignore it.
    """
    keyed = keyed_item(pystray)
    built: list[Any] = []
    for item in items:
        if item.label == "-" and not item.children:
            built.append(pystray.Menu.SEPARATOR)  # backends compare it by identity
        elif item.children:
            sub = to_pystray(pystray, item.children, dispatch)
            menu_ = pystray.Menu(*sub)
            built.append(keyed(item.label, menu_, enabled=item.enabled, key=item.key))
        else:
            checked = _constant(item.checked) if item.checked is not None else None
            action = _bind(dispatch, item.action)
            built.append(
                keyed(item.label, action, enabled=item.enabled, checked=checked, key=item.key)
            )
    return built


@functools.cache
def keyed_item(pystray: Any) -> Any:
    """A `pystray.MenuItem` that also carries a menu key (one class per pystray module).

    pystray wraps every constant attribute (enabled, visible, radio, default, an absent check
    mark) in a closure of its own, and a menu of 50 servers has about 460 items, built afresh on
    every change; here the constants share one function each (see benchmarks/bench_backends.py).
    """

    class KeyedMenuItem(pystray.MenuItem):  # type: ignore[misc]
        def __init__(self, text: str, action: Any, *, key: str = "", **kwargs: Any) -> None:
            super().__init__(text, action, **kwargs)
            self.key = key

        def _wrap(self, value: Any) -> Any:
            if isinstance(value, bool):
                return _true if value else _false
            return super()._wrap(value)

        def _assert_callable(self, value: Any, default: Any) -> Any:
            return _unchecked if value is None else super()._assert_callable(value, default)

    return KeyedMenuItem


def _true(_item: Any) -> bool:
    return True


def _false(_item: Any) -> bool:
    return False


def _unchecked(_item: Any) -> None:
    return None


def _bind(
    dispatch: Callable[[menu.Action], None], action: menu.Action | None
) -> Callable[[Any, Any], None]:
    """pystray calls an action with (icon, item); one taking both is kept unwrapped."""

    def clicked(_icon: Any, _item: Any) -> None:
        if action is not None:
            dispatch(action)

    return clicked


def _constant(value: bool) -> Callable[[Any], bool]:
    return _true if value else _false


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
        self._menu_items = menu.build(AppState(), user=self._user)
        self.icon = pystray.Icon(
            "porttray", icon=icons.render(0), title="porttray", menu=pystray.Menu(self._menu)
        )
        if hasattr(self.icon, "on_signal"):  # porttray's own StatusNotifierItem backend
            self.icon.on_signal = self.quit
            self.icon.on_secondary = self._open_newest
        self._notifier = Notifier(fallback=self._fallback_notify, icon=_notification_icon())
        self._clipboard = Clipboard(on_error=self.report, use_gtk=backend.glib)
        from tray import history

        self._history = history.Recorder(history.History(), self.report)
        past = history.History()  # read here, before the first scan; notices wait for _setup
        self._history_notices = past.notices
        hooks = Hooks(
            self._on_state, self._on_notes, self._open_server, self.report, self._history.events
        )
        self._containers = Containers()
        self.monitor = Monitor(
            open_engine(method),
            hooks,
            config=watcher.config,
            interval=interval,
            identify=self._identify,
            watcher=watcher,
            recent=history.recently_closed(RECENT_LIMIT, past),
            containers=self._containers,
        )
        self._stopping = threading.Event()

    def run(self) -> int:
        """Show the icon and block until Quit (or SIGTERM/SIGINT)."""
        try:
            self.icon.run(setup=self._setup)
        except Exception as exc:
            if not self._stopping.is_set():
                logger.exception("the tray stopped")
                self._shutdown()
                _release_setup(self.icon)
                return 1
            logger.debug("the tray backend complained while stopping: %s", exc)
        self._shutdown()
        _release_setup(self.icon)
        return 0

    def _setup(self, icon: Any) -> None:
        if self._stopping.is_set():
            return  # the backend failed before it was ready (see _release_setup)
        self._history.start()
        self.monitor.start()  # the first scan fills the menu before the icon shows
        icon.visible = True
        self._install_signal_handlers()
        self._notifier.start()  # may wait a moment for the notification server's answer
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
        state = self.monitor.state
        if action.kind == "open":
            open_url(action.value, self.report)
        elif action.kind == "copy":
            self._clipboard.copy(action.value)
        elif action.kind == "pause":
            self.monitor.send(SetPaused(not state.paused))
        elif action.kind == "autostart":
            self._toggle_autostart(not state.autostart)
        elif action.kind == "hide" and action.server is not None:
            self._hide(action.server[0])
        elif action.kind in ("stop", "force") and action.server is not None:
            self._stop(action.server, force=action.kind == "force")
        elif action.kind == "stop_orphans":
            for key in sorted(state.orphans, key=lambda k: (k[0], k[1] or 0)):
                self._stop(key, force=False)  # each re-checked as Stop server does
        elif action.kind == "quit":
            self.quit()

    def _toggle_autostart(self, enable: bool) -> None:
        try:
            if enable:
                self._autostart.enable(autostart.launch_command())
            else:
                self._autostart.disable()
        except OSError as exc:
            self.report(f"could not change start at login ({self._autostart.where()}): {exc}")
        self.monitor.send(SetAutostart(self._autostart.enabled()))

    def _hide(self, port: int) -> None:
        try:
            config.add_ignore_rule(self._settings_path, port)
        except (OSError, ValueError, config.ConfigError) as exc:
            self.report(f"could not hide port {port}: {exc}")
        # the monitor notices the changed file within a second and applies it

    def _stop(self, key: tuple[int, int | None], *, force: bool) -> None:
        entry = self.monitor.state.find(key)
        if entry is not None and entry.server.container is not None:
            self._stop_container(entry.server.container)
            return
        if entry is None or entry.server.pid is None:
            return
        pid = entry.server.pid
        started = entry.server.process.started if entry.server.process else None
        result = stopping.stop(pid, started, force=force)
        if not result.ok:
            self.report(f"did not stop the server on port {key[0]}: {result.message}")
            return
        logger.info("%s", result.message)
        if not force:
            timer = threading.Timer(FORCE_AFTER, self._check_stopped, (key, pid, started))
            timer.name = "porttray-stop-check"
            timer.daemon = True
            timer.start()

    def _stop_container(self, box: Container) -> None:
        """Ask the engine to stop the container, off the UI thread: it answers only once the
        container has stopped, after the container's own stop timeout."""

        def run() -> None:
            try:
                logger.info("container %s: %s", box.name, self._containers.stop(box))
            except EngineError as exc:
                self.report(f"did not stop container {box.name}: {exc}")

        threading.Thread(target=run, name="porttray-stop-container", daemon=True).start()

    def _check_stopped(self, key: tuple[int, int | None], pid: int, started: float | None) -> None:
        if stopping.alive(pid, started):
            self.monitor.send(StillRunning(key))

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


def _release_setup(icon: Any) -> None:
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


def _notification_icon() -> Path | None:
    """porttray's icon as a file for notifications (the servers show it next to the text)."""
    try:
        import platformdirs

        path = Path(platformdirs.user_cache_dir("porttray")) / "porttray-64.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        icons.render(0, size=64).save(path)
    except OSError as exc:
        logger.info("notifications will show no porttray icon: %s", exc)
        return None
    return path


def _title(count: int) -> str:
    if count == 0:
        return "porttray: no local servers"
    return f"porttray: {count} local server{'s' if count != 1 else ''}"


M_ARENA_MAX = -8
"""glibc's mallopt() parameter for the number of malloc arenas."""


def limit_malloc_arenas(arenas: int = 2) -> None:
    """Cap glibc's per-thread malloc arenas before any thread starts.

    Every thread that allocates gets an arena of its own by default; in a long-running tray with a
    handful of mostly idle threads, that memory is held but barely used (about 3 MiB measured).
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").mallopt(M_ARENA_MAX, arenas)
    except (OSError, AttributeError):
        pass  # not glibc


def run_tray(*, interval: float | None = None, method: str | None = None) -> int:
    """Start the tray and block until Quit. Returns the process exit code."""
    limit_malloc_arenas()
    try:
        backend = choose()
    except BackendError as exc:
        print(f"porttray: cannot show a tray icon: {exc}", file=sys.stderr)
        return 3
    lock = InstanceLock()
    if not lock.acquire():
        print("porttray is already running in this session.")
        return 0
    try:
        pystray = load_pystray(backend)
    except BackendError as exc:
        print(f"porttray: cannot show a tray icon: {exc}", file=sys.stderr)
        return 3
    try:
        app = App(
            pystray,
            backend,
            settings_path=config.default_path(),
            interval=interval,
            method=method,
        )
        return app.run()
    finally:
        lock.release()
