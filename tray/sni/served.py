"""What each host has of the menu (pure): hosts that fetch one level at a time (Plasma) keep the
submenus they fetched and refetch only what they are told changed, so the item remembers each
caller's copy and can say which submenus a caller is missing or holds stale.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from tray.sni.layout import Change, Node, Props

MAX_CALLERS = 16


@dataclass
class _Copy:
    """One host's copy of the menu: each level it fetched (the ids of its entries) and the
    properties it has of each entry (from fetches and ItemsPropertiesUpdated)."""

    levels: dict[int, tuple[int, ...]]
    props: dict[int, Props]
    partial: bool = False
    """Whether the host fetches parts of the menu (a level at a time) rather than all of it."""


class Served:
    """What each caller (a host's bus name) has of the menu, so a host that fetches one level
    at a time (Plasma) can be told which of its submenus are missing or stale. Remembers the
    `MAX_CALLERS` newest callers: hosts come and go."""

    def __init__(self) -> None:
        self._by_caller: dict[str, _Copy] = {}

    def serve(self, caller: str, node: Node, depth: int) -> None:
        """`caller` fetched `node` `depth` levels deep (-1: all)."""
        copy = self._by_caller.pop(caller, None) or _Copy({}, {})
        copy.partial = copy.partial or depth >= 0
        for level in _levels(node, depth):
            copy.levels[level.id] = tuple(child.id for child in level.children)
            copy.props.update((child.id, child.props) for child in level.children)
        self._by_caller[caller] = copy  # newest last
        while len(self._by_caller) > MAX_CALLERS:
            del self._by_caller[next(iter(self._by_caller))]

    def apply(self, change: Change) -> None:
        """Hosts apply ItemsPropertiesUpdated to the entries they have."""
        for copy in self._by_caller.values():
            for item_id, fresh in change.updated:
                if item_id in copy.props:
                    copy.props[item_id] = tuple(
                        sorted({**dict(copy.props[item_id]), **dict(fresh)}.items())
                    )
            for item_id, names in change.removed:
                if item_id in copy.props:
                    copy.props[item_id] = tuple(
                        kv for kv in copy.props[item_id] if kv[0] not in names
                    )

    def partial(self, caller: str) -> bool:
        """Whether `caller` fetches the menu a part at a time."""
        copy = self._by_caller.get(caller)
        return copy is not None and copy.partial

    def stale(self, caller: str, node: Node) -> bool:
        """Whether `caller`'s copy of `node`'s submenu differs from it now (or it has none)."""
        copy = self._by_caller.get(caller)
        if copy is None or copy.levels.get(node.id) != tuple(c.id for c in node.children):
            return True
        return any(copy.props.get(child.id) != child.props for child in node.children)

    def behind(self, caller: str, node: Node, depth: int) -> list[int]:
        """The submenus just below what a fetch of `node` `depth` levels deep handed over, of
        which `caller` has no current copy (none when the fetch took everything)."""
        if depth < 0:
            return []
        return [n.id for n in _edge(node, depth) if n.children and self.stale(caller, n)]


def _levels(node: Node, depth: int) -> Iterator[Node]:
    """The nodes whose entries a fetch of `node` `depth` levels deep hands over."""
    if depth != 0:
        yield node
        for child in node.children:
            yield from _levels(child, depth - 1)


def _edge(node: Node, depth: int) -> Iterator[Node]:
    if depth == 0:
        yield node
    else:
        for child in node.children:
            yield from _edge(child, depth - 1)
