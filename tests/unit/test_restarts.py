"""Restarts are not new servers: the same port, directory and command back within a few seconds."""

from __future__ import annotations

import pytest

from tray import policy
from tray.model import Closed, Event, Identity, Opened, ProcessInfo, Restarted, Server
from tray.restarts import WINDOW, merge
from tray.state import AppState, apply_events

CMD = ("python3", "manage.py", "runserver")


def srv(pid: int, port: int = 8000, cwd: str = "/shop", cmd: tuple[str, ...] = CMD) -> Server:
    return Server(port, ("127.0.0.1",), pid, ProcessInfo(pid, name="python3", cmdline=cmd, cwd=cwd))


OLD, NEW = srv(10), srv(11)


@pytest.mark.parametrize(
    ("events", "recent", "expected"),
    [
        ([Closed(OLD, 5), Opened(NEW, 5)], [], [Restarted(NEW, OLD, 5)]),  # in one poll
        ([Opened(NEW, 7)], [(OLD, 5)], [Restarted(NEW, OLD, 7)]),  # back two seconds later
        ([Opened(NEW, 5 + WINDOW + 1)], [(OLD, 5)], [Opened(NEW, 5 + WINDOW + 1)]),  # too late
        ([Opened(srv(11, cwd="/blog"), 6)], [(OLD, 5)], [Opened(srv(11, cwd="/blog"), 6)]),
        ([Opened(srv(11, port=8001), 6)], [(OLD, 5)], [Opened(srv(11, port=8001), 6)]),
        (
            [Closed(OLD, 5), Opened(srv(11, cmd=("node", "x.js")), 5)],
            [],
            [Closed(OLD, 5), Opened(srv(11, cmd=("node", "x.js")), 5)],
        ),
        (
            [Closed(OLD, 5), Opened(Server(8000, ("127.0.0.1",), None), 5)],
            [],
            [Closed(OLD, 5), Opened(Server(8000, ("127.0.0.1",), None), 5)],
        ),  # an unseen process is never a restart
    ],
)
def test_merge(
    events: list[Event], recent: list[tuple[Server, float]], expected: list[Event]
) -> None:
    assert merge(events, recent) == expected


def test_a_restart_keeps_one_entry_its_first_start_name_and_key_and_is_not_announced() -> None:
    named = Server(8000, ("127.0.0.1",), 10, OLD.process, identity=Identity(title="Shop"))
    state = apply_events(AppState(), (named,), [Opened(named, 100.0)])
    pending = policy.on_events(policy.Policy(), [Opened(named, 100.0)], 0.0, paused=False)
    closed = apply_events(state, (), [Closed(named, 103.0)])
    assert [g.server.pid for g in closed.recent] == [10]
    recent = [(g.server, g.until) for g in closed.recent]
    events = merge([Opened(NEW, 104.0)], recent)
    back = apply_events(closed, (NEW,), events)
    (entry,) = back.entries
    assert (entry.server.pid, entry.since, entry.restarts) == (11, 100.0, 1)
    assert entry.server.identity.title == "Shop" and entry.first_key == (8000, 10)
    assert back.recent == ()  # no longer listed as closed
    pending = policy.on_events(pending, [Closed(named, 103.0)], 0.5, paused=False)
    assert policy.on_events(pending, events, 1.0, paused=False).batch is None  # nothing to announce


def test_a_pending_announcement_follows_a_restart_in_one_poll() -> None:
    pending = policy.on_events(policy.Policy(), [Opened(OLD, 1.0)], 0.0, paused=False)
    events = merge([Closed(OLD, 2.0), Opened(NEW, 2.0)], [])
    after = policy.on_events(pending, events, 0.5, paused=False)
    assert after.batch is not None and after.batch.keys == (NEW.key,)
