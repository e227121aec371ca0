"""The pure part of `wait`, `who` and `free`: what a target is, which server reaches it, which
ports are free. Shared by the command line and the MCP server.

Targets are loopback only: porttray talks to nothing else, so `wait http://example.com` is a usage
error rather than a probe of someone else's machine.
"""

from __future__ import annotations

import ipaddress
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass

from tray.model import Server, is_loopback

MAX_PORT = 65535
LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


class TargetError(ValueError):
    """A port or URL porttray will not wait for, with a sentence saying why."""


@dataclass(frozen=True, slots=True)
class Target:
    """Where to wait: a port, on a loopback host when a URL named one."""

    port: int
    """The TCP port."""
    host: str | None = None
    """A loopback IP ("127.0.0.1", "::1"), or None for any loopback address."""
    scheme: str = "http"
    """The URL's scheme, for the HTTP check."""


def parse_port(text: str) -> int:
    """A TCP port from text, or TargetError."""
    try:
        port = int(text.strip(), 10)
    except ValueError:
        raise TargetError(f"not a port number: {text!r}") from None
    if not 1 <= port <= MAX_PORT:
        raise TargetError(f"port out of range (1-{MAX_PORT}): {port}")
    return port


def parse_target(text: str) -> Target:
    """PORT, :PORT, HOST:PORT or a URL on loopback → Target; anything else → TargetError."""
    text = text.strip()
    if text.lstrip(":").isdigit():
        return Target(parse_port(text.lstrip(":")))
    parsed = urllib.parse.urlsplit(text if "//" in text else f"http://{text}")
    if parsed.scheme not in ("http", "https"):
        raise TargetError(f"not an http or https URL: {text!r}")
    try:
        port = parsed.port
    except ValueError:
        raise TargetError(f"port out of range (1-{MAX_PORT}) in {text!r}") from None
    host = _loopback(parsed.hostname or "", text)
    if port is None:
        port = 443 if parsed.scheme == "https" else 80
    return Target(parse_port(str(port)), host, parsed.scheme)


def _loopback(host: str, text: str) -> str | None:
    if host.lower() in LOCAL_NAMES:
        return None  # localhost may resolve to either loopback address
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        raise TargetError(f"not a loopback address: {host or text!r}") from None
    if not is_loopback(str(ip)):
        raise TargetError(f"not a loopback address: {host}")
    return str(ip)


def reaches(server: Server, target: Target) -> bool:
    """Whether a connection to the target would reach this server."""
    if server.port != target.port:
        return False
    if target.host is None:
        return server.loopback
    if ":" in target.host:  # ::1: only an IPv6 socket on ::1 or :: takes it
        return any(a in ("::1", "::") for a in server.addresses)
    for address in server.addresses:
        if address in (target.host, f"::ffff:{target.host}", "0.0.0.0", "::ffff:0.0.0.0"):
            return True
        if address == "::" and not server.v6only:
            return True  # a dual-stack wildcard takes IPv4 too
    return False


def holders(servers: Iterable[Server], port: int) -> tuple[Server, ...]:
    """Every server on a port, whatever address it is bound to."""
    return tuple(s for s in servers if s.port == port)


def free_ports(used: Iterable[int], start: int, count: int) -> tuple[int, ...]:
    """The first `count` ports at or above `start` that no listener holds on any address.

    A listener on any address counts: one on 127.0.0.1 blocks a bind on the wildcard, and one on
    the wildcard (or another interface) blocks a wildcard bind too, so a port is offered only when
    127.0.0.1, ::1, 0.0.0.0 and :: are all free.
    """
    taken = set(used)
    found: list[int] = []
    port = start
    while len(found) < count and port <= MAX_PORT:
        if port not in taken:
            found.append(port)
        port += 1
    return tuple(found)
