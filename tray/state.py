"""What the tray shows, as one immutable value, and the pure steps that change it.

The monitor thread is the only writer: it folds snapshots and probe results into a new `AppState`
with the functions below and publishes it; the UI thread only reads whatever state was published
last. Nothing here does I/O, so every step is tested with plain values.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

from tray.config.schema import DEFAULT, Config, OnOpen
from tray.model import Closed, Event, Identity, Key, Opened, Restarted, Server
from tray.rules import Ruling, ruling

RECENT_LIMIT = 10


@dataclass(frozen=True, slots=True)
class Entry:
    """A server as the tray knows it."""

    server: Server
    """The server, with its identity once known."""
    since: float
    """When porttray first saw it listening (seconds since the epoch); kept across restarts."""
    origin: Key | None = None
    """The key of the server's first process when it has restarted since (None: not restarted),
    so what names it for the menu can stay the same across restarts."""
    restarts: int = 0
    """How many times it restarted (see `tray.restarts`)."""
    label: str | None = None
    """The settings' label for it (None: it is named as found)."""
    on_open: OnOpen = "notify"
    """What its opening does, as the settings say."""

    @property
    def first_key(self) -> Key:
        """The key of the server's first process: stable across restarts."""
        return self.origin or self.server.key


@dataclass(frozen=True, slots=True)
class Gone:
    """A server that stopped listening, for the "Recently closed" list."""

    server: Server
    """The server as last seen."""
    since: float
    """When it was first seen."""
    until: float
    """When it was seen gone."""
    origin: Key | None = None
    """As `Entry.origin`."""
    restarts: int = 0
    """As `Entry.restarts`."""

    @property
    def first_key(self) -> Key:
        """As `Entry.first_key`."""
        return self.origin or self.server.key


@dataclass(frozen=True, slots=True)
class AppState:
    """Everything the menu and the icon are drawn from."""

    entries: tuple[Entry, ...] = ()
    """The servers shown (see `rules.shown`), by port."""
    paused: bool = False
    """Whether new-server notifications are silenced."""
    method: str = ""
    """The discovery method in use."""
    recent: tuple[Gone, ...] = ()
    """Servers that went away, newest first, at most RECENT_LIMIT."""
    config: Config = DEFAULT
    """The settings in force."""
    stopping: frozenset[Key] = frozenset()
    """Servers asked to stop that were still running a few seconds later (offer Force stop)."""
    autostart: bool = False
    """Whether porttray starts at login."""
    orphans: frozenset[Key] = frozenset()
    """Servers whose launcher is gone (see `tray.orphans`), as last checked."""
    _by_key: dict[Key, Entry] | None = field(default=None, init=False, compare=False, repr=False)
    """`entries` by key, made on the first `find` (a state is looked up in many times)."""

    @property
    def exposed(self) -> bool:
        """Whether any shown server is reachable from the network."""
        return any(e.server.exposed for e in self.entries)

    def find(self, key: Key) -> Entry | None:
        """The entry of a server, if it is still listening."""
        if self._by_key is None:  # the first entry of a key wins, as in `entries`' order
            object.__setattr__(self, "_by_key", {e.server.key: e for e in reversed(self.entries)})
        assert self._by_key is not None
        return self._by_key.get(key)


def apply_events(
    state: AppState,
    servers: tuple[Server, ...],
    events: list[Event],
    rulings: Mapping[Key, Ruling] | None = None,
) -> AppState:
    """Fold a new snapshot's shown servers and its events into the state. `rulings` says what the
    settings say about each server (the monitor decides them once per change); by default they
    are decided here from `state.config`."""
    if rulings is None:
        rulings = {s.key: ruling(state.config, s, "") for s in servers}
    old = {e.server.key: e for e in state.entries}
    opened_at = {ev.server.key: ev.at for ev in events if isinstance(ev, Opened)}
    came_back = {ev.server.key: ev.previous.key for ev in events if isinstance(ev, Restarted)}
    back = _restarted(state, came_back)
    entries = []
    for server in servers:
        entry = _entry(server, old.get(server.key), back.get(server.key), opened_at)
        entries.append(_ruled(entry, rulings[server.key]))
    gone = [
        Gone(old[k].server, old[k].since, ev.at, old[k].origin, old[k].restarts)
        for ev in events
        if isinstance(ev, Closed) and (k := ev.server.key) in old
    ]
    left = set(came_back.values())
    earlier = tuple(g for g in state.recent if g.server.key not in left)
    recent = (*reversed(gone), *earlier)[:RECENT_LIMIT]
    keys = {e.server.key for e in entries}
    return dataclasses.replace(
        state,
        entries=tuple(entries),
        recent=recent,
        stopping=state.stopping & keys,
        orphans=state.orphans & keys,
    )


