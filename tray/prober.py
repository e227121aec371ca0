"""The monitor's probe pool: runs the probes the plan picks and posts each result to the inbox.

Probes run on a few worker threads and never touch the state: a finished probe becomes an
`Identified` message, handled on the monitor thread like any other. What to probe next is the
pure `ProbePlan`'s decision; this module only runs it.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from tray.messages import Identified, Message
from tray.model import Identity, Key, Server
from tray.probe_plan import Find, ProbePlan

logger = logging.getLogger(__name__)

Identify = Callable[[Server], Identity]


class Prober:
    """A `ProbePlan` and the pool that carries it out. Called on the monitor thread only."""

    def __init__(self, identify: Identify | None, post: Callable[[Message], None]) -> None:
        self._identify = identify
        self._post = post
        self.plan = ProbePlan()
        self._closing = False
        self._pool = ThreadPoolExecutor(self.plan.workers, thread_name_prefix="porttray-probe")

    def want(self, server: Server, find: Find) -> None:
        """Queue a probe; the newest server is probed first (see `tray.probe_plan`)."""
        if self._identify is not None:
            self.plan.want(server)
            self.start(find)

    def start(self, find: Find) -> None:
        """Start the probes the plan allows now (none once closing)."""
        if self._closing:  # a stop that outwaited a slow poll may have shut the pool down already
            return
        for server in self.plan.take(find):
            future = self._pool.submit(self._identify_safely, server)
            future.add_done_callback(functools.partial(self._probed, server.key))

    def answered(self, key: Key, identity: Identity, now: float, find: Find) -> None:
        """A probe ended: plan a retry if the server stayed silent, and start what may start."""
        self.plan.answered(key, identity, now, find)
        self.start(find)

    def due(self, now: float, find: Find) -> None:
        """Start the retries whose time has come."""
        self.plan.due(now, find)
        self.start(find)

    def forget(self, key: Key) -> None:
        """The server went away: no more probes of it."""
        self.plan.forget(key)

    def close(self) -> None:
        """Start no more probes: the monitor is stopping (called from the stopping thread)."""
        self._closing = True

    def shutdown(self) -> None:
        """Drop the probes not yet started; those running end by their own deadline."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _identify_safely(self, server: Server) -> Identity:
        assert self._identify is not None
        try:
            return self._identify(server)
        except Exception as exc:
            logger.warning("identifying the server on port %d failed: %s", server.port, exc)
            return Identity(protocol="other")

    def _probed(self, key: Key, done: Future[Identity]) -> None:
        """On the probe worker: hand the result to the monitor thread."""
        if not done.cancelled():
            self._post(Identified(key, done.result()))
