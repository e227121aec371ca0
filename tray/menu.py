"""The tray menu as plain data, built from an `AppState`. Pure.

The app shell turns these items into a `pystray.Menu` and dispatches their actions; keeping the
menu as data means it is tested with tables and golden text, and the UI thread never computes
anything but this small mapping.
"""

from __future__ import annotations

import datetime as dt
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from tray.model import Server
from tray.naming import address, describe, label, open_url, speaks_http, url_host
from tray.rules import label_of
from tray.state import AppState, Entry, Gone, Key

MENU_LIMIT = 25
"""Servers shown at the top level; the rest go under "More"."""
MORE_LIMIT = 40
"""Servers listed under "More": past that a menu is no way to find one, and every entry costs
GTK widgets and D-Bus traffic on each rebuild (a 1,000-server menu rebuilds in about 60 ms so)."""

ActionKind = Literal[
    "open", "copy", "hide", "stop", "force", "stop_orphans", "pause", "autostart", "quit"
]


@dataclass(frozen=True, slots=True)
class Action:
    """What a click does."""

    kind: ActionKind
    """open a URL, copy text, hide or stop a server, toggle pause or autostart, quit."""
    value: str = ""
    """The URL or text."""
    server: Key | None = None
    """The server a hide, stop or force action is about."""


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


def build(state: AppState, *, user: str | None = None, limit: int = MENU_LIMIT) -> tuple[Item, ...]:
    """The whole menu for a state; `user` may stop their own servers from it."""
    items: list[Item] = []

    def entry(e: Entry) -> Item:
        server = e.server
        host = url_host(server, state.config.address)
        item = server_item(server, host, label_of(state.config, server))
        manage = manage_items(server, user, server.key in state.stopping)
        text = f"{item.label}  {ORPHANED}" if server.key in state.orphans else item.label
        return Item(text, children=(*item.children, SEPARATOR, *manage))

    if not state.entries:
        items.append(Item("No local servers", enabled=False))
    elif len(state.entries) <= limit:
        items.extend(by_project(state.entries, entry))
    else:
        newest = sorted(state.entries, key=lambda e: (-e.since, e.server.port))
        shown, rest = newest[:limit], sorted(newest[limit:], key=_by_port)
        items.extend(entry(e) for e in shown)
        more = [entry(e) for e in rest[:MORE_LIMIT]]
        if len(rest) > MORE_LIMIT:
            unlisted = len(rest) - MORE_LIMIT
            more.append(Item(f"… {unlisted} more: porttray list shows them all", enabled=False))
        items.append(Item(f"More ({len(rest)})", children=tuple(more)))
    items.append(SEPARATOR)
    items.extend(orphan_items(state, user))
    if state.recent:
        items.append(Item("Recently closed", children=tuple(_gone(g) for g in state.recent)))
    items.append(Item("Pause notifications", Action("pause"), checked=state.paused))
    items.append(Item("Start at login", Action("autostart"), checked=state.autostart))
    items.append(Item("Quit porttray", Action("quit")))
    return tuple(items)


def server_item(server: Server, host: str | None = None, custom: str | None = None) -> Item:
    """A server's entry and its submenu."""
    actions: list[Item] = []
    if server.exposed:
        actions.append(Item("⚠ Reachable from the network", enabled=False))
    if speaks_http(server):
        actions.append(Item("Open in browser", Action("open", open_url(server, host))))
    actions.append(Item("Copy address", Action("copy", address(server, host))))
    actions.append(Item("Copy localhost URL", Action("copy", address(server, "localhost"))))
    return Item(label(server, custom), children=tuple(actions))


def manage_items(server: Server, user: str | None, stopping: bool) -> tuple[Item, ...]:
    """Copy PID / command line, Hide this port, Stop server (confirmed) and Force stop."""
    items: list[Item] = []
    proc = server.process
    if server.pid is not None:
        items.append(Item(f"Copy PID ({server.pid})", Action("copy", str(server.pid))))
    if proc is not None and proc.cmdline:
        items.append(Item("Copy command line", Action("copy", shlex.join(proc.cmdline))))
    items.append(Item(f"Hide port {server.port}", Action("hide", server=server.key)))
    if user is not None and proc is not None and proc.user == user and (server.pid or 0) > 1:
        confirm = f"Yes, stop {server.name or 'process'} (pid {server.pid})"
        items.append(
            Item("Stop server", children=(Item(confirm, Action("stop", server=server.key)),))
        )
        if stopping:
            items.append(Item("Force stop (still running)", Action("force", server=server.key)))
    return tuple(items)


OTHER_PROJECTS = "Other"
"""The heading of servers with no project, when the menu is grouped."""
HEADING_LIMIT = 48


def by_project(entries: tuple[Entry, ...], entry: Callable[[Entry], Item]) -> list[Item]:
    """One flat list for one project; with several, a heading per project (by name, servers by
    port under it), and servers without a project last under "Other"."""
    projects = {p for e in entries if (p := e.server.identity.project) is not None}
    if len(projects) < 2:
        return [entry(e) for e in entries]
    groups: dict[str | None, list[Entry]] = {}
    for e in entries:
        groups.setdefault(e.server.identity.project, []).append(e)
    names = sorted(projects, key=lambda name: (name.casefold(), name))
    items: list[Item] = []
    for name in [*names, None] if None in groups else names:
        if items:
            items.append(SEPARATOR)
        heading = name if name is None or len(name) <= HEADING_LIMIT else name[:47] + "…"
        items.append(Item(heading or OTHER_PROJECTS, enabled=False))
        items.extend(entry(e) for e in sorted(groups[name], key=_by_port))
    return items


ORPHANED = "(orphaned)"
"""Marks a server whose launcher is gone."""


def orphan_items(state: AppState, user: str | None) -> tuple[Item, ...]:
    """ "Stop orphaned servers (N)", confirmed once, for the user's own orphaned servers."""
    mine = [
        e.server
        for e in state.entries
        if e.server.key in state.orphans and e.server.process and e.server.process.user == user
    ]
    if user is None or not mine:
        return ()
    confirm = f"Yes, stop {len(mine)} orphaned server{'s' if len(mine) != 1 else ''}"
    ask = Item(confirm, Action("stop_orphans"))
    return (Item(f"Stop orphaned servers ({len(mine)})", children=(ask,)),)


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
