"""identify() against real listeners: the probe, the project and the kind together; what it never
probes (no-probe processes, servers off loopback); what it keeps when a part fails.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers.probe_servers import (
    answer,
    bare_listener,
    connects,
    never_connected,
    response,
    serving,
    socket_events,
)
from tests.helpers.servers import free_port
from tray.config import parse
from tray.identify import identify
from tray.model import Identity, ProcessInfo, Server


def test_identify_combines_probe_project_and_kind(tmp_path: Path) -> None:
    (tmp_path / "shop" / "src").mkdir(parents=True)
    (tmp_path / "shop" / "package.json").write_text('{"name": "acme-shop"}', encoding="utf-8")
    with serving(answer(response(body=b"<title>Acme Shop</title>"))) as page:
        process = ProcessInfo(
            pid=os.getpid(),
            name="node",
            cmdline=("node", "/x/node_modules/.bin/vite", "--port", str(page.port)),
            cwd=str(tmp_path / "shop" / "src"),
        )
        server = Server(page.port, ("127.0.0.1",), os.getpid(), process)
        result = identify(server)
    assert result == Identity(
        protocol="http",
        status=200,
        server_header="test-server",
        title="Acme Shop",
        project="acme-shop",
        kind="vite",
    )


def test_identify_does_not_probe_a_no_probe_process() -> None:
    with bare_listener("127.0.0.1") as sock:
        port = sock.getsockname()[1]
        process = ProcessInfo(pid=os.getpid(), name="postgres", cmdline=("postgres", "-D", "/db"))
        with socket_events() as events:
            result = identify(Server(port, ("127.0.0.1",), os.getpid(), process))
        assert never_connected(sock)
    assert (result.protocol, result.kind) == ("other", "postgres")
    assert connects(events) == []


def test_identify_honours_a_custom_no_probe_list() -> None:
    with bare_listener("127.0.0.1") as sock:
        port = sock.getsockname()[1]
        process = ProcessInfo(pid=os.getpid(), name="MyDB.exe")
        result = identify(
            Server(port, ("127.0.0.1",), os.getpid(), process), config=parse('no_probe = ["mydb"]')
        )
        assert never_connected(sock)
    assert result.protocol == "other"


def test_identify_does_not_probe_a_server_off_loopback() -> None:
    with socket_events() as events:
        result = identify(Server(8080, ("192.0.2.1",), None))
    assert result == Identity(protocol="other")
    assert events == []


def test_identify_keeps_what_it_has_when_a_part_fails(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def broken(*args: object, **kwargs: object) -> Identity:
        raise RuntimeError("a bug in the probe")

    monkeypatch.setattr("tray.identify.http_probe.probe", broken)
    (tmp_path / "api").mkdir()
    process = ProcessInfo(
        pid=1, name="uvicorn", cmdline=("uvicorn", "main:app"), cwd=str(tmp_path / "api")
    )
    result = identify(Server(8000, ("127.0.0.1",), 1, process))
    assert result == Identity(project="api", kind="uvicorn")


def test_a_database_has_no_project_from_its_data_directory(tmp_path: Path) -> None:
    data = tmp_path / "main"
    data.mkdir()
    (data / "package.json").write_text('{"name": "not-a-project"}')
    process = ProcessInfo(pid=os.getpid(), name="postgres", cmdline=("postgres",), cwd=str(data))
    result = identify(Server(free_port(), ("127.0.0.1",), os.getpid(), process))
    assert (result.kind, result.project) == ("postgres", None)
