"""Listening TCP sockets from /proc/net/tcp{,6}: the fallback when netlink is refused.

Reading these files walks the kernel's whole connection table, so it costs milliseconds even on a
quiet machine; porttray uses it only when a sock_diag netlink socket cannot be had (some sandboxes
and containers forbid it). The files cannot say whether an IPv6 wildcard socket is v6-only; such
sockets are taken as dual-stack, which is the Linux default.
"""

from __future__ import annotations

import logging
import socket
import sys
from pathlib import Path

from tray.model import Listener

logger = logging.getLogger(__name__)

_LISTEN = "0A"


class ProcNetError(ValueError):
    """A line of /proc/net/tcp{,6} could not be understood."""


def decode_address(text: str) -> tuple[str, int]:
    """`0100007F:1F90` (as the kernel prints it) → ("127.0.0.1", 8080)."""
    host, sep, port = text.partition(":")
    if not sep or len(host) not in (8, 32) or len(port) != 4:
        raise ProcNetError(f"not an address:port field: {text!r}")
    try:
        raw = bytes.fromhex(host)
        number = int(port, 16)
    except ValueError as exc:
        raise ProcNetError(f"not hexadecimal: {text!r}") from exc
    if sys.byteorder == "little":
        raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    family = socket.AF_INET if len(raw) == 4 else socket.AF_INET6
    return socket.inet_ntop(family, raw), number


def parse_line(line: str) -> Listener | None:
    """One socket line: a Listener when it is in LISTEN, None for other states."""
    fields = line.split()
    if len(fields) < 10:
        raise ProcNetError(f"expected at least 10 fields, got {len(fields)}: {line.strip()!r}")
    if fields[3] != _LISTEN:
        return None
    address, port = decode_address(fields[1])
    try:
        uid, inode = int(fields[7]), int(fields[9])
    except ValueError as exc:
        raise ProcNetError(f"uid or inode is not a number: {line.strip()!r}") from exc
    v6only = None
    return Listener(address=address, port=port, inode=inode, uid=uid, v6only=v6only)


def parse_table(text: str) -> tuple[list[Listener], list[str]]:
    """All listeners in one file's text, and a message for each line that could not be read."""
    listeners: list[Listener] = []
    problems: list[str] = []
    for number, line in enumerate(text.splitlines()[1:], start=2):
        if not line.strip():
            continue
        try:
            found = parse_line(line)
        except ProcNetError as exc:
            problems.append(f"line {number}: {exc}")
            continue
        if found is not None:
            listeners.append(found)
    return listeners, problems


class ProcNetSource:
    """Reads /proc/net/tcp and /proc/net/tcp6 on each poll."""

    method = "proc"

    def __init__(self, root: Path = Path("/proc/net")) -> None:
        self._files = (root / "tcp", root / "tcp6")
        self._reported: set[str] = set()

    def listeners(self) -> list[Listener]:
        """Every listening TCP socket; unreadable lines are skipped and reported once."""
        found: list[Listener] = []
        for path in self._files:
            try:
                text = path.read_text(encoding="ascii", errors="replace")
            except FileNotFoundError:
                continue  # no IPv6 on this kernel
            except OSError as exc:
                self._report(f"cannot read {path}: {exc.strerror}")
                continue
            listeners, problems = parse_table(text)
            found.extend(listeners)
            for problem in problems:
                self._report(f"{path} {problem}")
        return found

    def _report(self, message: str) -> None:
        if message not in self._reported:
            self._reported.add(message)
            logger.warning("skipping unreadable socket data: %s", message)

    def close(self) -> None:
        """Nothing to release."""
