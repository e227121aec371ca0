"""com.canonical.dbusmenu over dbus-fast: porttray's menu as hosts read it.

The interface only serves the current tree (a `layout.Node`) and turns a host's "clicked" event
into a call of `on_click(id)`; what changed is `layout.diff`'s business, what a click does is
the app's. Every method runs on the asyncio loop. Bad requests (unknown ids, a parent
that has gone) get a D-Bus error back; wrong argument types never reach here (dbus-fast answers
UnknownMethod for a wrong signature). Each kind of bad request is logged once.

Hosts that fetch one level at a time (Plasma 5.27: `GetLayout(id, 1)`) would fetch a submenu
only as it opens, show it empty, and place it by that empty size (off the screen's edge when
the tray is in a corner); they refetch only the level a LayoutUpdated names and keep the
submenus they have below it. So the menu remembers, per caller, what it served of each level:
right after such a fetch it sends LayoutUpdated (same revision: hosts that fetched everything
ignore it) for each submenu just below it that the caller lacks or has stale, so the host fills
them in before they open; and AboutToShow answers True for a level that changed since. `caller`
is set by the session before each call to the menu is dispatched.
"""

# No `from __future__ import annotations`: dbus-fast reads these annotations at class creation.

import asyncio
import logging
from collections.abc import Callable
from typing import Annotated, Any

from dbus_fast import PropertyAccess, Variant
from dbus_fast.annotations import DBusInt32, DBusSignature, DBusStr, DBusUInt32, DBusVariant
from dbus_fast.errors import DBusError
from dbus_fast.service import ServiceInterface, dbus_method, dbus_property, dbus_signal

from tray.sni.layout import ROOT, SIGNATURES, Change, Node, Props, index
from tray.sni.served import Served

logger = logging.getLogger(__name__)

INTERFACE = "com.canonical.dbusmenu"
UNKNOWN_ID = "com.canonical.dbusmenu.Error.UnknownId"

Ints = Annotated[list[int], DBusSignature("ai")]
Strs = Annotated[list[str], DBusSignature("as")]
Layout = Annotated[list[Any], DBusSignature("u(ia{sv}av)")]
Groups = Annotated[list[Any], DBusSignature("a(ia{sv})")]
Events = Annotated[list[Any], DBusSignature("a(isvu)")]
TwoInts = Annotated[list[Any], DBusSignature("aiai")]
Updates = Annotated[list[Any], DBusSignature("a(ia{sv})a(ias)")]
LayoutSignal = Annotated[list[Any], DBusSignature("ui")]
Activation = Annotated[list[Any], DBusSignature("iu")]


def variants(props: Props, names: list[str] | None = None) -> dict[str, Variant]:
    """Properties as `a{sv}`, only `names` when given (an empty list means all)."""
    return {
        key: Variant(SIGNATURES[key], value) for key, value in props if not names or key in names
    }


def serialize(node: Node, depth: int, names: list[str]) -> list[Any]:
    """GetLayout's `(ia{sv}av)` for a node; depth -1 is everything, 0 the node alone."""
    kids = (
        []
        if depth == 0
        else [Variant("(ia{sv}av)", serialize(child, depth - 1, names)) for child in node.children]
    )
    return [node.id, variants(node.props, names), kids]


