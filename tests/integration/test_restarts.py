"""A reloader that reopens its port from a new process on every save is one server restarting."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import wait_for
from tests.helpers.servers import free_port
from tests.integration.test_cli import read_line, watching
from tests.integration.test_monitor import Recorder, make, ours
from tray.state import Entry

# Like Django's runserver: a parent that runs the same command again in a child each time the
# previous child exits, the child binding the port anew.
RELOADER = """
import socket, subprocess, sys, time
port, rounds, life = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
child = (
    "import socket, sys, time; s = socket.socket(); "
    "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); "
    "s.bind(('127.0.0.1', int(sys.argv[1]))); s.listen(); time.sleep(float(sys.argv[2]))"
)
for _ in range(rounds):
    subprocess.run([sys.executable, "-c", child, str(port), life])
    time.sleep(0.3)
"""


def test_watch_json_says_restarted_for_a_reloader_and_opened_once(tmp_path: Path) -> None:
    port = free_port()
    with watching("--json", "--interval", "0.1") as watch:
        loop = subprocess.Popen(
            [sys.executable, "-c", RELOADER, str(port), "3", "0.8"], cwd=tmp_path
        )
        mine: list[dict[str, Any]] = []
        try:
            while len(mine) < 6:  # other listeners on the machine come and go too
                event = json.loads(read_line(watch, port, 15))
                if event["server"]["port"] == port:
                    mine.append(event)
        finally:
            loop.wait(30)
    assert [e["event"] for e in mine] == [
        "opened", "closed", "restarted", "closed", "restarted", "closed"
    ]  # fmt: skip
    pids = [e["server"]["pid"] for e in mine]
    assert len(set(pids)) == 3
    assert mine[2]["previous_pid"] == pids[1] and mine[4]["previous_pid"] == pids[3]
    assert all(e["server"]["cwd"] == str(tmp_path) for e in mine)
    assert mine[0]["server"]["project"] == tmp_path.name  # known without a probe


def test_the_tray_keeps_one_entry_for_a_restarting_server_and_announces_it_once(
    tmp_path: Path,
) -> None:
    rec = Recorder()
    port = free_port()
    rec.mine = {port}
    mon = make(rec)
    mon.start()
    loop = subprocess.Popen([sys.executable, "-c", RELOADER, str(port), "3", "1.6"], cwd=tmp_path)
    try:
        assert wait_for(lambda: _entry(rec, port) is not None, 10)
        first = _entry(rec, port)
        assert first is not None
        assert wait_for(lambda: (e := _entry(rec, port)) is not None and e.restarts == 2, 20)
        assert loop.wait(30) == 0
        assert wait_for(lambda: _entry(rec, port) is None, 10)
    finally:
        if loop.poll() is None:
            loop.kill()
            loop.wait(5)
        mon.stop()
    states = rec.states
    pids = {e.server.pid for s in states for e in s.entries if e.server.port == port}
    assert len(pids) == 3  # three processes ...
    assert all(len([e for e in s.entries if e.server.port == port]) <= 1 for s in states)
    last = [e for s in states for e in s.entries if e.server.port == port][-1]
    assert (last.since, last.first_key) == (first.since, first.server.key)  # ... one server
    assert len(ours(rec)) == 1  # announced when it first opened, not on each restart
    assert [g.server.pid for g in states[-1].recent if g.server.port == port] == [last.server.pid]


def _entry(rec: Recorder, port: int) -> Entry | None:
    with rec.lock:
        state = rec.states[-1] if rec.states else None
    if state is None:
        return None
    return next((e for e in state.entries if e.server.port == port), None)
