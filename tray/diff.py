"""Successive snapshots → opened / closed events. Pure.

A server is identified by (port, pid): a new process on a port that another just left is a close
and an open, so notifications and "recently closed" speak of the right program.
"""

from __future__ import annotations

from tray.model import Closed, Event, Key, Opened, Snapshot


def diff(before: Snapshot | None, after: Snapshot) -> list[Event]:
    """Events that turn `before` into `after`: closes first, then opens, each by port."""
    if before is None:
        return []
    old, new = before.by_key(), after.by_key()
    closed: list[Event] = [
        Closed(old[k], after.taken) for k in sorted(old.keys() - new.keys(), key=_order)
    ]
    opened: list[Event] = [
        Opened(new[k], after.taken) for k in sorted(new.keys() - old.keys(), key=_order)
    ]
    return closed + opened


def _order(key: Key) -> tuple[int, int]:
    port, pid = key
    return port, pid if pid is not None else -1
