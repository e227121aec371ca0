"""The pure dbusmenu layout: stable ids, escaping, and which signals a change needs."""

from __future__ import annotations

import pytest

from tray.sni.layout import (
    Change,
    Ids,
    Node,
    Spec,
    build,
    diff,
    escape,
    index,
    props_of,
)
from tray.sni.served import Served


def server(port: int, label: str | None = None) -> Spec:
    key = f"{port}:1"
    children = (
        Spec("Open in browser", key=f"{key}/open"),
        Spec("Copy address", key=f"{key}/copy"),
    )
    return Spec(label or f":{port}  node", key=f"{key}/server", children=children)


TAIL = (
    Spec("-", separator=True),
    Spec("Pause", key="pause", checked=False),
    Spec("Quit", key="quit"),
)


def menu(*servers: Spec, paused: bool = False) -> tuple[Spec, ...]:
    tail = (TAIL[0], Spec("Pause", key="pause", checked=paused), TAIL[2])
    return (*servers, *tail)


def labels(root: Node) -> dict[int, str]:
    return {n.id: str(dict(n.props).get("label", "-")) for n in root.walk() if n.id}


@pytest.mark.parametrize(
    ("label", "escaped"),
    [
        ("a_b", "a__b"),
        ("__", "____"),
        ("plain", "plain"),
        ("", ""),
        ("bad\udcffname_x", "bad?name__x"),  # an undecodable process name
        ("nul\0", "nul?"),
        ("ünï ✓", "ünï ✓"),
    ],
)
def test_escape_doubles_underscores(label: str, escaped: str) -> None:
    assert escape(label) == escaped


@pytest.mark.parametrize(
    ("spec", "props"),
    [
        (Spec("-", separator=True), {"type": "separator", "visible": True}),
        (Spec("x_y", enabled=False), {"label": "x__y", "enabled": False, "visible": True}),
        (
            Spec("Pause", checked=True),
            {
                "label": "Pause",
                "enabled": True,
                "visible": True,
                "toggle-type": "checkmark",
                "toggle-state": 1,
            },
        ),
        (
            Spec("More", children=()),
            {"label": "More", "enabled": True, "visible": True, "children-display": "submenu"},
        ),
    ],
)
def test_props(spec: Spec, props: dict[str, object]) -> None:
    assert dict(props_of(spec)) == props


def test_ids_follow_keys_across_rebuilds_and_are_never_reused() -> None:
    ids = Ids()
    first = build(menu(server(3000), server(4000)), ids)
    second = build(menu(server(5000), server(4000)), ids)
    third = build(menu(server(3000)), ids)
    by_label = {v: k for k, v in labels(first).items()}
    again = {v: k for k, v in labels(second).items()}
    assert again[":4000  node"] == by_label[":4000  node"]
    assert again["Quit"] == by_label["Quit"]
    assert again[":5000  node"] not in labels(first)  # a new server never takes an old id
    assert len(set(index(second))) == len(list(second.walk()))
    back = {v: k for k, v in labels(third).items()}
    assert back["Quit"] == by_label["Quit"]
    # a server that went and came back is new to the menu: new ids, none ever used before
    returned = {k for k, v in labels(third).items() if v not in {"Quit", "Pause", "-"}}
    assert not returned & (set(labels(first)) | set(labels(second)))


def test_ids_keep_only_the_keys_of_the_current_menu() -> None:
    ids = Ids()
    for port in range(3000, 3200):  # servers that come and go, one at a time
        root = build(menu(server(port)), ids)
        assert len(ids) == len(list(root.walk())) - 1  # every entry but the root, no more


def test_entries_without_keys_and_duplicate_keys_get_distinct_ids() -> None:
    ids = Ids()
    root = build(
        (Spec("a"), Spec("a"), Spec("-", separator=True), Spec("b", key="k"), Spec("c", key="k")),
        ids,
    )
    assert len({n.id for n in root.walk()}) == 6
    assert build((Spec("a"), Spec("a")), ids).children == root.children[:2]


