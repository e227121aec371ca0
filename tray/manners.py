"""Which servers porttray may send a request to. Pure.

A probe is one HTTP request (and, for a server that hints at TLS, a ClientHello). Databases, caches,
brokers, mail and shell daemons log that as an attack or a protocol error, and another user's
server is none of porttray's business. So a server is never probed when:

- it listens on a well-known port of a protocol other than HTTP (`programs.QUIET_PORTS`), whatever
  process holds it; a container's published port is probed as `containers.mapping` allows (by its
  image and inner port), whoever holds the socket;
- its socket belongs to another uid, or its owner cannot be seen at all, unless the settings say
  `probe_others = true`;
- its program is one the table marks as never probed, or, when the `no_probe` setting is given, its
  process name is in that list instead.
"""

from __future__ import annotations

from tray.config.schema import Config
from tray.model import Server
from tray.programs import NO_PROBE_NAMES, QUIET_PORTS, by_kind


def theirs(server: Server, uid: int | None, user: str | None = None) -> bool:
    """Whether the socket belongs to someone else: another uid, else another user's process."""
    if server.uid is not None and uid is not None:
        return server.uid != uid
    proc = server.process
    return proc is not None and proc.user is not None and user is not None and proc.user != user


def unseen(server: Server) -> bool:
    """Neither the socket's uid nor its process is known: whose it is, nobody can tell."""
    return server.uid is None and server.pid is None


def may_probe(
    server: Server, kind: str | None, config: Config, uid: int | None, user: str | None = None
) -> bool:
    """Whether a request may be sent to the server (see the module's rules)."""
    if server.host is None or server.port in QUIET_PORTS:
        return False
    if server.container is not None:  # the user's, whoever holds the socket (docker-proxy: root)
        from tray.containers.mapping import probe_allowed  # pure, but its package is not

        return probe_allowed(server.container)
    if not config.probe_others and (theirs(server, uid, user) or unseen(server)):
        return False
    if config.no_probe is not None:
        return not _listed(server.name, frozenset(config.no_probe))
    program = by_kind(kind)
    if program is not None and not program.probe:
        return False
    return not _listed(server.name, NO_PROBE_NAMES)


def _listed(name: str | None, names: frozenset[str]) -> bool:
    if not name:
        return False
    return name in names or name.lower().removesuffix(".exe") in names
