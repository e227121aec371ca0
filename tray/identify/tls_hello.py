"""A TLS ClientHello as plain bytes, and how to tell a TLS record from anything else.

A server that closes a plain HTTP request without a byte may be a TLS server (Node's https does
that) or something else entirely. Asking it in TLS through the `ssl` module would load OpenSSL
into the tray for good (megabytes of memory) just to learn "not TLS". So the probe first sends
this hello, made by hand as RFC 8446 describes it, and reads the first bytes back: a TLS server
answers with a handshake record (ServerHello, HelloRetryRequest) or with an alert; anything else
(a close, silence, other bytes) is not TLS. Only a server that answered in TLS is then asked
through `ssl` for its page.

The hello offers what servers from the last decade accept: TLS 1.3 and 1.2, AEAD and CBC
ciphers with ECDHE and RSA key exchange, x25519 / P-256 / P-384, a random x25519 key share (any
32 bytes are a valid x25519 public key), SNI "localhost" and ALPN http/1.1. Nothing is decrypted
or verified: the connection ends after the reply's record header.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable

HANDSHAKE, ALERT = 0x16, 0x15
CIPHER_SUITES = (
    0x1301, 0x1302, 0x1303,  # TLS 1.3: AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305
    0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8,  # ECDHE with AES-GCM and ChaCha20
    0xC009, 0xC013, 0xC00A, 0xC014,  # ECDHE with AES-CBC
    0x009C, 0x009D, 0x002F, 0x0035,  # RSA key exchange, for old servers
)  # fmt: skip
GROUPS = (0x001D, 0x0017, 0x0018)
"""x25519, secp256r1, secp384r1."""
SIGNATURES = (0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601, 0x0807, 0x0201)
"""ECDSA, RSA-PSS and PKCS#1 with SHA-256/384/512, Ed25519, and RSA with SHA-1 (old servers)."""
X25519 = 0x001D


def _u8(data: bytes) -> bytes:
    return struct.pack("!B", len(data)) + data


def _u16(data: bytes) -> bytes:
    return struct.pack("!H", len(data)) + data


def _u16s(values: tuple[int, ...]) -> bytes:
    return struct.pack(f"!{len(values)}H", *values)


def _extension(kind: int, data: bytes) -> bytes:
    return struct.pack("!H", kind) + _u16(data)


def client_hello(
    server_name: str = "localhost", entropy: Callable[[int], bytes] = os.urandom
) -> bytes:
    """One TLS record holding a ClientHello for `server_name`."""
    extensions = b"".join(
        (
            _extension(0x0000, _u16(b"\x00" + _u16(server_name.encode("ascii")))),  # server_name
            _extension(0x000A, _u16(_u16s(GROUPS))),  # supported_groups
            _extension(0x000B, _u8(b"\x00")),  # ec_point_formats: uncompressed
            _extension(0x000D, _u16(_u16s(SIGNATURES))),  # signature_algorithms
            _extension(0x0010, _u16(_u8(b"http/1.1"))),  # application_layer_protocol_negotiation
            _extension(0x0017, b""),  # extended_master_secret
            _extension(0xFF01, b"\x00"),  # renegotiation_info: none
            _extension(0x002B, _u8(_u16s((0x0304, 0x0303)))),  # supported_versions
            _extension(0x002D, _u8(b"\x01")),  # psk_key_exchange_modes: psk_dhe_ke
            _extension(0x0033, _u16(struct.pack("!H", X25519) + _u16(entropy(32)))),  # key_share
        )
    )
    body = b"".join(
        (
            b"\x03\x03",  # legacy_version: TLS 1.2
            entropy(32),  # random
            _u8(entropy(32)),  # legacy_session_id (middlebox compatibility)
            _u16(_u16s(CIPHER_SUITES)),
            _u8(b"\x00"),  # compression: none
            _u16(extensions),
        )
    )
    handshake = b"\x01" + struct.pack("!I", len(body))[1:] + body  # ClientHello, 24-bit length
    return struct.pack("!BHH", HANDSHAKE, 0x0301, len(handshake)) + handshake


def is_tls_record(data: bytes) -> bool:
    """Whether `data` starts like a TLS record a server sends first: a handshake or an alert."""
    return len(data) >= 2 and data[0] in (HANDSHAKE, ALERT) and data[1] == 0x03
