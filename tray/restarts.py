"""Telling a restart from a new server. Pure.

Django's runserver, `node --watch` and many reloaders close their port and reopen it from a new
process on every save. Seen as (port, pid), that is a close and an open, and the tray would
announce a "new server" each time. A server that reopens the same port within `WINDOW` seconds of
closing it, from the same working directory with the same command line, is the same server
restarted: `merge` turns that open into a `Restarted` event (and drops the close when both fall in
one poll), so the state keeps one entry with its first start time and nothing is announced.
"""

from __future__ import annotations

from collections.abc import Sequence

from tray.model import Closed, Event, Opened, Restarted, Server

WINDOW = 5.0
"""Seconds between a close and a reopen that still count as a restart."""


def same_program(before: Server, after: Server) -> bool:
    """The same port, working directory and command line (both processes known)."""
    old, new = before.process, after.process
    if old is None or new is None or before.port != after.port:
        return False
    return bool(old.cmdline) and old.cmdline == new.cmdline and old.cwd == new.cwd


def merge(
    events: Sequence[Event], recent: Sequence[tuple[Server, float]], window: float = WINDOW
) -> list[Event]:
    """`events` with restarts told apart; `recent` is (server, when it closed) seen before."""
    closed = [e for e in events if isinstance(e, Closed)]
    paired: set[int] = set()
    out: list[Event] = []
    for event in events:
        if not isinstance(event, Opened):
            continue
        now = _closed_now(closed, paired, event.server)
        if now is not None:
            paired.add(now)
            out.append(Restarted(event.server, closed[now].server, event.at))
            continue
        earlier = _closed_before(recent, event, window)
        out.append(event if earlier is None else Restarted(event.server, earlier, event.at))
    return [c for i, c in enumerate(closed) if i not in paired] + out


def _closed_now(closed: list[Closed], paired: set[int], server: Server) -> int | None:
    """The close in the same poll this open continues, if any."""
    return next(
        (i for i, c in enumerate(closed) if i not in paired and same_program(c.server, server)),
        None,
    )


def _closed_before(
    recent: Sequence[tuple[Server, float]], opened: Opened, window: float
) -> Server | None:
    """The server this open continues among those closed lately: the last one to close."""
    found = [
        (until, server)
        for server, until in recent
        if opened.at - until <= window and same_program(server, opened.server)
    ]
    return max(found, key=lambda f: f[0])[1] if found else None
