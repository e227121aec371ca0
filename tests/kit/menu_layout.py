"""An exported dbusmenu as a tray host sees it: `MenuNode` trees parsed from `GetLayout`.

Shared by the test tray host (`sni_host`), the bus monitors that record the layouts real hosts
fetched (`hosts.traffic`) and the tests that compare them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

RawLayout = tuple[int, dict[str, tuple[str, Any]], list[tuple[str, Any]]]
"""GetLayout's `(ia{sv}av)` as jeepney returns it: variants are (signature, value) pairs."""


@dataclass(frozen=True, slots=True)
class MenuNode:
    """One entry of an item's exported menu, as a tray host sees it."""

    id: int
    label: str
    """The raw dbusmenu label (underscores mark mnemonics; see `text`)."""
    enabled: bool
    visible: bool
    type: str
    """"standard" or "separator"."""
    toggle_type: str
    """"", "checkmark" or "radio"."""
    toggle_state: int
    """-1 (none), 0 (off) or 1 (on)."""
    children_display: str
    """"submenu" when the entry opens a submenu."""
    children: tuple[MenuNode, ...]

    @property
    def text(self) -> str:
        """The label as displayed: "__" is one underscore, other underscores are dropped."""
        return "_".join(part.replace("_", "") for part in self.label.split("__"))

    def walk(self) -> Iterator[MenuNode]:
        """This node and all below it, depth first."""
        yield self
        for child in self.children:
            yield from child.walk()

    def find(self, predicate: Callable[[MenuNode], bool]) -> MenuNode | None:
        """The first node (depth first) that satisfies `predicate`."""
        return next((node for node in self.walk() if predicate(node)), None)

    def labels(self) -> list[str]:
        """The displayed text of every visible non-separator entry, depth first."""
        return [n.text for n in self.walk() if n.id != 0 and n.visible and n.type != "separator"]

    def render(self, depth: int = 0) -> str:
        """A readable tree, for assertion messages."""
        flags = "" if self.enabled else " (disabled)"
        flags += "" if self.toggle_state < 0 else f" [{'x' if self.toggle_state else ' '}]"
        line = "  " * depth + ("----" if self.type == "separator" else self.text) + flags
        return "\n".join([line, *(child.render(depth + 1) for child in self.children)])


def parse_layout(raw: RawLayout) -> MenuNode:
    """A `MenuNode` tree from the `(ia{sv}av)` structure of `GetLayout`."""
    node_id, props, children = raw
    values = {key: value for key, (_sig, value) in props.items()}
    return MenuNode(
        id=node_id,
        label=str(values.get("label", "")),
        enabled=bool(values.get("enabled", True)),
        visible=bool(values.get("visible", True)),
        type=str(values.get("type", "standard")),
        toggle_type=str(values.get("toggle-type", "")),
        toggle_state=int(values.get("toggle-state", -1)),
        children_display=str(values.get("children-display", "")),
        children=tuple(parse_layout(child) for _sig, child in children),
    )
