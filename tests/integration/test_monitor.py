"""The monitor thread with the real engine and real sockets: state, probes, batching, stop."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import wait_for
from tests.helpers.servers import child_listening, free_port, listener
from tray import probe_plan
from tray.config import DEFAULT, ConfigWatcher
from tray.discover import open_engine
from tray.messages import Hooks, SetPaused
from tray.model import Identity, Server
from tray.monitor import Monitor
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
    hooks = Hooks(on_state=rec.on_state, on_notes=rec.on_notes)
    return Monitor(open_engine(), hooks, config=DEFAULT, interval=0.05, identify=rec.identify)


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


def _replace(path: Path, text: str) -> None:
    """Write the settings file in one step, as editors that save atomically do: the monitor must
    not catch the file half-written (empty is valid TOML, and would count as good settings)."""
    temp = path.with_suffix(".tmp")
    temp.write_text(text)
    os.replace(temp, path)


def watching(path: Path, rec: Recorder, hooks: Hooks) -> Monitor:
    """A monitor that follows the settings file at `path`, as the tray's does."""
    watcher = ConfigWatcher(path)
    return Monitor(
        open_engine(),
        hooks,
        config=watcher.config,
        interval=0.05,
        identify=rec.identify,
        watcher=watcher,
    )


def test_rules_from_a_live_settings_file(tmp_path: Path) -> None:
    """ignore hides, silent shows without a note, open-browser opens; edits apply; garbage is
    reported once and the last good settings stay."""
    quiet, browse = free_port(), free_port()
    path = tmp_path / "config.toml"
    with child_listening(["127.0.0.1"]) as ignored:
        path.write_text(
            f'[[rules]]\nport = {ignored.port}\non_open = "ignore"\n\n'
            f'[[rules]]\nport = {quiet}\non_open = "silent"\nlabel = "Quiet one"\n'
        )
        rec, opened, errors = Recorder(), list[int](), list[str]()
        hooks = Hooks(rec.on_state, rec.on_notes, lambda s: opened.append(s.port), errors.append)
        mon = watching(path, rec, hooks)
        mon.start()
        try:
            assert wait_for(lambda: len(mon.state.config.rules) == 2, 5)
            assert wait_for(lambda: ignored.port not in rec.ports(), 2)
            _replace(
                path, path.read_text() + f'\n[[rules]]\nport = {browse}\non_open = "open-browser"\n'
            )
            assert wait_for(lambda: len(mon.state.config.rules) == 3, 5)
            rec.mine = {quiet, browse}
            with child_listening(["127.0.0.1"], quiet), child_listening(["::1"], browse):
                assert wait_for(lambda: {quiet, browse} <= rec.ports(), 5)
                assert wait_for(lambda: opened == [browse], 5)
                assert not wait_for(lambda: bool(ours(rec)), 2.5)
            _replace(path, "interval = [broken\n")
            assert wait_for(lambda: len(errors) == 1, 5)
            assert "config.toml:1" in errors[0]
            assert not wait_for(lambda: len(errors) > 1, 1.5)
            assert len(mon.state.config.rules) == 3  # the last good settings
            assert ignored.port not in rec.ports()
        finally:
            mon.stop()


def test_a_server_silent_at_first_is_probed_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(probe_plan, "RETRY_AFTER", (0.2, 0.2))
    rec = Recorder()
    calls: list[int] = []

    def identify(server: Server) -> Identity:
        calls.append(server.port)
        if calls.count(server.port) < 3:
            return Identity()  # no answer yet
        return Identity(protocol="http", title="ready")

    hooks = Hooks(on_state=rec.on_state, on_notes=rec.on_notes)
    mon = Monitor(open_engine(), hooks, config=DEFAULT, interval=0.05, identify=identify)
    mon.start()
    try:
        with child_listening(["127.0.0.1"]) as child:
            key = (child.port, child.pid)

            def ready() -> bool:
                entry = mon.state.find(key)
                return entry is not None and entry.server.identity.title == "ready"

            assert wait_for(ready, 5)
            assert calls.count(child.port) == 3
    finally:
        mon.stop()


def test_a_new_server_is_probed_before_a_backlog_of_silent_ones() -> None:
    """Twelve servers that each hold a probe for 0.5 s are waiting when a new one opens: the new
    one is probed next, not after all of them."""
    order: list[int] = []
    lock = threading.Lock()
    socks = [listener("127.0.0.1") for _ in range(12)]
    slow = {s.getsockname()[1] for s in socks}

    def identify(server: Server) -> Identity:
        with lock:
            order.append(server.port)
        if server.port in slow:
            time.sleep(0.5)  # stands in for a probe that waits out a silent server
        return Identity(protocol="http")

    rec = Recorder()
    hooks = Hooks(on_state=rec.on_state, on_notes=rec.on_notes)
    mon = Monitor(open_engine(), hooks, config=DEFAULT, interval=0.05, identify=identify)
    mon.start()
    try:
        with child_listening(["127.0.0.1"]) as child:
            assert wait_for(lambda: child.port in order, 5)
            with lock:
                before = order[: order.index(child.port)]
            # first in, first out would have probed every slow server before the new one
            assert sum(1 for port in before if port in slow) < len(slow)
    finally:
        mon.stop()
        for sock in socks:
            sock.close()


def test_a_server_that_opens_just_before_a_settings_change_is_still_announced(
    tmp_path: Path,
) -> None:
    """With a 2 s interval the settings change and the new server arrive in the same poll; the
    change re-filters what was already scanned and the new server is diffed as usual."""
    path = tmp_path / "config.toml"
    path.write_text('[[rules]]\nport = 1\non_open = "ignore"\n')
    rec = Recorder()
    hooks = Hooks(on_state=rec.on_state, on_notes=rec.on_notes)
    watcher = ConfigWatcher(path)  # not read yet: the monitor starts on the defaults
    mon = Monitor(
        open_engine(), hooks, config=DEFAULT, interval=2.0, identify=rec.identify, watcher=watcher
    )
    mon.start()
    try:
        with child_listening(["127.0.0.1"]) as child:
            rec.mine = {child.port}
            assert wait_for(lambda: len(mon.state.config.rules) == 1, 5)
            assert wait_for(lambda: bool(ours(rec)), 6)
    finally:
        mon.stop()
