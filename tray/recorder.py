"""The history's writer thread: the tray records what it sees without waiting on the file.

Sightings queue up and are written in batches: a burst of servers opening at once, or whatever
piled up while the file was busy, costs one transaction.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable

from tray.history import MAX_ROWS, History, HistoryError, Seen
from tray.model import Closed, Event, Server

logger = logging.getLogger(__name__)


class Recorder:
    """Writes to the history on a thread of its own, so a busy file never holds up the tray."""

    def __init__(self, history: History, on_error: Callable[[str], None]) -> None:
        self._history = history
        self._on_error = on_error
        self._inbox: queue.Queue[list[Seen] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="porttray-history", daemon=True)
        self._failed = False

    def start(self) -> None:
        """Start the writer thread."""
        self._thread.start()

    def seen(self, servers: tuple[Server, ...], at: float, *, closed: bool = False) -> None:
        """Queue servers seen listening (or gone); returns at once."""
        if servers:
            self._inbox.put([(s, at, closed) for s in servers])

    def events(self, servers: tuple[Server, ...], events: Iterable[Event]) -> None:
        """A scan's servers (the first scan's) and events, as the monitor or `watch` sees them."""
        now = time.time()
        seen = [(s, now, False) for s in servers]
        seen += [(e.server, e.at, isinstance(e, Closed)) for e in events]
        if seen:
            self._inbox.put(seen)

    def stop(self, timeout: float = 2.0) -> None:
        """Write what is queued, then end the thread (within `timeout`)."""
        self._inbox.put(None)
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        stopping = False
        while not stopping and (batch := self._inbox.get()) is not None:
            while len(batch) < MAX_ROWS and not self._inbox.empty():
                more = self._inbox.get()  # what queued up meanwhile goes in the same write
                if more is None:
                    stopping = True
                    break
                batch += more
            self._save(batch)
            del batch  # written: not held while waiting for the next

    def _save(self, batch: list[Seen]) -> None:
        from tray.commands.agent import known

        try:
            self._history.record_seen((known(s), at, closed) for s, at, closed in batch)
            self._failed = False
        except HistoryError as exc:
            if not self._failed:  # once per outage, not once per event
                self._on_error(f"history not saved: {exc}")
            self._failed = True
        except Exception:
            logger.exception("writing the history failed")
        for notice in self._history.notices:
            self._on_error(notice)
        self._history.notices.clear()
