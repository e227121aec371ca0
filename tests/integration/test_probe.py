"""The probe against real servers on loopback: well-behaved, redirecting, hostile and TLS-only.

Each server runs in a thread of this test (or as a child process) and is stopped and joined before
the test ends; the suite's `no_leaks` fixture then checks that the thread count, the child processes
and the entries of /proc/self/fd are back to what they were. An audit hook records every socket the
test's own thread makes, connects or resolves, so "never connected there" is asserted, not assumed.
"""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import wait_for
from tests.helpers.servers import free_port, http_server
from tray import __version__
from tray.config import parse
from tray.identify import identify
from tray.identify.http_probe import _Target, probe
from tray.model import Identity, ProcessInfo, Server

BUDGET = 0.6
"""The budget of probes meant to run out of time: short, to keep the file fast."""
SLACK = 1.0
"""How far past its budget a probe may return on a busy machine; far less than a hang."""

# -- what sockets this thread makes ------------------------------------------------------------

_EVENTS = ("socket.__new__", "socket.connect", "socket.getaddrinfo", "socket.gethostbyname")
_watchers: dict[int, list[tuple[str, Any]]] = {}


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _watchers and event in _EVENTS:
        seen = _watchers.get(threading.get_ident())
        if seen is not None:
            seen.append((event, args[1] if event == "socket.connect" else None))


sys.addaudithook(_audit)


@contextlib.contextmanager
def socket_events() -> Iterator[list[tuple[str, Any]]]:
    """The socket events of this thread while the block runs: (event, address for connects)."""
    seen: list[tuple[str, Any]] = []
    _watchers[threading.get_ident()] = seen
    try:
        yield seen
    finally:
        del _watchers[threading.get_ident()]


def connects(events: list[tuple[str, Any]]) -> list[tuple[str, int]]:
    return [(a[0], a[1]) for e, a in events if e == "socket.connect"]


# -- servers in threads ------------------------------------------------------------------------


@dataclass
class ThreadServer:
    """A listener on loopback whose accepted connections a handler serves, one at a time."""

    handler: Callable[[socket.socket, ThreadServer], None]
    host: str = "127.0.0.1"
    port: int = 0
    requests: list[bytes] = field(default_factory=list)
    """The request heads received, in order."""
    stop: threading.Event = field(default_factory=threading.Event)
    sock: socket.socket = field(init=False)
    thread: threading.Thread = field(init=False)

    def __post_init__(self) -> None:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((self.host, self.port))
        self.sock.listen()
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._run, name="test-probe-server")
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            with conn, contextlib.suppress(OSError):
                self.handler(conn, self)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(10)
        assert not self.thread.is_alive(), "the test server did not stop"
        self.sock.close()

    @property
    def paths(self) -> list[str]:
        return [r.split(b" ")[1].decode() for r in self.requests if r.count(b" ") >= 2]


@contextlib.contextmanager
def serving(
    handler: Callable[[socket.socket, ThreadServer], None], host: str = "127.0.0.1", port: int = 0
) -> Iterator[ThreadServer]:
    server = ThreadServer(handler, host, port)
    try:
        yield server
    finally:
        server.close()


