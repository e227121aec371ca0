"""The monitor thread: the single writer of the tray's state.

It waits on an inbox with a timeout that is the poll timer (a drift-free schedule). On timeout it
scans, diffs, folds the events into a new `AppState` and feeds the notification policy; otherwise it
handles a message — a probe result, a pause toggle, new settings, stop. After either, it publishes
the new state (the shell redraws only what changed) and hands any due notification to the shell.

Probes of new servers run on a small pool and come back as messages; they never touch the state.
The settings file is checked about once a second (a stat); a bad file keeps the last good settings
and is reported once.
"""

from __future__ import annotations

import getpass
import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from tray import policy, rules
from tray.config import Config, ConfigWatcher
from tray.diff import diff
from tray.discover import Engine
from tray.model import Event, Identity, Opened, Server, Snapshot
from tray.state import (
    AppState,
    Key,
    apply_events,
    apply_identity,
    mark_stopping,
    set_autostart,
    set_config,
    set_paused,
)

logger = logging.getLogger(__name__)

Identify = Callable[[Server], Identity]
CONFIG_CHECK_EVERY = 1.0
REPROBE_AFTER = (3.0, 10.0, 30.0)
"""Delays after which a server that did not answer its probe (still starting) is asked again."""
REPROBE_LIMIT = 50
"""At most this many servers wait for another probe (a thousand silent listeners must not keep the
probe pool busy for minutes)."""


@dataclass(frozen=True, slots=True)
class Identified:
    """A probe finished."""

    key: Key
    """The server it is about."""
    identity: Identity
    """What it found."""


@dataclass(frozen=True, slots=True)
class SetPaused:
    """The user paused or resumed notifications."""

    paused: bool
    """The new setting."""


@dataclass(frozen=True, slots=True)
class NewConfig:
    """Settings changed (read from the file, or changed from the menu)."""

    config: Config
    """The settings to use from now on."""


@dataclass(frozen=True, slots=True)
class StillRunning:
    """A server asked to stop has not stopped: offer Force stop."""

    key: Key
    """The server."""


@dataclass(frozen=True, slots=True)
class SetAutostart:
    """Start at login was turned on or off."""

    enabled: bool
    """The new setting."""


@dataclass(frozen=True, slots=True)
class Stop:
    """End the monitor thread."""


Message = Identified | SetPaused | NewConfig | StillRunning | SetAutostart | Stop


@dataclass(frozen=True, slots=True)
class Hooks:
    """What the monitor asks the shell to do. Each is called on the monitor thread."""

    on_state: Callable[[AppState], None]
    """A new state was published."""
    on_notes: Callable[[tuple[Server, ...]], None]
    """These new servers should be announced together."""
    on_open: Callable[[Server], None] = lambda server: None
    """A rule asks for this new server to be opened in the browser."""
    on_error: Callable[[str], None] = lambda message: None
    """Something the user should know (a bad settings file)."""