def _entry(
    server: Server, previous: Entry | None, first: Entry | None, opened_at: Mapping[Key, float]
) -> Entry:
    """A scanned server's entry: the one it had (the same object while the scan says the same of
    it), the entry of the server it restarted, or a new one."""
    if previous is not None:
        if _same_scan(previous.server, server):
            return previous
        return dataclasses.replace(previous, server=_known(server, previous))
    if first is not None:
        return Entry(_known(server, first), first.since, first.first_key, first.restarts + 1)
    return Entry(server, opened_at.get(server.key) or _started(server))


_SCANNED = tuple(f.name for f in dataclasses.fields(Server) if f.name != "identity")
"""What a scan says about a server: everything but its identity, which only a probe finds."""


def _same_scan(known: Server, scanned: Server) -> bool:
    return all(getattr(known, name) == getattr(scanned, name) for name in _SCANNED)


def _known(server: Server, entry: Entry) -> Server:
    """A newly scanned server with the identity its entry holds (a scan cannot tell one)."""
    return dataclasses.replace(server, identity=entry.server.identity)


def _ruled(entry: Entry, decided: Ruling) -> Entry:
    if (entry.label, entry.on_open) == (decided.label, decided.on_open):
        return entry
    return dataclasses.replace(entry, label=decided.label, on_open=decided.on_open)


def _restarted(state: AppState, came_back: dict[Key, Key]) -> dict[Key, Entry]:
    """For each restarted server's new key, the entry it continues: still listed when the close
    and the reopen fell in one poll, else rebuilt from "Recently closed"."""
    listed = {e.server.key: e for e in state.entries}
    gone = {g.server.key: g for g in state.recent}
    found: dict[Key, Entry] = {}
    for new, before in came_back.items():
        if before in listed:
            found[new] = listed[before]
        elif before in gone:
            g = gone[before]
            found[new] = Entry(g.server, g.since, g.origin, g.restarts)
    return found


def _started(server: Server) -> float:
    """For servers already listening when porttray started: their process's start time."""
    return server.process.started if server.process and server.process.started else 0.0


def apply_identity(state: AppState, key: Key, identity: Identity) -> AppState:
    """Attach a probe's result to the server it is about (ignored if that server has gone)."""
    return apply_identities(state, {key: identity})


def apply_identities(state: AppState, found: Mapping[Key, Identity]) -> AppState:
    """Attach identities to the servers they are about, in one step (gone servers: ignored)."""
    entries = tuple(
        dataclasses.replace(e, server=dataclasses.replace(e.server, identity=found[e.server.key]))
        if e.server.key in found
        else e
        for e in state.entries
    )
    return dataclasses.replace(state, entries=entries)


def set_config(state: AppState, config: Config) -> AppState:
    """Use new settings."""
    return dataclasses.replace(state, config=config)


def mark_stopping(state: AppState, key: Key) -> AppState:
    """A server asked to stop is still running: offer Force stop (if it is still listed)."""
    if state.find(key) is None:
        return state
    return dataclasses.replace(state, stopping=state.stopping | {key})


def set_orphans(state: AppState, orphans: frozenset[Key]) -> AppState:
    """The servers found orphaned now (only those still listed)."""
    return dataclasses.replace(state, orphans=orphans & {e.server.key for e in state.entries})


def set_autostart(state: AppState, enabled: bool) -> AppState:
    """Start at login was turned on or off."""
    return dataclasses.replace(state, autostart=enabled)


def set_paused(state: AppState, paused: bool) -> AppState:
    """Pause or resume notifications."""
    return dataclasses.replace(state, paused=paused)


def known_events(state: AppState, events: list[Event]) -> tuple[Event, ...]:
    """Events with a closed server's identity as `state` held it (a scan has none)."""
    known: list[Event] = []
    for event in events:
        entry = state.find(event.server.key) if isinstance(event, Closed) else None
        known.append(Closed(entry.server, event.at) if entry is not None else event)
    return tuple(known)


def identified(state: AppState, key: Key) -> bool:
    """Whether the server is listed and a probe has found what it is."""
    entry = state.find(key)
    return entry is not None and entry.server.identity.protocol is not None
