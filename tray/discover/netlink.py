"""Listening TCP sockets straight from the kernel, through NETLINK_SOCK_DIAG.

This is porttray's hot path on Linux. One netlink socket stays open for the life of the engine;
each poll asks for an inet_diag dump of TCP sockets in state LISTEN only, once for IPv4 and once
for IPv6. The kernel walks only its listening hash and sends only listeners, so a poll costs a
fraction of a millisecond however many processes and connections the machine has (see DISCOVERY in
the README).

The parser is pure (`parse_dump`) so it can be fed truncated or hostile bytes in tests; it raises
`NetlinkError` with a readable message rather than `struct.error` or `IndexError`.
"""

from __future__ import annotations

import errno
import os
import socket
import struct
from collections.abc import Iterator

from tray.model import Listener

NETLINK_SOCK_DIAG = 4
SOCK_DIAG_BY_FAMILY = 20
NLM_F_REQUEST = 0x1
NLM_F_DUMP = 0x300
NLMSG_ERROR = 2
NLMSG_DONE = 3
TCP_LISTEN = 10
INET_DIAG_SKV6ONLY = 11

_NLMSGHDR = struct.Struct("=IHHII")
_REQ = struct.Struct("=BBBBI48x")
_MSG_HEAD = struct.Struct("=BBBB")
_PORT = struct.Struct("!H")
_UID_INODE = struct.Struct("=II")
_RTA = struct.Struct("=HH")
_MSG_LEN = 72  # sizeof(struct inet_diag_msg)
_RECV_SIZE = 1 << 16


class NetlinkError(Exception):
    """The kernel refused the request, or its reply could not be understood."""


def build_request(family: int, seq: int) -> bytes:
    """An inet_diag_req_v2 dump request for TCP sockets in LISTEN of one address family."""
    body = _REQ.pack(family, socket.IPPROTO_TCP, 0, 0, 1 << TCP_LISTEN)
    header = _NLMSGHDR.pack(
        _NLMSGHDR.size + len(body), SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, seq, 0
    )
    return header + body


def parse_dump(data: bytes | memoryview) -> tuple[list[Listener], bool]:
    """Parse one datagram of a dump reply: the listeners in it, and whether NLMSG_DONE ended it."""
    view = memoryview(data)
    listeners: list[Listener] = []
    offset = 0
    while offset < len(view):
        if len(view) - offset < _NLMSGHDR.size:
            raise NetlinkError(f"truncated netlink header at byte {offset} of {len(view)}")
        length, kind, _flags, _seq, _pid = _NLMSGHDR.unpack_from(view, offset)
        if length < _NLMSGHDR.size or offset + length > len(view):
            raise NetlinkError(f"netlink message at byte {offset} claims {length} bytes")
        payload = view[offset + _NLMSGHDR.size : offset + length]
        if kind == NLMSG_DONE:
            return listeners, True
        if kind == NLMSG_ERROR:
            raise NetlinkError(_error_text(payload))
        if kind == SOCK_DIAG_BY_FAMILY:
            listeners.append(parse_message(payload))
        offset += (length + 3) & ~3
    return listeners, False


def parse_message(payload: memoryview | bytes) -> Listener:
    """One inet_diag_msg (and its attributes) as a Listener."""
    if len(payload) < _MSG_LEN:
        raise NetlinkError(f"inet_diag message of {len(payload)} bytes, expected {_MSG_LEN}")
    family = _MSG_HEAD.unpack_from(payload, 0)[0]
    (port,) = _PORT.unpack_from(payload, 4)
    if family == socket.AF_INET:
        address = socket.inet_ntop(socket.AF_INET, bytes(payload[8:12]))
    elif family == socket.AF_INET6:
        address = socket.inet_ntop(socket.AF_INET6, bytes(payload[8:24]))
    else:
        raise NetlinkError(f"inet_diag message of unknown address family {family}")
    uid, inode = _UID_INODE.unpack_from(payload, 64)
    v6only = None
    if family == socket.AF_INET6:
        v6only = _v6only(payload[_MSG_LEN:])
    return Listener(address=address, port=port, inode=inode, uid=uid, v6only=v6only)


def _v6only(attributes: memoryview | bytes) -> bool | None:
    for kind, value in _attributes(attributes):
        if kind == INET_DIAG_SKV6ONLY and len(value) >= 1:
            return bool(value[0])
    return None


def _attributes(data: memoryview | bytes) -> Iterator[tuple[int, memoryview | bytes]]:
    offset = 0
    while len(data) - offset >= _RTA.size:
        length, kind = _RTA.unpack_from(data, offset)
        if length < _RTA.size or offset + length > len(data):
            raise NetlinkError(f"netlink attribute at byte {offset} claims {length} bytes")
        yield kind, data[offset + _RTA.size : offset + length]
        offset += (length + 3) & ~3


def _error_text(payload: memoryview | bytes) -> str:
    if len(payload) < 4:
        return "netlink error message is truncated"
    (code,) = struct.unpack_from("=i", payload, 0)
    if code == 0:
        return "netlink acknowledged instead of answering the dump"
    return f"the kernel refused the socket dump: {os.strerror(-code)}"


class NetlinkSource:
    """A persistent NETLINK_SOCK_DIAG socket that dumps listening TCP sockets on demand."""

    method = "netlink"

    def __init__(self) -> None:
        try:
            self._sock = socket.socket(
                socket.AF_NETLINK, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC, NETLINK_SOCK_DIAG
            )
        except OSError as exc:
            raise NetlinkError(f"cannot open a sock_diag netlink socket: {exc.strerror}") from exc
        self._sock.settimeout(2.0)
        self._requests = {
            family: build_request(family, seq)
            for seq, family in enumerate((socket.AF_INET, socket.AF_INET6), start=1)
        }
        self._buffer = bytearray(_RECV_SIZE)
        self._parsed: dict[bytes, dict[bytes, tuple[list[Listener], bool]]] = {}
        """Per request, last dump's datagrams and their parse: while nothing changes the kernel
        sends the same bytes, and parsing them again is most of a scan's cost."""

    def listeners(self) -> list[Listener]:
        """Every listening TCP socket, IPv4 then IPv6."""
        found: list[Listener] = []
        for request in self._requests.values():
            found.extend(self._dump(request))
        return found

    def _dump(self, request: bytes) -> list[Listener]:
        try:
            self._sock.send(request)
            found: list[Listener] = []
            known, seen = self._parsed.get(request, {}), {}
            done = False
            while not done:
                size = self._sock.recv_into(self._buffer)
                datagram = bytes(self._buffer[:size])
                parsed = known.get(datagram) or parse_dump(datagram)
                seen[datagram] = parsed
                batch, done = parsed
                found.extend(batch)
            self._parsed[request] = seen
            return found
        except OSError as exc:
            reason = errno.errorcode.get(exc.errno or 0, str(exc))
            raise NetlinkError(f"netlink socket dump failed: {reason}") from exc
        except NetlinkError:
            self._drain()
            raise

    def _drain(self) -> None:
        """Drop what is left of a broken reply so the next dump starts clean."""
        self._sock.setblocking(False)
        try:
            while self._sock.recv_into(self._buffer):
                pass
        except OSError:
            pass
        finally:
            self._sock.settimeout(2.0)

    def close(self) -> None:
        """Close the netlink socket."""
        self._sock.close()
