"""Menu entries → dbusmenu nodes with stable ids, and what changed between two trees. Pure.

Hosts rebuild (and close) an open menu when ids change, and refetch the layout only when the
revision changes. So every entry gets its id from its key ("<server>/<role>", or a label path for
entries without one) through `Ids`, which keeps it while the entry stays; `diff` then sorts a
change into "structure" (a new revision and one LayoutUpdated for the lowest parent that covers
it), "only properties" (ItemsPropertiesUpdated with just the changed values) or nothing at all.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

PropValue = str | bool | int
Props = tuple[tuple[str, PropValue], ...]
"""An item's dbusmenu properties, sorted by name (so equal items compare equal)."""

SIGNATURES: Mapping[str, str] = {
    "label": "s",
    "enabled": "b",
    "visible": "b",
    "type": "s",
    "toggle-type": "s",
    "toggle-state": "i",
    "children-display": "s",
}
"""The D-Bus type of every property porttray exports."""

ROOT = 0


@dataclass(frozen=True, slots=True)
class Spec:
    """One menu entry as the backend reads it from pystray: what to show, nothing to run."""

    label: str
    key: str = ""
    enabled: bool = True
    visible: bool = True
    checked: bool | None = None
    """A check box state, or None for a plain entry."""
    separator: bool = False
    children: tuple[Spec, ...] | None = None
    """A submenu's entries, or None for an entry without one."""


@dataclass(frozen=True, slots=True)
class Node:
    """One exported dbusmenu item."""

    id: int
    props: Props
    children: tuple[Node, ...] = ()

    def walk(self) -> Iterator[Node]:
        """This node and every node below it, depth first (one frame: a nested `yield from`
        costs a call per level for every node, and a redraw walks the tree several times)."""
        stack = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))


class Ids:
    """Keys → dbusmenu ids. A key keeps its id for as long as its entry stays in the menu, and an
    id is never reused, so a click on an entry that has gone finds nothing. Only the keys of the
    current menu are kept: servers come and go all day, and a map of every key ever shown would
    grow for as long as porttray runs (an entry that comes back gets a new id)."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self._last = 0

    def __len__(self) -> int:
        return len(self._ids)

    def of(self, key: str) -> int:
        """The id of `key`, given a new one the first time."""
        found = self._ids.get(key)
        if found is None:
            self._last += 1
            found = self._ids[key] = self._last
        return found

    def keep(self, keys: set[str]) -> None:
        """Forget every key but `keys` (the entries of the menu just built)."""
        if len(self._ids) > len(keys):
            self._ids = {key: id_ for key, id_ in self._ids.items() if key in keys}


def escape(label: str) -> str:
    """A label as dbusmenu wants it: a single "_" marks a mnemonic, so a literal one is doubled.

    Labels carry text from outside (page titles, process names): characters a D-Bus string
    cannot hold (NUL, lone surrogates from undecodable names) become "?", or the whole reply
    would fail to marshal and the host would get no menu at all."""
    clean = label.replace("\0", "?").encode("utf-8", "replace").decode("utf-8")
    return clean.replace("_", "__")


def props_of(spec: Spec) -> Props:
    """The dbusmenu properties of one entry."""
    if spec.separator:
        return (("type", "separator"), ("visible", spec.visible))
    props: dict[str, PropValue] = {
        "label": escape(spec.label),
        "enabled": spec.enabled,
        "visible": spec.visible,
    }
    if spec.checked is not None:
        props["toggle-type"] = "checkmark"
        props["toggle-state"] = 1 if spec.checked else 0
    if spec.children is not None:
        props["children-display"] = "submenu"
    return tuple(sorted(props.items()))


def build(specs: tuple[Spec, ...], ids: Ids) -> Node:
    """The whole tree under the root (id 0), every entry with its stable id."""
    seen: set[str] = set()
    root_props: Props = (("children-display", "submenu"),)
    root = Node(ROOT, root_props, _children(specs, "", ids, seen))
    ids.keep(seen)
    return root


def _children(specs: tuple[Spec, ...], path: str, ids: Ids, seen: set[str]) -> tuple[Node, ...]:
    nodes: list[Node] = []
    separators = 0
    for spec in specs:
        separators += spec.separator
        key = _key(spec, path, separators, seen)
        kids = () if spec.children is None else _children(spec.children, key, ids, seen)
        nodes.append(Node(ids.of(key), props_of(spec), kids))
    return tuple(nodes)


def _key(spec: Spec, path: str, separators: int, seen: set[str]) -> str:
    """The entry's own key; else one made from where it is (a separator: the how-manieth)."""
    if spec.key:
        key = spec.key
    elif spec.separator:
        key = f"{path}/-{separators}"
    else:
        key = f"{path}/{spec.label}"
    unique, n = key, 1
    while unique in seen:  # two entries with one key: the later ones get their own ids
        n += 1
        unique = f"{key}#{n}"
    seen.add(unique)
    return unique


@dataclass(frozen=True, slots=True)
class Change:
    """What the bus must hear about a new tree."""

    layout_parent: int | None = None
    """The id to send in LayoutUpdated (with a new revision), or None: the structure is the same."""
    updated: tuple[tuple[int, Props], ...] = ()
    """ItemsPropertiesUpdated's changed properties: (id, the properties with their new values)."""
    removed: tuple[tuple[int, tuple[str, ...]], ...] = ()
    """ItemsPropertiesUpdated's removed properties: (id, names)."""

    @property
    def empty(self) -> bool:
        """Nothing to send."""
        return self.layout_parent is None and not self.updated and not self.removed


def index(root: Node) -> dict[int, Node]:
    """Every node by id."""
    return {node.id: node for node in root.walk()}


def diff(old: Node, new: Node) -> Change:
    """What changed from `old` to `new`: the covering parent of structural change, and the
    property changes of entries outside it (the host refetches that parent's subtree anyway)."""
    changed = list(_restructured(old, new, ()))
    parent = _common(changed) if changed else None
    inside = set() if parent is None else {n.id for n in index(new)[parent].walk()}
    before = index(old)
    updated: list[tuple[int, Props]] = []
    removed: list[tuple[int, tuple[str, ...]]] = []
    for node in new.walk():
        was = before.get(node.id)
        if was is None or was.props == node.props or node.id in inside:
            continue
        old_props = dict(was.props)
        fresh = tuple((k, v) for k, v in node.props if old_props.get(k, _MISSING) != v)
        gone = tuple(sorted(set(old_props) - {k for k, _ in node.props}))
        if fresh:
            updated.append((node.id, fresh))
        if gone:
            removed.append((node.id, gone))
    return Change(parent, tuple(updated), tuple(removed))


_MISSING = object()


def _restructured(old: Node, new: Node, path: tuple[int, ...]) -> Iterator[tuple[int, ...]]:
    """Paths (root first) of the nodes whose list of child ids differs."""
    here = (*path, new.id)
    if [c.id for c in old.children] != [c.id for c in new.children]:
        yield here
        return
    for was, now in zip(old.children, new.children, strict=True):
        yield from _restructured(was, now, here)


def _common(paths: list[tuple[int, ...]]) -> int:
    """The id of the lowest node that all paths pass through."""
    first = paths[0]
    depth = len(first)
    for other in paths[1:]:
        depth = min(depth, len(other))
        depth = next((i for i in range(depth) if first[i] != other[i]), depth)
    return first[depth - 1] if depth else ROOT
