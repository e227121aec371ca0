"""What a server is: the HTTP probe, the project, the kind of program and Jupyter's URL, combined.

`identify` runs on a probe worker, off the UI thread, once per new server. It never raises: each
part that fails is logged at debug level and left unknown, and the rest is still returned. Servers
that `tray.manners` rules out (databases, well-known ports of other protocols, other users'
sockets) are not probed at all: they are "other" without a byte sent.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlsplit

from tray import manners
from tray.config import DEFAULT, Config
from tray.identify import http_probe
from tray.identify.jupyter import jupyter_url
from tray.identify.project import project_name
from tray.model import Identity, Server
from tray.programs import by_kind, kind_of
from tray.users import real_uid, real_user

__all__ = [
    "from_process",
    "identify",
    "jupyter_url",
    "kind_of",
    "project_name",
    "project_of",
]

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

_ME = object()
"""The default of `identify`'s uid: the real uid of this process."""


def identify(
    server: Server, *, config: Config = DEFAULT, budget: float = 1.5, uid: object = _ME
) -> Identity:
    """Everything porttray can tell about a server within `budget` seconds of probing.

    `uid` is whose servers may be probed (default: this process's real uid)."""
    me = real_uid() if uid is _ME else uid if isinstance(uid, int) else None
    local = from_process(server)
    kind, project = local.kind, local.project
    allowed = manners.may_probe(server, kind, config, me, real_user())
    url = _attempt("the Jupyter URL", server, lambda: _jupyter(server, kind), None)
    probed = _attempt(
        "the probe", server, lambda: _probe(server, budget, url, allowed=allowed), Identity()
    )
    identity = dataclasses.replace(probed, kind=kind, project=project)
    if url is not None:
        if probed.protocol == "https":
            url = url.replace("http://", "https://", 1)
        identity = dataclasses.replace(identity, open_url=url)
    return identity


def from_process(server: Server) -> Identity:
    """What the process alone tells of a server (its kind and project), without a byte sent:
    the menu names a server at once, where a silent one's probe takes its whole budget."""
    process = server.process
    cmdline, cwd = (process.cmdline, process.cwd) if process else ((), None)
    kind = _attempt("the kind", server, lambda: kind_of(server.name, cmdline), None)
    project = _attempt("the project", server, lambda: project_of(kind, cwd), None)
    return Identity(kind=kind, project=project)


def project_of(kind: str | None, cwd: str | None) -> str | None:
    """The project a server runs in; databases and daemons have none (postgres runs in its data
    directory, whose name says nothing)."""
    program = by_kind(kind)
    if program is not None and (program.system or not program.probe):
        return None
    return project_name(cwd)


def _jupyter(server: Server, kind: str | None) -> str | None:
    if kind != "jupyter" or server.pid is None:
        return None
    return jupyter_url(server.pid, server.port, host=server.host)


def _probe(server: Server, budget: float, url: str | None, *, allowed: bool) -> Identity:
    """Probe the server; Jupyter at its token URL, so the title is not its login page's; a
    server known to speak TLS over TLS first."""
    host = server.host
    if host is None or not allowed:
        return Identity(protocol="other")
    path = "/"
    if url is not None:
        parts = urlsplit(url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    tls = server.identity.protocol == "https" or (url or "").startswith("https:")
    return http_probe.probe(host, server.port, budget=budget, path=path, tls_first=tls)


def _attempt(what: str, server: Server, work: Callable[[], _T], fallback: _T) -> _T:
    try:
        return work()
    except Exception:
        logger.debug("finding %s of port %d failed", what, server.port, exc_info=True)
        return fallback
