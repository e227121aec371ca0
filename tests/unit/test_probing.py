"""The probe plan: newest first, bounded in flight, silent servers asked again a few times."""

from __future__ import annotations

from tray.model import Identity, Server
from tray.probe_plan import ProbePlan
from tray.state import AppState, Entry, apply_events

SILENT = Identity()
NAMED = Identity(protocol="http", title="ok")


def servers(n: int, start: int = 3000) -> tuple[Server, ...]:
    return tuple(Server(start + i, ("127.0.0.1",), 100 + i) for i in range(n))


def state_of(listed: tuple[Server, ...]) -> AppState:
    return apply_events(AppState(), listed, [])


def test_newest_first_and_at_most_workers_in_flight() -> None:
    listed = servers(6)
    state = state_of(listed)
    plan = ProbePlan(workers=2)
    for s in listed[:5]:
        plan.want(s)
    assert [s.port for s in plan.take(state.find)] == [3004, 3003]
    assert plan.take(state.find) == []  # both workers busy
    plan.want(listed[5])  # a new server arrives while five wait
    plan.answered(listed[4].key, NAMED, 0.0, state.find)
    assert [s.port for s in plan.take(state.find)] == [3005]


def test_a_server_gone_before_its_turn_is_skipped() -> None:
    listed = servers(2)
    plan = ProbePlan(workers=4)
    plan.want(listed[0])
    plan.want(listed[1])
    only_first = state_of(listed[:1])
    assert [s.port for s in plan.take(only_first.find)] == [3000]


def test_silent_servers_are_asked_again_on_schedule_then_left() -> None:
    (server,) = servers(1)
    state = state_of((server,))
    plan = ProbePlan(workers=1, retry_after=(3.0, 10.0))
    plan.want(server)
    assert plan.take(state.find) == [server]
    plan.answered(server.key, SILENT, 100.0, state.find)
    plan.due(102.9, state.find)
    assert plan.take(state.find) == []
    plan.due(103.0, state.find)
    assert plan.take(state.find) == [server]
    plan.answered(server.key, SILENT, 103.5, state.find)
    plan.due(113.5, state.find)
    assert plan.take(state.find) == [server]
    plan.answered(server.key, SILENT, 114.0, state.find)  # out of tries
    plan.due(10_000.0, state.find)
    assert plan.take(state.find) == []


def test_an_answer_ends_the_retries() -> None:
    (server,) = servers(1)
    state = state_of((server,))
    plan = ProbePlan(workers=1, retry_after=(1.0,))
    plan.want(server)
    plan.take(state.find)
    plan.answered(server.key, NAMED, 0.0, state.find)
    plan.due(100.0, state.find)
    assert plan.take(state.find) == []


def test_retry_limit_keeps_the_newest_servers() -> None:
    listed = servers(3)
    entries = tuple(Entry(s, since=float(i)) for i, s in enumerate(listed))
    state = AppState(entries=entries)
    plan = ProbePlan(workers=3, retry_after=(1.0,), retry_limit=2)
    for s in listed:
        plan.want(s)
    assert len(plan.take(state.find)) == 3
    for s in listed:
        plan.answered(s.key, SILENT, 0.0, state.find)
    plan.due(5.0, state.find)
    assert sorted(s.port for s in plan.take(state.find)) == [3001, 3002]  # 3000 is the oldest


def test_forget_drops_a_closed_server_everywhere() -> None:
    (server,) = servers(1)
    state = state_of((server,))
    plan = ProbePlan(workers=1, retry_after=(1.0,))
    plan.want(server)
    plan.take(state.find)
    plan.answered(server.key, SILENT, 0.0, state.find)
    plan.forget(server.key)
    plan.due(5.0, state.find)
    assert plan.take(state.find) == []
    assert plan.in_flight == 0
