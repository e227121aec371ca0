"""The tray's pure core: state folding, notification policy, naming and the menu model."""

from __future__ import annotations

import dataclasses

import pytest

from tray import menu, policy
from tray.menu import Action, Item, build
from tray.model import Closed, Identity, Opened, ProcessInfo, Server
from tray.naming import label
from tray.rules import Ruling
from tray.state import (
    AppState,
    apply_events,
    apply_identity,
    mark_stopping,
    set_autostart,
    set_paused,
)


def server(
    port: int,
    pid: int = 1,
    *,
    name: str = "node",
    cwd_project: str | None = None,
    addresses: tuple[str, ...] = ("127.0.0.1",),
    **ident: object,
) -> Server:
    identity = Identity(project=cwd_project, **ident)  # type: ignore[arg-type]
    return Server(
        port, addresses, pid, ProcessInfo(pid, name=name, started=50.0), identity=identity
    )


VITE = server(5173, 10, cwd_project="acme-web")
API = server(8000, 11, name="python3", addresses=("0.0.0.0",))
JUPYTER = server(8888, 12, name="python3", title="JupyterLab", kind="jupyter", protocol="http")


@pytest.mark.parametrize(
    ("srv", "expected"),
    [
        (VITE, ":5173  node — acme-web"),
        (API, ":8000  python3  ⚠"),
        (JUPYTER, ":8888  JupyterLab — jupyter"),
        (server(3000, cwd_project="shop", title="Shop", kind="next"), ":3000  Shop — shop"),
        (server(5000, cwd_project="api", kind="flask"), ":5000  flask — api"),
        (Server(9000, ("::1",), None), ":9000  unknown process"),
        (server(1, title="x" * 80), f":1  {'x' * 47}… — node"),
    ],
)
def test_labels(srv: Server, expected: str) -> None:
    assert label(srv) == expected


def test_apply_events_keeps_identity_and_first_seen_and_remembers_closed() -> None:
    state = apply_events(AppState(), (VITE,), [])
    assert state.entries[0].since == 50.0  # open at start: its process's start time
    named = dataclasses.replace(VITE, identity=Identity(title="Acme"))
    state = apply_identity(state, VITE.key, Identity(title="Acme"))
    state = apply_events(state, (VITE, API), [Opened(API, 100.0)])
    assert [e.server for e in state.entries] == [named, API]
    assert state.entries[1].since == 100.0
    rescanned = dataclasses.replace(VITE, addresses=("127.0.0.1", "::1"))  # the scan differs
    state = apply_events(state, (rescanned, API), [])
    assert state.entries[0].server == dataclasses.replace(named, addresses=("127.0.0.1", "::1"))
    fresh = apply_events(state, (dataclasses.replace(rescanned), API), [])
    assert fresh.entries == state.entries and fresh.entries[0] is state.entries[0]
    state = apply_events(state, (API,), [Closed(VITE, 160.0)])
    assert [(g.server.identity.title, g.since, g.until) for g in state.recent] == [
        ("Acme", 50.0, 160.0)
    ]


def test_entries_carry_the_settings_ruling_and_new_rulings_relabel_them() -> None:
    state = apply_events(AppState(), (VITE, API), [])
    assert [(e.label, e.on_open) for e in state.entries] == [(None, "notify")] * 2
    rulings = {VITE.key: Ruling(True, "Shop", "open-browser"), API.key: Ruling(True)}
    state = apply_identity(state, VITE.key, Identity(title="Acme"))
    relabelled = apply_events(state, (VITE, API), [], rulings)
    vite = relabelled.entries[0]
    assert (vite.label, vite.on_open) == ("Shop", "open-browser")
    assert vite.server.identity.title == "Acme"
    assert relabelled.entries[1] is state.entries[1]  # nothing about it changed: kept as it was
    (item,) = [i for i in build(relabelled) if i.key == menu.server_key(vite) + "/server"]
    assert item.label == ":5173  Shop"  # the menu reads the label off the entry


def test_recently_closed_keeps_the_last_ten_newest_first() -> None:
    state = AppState()
    for port in range(1, 13):
        s = server(port, port)
        state = apply_events(state, (s,), [Opened(s, port)])
        state = apply_events(state, (), [Closed(s, port + 0.5)])
    assert [g.server.port for g in state.recent] == list(range(12, 2, -1))


