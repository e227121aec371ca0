"""The test desktop itself: a real pystray item in the tray host, dunst, clipboard, browser."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import wait_for
from tests.helpers.servers import http_server
from tests.kit.desktop import NO_CHROMIUM, Desktop, chromium_available, clipboard_text
from tests.kit.sni_host import MenuNode, RawLayout, parse_layout

pytestmark = pytest.mark.e2e

TRAY_PROGRAM = """
import sys
from pathlib import Path

import pystray
from PIL import Image

marker = Path(sys.argv[1])


def write_marker(icon, item):
    marker.write_text("clicked")


def quit_tray(icon, item):
    icon.stop()


icon = pystray.Icon(
    "porttray-harness",
    Image.new("RGBA", (22, 22), (200, 30, 30, 255)),
    "Harness tray",
    menu=pystray.Menu(
        pystray.MenuItem("Write marker", write_marker), pystray.MenuItem("Quit", quit_tray)
    ),
)
print(type(icon).__module__, flush=True)
icon.run()
"""


@contextmanager
def tray_program(desktop: Desktop, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    """A small pystray program on the desktop; yields it and the marker file its item writes."""
    script, marker = tmp_path / "tray_program.py", tmp_path / "marker"
    script.write_text(TRAY_PROGRAM)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(marker)],
        env=desktop.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield proc, marker
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)


def written(path: Path) -> str:
    """The file's text, or "" while it does not exist."""
    try:
        return path.read_text()
    except FileNotFoundError:
        return ""


def has_labels(*labels: str) -> Callable[[MenuNode], bool]:
    def check(layout: MenuNode) -> bool:
        return all(label in layout.labels() for label in labels)

    return check


def test_the_desktop_stays_out_of_this_process_environment(desktop: Desktop) -> None:
    assert desktop.env["DISPLAY"] == desktop.display
    assert desktop.env["DBUS_SESSION_BUS_ADDRESS"] == desktop.bus_address
    assert desktop.env["NO_AT_BRIDGE"] == "1"
    assert desktop.env["GDK_BACKEND"] == "x11"
    assert os.environ.get("DBUS_SESSION_BUS_ADDRESS") != desktop.bus_address
    assert os.environ.get("DISPLAY") != desktop.display


def test_a_pystray_item_registers_shows_its_menu_and_takes_clicks(
    desktop: Desktop, tmp_path: Path
) -> None:
    with tray_program(desktop, tmp_path) as (proc, marker):
        item = desktop.tray.wait_for_item(20, pid=proc.pid)
        assert desktop.tray.item_property("Id", item) == "porttray-harness"
        assert desktop.tray.item_property("Title", item) == "Harness tray"
        assert desktop.tray.item_property("Status", item) == "Active"
        assert str(desktop.tray.item_property("Menu", item)).startswith("/")

        layout = desktop.tray.wait_for(has_labels("Write marker", "Quit"))
        assert layout.labels() == ["Write marker", "Quit"]
        entry = layout.find(lambda node: node.text == "Write marker")
        assert entry is not None
        assert entry.enabled and entry.visible

        desktop.tray.click(entry.id)
        assert wait_for(lambda: written(marker) == "clicked", 10), (
            "the click did not run its action"
        )

        quit_entry = desktop.tray.wait_for(has_labels("Quit")).find(
            lambda node: node.text == "Quit"
        )
        assert quit_entry is not None
        desktop.tray.click(quit_entry.id)
        assert proc.wait(10) == 0
        assert proc.stdout is not None
        # Its output is stdout and stderr: libraries may warn first (libayatana on Debian 13
        # prints a blank line and a deprecation warning), so look for the line, not the first.
        lines = [line.strip() for line in proc.stdout.read().splitlines()]
        assert "pystray._appindicator" in lines, lines
        assert wait_for(lambda: item not in desktop.tray.items, 5), "the item stayed registered"


