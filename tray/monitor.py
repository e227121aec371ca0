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

import logging
import math
import queue
import threading
import time

from tray import policy, restarts, rules, users
from tray import state as fold
from tray.config import Config, ConfigWatcher
from tray.containers import Containers
from tray.diff import diff
from tray.discover import Engine
from tray.messages import (
    Hooks,
    Identified,
    Message,
    NewConfig,
    SetAutostart,
    SetPaused,
    StillRunning,
    Stop,
)
from tray.model import Event, Identity, Key, Opened, Restarted, Server, Snapshot
from tray.prober import Identify, Prober
from tray.state import AppState, Gone

logger = logging.getLogger(__name__)

CONFIG_CHECK_EVERY = 1.0
ORPHAN_CHECK_EVERY = 2.0
"""Seconds between two looks at whether the user's servers lost their launcher (/proc reads)."""
REDRAW_GAP = 0.4
"""Seconds between two redraws at the least: a lone change shows at once, but servers churning
several times a second cost one menu rebuild per gap, not one each (a rebuild re-exports the
whole menu over D-Bus and closes it if open)."""
RENAME_GAP = 1.0
"""The same for probe results: dozens probed at once rebuild the menu once a second."""


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
        describe: Identify | None = None,
        watcher: ConfigWatcher | None = None,
        containers: Containers | None = None,
        recent: tuple[Gone, ...] = (),
    ) -> None:
        self._engine = engine
        self._containers = containers
        self._hooks = hooks
        self._fixed_interval = interval
        self._watcher = watcher
        self._user = users.real_user()
        self._rulings = rules.Rulings(self._user, users.real_uid())
        self._inbox: queue.Queue[Message] = queue.Queue()
        self._prober = Prober(identify, self._inbox.put)
        self._describe = describe
        """What a server's process tells of it, before any probe (see `identify.from_process`)."""
        self._lifecycle = threading.Lock()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="porttray-monitor", daemon=True)
        self.state = AppState(method=engine.method, config=config, recent=recent)
        """The state published last: read it from any thread."""
        self._policy = policy.Policy()
        self._snapshot: Snapshot | None = None
        self._scanned: tuple[Server, ...] | None = None
        self._to_open: dict[Key, float] = {}
        self._config_checked = 0.0
        self._orphans_checked = -math.inf
        self._redrawn = -math.inf
        self._redraw_due = math.inf
        """When the shell should next redraw (inf: nothing pending)."""

    @property
    def interval(self) -> float:
        """Seconds between polls: the command line's, else the settings'."""
        return self._fixed_interval or self.state.config.interval

    def start(self) -> None:
        """First snapshot (announced to none, drawn even if empty), then polling; a no-op once
        stopped, so a quit that races the start-up leaves no thread behind."""
        with self._lifecycle:
            if self._stopped:
                return
            if self._containers is not None:
                self._containers.start()
            self._poll()
            if self._redrawn == -math.inf:  # the scan changed nothing: draw `recent` and all
                self._hooks.on_state(self.state)
            self._thread.start()

    def send(self, message: Message) -> None:
        """Queue a message for the monitor thread."""
        self._inbox.put(message)

    def stop(self, timeout: float = 2.0) -> None:
        """Stop polling and probing; returns once the thread has ended (or `timeout` passed)."""
        with self._lifecycle:
            if self._stopped:
                return
            self._stopped = True
        self._prober.close()
        self._inbox.put(Stop())
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._prober.shutdown()
        self._engine.close()
        if self._containers is not None:
            self._containers.close()

    def _run(self) -> None:
        next_poll = time.monotonic() + self.interval
        while True:
            wake = min(next_poll, self._redraw_due)
            try:
                message: Message | None = self._inbox.get(timeout=max(0.0, wake - time.monotonic()))
            except queue.Empty:
                message = None
            if isinstance(message, Stop):
                return
            try:
                if message is not None:
                    self._handle(message)
                elif time.monotonic() >= next_poll:
                    next_poll = self._next(next_poll)
                    self._check_config()
                    self._poll()
                    self._check_orphans()
                self._due_work()
            except Exception:
                logger.exception("the monitor hit an unexpected error; it keeps running")

    def _next(self, scheduled: float) -> float:
        upcoming = scheduled + self.interval
        now = time.monotonic()
        return upcoming if upcoming > now else now + self.interval

    def _poll(self) -> None:
        scan = self._engine.scan()
        servers = scan.servers
        if self._containers is not None:
            servers = self._containers.attach(servers)  # reads the last answer; never waits
        if servers is self._scanned:
            return  # the very same listeners and containers: nothing to do
        self._scanned = servers
        shown, ruled = self._rulings.decide(self.state.config, servers)
        snapshot = Snapshot(shown, scan.method, scan.taken)
        first = self._snapshot is None
        recent = [(g.server, g.until) for g in self.state.recent]
        events = restarts.merge(diff(self._snapshot, snapshot), recent)
        self._snapshot = snapshot
        before = self.state
        opened = tuple(e.server for e in events if isinstance(e, Opened | Restarted))
        after = fold.apply_events(self.state, shown, events, ruled)
        self._publish(self._described(after, shown if first else opened))
        if first or events:
            self._hooks.on_seen(shown if first else (), fold.known_events(before, events))
        self._route(events)
        for event in events:
            if isinstance(event, Restarted):
                self._prober.forget(event.previous.key)
            elif not isinstance(event, Opened):
                self._prober.forget(event.server.key)
        self._probe_unnamed(shown if first else opened)

    def _refilter(self) -> None:
        """Apply new settings to the servers already scanned, announcing none of them: a server
        that a rule stops hiding was not just opened. Servers that opened since are left to the
        next poll's diff, so they are announced as usual."""
        if self._scanned is None or self._snapshot is None:
            return
        shown, ruled = self._rulings.decide(self.state.config, self._scanned)
        self._snapshot = Snapshot(shown, self._snapshot.method, self._snapshot.taken)
        self._publish(self._described(fold.apply_events(self.state, shown, [], ruled), shown))
        self._probe_unnamed(shown)

    def _described(self, state: AppState, servers: tuple[Server, ...]) -> AppState:
        """`state` with what their processes tell of those `servers` that nothing is known of."""
        describe = self._describe
        blank = [s for s in servers if (e := state.find(s.key)) and e.server.identity == Identity()]
        if describe is None or not blank:
            return state
        return fold.apply_identities(state, {s.key: describe(s) for s in blank})

    def _probe_unnamed(self, servers: tuple[Server, ...]) -> None:
        for server in servers:
            if not fold.identified(self.state, server.key):
                self._prober.want(server, self.state.find)

    def _route(self, events: list[Event]) -> None:
        """Opened servers go to the notification policy or the browser, as their entries say."""
        now = time.monotonic()
        announce: list[Event] = []
        for event in events:
            entry = self.state.find(event.server.key) if isinstance(event, Opened) else None
            action = entry.on_open if entry is not None else None
            if action == "open-browser":
                self._to_open[event.server.key] = now + self._policy.naming
            elif action in (None, "notify"):
                announce.append(event)
        self._policy = policy.on_events(self._policy, announce, now, paused=self.state.paused)

    def _handle(self, message: Message) -> None:
        if isinstance(message, Identified):
            named = fold.apply_identity(self.state, message.key, message.identity)
            self._publish(named, RENAME_GAP)
            self._prober.answered(message.key, message.identity, time.monotonic(), self.state.find)
        elif isinstance(message, SetPaused):
            if message.paused:
                self._policy = policy.on_pause(self._policy)
            self._publish(fold.set_paused(self.state, message.paused))
        elif isinstance(message, NewConfig):
            self._apply_config(message.config)
        elif isinstance(message, StillRunning):
            self._publish(fold.mark_stopping(self.state, message.key))
        elif isinstance(message, SetAutostart):
            self._publish(fold.set_autostart(self.state, message.enabled))

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

    def _check_orphans(self) -> None:
        now = time.monotonic()
        if now - self._orphans_checked < ORPHAN_CHECK_EVERY:
            return
        self._orphans_checked = now
        from tray.orphans import orphaned_keys

        self._publish(fold.set_orphans(self.state, orphaned_keys(self.state.entries, self._user)))

    def _apply_config(self, config: Config) -> None:
        if config == self.state.config:
            return
        logger.info("applying new settings")
        self._publish(fold.set_config(self.state, config))
        self._refilter()

    def _due_work(self) -> None:
        """Redraws, re-probes, notifications and browser openings whose time has come."""
        self._redraw()
        now = time.monotonic()
        self._prober.due(now, self.state.find)
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

    def _publish(self, state: AppState, gap: float = REDRAW_GAP) -> None:
        """Make `state` current; the shell redraws at once unless it redrew less than `gap` ago."""
        if state == self.state:
            return
        self.state = state
        self._redraw_due = min(self._redraw_due, max(time.monotonic(), self._redrawn + gap))
        self._redraw()

    def _redraw(self) -> None:
        now = time.monotonic()
        if now < self._redraw_due:
            return
        self._redraw_due = math.inf
        self._redrawn = now
        self._hooks.on_state(self.state)
