"""Listeners ↔ containers: the engine's container list as published bindings, and those bindings
laid over the scanned servers. Pure.

A published port is usually held by a proxy process (`docker-proxy`, `rootlesskit`, `pasta`,
`rootlessport`), often one a normal user cannot even see the owner of; the engine's list says
which container it leads to. With the userland proxy off (or nerdctl/CNI) nothing listens at all:
the binding is pure NAT, and it becomes a server of its own with no process.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tray.model import Container, Server

PROXIES = frozenset(
    {"docker-proxy", "rootlesskit", "rootlessport", "pasta", "pasta.avx2", "slirp4netns", "dockerd"}
)
"""Processes that hold a published port for a container."""
TEXT_LIMIT = 80
"""Names, images and labels from the engine are cut to this many characters."""
NOT_PROBED_IMAGES = frozenset(
    {"postgres", "postgis", "mysql", "mariadb", "percona", "mongo", "redis", "valkey", "keydb",
     "memcached", "rabbitmq", "cassandra", "couchdb", "neo4j", "openssh-server", "mssql-server"}
)  # fmt: skip
"""Images of databases, brokers and shells, which log stray HTTP requests as attacks."""
NOT_PROBED_PORTS = frozenset({22, 1433, 3306, 5432, 5672, 6379, 7687, 9042, 11211, 27017})
"""The same programs' own ports inside a container."""
PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"


@dataclass(frozen=True, slots=True)
class Binding:
    """One published TCP port: host address and port → a container."""

    address: str
    """The host address it is published on ("0.0.0.0", "127.0.0.1", "::")."""
    port: int
    """The host port."""
    container: Container
    """The container it leads to (`container.port` is the container's own port)."""


class BadPayload(ValueError):
    """The engine's answer is not a container list."""


def bindings(payload: object) -> tuple[tuple[Binding, ...], int]:
    """The published TCP bindings of a decoded `GET /containers/json` answer, and how many
    entries were skipped as malformed. Raises `BadPayload` when it is not a list at all."""
    if not isinstance(payload, list):
        raise BadPayload(f"expected a list of containers, got {type(payload).__name__}")
    found: list[Binding] = []
    skipped = 0
    for entry in payload:
        parsed = _container_bindings(entry)
        if parsed is None:
            skipped += 1
        else:
            found.extend(parsed)
    return tuple(found), skipped


def _container_bindings(entry: object) -> list[Binding] | None:
    if not isinstance(entry, Mapping):
        return None
    ident, ports = entry.get("Id"), entry.get("Ports")
    if not isinstance(ident, str) or not ident or not isinstance(ports, list):
        return None
    base = _container(ident, entry)
    found = []
    for port in ports:
        if not isinstance(port, Mapping) or port.get("Type", "tcp") != "tcp":
            continue
        public, private = port.get("PublicPort"), port.get("PrivatePort")
        if not isinstance(public, int) or not _is_port(public):
            continue
        address = _address(port.get("IP"))
        if address is None:
            continue
        own = private if _is_port(private) else None
        found.append(Binding(address, public, dataclasses.replace(base, port=own)))
    return found


def _container(ident: str, entry: Mapping[str, object]) -> Container:
    names = entry.get("Names")
    first = names[0] if isinstance(names, list) and names and isinstance(names[0], str) else ""
    labels = entry.get("Labels")
    labels = labels if isinstance(labels, Mapping) else {}
    return Container(
        id=clean(ident, 64) or ident[:64],
        name=clean(first.lstrip("/")) or clean(ident[:12]) or "container",
        image=clean(entry.get("Image")),
        project=clean(labels.get(PROJECT_LABEL)),
        service=clean(labels.get(SERVICE_LABEL)),
        health=_health(entry),
    )


def _health(entry: Mapping[str, object]) -> str | None:
    """From the `Health` object of newer engines, else from the `Status` text ("Up 3 minutes
    (healthy)", "(health: starting)")."""
    health = entry.get("Health")
    if isinstance(health, Mapping) and isinstance(health.get("Status"), str):
        state = str(health["Status"])
        return state if state in ("healthy", "unhealthy", "starting") else None
    status = entry.get("Status")
    if not isinstance(status, str):
        return None
    for word in ("unhealthy", "healthy", "starting"):
        if f"({word})" in status or f"(health: {word})" in status:
            return word
    return None


def _is_port(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 65536


def _address(value: object) -> str | None:
    """The binding's address in canonical form; a missing one means every interface."""
    if value is None or value == "":
        return "0.0.0.0"
    if not isinstance(value, str):
        return None
    return _canonical(value)


def _canonical(address: str) -> str | None:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return None
    mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
    return str(mapped or ip)


def clean(value: object, limit: int = TEXT_LIMIT) -> str | None:
    """Text from the engine made safe to show: printable, one line, cut short; None if empty."""
    if not isinstance(value, str):
        return None
    text = " ".join("".join(c for c in value if c.isprintable() or c.isspace()).split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text or None


def probe_allowed(box: Container) -> bool:
    """Whether an HTTP probe may knock on this container's port: not on a database's (known by
    its image, "postgres:16" or "bitnami/mysql", or by the port it listens on inside)."""
    if box.port in NOT_PROBED_PORTS:
        return False
    image = (box.image or "").rsplit("/", 1)[-1].split("@", 1)[0].split(":", 1)[0].lower()
    return image not in NOT_PROBED_IMAGES


def attach(servers: tuple[Server, ...], published: Sequence[Binding]) -> tuple[Server, ...]:
    """The servers with their containers filled in, plus a process-less server for each
    published port that nothing listens on. Returns `servers` itself when nothing applies."""
    if not published:
        return servers
    by_port: dict[int, list[Binding]] = {}
    for binding in published:
        by_port.setdefault(binding.port, []).append(binding)
    result: list[Server] = []
    covered: set[int] = set()
    for server in servers:
        match = _match(server, by_port.get(server.port, ()))
        if match is None:
            result.append(server)
        else:
            covered.add(server.port)
            result.append(dataclasses.replace(server, container=match.container))
    for port, group in by_port.items():
        if port not in covered:
            result.append(_unheld(port, group))
    result.sort(key=lambda s: (s.port, s.pid if s.pid is not None else -1))
    return tuple(result)


def _match(server: Server, candidates: Sequence[Binding]) -> Binding | None:
    """The binding a listener serves: one on the same address, else — when a proxy (or an
    owner nobody can see) holds the port — the port's only container."""
    if not candidates:
        return None
    addresses = {_canonical(a) for a in server.addresses}
    for binding in candidates:
        if binding.address in addresses:
            return binding
    proxied = server.process is None or server.name in PROXIES
    if proxied and len({b.container.id for b in candidates}) == 1:
        return candidates[0]
    return None


def _unheld(port: int, group: Sequence[Binding]) -> Server:
    """A published port with no listener: the engine forwards it in the kernel (NAT)."""
    first = group[0].container
    addresses = tuple(sorted({b.address for b in group if b.container.id == first.id}))
    return Server(port=port, addresses=addresses, pid=None, container=first)
