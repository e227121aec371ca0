"""The tray menu as plain data, built from an `AppState`. Pure.

The app shell turns these items into a `pystray.Menu` and dispatches their actions; keeping the
menu as data means it is tested with tables and golden text, and the UI thread never computes
anything but this small mapping.
"""

from __future__ import annotations

import datetime as dt
import shlex
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

ActionKind = Literal["open", "copy", "hide", "stop", "force", "pause", "autostart", "quit"]


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
    return f"{entry.server.port}:{entry.server.pid or 0}"


def _sep(key: str) -> Item:
    return Item("-", key=key)


def build(state: AppState, *, user: str | None = None, limit: int = MENU_LIMIT) -> tuple[Item, ...]:
    """The whole menu for a state; `user` may stop their own servers from it."""
    items: list[Item] = []

    def entry(e: Entry) -> Item:
        server = e.server
        host = url_host(server, state.config.address)
        key = server_key(e)
        item = server_item(server, host, label_of(state.config, server), key=key)
        manage = manage_items(server, user, server.key in state.stopping, key=key)
        children = (*item.children, _sep(f"{key}/sep"), *manage)
        return Item(item.label, children=children, key=item.key)

    if not state.entries:
        items.append(Item("No local servers", enabled=False, key="none"))
    elif len(state.entries) <= limit:
        items.extend(entry(e) for e in state.entries)
    else:
        newest = sorted(state.entries, key=lambda e: (-e.since, e.server.port))
        shown, rest = newest[:limit], sorted(newest[limit:], key=_by_port)
        items.extend(entry(e) for e in shown)
        more = [entry(e) for e in rest[:MORE_LIMIT]]
        if len(rest) > MORE_LIMIT:
            unlisted = len(rest) - MORE_LIMIT
            label = f"… {unlisted} more: porttray list shows them all"
            more.append(Item(label, enabled=False, key="more/unlisted"))
        items.append(Item(f"More ({len(rest)})", children=tuple(more), key="more"))
    items.append(_sep("sep"))
    if state.recent:
        gone = tuple(_gone(g) for g in state.recent)
        items.append(Item("Recently closed", children=gone, key="recent"))
    items.append(Item("Pause notifications", Action("pause"), checked=state.paused, key="pause"))
    items.append(
        Item("Start at login", Action("autostart"), checked=state.autostart, key="autostart")
    )
    items.append(Item("Quit porttray", Action("quit"), key="quit"))
    return tuple(items)


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
    server: Server, user: str | None, stopping: bool, *, key: str = ""
) -> tuple[Item, ...]:
    """Copy PID / command line, Hide this port, Stop server (confirmed) and Force stop."""
    items: list[Item] = []
    proc = server.process
    if server.pid is not None:
        pid = Action("copy", str(server.pid))
        items.append(Item(f"Copy PID ({server.pid})", pid, key=f"{key}/copy-pid"))
    if proc is not None and proc.cmdline:
        cmdline = Action("copy", shlex.join(proc.cmdline))
        items.append(Item("Copy command line", cmdline, key=f"{key}/copy-cmdline"))
    hide = Action("hide", server=server.key)
    items.append(Item(f"Hide port {server.port}", hide, key=f"{key}/hide"))
    if user is not None and proc is not None and proc.user == user and (server.pid or 0) > 1:
        confirm = f"Yes, stop {server.name or 'process'} (pid {server.pid})"
        yes = Item(confirm, Action("stop", server=server.key), key=f"{key}/stop-confirm")
        items.append(Item("Stop server", children=(yes,), key=f"{key}/stop"))
        if stopping:
            force = Action("force", server=server.key)
            items.append(Item("Force stop (still running)", force, key=f"{key}/force"))
    return tuple(items)


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
