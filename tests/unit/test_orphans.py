"""Orphan detection (pure part), and how the menu shows orphaned servers and project groups."""

from __future__ import annotations

import dataclasses

import pytest

from tray import menu, orphans
from tray.model import Closed, Identity, ProcessInfo, Server
from tray.state import AppState, Entry, apply_events, set_orphans


@pytest.mark.parametrize(
    ("ppid", "tty", "parent", "cgroup", "orphaned"),
    [
        (1, False, None, "session-3.scope", True),
        (1, True, None, "session-3.scope", False),  # still has a terminal
        (812, False, "systemd", "vte-spawn-1.scope", True),  # adopted by systemd --user
        (812, False, "bash", "vte-spawn-1.scope", False),  # its shell is still there
        (1, False, None, "nginx.service", False),  # a service started on purpose
        (812, False, "systemd", "app-gnome-code-1.service", True),
        (0, False, None, "", True),
    ],
)
def test_decide(ppid: int, tty: bool, parent: str | None, cgroup: str, orphaned: bool) -> None:
    assert orphans.decide(ppid, parent, cgroup, has_tty=tty) is orphaned


def test_parse_stat_survives_odd_names() -> None:
    assert orphans.parse_stat(b"42 (a) b (c)) S 1 42 42 0 -1 4194560") == (1, 0)
    assert orphans.parse_stat(b"42 (x) S 7 42 42 34816 42") == (7, 34816)
    assert orphans.parse_stat(b"garbage") is None
    assert orphans.parse_stat(b"") is None


def test_orphaned_of_nothing_is_unknown() -> None:
    assert orphans.orphaned(None) is None
    assert orphans.orphaned(1) is None
    assert orphans.orphaned(2**22 + 12345, proc="/nonexistent") is None


def _server(port: int, user: str) -> Server:
    return Server(port, ("127.0.0.1",), port, process=ProcessInfo(port, name="node", user=user))


def test_menu_marks_orphans_and_offers_to_stop_the_users_own_once() -> None:
    servers = (
        _server(3000, "ann"),
        _server(3001, "ann"),
        _server(3002, "bob"),
        _server(3003, "ann"),
    )
    state = AppState(entries=tuple(Entry(s, 0.0) for s in servers))
    state = set_orphans(state, frozenset({(3000, 3000), (3001, 3001), (3002, 3002), (9, 9)}))
    assert state.orphans == {(3000, 3000), (3001, 3001), (3002, 3002)}
    items = menu.build(state, user="ann")
    labels = [i.label for i in items]
    assert [lbl.endswith(menu.ORPHANED) for lbl in labels[:4]] == [True, True, True, False]
    (stop,) = [i for i in items if i.label.startswith("Stop orphaned")]
    assert stop.label == "Stop orphaned servers (2)"  # bob's is marked, not offered
    (confirm,) = stop.children
    assert confirm.label == "Yes, stop 2 orphaned servers"
    assert confirm.action == menu.Action("stop_orphans")
    assert not [i for i in menu.build(state, user=None) if i.label.startswith("Stop orphaned")]


def test_a_closed_orphan_leaves_the_set() -> None:
    server = _server(3000, "ann")
    state = set_orphans(AppState(entries=(Entry(server, 0.0),)), frozenset({server.key}))
    state = apply_events(state, (), [Closed(server, 5.0)])
    assert state.orphans == frozenset()
    assert not [i for i in menu.build(state, user="ann") if i.label.startswith("Stop orphaned")]


def _in(port: int, project: str | None) -> Entry:
    server = _server(port, "ann")
    return Entry(dataclasses.replace(server, identity=Identity(project=project)), 0.0)


def test_one_project_is_a_flat_list() -> None:
    state = AppState(entries=(_in(3000, "shop"), _in(3001, None), _in(3002, "shop")))
    labels = [i.label for i in menu.build(state, user="ann")[:3]]
    assert [lbl.split()[0] for lbl in labels] == [":3000", ":3001", ":3002"]


def test_several_projects_are_grouped_under_headings() -> None:
    entries = (
        _in(3000, "shop@fix"),
        _in(3001, None),
        _in(4000, "API"),
        _in(5000, "shop"),
        _in(5001, "shop@fix"),
        _in(6000, "x" * 80),
    )
    items = menu.build(AppState(entries=entries), user="ann")
    shown = [(i.label.split()[0] if i.enabled else f"[{i.label}]") for i in items]
    assert shown[: shown.index("Pause")] == [
        "[API]", ":4000", "-",
        "[shop]", ":5000", "-",
        "[shop@fix]", ":3000", ":5001", "-",
        f"[{'x' * 47}…]", ":6000", "-",
        "[Other]", ":3001", "-",
    ]  # fmt: skip
