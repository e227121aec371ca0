"""A thousand servers at once against the real tray: the menu keeps 25 entries at the top and the
rest under "More (N)", and the burst is announced by exactly one notification that says how many.

Four child processes hold 250 listeners each; on a start signal they open them all in a tight
loop, well within the notification policy's one-second batching window.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import wait_for
from tests.kit.desktop import Desktop, SeenNotification
from tests.kit.sni_host import MenuNode
from tests.kit.tray_process import TrayProcess, running_tray
from tray import config, rules, users
from tray.discover import open_engine

pytestmark = pytest.mark.e2e

HOLDERS, EACH = 4, 250
MANY = HOLDERS * EACH
LIMIT = 25
HOLDER = """
import resource, socket, sys
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, {each} + 256)), hard))
sys.stdin.read(1)
socks = []
for _ in range({each}):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(4)
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks), flush=True)
sys.stdin.read()
"""


class Holders:
    """Child processes that open `EACH` listeners each when told to, and hold them."""

    def __init__(self) -> None:
        self.procs = [
            subprocess.Popen(
                [sys.executable, "-c", HOLDER.format(each=EACH)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(HOLDERS)
        ]

    def open_all(self) -> set[int]:
        """Tell every child to listen; the ports, once all of them are listening."""
        for proc in self.procs:
            assert proc.stdin is not None
            proc.stdin.write("g")
            proc.stdin.flush()
        ports: set[int] = set()
        for proc in self.procs:
            assert proc.stdout is not None
            ports.update(int(p) for p in proc.stdout.readline().split())
        return ports

    def close(self) -> None:
        for proc in self.procs:
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.close()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            proc.stdout.close()


@pytest.fixture
def holders() -> Iterator[Holders]:
    started = Holders()
    try:
        yield started
    finally:
        started.close()


def servers_in(root: MenuNode) -> tuple[list[str], int]:
    """The top-level server labels, and N of "More (N)" (0 without one)."""
    top = [n.text for n in root.children if n.text.startswith(":")]
    more = next((n.text for n in root.children if n.text.startswith("More (")), "More (0)")
    return top, int(more.removeprefix("More (").removesuffix(")"))


def about(note: SeenNotification, ports: set[int]) -> bool:
    """Whether a notification is about any of `ports` (other programs' servers may come too)."""
    text = f"{note.summary}\n{note.body}"
    return note.summary.endswith("new local servers") or any(
        int(port) in ports for port in re.findall(r":(\d+)\b", text)
    )


def others(desktop: Desktop, ours: set[int]) -> set[int]:
    """The ports of servers the tray shows now besides `ours` (other programs on this machine)."""
    settings = config.load(Path(desktop.env["XDG_CONFIG_HOME"]) / "porttray" / "config.toml")
    user, uid = users.real_user(), users.real_uid()
    engine = open_engine(None)
    try:
        servers = engine.scan().servers
    finally:
        engine.close()
    shown = [s for s in servers if rules.shown(settings, s, user, uid)]  # as the tray decides
    return {s.port for s in shown if s.port not in ours}


def test_a_thousand_servers_fill_more_and_make_one_notification(
    desktop: Desktop, holders: Holders, tmp_path: Path
) -> None:
    with running_tray(desktop, tmp_path / "tray.log") as tray:
        mark = desktop.notifications.count()
        there_before = others(desktop, set())
        ports = holders.open_all()
        assert len(ports) == MANY

        seen_others: list[set[int]] = []

        def complete(root: MenuNode) -> bool:
            # Other programs' servers come and go (a shared machine): count them at each poll and
            # compare only once their number held still across two polls, so the tray had time
            # to see the same number.
            seen_others.append(others(desktop, ports))
            steady = len(seen_others) > 1 and seen_others[-1] == seen_others[-2]
            return steady and servers_in(root)[1] == len(seen_others[-1]) + MANY - LIMIT

        root = desktop.tray.wait_for(complete, timeout=60, item=tray.item)
        top, _ = servers_in(root)
        assert len(top) == LIMIT, root.render()
        # The newest first: ours, or a server another program opened after them.
        came = set().union(*seen_others) - there_before
        assert {int(label.split()[0][1:]) for label in top} <= ports | came, top
        note = desktop.notifications.wait_for(lambda n: about(n, ports), timeout=30, since=mark)
        # Exactly ours, plus any server another program opened within the same burst.
        match = re.fullmatch(r"(\d+) new local servers", note.summary)
        assert match is not None, note
        assert MANY <= int(match.group(1)) <= MANY + len(came), (note, came)
        notes = desktop.notifications

        def more_than_one() -> bool:
            return sum(about(n, ports) for n in notes.notifications()[mark:]) > 1

        assert not wait_for(more_than_one, 4.0), notes.notifications()[mark:]
        assert tray.proc.poll() is None
    _assert_clean(tray)


def _assert_clean(tray: TrayProcess) -> None:
    output = tray.output()
    assert tray.exit_code == 0, output[-3000:]
    assert "Traceback" not in output, output
