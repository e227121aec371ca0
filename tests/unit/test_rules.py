"""Settings applied to servers: hidden, named, and what opening one does."""

from __future__ import annotations

import pytest

from tray.config import parse
from tray.model import ProcessInfo, Server
from tray.rules import hidden, label_of, on_open

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