def test_identity_for_a_server_that_left_changes_nothing() -> None:
    state = apply_events(AppState(), (VITE,), [])
    assert apply_identity(state, (1, 1), Identity(title="x")) == state


P = policy.Policy()


def named(s: Server) -> Server:
    return dataclasses.replace(s, identity=Identity(protocol="http", title=f"T{s.port}"))


def test_batch_of_ports_opening_together_is_one_notification() -> None:
    a, b = named(VITE), named(API)
    state = apply_events(AppState(), (a, b), [])
    pol = policy.on_events(P, [Opened(a, 0)], now=10.0, paused=False)
    pol = policy.on_events(pol, [Opened(b, 0)], now=10.6, paused=False)
    assert policy.take_due(pol, state, 11.5)[1] == ()  # 0.9 s after the last
    pol, due = policy.take_due(pol, state, 11.6)
    assert due == (a, b)
    assert pol.batch is None
    assert policy.take_due(pol, state, 20.0)[1] == ()


def test_a_port_that_opens_and_closes_inside_the_window_is_not_announced() -> None:
    a = named(VITE)
    pol = policy.on_events(P, [Opened(a, 0)], now=10.0, paused=False)
    pol = policy.on_events(pol, [Closed(a, 0)], now=10.5, paused=False)
    assert pol.batch is None


def test_batch_is_never_held_longer_than_longest() -> None:
    state = AppState()
    pol = P
    for i in range(7):  # one every 0.5 s: never a quiet second
        s = named(server(3000 + i, i))
        state = apply_events(state, (*tuple(e.server for e in state.entries), s), [])
        pol = policy.on_events(pol, [Opened(s, 0)], now=10.0 + 0.5 * i, paused=False)
    assert policy.take_due(pol, state, 12.9)[1] == ()
    assert len(policy.take_due(pol, state, 13.0)[1]) == 7  # three seconds after the first


def test_due_batch_waits_a_little_for_names() -> None:
    state = apply_events(AppState(), (VITE,), [])
    pol = policy.on_events(P, [Opened(VITE, 0)], now=10.0, paused=False)
    assert policy.take_due(pol, state, 11.2)[1] == ()  # not probed yet
    assert policy.take_due(pol, apply_identity(state, VITE.key, Identity(protocol="http")), 11.2)[1]
    assert policy.take_due(pol, state, 12.5)[1] == (VITE,)  # gives up waiting


def test_pause_silences_and_drops_pending() -> None:
    a = named(VITE)
    state = set_paused(apply_events(AppState(), (a,), []), True)
    assert policy.on_events(P, [Opened(a, 0)], now=1.0, paused=True).batch is None
    pol = policy.on_events(P, [Opened(a, 0)], now=1.0, paused=False)
    assert policy.take_due(pol, state, 5.0)[1] == ()
    assert policy.on_pause(pol).batch is None


def test_note_texts() -> None:
    one = policy.note_for((named(VITE),))
    assert one.title == "New server on :5173"
    assert one.body == "T5173 — node\nhttp://127.0.0.1:5173"
    assert (one.url, one.button) == ("http://127.0.0.1:5173", "Open in browser")
    exposed = policy.note_for((named(API),))
    assert exposed.body.endswith("⚠ Reachable from the network")
    other = dataclasses.replace(VITE, identity=Identity(protocol="other"))
    many = policy.note_for((other, named(API)))
    assert many.title == "2 new local servers"
    assert many.url == "http://127.0.0.1:8000"
    assert many.button == "Open :8000"
    assert ":8000  T8000 — python3  ⚠" in many.body
    local = policy.note_for((named(VITE),), address="localhost")
    assert local.url == "http://localhost:5173" and local.body.endswith("http://localhost:5173")


def test_menu_empty_has_static_items() -> None:
    items = build(AppState())
    assert [i.label for i in items] == [
        "No local servers",
        "-",
        "Pause notifications",
        "Start at login",
        "Quit porttray",
    ]
    assert items[0].enabled is False
    assert items[2].action == Action("pause") and items[2].checked is False


