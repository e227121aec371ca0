"""Putting text on the clipboard from any thread, reporting failures instead of raising them.

On X11 the clipboard lives as long as the program that owns it. porttray stays running, so where
its tray runs a GLib main loop (pystray's appindicator and gtk backends do) the tray process itself
owns the CLIPBOARD selection through GTK: no helper program, and the text stays pasteable after
the menu closes. The text is set on the loop's thread (`GLib.idle_add`) and handed to a clipboard
manager, when there is one, with `store()`.

Elsewhere pyperclip does the work (native on Windows and macOS; xclip, xsel or wl-clipboard on
Linux) on a short-lived thread, because those helpers are programs that can be slow to return.
`capability` names the path in use: "gtk", "pyperclip" or "none".
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

logger = logging.getLogger(__name__)

Capability = Literal["gtk", "pyperclip", "none"]
NO_TOOL = (
    "Could not copy to the clipboard: no clipboard program was found "
    "(install xclip or xsel, or wl-clipboard on Wayland)"
)


class Clipboard:
    """Copies text to the system clipboard; problems go to `on_error` as a sentence for a person."""

    def __init__(self, on_error: Callable[[str], None], *, use_gtk: bool = False) -> None:
        self._on_error = on_error
        self._gtk = _load_gtk() if use_gtk else None
        self._pyperclip: tuple[Callable[[str], None], Callable[[], str]] | None = None
        if self._gtk is None:
            self._pyperclip = _load_pyperclip()

    @property
    def capability(self) -> Capability:
        """How `copy` reaches the clipboard."""
        if self._gtk is not None:
            return "gtk"
        return "pyperclip" if self._pyperclip is not None else "none"

    def copy(self, text: str) -> None:
        """Put `text` on the clipboard. Returns at once; never raises."""
        if self._gtk is not None:
            self._gtk.GLib.idle_add(self._set_with_gtk, text)
        elif self._pyperclip is not None:
            threading.Thread(
                target=self._set_with_pyperclip, args=(text,), name="porttray-copy", daemon=True
            ).start()
        else:
            self._report(NO_TOOL)

    def _set_with_gtk(self, text: str) -> bool:
        """On the GLib loop: take the CLIPBOARD selection."""
        assert self._gtk is not None
        try:
            board = self._gtk.Gtk.Clipboard.get(self._gtk.Gdk.SELECTION_CLIPBOARD)
            board.set_text(text, -1)
            board.store()
        except Exception as exc:
            logger.warning("GTK clipboard failed", exc_info=True)
            self._report(f"Could not copy to the clipboard: {exc}")
        return False  # run once

    def _set_with_pyperclip(self, text: str) -> None:
        assert self._pyperclip is not None
        copy, paste = self._pyperclip
        try:
            copy(text)
            taken = paste() == text
        except Exception as exc:
            logger.warning("pyperclip failed", exc_info=True)
            self._report(f"Could not copy to the clipboard: {exc}")
            return
        if not taken:
            self._report("Could not copy to the clipboard: the clipboard did not take the text")

    def _report(self, message: str) -> None:
        try:
            self._on_error(message)
        except Exception:
            logger.exception("Reporting a clipboard error failed: %s", message)


@dataclass(frozen=True, slots=True)
class _Gtk:
    """The GTK modules the clipboard needs, loaded once."""

    GLib: Any
    Gtk: Any
    Gdk: Any


def _load_gtk() -> _Gtk | None:
    try:
        import gi

        gi.require_version("Gtk", "3.0")
        gi.require_version("Gdk", "3.0")
        from gi.repository import Gdk, GLib, Gtk
    except (ImportError, ValueError) as exc:
        logger.info("GTK clipboard unavailable (%s); using pyperclip", exc)
        return None
    return _Gtk(GLib, Gtk, Gdk)


def _load_pyperclip() -> tuple[Callable[[str], None], Callable[[], str]] | None:
    """pyperclip's copy and paste for this system, or None when it has no mechanism here."""
    try:
        import pyperclip

        copy, paste = pyperclip.determine_clipboard()
    except Exception as exc:
        logger.warning("No clipboard available: %s", exc)
        return None
    if not copy:  # pyperclip's "no mechanism" stand-in is falsy
        logger.warning("No clipboard program found (xclip, xsel or wl-clipboard)")
        return None
    return copy, paste
