"""The monitor thread: the single writer of the tray's state.

It waits on an inbox with a timeout that is the poll timer (a drift-free schedule). On timeout it
scans, diffs, folds the events into a new `AppState` and feeds the notification policy; otherwise it
handles a message — a probe result, a pause toggle, stop. After either, it publishes the new state
(only when the menu or icon would change) and hands any due notification to the shell.

Probes of new servers run on a small pool and come back as messages; they never touch the state.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from tray import policy
from tray.diff import diff, visible
from tray.discover import Engine
from tray.model import Identity, Opened, Server, Snapshot
from tray.state import AppState, Key, apply_events, apply_identity, set_paused

logger = logging.getLogger(__name__)

Identify = Callable[[Server], Identity]


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
class Stop:
    """End the monitor thread."""


Message = Identified | SetPaused | Stop


class Monitor:
    """Owns the engine, the state and the notification policy; runs them on its own thread."""

    def __init__(
        self,
        engine: Engine,
        *,
        interval: float,
        on_state: Callable[[AppState], None],
        on_notes: Callable[[tuple[Server, ...]], None],
        identify: Identify | None = None,
        include_all: bool = False,
    ) -> None:
        self._engine = engine
        self._interval = interval
        self._on_state = on_state
        self._on_notes = on_notes
        self._identify = identify
        self._include_all = include_all
        self._inbox: queue.Queue[Message] = queue.Queue()
        self._probes = ThreadPoolExecutor(max_workers=4, thread_name_prefix="porttray-probe")
        self._thread = threading.Thread(target=self._run, name="porttray-monitor", daemon=True)
        self.state = AppState(method=engine.method)
        """The state published last: read it from any thread."""
        self._policy = policy.Policy()
        self._snapshot: Snapshot | None = None
        self._scanned: tuple[Server, ...] | None = None

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
        next_poll = time.monotonic() + self._interval
        while True:
            try:
                message: Message | None = self._inbox.get(
                    timeout=max(0.0, next_poll - time.monotonic())
                )
            except queue.Empty:
                message = None
            try:
                if isinstance(message, Stop):
                    return
                if message is None:
                    next_poll = self._next(next_poll)
                    self._poll()
                else:
                    self._handle(message)
                self._announce()
            except Exception:
                logger.exception("the monitor hit an unexpected error; it keeps running")

    def _next(self, scheduled: float) -> float:
        upcoming = scheduled + self._interval
        now = time.monotonic()
        return upcoming if upcoming > now else now + self._interval

    def _poll(self) -> None:
        scan = self._engine.scan()
        if scan.servers is self._scanned:
            return  # the engine found the very same listeners: nothing to do
        self._scanned = scan.servers
        snapshot = Snapshot(visible(scan.servers, self._include_all), scan.method, scan.taken)
        first = self._snapshot is None
        events = diff(self._snapshot, snapshot)
        self._snapshot = snapshot
        self._policy = policy.on_events(self._policy, events, time.monotonic(), self.state.paused)
        self._publish(apply_events(self.state, snapshot.servers, events))
        opened = tuple(e.server for e in events if isinstance(e, Opened))
        for server in snapshot.servers if first else opened:
            self._probe(server)

    def _probe(self, server: Server) -> None:
        if self._identify is None:
            return
        identify = self._identify
        future = self._probes.submit(identify, server)
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
        elif isinstance(message, SetPaused):
            if message.paused:
                self._policy = policy.on_pause(self._policy)
            self._publish(set_paused(self.state, message.paused))

    def _announce(self) -> None:
        self._policy, due = policy.take_due(self._policy, self.state, time.monotonic())
        if due:
            self._on_notes(due)

    def _publish(self, state: AppState) -> None:
        if state == self.state:
            return
        self.state = state
        self._on_state(state)
