"""dunst on a test desktop, and a bus monitor recording what it was sent and what it emitted.

A test sees a notification the way the server received it (`SeenNotification`: app name, summary,
body, actions, the id the server answered with) instead of trusting dunst's window, and picks an
action through dunst's own context menu (`invoke_action`), as a user would.
"""

from __future__ import annotations

import dataclasses
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from jeepney import HeaderFields, MessageType
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import open_dbus_connection
from jeepney.low_level import Message
from jeepney.wrappers import unwrap_msg

from tests.kit.leaks import STACK_THREAD_PREFIX
from tests.kit.monitor_thread import MonitorThread
from tests.kit.stack import StackProcess
from tests.kit.wait import wait_for

DUNSTRC = """[global]
    dmenu = {dir}/pick-action
    browser = /bin/false
    notification_limit = 0
    idle_threshold = 0
    sticky_history = yes
    history_length = 100
    markup = full
[urgency_low]
    timeout = 0
[urgency_normal]
    timeout = 0
[urgency_critical]
    timeout = 0
"""
PICK_ACTION = """#!/bin/sh
# dunst's context menu: answer with the line of the action the test asked for ("[id,key]").
want=$(cat "{dir}/wanted-action" 2>/dev/null)
awk -v w="$want" 'w != "" && substr($0, length($0) - length(w) + 1) == w {{ print; exit }}'
"""
NOTIFICATIONS = "org.freedesktop.Notifications"
MONITOR_RULES = [
    f"type='method_call',interface='{NOTIFICATIONS}',member='Notify'",
    "type='method_return'",
    f"type='signal',interface='{NOTIFICATIONS}'",
]
"""What the notifications monitor records: Notify calls, every reply (to pair a Notify with the
id it was answered with) and the server's signals."""


@dataclass(frozen=True, slots=True)
class SeenNotification:
    """A Notify call the notification server received."""

    id: int
    """The id the server answered with (0 while the answer is not seen yet)."""
    app_name: str
    summary: str
    body: str
    actions: tuple[tuple[str, str], ...]
    """(key, label) pairs; "default" is the click on the notification itself."""
    sender: str
    """The caller's unique bus name."""

    @property
    def action_keys(self) -> list[str]:
        return [key for key, _label in self.actions]


