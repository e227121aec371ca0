"""Identifying many servers at once, within one probe budget (for `porttray list`)."""

from __future__ import annotations

import dataclasses
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as done_waiting

from tray.config import Config
from tray.model import Identity, Server

PROBE_BUDGET = 1.5
WORKERS = 128
"""Probes at once: each mostly waits on a socket, and a listener that never answers holds its
worker until the deadline, so enough run at once that a real server is not queued behind them."""
GRACE = 0.25
"""Seconds past the deadline a probe may take to hand its result back."""


def identify_all(
    servers: tuple[Server, ...], settings: Config, *, wait: float | None = None
) -> tuple[Server, ...]:
    """The servers with their identities, all found within one deadline: `wait` seconds (about
    1.5 by default) however many servers there are. A server silent until then (a dev server
    compiling its first page) is left unknown."""
    if not servers:
        return servers
    total = PROBE_BUDGET if wait is None else wait
    deadline = time.monotonic() + total
    pool = ThreadPoolExecutor(
        max_workers=min(WORKERS, len(servers)), thread_name_prefix="porttray-probe"
    )
    try:
        newest = sorted(range(len(servers)), key=lambda i: -_started(servers[i]))
        submitted = {i: pool.submit(_identify, servers[i], settings, deadline) for i in newest}
        futures = [submitted[i] for i in range(len(servers))]
        # A probe that starts late (past the first WORKERS) gets only the time still left.
        done_waiting(futures, timeout=total + GRACE)
        return tuple(
            dataclasses.replace(s, identity=f.result()) if f.done() and not f.exception() else s
            for s, f in zip(servers, futures, strict=True)
        )
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _identify(server: Server, settings: Config, deadline: float) -> Identity:
    from tray.identify import identify

    budget = max(0.05, deadline - time.monotonic())
    return identify(server, config=settings, budget=budget)


def _started(server: Server) -> float:
    """The newest process is probed first: a server just started is the likeliest wanted."""
    return server.process.started or 0.0 if server.process else 0.0


def named_without_probe(server: Server) -> Server:
    """The server with what needs no probe filled in: its kind and its project."""
    from tray.identify import project_of
    from tray.programs import kind_of

    proc = server.process
    if proc is None:
        return server
    kind = kind_of(proc.name, proc.cmdline)
    try:
        project = project_of(kind, proc.cwd)
    except Exception:  # an unreadable directory leaves the project unknown
        project = None
    identity = dataclasses.replace(server.identity, kind=kind, project=project)
    return dataclasses.replace(server, identity=identity)