def test_an_item_registers_again_when_the_tray_host_comes_back(
    desktop: Desktop, tmp_path: Path
) -> None:
    with tray_program(desktop, tmp_path) as (proc, _marker):
        desktop.tray.wait_for_item(20)
        desktop.tray.wait_for(has_labels("Quit"))
        desktop.tray.stop()
        assert desktop.tray.items == []
        desktop.tray.start()
        item = desktop.tray.wait_for_item(20, pid=proc.pid)
        assert desktop.tray.item_property("Id", item) == "porttray-harness"
        assert desktop.tray.wait_for(has_labels("Write marker", "Quit"))
        assert proc.poll() is None


def test_notify_send_reaches_dunst_and_its_action_can_be_invoked(desktop: Desktop) -> None:
    mark = desktop.notifications.count()
    proc = subprocess.Popen(
        ["notify-send", "--action=open=Open it", "Stack check", "Body text"],
        env=desktop.env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        seen = desktop.notifications.wait_for(lambda n: n.summary == "Stack check", since=mark)
        assert seen.body == "Body text"
        assert seen.actions == (("open", "Open it"),)
        desktop.notifications.invoke_action(seen.id, "open")
        out, _ = proc.communicate(timeout=10)
        assert out.strip() == "open"
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)


def test_the_notification_server_can_go_away_and_come_back(desktop: Desktop) -> None:
    desktop.notifications.stop()
    try:
        assert not desktop.notifications.running
        failed = subprocess.run(
            ["notify-send", "Nobody listens"],
            env=desktop.env,
            capture_output=True,
            timeout=10,
            check=False,
        )
        assert failed.returncode != 0
    finally:
        desktop.notifications.start()
    assert desktop.notifications.running
    subprocess.run(["notify-send", "Back again"], env=desktop.env, check=True, timeout=10)
    assert desktop.notifications.wait_for(lambda n: n.summary == "Back again").id > 0


def test_clipboard_text_reads_what_another_program_set(desktop: Desktop) -> None:
    text = "http://127.0.0.1:8000/clipboard-check"
    owner = subprocess.Popen(
        ["xclip", "-selection", "clipboard", "-i", "-quiet", "-loops", "1"],
        env=desktop.env,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert owner.stdin is not None
        owner.stdin.write(text.encode())
        owner.stdin.close()
        assert wait_for(lambda: clipboard_text(desktop.env) == text, 10)
    finally:
        owner.kill()
        owner.wait(10)


def test_the_browser_stand_in_really_loads_the_page(desktop: Desktop, tmp_path: Path) -> None:
    if not chromium_available():
        pytest.skip(NO_CHROMIUM)
    (tmp_path / "index.html").write_text("<p>served by the stack check</p>")
    with http_server(tmp_path) as (server, port):
        url = f"http://127.0.0.1:{port}/"
        done = subprocess.run(
            [str(desktop.browser.path), url], env=desktop.env, timeout=60, check=False
        )
        assert done.returncode == 0
        assert desktop.browser.wait_for_run(url).exit_code == 0
        assert "served by the stack check" in desktop.browser.last_page()
        server.terminate()
        assert server.stderr is not None
        assert '"GET / HTTP/1.1" 200' in server.stderr.read().decode()


def test_parse_layout_reads_dbusmenu_defaults_and_mnemonics() -> None:
    raw: RawLayout = (
        0,
        {"children-display": ("s", "submenu")},
        [
            ("(ia{sv}av)", (1, {"label": ("s", "_Open  my__app")}, [])),
            ("(ia{sv}av)", (2, {"type": ("s", "separator")}, [])),
            ("(ia{sv}av)", (3, {"label": ("s", "Paused"), "toggle-type": ("s", "checkmark"),
                                "toggle-state": ("i", 1), "enabled": ("b", False)}, [])),
        ],
    )  # fmt: skip
    layout = parse_layout(raw)
    assert layout.labels() == ["Open  my_app", "Paused"]
    paused = layout.find(lambda node: node.id == 3)
    assert paused is not None
    assert (paused.enabled, paused.toggle_type, paused.toggle_state) == (False, "checkmark", 1)
    assert layout.children[1].type == "separator"
