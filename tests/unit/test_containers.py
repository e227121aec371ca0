"""The pure parts of container support: the engine's list → bindings → servers, the socket's
location, the API version, and how containers are named and shown."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tray import menu
from tray.containers.client import negotiate, parse_version
from tray.containers.common import EngineError
from tray.containers.mapping import BadPayload, Binding, attach, bindings, clean, probe_allowed
from tray.containers.sockets import locate
from tray.model import Container, ProcessInfo, Server
from tray.naming import describe, label
from tray.report import event_line, server_json

WEB = Container("a" * 64, "acme-web", "shop-web:1", "shop", "web", "healthy", 80)
DB = Container("b" * 64, "db", "postgres", None, None, None, 5432)
PROXY = ProcessInfo(pid=50, name="docker-proxy", user="root")
NODE = ProcessInfo(pid=60, name="node", user="me")


def entry(ident: str = "a" * 64, **extra: object) -> dict[str, object]:
    base: dict[str, object] = {
        "Id": ident,
        "Names": ["/acme-web"],
        "Image": "shop-web:1",
        "Labels": {"com.docker.compose.project": "shop", "com.docker.compose.service": "web"},
        "Status": "Up 3 minutes (healthy)",
        "Ports": [{"IP": "127.0.0.1", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"}],
    }
    base.update(extra)
    return base


def test_bindings_of_a_compose_container() -> None:
    found, skipped = bindings([entry()])
    assert skipped == 0
    assert found == (Binding("127.0.0.1", 8080, WEB),)


@pytest.mark.parametrize(
    ("ports", "expected"),
    [
        ([{"PrivatePort": 80, "Type": "tcp"}], []),  # exposed but not published
        ([{"IP": "0.0.0.0", "PrivatePort": 53, "PublicPort": 53, "Type": "udp"}], []),
        ([{"IP": "", "PrivatePort": 80, "PublicPort": 81}], [("0.0.0.0", 81, 80)]),
        ([{"IP": "::", "PrivatePort": 80, "PublicPort": 82, "Type": "tcp"}], [("::", 82, 80)]),
        ([{"IP": "::ffff:127.0.0.1", "PrivatePort": 1, "PublicPort": 83}], [("127.0.0.1", 83, 1)]),
        ([{"IP": "not-an-ip", "PrivatePort": 80, "PublicPort": 84}], []),
        ([{"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 70000}], []),
        ([{"IP": "0.0.0.0", "PrivatePort": "80", "PublicPort": True}], []),
        ([{"IP": "0.0.0.0", "PrivatePort": None, "PublicPort": 85}], [("0.0.0.0", 85, None)]),
        (["garbage", 7, None], []),
    ],
)
def test_bindings_of_odd_ports(ports: list[object], expected: list[tuple[str, int, int]]) -> None:
    found, skipped = bindings([entry(Ports=ports)])
    assert skipped == 0
    assert [(b.address, b.port, b.container.port) for b in found] == expected


@pytest.mark.parametrize(
    "bad",
    [
        "text",
        7,
        {"Id": "x", "Ports": "no"},
        {"Ports": []},
        {"Id": "", "Ports": []},
        {"Id": 5, "Ports": []},
    ],
)
def test_malformed_entries_are_skipped_and_counted(bad: object) -> None:
    found, skipped = bindings([bad, entry()])
    assert skipped == 1
    assert found == (Binding("127.0.0.1", 8080, WEB),)


@pytest.mark.parametrize("payload", [{}, "x", None, 3])
def test_a_payload_that_is_no_list_is_an_error(payload: object) -> None:
    with pytest.raises(BadPayload):
        bindings(payload)


@pytest.mark.parametrize(
    ("fields", "health"),
    [
        ({"Status": "Up 2 seconds (health: starting)"}, "starting"),
        ({"Status": "Up 2 minutes (unhealthy)"}, "unhealthy"),
        ({"Status": "Up 2 minutes"}, None),
        ({"Status": 5}, None),
        ({"Health": {"Status": "healthy"}, "Status": "Up"}, "healthy"),
        ({"Health": {"Status": "none"}, "Status": "Up (healthy)"}, None),
    ],
)
def test_health(fields: dict[str, object], health: str | None) -> None:
    found, _ = bindings([{**entry(), **fields}])
    assert found[0].container.health == health


def test_hostile_names_and_labels_are_cleaned() -> None:
    found, _ = bindings(
        [entry(Names=["/evil\x1b[31m\nname" + "x" * 200], Labels={"com.docker.compose.project": 7})]
    )
    box = found[0].container
    assert "\x1b" not in box.name and "\n" not in box.name
    assert len(box.name) <= 80 and box.name.endswith("…")
    assert box.project is None
    assert clean("  \t ") is None


def test_a_container_without_names_is_called_by_its_short_id() -> None:
    found, _ = bindings([entry(Names=[])])
    assert found[0].container.name == "a" * 12


def server(port: int, addresses: tuple[str, ...], proc: ProcessInfo | None) -> Server:
    return Server(port, addresses, proc.pid if proc else None, process=proc)


P8080 = Binding("127.0.0.1", 8080, WEB)
ATTACH_CASES = [
    # (servers, bindings, expected (port, pid, container name) rows)
    ([server(8080, ("127.0.0.1",), PROXY)], [P8080], [(8080, 50, "acme-web")]),
    ([server(8080, ("127.0.0.1",), None)], [P8080], [(8080, None, "acme-web")]),
    ([server(8080, ("0.0.0.0",), PROXY)], [P8080], [(8080, 50, "acme-web")]),  # rootlesskit
    (  # another program's port (the engine forwards 127.0.0.1:8080 in the kernel)
        [server(8080, ("0.0.0.0",), NODE)],
        [P8080],
        [(8080, None, "acme-web"), (8080, 60, None)],
    ),
    ([server(8080, ("127.0.0.1",), NODE)], [P8080], [(8080, 60, "acme-web")]),  # same address
    ([], [P8080], [(8080, None, "acme-web")]),  # NAT: nothing listens
    ([server(3000, ("127.0.0.1",), NODE)], [], [(3000, 60, None)]),
    (
        [server(8080, ("0.0.0.0",), PROXY)],
        [Binding("0.0.0.0", 8080, WEB), Binding("::", 8080, WEB)],
        [(8080, 50, "acme-web")],  # the v6 binding's proxy failed: no phantom server
    ),
    (
        [server(8080, ("::",), None)],
        [Binding("0.0.0.0", 8080, WEB), Binding("0.0.0.0", 8080, DB)],
        [(8080, None, None), (8080, None, "acme-web")],  # ambiguous: not guessed
    ),
]


@pytest.mark.parametrize(("servers", "published", "expected"), ATTACH_CASES)
def test_attach(
    servers: list[Server], published: list[Binding], expected: list[tuple[int, int, str]]
) -> None:
    result = attach(tuple(servers), published)
    rows = [(s.port, s.pid, s.container.name if s.container else None) for s in result]
    assert rows == expected


def test_attach_without_containers_returns_the_same_tuple() -> None:
    servers = (server(3000, ("127.0.0.1",), NODE),)
    assert attach(servers, ()) is servers


def test_a_nat_server_is_reachable_and_exposed_as_published() -> None:
    (nat,) = attach((), [Binding("0.0.0.0", 9000, DB), Binding("::", 9000, DB)])
    assert nat.process is None and nat.pid is None
    assert nat.addresses == ("0.0.0.0", "::")
    assert nat.exposed and nat.loopback and nat.url == "http://127.0.0.1:9000"


def test_names_in_labels_json_and_watch_lines() -> None:
    boxed = Server(8080, ("127.0.0.1",), 50, process=PROXY, container=WEB)
    assert describe(boxed) == "acme-web (shop/web)"
    assert label(boxed) == ":8080  acme-web (shop/web)"
    assert describe(Server(5432, ("0.0.0.0",), None, container=DB)) == "db"
    assert "acme-web (shop/web)" in event_line("opened", boxed, 0.0)
    obj = server_json(boxed)
    assert obj["project"] == "shop"
    assert obj["container"] == {
        "id": "a" * 64,
        "name": "acme-web",
        "image": "shop-web:1",
        "project": "shop",
        "service": "web",
        "health": "healthy",
        "port": 80,
    }
    assert json.loads(json.dumps(obj))["process"] == "docker-proxy"


def test_the_menu_stops_the_container_not_its_proxy() -> None:
    boxed = Server(8080, ("127.0.0.1",), 50, process=PROXY, container=WEB)
    items = menu.manage_items(boxed, "me", stopping=False)
    (stop,) = [i for i in items if i.label == "Stop server"]
    assert [c.label for c in stop.children] == ["Yes, stop container acme-web"]
    assert stop.children[0].action == menu.Action("stop", server=(8080, 50))
    plain = menu.manage_items(Server(8080, ("127.0.0.1",), 50, process=PROXY), "me", stopping=False)
    assert not [i for i in plain if i.label == "Stop server"]  # root's proxy: not ours


@pytest.mark.parametrize(
    ("image", "port", "allowed"),
    [
        ("postgres:16-alpine", 5432, False),
        ("bitnami/mysql:8", 3306, False),
        ("docker.io/library/redis@sha256:abc", 6380, False),
        ("my-api", 5432, False),
        ("nginx:1.27", 80, True),
        (None, None, True),
    ],
)
def test_databases_in_containers_are_not_probed(
    image: str | None, port: int | None, allowed: bool
) -> None:
    assert probe_allowed(Container("x", "x", image=image, port=port)) is allowed


@pytest.mark.parametrize(
    ("text", "parsed"),
    [("1.43", (1, 43)), ("1.4", (1, 4)), ("2.0", (2, 0)), ("x", None), ("1.", None), (5, None)],
)
def test_parse_version(text: object, parsed: tuple[int, int] | None) -> None:
    assert parse_version(text) == parsed


@pytest.mark.parametrize(
    ("server", "minimum", "chosen"),
    [
        ("1.41", "1.12", (1, 41)),
        ("1.51", "1.24", (1, 43)),
        ("9.0", "1.44", (1, 44)),
        ("1.24", None, (1, 24)),
    ],
)
def test_negotiate(server: str, minimum: str | None, chosen: tuple[int, int]) -> None:
    assert negotiate(server, minimum) == chosen


@pytest.mark.parametrize("server", ["1.23", "banana", None, "1.x"])
def test_negotiate_refuses(server: object) -> None:
    with pytest.raises(EngineError):
        negotiate(server)


def test_locate_order(tmp_path: Path) -> None:
    sock = tmp_path / "run" / "docker.sock"
    env = {"XDG_RUNTIME_DIR": str(tmp_path / "run")}
    assert locate(env, tmp_path).path is None or locate(env, tmp_path).source == "default"
    assert locate({"DOCKER_HOST": "unix:///x/d.sock"}, tmp_path).path == "/x/d.sock"
    tcp = locate({"DOCKER_HOST": "tcp://10.0.0.1:2375"}, tmp_path)
    assert tcp.path is None and tcp.problem and "tcp://" in tcp.problem
    sock.parent.mkdir()
    import socket

    with socket.socket(socket.AF_UNIX) as listening:
        listening.bind(str(sock))
        found = locate(env, tmp_path)
        if found.path != "/var/run/docker.sock":  # a machine-wide engine comes first
            assert found.path == str(sock)


def test_locate_the_active_context(tmp_path: Path) -> None:
    docker = tmp_path / ".docker"
    meta = docker / "contexts" / "meta" / hashlib.sha256(b"shop").hexdigest()
    meta.mkdir(parents=True)
    (docker / "config.json").write_text(json.dumps({"currentContext": "shop"}))
    endpoint = {"Name": "shop", "Endpoints": {"docker": {"Host": "unix:///srv/shop.sock"}}}
    (meta / "meta.json").write_text(json.dumps(endpoint))
    assert locate({}, tmp_path).path == "/srv/shop.sock"
    assert locate({}, tmp_path).source == "context shop"
    assert locate({"DOCKER_HOST": "unix:///a.sock"}, tmp_path).path == "/a.sock"
    other = locate({"DOCKER_CONTEXT": "gone"}, tmp_path)
    assert other.path is None and other.problem
    (meta / "meta.json").write_text("{garbage")
    assert locate({}, tmp_path).problem is not None
    (docker / "config.json").write_text(json.dumps({"currentContext": "default"}))
    assert locate({}, tmp_path).source == "default"
