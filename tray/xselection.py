"""Owning an X11 selection in-process with python-xlib (no GTK, no helper program).

On X11 copied text lives as long as the program that owns the selection: porttray stays running,
so it takes CLIPBOARD itself and answers other programs' SelectionRequest events (TARGETS,
UTF8_STRING, STRING, TEXT) from a thread with its own display connection. The text therefore stays
pasteable after the menu closes, until another program takes the clipboard.

All Xlib calls happen on that thread (python-xlib connections are not thread-safe); `own()` only
queues the text and wakes the thread through a pipe.
"""

from __future__ import annotations

import logging
import os
import select
import threading
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

TEXT_TARGETS = ("UTF8_STRING", "STRING", "TEXT", "text/plain;charset=utf-8", "text/plain")


class SelectionOwner:
    """Holds one selection (CLIPBOARD unless told otherwise) for porttray's lifetime."""

    def __init__(
        self,
        on_error: Callable[[str], None],
        selection: str = "CLIPBOARD",
        display: str | None = None,
    ) -> None:
        from Xlib import X
        from Xlib.display import Display

        self._X = X
        self._display: Any = Display(display)  # raises when there is no X server
        self._on_error = on_error
        self._window = self._display.screen().root.create_window(0, 0, 1, 1, 0, X.CopyFromParent)
        self._atom = self._display.intern_atom
        self._selection = self._atom(selection)
        self._pending: list[str] = []
        self._text: bytes | None = None
        self._lock = threading.Lock()
        self._wake_r, self._wake_w = os.pipe()
        self._stopping = False
        self.owned = threading.Event()
        """Set while porttray owns the selection (for `doctor` and tests)."""
        self._thread = threading.Thread(target=self._serve, name="porttray-selection", daemon=True)
        self._thread.start()

    def own(self, text: str) -> None:
        """Take the selection with `text`. Returns at once; failures go to `on_error`."""
        with self._lock:
            self._pending.append(text)
        os.write(self._wake_w, b"x")

    def close(self) -> None:
        """Stop serving and close the display connection."""
        self._stopping = True
        os.write(self._wake_w, b"q")
        self._thread.join(2)
        for fd in (self._wake_r, self._wake_w):
            os.close(fd)

    def _serve(self) -> None:
        try:
            while not self._stopping:
                while self._display.pending_events():
                    self._handle(self._display.next_event())
                readable, _, _ = select.select([self._display, self._wake_r], [], [], 5.0)
                if self._wake_r in readable:
                    os.read(self._wake_r, 64)
                    self._take_pending()
        except Exception as exc:  # the X server went away
            logger.warning("the X selection thread stopped: %s", exc)
        finally:
            self.owned.clear()
            try:
                self._display.close()
            except Exception:
                logger.debug("closing the X display failed", exc_info=True)

    def _take_pending(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, []
        if not pending:
            return
        self._text = pending[-1].encode()
        self._window.set_selection_owner(self._selection, self._X.CurrentTime)
        self._display.sync()
        if self._display.get_selection_owner(self._selection) == self._window:
            self.owned.set()
        else:
            self.owned.clear()
            self._on_error(
                "Could not copy to the clipboard: the X server gave it to another program"
            )

    def _handle(self, event: Any) -> None:
        if event.type == self._X.SelectionRequest:
            self._answer(event)
        elif event.type == self._X.SelectionClear and event.atom == self._selection:
            self.owned.clear()  # someone else copied something: theirs now
            self._text = None

    def _answer(self, request: Any) -> None:
        from Xlib import Xatom
        from Xlib.protocol import event as xevent

        prop = request.property or request.target  # obsolete clients send None
        names = {self._atom(name): name for name in ("TARGETS", *TEXT_TARGETS)}
        target = names.get(request.target)
        if self._text is None or request.selection != self._selection or target is None:
            prop = self._X.NONE
        elif target == "TARGETS":
            atoms = [self._atom(name) for name in ("TARGETS", *TEXT_TARGETS)]
            request.requestor.change_property(prop, Xatom.ATOM, 32, atoms)
        else:
            kind = Xatom.STRING if target == "STRING" else self._atom("UTF8_STRING")
            data = (
                self._text
                if target != "STRING"
                else self._text.decode().encode("latin-1", "replace")
            )
            request.requestor.change_property(prop, kind, 8, data)
        notify = xevent.SelectionNotify(
            time=request.time,
            requestor=request.requestor,
            selection=request.selection,
            target=request.target,
            property=prop,
        )
        request.requestor.send_event(notify)
        self._display.flush()


def self_test(timeout: float = 2.0, display: str | None = None) -> str | None:
    """Own a private selection and read it back from a second connection, as a paste would.

    Exercises exactly the path Copy uses (ownership, SelectionRequest, the reply) without
    touching the user's clipboard. None when it worked, else what went wrong.
    """
    from Xlib.display import Display

    errors: list[str] = []
    probe = f"porttray-doctor-{os.getpid()}"
    owner = SelectionOwner(errors.append, f"PORTTRAY_DOCTOR_{os.getpid()}", display)
    reader: Any = None
    try:
        owner.own(probe)
        if not owner.owned.wait(timeout):
            return errors[0] if errors else "porttray could not take an X selection"
        reader = Display(display)
        return _paste(reader, f"PORTTRAY_DOCTOR_{os.getpid()}", probe, timeout)
    finally:
        owner.close()
        if reader is not None:
            reader.close()


def _paste(reader: Any, name: str, expected: str, timeout: float) -> str | None:
    """Ask for the selection `name` from the `reader` connection, as a paste would; None when
    `expected` comes back within `timeout` seconds, else what went wrong."""
    import time

    from Xlib import X

    window = reader.screen().root.create_window(0, 0, 1, 1, 0, X.CopyFromParent)
    selection, target = (
        reader.intern_atom(name),
        reader.intern_atom("UTF8_STRING"),
    )
    prop = reader.intern_atom("PORTTRAY_DOCTOR_VALUE")
    window.convert_selection(selection, target, prop, X.CurrentTime)
    reader.flush()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if reader.pending_events():
            event = reader.next_event()
            if event.type == X.SelectionNotify:
                got = window.get_full_property(prop, X.AnyPropertyType)
                value = bytes(got.value).decode(errors="replace") if got else ""
                return None if value == expected else f"a paste read back {value!r}"
        else:
            time.sleep(0.02)
    return "no answer to a paste request within the timeout"
