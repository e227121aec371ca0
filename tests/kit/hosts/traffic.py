"""What a real tray host says to porttray's item on the bus, seen by a bus monitor.

A host that opens the menu calls `AboutToShow` (or `AboutToShowGroup`) on the item's
`com.canonical.dbusmenu` object, and `GetLayout` whenever the layout changed; the layout it was
answered with is exactly what it shows. The monitor records those calls, the replies to
`GetLayout` (parsed into `MenuNode` trees), the item's `LayoutUpdated` signals and every
`RegisterStatusNotifierItem` call, so a test can ask "did the host open the menu after the click,
and what did it get?" without trusting pixels alone.

Hosts fetch differently: GTK hosts and GNOME take the whole tree in one `GetLayout(0, -1)`;
Plasma takes one level at a time (`GetLayout(id, 1)`: the top level when the menu is first built
or changes, a submenu only when it opens) and keeps the submenus it already has when it refetches
a level above them. So what a host shows is the fetched layouts merged in order (`host_views`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from jeepney import HeaderFields, MessageType
from jeepney.low_level import Message

from tests.kit.leaks import STACK_THREAD_PREFIX
from tests.kit.monitor_thread import MonitorThread
from tests.kit.sni_host import DBUSMENU, MenuNode, parse_layout
from tests.kit.wait import wait_for

THREAD_NAME = f"{STACK_THREAD_PREFIX}-host-traffic"
"""A host session's monitor lives as long as the session: named as a desktop thread."""
MONITOR_RULES = [
    f"type='method_call',interface='{DBUSMENU}'",
    f"type='signal',interface='{DBUSMENU}'",
    "type='method_call',member='RegisterStatusNotifierItem'",
    "type='method_return'",
]
"""The menu conversation, registrations, and every reply (to pair a GetLayout with its answer)."""


@dataclass(frozen=True, slots=True)
class Call:
    """One dbusmenu method call, a menu signal or a registration."""

    member: str
    sender: str
    destination: str
    body: tuple[Any, ...]
    layout: MenuNode | None = None
    """For GetLayout: the layout the caller was answered with (None until the answer is seen)."""


