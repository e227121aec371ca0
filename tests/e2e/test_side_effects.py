"""porttray's side effects on a real desktop: notifications, clipboard, browser.

Each runs against the real service (dunst over a private session bus, the X clipboard on Xvfb,
headless Chromium as $BROWSER) and against its failure (no server, no clipboard tool, a browser
command that fails). Programs that must own something (a GLib loop, the clipboard) or read their
environment once (webbrowser, pyperclip) run as child processes with the desktop's environment.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.conftest import wait_for
from tests.helpers.servers import http_server
from tests.kit.desktop import Desktop, clipboard_text
from tray.clipboard import NO_DISPLAY, NO_X
from tray.notify import Capability, Notifier

pytestmark = pytest.mark.e2e


def bare_env(**extra: str) -> dict[str, str]:
    """This environment without any display or terminal: webbrowser then only tries $BROWSER."""
    gone = ("DISPLAY", "WAYLAND_DISPLAY", "TERM", "BROWSER", "DBUS_SESSION_BUS_ADDRESS")
    return {**{k: v for k, v in os.environ.items() if k not in gone}, **extra}


def run_child(code: str, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def finish(child: subprocess.Popen[str]) -> list[str]:
    """Let a child go on (one line on stdin), and return the rest of its output lines."""
    try:
        out, _ = child.communicate("go\n", timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate(timeout=10)
    assert child.returncode == 0
    return out.splitlines()


# -- browser --------------------------------------------------------------------------------

OPEN_URL_CHILD = """
import json, sys, threading
from tray.browser import open_url
errors = []
open_url(sys.argv[1], errors.append)
print("returned", flush=True)
sys.stdin.readline()
for thread in threading.enumerate():
    if thread.name == "porttray-open-url":
        thread.join(60)
print(json.dumps(errors), flush=True)
"""


def open_url_in_child(url: str, env: dict[str, str]) -> list[str]:
    """The on_error messages of `open_url(url)` in a child process with `env`."""
    child = run_child(OPEN_URL_CHILD, env, url)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "returned"
    errors: list[str] = json.loads(finish(child)[-1])
    return errors


def test_a_browser_command_that_fails_is_reported(tmp_path: Path) -> None:
    failing = tmp_path / "failing-browser"
    failing.write_text("#!/bin/sh\nexit 1\n")
    failing.chmod(0o755)
    url = "http://127.0.0.1:9/"
    errors = open_url_in_child(url, bare_env(BROWSER=str(failing)))
    assert errors == [f"Could not open {url}: the browser command {str(failing)!r} failed"]


def test_a_missing_browser_command_is_reported(tmp_path: Path) -> None:
    missing = str(tmp_path / "no-such-browser")
    errors = open_url_in_child("http://127.0.0.1:9/", bare_env(BROWSER=missing))
    assert len(errors) == 1
    assert errors[0].startswith("Could not open http://127.0.0.1:9/: ")
    assert "no-such-browser" in errors[0]


def test_open_url_returns_while_the_browser_is_still_running(tmp_path: Path) -> None:
    gate, ran = tmp_path / "gate", tmp_path / "ran"
    slow = tmp_path / "slow-browser"
    slow.write_text(
        "#!/bin/sh\nn=0\n"
        f'while [ ! -e "{gate}" ] && [ $n -lt 600 ]; do sleep 0.05; n=$((n+1)); done\n'
        f'printf "%s" "$1" > "{ran}"\n'
    )
    slow.chmod(0o755)
    url = "http://127.0.0.1:9/slow"
    child = run_child(OPEN_URL_CHILD, bare_env(BROWSER=str(slow)), url)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "returned"
        assert not ran.exists(), "open_url waited for the browser"
    finally:
        gate.touch()
    assert json.loads(finish(child)[-1]) == []
    assert ran.read_text() == url


def test_open_url_opens_the_page_in_a_real_browser(desktop: Desktop, tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<p>porttray side effects</p>")
    with http_server(tmp_path) as (server, port):
        url = f"http://127.0.0.1:{port}/"
        assert open_url_in_child(url, desktop.env) == []
        assert desktop.browser.wait_for_run(url).exit_code == 0
        assert "porttray side effects" in desktop.browser.last_page()
        server.terminate()
        assert server.stderr is not None
        assert '"GET / HTTP/1.1" 200' in server.stderr.read().decode()


# -- clipboard ------------------------------------------------------------------------------

GTK_CLIPBOARD_CHILD = """
import sys, threading
import gi
gi.require_version("Gtk", "3.0")
from gi.repository import GLib, Gtk
from tray.clipboard import Clipboard

clipboard = Clipboard(lambda message: print("error:", message, flush=True), use_gtk=True)
print(clipboard.capability, flush=True)
threading.Thread(target=clipboard.copy, args=(sys.argv[1],), name="menu-callback").start()

