"""A reloader that reopens its port from a new process on every save is one server restarting."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.helpers.servers import free_port
from tests.integration.test_cli import read_line, watching

# Like Django's runserver: a parent that runs the same command again in a child each time the
# previous child exits, the child binding the port anew.
RELOADER = """
import socket, subprocess, sys, time
port, rounds = int(sys.argv[1]), int(sys.argv[2])
child = (
    "import socket, sys, time; s = socket.socket(); "
    "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); "
    "s.bind(('127.0.0.1', int(sys.argv[1]))); s.listen(); time.sleep(0.8)"
)
for _ in range(rounds):
    subprocess.run([sys.executable, "-c", child, str(port)])
    time.sleep(0.3)
"""


def test_watch_json_says_restarted_for_a_reloader_and_opened_once(tmp_path: Path) -> None:
    port = free_port()
    with watching("--json", "--interval", "0.1") as watch:
        loop = subprocess.Popen([sys.executable, "-c", RELOADER, str(port), "3"], cwd=tmp_path)
        mine: list[dict[str, Any]] = []
        try:
            while len(mine) < 6:  # other listeners on the machine come and go too
                event = json.loads(read_line(watch, 15))
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
