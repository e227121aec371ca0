"""The history file: real SQLite files, real concurrent writer processes, real damage."""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.conftest import wait_for
from tests.helpers.servers import child_listening, listener
from tests.integration.test_cli import wait_started
from tray import history, menu
from tray.config import DEFAULT
from tray.discover import open_engine
from tray.history import History, HistoryError
from tray.messages import Hooks
from tray.model import Closed, Identity, Opened, ProcessInfo, Server
from tray.monitor import Monitor
from tray.recorder import Recorder
from tray.state import AppState

PORTTRAY = [sys.executable, "-m", "tray"]


def _server(
    port: int, pid: int = 100, title: str | None = None, project: str | None = None
) -> Server:
    proc = ProcessInfo(pid, name="node", started=1000.0 + pid)
    identity = Identity(title=title, project=project)
    return Server(port, ("127.0.0.1",), pid, process=proc, identity=identity)


def test_a_server_is_one_row_from_open_to_close(tmp_path: Path) -> None:
    h = History(tmp_path / "h.sqlite3")
    h.record([_server(5173)], at=2000.0)
    h.record([_server(5173)], at=2500.0)  # seen again by a second writer: same row
    h.record([_server(5173, title="Shop", project="shop")], at=3000.0, closed=True)
    (row,) = h.rows()
    assert (row.port, row.pid, row.project, row.title) == (5173, 100, "shop", "Shop")
    assert row.first_seen == 1100.0 and row.closed == 3000.0 and row.ran == 1900.0
    (gone,) = history.recently_closed(5, h)
    assert gone.server.port == 5173 and gone.until == 3000.0


def test_names_that_are_not_utf8_are_kept_readable(tmp_path: Path) -> None:
    h = History(tmp_path / "h.sqlite3")
    odd = Server(5000, ("127.0.0.1",), 9, ProcessInfo(9, name="caf\udce9", started=1.0))
    h.record([dataclasses.replace(odd, identity=Identity(title="\udcff\x00x"))], at=2.0)
    (row,) = h.rows()
    assert row.name == "caf?" and row.title == "?\x00x"


def test_the_file_stays_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(history, "MAX_ROWS", 50)
    h = History(tmp_path / "h.sqlite3")
    for i in range(120):
        h.record([_server(1000 + i, title="x" * 10_000)], at=2000.0 + i)
    rows = h.rows()
    assert len(rows) == 50 and rows[0].port == 1119 and rows[-1].port == 1070
    assert all(len(r.title or "") <= history.TEXT_LIMIT for r in rows)


WRITER = """
import sys
from tray.history import History
from tray.model import ProcessInfo, Server
h = History(__import__("pathlib").Path(sys.argv[1]))
n = int(sys.argv[2])
for i in range(200):
    s = Server(10000 + n * 1000 + i, ("127.0.0.1",), i, process=ProcessInfo(i, started=1.0))
    h.record([s], at=float(i))
print("done")
"""


def test_concurrent_writer_processes_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(n)], stdout=subprocess.PIPE)
        for n in range(4)
    ]
    outputs = [w.communicate(timeout=120)[0] for w in writers]
    assert all(w.returncode == 0 for w in writers) and all(b"done" in o for o in outputs)
    assert len(History(path).rows()) == 800


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"this is no database at all" * 100, "damaged"),
        (b"SQLite format 3\x00" + b"\xff" * 4000, "damaged"),
    ],
)
def test_a_damaged_file_is_set_aside_not_lost(tmp_path: Path, content: bytes, why: str) -> None:
    path = tmp_path / "h.sqlite3"
    path.write_bytes(content)
    h = History(path)
    h.record([_server(5000)], at=2000.0)
    assert len(h.rows()) == 1
    (aside,) = tmp_path.glob("h.sqlite3.unreadable-*")
    assert aside.read_bytes() == content
    assert h.notices and why in h.notices[0] and str(aside) in h.notices[0]