@pytest.mark.parametrize(
    ("before", "after", "parent", "updated"),
    [
        # nothing visible changed: nothing on the bus
        (menu(server(3000)), menu(server(3000)), None, {}),
        # a rename: only that label
        (menu(server(3000)), menu(server(3000, ":3000  vite")), None, {":3000  node": {"label"}}),
        # a toggle: only its state
        (menu(server(3000)), menu(server(3000), paused=True), None, {"Pause": {"toggle-state"}}),
        # a new server at the top: the root's layout
        (menu(server(3000)), menu(server(4000), server(3000)), 0, {}),
        # a server's submenu lost an entry: that server's layout only
        (
            menu(server(3000), server(4000)),
            menu(
                server(3000),
                Spec(
                    ":4000  node",
                    key="4000:1/server",
                    children=(Spec("Copy address", key="4000:1/copy"),),
                ),
            ),
            ":4000  node",
            {},
        ),
    ],
)
def test_diff_sorts_changes(
    before: tuple[Spec, ...],
    after: tuple[Spec, ...],
    parent: str | int | None,
    updated: dict[str, set[str]],
) -> None:
    ids = Ids()
    old, new = build(before, ids), build(after, ids)
    change = diff(old, new)
    names = labels(old)
    if isinstance(parent, str):
        parent = next(k for k, v in names.items() if v == parent)
    assert change.layout_parent == parent
    assert {names[i]: {k for k, _ in props} for i, props in change.updated} == updated
    assert change.removed == ()
    assert change.empty is (parent is None and not updated)


def test_diff_reports_removed_properties_and_covers_two_changed_submenus_by_their_parent() -> None:
    ids = Ids()
    old = build((Spec("x", key="x", checked=True),), ids)
    new = build((Spec("x", key="x"),), ids)
    assert diff(old, new) == Change(None, (), ((1, ("toggle-state", "toggle-type")),))
    a = build(menu(server(3000), server(4000)), ids)
    b = build(
        menu(
            Spec(":3000  node", key="3000:1/server", children=()),
            Spec(":4000  node", key="4000:1/server", children=()),
        ),
        ids,
    )
    assert diff(a, b).layout_parent == 0


def test_a_submenu_fetched_alone_is_stale_once_it_changes_under_a_whole_menu_update() -> None:
    """A host that fetches a level at a time keeps its submenus when the top level changes."""
    ids = Ids()
    old = build(menu(server(3000)), ids)
    served = Served()
    entry = old.children[0]
    assert served.stale("plasma", entry)  # never fetched
    served.serve("plasma", old, 1)
    served.serve("plasma", entry, 1)
    assert not served.stale("plasma", old) and not served.stale("plasma", entry)
    more = (*(server(3000).children or ()), Spec("Stop", key="3000:1/stop"))
    new = build(menu(server(4000), Spec(":3000  node", key="3000:1/server", children=more)), ids)
    assert diff(old, new).layout_parent == 0
    served.serve("plasma", new, 1)  # the host refetches the top level only
    assert served.stale("plasma", index(new)[entry.id])
    served.serve("gtk", new, -1)
    assert not served.stale("gtk", index(new)[entry.id])


def test_served_forgets_the_oldest_callers() -> None:
    tree = build(menu(server(3000)), Ids())
    served = Served()
    for n in range(40):
        served.serve(f":1.{n}", tree, -1)
    assert not served.stale(":1.39", tree)
    assert served.stale(":1.0", tree)


def test_a_fetch_of_one_level_names_the_submenus_below_it_the_caller_lacks() -> None:
    tree = build(menu(server(3000), server(4000)), Ids())
    served = Served()
    first, second = tree.children[0], tree.children[1]
    served.serve("plasma", tree, 1)
    assert served.behind("plasma", tree, 1) == [first.id, second.id]
    served.serve("plasma", first, 1)
    assert served.behind("plasma", first, 1) == []  # its entries have no submenus
    assert served.behind("plasma", tree, 1) == [second.id]
    assert served.behind("gtk", tree, -1) == []


def test_a_property_update_the_host_was_sent_keeps_its_copy_current() -> None:
    ids = Ids()
    old = build(menu(server(3000)), ids)
    served = Served()
    served.serve("plasma", old, 1)
    new = build(menu(server(3000, ":3000  renamed"), paused=True), ids)
    change = diff(old, new)
    assert change.layout_parent is None and change.updated
    assert served.stale("plasma", new)
    served.apply(change)
    assert not served.stale("plasma", new)
