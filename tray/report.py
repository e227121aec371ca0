"""Servers as text for the command line: a table, and JSON objects. Pure."""

from __future__ import annotations

import datetime as dt

from tray import fit
from tray.model import Container, Identity, Server
from tray.naming import address, container_label, describe, project
from tray.text import printable, valid

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
    return _valid(
        {
            "port": server.port,
            "url": address(server),
            "addresses": list(server.addresses),
            "exposed": server.exposed,
            "pid": server.pid,
            "process": proc.name if proc else None,
            "cmdline": list(proc.cmdline) if proc and proc.cmdline else None,
            "cwd": proc.cwd if proc else None,
            "user": (proc.user if proc else None) or server.owner,
            "uid": server.uid,
            "started": iso(proc.started) if proc else None,
            "protocol": ident.protocol,
            "title": ident.title,
            "http_status": ident.status,
            "server_header": ident.server_header,
            "project": project(server),
            "kind": ident.kind,
            "label": label,
            "container": container_json(server.container),
        }
    )


def _valid(value: object) -> JsonObject:
    """Every string made encodable (names and paths that are not UTF-8 carry lone surrogates)."""
    out = _fix(value)
    assert isinstance(out, dict)
    return out


def _fix(value: object) -> object:
    if isinstance(value, str):
        return valid(value)
    if isinstance(value, list):
        return [_fix(v) for v in value]
    if isinstance(value, dict):
        return {k: _fix(v) for k, v in value.items()}
    return value


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
    servers: tuple[Server, ...],
    labels: dict[tuple[int, int | None], str] | None = None,
    *,
    width: int | None = None,
    home: str | None = None,
    probed: bool = False,
) -> str:
    """An aligned table, one server per row, fitted to `width` columns (None: everything in
    full); paths under `home` start with "~"; exposed servers are marked. With `probed`, a server
    that has not answered its probe is "starting"."""
    header = ("PORT", "URL", "NAME", "PROCESS", "PID", "DIRECTORY", "")
    names = labels or {}
    rows = [header] + [_row(s, names.get(s.key), home, probed=probed) for s in servers]
    lines = fit.fit(rows, width, _SHRINK)
    if width is not None and max(len(line) for line in lines) > width:
        rows = [(*row[:-1], row[-1].replace(" exposed", "")) for row in rows]  # just "⚠"
        lines = fit.fit(rows, width, _SHRINK)
    return "\n".join(lines)


_SHRINK = (
    fit.Shrink(5, 12, "start"),  # DIRECTORY
    fit.Shrink(2, 16),  # NAME
    fit.Shrink(3, 8),  # PROCESS
    fit.Shrink(1, 22),  # URL
)
"""The order columns give way in, and how far."""


def _row(server: Server, label: str | None, home: str | None, *, probed: bool) -> tuple[str, ...]:
    proc = server.process
    known = _known(server.identity) or server.container is not None
    name = describe(server, title_limit=200) if known else ""  # fit cuts it
    if probed and server.identity.protocol is None and server.loopback:
        name = f"starting ({name})" if name else "starting"
    return (
        str(server.port),
        address(server) if server.loopback else ", ".join(server.addresses),
        printable(label, 80) or name,
        printable(proc.name if proc else None, 64)
        or (f"({printable(server.owner, 32)})" if server.owner else "?"),
        str(server.pid) if server.pid is not None else "?",
        fit.home_short(printable(proc.cwd if proc else None, None), home),
        "⚠ exposed" if server.exposed else "",
    )


def _known(identity: Identity) -> bool:
    """Whether anything beyond the process name is known (else NAME would repeat PROCESS)."""
    return bool(identity.title or identity.project or identity.kind)


def event_line(kind: str, server: Server, at: float) -> str:
    """One human line for `watch`."""
    proc = server.process
    who = printable(container_label(server) or (proc.name if proc else None), 96)
    who = who or "unknown process"
    pid = f" (pid {server.pid})" if server.pid is not None else ""
    exposed = "  ⚠ exposed" if server.exposed else ""
    stamp = dt.datetime.fromtimestamp(at).strftime("%H:%M:%S")
    return f"{stamp} {kind:<6} {server.port:>5}  {server.url}  {who}{pid}{exposed}"
