"""Jupyter's own URL for a server, login token included, from the file Jupyter writes about itself.

A running Jupyter server describes itself in its runtime directory as `jpserver-<pid>.json`
(`nbserver-<pid>.json` for the classic notebook): port, base_url, token, hostname, secure. Opening
the URL built from it logs the browser straight in, where the plain address asks for the token.
When no file carries the pid (a server started through a wrapper), a file naming the same port
stands in, the newest first. Unreadable or malformed files are passed over.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tray.model import http_url, is_loopback

MAX_FILE = 1 << 16
"""Bytes read from a runtime file at most."""
MAX_FILES = 256
"""Runtime files looked at per directory when searching by port."""
_PREFIXES = ("jpserver", "nbserver")


def jupyter_url(
    pid: int,
    port: int,
    runtime_dirs: Sequence[Path] | None = None,
    *,
    scheme: str | None = None,
    host: str | None = None,
) -> str | None:
    """The URL to open the Jupyter server `pid` on `port` with, token included, or None.

    `scheme` overrides the file's "secure" flag (a probe saw TLS); `host` is the loopback address
    the server answers on, used when the file records none.
    """
    dirs = default_runtime_dirs() if runtime_dirs is None else list(runtime_dirs)
    info = _by_pid(dirs, pid, port) or _by_port(dirs, port)
    return _url(info, port, scheme, host) if info else None


def default_runtime_dirs() -> list[Path]:
    """Where Jupyter keeps its runtime files, in the order Jupyter itself would pick them."""
    env = os.environ
    home = Path(os.path.expanduser("~"))
    dirs = [
        Path(env["JUPYTER_RUNTIME_DIR"]) if env.get("JUPYTER_RUNTIME_DIR") else None,
        Path(env["JUPYTER_DATA_DIR"], "runtime") if env.get("JUPYTER_DATA_DIR") else None,
        Path(env["XDG_DATA_HOME"], "jupyter", "runtime") if env.get("XDG_DATA_HOME") else None,
        home / ".local" / "share" / "jupyter" / "runtime",
        home / "Library" / "Jupyter" / "runtime",
        Path(env["APPDATA"], "jupyter", "runtime") if env.get("APPDATA") else None,
    ]
    return list(dict.fromkeys(d for d in dirs if d is not None))


def _by_pid(dirs: Sequence[Path], pid: int, port: int) -> dict[str, Any] | None:
    for folder in dirs:
        for prefix in _PREFIXES:
            info = _load(folder / f"{prefix}-{pid}.json")
            if info is not None and info.get("port", port) == port:
                return info
    return None


def _by_port(dirs: Sequence[Path], port: int) -> dict[str, Any] | None:
    for path in _newest_first(dirs):
        info = _load(path)
        if info is not None and info.get("port") == port:
            return info
    return None


def _newest_first(dirs: Sequence[Path]) -> Iterator[Path]:
    found: list[tuple[float, Path]] = []
    for folder in dirs:
        try:
            names = [e for e in os.scandir(folder) if _is_runtime_file(e.name)][:MAX_FILES]
            found.extend((e.stat().st_mtime, Path(e.path)) for e in names)
        except OSError:
            continue
    return (path for _, path in sorted(found, key=lambda f: f[0], reverse=True))


def _is_runtime_file(name: str) -> bool:
    return name.endswith(".json") and name.startswith(tuple(f"{p}-" for p in _PREFIXES))


def _load(path: Path) -> dict[str, Any] | None:
    try:
        with path.open("rb") as file:
            data = json.loads(file.read(MAX_FILE))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _url(info: dict[str, Any], port: int, scheme: str | None, host: str | None) -> str:
    recorded = info.get("hostname")
    if isinstance(recorded, str) and is_loopback(recorded):
        host = recorded
    secure = info.get("secure") is True
    url = http_url(host or "127.0.0.1", port, scheme or ("https" if secure else "http"))
    base = info.get("base_url")
    path = base.strip("/") if isinstance(base, str) else ""
    url += quote(f"/{path}/" if path else "/", safe="/%:@!$&'()*+,;=-._~")
    token = info.get("token")
    return f"{url}?token={quote(token, safe='')}" if isinstance(token, str) and token else url