class MenuTraffic:
    """A bus monitor on `address` recording the dbusmenu conversation between hosts and items."""

    def __init__(self, address: str) -> None:
        self._lock = threading.Lock()
        self._seen: list[Call] = []
        self._pending: dict[tuple[str, int], int] = {}
        self._ignored: set[str] = set()
        self._monitor = MonitorThread(address, MONITOR_RULES, self._record, THREAD_NAME)

    def ignore(self, sender: str) -> None:
        """Leave out what `sender` (the test's own reader) calls: only hosts count."""
        with self._lock:
            self._ignored.add(sender)

    def mark(self) -> int:
        """A position in the record, for `since=`."""
        with self._lock:
            return len(self._seen)

    def calls(self, member: str, since: int = 0) -> list[Call]:
        """The recorded calls or signals named `member` from mark `since` on."""
        with self._lock:
            return [c for c in self._seen[since:] if c.member == member]

    def wait_for_layout(
        self, predicate: Callable[[MenuNode], bool], timeout: float, since: int = 0
    ) -> MenuNode:
        """The newest menu a host had after a fetch answered since `since` that satisfies
        `predicate` (see `host_views`)."""

        def found() -> MenuNode | None:
            return next((lay for lay in reversed(self.host_views(since)) if predicate(lay)), None)

        if not wait_for(lambda: found() is not None, timeout, 0.05):
            views = self.host_views(since)
            last = views[-1].render() if views else "(the host fetched no layout)"
            raise TimeoutError(f"no fetched layout matched within {timeout} s; last:\n{last}")
        layout = found()
        assert layout is not None
        return layout

    def host_views(self, since: int = 0) -> list[MenuNode]:
        """The menu as its host had it after each answered `GetLayout` from mark `since` on:
        every answer that host got so far (before `since` too) merged in order by `merge`."""
        with self._lock:
            seen = list(enumerate(self._seen))
        known: dict[str, MenuNode] = {}
        views = []
        for index, call in seen:
            if call.member != "GetLayout" or call.layout is None:
                continue
            merged = merge(known.get(call.sender), call.layout, int(call.body[1]))
            if merged is None:
                continue
            known[call.sender] = merged
            if index >= since:
                views.append(merged)
        return views

    def opened(self, since: int = 0) -> list[Call]:
        """The AboutToShow and AboutToShowGroup calls (a host opening a menu) after `since`."""
        return self.calls("AboutToShow", since) + self.calls("AboutToShowGroup", since)

    def clicks(self, since: int = 0) -> list[tuple[Any, ...]]:
        """The `(id, "clicked", data, timestamp)` events hosts sent after `since`, from Event
        and EventGroup alike."""
        singles = [c.body for c in self.calls("Event", since)]
        grouped = [tuple(e) for c in self.calls("EventGroup", since) for e in c.body[0]]
        return [e for e in [*singles, *grouped] if e[1] == "clicked"]

    def wait_for_click(self, since: int, timeout: float = 5.0) -> tuple[Any, ...]:
        """The first click a host sent after `since`; a menu that highlights a row but tells
        porttray nothing fails here, naming the events it did send."""
        if not wait_for(lambda: bool(self.clicks(since)), timeout, 0.05):
            sent = [(c.member, c.body) for c in self.calls("Event", since)]
            sent += [(c.member, c.body) for c in self.calls("EventGroup", since)]
            raise AssertionError(f"the host sent porttray no 'clicked' event; it sent {sent}")
        return self.clicks(since)[0]

    def fds(self) -> set[int]:
        return self._monitor.fds()

    def close(self) -> None:
        self._monitor.close()

    def _record(self, msg: Message) -> None:
        with self._lock:
            self._record_locked(msg)

    def _record_locked(self, msg: Message) -> None:
        fields, kind = msg.header.fields, msg.header.message_type
        member = str(fields.get(HeaderFields.member, ""))
        sender = str(fields.get(HeaderFields.sender, ""))
        destination = str(fields.get(HeaderFields.destination, ""))
        if sender in self._ignored:
            return
        if kind in (MessageType.method_call, MessageType.signal):
            if kind == MessageType.method_call and member == "GetLayout":
                self._pending[(sender, msg.header.serial)] = len(self._seen)
            self._seen.append(Call(member, sender, destination, tuple(msg.body)))
        elif kind == MessageType.method_return:
            key = (destination, int(fields.get(HeaderFields.reply_serial, 0)))
            index = self._pending.pop(key, None)
            if index is not None and len(msg.body) == 2:
                call = self._seen[index]
                self._seen[index] = Call(
                    call.member, call.sender, call.destination, call.body, parse_layout(msg.body[1])
                )


def merge(known: MenuNode | None, fetched: MenuNode, depth: int) -> MenuNode | None:
    """`known` (the menu a host has) after it fetched the subtree `fetched`, `depth` levels
    deep (-1: all of it): that subtree replaces the node with its id; below the depth the
    fetch reached, the host keeps the children it had for the same ids. None while the host
    has no top level to attach a submenu to."""
    before = {} if known is None else {n.id: n for n in known.walk()}

    def graft(node: MenuNode, levels: int) -> MenuNode:
        if levels == 0:
            kept = before.get(node.id)
            return replace(node, children=kept.children if kept is not None else ())
        return replace(node, children=tuple(graft(c, levels - 1) for c in node.children))

    subtree = graft(fetched, depth) if depth >= 0 else fetched
    if known is None or fetched.id == known.id:
        return subtree if known is not None or fetched.id == 0 else None

    def put(node: MenuNode) -> MenuNode:
        if node.id == subtree.id:
            return subtree
        return replace(node, children=tuple(put(c) for c in node.children))

    return put(known)