@contextlib.contextmanager
def bare_listener(host: str, port: int = 0) -> Iterator[socket.socket]:
    """A listener nobody accepts on: a connection to it stays pending, so it can be checked."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen()
        sock.setblocking(False)
        yield sock


def never_connected(sock: socket.socket) -> bool:
    try:
        conn, _ = sock.accept()
    except BlockingIOError:
        return True
    conn.close()
    return False


def read_request(conn: socket.socket, server: ThreadServer) -> bytes | None:
    """The request head, recorded; None when the client leaves or the server stops first."""
    conn.settimeout(0.05)
    data = b""
    while b"\r\n\r\n" not in data and not server.stop.is_set():
        try:
            chunk = conn.recv(4096)
        except TimeoutError:
            continue
        if not chunk:
            return None
        data += chunk
    if b"\r\n\r\n" not in data:
        return None
    server.requests.append(data)
    return data


def wait_gone(conn: socket.socket, server: ThreadServer) -> None:
    """Until the client closes or the server stops."""
    conn.settimeout(0.05)
    while not server.stop.is_set():
        try:
            if not conn.recv(4096):
                return
        except TimeoutError:
            continue


def response(
    status: str = "200 OK",
    body: bytes = b"",
    headers: tuple[str, ...] = ("Content-Type: text/html",),
) -> bytes:
    head = [f"HTTP/1.1 {status}", "Server: test-server", *headers, "Connection: close"]
    if not any(h.lower().startswith(("transfer-encoding", "content-length")) for h in headers):
        head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


def answer(raw: bytes) -> Callable[[socket.socket, ThreadServer], None]:
    def handle(conn: socket.socket, server: ThreadServer) -> None:
        if read_request(conn, server) is not None:
            conn.sendall(raw)

    return handle


def routes(table: dict[str, bytes]) -> Callable[[socket.socket, ThreadServer], None]:
    def handle(conn: socket.socket, server: ThreadServer) -> None:
        request = read_request(conn, server)
        if request is not None:
            path = request.split(b" ")[1].decode()
            conn.sendall(table.get(path, response("404 Not Found")))

    return handle


def timed(host: str, port: int, budget: float = 1.5) -> tuple[Identity, float]:
    start = time.monotonic()
    result = probe(host, port, budget=budget)
    return result, time.monotonic() - start


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


# -- hostile servers ---------------------------------------------------------------------------


def test_a_server_that_never_answers() -> None:
    def silent(conn: socket.socket, server: ThreadServer) -> None:
        read_request(conn, server)
        wait_gone(conn, server)

    with serving(silent) as server:
        result, elapsed = timed("127.0.0.1", server.port, BUDGET)
    assert result == Identity()
    assert elapsed < BUDGET + SLACK


def trickle(raw: bytes, first: int = 0) -> Callable[[socket.socket, ThreadServer], None]:
    """Send `first` bytes of `raw` at once, then the rest a byte a second."""

    def handle(conn: socket.socket, server: ThreadServer) -> None:
        if read_request(conn, server) is None:
            return
        conn.sendall(raw[:first])
        for i in range(first, len(raw)):
            conn.sendall(raw[i : i + 1])
            if server.stop.wait(1.0):
                return

    return handle


def test_a_server_that_trickles_its_status_line() -> None:
    with serving(trickle(response(body=b"<title>never</title>"))) as server:
        result, elapsed = timed("127.0.0.1", server.port, BUDGET)
    assert result == Identity()  # "H", "HT": maybe HTTP, maybe not
    assert elapsed < BUDGET + SLACK


def test_a_server_that_trickles_its_body_gives_what_it_has() -> None:
    raw = response(body=b"<html><head><title>slow</title>")
    with serving(trickle(raw, first=raw.index(b"<html>") + 3)) as server:
        result, elapsed = timed("127.0.0.1", server.port, BUDGET)
    assert result == Identity(protocol="http", status=200, server_header="test-server")
    assert elapsed < BUDGET + SLACK


def test_a_server_that_sends_binary_garbage() -> None:
    with serving(answer(b"\x00\xff\xfeGARBAGE\x01\x02" * 100)) as server:
        result, elapsed = timed("127.0.0.1", server.port, BUDGET)
    assert result == Identity(protocol="other")
    assert elapsed < BUDGET + SLACK


def test_a_banner_speaking_server_is_other_without_waiting() -> None:
    def banner(conn: socket.socket, server: ThreadServer) -> None:
        conn.sendall(b"SSH-2.0-OpenSSH_9.2p1\r\n")
        wait_gone(conn, server)

    with serving(banner) as server:
        result, elapsed = timed("127.0.0.1", server.port, budget=10)
    assert result == Identity(protocol="other")
    assert elapsed < 5, "the probe waited for more after bytes that are not HTTP"


def test_a_gigabyte_body_is_read_only_up_to_the_cap() -> None:
    size, block = 1 << 30, b"x" * 65536
    sent: list[int] = []
    hung_up = threading.Event()

    def huge(conn: socket.socket, server: ThreadServer) -> None:
        if read_request(conn, server) is None:
            return
        conn.sendall(response(headers=("Content-Type: text/html", f"Content-Length: {size}")))
        conn.settimeout(0.1)
        while sum(sent) < size and not server.stop.is_set():
            piece = b"<title>Too far</title>" if len(sent) == 2 else block  # past the cap
            try:
                conn.sendall(piece)
            except TimeoutError:
                continue
            except OSError:
                hung_up.set()
                return
            sent.append(len(piece))

    with serving(huge) as server:
        result, elapsed = timed("127.0.0.1", server.port, budget=10)
        assert wait_for(hung_up.is_set, 5), "the probe did not hang up on the endless body"
    assert result == Identity(protocol="http", status=200, server_header="test-server")
    assert sum(sent) < size
    assert elapsed < 5


def reset(conn: socket.socket, server: ThreadServer) -> None:
    conn.settimeout(1.0)
    with contextlib.suppress(OSError):
        conn.recv(65536)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def close_at_once(conn: socket.socket, server: ThreadServer) -> None:
    return


@pytest.mark.parametrize("handler", [reset, close_at_once], ids=["reset", "close"])
def test_a_server_that_hangs_up_is_other(
    handler: Callable[[socket.socket, ThreadServer], None],
) -> None:
    with serving(handler) as server:
        result, elapsed = timed("127.0.0.1", server.port, BUDGET)
    assert result == Identity(protocol="other")
    assert elapsed < BUDGET + SLACK


# -- TLS ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_context(tmp_path_factory: pytest.TempPathFactory) -> ssl.SSLContext:
    """A server context with a self-signed certificate made now by openssl."""
    folder = tmp_path_factory.mktemp("tls")
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
        timeout=30,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


def tls_or(
    context: ssl.SSLContext, plain: bytes | None
) -> Callable[[socket.socket, ThreadServer], None]:
    """Serve a page over TLS; to plain HTTP answer `plain` (None: try TLS on it and fail)."""

    def handle(conn: socket.socket, server: ThreadServer) -> None:
        conn.settimeout(2.0)
        if plain is not None and conn.recv(1, socket.MSG_PEEK) != b"\x16":
            if read_request(conn, server) is not None:
                conn.sendall(plain)
            return
        try:
            tls = context.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError):
            return
        with tls:
            if read_request(tls, server) is not None:
                tls.sendall(response(body=b"<title>Secure &amp; sound</title>"))

    return handle


GO_STYLE = b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n"
ALERT = b"\x15\x03\x01\x00\x02\x02\x46"


@pytest.mark.parametrize("plain", [None, GO_STYLE, ALERT], ids=["drop", "go-400", "alert"])
def test_a_tls_only_server_is_https(tls_context: ssl.SSLContext, plain: bytes | None) -> None:
    with serving(tls_or(tls_context, plain)) as server:
        result = probe("127.0.0.1", server.port)
    assert result == Identity(
        protocol="https", status=200, server_header="test-server", title="Secure & sound"
    )


LEAN_PROBE = """
import sys
from tray import memory
assert memory.without_openssl() or sys.platform != "linux"  # as the tray starts (Linux)
from tray.identify.http_probe import probe
for port in sys.argv[1:]:
    print(repr(probe("127.0.0.1", int(port))), "ssl" in sys.modules)
