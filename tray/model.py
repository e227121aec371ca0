"""The values porttray passes between its parts.

Everything here is frozen: a snapshot taken by the monitor thread can be handed to the tray, the
command line or a test without copying and without locks. Nothing here does I/O.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

Protocol = Literal["http", "https", "other"]
Key = tuple[int, int | None]
"""A server across snapshots: its port and its pid (None when the owner is unknown)."""


@dataclass(frozen=True, slots=True)
class Listener:
    """One listening TCP socket as the kernel reports it."""

    address: str
    """The bound address in its canonical text form ("127.0.0.1", "::", "::ffff:127.0.0.1")."""
    port: int
    """The local port."""
    inode: int
    """The socket's inode: what ties it to the process holding it."""
    uid: int | None = None
    """The socket's owner uid, when the backend reports it."""
    v6only: bool | None = None
    """For IPv6 wildcard binds: whether IPv4 is refused (None when the backend cannot tell)."""
    pid: int | None = None
    """The owning process, for backends that report it with the socket (psutil)."""


@dataclass(frozen=True, slots=True)
class ProcessInfo:
    """Details of one process, read once per (pid, start time)."""

    pid: int
    """The process id."""
    name: str | None = None
    """The short process name ("node", "python3")."""
    cmdline: tuple[str, ...] = ()
    """The command line, cut to a bounded length."""
    cwd: str | None = None
    """The working directory."""
    user: str | None = None
    """The owning user's name."""
    started: float | None = None
    """The start time, in seconds since the epoch."""


@dataclass(frozen=True, slots=True)
class Identity:
    """What a server is, as far as porttray could tell."""

    protocol: Protocol | None = None
    """"http", "https", "other", or None while not yet probed."""
    title: str | None = None
    """The page title at "/", decoded and cut short."""
    status: int | None = None
    """The HTTP status of the probe's last response, after redirects (`http_status` in JSON)."""
    server_header: str | None = None
    """That response's `Server` header, printable and cut short (`server_header` in JSON)."""
    project: str | None = None
    """The project the process runs in (package name or folder name)."""
    kind: str | None = None
    """What runs the server ("vite", "flask", "jupyter", ...)."""
    open_url: str | None = None
    """A better URL to open than the plain one (for example Jupyter's, with its token)."""


@dataclass(frozen=True, slots=True)
class Container:
    """The container behind a published port, as the container engine reports it."""

    id: str
    """The container's full id."""
    name: str
    """Its name, without the leading slash ("acme-web")."""
    image: str | None = None
    """The image it runs ("nginx:1.27")."""
    project: str | None = None
    """The Compose project (label com.docker.compose.project)."""
    service: str | None = None
    """The Compose service (label com.docker.compose.service)."""
    health: str | None = None
    """"healthy", "unhealthy", "starting", or None when it has no health check."""
    port: int | None = None
    """The container's own port that the published port leads to."""


@dataclass(frozen=True, slots=True)
class Server:
    """Everything one process listens on at one port: the unit porttray shows."""

    port: int
    """The TCP port."""
    addresses: tuple[str, ...]
    """Every address the process is bound to on this port, sorted."""
    pid: int | None
    """The owning process, or None when it cannot be seen."""
    process: ProcessInfo | None = None
    """Details of the owning process, when readable."""
    v6only: bool | None = None
    """Whether an IPv6 wildcard bind refuses IPv4 (None when unknown or not applicable)."""
    identity: Identity = field(default_factory=Identity)
    """What the server is (filled in after probing)."""
    container: Container | None = None
    """The container whose published port this is, when a container engine says so."""
    uid: int | None = None
    """The socket's owner uid as the kernel reports it (None when the backend cannot tell)."""
    owner: str | None = None
    """The login name of `uid`, or else of the owning process (None when unknown)."""

    @property
    def key(self) -> Key:
        """Identifies a server across snapshots: a new pid on a port is a new server."""
        return (self.port, self.pid)

    @property
    def exposed(self) -> bool:
        """Bound to a wildcard address, so reachable from the network too."""
        return any(is_wildcard(a) for a in self.addresses)

    @property
    def loopback(self) -> bool:
        """Reachable through a loopback address."""
        return self.host is not None

    @property
    def host(self) -> str | None:
        """The loopback address a client should connect to, or None when there is none."""
        return loopback_host(self.addresses, v6only=self.v6only)

    @property
    def url(self) -> str:
        """The plain http URL of the server on loopback."""
        return http_url(self.host or "127.0.0.1", self.port, "http")

    @property
    def name(self) -> str | None:
        """The process name, if known."""
        return self.process.name if self.process else None


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The listening servers at one moment."""

    servers: tuple[Server, ...]
    """Servers sorted by port, then pid."""
    method: str
    """How they were found ("netlink", "proc", "psutil")."""
    taken: float
    """When, in seconds since the epoch."""

    def by_key(self) -> dict[Key, Server]:
        """The servers indexed by `Server.key`."""
        return {s.key: s for s in self.servers}


@dataclass(frozen=True, slots=True)
class Opened:
    """A server started listening."""

    server: Server
    """The new server."""
    at: float
    """When it was seen first, in seconds since the epoch."""


@dataclass(frozen=True, slots=True)
class Closed:
    """A server stopped listening."""

    server: Server
    """The server as it was last seen."""
    at: float
    """When it was seen gone, in seconds since the epoch."""


@dataclass(frozen=True, slots=True)
class Restarted:
    """A server came back: the same program reopened its port from a new process."""

    server: Server
    """The server as it is now (its new pid)."""
    previous: Server
    """The server as it was last seen before the restart."""
    at: float
    """When it was seen back, in seconds since the epoch."""


Event = Opened | Closed | Restarted


def _parse(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return None


def _as_v4(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if isinstance(ip, ipaddress.IPv4Address):
        return ip
    return ip.ipv4_mapped


@lru_cache(maxsize=4096)
def is_wildcard(address: str) -> bool:
    """0.0.0.0, :: and ::ffff:0.0.0.0: every interface, the network included."""
    ip = _parse(address)
    if ip is None:
        return False
    v4 = _as_v4(ip)
    return (v4 is not None and int(v4) == 0) or (v4 is None and int(ip) == 0)


@lru_cache(maxsize=4096)
def is_loopback(address: str) -> bool:
    """127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104."""
    ip = _parse(address)
    if ip is None:
        return False
    v4 = _as_v4(ip)
    return v4.is_loopback if v4 is not None else ip.is_loopback


@lru_cache(maxsize=4096)
def loopback_host(addresses: tuple[str, ...], *, v6only: bool | None = None) -> str | None:
    """The loopback address to connect to, preferring 127.0.0.1, else another 127.x, else ::1."""
    v4: list[str] = []
    v6 = False
    for address in addresses:
        ip = _parse(address)
        if ip is None:
            continue
        mapped = _as_v4(ip)
        if mapped is not None and (mapped.is_loopback or int(mapped) == 0):
            v4.append("127.0.0.1" if int(mapped) == 0 else str(mapped))
        elif mapped is None and int(ip) == 0:
            v6 = True
            if not v6only:
                v4.append("127.0.0.1")
        elif mapped is None and ip.is_loopback:
            v6 = True
    if "127.0.0.1" in v4:
        return "127.0.0.1"
    if v4:
        return sorted(v4)[0]
    return "::1" if v6 else None


def http_url(host: str, port: int, scheme: str = "http") -> str:
    """A URL for host and port, with IPv6 literals in brackets."""
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}:{port}"
