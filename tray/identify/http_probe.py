"""Asking a loopback server what it is: one small, bounded HTTP/1.x exchange over plain TCP or TLS.

The client is written on raw sockets because the whole probe, redirects and TLS retry included,
must end by one monotonic deadline and read at most `max_bytes`; every socket operation gets the
time still left as its timeout. It connects to the loopback address it is given and nowhere else:
a redirect is followed only when it names that same server ("localhost", the same address, the same
port, or just a path), and then it reconnects to the address it already has.

The response is read as raw bytes up to the cap. A chunked body is de-chunked as far as it arrived,
so a title split across chunks is still found; reading stops early once the body is complete, the
title has ended, or the response is a redirect. Silence until the deadline says nothing about the
protocol (a dev server may be busy compiling), so it leaves `protocol` unknown; bytes that are not
HTTP make it "other".

TLS is tried when the plain reply hints at it. A server that only closed without a byte is sent a
ClientHello as bytes first (`tls_hello`): `ssl`, and OpenSSL with it, loads only for a server that
answers in TLS.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ssl

import dataclasses
import ipaddress
import logging
import socket
import time
from dataclasses import dataclass
from functools import cache
from urllib.parse import quote, urljoin, urlsplit

from tray import __version__
from tray.identify.http_parse import Response, clean, enough, parse, title_of
from tray.identify.tls_hello import client_hello, is_tls_record
from tray.model import Identity

logger = logging.getLogger(__name__)

USER_AGENT = f"porttray/{__version__}"
MAX_REDIRECTS = 3
HEADER_LIMIT = 200
_RECV = 16384


@dataclass(frozen=True, slots=True)
class _Reply:
    data: bytes
    """What the server sent, up to the cap."""
    timed_out: bool
    """Whether the deadline ended the reading (rather than the server, the cap or completeness)."""


@dataclass(frozen=True, slots=True)
class _Target:
    """The one server a probe may talk to, and until when."""

    ip: str
    port: int
    deadline: float
    limit: int

    def fetch(self, path: str, *, tls: bool) -> _Reply:
        """One request on a new connection; failing to connect or to shake hands raises OSError."""
        family = socket.AF_INET6 if ":" in self.ip else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as raw:
            raw.settimeout(_left(self.deadline))
            raw.connect((self.ip, self.port))
            if not tls:
                return self._exchange(raw, path)
            context = _tls_context()
            with context.wrap_socket(
                raw, server_hostname="localhost", do_handshake_on_connect=False
            ) as sock:
                sock.settimeout(_left(self.deadline))
                sock.do_handshake()
                return self._exchange(sock, path)

    def answers_tls(self) -> bool:
        """Whether a ClientHello gets a TLS record back; asked in bytes, so a server that is not
        TLS after all never costs the tray OpenSSL (see `tray.identify.tls_hello`)."""
        family = socket.AF_INET6 if ":" in self.ip else socket.AF_INET
        head = b""
        try:
            with socket.socket(family, socket.SOCK_STREAM) as raw:
                raw.settimeout(_left(self.deadline))
                raw.connect((self.ip, self.port))
                raw.settimeout(_left(self.deadline))
                raw.sendall(client_hello())
                while len(head) < 3:
                    raw.settimeout(_left(self.deadline))
                    chunk = raw.recv(3 - len(head))
                    if not chunk:
                        break
                    head += chunk
        except OSError:  # refused, reset, or no answer within the budget
            pass
        return is_tls_record(head)

    def _exchange(self, sock: socket.socket, path: str) -> _Reply:
        request = (
            f"GET {path} HTTP/1.1\r\nHost: localhost:{self.port}\r\nUser-Agent: {USER_AGENT}\r\n"
            "Accept: text/html,*/*;q=0.5\r\nConnection: close\r\n\r\n"
        )
        data = bytearray()
        try:
            sock.settimeout(_left(self.deadline))
            sock.sendall(request.encode("ascii"))
            while len(data) < self.limit:
                sock.settimeout(_left(self.deadline))
                chunk = sock.recv(min(_RECV, self.limit - len(data)))
                data += chunk
                if not chunk or enough(bytes(data), len(chunk)):
                    break
        except TimeoutError:
            return _Reply(bytes(data), timed_out=True)
        except OSError:
            pass  # reset or broken pipe: keep what arrived
        return _Reply(bytes(data), timed_out=False)


def probe(
    host: str,
    port: int,
    *,
    budget: float = 1.5,
    max_bytes: int = 65536,
    path: str = "/",
    tls_first: bool = False,
) -> Identity:
    """Protocol, status, `Server` header and page title of the server at a loopback host and port.

    `path` is what to ask for (Jupyter's token URL, so its title is not the login page's);
    `tls_first` starts with TLS, for a server already known to speak it.

    Raises ValueError for anything but a loopback IP address or a valid port, before any socket is
    made; never raises for what the server does.
    """
    ip = _loopback_ip(host)
    if not 0 < port < 65536:
        raise ValueError(f"not a TCP port: {port!r}")
    if not path.startswith("/") or any(c in path for c in " \r\n"):
        raise ValueError(f"not a request path: {path!r}")
    target = _Target(ip, port, time.monotonic() + budget, max_bytes)
    try:
        return _probe(target, path, tls_first=tls_first)
    except Exception:  # a reply no parser here foresaw must not reach the caller
        logger.debug("probing port %d: unreadable reply", port, exc_info=True)
        return Identity(protocol="other")


def _probe(target: _Target, path: str, *, tls_first: bool) -> Identity:
    if tls_first:  # with half the time, so a server no longer on TLS can still be asked plainly
        half = dataclasses.replace(target, deadline=(time.monotonic() + target.deadline) / 2)
        try:
            return _follow(half, half.fetch(path, tls=True), tls=True, path=path)
        except OSError:
            pass  # no longer TLS (a restart with other settings): ask in plain text
    try:
        reply = target.fetch(path, tls=False)
    except OSError:
        return Identity()  # refused, or no connection within the budget: nothing learned
    if not _hints_tls(reply):
        return _follow(target, reply, tls=False, path=path)
    if not reply.data and not target.answers_tls():
        return Identity(protocol="other")  # it closes on a ClientHello too: not TLS
    try:
        return _follow(target, target.fetch(path, tls=True), tls=True, path=path)
    except OSError:
        return Identity(protocol="other")


def _follow(target: _Target, reply: _Reply, *, tls: bool, path: str = "/") -> Identity:
    response = parse(reply.data)
    for _ in range(MAX_REDIRECTS):
        hop = _redirect(response, target, path, tls=tls) if response else None
        if hop is None:
            break
        try:
            reply = target.fetch(hop[0], tls=hop[1])
        except OSError:
            break
        (path, tls), response = hop, parse(reply.data)
    if response is None:
        return Identity(protocol=None if _maybe_http(reply) else "other")
    server = response.headers.get("server")
    return Identity(
        protocol="https" if tls else "http",
        status=response.status,
        server_header=clean(server, HEADER_LIMIT) if server else None,
        title=title_of(response) if 200 <= response.status < 300 else None,
    )


def _loopback_ip(host: str) -> str:
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"not a loopback address: {host!r}") from None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if not ip.is_loopback:
        raise ValueError(f"not a loopback address: {host!r}")
    return str(ip)


def _left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("probe budget spent")
    return left


def _maybe_http(reply: _Reply) -> bool:
    """Cut short by the deadline with nothing, or only the start of "HTTP/1.x"."""
    return reply.timed_out and b"HTTP/1."[: len(reply.data)] == reply.data[:7]


def _hints_tls(reply: _Reply) -> bool:
    """A TLS record back, a close without a byte, or a 400 complaining about HTTPS."""
    data = reply.data
    if is_tls_record(data):
        return True
    if not data:
        return not reply.timed_out
    response = parse(data)
    return response is not None and response.status == 400 and b"https" in data.lower()


def _redirect(
    response: Response, target: _Target, path: str, *, tls: bool
) -> tuple[str, bool] | None:
    """The path and TLS flag to request next, when the response redirects to this same server."""
    location = response.headers.get("location")
    if not location or not 300 <= response.status < 400:
        return None
    scheme = "https" if tls else "http"
    try:
        url = urlsplit(urljoin(f"{scheme}://localhost:{target.port}{path}", location))
        port = url.port or (443 if url.scheme == "https" else 80)
    except ValueError:
        return None
    if url.scheme not in ("http", "https") or port != target.port:
        return None
    if not _same_host(url.hostname or "", target.ip):
        return None
    next_path = (url.path or "/") + (f"?{url.query}" if url.query else "")
    return quote(next_path, safe="/%?=&;:@!$'()*+,-._~"), url.scheme == "https"


def _same_host(name: str, ip: str) -> bool:
    if name == "localhost":
        return True
    try:
        return _loopback_ip(name) == ip
    except ValueError:
        return False


@cache
def _tls_context() -> ssl.SSLContext:
    import ssl  # loaded on the first TLS probe only: most servers never need it

    """A client context that accepts any certificate: dev servers use self-signed ones."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(["http/1.1"])
    return context
