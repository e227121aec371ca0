"""The hand-made ClientHello: its lengths add up and it names what the probe asks for.
(Real TLS 1.2 and 1.3 servers answering it: tests/integration/test_probe.py.)"""

from __future__ import annotations

import struct

import pytest

from tray.identify.tls_hello import client_hello, is_tls_record


def extensions(hello: bytes) -> dict[int, bytes]:
    """The extensions of a ClientHello record, by type, checking every length on the way."""
    kind, _version, length = struct.unpack("!BHH", hello[:5])
    assert (kind, length) == (0x16, len(hello) - 5)
    assert hello[5] == 0x01 and int.from_bytes(hello[6:9], "big") == len(hello) - 9
    at = 9 + 2 + 32  # legacy_version, random
    at += 1 + hello[at]  # session id
    at += 2 + int.from_bytes(hello[at : at + 2], "big")  # cipher suites
    at += 1 + hello[at]  # compression methods
    total = int.from_bytes(hello[at : at + 2], "big")
    at += 2
    assert at + total == len(hello)
    found: dict[int, bytes] = {}
    while at < len(hello):
        ext, size = struct.unpack("!HH", hello[at : at + 4])
        found[ext] = hello[at + 4 : at + 4 + size]
        at += 4 + size
    assert at == len(hello)
    return found


def test_the_hello_is_well_formed_and_asks_for_localhost_over_http_1_1() -> None:
    found = extensions(client_hello(entropy=lambda n: b"\x07" * n))
    assert found[0x0000].endswith(b"localhost")
    assert b"http/1.1" in found[0x0010]
    assert found[0x002B] == b"\x04\x03\x04\x03\x03"  # TLS 1.3, then 1.2
    assert found[0x0033][-32:] == b"\x07" * 32  # the x25519 key share


def test_each_hello_is_fresh() -> None:
    assert client_hello() != client_hello()


@pytest.mark.parametrize(
    ("data", "tls"),
    [
        (b"\x16\x03\x03\x00\x7a", True),  # ServerHello
        (b"\x15\x03\x01\x00\x02", True),  # an alert
        (b"HTTP/1.1 400", False),
        (b"\x16", False),
        (b"", False),
        (b"\x17\x03\x03", False),  # application data is never what a server sends first
    ],
)
def test_tls_records_a_server_sends_first(data: bytes, tls: bool) -> None:
    assert is_tls_record(data) is tls
