"""`porttray mcp`: the local servers as Model Context Protocol tools, over stdio.

A coding agent asks which servers run, waits for one it started, finds a free port, and stops a
server without `pkill node`. Results have the shape of `porttray list --json` (plus `orphaned`).
The server speaks only on its stdin and stdout and opens no listening socket; the only network
traffic is the same bounded loopback probe `list` makes.

stop_server keeps every safety of the tray's Stop: only the user's own processes, and the pid and
start time are checked again just before the signal. By default it stops only a server that is
orphaned (its launcher gone, see `tray.orphans`); any other it stops only when the agent names
both the port and the pid, so a guessed port alone never kills the wrong program.
"""

from __future__ import annotations

import getpass
import threading
from typing import Any

import anyio
from mcp.server.mcpserver.exceptions import ToolError

from tray import agent, rules, stopping
from tray.commands.agent import HTTP_EVERY, POLL, answers_http, json_of, known
from tray.config import Config
from tray.discover import Engine, open_engine
from tray.model import Server

MAX_WAIT = 600.0
"""The longest wait_for_server accepts, in seconds."""
STOP_WAIT = 3.0
"""Seconds stop_server waits to see the process exit before it answers."""

Obj = dict[str, Any]


class Tools:
    """The tools' bodies, with one discovery engine shared by every call (under a lock)."""

    def __init__(self, engine: Engine, settings: Config) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self._settings = settings
        self._user = getpass.getuser()

    def scan(self) -> tuple[Server, ...]:
        """Every listening server now (calls may come from several threads)."""
        with self._lock:
            return self._engine.scan().servers

    def list_servers(self, include_all: bool = False) -> Obj:
        """The local servers, as `porttray list --json` shows them."""
        from tray.identify_many import identify_all

        servers = self.scan()
        if not include_all:
            servers = tuple(s for s in servers if rules.shown(self._settings, s, self._user))
        return {"servers": [self._json(s) for s in identify_all(servers, self._settings)]}

    def server_info(self, port: int) -> Obj:
        """Everything known about the servers on one port, probed."""
        from tray.identify_many import identify_all

        found = agent.holders(self.scan(), _port(port))
        return {"servers": [self._json(s) for s in identify_all(found, self._settings)]}

    def who_holds(self, port: int) -> Obj:
        """Which processes hold a port (not probed: quick)."""
        return {"servers": [self._json(known(s)) for s in agent.holders(self.scan(), _port(port))]}

    def free_port(self, start: int = 8000, count: int = 1) -> Obj:
        """Ports at or above `start` that nothing listens on, on any address."""
        if not 1 <= count <= 1000:
            raise ToolError(f"count must be between 1 and 1000, got {count}")
        used = {s.port for s in self.scan()}
        return {"ports": list(agent.free_ports(used, _port(start), count))}

    async def wait_for_server(self, target: str, timeout: float = 30.0, http: bool = False) -> Obj:
        """Wait until something listens on a loopback port or URL (answers HTTP, with `http`)."""
        try:
            where = agent.parse_target(target)
        except agent.TargetError as exc:
            raise ToolError(str(exc)) from None
        if not 0 <= timeout <= MAX_WAIT:
            raise ToolError(f"timeout must be between 0 and {MAX_WAIT:g} s, got {timeout}")
        with anyio.move_on_after(timeout):
            while True:
                server = next((s for s in self.scan() if agent.reaches(s, where)), None)
                if server is not None and not http:
                    return {"ready": True, "server": self._json(known(server))}
                if server is not None and await anyio.to_thread.run_sync(
                    answers_http, server, where, 1.0
                ):
                    return {"ready": True, "server": self._json(known(server))}
                await anyio.sleep(HTTP_EVERY if server is not None else POLL)
        return {"ready": False, "server": None}

    async def stop_server(self, port: int, pid: int | None = None, force: bool = False) -> Obj:
        """Stop the server on `port`: an orphaned one, or the one whose `pid` is named too."""
        held = agent.holders(self.scan(), _port(port))
        if not held:
            return {"stopped": [], "refused": [f"nothing listens on port {port}"]}
        chosen, refused = self._choose(held, pid)
        stopped: list[Obj] = []
        for server in chosen:
            assert server.pid is not None
            started = server.process.started if server.process else None
            result = stopping.stop(server.pid, started, force=force)
            if not result.ok:
                refused.append(result.message)
                continue
            with anyio.move_on_after(STOP_WAIT):
                while stopping.alive(server.pid, started):
                    await anyio.sleep(POLL)
            exited = not stopping.alive(server.pid, started)
            stopped.append({**self._json(server), "message": result.message, "exited": exited})
        return {"stopped": stopped, "refused": refused}

    def _choose(self, held: tuple[Server, ...], pid: int | None) -> tuple[list[Server], list[str]]:
        """The servers stop_server may signal, and why each other one is refused."""
        chosen: list[Server] = []
        refused: list[str] = []
        for server in held:
            what = f"pid {server.pid}" if server.pid is not None else "an unseen process"
            proc = server.process
            if pid is not None and server.pid != pid:
                refused.append(f"{what} holds port {server.port}, not pid {pid}")
            elif not stopping.may_stop(server.pid, proc.user if proc else None):
                refused.append(f"{what} on port {server.port} is not yours; nothing sent")
            elif pid is None and not _orphaned(server):
                refused.append(
                    f"{what} on port {server.port} is not orphaned: name its pid to stop it"
                )
            else:
                chosen.append(server)
        return chosen, refused

    def _json(self, server: Server) -> Obj:
        return json_of(server, rules.label_of(self._settings, server))


def _orphaned(server: Server) -> bool:
    from tray.orphans import orphaned

    return orphaned(server.pid) is True


def _port(port: int) -> int:
    if not 1 <= port <= agent.MAX_PORT:
        raise ToolError(f"port out of range (1-{agent.MAX_PORT}): {port}")
    return port


def build(tools: Tools) -> Any:
    """The MCP server with porttray's tools registered."""
    from mcp.server.mcpserver import MCPServer

    from tray import __version__

    server = MCPServer(
        "porttray",
        version=__version__,
        instructions=(
            "Local TCP servers on this machine (dev servers, databases), by port. Use who_holds or "
            "free_port before starting a server, wait_for_server after starting one, and "
            "stop_server instead of kill/pkill: it stops only your own processes, and only an "
            "orphaned one unless you give its pid."
        ),
        log_level="WARNING",
    )
    for tool in (
        tools.list_servers,
        tools.server_info,
        tools.who_holds,
        tools.free_port,
        tools.wait_for_server,
        tools.stop_server,
    ):
        server.add_tool(tool)
    return server


def run(method: str | None = None) -> int:
    """Serve over stdio until the client closes stdin."""
    from tray.commands.common import load_settings

    engine = open_engine(method)
    try:
        build(Tools(engine, load_settings())).run("stdio")
    except KeyboardInterrupt:
        pass
    finally:
        engine.close()
    return 0
