"""The tray menu as plain data, built from an `AppState`. Pure.

The app shell turns these items into a `pystray.Menu` and dispatches their actions; keeping the
menu as data means it is tested with tables and golden text, and the UI thread never computes
anything but this small mapping.
"""

from __future__ import annotations

import datetime as dt
import functools
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from tray.model import Key, Server
from tray.naming import address, describe, label, open_url, speaks_http, url_host
from tray.state import AppState, Entry, Gone
from tray.text import printable, valid

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
    key: str = ""
    """What this entry is, stable across rebuilds: "<server>/<role>" or a fixed name ("quit").
    The StatusNotifierItem backend gives each key one dbusmenu id for as long as it runs, so a
    host keeps an open menu open while other servers come and go."""


SEPARATOR = Item("-")


def server_key(entry: Entry | Gone) -> str:
    """The server part of a menu key: the one place that says which entries are "the same"."""
    port, pid = entry.first_key  # a restarted server keeps the key of its first start
    return f"{port}:{pid or 0}"


def _sep(key: str) -> Item:
    return Item("-", key=key)


def build(state: AppState, *, user: str | None = None, limit: int = MENU_LIMIT) -> tuple[Item, ...]:
    """The whole menu for a state; `user` may stop their own servers from it."""
    items = _server_items(state, user, limit)
    items.append(_sep("sep"))
    items.extend(orphan_items(state, user))
    if state.recent:
        gone = tuple(_gone(g) for g in state.recent)
        items.append(Item("Recently closed", children=gone, key="recent"))
    items.append(Item("Pause notifications", Action("pause"), checked=state.paused, key="pause"))
    items.append(
        Item("Start at login", Action("autostart"), checked=state.autostart, key="autostart")
    )
    items.append(Item("Quit porttray", Action("quit"), key="quit"))
    return tuple(items)


def _server_items(state: AppState, user: str | None, limit: int) -> list[Item]:
    """One item per server: by project, or the newest `limit` and a More submenu for the rest."""
    entry = functools.partial(_entry_item, state=state, user=user)
    if not state.entries:
        return [Item("No local servers", enabled=False, key="none")]
    if len(state.entries) <= limit:
        return list(by_project(state.entries, entry))
    newest = sorted(state.entries, key=lambda e: (-e.since, e.server.port))
    shown, rest = newest[:limit], sorted(newest[limit:], key=_by_port)
    more = [entry(e) for e in rest[:MORE_LIMIT]]
    if len(rest) > MORE_LIMIT:
        unlisted = len(rest) - MORE_LIMIT
        label = f"… {unlisted} more: porttray list shows them all"
        more.append(Item(label, enabled=False, key="more/unlisted"))
    return [
        *(entry(e) for e in shown),
        Item(f"More ({len(rest)})", children=tuple(more), key="more"),
    ]


def _entry_item(e: Entry, *, state: AppState, user: str | None) -> Item:
    """A server's submenu: its own items, then what its user may do with it."""
    server = e.server
    host = url_host(server, state.config.address)
    key = server_key(e)
    item = server_item(server, host, e.label, key=key)
    label = item.label
    if user is not None and server.owner and server.owner != user:  # someone else's
        label = f"{label}  ({printable(server.owner, 32)})"
    manage = manage_items(server, user, stopping=server.key in state.stopping, key=key)
    children = (*item.children, _sep(f"{key}/sep"), *manage)
    if server.key in state.orphans:
        label = f"{label}  {ORPHANED}"
    return Item(label, children=children, key=item.key)


def server_item(
    server: Server, host: str | None = None, custom: str | None = None, *, key: str = ""
) -> Item:
    """A server's entry and its submenu; `key` is the server part of the entries' keys."""
    actions: list[Item] = []
    if server.exposed:
        actions.append(Item("⚠ Reachable from the network", enabled=False, key=f"{key}/exposed"))
    if speaks_http(server):
        url = open_url(server, host)
        actions.append(Item("Open in browser", Action("open", url), key=f"{key}/open"))
    copy = Action("copy", address(server, host))
    actions.append(Item("Copy address", copy, key=f"{key}/copy"))
    local = Action("copy", address(server, "localhost"))
    actions.append(Item("Copy localhost URL", local, key=f"{key}/copy-localhost"))
    return Item(label(server, custom), children=tuple(actions), key=f"{key}/server")


def manage_items(
    server: Server, user: str | None, *, stopping: bool, key: str = ""
) -> tuple[Item, ...]:
    """Copy PID / command line, Hide this port, Stop server (confirmed) and Force stop."""
    items: list[Item] = []
    proc = server.process
    if server.pid is not None:
        pid = Action("copy", str(server.pid))
        items.append(Item(f"Copy PID ({server.pid})", pid, key=f"{key}/copy-pid"))
    if proc is not None and proc.cmdline:
        cmdline = Action("copy", valid(shlex.join(proc.cmdline)))
        items.append(Item("Copy command line", cmdline, key=f"{key}/copy-cmdline"))
    hide = Action("hide", server=server.key)
    items.append(Item(f"Hide port {server.port}", hide, key=f"{key}/hide"))
    if server.container is not None:  # stopped through the engine: its proxy is never signalled
        confirm = f"Yes, stop container {printable(server.container.name, 64)}"
        yes = Item(confirm, Action("stop", server=server.key), key=f"{key}/stop-confirm")
        items.append(Item("Stop server", children=(yes,), key=f"{key}/stop"))
    elif user is not None and proc is not None and proc.user == user and (server.pid or 0) > 1:
        confirm = f"Yes, stop {printable(server.name, 64) or 'process'} (pid {server.pid})"
        yes = Item(confirm, Action("stop", server=server.key), key=f"{key}/stop-confirm")
        items.append(Item("Stop server", children=(yes,), key=f"{key}/stop"))
        if stopping:
            force = Action("force", server=server.key)
            items.append(Item("Force stop (still running)", force, key=f"{key}/force"))
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
            items.append(_sep(f"project:{name}/sep"))
        heading = name if name is None or len(name) <= HEADING_LIMIT else name[:47] + "…"
        items.append(Item(heading or OTHER_PROJECTS, enabled=False, key=f"project:{name}"))
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
    ask = Item(confirm, Action("stop_orphans"), key="orphans/yes")
    return (Item(f"Stop orphaned servers ({len(mine)})", children=(ask,), key="orphans"),)


def _gone(gone: Gone) -> Item:
    ran = _duration(gone.until - gone.since) if gone.since else "?"
    when = dt.datetime.fromtimestamp(gone.until).strftime("%H:%M")
    text = f":{gone.server.port}  {describe(gone.server)} — ran {ran}, closed {when}"
    return Item(text, enabled=False, key=f"recent/{server_key(gone)}/{gone.until:.0f}")


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def _by_port(entry: Entry) -> tuple[int, int]:
    return entry.server.port, entry.server.pid or 0
