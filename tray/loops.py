"""porttray's asyncio loops for D-Bus (the tray item's, which the notifier shares, or the
notifier's own on a thread): their error policy, and a loop on a thread of its own.

dbus-fast leaves failed writes in futures nobody awaits when the bus drops; asyncio would log each
with a traceback. The code that owns the connection logs what it does about the drop, so here each
kind of error is said once, without a traceback.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

logger = logging.getLogger(__name__)

_SEEN: set[str] = set()


def quiet_loop_errors(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """An asyncio exception handler: log each kind of unhandled loop error once."""
    exc = context.get("exception")
    kind = type(exc).__name__ if exc is not None else str(context.get("message"))
    if kind not in _SEEN:
        _SEEN.add(kind)
        logger.info("the bus connection reported %s: %s (logged once)", kind, exc or "")


def loop_on_thread(name: str) -> tuple[asyncio.AbstractEventLoop, threading.Thread]:
    """A new event loop running on a daemon thread of its own, with this error policy."""
    loop = asyncio.new_event_loop()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.set_exception_handler(quiet_loop_errors)
        loop.run_forever()

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    return loop, thread


def end_loop_thread(
    loop: asyncio.AbstractEventLoop, thread: threading.Thread, timeout: float
) -> bool:
    """Stop a loop of `loop_on_thread` and close it once its thread ended; False if the thread
    was still running after `timeout` seconds."""
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout)
    if thread.is_alive():
        return False
    loop.close()
    return True