class Menu(ServiceInterface):
    """The exported menu. `replace` swaps in a new tree and emits what `change` says."""

    def __init__(self, on_click: Callable[[int], None], on_show: Callable[[], None]) -> None:
        super().__init__(INTERFACE)
        self._on_click = on_click
        self._on_show = on_show
        self._root = Node(ROOT, (("children-display", "submenu"),))
        self._nodes = index(self._root)
        self.revision = 1
        self._complained: set[str] = set()
        self.caller = ""
        """The unique bus name of whoever makes the call being dispatched ("" if unknown)."""
        self._served = Served()

    def replace(self, root: Node, change: Change) -> None:
        """Serve `root` from now on and tell hosts: LayoutUpdated and/or ItemsPropertiesUpdated."""
        self._root, self._nodes = root, index(root)
        if change.updated or change.removed:
            updated = [[i, variants(props)] for i, props in change.updated]
            removed = [[i, list(names)] for i, names in change.removed]
            self.ItemsPropertiesUpdated(updated, removed)
            self._served.apply(change)
        if change.layout_parent is not None:
            self.revision += 1
            self.LayoutUpdated(self.revision, change.layout_parent)

    def _node(self, item_id: int) -> Node:
        node = self._nodes.get(item_id)
        if node is None:
            self._complain(
                "unknown-id", f"a tray host asked for menu item {item_id}, which is gone"
            )
            raise DBusError(UNKNOWN_ID, f"no menu item with id {item_id}")
        return node

    def _complain(self, kind: str, message: str) -> None:
        if kind not in self._complained:
            self._complained.add(kind)
            logger.info("%s (logged once)", message)

    @dbus_method()
    def GetLayout(
        self, parentId: DBusInt32, recursionDepth: DBusInt32, propertyNames: Strs
    ) -> Layout:
        node = self._node(parentId)
        self._served.serve(self.caller, node, recursionDepth)
        behind = self._served.behind(self.caller, node, recursionDepth)
        if behind:  # after the reply has gone out, so the host knows those entries by then
            asyncio.get_running_loop().call_soon(self._announce, behind)
        return [self.revision, serialize(node, recursionDepth, propertyNames)]

    def _announce(self, ids: list[int]) -> None:
        for item_id in ids:
            if item_id in self._nodes:
                self.LayoutUpdated(self.revision, item_id)

    @dbus_method()
    def GetGroupProperties(self, ids: Ints, propertyNames: Strs) -> Groups:
        chosen = ids or list(self._nodes)
        found = [self._nodes[i] for i in chosen if i in self._nodes]
        return [[node.id, variants(node.props, propertyNames)] for node in found]

    @dbus_method()
    def GetProperty(self, id: DBusInt32, name: DBusStr) -> DBusVariant:
        props = dict(self._node(id).props)
        if name not in props:
            raise DBusError(UNKNOWN_ID, f"menu item {id} has no property {name!r}")
        return Variant(SIGNATURES[name], props[name])

    @dbus_method()
    def Event(
        self, id: DBusInt32, eventId: DBusStr, data: DBusVariant, timestamp: DBusUInt32
    ) -> None:
        self._event(id, eventId)

    @dbus_method()
    def EventGroup(self, events: Events) -> Ints:
        missing = [event[0] for event in events if event[0] not in self._nodes]
        for event in events:
            if event[0] in self._nodes:
                self._event(event[0], event[1])
        return missing

    def _event(self, item_id: int, event: str) -> None:
        node = self._node(item_id)
        if event == "clicked" and node.id != ROOT:
            self._on_click(node.id)
        elif event == "opened" and node.id == ROOT:
            self._on_show()

    @dbus_method()
    def AboutToShow(self, id: DBusInt32) -> Annotated[bool, DBusSignature("b")]:
        return bool(self._refetch([self._node(id).id]))

    @dbus_method()
    def AboutToShowGroup(self, ids: Ints) -> TwoInts:
        return [
            self._refetch([i for i in ids if i in self._nodes]),
            [i for i in ids if i not in self._nodes],
        ]

    def _refetch(self, ids: list[int]) -> list[int]:
        """Those of `ids` whose submenus the caller has stale. To a host that fetches a level
        at a time each also gets a LayoutUpdated after the reply: Plasma, told to refetch by
        AboutToShow, ignores the next LayoutUpdated for that submenu (it expects one sent with
        the reply), which must not be a real one."""
        stale = [i for i in ids if self._served.stale(self.caller, self._nodes[i])]
        if stale and self._served.partial(self.caller):
            asyncio.get_running_loop().call_soon(self._announce, stale)
        return stale

    @dbus_property(access=PropertyAccess.READ)
    def Version(self) -> DBusUInt32:
        return 3

    @dbus_property(access=PropertyAccess.READ)
    def TextDirection(self) -> DBusStr:
        return "ltr"

    @dbus_property(access=PropertyAccess.READ)
    def Status(self) -> DBusStr:
        return "normal"

    @dbus_property(access=PropertyAccess.READ)
    def IconThemePath(self) -> Strs:
        return []

    @dbus_signal()
    def ItemsPropertiesUpdated(self, updated: list[Any], removed: list[Any]) -> Updates:
        return [updated, removed]

    @dbus_signal()
    def LayoutUpdated(self, revision: int, parent: int) -> LayoutSignal:
        return [revision, parent]

    @dbus_signal()
    def ItemActivationRequested(self, id: int, timestamp: int) -> Activation:
        return [id, timestamp]
