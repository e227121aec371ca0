"""How the real-host layer merges the layouts a host fetched into the menu it shows."""

from __future__ import annotations

from tests.kit.hosts.traffic import merge
from tests.kit.sni_host import MenuNode


def node(id: int, label: str = "", *children: MenuNode) -> MenuNode:
    return MenuNode(id, label, True, True, "standard", "", -1, "", tuple(children))


def ids(tree: MenuNode | None) -> dict[int, list[int]]:
    assert tree is not None
    return {n.id: [c.id for c in n.children] for n in tree.walk()}


def test_a_whole_fetch_is_the_menu() -> None:
    whole = node(0, "", node(1, "a", node(2, "open")), node(3, "quit"))
    assert merge(None, whole, -1) == whole
    assert merge(node(0, "", node(9)), whole, -1) == whole


def test_a_submenu_fetched_on_its_own_fills_in_its_entry() -> None:
    top = merge(None, node(0, "", node(1, "a"), node(3, "quit")), 1)
    assert ids(top) == {0: [1, 3], 1: [], 3: []}
    shown = merge(top, node(1, "a", node(2, "open"), node(4, "copy")), 1)
    assert ids(shown) == {0: [1, 3], 1: [2, 4], 2: [], 4: [], 3: []}


def test_refetching_a_level_keeps_the_submenus_already_fetched() -> None:
    """As Plasma does: a new top level keeps the old submenu of an entry that stayed."""
    shown = merge(None, node(0, "", node(1, "a", node(2, "open"))), 2)
    again = merge(shown, node(0, "", node(5, "b"), node(1, "a renamed")), 1)
    assert ids(again) == {0: [5, 1], 5: [], 1: [2], 2: []}
    assert again is not None and again.children[1].label == "a renamed"


def test_a_submenu_before_any_top_level_is_not_shown() -> None:
    assert merge(None, node(1, "a", node(2, "open")), 1) is None
