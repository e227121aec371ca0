"""Opening a URL in the user's browser without ever blocking the caller.

`webbrowser` honours $BROWSER and otherwise finds the desktop's browser. Some of its browsers are
commands it runs and waits for (a $BROWSER command always is), and a browser can take seconds to
start, so the call runs on a short-lived daemon thread: a menu callback returns at once and a slow
or stuck browser never holds the tray. A browser that cannot be started, or an exception, is
reported to `on_error` as one sentence for a person.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable

logger = logging.getLogger(__name__)


def open_url(url: str, on_error: Callable[[str], None]) -> None:
    """Open `url` in the user's browser on its own thread; failures go to `on_error`."""
    threading.Thread(
        target=_open, args=(url, on_error), name="porttray-open-url", daemon=True
    ).start()


def _open(url: str, on_error: Callable[[str], None]) -> None:
    import webbrowser  # loaded on the first click only

    try:
        opened = webbrowser.open(url)
    except Exception as exc:
        logger.warning("Opening %s failed", url, exc_info=True)
        _report(on_error, f"Could not open {url}: {exc or type(exc).__name__}")
        return
    if not opened:
        logger.warning("No browser could open %s", url)
        _report(on_error, f"Could not open {url}: {_why_not()}")


def _why_not() -> str:
    command = os.environ.get("BROWSER")
    if command:
        return f"the browser command {command!r} failed"
    return "no browser was found"


def _report(on_error: Callable[[str], None], message: str) -> None:
    try:
        on_error(message)
    except Exception:
        logger.exception("Reporting a browser error failed: %s", message)
