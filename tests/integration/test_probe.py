"""The probe against real servers on loopback: well-behaved and redirecting ones, and where it never
connects. Servers run in threads of the test (see tests/helpers/probe_servers.py) or as child
processes; the hostile and TLS-only servers are in test_probe_hostile.py.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.helpers.probe_servers import (
    ThreadServer,
    answer,
    bare_listener,
    connects,
    never_connected,
    read_request,
    response,
    routes,
    serving,
    socket_events,
    timed,
    wait_gone,
)
from tests.helpers.servers import free_port, http_server
from tray import __version__
from tray.identify.http_probe import probe
from tray.model import Identity

# -- well-behaved servers ----------------------------------------------------------------------

TITLES = [
    (
        "text/html; charset=ISO-8859-1",
        "<title>Caf\xe9 cr\xe8me</title>".encode("latin-1"),
        "Café crème",
    ),
    ("text/html", '<meta charset="utf-8"><title>Café ☕</title>'.encode(), "Café ☕"),
    ("text/html; charset=utf-8", "<title>Café ☕</title>".encode(), "Café ☕"),
    (
        "text/html",
        b'<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">'
        b"<title>\x93quoted\x94</title>",
        "“quoted”",
    ),
    (
        "text/html",
        b"<title>Tom &amp; Jerry &lt;3 &#233;t&eacute;&nbsp;x</title>",
        "Tom & Jerry <3 été x",
    ),
    ("text/html", b"<title>\n   Hello \t\n   world  \n</title>", "Hello world"),
    ("text/html", b'<TITLE lang="en">Upper</TITLE>', "Upper"),
    ("text/html", b"<title>" + b"a" * 200 + b"</title>", "a" * 79 + "…"),
    ("text/html", b"<title>red \x1b[31malert</title>", "red [31malert"),
    ("text/html; charset=hex", b"<title>not hex</title>", "not hex"),
    ("text/html; charset=no-such-charset", b"<title>plain</title>", "plain"),
    ("text/html", b"<title>   </title>", None),
    ("text/html", b"<html><body>no title</body></html>", None),
]


@pytest.mark.parametrize(("content_type", "body", "title"), TITLES)
def test_title_is_decoded_and_tidied(content_type: str, body: bytes, title: str | None) -> None:
    with serving(answer(response(body=body, headers=(f"Content-Type: {content_type}",)))) as server:
        result = probe("127.0.0.1", server.port)
    assert result == Identity(protocol="http", status=200, server_header="test-server", title=title)


def test_the_request_is_a_plain_bounded_get() -> None:
    with serving(answer(response(body=b"<title>x</title>"))) as server:
        probe("127.0.0.1", server.port)
    (request,) = server.requests
    lines = request.decode().split("\r\n")
    assert lines[0] == "GET / HTTP/1.1"
    assert f"Host: localhost:{server.port}" in lines
    assert f"User-Agent: porttray/{__version__}" in lines
    assert "Connection: close" in lines


def test_a_title_split_across_chunks_is_found() -> None:
    chunks = [b"<html><tit", b"le>Chun", b"ked &amp; ", b"whole</title>", b"<body>"]
    body = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"
    raw = response(body=body, headers=("Content-Type: text/html", "Transfer-Encoding: chunked"))
    with serving(answer(raw)) as server:
        result = probe("127.0.0.1", server.port)
    assert result.title == "Chunked & whole"


def test_early_hints_are_skipped_for_the_final_response() -> None:
    raw = b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n" + response(
        body=b"<title>Hi</title>"
    )
    with serving(answer(raw)) as server:
        result = probe("127.0.0.1", server.port)
    assert (result.status, result.title) == (200, "Hi")


def test_an_error_page_gives_its_status_but_no_title() -> None:
    with serving(answer(response("404 Not Found", b"<title>Error response</title>"))) as server:
        result = probe("127.0.0.1", server.port)
    assert result == Identity(protocol="http", status=404, server_header="test-server")


def test_a_keep_alive_server_is_left_once_the_response_is_complete() -> None:
    def keep_alive(conn: socket.socket, server: ThreadServer) -> None:
        if read_request(conn, server) is not None:
            conn.sendall(response(body=b"<p>no title</p>").replace(b"close", b"keep-alive"))
            wait_gone(conn, server)

    with serving(keep_alive) as server:
        result, elapsed = timed("127.0.0.1", server.port, budget=10)
    assert result.status == 200
    assert elapsed < 5, "the probe waited for the server to close instead of reading the length"


@pytest.mark.parametrize(
    ("bind", "host"),
    [("127.0.0.2", "127.0.0.2"), ("::1", "::1"), ("127.0.0.1", "::ffff:127.0.0.1")],
)
def test_every_loopback_form_is_probed(bind: str, host: str) -> None:
    with serving(answer(response(body=b"<title>Here</title>")), host=bind) as server:
        result = probe(host, server.port)
    assert result.title == "Here"


def test_a_closed_port_is_unknown_not_other() -> None:
    with bare_listener("127.0.0.1") as sock:
        port = sock.getsockname()[1]
    assert probe("127.0.0.1", port) == Identity()


def test_python_http_server_in_a_child_process(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text(
        "<!doctype html><head><meta charset='utf-8'><title>Docs  — index</title></head>",
        encoding="utf-8",
    )
    with http_server(tmp_path) as (_proc, port):
        result = probe("127.0.0.1", port)
    assert result.protocol == "http"
    assert result.status == 200
    assert result.title == "Docs — index"
    assert result.server_header is not None
    assert result.server_header.startswith("SimpleHTTP/")


# -- redirects ---------------------------------------------------------------------------------


def test_a_redirect_on_the_same_server_is_followed() -> None:
    port = free_port()
    table = {
        "/": response("301 Moved Permanently", headers=("Location: /home",)),
        "/home": response("302 Found", headers=(f"Location: http://localhost:{port}/next?a=1",)),
        "/next?a=1": response("200 OK", b"<title>Landed</title>"),
    }
    with serving(routes(table), port=port) as server:
        result = probe("127.0.0.1", port)
    assert server.paths == ["/", "/home", "/next?a=1"]
    assert (result.status, result.title) == (200, "Landed")


def test_a_redirect_loop_stops_after_three_hops() -> None:
    with serving(answer(response("302 Found", headers=("Location: /",)))) as server:
        result = probe("127.0.0.1", server.port)
    assert server.paths == ["/"] * 4
    assert (result.protocol, result.status) == ("http", 302)


@pytest.mark.parametrize("other", ["127.0.0.3 on the same port", "127.0.0.1 on another port"])
def test_a_redirect_to_another_loopback_server_is_not_followed(other: str) -> None:
    port = free_port()
    # 127.0.0.3 on the very same port: only "same port, any 127.x" would reach it
    host, other_port = ("127.0.0.3", port) if other.startswith("127.0.0.3") else ("127.0.0.1", 0)
    with bare_listener(host, other_port) as elsewhere:
        other_port = elsewhere.getsockname()[1]
        raw = response("302 Found", headers=(f"Location: http://{host}:{other_port}/",))
        with serving(answer(raw), port=port), socket_events() as events:
            result = probe("127.0.0.1", port)
        assert never_connected(elsewhere)
    assert (result.protocol, result.status) == ("http", 302)
    assert connects(events) == [("127.0.0.1", port)]


@pytest.mark.parametrize(
    "location",
    [
        "http://example.com/",
        "//example.com/x",
        "https://example.com:{port}/",
        "http://localhost:1/",
        "http://[::2]:{port}/",
        "ftp://localhost:{port}/",
        "http://localhost:notaport/",
    ],
)
def test_a_redirect_elsewhere_makes_no_connection_and_no_lookup(location: str) -> None:
    port = free_port()
    raw = response("301 Moved Permanently", headers=(f"Location: {location.format(port=port)}",))
    with serving(answer(raw), port=port) as server, socket_events() as events:
        result = probe("127.0.0.1", port)
    assert (result.protocol, result.status) == ("http", 301)
    assert server.paths == ["/"]
    assert connects(events) == [("127.0.0.1", port)]
    assert not [e for e, _ in events if e.startswith("socket.get")]


# -- what is never connected to ----------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    ["10.0.0.1", "example.com", "localhost", "::ffff:10.0.0.1", "0.0.0.0", "::", "2001:db8::1", ""],
)
def test_anything_but_loopback_is_refused_before_a_socket_is_made(host: str) -> None:
    with socket_events() as events, pytest.raises(ValueError, match="loopback"):
        probe(host, 80)
    assert events == []


@pytest.mark.parametrize("port", [0, -1, 65536])
def test_a_port_out_of_range_is_refused(port: int) -> None:
    with socket_events() as events, pytest.raises(ValueError, match="port"):
        probe("127.0.0.1", port)
    assert events == []
