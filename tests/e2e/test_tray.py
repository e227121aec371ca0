"""The real `porttray` process on a real desktop stack: Xvfb, a private session bus, a
StatusNotifier host reading the menu over dbusmenu, dunst, headless Chromium and the X clipboard."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import wait_for
from tests.helpers.servers import http_server
from tests.kit.desktop import Desktop
from tests.kit.tray_driver import Tray, end, mentions, open_target, running_tray, start

pytestmark = pytest.mark.e2e


@pytest.fixture
def tray(desktop: Desktop) -> Iterator[Tray]:
    with running_tray(desktop) as running:
        yield running


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
        note = notes.wait_for(lambda n: mentions(n, port), timeout=10, since=mark)
        assert "Notify me" in note.body
        assert any(label.startswith("Open") for _, label in note.actions), note.actions
        assert not wait_for(
            lambda: len([n for n in notes.notifications()[mark:] if mentions(n, port)]) > 1, 2.5
        )
        target = open_target(note, port)
        key = next(k for k, label in note.actions if label.startswith("Open"))
        requests = log.read_text().count("GET / HTTP/1.1")
        notes.invoke_action(note.id, key)
        tray.desktop.browser.wait_for_run(f"http://127.0.0.1:{target}", timeout=30)
        if target == port:  # alone in its notification, as on a quiet machine
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
    second.wait(10)
    code, log = end(second)
    assert code == 0
    assert "already running" in log
    host = tray.desktop.tray
    assert wait_for(lambda: [i.bus_name for i in host.items] == [tray.item.bus_name])


def test_a_non_utf8_name_and_a_hostile_title_show_as_text_and_the_menu_keeps_working(
    tray: Tray, tmp_path: Path
) -> None:
    import os
    import subprocess

    from tests.helpers.servers import free_port

    root = os.fsencode(tmp_path)
    site = root + b"/caf\xe9"  # a Latin-1 folder name
    os.mkdir(site)
    with open(site + b"/index.html", "wb") as page:
        page.write(b"<title>&lt;a href=http://evil.test&gt;Sign in&lt;/a&gt; &amp; co</title>")
    python = root + b"/\xffpy"  # the process name (comm) is not UTF-8 either
    os.symlink(b"/usr/bin/python3", python)
    port = free_port()
    notes = tray.desktop.notifications
    mark = notes.count()
    server = subprocess.Popen(
        [python, b"-m", b"http.server", str(port).encode(), b"--bind", b"127.0.0.1"],
        cwd=site,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        entry = tray.wait_for_label("Sign in", timeout=10)
        label = next(n.text for n in entry.children if f":{port} " in n.text)
        assert label.startswith(f":{port}  <a href=http://evil.test>Sign in</a> & co")
        note = notes.wait_for(lambda n: mentions(n, port), timeout=10, since=mark)
        assert "&lt;a href=http://evil.test&gt;Sign in&lt;/a&gt; &amp; co" in note.body
    finally:
        server.terminate()
        server.wait(10)
    tray.wait_for_label(f":{port} ", timeout=5, present=False)
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "index.html").write_text("<title>Still drawn</title>")
    with http_server(tmp_path / "plain"):
        tray.wait_for_label("Still drawn", timeout=10)  # later changes still reach the menu
