"""When to notify about new servers, and what to say. Pure.

- Servers listening when porttray starts are not announced (the first snapshot yields no events).
- Servers that open within about a second of each other become one notification: a batch closes
  `quiet` seconds after its last opening, and is never held longer than `longest`.
- A server that opens and closes before its batch is due is not announced at all.
- A restart (`tray.restarts`) is not announced; a server restarting while its batch is pending
  stays in the batch under its new pid.
- A due batch waits a little longer (`naming`) for its servers to be identified, so the notification
  can say "Acme Shop" rather than "node".
- Pause drops what is pending and announces nothing until resumed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from tray.model import Closed, Event, Key, Opened, Restarted, Server
from tray.naming import describe, open_url, speaks_http, url_host
from tray.state import AppState


@dataclass(frozen=True, slots=True)
class Batch:
    """New servers waiting to be announced together."""

    keys: tuple[Key, ...]
    """The servers, in the order they opened."""
    started: float
    """When the first of them opened (monotonic seconds)."""
    last: float
    """When the last of them opened (monotonic seconds)."""


@dataclass(frozen=True, slots=True)
class Policy:
    """The notification policy's state and its timings."""

    batch: Batch | None = None
    """What is pending."""
    quiet: float = 1.0
    """A batch is due this long after its last opening."""
    longest: float = 3.0
    """…or this long after its first, whichever comes first."""
    naming: float = 1.5
    """How much longer a due batch may wait for its servers' names."""


@dataclass(frozen=True, slots=True)
class Note:
    """A notification to show."""

    title: str
    """The summary line."""
    body: str
    """The text under it."""
    url: str | None
    """What the Open button (and a click) opens; None when nothing can be opened."""
    button: str
    """The button's label."""


def on_events(policy: Policy, events: list[Event], now: float, *, paused: bool) -> Policy:
    """Add new servers to the pending batch and drop those that closed."""
    batch = policy.batch
    for event in events:
        key = event.server.key
        if isinstance(event, Opened) and not paused:
            if batch is None:
                batch = Batch((key,), now, now)
            elif key not in batch.keys:
                batch = Batch((*batch.keys, key), batch.started, now)
        elif (
            isinstance(event, Restarted) and batch is not None and event.previous.key in batch.keys
        ):
            keys = tuple(key if k == event.previous.key else k for k in batch.keys)
            batch = Batch(keys, batch.started, batch.last)  # still pending, under its new pid
        elif isinstance(event, Closed) and batch is not None and key in batch.keys:
            keys = tuple(k for k in batch.keys if k != key)
            batch = Batch(keys, batch.started, batch.last) if keys else None
    return dataclasses.replace(policy, batch=batch)


def on_pause(policy: Policy) -> Policy:
    """Pausing drops whatever was pending."""
    return dataclasses.replace(policy, batch=None)


def take_due(policy: Policy, state: AppState, now: float) -> tuple[Policy, tuple[Server, ...]]:
    """The servers to announce now (if the batch is due), and the policy without them."""
    batch = policy.batch
    if batch is None or state.paused:
        return policy, ()
    due_at = min(batch.last + policy.quiet, batch.started + policy.longest)
    if now < due_at:
        return policy, ()
    servers = tuple(e.server for k in batch.keys if (e := state.find(k)) is not None)
    named = all(s.identity.protocol is not None for s in servers)
    if not named and now < due_at + policy.naming:
        return policy, ()
    return dataclasses.replace(policy, batch=None), servers


def note_for(
    servers: tuple[Server, ...], host: str | None = None, *, address: str | None = None
) -> Note:
    """The text of one notification about one or more new servers. URLs use `host`, or with
    the `address` setting "localhost" that name for each server it reaches."""

    def url(server: Server) -> str:
        return open_url(server, host or (url_host(server, address) if address else None))

    exposed = [s for s in servers if s.exposed]
    warning = "\n⚠ Reachable from the network" if exposed else ""
    openable = [s for s in servers if speaks_http(s)]
    link = url(openable[0]) if openable else None
    if len(servers) == 1:
        (server,) = servers
        title = f"New server on :{server.port}"
        body = f"{describe(server)}\n{url(server)}{warning}"
        return Note(title, body, link, "Open in browser")
    title = f"{len(servers)} new local servers"
    lines = [f":{s.port}  {describe(s)}{'  ⚠' if s.exposed else ''}" for s in servers[:6]]
    if len(servers) > 6:
        lines.append(f"… and {len(servers) - 6} more")
    if exposed:
        lines.append("⚠ marks servers reachable from the network")
    button = f"Open :{openable[0].port}" if openable else "Open in browser"
    return Note(title, "\n".join(lines), link, button)
