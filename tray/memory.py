"""What the long-running tray does to hold less memory than its imports would make it hold
(Linux; elsewhere this does nothing).

- `without_openssl()` loads asyncio and hashlib before anything else does, while `ssl` and
  `_hashlib` read as absent. Both modules are written to run without OpenSSL (asyncio then
  offers no TLS, hashlib uses CPython's own sha2/md5/sha1/sha3/blake2), and the tray needs
  neither asyncio's TLS (D-Bus is a unix socket) nor OpenSSL's hashes (dbus-fast and porttray
  hash short names). Importing them normally loads libcrypto and libssl and initialises
  OpenSSL: megabytes of RSS and of private memory in a process that speaks TLS only when a
  server it probes turns out to (`tray.identify.http_probe` then imports `ssl`, which loads as
  usual).
"""

from __future__ import annotations

import sys

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
