"""porttray's notifications on a real desktop: dunst over a private session bus, and the fallback
while no notification server is there (it went away, there is no session bus, or none was ever
offered). Hostile titles and names reach dunst as plain, escaped text.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest

from tests.conftest import wait_for
from tests.kit.desktop import Desktop
from tray.notify import Capability, Notifier

pytestmark = pytest.mark.e2e


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


def logged(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """What the notifier has logged so far."""
    return [r for r in caplog.records if r.name == "tray.notify"]


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
    # dunst's answer is on the bus before the notifier has handled it: wait for its word on it
    assert wait_for(lambda: len(logged(caplog)) == 4, 5), logged(caplog)
    notifier.stop()

    assert len(fallback.shown) == 3
    ours = logged(caplog)
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
