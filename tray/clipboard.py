"""Putting text on the clipboard from any thread, reporting failures instead of raising them.

On X11 the clipboard lives as long as the program that owns it. porttray stays running, so the
tray process owns the CLIPBOARD selection itself and the text stays pasteable after the menu
closes: through GTK where the tray runs a GLib loop (the XEmbed backend: set on the loop's thread,
`store()`d to a clipboard manager), else with python-xlib (`tray.xselection`, no GTK).

On Wayland a tray cannot set the selection (it has no focused surface and no input serial; the
compositor rejects it), so `wl-copy` (wl-clipboard) does it, bounded by a timeout because it has
been seen to hang. Elsewhere pyperclip does the work (native on Windows and macOS) on a short-lived
thread. `capability` names the path in use: "gtk", "xlib", "wl-copy", "pyperclip" or "none".
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

logger = logging.getLogger(__name__)

Capability = Literal["gtk", "xlib", "wl-copy", "pyperclip", "none"]
NO_TOOL = (
    "Could not copy to the clipboard: no clipboard program was found "
    "(install xclip or xsel, or wl-clipboard on Wayland)"
)
NO_WL_COPY = (
    "Could not copy to the clipboard: on Wayland porttray needs wl-copy "
    "(sudo apt-get install wl-clipboard)"
)
NO_X = "Could not copy to the clipboard: the X display cannot be reached"
NO_DISPLAY = "Could not copy to the clipboard: there is no X11 or Wayland display"
WL_COPY_TIMEOUT = 3.0


def linux_path(env: Mapping[str, str] = os.environ) -> Capability:
    """Which clipboard path a Linux session without GTK gets: wl-copy on Wayland, xlib on X11."""
    if env.get("WAYLAND_DISPLAY"):
        return "wl-copy" if shutil.which("wl-copy") else "none"
    return "xlib" if env.get("DISPLAY") else "none"


class Clipboard:
    """Copies text to the system clipboard; problems go to `on_error` as a sentence for a person."""

    def __init__(self, on_error: Callable[[str], None], *, use_gtk: bool = False) -> None:
        self._on_error = on_error
        self._gtk = _load_gtk() if use_gtk else None
        self._pyperclip: tuple[Callable[[str], None], Callable[[], str]] | None = None
        self._x: Any = None
        self._path: Capability = "none"
        if self._gtk is not None:
            self._path = "gtk"
        elif sys.platform.startswith("linux"):
            self._path = linux_path()  # the X selection owner starts on the first copy
        else:
            self._pyperclip = _load_pyperclip()
            self._path = "pyperclip" if self._pyperclip is not None else "none"

    @property
    def capability(self) -> Capability:
        """How `copy` reaches the clipboard."""
        return self._path

    def close(self) -> None:
        """Give up the X selection thread, if any."""
        if self._x is not None:
            self._x.close()
            self._x = None

    def copy(self, text: str) -> None:
        """Put `text` on the clipboard. Returns at once; never raises."""
        if self._gtk is not None:
            self._gtk.GLib.idle_add(self._set_with_gtk, text)
        elif self._path == "xlib" and self._owner() is not None:
            self._x.own(text)
        elif self._path == "wl-copy":
            threading.Thread(
                target=self._set_with_wl_copy, args=(text,), name="porttray-copy", daemon=True
            ).start()
        elif sys.platform.startswith("linux"):
            env = os.environ
            self._report(
                NO_WL_COPY
                if env.get("WAYLAND_DISPLAY")
                else NO_X
                if env.get("DISPLAY")
                else NO_DISPLAY
            )
        elif self._pyperclip is not None:
            threading.Thread(
                target=self._set_with_pyperclip, args=(text,), name="porttray-copy", daemon=True
            ).start()
        else:
            self._report(NO_TOOL)

    def _owner(self) -> Any:
        """porttray's X selection owner, started on first use: python-xlib, its display
        connection and the thread that serves the selection cost about 3 MiB, which a tray whose
        Copy is never clicked need not hold. Without an X server the path becomes "none"."""
        if self._x is None:
            self._x = _load_xlib(self._report)
            if self._x is None:
                self._path = "none"
        return self._x

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

    def _set_with_wl_copy(self, text: str) -> None:
        """wl-copy forks a child that serves the selection; its output goes nowhere, or reading
        it would wait for that child."""
        try:
            subprocess.run(
                ["wl-copy", "--", text],
                check=True,
                timeout=WL_COPY_TIMEOUT,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            self._report(f"Could not copy to the clipboard: wl-copy hung ({WL_COPY_TIMEOUT:.0f} s)")
        except (OSError, subprocess.CalledProcessError) as exc:
            self._report(f"Could not copy to the clipboard: wl-copy failed ({exc})")

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


def _load_xlib(on_error: Callable[[str], None]) -> Any:
    """porttray's own X selection owner, or None without an X server."""
    try:
        from tray.xselection import SelectionOwner

        return SelectionOwner(on_error)
    except Exception as exc:
        logger.warning("No X11 clipboard: %s", exc)
        return None


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
