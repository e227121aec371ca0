"""The real `porttray` process on a real desktop stack: Xvfb, a private session bus, a
StatusNotifier host reading the menu over dbusmenu, dunst, headless Chromium and the X clipboard."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import wait_for
from tests.e2e.desktop import Desktop
from tests.e2e.sni_host import MenuNode, SniItem
from tests.helpers.servers import http_server

pytestmark = pytest.mark.e2e


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
        node = self.layout().find(lambda n: n.text.startswith(f":{port} "))
        assert node is not None, self.layout().render()
        return node

    def click(self, port: int, label: str, timeout: float = 5.0) -> None:
        """Click an item of a server's submenu, re-reading the layout if it was rebuilt meanwhile
        (a probe result renames the entry, and every rebuild gives the items new ids)."""
        deadline = time.monotonic() + timeout
        while True:
            entry = self.server_entry(port)
            target = entry.find(lambda n: n.text == label)
            assert target is not None, entry.render()
            try:
                self.desktop.tray.click(target.id, self.item)
                return
            except RuntimeError:
                if time.monotonic() > deadline:
                    raise


def start(desktop: Desktop, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tray", "-v", *args],
        env=desktop.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def end(proc: subprocess.Popen[str]) -> tuple[int, str]:
    if proc.poll() is None:
        proc.kill()
    code = proc.wait(5)
    out, err = proc.communicate()
    return code, out + err


@pytest.fixture
def tray(desktop: Desktop) -> Iterator[Tray]:
    proc = start(desktop)
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


def test_new_server_appears_within_1_5_s_and_leaves(tray: Tray, tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<title>Acme shop</title>")
    with http_server(tmp_path) as (_, port):
        started = time.monotonic()
        tray.wait_for_label(f":{port} ", timeout=1.5)
        seen_after = time.monotonic() - started
        tray.wait_for_label("Acme shop", timeout=5)
    tray.wait_for_label(f":{port} ", timeout=1.5, present=False)
    print(f"server in the menu {seen_after * 1000:.0f} ms after it accepted connections")


def test_open_in_browser_makes_chromium_request_the_server(tray: Tray, tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<title>Open me</title><p>porttray-e2e-page</p>")
    log = tmp_path.parent / f"{tmp_path.name}.log"
    with http_server(tmp_path, log=log) as (_, port):
        tray.wait_for_label(f":{port} ")
        tray.click(port, "Open in browser")
        run = tray.desktop.browser.wait_for_run(f"http://127.0.0.1:{port}", timeout=30)
        assert run.exit_code == 0
        assert "porttray-e2e-page" in tray.desktop.browser.last_page()
        assert wait_for(lambda: '"GET / HTTP/1.1" 200' in log.read_text(), 5), log.read_text()


def test_copy_address_puts_exactly_the_url_on_the_clipboard(tray: Tray, tmp_path: Path) -> None:
    with http_server(tmp_path) as (_, port):
        tray.wait_for_label(f":{port} ")
        tray.click(port, "Copy address")
        url = f"http://127.0.0.1:{port}"
        assert wait_for(lambda: tray.desktop.clipboard_text() == url, 5), (
            tray.desktop.clipboard_text()
        )
        tray.click(port, "Copy localhost URL")
        assert wait_for(lambda: tray.desktop.clipboard_text() == f"http://localhost:{port}", 5)


def test_one_notification_with_an_open_action_that_opens_the_browser(
    tray: Tray, tmp_path: Path
) -> None:
    notes = tray.desktop.notifications
    mark = notes.count()
    (tmp_path / "index.html").write_text("<title>Notify me</title>")
    log = tmp_path.parent / f"{tmp_path.name}.log"
    with http_server(tmp_path, log=log) as (_, port):
        note = notes.wait_for(lambda n: f":{port}" in n.summary, timeout=10, since=mark)
        assert "Notify me" in note.body
        assert any(label == "Open in browser" for _, label in note.actions), note.actions
        assert not wait_for(
            lambda: len([n for n in notes.notifications()[mark:] if str(port) in n.summary]) > 1,
            2.5,
        )
        key = next(k for k, label in note.actions if label == "Open in browser")
        notes.invoke_action(note.id, key)
        requests = log.read_text().count("GET / HTTP/1.1")
        tray.desktop.browser.wait_for_run(f"http://127.0.0.1:{port}", timeout=30)
        assert wait_for(lambda: log.read_text().count("GET / HTTP/1.1") > requests, 5)


def test_quit_ends_the_process_within_2_s(desktop: Desktop) -> None:
    proc = start(desktop)
    try:
        item = desktop.tray.wait_for_item(timeout=15, pid=proc.pid)
        root = desktop.tray.wait_for(lambda r: "Quit porttray" in r.labels(), 10, item)
        quit_item = root.find(lambda n: n.text == "Quit porttray")
        assert quit_item is not None
        clicked = time.monotonic()
        desktop.tray.click(quit_item.id, item)
        assert proc.wait(2) == 0
        print(f"quit took {(time.monotonic() - clicked) * 1000:.0f} ms")
    finally:
        end(proc)


def test_second_instance_says_so_and_exits_0(tray: Tray) -> None:
    second = start(tray.desktop)
    code, log = end_after(second, 10)
    assert code == 0
    assert "already running" in log
    assert [i for i in tray.desktop.tray.items if i.bus_name] == tray.desktop.tray.items


def end_after(proc: subprocess.Popen[str], timeout: float) -> tuple[int, str]:
    try:
        proc.wait(timeout)
    finally:
        result = end(proc)
    return result