def wait_for_quit():
    sys.stdin.readline()
    GLib.idle_add(Gtk.main_quit)

threading.Thread(target=wait_for_quit, name="quit").start()
Gtk.main()
print("done", flush=True)
"""

XLIB_CHILD = """
import json, sys
from tray.clipboard import Clipboard
errors = []
clipboard = Clipboard(errors.append)
print(clipboard.capability, flush=True)
clipboard.copy(sys.argv[1])
owner = clipboard._x
if owner is None:
    print(clipboard.capability, flush=True)  # after a failed start: "none"
else:
    print("owned" if owner.owned.wait(10) else "not owned", flush=True)
    sys.stdin.readline()
clipboard.close()
print(json.dumps(errors), flush=True)
"""


def test_gtk_clipboard_is_owned_by_the_running_program(desktop: Desktop) -> None:
    url = "http://127.0.0.1:8123/gtk"
    child = run_child(GTK_CLIPBOARD_CHILD, desktop.env, url)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "gtk"
        assert wait_for(lambda: desktop.clipboard_text() == url, 10)
    finally:
        lines = finish(child)
    assert lines == ["done"]
    assert wait_for(lambda: desktop.clipboard_text() == "", 5), "the clipboard outlived its owner"


def test_without_gtk_the_program_owns_the_x_selection_itself(desktop: Desktop) -> None:
    url = "http://127.0.0.1:8123/xlib"
    child = run_child(XLIB_CHILD, desktop.env, url)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "xlib"
        assert child.stdout.readline().strip() == "owned"
        assert clipboard_text(desktop.env) == url
        assert clipboard_text(desktop.env) == url  # still there: nothing was handed off
    finally:
        lines = finish(child)
    assert lines == ["[]"]
    assert wait_for(lambda: desktop.clipboard_text() == "", 5), "the clipboard outlived its owner"


def test_an_x_display_that_cannot_be_reached_is_reported() -> None:
    lines = finish(run_child(XLIB_CHILD, bare_env(DISPLAY=":4095"), "http://x.test/"))
    assert lines == ["xlib", "none", json.dumps([NO_X])]  # the owner starts on the first Copy


def test_no_clipboard_mechanism_is_reported() -> None:
    lines = finish(run_child(XLIB_CHILD, bare_env(), "http://127.0.0.1:1/"))
    assert lines == ["none", "none", json.dumps([NO_DISPLAY])]


# -- notifications --------------------------------------------------------------------------


@pytest.fixture
def on_desktop_bus(desktop: Desktop, monkeypatch: pytest.MonkeyPatch) -> Desktop:
    """The desktop, with desktop-notifier pointed at its bus for this test."""
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", desktop.bus_address)
    return desktop


class Fallback:
    """Records what the notifier handed to its fallback."""

    def __init__(self) -> None:
        self.shown: list[tuple[str, str]] = []

    def __call__(self, title: str, body: str) -> None:
        self.shown.append((title, body))


def test_a_notification_with_a_button_and_a_click_action(on_desktop_bus: Desktop) -> None:
    notifications = on_desktop_bus.notifications
    pressed, clicked = threading.Event(), threading.Event()
    notifier = Notifier(fallback=Fallback())
    notifier.start()
    try:
        expected = {Capability.DELIVER, Capability.BUTTONS, Capability.CLICK}
        assert notifier.capabilities == expected
        notifier.notify(
            "New server", "8000 app", button=("Open", pressed.set), on_click=clicked.set
        )
        seen = notifications.wait_for(lambda n: n.summary == "New server")
        assert (seen.app_name, seen.body) == ("porttray", "8000 app")
        assert seen.action_keys[0] == "default"
        assert [label for _key, label in seen.actions[1:]] == ["Open"]

        notifications.invoke_action(seen.id, seen.action_keys[1])
        assert pressed.wait(10), "the button's action did not run"
        assert not clicked.is_set()

        notifier.notify("Clicked server", "8001 app", on_click=clicked.set)
        seen = notifications.wait_for(lambda n: n.summary == "Clicked server")
        notifications.invoke_action(seen.id, "default")
        assert clicked.wait(10), "the click action did not run"
    finally:
        notifier.stop()
    assert not [t for t in threading.enumerate() if t.name == "porttray-notifier"]


def test_on_a_loop_it_is_given_the_notifier_starts_no_thread_and_leaves_the_loop_running(
    on_desktop_bus: Desktop,
) -> None:
    """As on the StatusNotifierItem's loop: buttons work, stop takes only the notifier's own."""
    import asyncio

    from tray.loops import end_loop_thread, loop_on_thread

    notifications = on_desktop_bus.notifications
    loop, thread = loop_on_thread("test-shared-loop")
    try:
        others = asyncio.run_coroutine_threadsafe(asyncio.sleep(60), loop)  # the loop's owner's
        before = set(threading.enumerate())
        pressed = threading.Event()
        notifier = Notifier(fallback=Fallback())
        notifier.start(loop)
        assert Capability.BUTTONS in notifier.capabilities
        notifier.notify("Shared", "8002 app", button=("Open", pressed.set))
        seen = notifications.wait_for(lambda n: n.summary == "Shared")
        notifications.invoke_action(seen.id, seen.action_keys[1])
        assert pressed.wait(10), "the button's action did not run"
        assert set(threading.enumerate()) == before  # no thread of its own
        notifier.stop()
        assert loop.is_running() and not others.done()
        others.cancel()
    finally:
        assert end_loop_thread(loop, thread, 5)


def test_falls_back_while_the_server_is_away_and_recovers(
    on_desktop_bus: Desktop, caplog: pytest.LogCaptureFixture
) -> None:
    notifications = on_desktop_bus.notifications
    fallback = Fallback()
    notifier = Notifier(fallback=fallback)
    caplog.set_level(logging.INFO, logger="tray.notify")
    notifications.stop()
    try:
        notifier.start()
        assert notifier.capabilities == {Capability.DELIVER}
        notifier.notify("Away 1", "a")
        notifier.notify("Away 2", "b")
        assert wait_for(lambda: fallback.shown == [("Away 1", "a"), ("Away 2", "b")], 10)
    finally:
        notifications.start()
    notifier.notify("Back", "c")
    assert notifications.wait_for(lambda n: n.summary == "Back").app_name == "porttray"
    assert Capability.BUTTONS in notifier.capabilities

    notifications.stop()  # the server goes away under a live connection
    try:
        notifier.notify("Gone", "d")
        assert wait_for(lambda: ("Gone", "d") in fallback.shown, 10)
    finally:
        notifications.start()
    notifier.notify("Back again", "e")
    notifications.wait_for(lambda n: n.summary == "Back again")
    notifier.stop()

    assert len(fallback.shown) == 3
    ours = [r for r in caplog.records if r.name == "tray.notify"]
    assert [r.levelname for r in ours] == ["WARNING", "INFO", "WARNING", "INFO"]
    assert "unavailable" in ours[0].getMessage()
    assert "available again" in ours[1].getMessage()


def test_without_a_session_bus_the_fallback_gets_everything(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path / 'no-bus'}")
    fallback = Fallback()
    notifier = Notifier(fallback=fallback)
    notifier.start()
    try:
        notifier.notify("One", "1", button=("Open", lambda: None), on_click=lambda: None)
        notifier.notify("Two", "2")
        assert wait_for(lambda: len(fallback.shown) == 2, 10)
    finally:
        notifier.stop()
    assert fallback.shown == [("One", "1"), ("Two", "2")]
    assert notifier.capabilities == {Capability.DELIVER}
    warnings = [r for r in caplog.records if r.name == "tray.notify" and r.levelname == "WARNING"]
    assert len(warnings) == 1


def test_without_fallback_or_server_nothing_is_offered(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path / 'no-bus'}")
    notifier = Notifier()
    notifier.start()
    try:
        assert notifier.capabilities == frozenset()
        notifier.notify("Nobody", "sees this")
    finally:
        notifier.stop()


def test_notify_before_start_and_after_stop_uses_the_fallback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path / 'no-bus'}")
    fallback = Fallback()
    notifier = Notifier(fallback=fallback)
    notifier.notify("Early", "x")
    notifier.start()
    notifier.stop()
    notifier.notify("Late", "y")
    assert fallback.shown == [("Early", "x"), ("Late", "y")]


def test_hostile_titles_and_names_reach_dunst_as_plain_escaped_text(
    on_desktop_bus: Desktop,
) -> None:
    from tray.model import Identity, ProcessInfo, Server
    from tray.policy import note_for

    notifications = on_desktop_bus.notifications
    hostile = Server(
        8123,
        ("127.0.0.1",),
        4242,
        ProcessInfo(4242, name="n\udcffde\x1b[31m", cwd="/srv/caf\udce9"),
        identity=Identity(protocol="http", title='<a href="http://evil.test">Sign in</a> & co'),
    )
    note = note_for((hostile,))
    notifier = Notifier(fallback=Fallback())
    notifier.start()
    try:
        notifier.notify(note.title, note.body)
        seen = notifications.wait_for(lambda n: n.summary == "New server on :8123")
        notifier.notify("Tom & Jerry", "Tom & Jerry <b>")
        plain = notifications.wait_for(lambda n: n.summary == "Tom & Jerry")
    finally:
        notifier.stop()
    assert seen.body.startswith('&lt;a href="http://evil.test"&gt;Sign in&lt;/a&gt; &amp; co — ')
    assert "n\\xffde[31m" in seen.body and "\x1b" not in seen.body
    assert plain.body == "Tom &amp; Jerry &lt;b&gt;"  # dunst reports body-markup
    assert on_desktop_bus.notifications.running  # and it kept working
