"""What the long-running tray does to hold less memory than its imports and its peaks would make
it hold (Linux; elsewhere these do nothing).

- `without_openssl()` loads asyncio and hashlib before anything else does, while `ssl` and
  `_hashlib` read as absent. Both modules are written to run without OpenSSL (asyncio then
  offers no TLS, hashlib uses CPython's own sha2/md5/sha1/sha3/blake2), and the tray needs
  neither asyncio's TLS (D-Bus is a unix socket) nor OpenSSL's hashes (dbus-fast and porttray
  hash short names). Importing them normally loads libcrypto and libssl and initialises
  OpenSSL: megabytes of RSS and of private memory in a process that speaks TLS only when a
  server it probes turns out to (`tray.identify.http_probe` then imports `ssl`, which loads as
  usual).
- `trim()` hands the C heap's free pages back to the system (glibc's `malloc_trim`) after the
  number of servers fell far below its peak (`Shrink`): glibc keeps what was freed for later,
  and a tray that once listed a thousand servers would hold their memory for as long as it runs.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

OPENSSL_MODULES = ("ssl", "_ssl", "_hashlib")
"""The modules that load OpenSSL."""
LOADS_OPENSSL = ("asyncio", "hashlib")
"""Modules that import an OpenSSL module at their own import when it is there."""


def without_openssl() -> bool:
    """Import `LOADS_OPENSSL` without OpenSSL; False (and nothing done) when one of them or of
    `OPENSSL_MODULES` is already loaded, or not on Linux."""
    if not sys.platform.startswith("linux"):
        return False
    if any(name in sys.modules for name in (*OPENSSL_MODULES, *LOADS_OPENSSL)):
        return False
    for name in OPENSSL_MODULES:
        sys.modules[name] = None  # type: ignore[assignment]  # import raises ImportError
    try:
        import asyncio  # noqa: F401
        import hashlib  # noqa: F401
    finally:
        for name in OPENSSL_MODULES:
            del sys.modules[name]  # a later `import ssl` loads the real module
    return True


TRIM_AFTER = 100
"""Servers fewer than the peak, and at most half of it, that make the tray give memory back."""
TRIM_DELAY = 0.5
"""Seconds between a big drop and the trim: the menu (redrawn within 0.4 s) and the history let
go of the servers that left on their own threads, a moment after the monitor does."""


class Shrink:
    """Says when a count has fallen far below its peak since it last said so."""

    def __init__(self, least: int = TRIM_AFTER) -> None:
        self._least = least
        self._peak = 0

    def fell(self, count: int) -> bool:
        """Take the current count; True once it is `least` or more below the peak and at most
        half of it (the peak then starts again from here)."""
        self._peak = max(self._peak, count)
        if self._peak - count < self._least or count * 2 > self._peak:
            return False
        self._peak = count
        return True


def trim_soon(delay: float = TRIM_DELAY) -> None:
    """`trim()` on a short-lived thread after `delay` seconds (Linux only)."""
    if sys.platform.startswith("linux"):
        timer = threading.Timer(delay, trim)
        timer.name, timer.daemon = "porttray-trim", True
        timer.start()


_LIBC: Any = None


def trim() -> bool:
    """Hand the free pages at the top and in the middle of the C heap (every malloc arena) back
    to the system; glibc would keep them for later. False where that cannot be done."""
    global _LIBC
    if not sys.platform.startswith("linux"):
        return False
    if _LIBC is None:
        try:
            import ctypes

            _LIBC = ctypes.CDLL("libc.so.6")
            _LIBC.malloc_trim.argtypes = [ctypes.c_size_t]
        except (OSError, AttributeError):
            _LIBC = False  # not glibc
    if not _LIBC:
        return False
    _LIBC.malloc_trim(0)
    return True
