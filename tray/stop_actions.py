"""Stop and Force stop from the menu, never blocking the UI thread that clicked.

A process is signalled by pid and start time (`tray.stopping`, which refuses what is not the
user's); when a plain Stop has not ended it after `FORCE_AFTER` seconds, the monitor is told so
that the menu offers Force stop. A container is stopped through its engine on a thread of its
own, as the engine answers only once the container's own stop timeout has passed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from tray import stopping
from tray.containers import Containers, EngineError
from tray.model import Container, Key
from tray.state import Entry

logger = logging.getLogger(__name__)

FORCE_AFTER = 3.0
"""Seconds after Stop before Force stop is offered for a server that is still running."""


class Stopper:
    """Carries out Stop and Force stop for the tray."""

    def __init__(
        self,
        containers: Containers,
        report: Callable[[str], None],
        still_running: Callable[[Key], None],
    ) -> None:
        self._containers = containers
        self._report = report
        self._still_running = still_running

    def stop(self, entry: Entry, *, force: bool) -> None:
        """Stop the entry's server: its container if it has one, else its process."""
        server = entry.server
        if server.container is not None:
            self._stop_container(server.container)
            return
        if server.pid is None:
            return
        pid, key = server.pid, server.key
        started = server.process.started if server.process else None
        result = stopping.stop(pid, started, force=force)
        if not result.ok:
            self._report(f"did not stop the server on port {key[0]}: {result.message}")
            return
        logger.info("%s", result.message)
        if not force:
            timer = threading.Timer(FORCE_AFTER, self._check_stopped, (key, pid, started))
            timer.name = "porttray-stop-check"
            timer.daemon = True
            timer.start()

    def _stop_container(self, box: Container) -> None:
        def run() -> None:
            try:
                logger.info("container %s: %s", box.name, self._containers.stop(box))
            except EngineError as exc:
                self._report(f"did not stop container {box.name}: {exc}")

        threading.Thread(target=run, name="porttray-stop-container", daemon=True).start()

    def _check_stopped(self, key: Key, pid: int, started: float | None) -> None:
        if stopping.alive(pid, started):
            self._still_running(key)
