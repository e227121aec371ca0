"""One porttray per desktop session.

On Linux the lock is an abstract unix socket named after the user and the session bus: the kernel
frees it when the process dies, so a crash never leaves a stale lock, and tests running on private
session buses do not collide with a porttray on the real desktop. Elsewhere it is an exclusive lock
on a file in the user's runtime directory, which the OS also releases on exit.
"""

from __future__ import annotations

import hashlib
import os
import socket
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import IO


def session_key(env: Mapping[str, str] = os.environ) -> str:
    """A short name for this user's desktop session."""
    uid = os.getuid() if hasattr(os, "getuid") else 0
    session = env.get("DBUS_SESSION_BUS_ADDRESS") or env.get("DISPLAY") or ""
    digest = hashlib.sha256(session.encode()).hexdigest()[:12]
    return f"porttray-{uid}-{digest}"


class InstanceLock:
    """Held by the running porttray; a second one fails to acquire it."""

    def __init__(self, key: str | None = None, lock_dir: Path | None = None) -> None:
        self._key = key or session_key()
        self._lock_dir = lock_dir
        self._sock: socket.socket | None = None
        self._file: IO[bytes] | None = None

    def acquire(self) -> bool:
        """True when this process is now the only porttray of the session."""
        if sys.platform.startswith("linux") and self._lock_dir is None:
            return self._acquire_socket()
        return self._acquire_file()

    def _acquire_socket(self) -> bool:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind("\0" + self._key)
        except OSError:
            sock.close()
            return False
        self._sock = sock
        return True

    def _acquire_file(self) -> bool:
        directory = self._lock_dir or _runtime_dir()
        directory.mkdir(parents=True, exist_ok=True)
        handle = open(directory / f"{self._key}.lock", "ab")  # noqa: SIM115 (held while running)
        if not _try_lock(handle):
            handle.close()
            return False
        self._file = handle
        return True

    def release(self) -> None:
        """Let another porttray start."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        if self._file is not None:
            self._file.close()
            self._file = None


def _try_lock(handle: IO[bytes]) -> bool:
    if sys.platform == "win32":
        import msvcrt

        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _runtime_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_runtime_dir("porttray", ensure_exists=True))
