"""Parsers of kernel socket data: good input, and truncated or hostile input."""

from __future__ import annotations

import contextlib
import socket
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tray.discover import netlink
from tray.discover.netlink import NetlinkError, build_request, parse_dump
from tray.discover.procnet import ProcNetError, decode_address, parse_line, parse_table

HEADER = struct.Struct("=IHHII")


def diag_msg(family: int, address: str, port: int, inode: int, uid: int = 1000) -> bytes:
    raw = socket.inet_pton(family, address).ljust(16, b"\0")
    sockid = struct.pack("!HH", port, 0) + raw + bytes(16) + struct.pack("=III", 0, 0, 0)
    return (
        struct.pack("=BBBB", family, 10, 0, 0)
        + sockid
        + struct.pack("=IIIII", 0, 0, 128, uid, inode)
    )


def attr(kind: int, value: bytes) -> bytes:
    data = struct.pack("=HH", 4 + len(value), kind) + value
    return data + bytes(-len(data) % 4)


def message(kind: int, payload: bytes) -> bytes:
    data = HEADER.pack(HEADER.size + len(payload), kind, 2, 1, 0) + payload
    return data + bytes(-len(data) % 4)


DONE = message(netlink.NLMSG_DONE, struct.pack("=i", 0))


def test_request_is_a_listen_only_tcp_dump() -> None:
    req = build_request(socket.AF_INET6, 7)
    length, kind, flags, seq, _ = HEADER.unpack_from(req)
    assert (length, kind, seq) == (len(req), 20, 7) and length == 16 + 56
    assert flags == netlink.NLM_F_REQUEST | netlink.NLM_F_DUMP
    family, proto, _, _, states = struct.unpack_from("=BBBBI", req, 16)
    assert (family, proto, states) == (socket.AF_INET6, socket.IPPROTO_TCP, 1 << 10)


def test_dump_of_both_families_with_attributes() -> None:
    v6 = diag_msg(socket.AF_INET6, "::", 8080, 42) + attr(8, b"\0") + attr(11, b"\1")
    data = message(20, diag_msg(socket.AF_INET, "127.0.0.1", 5173, 41)) + message(20, v6) + DONE
    found, done = parse_dump(data)
    assert done
    assert [(x.address, x.port, x.inode, x.uid, x.v6only) for x in found] == [
        ("127.0.0.1", 5173, 41, 1000, None),
        ("::", 8080, 42, 1000, True),
    ]


def test_dump_split_across_datagrams_is_not_done_until_done() -> None:
    found, done = parse_dump(message(20, diag_msg(socket.AF_INET, "0.0.0.0", 22, 1)))
    assert len(found) == 1 and not done


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x01\x02\x03", "truncated netlink header"),
        (HEADER.pack(400, 20, 2, 1, 0) + bytes(8), "claims 400 bytes"),
        (HEADER.pack(4, 20, 2, 1, 0), "claims 4 bytes"),
        (message(20, bytes(30)), "inet_diag message of 30 bytes"),
        (
            message(
                20,
                diag_msg(socket.AF_INET, "1.2.3.4", 1, 1)[:1].replace(b"\x02", b"\x07") + bytes(71),
            ),
            "unknown address family 7",
        ),
        (message(2, struct.pack("=i", -13)), "Permission denied"),
        (message(2, b""), "truncated"),
        (
            message(20, diag_msg(socket.AF_INET6, "::1", 1, 1) + struct.pack("=HH", 99, 11)),
            "attribute",
        ),
    ],
)
def test_malformed_replies_raise_a_clear_error(data: bytes, reason: str) -> None:
    with pytest.raises(NetlinkError, match=reason):
        parse_dump(data)


@given(st.binary(max_size=600))
def test_any_bytes_parse_or_raise_netlink_error(data: bytes) -> None:
    try:
        found, _ = parse_dump(data)
    except NetlinkError as exc:
        assert str(exc)
    else:
        assert all(0 <= x.port < 65536 for x in found)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["127.0.0.1", "0.0.0.0", "10.1.2.3"]),
            st.integers(0, 65535),
            st.integers(0, 2**32 - 1),
        ),
        max_size=20,
    ),
    st.integers(0, 200),
)
def test_good_dumps_cut_anywhere_never_crash(entries: list[tuple[str, int, int]], cut: int) -> None:
    data = b"".join(message(20, diag_msg(socket.AF_INET, a, p, i)) for a, p, i in entries) + DONE
    found, done = parse_dump(data)
    assert [(x.address, x.port, x.inode) for x in found] == entries and done
    with contextlib.suppress(NetlinkError):
        parse_dump(data[: max(0, len(data) - cut)])


PROC_V4 = (
    "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000"
    "  1000        0 12345 1 0000000000000000 100 0 0 10 0"
)
PROC_V6 = (
    "   1: 00000000000000000000000001000000:0016 00000000000000000000000000000000:0000"
    " 0A 00000000:00000000 00:00000000 00000000     0        0 999 1 0000000000000000 100 0 0 10 0"
)


def test_proc_lines_decode() -> None:
    v4, v6 = parse_line(PROC_V4), parse_line(PROC_V6)
    assert v4 is not None and (v4.address, v4.port, v4.uid, v4.inode) == (
        "127.0.0.1",
        8080,
        1000,
        12345,
    )
    assert v6 is not None and (v6.address, v6.port, v6.inode) == ("::1", 22, 999)
    assert parse_line(PROC_V4.replace(" 0A ", " 01 ")) is None


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("0: 0100007F:1F90", "at least 10 fields"),
        (PROC_V4.replace("0100007F:1F90", "ZZ00007F:1F90"), "not hexadecimal"),
        (PROC_V4.replace("0100007F:1F90", "0100007F"), "not an address:port"),
        (PROC_V4.replace("12345", "x12"), "not a number"),
    ],
)
def test_malformed_proc_lines_raise_a_clear_error(line: str, reason: str) -> None:
    with pytest.raises(ProcNetError, match=reason):
        parse_line(line)


def test_table_keeps_good_lines_and_reports_bad_ones() -> None:
    text = "  sl  local_address ...\n" + PROC_V4 + "\ngarbage line\n\n" + PROC_V6 + "\n"
    found, problems = parse_table(text)
    assert [x.port for x in found] == [8080, 22]
    assert len(problems) == 1 and problems[0].startswith("line 3:")


@given(st.text(max_size=300))
def test_any_proc_text_parses_or_reports(text: str) -> None:
    found, problems = parse_table(text)
    assert all(isinstance(p, str) for p in problems)
    assert all(0 <= x.port < 65536 for x in found)


def test_decode_address_rejects_odd_lengths() -> None:
    with pytest.raises(ProcNetError):
        decode_address("0100:0050")
