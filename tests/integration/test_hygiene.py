"""Hygiene under bad input: netlink refused, a hostile command line, hostile HTML, and what the
engine itself holds open."""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers.servers import child_listening
from tray.discover import Engine, open_engine
from tray.discover.linux import LinuxOwners
from tray.discover.netlink import NetlinkSource
from tray.discover.procnet import ProcNetSource
from tray.identify.probe import probe
from tray.owners import CMDLINE_LIMIT


def test_netlink_failing_mid_run_switches_to_proc_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    source = NetlinkSource()
    engine = Engine(source, LinuxOwners())
    engine.set_fallback(ProcNetSource)
    try:
        with child_listening(["127.0.0.1"]) as child:
            assert any(s.port == child.port for s in engine.scan().servers)
            source._sock.close()  # the kernel refuses from now on: EBADF on send
            with caplog.at_level(logging.WARNING):
                snapshot = engine.scan()
            assert snapshot.method == "proc"
            assert engine.method == "proc"
            assert any(s.port == child.port and s.pid == child.pid for s in snapshot.servers)
            assert "switching to /proc/net" in caplog.text
    finally:
        engine.close()


LONG = """
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
print(s.getsockname()[1], flush=True)
sys.stdin.read()
"""


@pytest.fixture
def long_cmdline_server() -> Iterator[tuple[subprocess.Popen[str], int]]:
    proc = subprocess.Popen(
        [sys.executable, "-c", LONG, "--flag=" + "x" * 100_000, *["arg"] * 1000],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdin is not None
    port = int(proc.stdout.readline())
    yield proc, port
    proc.stdin.close()
    proc.wait(5)
    proc.stdout.close()


def test_a_100k_command_line_is_cut_before_anything_reads_it(
    long_cmdline_server: tuple[subprocess.Popen[str], int],
) -> None:
    _, port = long_cmdline_server
    engine = open_engine()
    try:
        (server,) = [s for s in engine.scan().servers if s.port == port]
    finally:
        engine.close()
    assert server.process is not None
    kept = server.process.cmdline
    assert sum(len(a) for a in kept) <= CMDLINE_LIMIT + len(kept) + 1
    assert kept[-1].endswith("…")
    listed = subprocess.run(
        [sys.executable, "-m", "tray", "list", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    (obj,) = [o for o in json.loads(listed.stdout) if o["port"] == port]
    assert len(" ".join(obj["cmdline"])) <= CMDLINE_LIMIT + 2


class OneShotServer:
    """A loopback server that answers every connection with the bytes it is given."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.reply = b""
        self.thread = threading.Thread(target=self._serve, name="test-oneshot", daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(1)
                try:
                    conn.recv(4096)
                    conn.sendall(self.reply)
                except OSError:
                    pass

    def close(self) -> None:
        self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        self.thread.join(5)


@settings(max_examples=150, deadline=None)
@given(
    charset=st.sampled_from(["utf-8", "latin-1", "shift_jis", "bogus-charset", "utf-16", ""]),
    body=st.one_of(
        st.binary(max_size=2000),
        st.text(max_size=500).map(lambda t: f"<html><title>{t}</title>".encode("utf-8", "replace")),
        st.text(alphabet="<>&#;tile/ \n\x00amp", max_size=300).map(str.encode),
    ),
)
def test_any_page_gives_a_tidy_title_or_none(charset: str, body: bytes) -> None:
    oneshot = OneShotServer()
    try:
        _probe_page(oneshot, charset, body)
    finally:
        oneshot.close()


def _probe_page(oneshot: OneShotServer, charset: str, body: bytes) -> None:
    ctype = f"text/html; charset={charset}" if charset else "text/html"
    oneshot.reply = (
        f"HTTP/1.1 200 OK\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode() + body
    found = probe("127.0.0.1", oneshot.port, budget=1.0)
    assert found.protocol == "http"
    assert found.status == 200
    if found.title is not None:
        assert 0 < len(found.title) <= 81
        assert found.title == found.title.strip()
        assert not any(ord(c) < 32 for c in found.title)