"""


def test_tls_is_told_from_a_hang_up_in_bytes_and_only_a_tls_server_loads_ssl(
    tls_context: ssl.SSLContext,
) -> None:
    with serving(answer(b"")) as closing, serving(tls_or(tls_context, None)) as tls:
        done = subprocess.run(
            [sys.executable, "-c", LEAN_PROBE, str(closing.port), str(tls.port)],
            check=False,
            cwd=Path(__file__).resolve().parents[2],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 0, done.stderr
    https = Identity(
        protocol="https", status=200, server_header="test-server", title="Secure & sound"
    )
    assert done.stdout.splitlines() == [
        f"{Identity(protocol='other')!r} False",  # closed on a request and on a ClientHello
        f"{https!r} True",
    ]
    assert closing.paths == ["/"]  # its second connection carried the ClientHello


@pytest.mark.parametrize("version", ["TLSv1_2", "TLSv1_3"])
def test_servers_answer_the_hand_made_client_hello_in_tls(tmp_path: Path, version: str) -> None:
    """TLS 1.2 and 1.3 servers with an RSA key (the module's fixture has an EC one)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = context.maximum_version = ssl.TLSVersion[version]
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
        timeout=60,
    )  # fmt: skip
    context.load_cert_chain(cert, key)
    with serving(tls_or(context, None)) as server:
        target = _Target("127.0.0.1", server.port, time.monotonic() + 5, 65536)
        assert target.answers_tls()
        result = probe("127.0.0.1", server.port)
    assert (result.protocol, result.title) == ("https", "Secure & sound")


def test_a_server_known_to_be_tls_is_asked_over_tls_first(tls_context: ssl.SSLContext) -> None:
    with serving(tls_or(tls_context, GO_STYLE)) as server:
        with socket_events() as events:
            result = probe("127.0.0.1", server.port, tls_first=True)
        plain = probe("127.0.0.1", server.port, tls_first=True)
    assert result.protocol == "https" and result.title == "Secure & sound"
    assert len(connects(events)) == 1  # no plain request first
    assert plain == result


def test_tls_first_falls_back_to_plain_http() -> None:
    with serving(answer(response(body=b"<title>Plain</title>"))) as server:
        result = probe("127.0.0.1", server.port, tls_first=True)
    assert (result.protocol, result.title) == ("http", "Plain")


def test_a_server_that_reads_and_hangs_up_is_other() -> None:
    with serving(answer(b"")) as server:
        result, elapsed = timed("127.0.0.1", server.port, BUDGET)
    assert elapsed < BUDGET + SLACK
    assert result == Identity(protocol="other")
    assert server.paths == ["/"]  # the second connection sent a ClientHello, not a request


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


# -- identify ----------------------------------------------------------------------------------


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
