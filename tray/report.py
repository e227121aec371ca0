"""Servers as text for the command line: a table, and JSON objects. Pure."""

from __future__ import annotations

import datetime as dt

from tray.model import Container, Identity, Server
from tray.naming import address, container_label, describe, project

JsonObject = dict[str, object]


def iso(timestamp: float | None) -> str | None:
    """Seconds since the epoch → local ISO 8601 with offset, to the millisecond."""
    if timestamp is None:
        return None
    moment = dt.datetime.fromtimestamp(timestamp, tz=dt.UTC).astimezone()
    return moment.isoformat(timespec="milliseconds")


def server_json(server: Server, label: str | None = None) -> JsonObject:
    """The stable JSON shape of a server for `list --json` and `watch --json`."""
    proc = server.process
    ident = server.identity
    return {
        "port": server.port,
        "url": address(server),
        "addresses": list(server.addresses),
        "exposed": server.exposed,
        "pid": server.pid,
        "process": proc.name if proc else None,
        "cmdline": list(proc.cmdline) if proc and proc.cmdline else None,
        "cwd": proc.cwd if proc else None,
        "user": proc.user if proc else None,
        "started": iso(proc.started) if proc else None,
        "protocol": ident.protocol,
        "title": ident.title,
        "project": project(server),
        "kind": ident.kind,
        "label": label,
        "container": container_json(server.container),
    }


def container_json(box: Container | None) -> JsonObject | None:
    """The `container` member of a server's JSON: null for servers not in a container."""
    if box is None:
        return None
    return {
        "id": box.id,
        "name": box.name,
        "image": box.image,
        "project": box.project,
        "service": box.service,
        "health": box.health,
        "port": box.port,
    }


def table(
    servers: tuple[Server, ...], labels: dict[tuple[int, int | None], str] | None = None
) -> str:
    """A plain aligned table, one server per row; exposed servers are marked."""
    header = ("PORT", "URL", "NAME", "PROCESS", "PID", "DIRECTORY", "")
    names = labels or {}
    rows = [header] + [_row(s, names.get(s.key)) for s in servers]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + row[-1]
        for row in rows
    ]
    return "\n".join(line.rstrip() for line in lines)


def _row(server: Server, label: str | None = None) -> tuple[str, ...]:
    proc = server.process
    return (
        str(server.port),
        address(server) if server.loopback else ", ".join(server.addresses),
        label or (describe(server) if _known(server.identity) or server.container else ""),
        (proc.name if proc else None) or "?",
        str(server.pid) if server.pid is not None else "?",
        (proc.cwd if proc else None) or "",
        "  ⚠ exposed" if server.exposed else "",
    )


def _known(identity: Identity) -> bool:
    """Whether anything beyond the process name is known (else NAME would repeat PROCESS)."""
    return bool(identity.title or identity.project or identity.kind)


def event_line(kind: str, server: Server, at: float) -> str:
    """One human line for `watch`."""
    proc = server.process
    who = container_label(server) or (proc.name if proc else None) or "unknown process"
    pid = f" (pid {server.pid})" if server.pid is not None else ""
    exposed = "  ⚠ exposed" if server.exposed else ""
    stamp = dt.datetime.fromtimestamp(at).strftime("%H:%M:%S")
    return f"{stamp} {kind:<6} {server.port:>5}  {server.url}  {who}{pid}{exposed}"