class Monitor:
    """Owns the engine, the state and the notification policy; runs them on its own thread."""

    def __init__(
        self,
        engine: Engine,
        hooks: Hooks,
        *,
        config: Config,
        interval: float | None = None,
        identify: Identify | None = None,
        watcher: ConfigWatcher | None = None,
    ) -> None:
        self._engine = engine
        self._hooks = hooks
        self._fixed_interval = interval
        self._identify = identify
        self._watcher = watcher
        self._user = getpass.getuser()
        self._inbox: queue.Queue[Message] = queue.Queue()
        self._probes = ThreadPoolExecutor(max_workers=4, thread_name_prefix="porttray-probe")
        self._thread = threading.Thread(target=self._run, name="porttray-monitor", daemon=True)
        self.state = AppState(method=engine.method, config=config)
        """The state published last: read it from any thread."""
        self._policy = policy.Policy()
        self._snapshot: Snapshot | None = None
        self._scanned: tuple[Server, ...] | None = None
        self._to_open: dict[Key, float] = {}
        self._reprobe: dict[Key, tuple[int, float]] = {}
        """Servers whose probe got no answer: (attempts so far, when to try again)."""
        self._config_checked = 0.0

    @property
    def interval(self) -> float:
        """Seconds between polls: the command line's, else the settings'."""
        return self._fixed_interval or self.state.config.interval

    def start(self) -> None:
        """Take the first snapshot (announcing nothing) and start polling."""
        self._poll()
        self._thread.start()

    def send(self, message: Message) -> None:
        """Queue a message for the monitor thread."""
        self._inbox.put(message)

    def stop(self, timeout: float = 2.0) -> None:
        """Stop polling and probing; returns once the thread has ended (or `timeout` passed)."""
        self._inbox.put(Stop())
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._probes.shutdown(wait=False, cancel_futures=True)
        self._engine.close()

    def _run(self) -> None:
        next_poll = time.monotonic() + self.interval
        while True:
            wait = max(0.0, next_poll - time.monotonic())
            try:
                message: Message | None = self._inbox.get(timeout=wait)
            except queue.Empty:
                message = None
            if isinstance(message, Stop):
                return
            try:
                if message is None:
                    next_poll = self._next(next_poll)
                    self._check_config()
                    self._poll()
                else:
                    self._handle(message)
                self._due_work()
            except Exception:
                logger.exception("the monitor hit an unexpected error; it keeps running")

    def _next(self, scheduled: float) -> float:
        upcoming = scheduled + self.interval
        now = time.monotonic()
        return upcoming if upcoming > now else now + self.interval

    def _shown(self, server: Server) -> bool:
        return server.loopback and not rules.hidden(self.state.config, server, self._user)

    def _poll(self, *, force: bool = False) -> None:
        scan = self._engine.scan()
        if scan.servers is self._scanned and not force:
            return  # the engine found the very same listeners: nothing to do
        self._scanned = scan.servers
        shown = tuple(s for s in scan.servers if self._shown(s))
        snapshot = Snapshot(shown, scan.method, scan.taken)
        first = self._snapshot is None
        events = [] if force else diff(self._snapshot, snapshot)
        self._snapshot = snapshot
        self._publish(apply_events(self.state, shown, events))
        self._route(events)
        opened = tuple(e.server for e in events if isinstance(e, Opened))
        for server in shown if first or force else opened:
            if not _identified(self.state, server.key):
                self._probe(server)

    def _route(self, events: list[Event]) -> None:
        """Opened servers go to the notification policy or the browser, as the rules say."""
        config, now = self.state.config, time.monotonic()
        announce: list[Event] = []
        for event in events:
            action = rules.on_open(config, event.server) if isinstance(event, Opened) else None
            if action == "open-browser":
                self._to_open[event.server.key] = now + self._policy.naming
            elif action in (None, "notify"):
                announce.append(event)
        self._policy = policy.on_events(self._policy, announce, now, self.state.paused)

    def _probe(self, server: Server) -> None:
        if self._identify is None:
            return
        future = self._probes.submit(self._identify, server)
        future.add_done_callback(lambda done: self._probed(server.key, done))

    def _probed(self, key: Key, done: Future[Identity]) -> None:
        if done.cancelled():
            return
        error = done.exception()
        if error is not None:
            logger.warning("identifying the server on port %d failed: %s", key[0], error)
            return
        self._inbox.put(Identified(key, done.result()))

    def _handle(self, message: Message) -> None:
        if isinstance(message, Identified):
            self._publish(apply_identity(self.state, message.key, message.identity))
            self._plan_reprobe(message.key, message.identity)
        elif isinstance(message, SetPaused):
            if message.paused:
                self._policy = policy.on_pause(self._policy)
            self._publish(set_paused(self.state, message.paused))
        elif isinstance(message, NewConfig):
            self._apply_config(message.config)
        elif isinstance(message, StillRunning):
            self._publish(mark_stopping(self.state, message.key))
        elif isinstance(message, SetAutostart):
            self._publish(set_autostart(self.state, message.enabled))

    def _plan_reprobe(self, key: Key, identity: Identity) -> None:
        attempts = self._reprobe.pop(key, (0, 0.0))[0]
        room = len(self._reprobe) < REPROBE_LIMIT
        if identity.protocol is None and attempts < len(REPROBE_AFTER) and room:
            self._reprobe[key] = (attempts + 1, time.monotonic() + REPROBE_AFTER[attempts])

    def _reprobe_due(self, now: float) -> None:
        for key, (attempts, due) in list(self._reprobe.items()):
            entry = self.state.find(key)
            if entry is None:
                del self._reprobe[key]
            elif now >= due:
                self._reprobe[key] = (attempts, float("inf"))  # in flight
                self._probe(entry.server)

    def _check_config(self) -> None:
        now = time.monotonic()
        if self._watcher is None or now - self._config_checked < CONFIG_CHECK_EVERY:
            return
        self._config_checked = now
        result = self._watcher.check()
        if result is None:
            return
        config, error = result
        if error is not None:
            self._hooks.on_error(f"settings not applied, keeping the last good ones: {error}")
        self._apply_config(config)

    def _apply_config(self, config: Config) -> None:
        if config == self.state.config:
            return
        logger.info("applying new settings")
        self._publish(set_config(self.state, config))
        self._poll(force=True)  # re-filter without announcing servers that became visible

    def _due_work(self) -> None:
        """Re-probes, notifications and browser openings whose time has come."""
        now = time.monotonic()
        self._reprobe_due(now)
        self._policy, due = policy.take_due(self._policy, self.state, now)
        if due:
            self._hooks.on_notes(due)
        for key, deadline in list(self._to_open.items()):
            entry = self.state.find(key)
            if entry is None:
                del self._to_open[key]
            elif entry.server.identity.protocol is not None or now >= deadline:
                del self._to_open[key]
                self._hooks.on_open(entry.server)

    def _publish(self, state: AppState) -> None:
        if state == self.state:
            return
        self.state = state
        self._hooks.on_state(state)


def _identified(state: AppState, key: Key) -> bool:
    entry = state.find(key)
    return entry is not None and entry.server.identity.protocol is not None
