"""Settings applied to servers: hidden, named, and what opening one does."""

from __future__ import annotations

import pytest

from tray.config import parse
from tray.model import ProcessInfo, Server
from tray.rules import Ruling, Rulings, hidden, label_of, on_open, ruling, shown

ME = "ann"


ME_UID = 1000


def server(
    port: int,
    name: str | None,
    user: str | None,
    cmdline: tuple[str, ...] = (),
    uid: int | None = None,
) -> Server:
    process = ProcessInfo(7, name=name, user=user, cmdline=cmdline) if name or user else None
    return Server(port, ("127.0.0.1",), 7 if process else None, process, uid=uid)


@pytest.mark.parametrize(
    ("srv", "hidden_by_default"),
    [
        (server(5173, "node", ME), False),
        (server(22, "sshd", "root"), True),  # a system daemon
        (server(631, "cupsd", ME), True),  # a system daemon, whoever runs it
        (server(5432, "postgres", "postgres"), True),  # another user's process
        (server(8080, None, None), False),  # owner unknown: never hidden by hide_system
        (server(6379, None, None, uid=112), True),  # process unseen, but the kernel says whose
        (server(5432, None, None, uid=0), True),  # root's socket, process unseen
        (server(8000, None, None, uid=ME_UID), False),  # mine, process unseen (another namespace)
        (server(8000, "python3", "someone", uid=ME_UID), False),  # the uid decides, not names
        (server(5432, "docker-proxy", "root", uid=0), False),  # a container's port is the user's
    ],
)
def test_hide_system(srv: Server, hidden_by_default: bool) -> None:
    assert hidden(parse(""), srv, ME, ME_UID) is hidden_by_default
    assert hidden(parse("hide_system = false"), srv, ME, ME_UID) is False


def test_rules_win_over_hide_system_and_first_match_wins() -> None:
    config = parse(
        '[[rules]]\nmatch = "postgres"\nlabel = "Shop DB"\non_open = "silent"\n\n'
        '[[rules]]\nports = "5000-5999"\non_open = "ignore"\n'
    )
    pg = server(5432, "postgres", "postgres")
    assert not hidden(config, pg, ME)
    assert label_of(config, pg) == "Shop DB"
    assert on_open(config, pg) == "silent"
    assert hidden(config, server(5173, "node", ME), ME)
    assert label_of(config, server(3000, "node", ME)) is None


def test_match_rules_see_the_command_line_and_notifications_off_means_silent() -> None:
    config = parse('notifications = false\n[[rules]]\nmatch = "vite"\non_open = "open-browser"\n')
    vite = server(5173, "node", ME, ("node", "/app/node_modules/.bin/vite"))
    assert on_open(config, vite) == "open-browser"
    assert on_open(config, server(3000, "node", ME)) == "silent"
    assert on_open(parse(""), server(3000, "node", ME)) == "notify"


def test_ruling_agrees_with_the_single_questions() -> None:
    config = parse(
        '[[rules]]\nport = 5173\nlabel = "Shop"\non_open = "open-browser"\n\n'
        '[[rules]]\nport = 9229\non_open = "ignore"\n'
    )
    for srv in (server(5173, "node", ME), server(9229, "node", ME), server(22, "sshd", "root")):
        decided = ruling(config, srv, ME, ME_UID)
        assert decided == Ruling(
            shown(config, srv, ME, ME_UID), label_of(config, srv), on_open(config, srv)
        )
    assert ruling(config, server(5173, "node", ME), ME) == Ruling(True, "Shop", "open-browser")
    assert ruling(config, server(9229, "node", ME), ME).shown is False


def test_rulings_are_decided_again_only_for_changed_servers_or_settings() -> None:
    config = parse('[[rules]]\nport = 5173\nlabel = "Shop"\n')
    rulings = Rulings(ME, ME_UID)
    vite, api = server(5173, "node", ME), server(8000, "python3", ME)
    shown, first = rulings.decide(config, (vite, api))
    assert shown == (vite, api)
    assert first[vite.key].label == "Shop" and first[api.key].label is None
    _, again = rulings.decide(config, (vite, api))
    assert again[vite.key] is first[vite.key] and again[api.key] is first[api.key]
    moved = Server(8000, ("0.0.0.0",), api.pid, api.process)  # what the scan says changed
    _, changed = rulings.decide(config, (vite, moved))
    assert changed[vite.key] is first[vite.key] and changed[api.key] is not first[api.key]
    web = parse(
        '[[rules]]\nport = 5173\nlabel = "Web"\n\n[[rules]]\nport = 8000\non_open = "ignore"\n'
    )
    shown, relabelled = rulings.decide(web, (vite, moved))
    assert shown == (vite,) and relabelled[vite.key].label == "Web"
    assert rulings.decide(config, ()) == ((), {})
