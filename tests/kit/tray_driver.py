"""Driving the real `porttray` process on the test desktop: start it, read its menu, click items."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from tests.kit.desktop import Desktop, SeenNotification
from tests.kit.sni_host import MenuNode, SniItem


class Tray:
    """A running porttray and its registered tray item."""

    def __init__(self, desktop: Desktop, proc: subprocess.Popen[str], item: SniItem) -> None:
        self.desktop = desktop
        self.proc = proc
        self.item = item

    def layout(self) -> MenuNode:
        return self.desktop.tray.layout(self.item)

    def wait_for_label(
        self, fragment: str, timeout: float = 10.0, present: bool = True
    ) -> MenuNode:
        def seen(root: MenuNode) -> bool:
            return any(fragment in n.text for n in root.children) is present

        return self.desktop.tray.wait_for(seen, timeout, self.item)

    def server_entry(self, port: int) -> MenuNode:
        """The top-level entry of the server on `port`."""
        node = self.find(port)
        assert node is not None, self.layout().render()
        return node

    def find(self, *path: str | int) -> MenuNode | None:
        """The item at a path from the top: a port picks that server's entry, a string the item
        whose label starts with it."""
        node: MenuNode | None = self.layout()
        for step in path:
            if node is None:
                return None
            prefix = f":{step} " if isinstance(step, int) else step
            node = next((c for c in node.children if c.text.startswith(prefix)), None)
        return node

    def click(self, *path: str | int, timeout: float = 5.0) -> None:
        """Click the item at `path` once it is in the menu. Ids are stable (an entry keeps its id
        through renames and other servers' changes), so the click is sent once: an error from
        the tray fails the test."""
        deadline = time.monotonic() + timeout
        target = self.find(*path)
        while target is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"cannot click {path}; menu:\n{self.layout().render()}")
            time.sleep(0.05)
            target = self.find(*path)
        self.desktop.tray.click(target.id, self.item)

    def toggled(self, label: str) -> bool:
        """Whether the top-level check item `label` is ticked."""
        node = self.find(label)
        assert node is not None, self.layout().render()
        return node.toggle_state == 1


def start(desktop: Desktop, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """`porttray -v ARGS` on the desktop (or with `env`), its output captured."""
    return subprocess.Popen(
        [sys.executable, "-m", "tray", "-v", *args],
        env=env or desktop.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def end(proc: subprocess.Popen[str]) -> tuple[int, str]:
    """Kill it if still running; its exit status and everything it printed."""
    if proc.poll() is None:
        proc.kill()
    code = proc.wait(5)
    out, err = proc.communicate()
    return code, out + err


@contextmanager
def running_tray(desktop: Desktop, env: dict[str, str] | None = None) -> Iterator[Tray]:
    """A porttray on the desktop whose menu is up; on exit, SIGTERM must end it with status 0."""
    proc = start(desktop, env=env)
    try:
        item = desktop.tray.wait_for_item(timeout=15, pid=proc.pid)
        running = Tray(desktop, proc, item)
        running.wait_for_label("Quit porttray")
        yield running
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(3) == 0
    finally:
        _, log = end(proc)
        print(log)
        assert "Traceback" not in log, log


def mentions(note: SeenNotification, port: int) -> bool:
    """Whether a notification is about the server on `port` (alone, or in a batch)."""
    return note.summary == f"New server on :{port}" or f":{port}  " in note.body


def open_target(note: SeenNotification, port: int) -> int:
    """The port the notification's Open button opens (ours, or the first of a batch)."""
    label = next(label for _, label in note.actions if label.startswith("Open"))
    return port if label == "Open in browser" else int(label.rsplit(":", 1)[1])
