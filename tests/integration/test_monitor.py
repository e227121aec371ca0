"""The monitor thread with the real engine and real sockets: state, probes, batching, stop."""

from __future__ import annotations

import threading

from tests.conftest import wait_for
from tests.helpers.servers import child_listening, listener
from tray.discover import open_engine
from tray.model import Identity, Server
from tray.monitor import Monitor, SetPaused
from tray.state import AppState


class Recorder:
    def __init__(self) -> None:
        self.states: list[AppState] = []
        self.notes: list[tuple[Server, ...]] = []
        self.probed: list[int] = []
        self.mine: set[int] = set()
        self.lock = threading.Lock()

    def on_state(self, state: AppState) -> None:
        with self.lock:
            self.states.append(state)

    def on_notes(self, servers: tuple[Server, ...]) -> None:
        with self.lock:
            self.notes.append(servers)

    def identify(self, server: Server) -> Identity:
        self.probed.append(server.port)
        return Identity(protocol="http", title=f"page {server.port}")

    def ports(self) -> set[int]:
        return {e.server.port for e in self.states[-1].entries} if self.states else set()


def ours(rec: Recorder, ports: set[int] | None = None) -> list[tuple[Server, ...]]:
    """Notes about this test's servers (other programs on the machine may open ports too)."""
    mine = ports if ports is not None else rec.mine
    return [n for n in rec.notes if mine & {s.port for s in n}]


def make(rec: Recorder) -> Monitor:
    return Monitor(
        open_engine(),
        interval=0.05,
        on_state=rec.on_state,
        on_notes=rec.on_notes,
        identify=rec.identify,
    )


def test_servers_appear_get_named_are_announced_once_and_leave() -> None:
    rec = Recorder()
    with listener("127.0.0.1") as old:
        mon = make(rec)
        mon.start()
        try:
            assert old.getsockname()[1] in rec.ports()
            with child_listening(["127.0.0.1"]) as a, child_listening(["::1"]) as b:
                rec.mine = {a.port, b.port}
                assert wait_for(lambda: {a.port, b.port} <= rec.ports(), 5)
                assert wait_for(lambda: bool(ours(rec)), 5)
                (note,) = ours(rec)
                assert {a.port, b.port} <= {s.port for s in note}
                assert all(s.identity.title == f"page {s.port}" for s in note)
            assert wait_for(lambda: not {a.port, b.port} & rec.ports(), 5)
            assert {a.port, b.port} <= {g.server.port for g in rec.states[-1].recent}
            assert old.getsockname()[1] in rec.probed  # servers open at start are named too
            assert not any(old.getsockname()[1] in {s.port for s in n} for n in rec.notes)
            assert len(ours(rec)) == 1
        finally:
            mon.stop()
    assert not any(t.name == "porttray-monitor" for t in threading.enumerate())


def test_paused_monitor_announces_nothing() -> None:
    rec = Recorder()
    mon = make(rec)
    mon.start()
    try:
        mon.send(SetPaused(True))
        assert wait_for(lambda: bool(rec.states) and rec.states[-1].paused, 2)
        with child_listening(["127.0.0.1"]) as a:
            assert wait_for(lambda: a.port in rec.ports(), 5)
            assert not wait_for(lambda: bool(ours(rec, {a.port})), 2.0)
    finally:
        mon.stop()
