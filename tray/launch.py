"""Starting the tray: one instance per session, a backend that can show the icon, then `App`.

Exit codes: 0 after Quit (or when porttray already runs in this session), 1 when the tray stopped
on an error, 3 when no tray backend can show an icon.
"""

from __future__ import annotations

import sys

from tray import config
from tray.app import App
from tray.backend import BackendError, choose, load_pystray
from tray.instance import InstanceLock

M_ARENA_MAX = -8
"""glibc's mallopt() parameter for the number of malloc arenas."""


def limit_malloc_arenas(arenas: int = 2) -> None:
    """Cap glibc's per-thread malloc arenas before any thread starts.

    Every thread that allocates gets an arena of its own by default; in a long-running tray with a
    handful of mostly idle threads, that memory is held but barely used (about 3 MiB measured).
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").mallopt(M_ARENA_MAX, arenas)
    except (OSError, AttributeError):
        pass  # not glibc


def run_tray(*, interval: float | None = None, method: str | None = None) -> int:
    """Start the tray and block until Quit. Returns the process exit code."""
    limit_malloc_arenas()
    try:
        backend = choose()
    except BackendError as exc:
        print(f"porttray: cannot show a tray icon: {exc}", file=sys.stderr)
        return 3
    lock = InstanceLock()
    if not lock.acquire():
        print("porttray is already running in this session.")
        return 0
    try:
        pystray = load_pystray(backend)
    except BackendError as exc:
        print(f"porttray: cannot show a tray icon: {exc}", file=sys.stderr)
        return 3
    try:
        app = App(
            pystray,
            backend,
            settings_path=config.default_path(),
            interval=interval,
            method=method,
        )
        return app.run()
    finally:
        lock.release()
