"""The probe against hostile and TLS-only servers on loopback: silent, trickling, garbage-sending,
banner-speaking, hanging-up, and servers that speak only TLS. Each one runs in a thread of the test
and is stopped before it ends; a probe gives up within its budget and says what it saw.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import wait_for
from tests.helpers.probe_servers import (
    BUDGET,
    SLACK,
    ThreadServer,
    answer,
    connects,
    read_request,
    response,
    serving,
    socket_events,
    timed,
    wait_gone,
)
from tray.identify.http_probe import _Target, probe
from tray.model import Identity

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