def test_menu_server_entries_and_actions() -> None:
    https = dataclasses.replace(VITE, identity=Identity(protocol="https", project="acme-web"))
    other = server(5432, 20, name="postgres", protocol="other")
    state = set_paused(apply_events(AppState(), (https, API, other), []), True)
    items = build(state)
    vite, api, pg = items[:3]
    assert [(c.label, c.action) for c in vite.children[:3]] == [
        ("Open in browser", Action("open", "https://127.0.0.1:5173")),
        ("Copy address", Action("copy", "https://127.0.0.1:5173")),
        ("Copy localhost URL", Action("copy", "https://localhost:5173")),
    ]
    assert api.children[0] == Item(
        "⚠ Reachable from the network", enabled=False, key=f"{API.port}:{API.pid}/exposed"
    )
    assert "Open in browser" not in [c.label for c in pg.children]
    assert items[-3].checked is True  # paused


def test_menu_over_the_limit_shows_newest_first_and_the_rest_under_more() -> None:
    servers = tuple(server(3000 + i, i) for i in range(30))
    events = [Opened(s, 100.0 + (i * 7) % 30) for i, s in enumerate(servers)]
    state = apply_events(AppState(), (), [])
    state = apply_events(state, servers, events)  # type: ignore[arg-type]
    items = build(state, limit=25)
    top = [i for i in items if i.children and not i.label.startswith("More")]
    assert len(top) == 25
    opened = {e.server.port: e.since for e in state.entries}
    shown = [int(i.label.split()[0][1:]) for i in top]
    assert [opened[p] for p in shown] == sorted((opened[p] for p in shown), reverse=True)
    more = next(i for i in items if i.label.startswith("More"))
    assert more.label == "More (5)"
    assert [int(c.label.split()[0][1:]) for c in more.children] == sorted(set(opened) - set(shown))
    assert menu.MENU_LIMIT == 25


def test_manage_items_copy_hide_and_stop_only_own_processes() -> None:
    proc = ProcessInfo(77, name="node", cmdline=("node", "my server.js"), user="ann", started=5.0)
    mine = Server(3000, ("127.0.0.1",), 77, proc)
    theirs = dataclasses.replace(
        mine, pid=78, process=dataclasses.replace(proc, pid=78, user="bob")
    )
    state = apply_events(AppState(), (mine, theirs), [])
    (own, other) = [i for i in build(state, user="ann") if i.children][:2]
    labels = [c.label for c in own.children]
    assert labels[labels.index("-") + 1 :] == [
        "Copy PID (77)",
        "Copy command line",
        "Hide port 3000",
        "Stop server",
    ]
    assert own.children[labels.index("Copy command line")].action == Action(
        "copy", "node 'my server.js'"
    )
    stop = own.children[-1]
    assert [(c.label, c.action) for c in stop.children] == [
        ("Yes, stop node (pid 77)", Action("stop", server=(3000, 77)))
    ]
    assert "Stop server" not in [c.label for c in other.children]
    assert "Stop server" not in [c.label for c in build(state, user=None)[0].children]
    stopping = mark_stopping(state, (3000, 77))
    own = build(stopping, user="ann")[0]
    assert own.children[-1] == Item(
        "Force stop (still running)", Action("force", server=(3000, 77)), key="3000:77/force"
    )
    assert apply_events(stopping, (theirs,), [Closed(mine, 9.0)]).stopping == frozenset()
    assert mark_stopping(state, (1, 1)) == state


def test_autostart_checkbox() -> None:
    items = build(set_autostart(AppState(), True))
    (auto,) = [i for i in items if i.label == "Start at login"]
    assert auto.checked is True
    assert auto.action == Action("autostart")


def test_more_lists_at_most_more_limit_and_says_how_many_are_left_out() -> None:
    servers = tuple(server(10_000 + i, i + 1) for i in range(1_000))
    state = apply_events(AppState(), servers, [])
    items = build(state)
    more = next(i for i in items if i.label.startswith("More"))
    assert more.label == "More (975)"
    assert len(more.children) == menu.MORE_LIMIT + 1
    left = 975 - menu.MORE_LIMIT
    assert more.children[-1] == Item(
        f"… {left} more: porttray list shows them all", enabled=False, key="more/unlisted"
    )
    assert sum(1 for i in items if i.children and i is not more) == 25
