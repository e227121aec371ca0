"""porttray's asyncio loops for D-Bus (the tray item's, the notifier's): their error policy.

dbus-fast leaves failed writes in futures nobody awaits when the bus drops; asyncio would log each
with a traceback. The code that owns the connection logs what it does about the drop, so here each
kind of error is said once, without a traceback.
"""

from __future__ import annotations

import asyncio
import logging
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
