"""What a server is: the HTTP probe, the project, the kind of program and Jupyter's URL, combined.

`identify` runs on a probe worker, off the UI thread, once per new server. It never raises: each
part that fails is logged at debug level and left unknown, and the rest is still returned. Servers
of processes in `no_probe` are not probed at all: databases and SSH daemons speak other protocols
and log an HTTP request as an attack.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import TypeVar

from tray.containers.mapping import probe_allowed
from tray.identify import probe as probing
from tray.identify.jupyter import jupyter_url
from tray.identify.kind import kind_of
from tray.identify.project import project_name
from tray.model import Identity, Server

__all__ = [
    "NO_PROBE_DEFAULT",
    "identify",
    "jupyter_url",
    "kind_of",
    "project_name",
]

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

NO_PROBE_DEFAULT: frozenset[str] = frozenset(
    {
        # databases and caches
        "postgres", "postmaster", "redis-server", "redis-sentinel", "valkey-server",
        "valkey-sentinel", "keydb-server", "mysqld", "mariadbd", "mongod", "mongos", "memcached",
        # remote shells
        "sshd", "sshd-session", "dropbear",
        # message brokers (RabbitMQ runs as Erlang's beam.smp, next to epmd)
        "beam.smp", "beam", "epmd", "rabbitmq-server",
        # mail (Postfix runs as "master") and name servers, which log stray HTTP as well
        "master", "exim4", "exim", "sendmail", "dovecot", "named", "dnsmasq", "systemd-resolve",
    }
)  # fmt: skip
"""Process names never probed over HTTP unless the settings say otherwise."""


def identify(
    server: Server, *, no_probe: frozenset[str] = NO_PROBE_DEFAULT, budget: float = 1.5
) -> Identity:
    """Everything porttray can tell about a server within `budget` seconds of probing."""
    process = server.process
    cmdline, cwd = (process.cmdline, process.cwd) if process else ((), None)
    kind = _attempt("the kind", server, lambda: kind_of(server.name, cmdline), None)
    project = _attempt("the project", server, lambda: project_name(cwd), None)
    probed = _attempt("the probe", server, lambda: _probe(server, no_probe, budget), Identity())
    identity = dataclasses.replace(probed, kind=kind, project=project)
    if kind == "jupyter":
        url = _attempt("the Jupyter URL", server, lambda: _jupyter(server, probed), None)
        identity = dataclasses.replace(identity, open_url=url)
    return identity


def _jupyter(server: Server, probed: Identity) -> str | None:
    if server.pid is None:
        return None
    scheme = "https" if probed.protocol == "https" else None
    return jupyter_url(server.pid, server.port, scheme=scheme, host=server.host)


def _probe(server: Server, no_probe: frozenset[str], budget: float) -> Identity:
    host = server.host
    if host is None or _listed(server.name, no_probe):
        return Identity(protocol="other")
    if server.container is not None and not probe_allowed(server.container):
        return Identity(protocol="other")
    return probing.probe(host, server.port, budget=budget)


def _listed(name: str | None, names: frozenset[str]) -> bool:
    if not name:
        return False
    plain = name.lower().removesuffix(".exe")
    return name in names or plain in names


def _attempt(what: str, server: Server, work: Callable[[], _T], fallback: _T) -> _T:
    try:
        return work()
    except Exception:
        logger.debug("finding %s of port %d failed", what, server.port, exc_info=True)
        return fallback
