"""The tray menu as plain data, built from an `AppState`. Pure.

The app shell turns these items into a `pystray.Menu` and dispatches their actions; keeping the
menu as data means it is tested with tables and golden text, and the UI thread never computes
anything but this small mapping.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from tray.model import Server
from tray.naming import address, describe, label, open_url, speaks_http
from tray.state import AppState, Entry, Gone

MENU_LIMIT = 25
"""Servers shown at the top level; the rest go under "More"."""

ActionKind = Literal["open", "copy", "pause", "quit"]


@dataclass(frozen=True, slots=True)
class Action:
    """What a click does."""

    kind: ActionKind
    """open a URL, copy text, toggle pause, quit."""
    value: str = ""
    """The URL or text."""


@dataclass(frozen=True, slots=True)
class Item:
    """One menu entry: an action, a submenu, a disabled line, or a separator (label "-")."""

    label: str
    """The text shown."""
    action: Action | None = None
    """What a click does (None: nothing)."""
    enabled: bool = True
    """Greyed out when False."""
    checked: bool | None = None
    """A check box state, or None for a plain entry."""
    children: tuple[Item, ...] = ()
    """A submenu's entries."""


SEPARATOR = Item("-")


def build(state: AppState, *, host: str | None = None, limit: int = MENU_LIMIT) -> tuple[Item, ...]:
    """The whole menu for a state."""
    items: list[Item] = []
    if not state.entries:
        items.append(Item("No local servers", enabled=False))
    elif len(state.entries) <= limit:
        items.extend(server_item(e.server, host) for e in state.entries)
    else:
        newest = sorted(state.entries, key=lambda e: (-e.since, e.server.port))
        shown, rest = newest[:limit], sorted(newest[limit:], key=_by_port)
        items.extend(server_item(e.server, host) for e in shown)
        more = tuple(server_item(e.server, host) for e in rest)
        items.append(Item(f"More ({len(rest)})", children=more))
    items.append(SEPARATOR)
    if state.recent:
        items.append(Item("Recently closed", children=tuple(_gone(g) for g in state.recent)))
    items.append(Item("Pause notifications", Action("pause"), checked=state.paused))
    items.append(Item("Quit porttray", Action("quit")))
    return tuple(items)


def server_item(server: Server, host: str | None = None) -> Item:
    """A server's entry and its submenu."""
    actions: list[Item] = []
    if server.exposed:
        actions.append(Item("⚠ Reachable from the network", enabled=False))
    if speaks_http(server):
        actions.append(Item("Open in browser", Action("open", open_url(server, host))))
    actions.append(Item("Copy address", Action("copy", address(server, host))))
    actions.append(Item("Copy localhost URL", Action("copy", address(server, "localhost"))))
    return Item(label(server), children=tuple(actions))


def _gone(gone: Gone) -> Item:
    ran = _duration(gone.until - gone.since) if gone.since else "?"
    when = dt.datetime.fromtimestamp(gone.until).strftime("%H:%M")
    return Item(
        f":{gone.server.port}  {describe(gone.server)} — ran {ran}, closed {when}", enabled=False
    )


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def _by_port(entry: Entry) -> tuple[int, int]:
    return entry.server.port, entry.server.pid or 0
