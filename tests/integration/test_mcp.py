"""`porttray mcp` driven by the MCP SDK's own stdio client, as an agent drives it: real server
process, real listeners, a real orphan, another user's server, garbage and a client that leaves."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import psutil
import pytest

pytest.importorskip("mcp", reason="porttray mcp needs the mcp package (a dependency)")

import anyio
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from tests.conftest import wait_for
from tests.helpers.orphan import orphan_server
from tests.helpers.servers import child_listening, free_port, http_server, listener
from tests.helpers.users import OtherUser, is_root

ROOT = Path(__file__).resolve().parents[2]
PORTTRAY = [sys.executable, "-m", "tray", "mcp"]
TOOLS = {"list_servers", "server_info", "wait_for_server", "who_holds", "free_port", "stop_server"}


@asynccontextmanager
async def session() -> AsyncIterator[ClientSession]:
    env = {"PYTHONPATH": str(ROOT), "XDG_CONFIG_HOME": "/nonexistent"}
    params = StdioServerParameters(command=sys.executable, args=PORTTRAY[1:], cwd=ROOT, env=env)
    with open(os.devnull, "w") as errlog:
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write) as client,
        ):
            await client.initialize()
            yield client


def run(test: Callable[[ClientSession], Awaitable[None]]) -> None:
    async def main() -> None:
        async with session() as client:
            await test(client)

    anyio.run(main)


async def call(client: ClientSession, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    assert isinstance(result.structured_content, dict)
    return result.structured_content


async def error(client: ClientSession, tool: str, **arguments: Any) -> str:
    result = await client.call_tool(tool, arguments)
    assert result.is_error
    return " ".join(getattr(c, "text", "") for c in result.content)


def test_tools_answer_like_list_json(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text('{"name": "mcp-shop"}')
    with http_server(tmp_path) as (proc, port):

        async def check(client: ClientSession) -> None:
            assert {t.name for t in (await client.list_tools()).tools} == TOOLS
            listed = await call(client, "list_servers")
            (obj,) = [s for s in listed["servers"] if s["port"] == port]
            assert obj["pid"] == proc.pid and obj["project"] == "mcp-shop"
            assert obj["protocol"] == "http" and obj["orphaned"] is False
            assert {"url", "addresses", "cmdline", "cwd", "user", "started", "kind"} <= set(obj)
            (info,) = (await call(client, "server_info", port=port))["servers"]
            assert info["kind"] == "http.server" and info["protocol"] == "http"
            (who,) = (await call(client, "who_holds", port=port))["servers"]
            assert who["pid"] == proc.pid
            ports = (await call(client, "free_port", start=port, count=2))["ports"]
            assert len(ports) == 2 and port not in ports
            mcp_pid = _mcp_pid()
            connections = psutil.Process(mcp_pid).net_connections(kind="inet")
            assert not [c for c in connections if c.status == psutil.CONN_LISTEN]

        run(check)


def _mcp_pid() -> int:
    me = psutil.Process()
    (child,) = [c for c in me.children(recursive=True) if "mcp" in c.cmdline()]
    return child.pid


def test_wait_for_server_returns_when_a_server_listens() -> None:
    port = free_port()

    async def check(client: ClientSession) -> None:
        missing = await call(client, "wait_for_server", target=str(port), timeout=0.3)
        assert missing == {"ready": False, "server": None}
        with child_listening(["127.0.0.1"], port) as child:
            got = await call(client, "wait_for_server", target=f"http://127.0.0.1:{port}")
        assert got["ready"] is True and got["server"]["pid"] == child.pid

    run(check)


def test_bad_arguments_are_clear_errors_and_the_server_keeps_serving() -> None:
    async def check(client: ClientSession) -> None:
        assert "out of range" in await error(client, "who_holds", port=70000)
        assert "valid integer" in await error(client, "who_holds", port="abc")
        assert "not a loopback" in await error(client, "wait_for_server", target="example.com:80")
        assert "count" in await error(client, "free_port", count=0)
        assert "rm_rf" in await error(client, "rm_rf")
        assert (await call(client, "free_port", start=40000))["ports"]

    run(check)


def test_stop_server_needs_the_pid_unless_orphaned() -> None:
    with child_listening(["127.0.0.1"]) as child:

        async def check(client: ClientSession) -> None:
            guessed = await call(client, "stop_server", port=child.port)
            assert guessed["stopped"] == [] and "not orphaned" in guessed["refused"][0]
            wrong = await call(client, "stop_server", port=child.port, pid=child.pid + 100000)
            assert wrong["stopped"] == [] and "not pid" in wrong["refused"][0]
            assert child.proc.poll() is None
            named = await call(client, "stop_server", port=child.port, pid=child.pid)
            (stopped,) = named["stopped"]
            assert stopped["pid"] == child.pid and stopped["exited"] is True

        run(check)
        assert child.proc.wait(5) is not None


def test_stop_server_stops_an_orphan_by_port_alone() -> None:
    with orphan_server() as (port, pid):

        async def check(client: ClientSession) -> None:
            (who,) = (await call(client, "who_holds", port=port))["servers"]
            assert who["pid"] == pid and who["orphaned"] is True
            done = await call(client, "stop_server", port=port)
            (stopped,) = done["stopped"]
            assert stopped["pid"] == pid and stopped["exited"] is True

        run(check)
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == "zombie"


def test_stop_server_refuses_another_users_server(other_user: OtherUser) -> None:
    with other_user.listener() as (proc, port):

        async def check(client: ClientSession) -> None:
            pid = proc.pid if is_root() else None
            done = await call(client, "stop_server", port=port, pid=pid)
            assert done["stopped"] == [] and "not yours" in done["refused"][0]

        run(check)
        assert psutil.pid_exists(proc.pid)


def _raw() -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        PORTTRAY,
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def _send(proc: subprocess.Popen[bytes], obj: object) -> None:
    assert proc.stdin is not None
    proc.stdin.write(json.dumps(obj).encode() + b"\n")
    proc.stdin.flush()


def _reply(proc: subprocess.Popen[bytes], want_id: int, timeout: float = 20) -> dict[str, Any]:
    assert proc.stdout is not None
    while True:
        ready, _, _ = select.select([proc.stdout], [], [], timeout)
        assert ready, "the MCP server did not answer"
        message = json.loads(proc.stdout.readline())
        if message.get("id") == want_id:
            return dict(message)


INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "raw", "version": "0"},
    },
}


def _close(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait(5)
    for stream in (proc.stdin, proc.stdout):
        if stream is not None:
            stream.close()


def test_garbage_gets_errors_and_the_server_keeps_serving() -> None:
    proc = _raw()
    try:
        assert proc.stdin is not None
        proc.stdin.write(b'this is not json\n\xff\xfe\x00 binary\n{"jsonrpc": "2.0"}\n[]\n')
        proc.stdin.write(b'{"jsonrpc": "2.0", "id": 7, "method": "no/such/method"}\n')
        proc.stdin.flush()
        _send(proc, INIT)
        assert "result" in _reply(proc, 1)
        _send(proc, {"jsonrpc": "2.0", "method": "notifications/initialized"})
        _send(proc, {"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
        names = {t["name"] for t in _reply(proc, 2)["result"]["tools"]}
        assert names == TOOLS
        proc.stdin.close()
        assert proc.wait(10) == 0
    finally:
        _close(proc)


def test_a_client_leaving_mid_call_ends_the_server_cleanly() -> None:
    proc = _raw()
    try:
        _send(proc, INIT)
        assert "result" in _reply(proc, 1)
        _send(proc, {"jsonrpc": "2.0", "method": "notifications/initialized"})
        port = free_port()
        call = {"name": "wait_for_server", "arguments": {"target": str(port), "timeout": 60}}
        _send(proc, {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": call})
        assert proc.stdin is not None
        proc.stdin.close()  # gone while the wait is under way
        assert wait_for(lambda: proc.poll() is not None, 15), "the server outlived its client"
        assert proc.returncode == 0
    finally:
        _close(proc)


def test_a_listener_we_hold_is_seen_by_who_holds() -> None:
    with listener("::1") as sock:
        port = sock.getsockname()[1]

        async def check(client: ClientSession) -> None:
            (who,) = (await call(client, "who_holds", port=port))["servers"]
            assert who["pid"] == os.getpid() and who["addresses"] == ["::1"]

        run(check)


pytestmark = pytest.mark.timeout(120)