def test_a_file_from_a_newer_porttray_is_set_aside(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE future (x)")
        db.execute("INSERT INTO future VALUES (42)")
        db.execute("PRAGMA user_version = 99")
    db.close()
    h = History(path)
    assert h.rows() == []
    (aside,) = tmp_path.glob("h.sqlite3.unreadable-*")
    with sqlite3.connect(aside) as old:
        assert old.execute("SELECT x FROM future").fetchall() == [(42,)]
    old.close()
    assert "newer porttray" in h.notices[0]


LOCKER = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.read()
"""


def test_a_locked_file_is_left_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(history, "BUSY_TIMEOUT_MS", 200)
    path = tmp_path / "h.sqlite3"
    History(path).record([_server(5000)], at=2000.0)
    locker = subprocess.Popen(
        [sys.executable, "-c", LOCKER, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert locker.stdout is not None and locker.stdout.readline() == b"locked\n"
        with pytest.raises(HistoryError, match="locked"):
            History(path).record([_server(5001)], at=2001.0)
    finally:
        locker.communicate(b"", timeout=10)
    assert not list(tmp_path.glob("*.unreadable-*"))
    assert [r.port for r in History(path).rows()] == [5000]


def test_the_recorder_reports_a_locked_file_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history, "BUSY_TIMEOUT_MS", 100)
    path = tmp_path / "h.sqlite3"
    History(path).record([_server(5000)], at=2000.0)
    errors: list[str] = []
    rec = Recorder(History(path), errors.append)
    rec.start()
    locker = subprocess.Popen(
        [sys.executable, "-c", LOCKER, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert locker.stdout is not None and locker.stdout.readline() == b"locked\n"
        for port in (6000, 6001, 6002):
            rec.seen((_server(port),), 3000.0)
        assert wait_for(lambda: len(errors) >= 1, 10)
    finally:
        locker.communicate(b"", timeout=10)
    rec.seen((_server(6003),), 3001.0)
    rec.stop(10)
    assert len(errors) == 1 and "locked" in errors[0]
    assert 6003 in {r.port for r in History(path).rows()}


def test_a_scan_with_many_events_is_one_transaction_and_in_order(tmp_path: Path) -> None:
    class Counting(History):
        writes = 0

        def _write(self, rows: list[tuple[object, ...]]) -> None:
            type(self).writes += 1
            super()._write(rows)

    rec = Recorder(Counting(tmp_path / "h.sqlite3"), lambda message: None)
    rec.start()
    servers = [_server(8000 + i) for i in range(300)]
    rec.events((), [Opened(s, 3000.0) for s in servers] + [Closed(servers[0], 3001.0)])
    rec.stop(30)
    assert Counting.writes == 1
    rows = History(tmp_path / "h.sqlite3").rows()
    assert len(rows) == 300
    assert [r.closed for r in rows if r.port == 8000] == [3001.0]  # the close came after


def test_the_monitor_feeds_the_history_and_restores_recently_closed(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    rec = Recorder(History(path), lambda message: None)
    rec.start()
    hooks = Hooks(on_state=lambda state: None, on_notes=lambda servers: None, on_seen=rec.events)
    with listener("127.0.0.1") as before:
        before_port = before.getsockname()[1]
        mon = Monitor(open_engine(), hooks, config=DEFAULT, interval=0.05)
        mon.start()
        try:
            with child_listening(["127.0.0.1"]) as child:
                assert wait_for(lambda: mon.state.find((child.port, child.pid)) is not None)
            assert wait_for(lambda: any(g.server.port == child.port for g in mon.state.recent))
        finally:
            mon.stop()
            rec.stop()
        rows = {r.port: r for r in History(path).rows()}
    assert rows[before_port].closed is None
    assert rows[child.port].closed is not None and rows[child.port].pid == child.pid
    # a new tray starts with that list
    restored = history.recently_closed(10, History(path))
    state = AppState(recent=restored)
    (recent,) = [item for item in menu.build(state) if item.label == "Recently closed"]
    assert any(f":{child.port} " in item.label for item in recent.children)


def _cli(*args: str, state: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_STATE_HOME": str(state)}
    return subprocess.run(
        [*PORTTRAY, *args], capture_output=True, text=True, env=env, timeout=60, check=False
    )


def test_watch_writes_and_history_reads(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path)}
    watch = subprocess.Popen(
        [*PORTTRAY, "-v", "watch", "--json", "--interval", "0.05"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        wait_started(watch)  # the baseline is taken (on a quiet machine it holds no server)
        with child_listening(["127.0.0.1"]) as child:
            assert _next_event(watch, child.port) == "opened"
        assert _next_event(watch, child.port) == "closed"
    finally:
        watch.terminate()
        watch.communicate(timeout=10)
    done = _cli("history", "--json", state=tmp_path)
    assert done.returncode == 0, done.stderr
    (row,) = [r for r in json.loads(done.stdout) if r["port"] == child.port]
    assert row["pid"] == child.pid and row["closed"] and row["ran_seconds"] is not None
    text = _cli("history", state=tmp_path)
    assert any(line.startswith(f"{child.port} ") for line in text.stdout.splitlines())


def _next_event(watch: subprocess.Popen[str], port: int) -> str:
    """The next event `watch` prints about this port (other programs open ports too)."""
    assert watch.stdout is not None
    while True:
        event = json.loads(watch.stdout.readline())
        if event["server"]["port"] == port:
            return str(event["event"])


def test_history_on_a_damaged_file_says_so_and_keeps_it(tmp_path: Path) -> None:
    (tmp_path / "porttray").mkdir()
    (tmp_path / "porttray" / "history.sqlite3").write_bytes(b"garbage" * 1000)
    done = _cli("history", state=tmp_path)
    assert done.returncode == 0 and "kept as" in done.stderr
    assert list((tmp_path / "porttray").glob("history.sqlite3.unreadable-*"))
    assert _cli("history", "--days", "soon", state=tmp_path).returncode == 2


def test_recorder_threads_end(tmp_path: Path) -> None:
    rec = Recorder(History(tmp_path / "h.sqlite3"), lambda message: None)
    rec.start()
    rec.events((_server(7000),), ())
    rec.stop()
    assert not any(t.name == "porttray-history" for t in threading.enumerate())
    assert [r.port for r in History(tmp_path / "h.sqlite3").rows()] == [7000]


def test_an_unwritable_state_directory_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "porttray").write_text("a file where the directory should be")
    done = _cli("history", state=tmp_path)
    assert done.returncode == 1 and done.stderr.startswith("porttray: ")
    assert "Traceback" not in done.stderr
