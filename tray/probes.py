"""Identifying many servers at once, within one probe budget (for `porttray list`)."""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor, wait

from tray.config import Config
from tray.model import Server

PROBE_BUDGET = 1.5
WORKERS = 32


def identify_all(servers: tuple[Server, ...], settings: Config) -> tuple[Server, ...]:
    """The servers with their identities; a probe that overruns the budget leaves it unknown."""
    if not servers:
        return servers
    from tray.identify import identify

    pool = ThreadPoolExecutor(
        max_workers=min(WORKERS, len(servers)), thread_name_prefix="porttray-probe"
    )
    try:
        futures = [pool.submit(identify, s, config=settings, budget=PROBE_BUDGET) for s in servers]
        # Probes run in parallel batches of WORKERS; each ends within the budget by itself.
        rounds = -(-len(servers) // WORKERS)
        wait(futures, timeout=PROBE_BUDGET * rounds + 0.5)
        return tuple(
            dataclasses.replace(s, identity=f.result()) if f.done() and not f.exception() else s
            for s, f in zip(servers, futures, strict=True)
        )
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
