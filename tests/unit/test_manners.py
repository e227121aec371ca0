"""Which servers may be probed: never databases' ports, never another user's socket by default."""

from __future__ import annotations

import dataclasses

import pytest

from tray.config import Config, parse
from tray.manners import may_probe, theirs
from tray.model import ProcessInfo, Server
from tray.programs import kind_of

ME, ME_UID = "ann", 1000


def server(
    port: int,
    name: str | None = "node",
    uid: int | None = ME_UID,
    user: str | None = ME,
    addresses: tuple[str, ...] = ("127.0.0.1",),
) -> Server:
    process = (
        ProcessInfo(7, name=name, user=user, cmdline=(name,) if name else ()) if name else None
    )
    return Server(port, addresses, 7 if process else None, process, uid=uid)


def allowed(srv: Server, config: Config | None = None) -> bool:
    kind = kind_of(srv.name, srv.process.cmdline if srv.process else ())
    return may_probe(srv, kind, config or parse(""), ME_UID, ME)


@pytest.mark.parametrize(
    ("srv", "probed"),
    [
        (server(5173), True),
        (server(5432), False),  # postgres's port, even when node holds it
        (server(6379, name=None, uid=None, user=None), False),  # nobody knows whose
        (server(16379, "redis-server"), False),  # redis on another port: never probed
        (server(18000, None, uid=112, user=None), False),  # another uid, process unseen
        (server(18000, "python3", uid=1001, user="bob"), False),  # another user's dev server
        (server(18000, "python3", uid=None, user="bob"), False),  # no uid: the process's user
        (server(18000, "python3", uid=None, user=None), True),  # mine as far as can be told
        (server(18000, addresses=("192.0.2.1",)), False),  # not on loopback
        (server(631, "cupsd"), False),
        (server(8080, "nginx"), True),  # a system web server is HTTP
    ],
)
def test_default_manners(srv: Server, probed: bool) -> None:
    assert allowed(srv) is probed


def test_probe_others_allows_other_users_but_never_quiet_ports() -> None:
    config = parse("probe_others = true")
    assert allowed(server(18000, "python3", uid=1001, user="bob"), config)
    assert allowed(server(18000, None, uid=None, user=None), config)
    assert not allowed(server(6379, "python3", uid=1001, user="bob"), config)


def test_a_no_probe_setting_replaces_the_built_in_names() -> None:
    config = parse('no_probe = ["mydb"]')
    assert not allowed(server(18000, "MyDB.exe"), config)
    assert allowed(server(18000, "redis-server"), config)  # the user asked for it
    assert not allowed(server(6379, "redis-server"), config)  # its port stays quiet


def test_theirs_prefers_the_kernel_uid() -> None:
    assert theirs(server(1, uid=1001, user=ME), ME_UID, ME)
    assert not theirs(server(1, uid=ME_UID, user="bob"), ME_UID, ME)
    assert not theirs(server(1, uid=None, user=None), ME_UID, ME)


def test_the_menu_shows_another_users_server_as_theirs_without_stop() -> None:
    from tray.menu import build
    from tray.state import AppState, apply_events

    theirs_ = Server(18000, ("127.0.0.1",), None, uid=1001, owner="bob")
    mine = dataclasses.replace(server(18001), owner=ME)
    state = apply_events(AppState(config=parse("hide_system = false")), (theirs_, mine), [])
    items = build(state, user=ME)
    labels = [i.label for i in items[:2]]
    assert labels == [":18000  unknown process  (bob)", ":18001  node"]
    assert not [c for c in items[0].children if c.label == "Stop server"]
