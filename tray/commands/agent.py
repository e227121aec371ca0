"""`porttray wait`, `who` and `free`: answers for scripts and coding agents.

`wait` polls the discovery engine itself (a netlink dump on Linux, about 0.2 ms), so it notices a
server within one poll interval without starting a process per try. `free` reads the same listener
table instead of test-binding ports: a bind test opens sockets (porttray never listens), races with
the caller's own bind just the same, and cannot see listeners that only block a wildcard bind.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
import time
from typing import Any

from tray import agent
from tray.discover import Engine, open_engine
from tray.model import Server
from tray.report import iso, server_json

logger = logging.getLogger(__name__)

POLL = 0.1
"""Seconds between two looks at the listener table while waiting."""
HTTP_EVERY = 0.25
"""Seconds between two HTTP checks of a server that listens but does not answer yet."""


def add_parsers(sub: argparse._SubParsersAction[Any]) -> None:
    """The `wait`, `who` and `free` grammars."""
    wait = sub.add_parser("wait", help="wait until something listens on a port or URL")
    wait.add_argument("target", metavar="PORT|URL", help="a port, or a URL on loopback")
    wait.add_argument("--timeout", type=_timeout, default=30.0, help="seconds (default 30)")
    wait.add_argument("--http", action="store_true", help="wait until it answers HTTP")
    who = sub.add_parser("who", help="which process listens on a port")
    who.add_argument("port", type=_port, metavar="PORT")
    who.add_argument("--json", action="store_true", help="print a JSON array")
    free = sub.add_parser("free", help="ports nothing listens on")
    free.add_argument("--from", dest="start", type=_port, default=8000, metavar="N")
    free.add_argument("-n", dest="count", type=_count, default=1, metavar="K")
    free.add_argument("--json", action="store_true", help="print a JSON array")
    sub.add_parser("mcp", help="serve porttray's tools to a coding agent (MCP over stdio)")


def _port(text: str) -> int:
    try:
        return agent.parse_port(text)
    except agent.TargetError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _count(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 1000:
        raise argparse.ArgumentTypeError(f"a count from 1 to 1000, not {text!r}")
    return int(text)


def _timeout(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 <= value <= 86400:
        raise argparse.ArgumentTypeError(f"timeout must be between 0 and 86400 s, got {text}")
    return value


def wait_for(
    engine: Engine, target: agent.Target, timeout: float, *, http: bool = False
) -> Server | None:
    """The server that reaches the target (and answers HTTP, if asked) within `timeout`."""
    deadline = time.monotonic() + timeout
    checked = -HTTP_EVERY
    while True:
        server = next((s for s in engine.scan().servers if agent.reaches(s, target)), None)
        now = time.monotonic()
        if server is not None and not http:
            return server
        if server is not None and now - checked >= HTTP_EVERY:
            checked = now
            if answers_http(server, target, deadline - now):
                return server
        if now >= deadline:
            return None
        time.sleep(min(POLL, max(0.0, deadline - now)))


def answers_http(server: Server, target: agent.Target, left: float) -> bool:
    """Whether the server at the target answers HTTP (or HTTPS) within `left` seconds."""
    from tray.identify.http_probe import probe

    host = target.host or server.host or "127.0.0.1"
    found = probe(host, server.port, budget=max(0.2, min(1.0, left)))
    return found.protocol in ("http", "https")


def run_wait(args: argparse.Namespace) -> int:
    """Exit 0 once the target listens (answers HTTP with --http), 1 on timeout, 2 on bad input."""
    try:
        target = agent.parse_target(args.target)
    except agent.TargetError as exc:
        print(f"porttray: {exc} (see porttray wait --help)", file=sys.stderr)
        return 2
    engine = open_engine(args.method)
    logger.info("waiting for %s with %s", args.target, engine.method)
    try:
        server = wait_for(engine, target, args.timeout, http=args.http)
    finally:
        engine.close()
    what = "answering HTTP" if args.http else "listening"
    if server is None:
        late = f"porttray: nothing {what} on {args.target} after {args.timeout:g} s"
        print(late, file=sys.stderr)
        return 1
    print(f"{args.target}: {what} ({_owner(server)})")
    return 0


def run_who(args: argparse.Namespace) -> int:
    """Who holds a port; exit 1 when nothing listens on it."""
    engine = open_engine(args.method)
    try:
        found = tuple(known(s) for s in agent.holders(engine.scan().servers, args.port))
    finally:
        engine.close()
    if args.json:
        print(json.dumps([json_of(s) for s in found], indent=2))
    else:
        for server in found:
            print(who_line(server))
    if not found:
        if not args.json:
            print(f"porttray: nothing listens on port {args.port}", file=sys.stderr)
        return 1
    return 0


def json_of(server: Server, label: str | None = None) -> dict[str, object]:
    """The `list --json` object of a server, with whether it is orphaned (None: unknown)."""
    from tray.orphans import orphaned

    return {**server_json(server, label), "orphaned": orphaned(server.pid)}


def known(server: Server) -> Server:
    """The server with what is known without probing it: its project and kind."""
    from tray.identify import kind_of, project_name

    proc = server.process
    if proc is None:
        return server
    identity = dataclasses.replace(
        server.identity,
        project=server.identity.project or project_name(proc.cwd),
        kind=server.identity.kind or kind_of(proc.name, proc.cmdline),
    )
    return dataclasses.replace(server, identity=identity)


def who_line(server: Server) -> str:
    """One line: port, addresses, process, pid, user, project, container, since when."""
    proc = server.process
    parts = [_owner(server)]
    if proc is not None and proc.user:
        parts.append(f"user {proc.user}")
    if server.identity.project:
        parts.append(f"project {server.identity.project}")
    container = getattr(server, "container", None)
    if container:
        parts.append(f"container {container}")
    if proc is not None and proc.started:
        parts.append(f"since {iso(proc.started)}")
    return f"port {server.port} on {', '.join(server.addresses)}: " + ", ".join(parts)


def _owner(server: Server) -> str:
    if server.pid is None:
        return "a process porttray cannot see (another user's?)"
    return f"{server.name or 'process'} (pid {server.pid})"


def run_free(args: argparse.Namespace) -> int:
    """K free ports at or above N; exit 1 when fewer are left below 65536."""
    engine = open_engine(args.method)
    try:
        used = {s.port for s in engine.scan().servers}
    finally:
        engine.close()
    ports = agent.free_ports(used, args.start, args.count)
    if args.json:
        print(json.dumps(list(ports)))
    else:
        print("\n".join(str(p) for p in ports))
    if len(ports) < args.count:
        print(f"porttray: only {len(ports)} free ports from {args.start}", file=sys.stderr)
        return 1
    return 0


def run_mcp(args: argparse.Namespace) -> int:
    """The MCP server, until the client closes stdin."""
    try:
        from tray import mcp_server
    except ImportError as exc:
        print(f"porttray: the mcp package is missing ({exc}); pip install mcp", file=sys.stderr)
        return 3
    return mcp_server.run(args.method)


COMMANDS = {"wait": run_wait, "who": run_who, "free": run_free, "mcp": run_mcp}
