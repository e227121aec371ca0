"""Which server to probe next. Pure: the monitor asks, a pool does the probing.

- The newest server is probed first: a developer who just started a server wants its name now,
  not after porttray has waited out a backlog of silent listeners.
- At most `workers` probes run at once.
- A server that did not answer (still compiling its first page, say) is asked again after each of
  `retry_after`'s delays, then left unnamed. At most `retry_limit` servers wait for another try, the
  newest kept, so a thousand silent listeners cannot keep the pool busy for minutes.
"""

from __future__ import annotations

from collections.abc import Callable

from tray.model import Identity, Key, Server
from tray.state import Entry

RETRY_AFTER = (3.0, 10.0, 30.0)
WORKERS = 4
RETRY_LIMIT = 50

Find = Callable[[Key], Entry | None]
"""The current entry of a server, or None once it has gone (`AppState.find`)."""


class ProbePlan:
    """The probe queue, the number in flight, and when to ask silent servers again."""

    def __init__(
        self,
        *,
        workers: int | None = None,
        retry_after: tuple[float, ...] | None = None,
        retry_limit: int | None = None,
    ) -> None:
        self.workers = workers or WORKERS
        self.retry_after = RETRY_AFTER if retry_after is None else retry_after
        self.retry_limit = retry_limit or RETRY_LIMIT
        self.in_flight = 0
        self._waiting: dict[Key, Server] = {}
        """Servers to probe, oldest first (taken from the end)."""
        self._retry: dict[Key, float] = {}
        """Silent servers and when to ask them again."""
        self._unanswered: dict[Key, int] = {}
        """How many probes each live server has left unanswered."""

    def want(self, server: Server) -> None:
        """Probe this server as soon as a worker is free, before those already waiting."""
        self._waiting.pop(server.key, None)
        self._waiting[server.key] = server

    def take(self, find: Find) -> list[Server]:
        """The servers to start probing now; they count as in flight until `answered`."""
        started: list[Server] = []
        while self.in_flight < self.workers and self._waiting:
            key, server = self._waiting.popitem()  # last in, first out
            if find(key) is None:
                continue  # gone before its turn
            self.in_flight += 1
            started.append(server)
        return started

    def answered(self, key: Key, identity: Identity, now: float, find: Find) -> None:
        """A probe ended; plan another one if the server stayed silent and has tries left."""
        self.in_flight -= 1
        self._retry.pop(key, None)
        if identity.protocol is not None or find(key) is None:
            self._unanswered.pop(key, None)
            return
        tries = self._unanswered.get(key, 0)
        if tries >= len(self.retry_after):
            return  # it had its chances: it stays unnamed
        self._unanswered[key] = tries + 1
        if len(self._retry) >= self.retry_limit:
            del self._retry[min(self._retry, key=lambda k: _since(find, k))]  # keep the newest
        self._retry[key] = now + self.retry_after[tries]

    def due(self, now: float, find: Find) -> None:
        """Queue the silent servers whose next try has come."""
        for key, when in list(self._retry.items()):
            if now < when:
                continue
            entry = find(key)
            if entry is None:
                self.forget(key)
            else:
                del self._retry[key]
                self.want(entry.server)

    def forget(self, key: Key) -> None:
        """The server went away."""
        self._waiting.pop(key, None)
        self._retry.pop(key, None)
        self._unanswered.pop(key, None)


def _since(find: Find, key: Key) -> float:
    entry = find(key)
    return entry.since if entry is not None else float("-inf")