class NotificationServer:
    """dunst on the private desktop, and a bus monitor recording what it was sent."""

    def __init__(self, directory: Path, env: dict[str, str]) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.dir, self.env = directory, env
        (directory / "dunstrc").write_text(DUNSTRC.format(dir=directory))
        pick = directory / "pick-action"
        pick.write_text(PICK_ACTION.format(dir=directory))
        pick.chmod(0o755)
        self._dunst: StackProcess | None = None
        self._lock = threading.Lock()
        self._seen: list[SeenNotification] = []
        self._pending: dict[tuple[str, int], int] = {}
        self._invoked: list[tuple[int, str]] = []
        self._closed: list[tuple[int, int]] = []
        self._control = open_dbus_connection(env["DBUS_SESSION_BUS_ADDRESS"])
        self._monitor = MonitorThread(
            env["DBUS_SESSION_BUS_ADDRESS"],
            MONITOR_RULES,
            self._record,
            f"{STACK_THREAD_PREFIX}-notify",
        )

    def start(self) -> None:
        """Start dunst and wait until it owns org.freedesktop.Notifications."""
        argv = ["dunst", "-config", str(self.dir / "dunstrc")]
        self._dunst = StackProcess(argv, self.env, self.dir / "dunst.log")
        if not wait_for(
            lambda: self.running or self._dunst is None or self._dunst.proc.poll() is not None, 10.0
        ):
            raise TimeoutError("dunst did not take the notifications name")
        if not self.running:
            raise RuntimeError(f"dunst failed to start; see {self.dir / 'dunst.log'}")

    def stop(self) -> None:
        """Stop dunst: the notification server goes away."""
        if self._dunst is not None:
            self._dunst.stop()
            self._dunst = None
        if not wait_for(lambda: not self.running, 5.0):
            raise TimeoutError("the notifications name is still owned after dunst stopped")

    @property
    def running(self) -> bool:
        """Whether some program owns org.freedesktop.Notifications right now."""
        reply = self._control.send_and_get_reply(message_bus.NameHasOwner(NOTIFICATIONS), timeout=5)
        return bool(unwrap_msg(reply)[0])

    def notifications(self) -> list[SeenNotification]:
        """Every notification sent to the server so far, oldest first."""
        with self._lock:
            return list(self._seen)

    def count(self) -> int:
        """How many notifications were sent so far: a mark for `wait_for(..., since=)`."""
        with self._lock:
            return len(self._seen)

    def wait_for(
        self,
        predicate: Callable[[SeenNotification], bool],
        timeout: float = 10.0,
        since: int = 0,
    ) -> SeenNotification:
        """The first notification from mark `since` on, its id known, that satisfies `predicate`."""

        def match() -> SeenNotification | None:
            later = self.notifications()[since:]
            return next((n for n in later if n.id and predicate(n)), None)

        if not wait_for(lambda: match() is not None, timeout):
            raise TimeoutError(f"no such notification within {timeout} s: {self.notifications()}")
        found = match()
        assert found is not None
        return found

    def invoked(self) -> list[tuple[int, str]]:
        """The (id, action key) of every ActionInvoked the server emitted."""
        with self._lock:
            return list(self._invoked)

    def closed(self) -> list[tuple[int, int]]:
        """The (id, reason) of every NotificationClosed the server emitted."""
        with self._lock:
            return list(self._closed)

    def invoke_action(self, notification_id: int, action_key: str, timeout: float = 10.0) -> None:
        """Pick an action of a displayed notification through dunst's context menu."""
        wanted = (notification_id, action_key)
        before = self.invoked().count(wanted)
        (self.dir / "wanted-action").write_text(f"[{notification_id},{action_key}]")
        subprocess.run(["dunstctl", "context"], env=self.env, check=True, timeout=timeout)
        if not wait_for(lambda: self.invoked().count(wanted) > before, timeout):
            raise TimeoutError(f"dunst did not invoke {action_key!r} on {notification_id}")

    def close_all(self) -> None:
        """Close every displayed notification."""
        subprocess.run(["dunstctl", "close-all"], env=self.env, check=True, timeout=10)

    def processes(self) -> list[StackProcess]:
        return [self._dunst] if self._dunst is not None else []

    def fds(self) -> set[int]:
        fd = self._control.sock.fileno()
        return self._monitor.fds() | ({fd} if fd >= 0 else set())

    def close(self) -> None:
        """Stop dunst and the monitor."""
        self.stop()
        self._monitor.close()
        self._control.close()

    def _record(self, msg: Message) -> None:
        with self._lock:
            self._record_locked(msg)

    def _record_locked(self, msg: Message) -> None:
        fields, kind = msg.header.fields, msg.header.message_type
        member = fields.get(HeaderFields.member)
        if kind == MessageType.method_call and member == "Notify":
            app, _replaces, _icon, summary, body, actions, _hints, _timeout = msg.body
            pairs = tuple(zip(actions[::2], actions[1::2], strict=False))
            sender = str(fields.get(HeaderFields.sender))
            self._pending[(sender, msg.header.serial)] = len(self._seen)
            self._seen.append(SeenNotification(0, app, summary, body, pairs, sender))
        elif kind == MessageType.method_return:
            key = (str(fields.get(HeaderFields.destination)), fields.get(HeaderFields.reply_serial))
            index = self._pending.pop(key, None)
            if index is not None and msg.body:
                self._seen[index] = dataclasses.replace(self._seen[index], id=int(msg.body[0]))
        elif member == "ActionInvoked":
            self._invoked.append((int(msg.body[0]), str(msg.body[1])))
        elif member == "NotificationClosed":
            self._closed.append((int(msg.body[0]), int(msg.body[1])))
