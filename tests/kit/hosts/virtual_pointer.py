"""A Wayland client that gives a headless wlroots seat a pointer device, and keeps it.

sway's headless backend has no input devices, so clients never get a wl_pointer and
`swaymsg seat seat0 cursor ...` moves a cursor nobody sees. Creating one
`zwlr_virtual_pointer_v1` (wlr-virtual-pointer-unstable-v1) adds a pointer to the seat; from then
on the swaymsg cursor commands are real pointer input for clients. The wire protocol is spoken
directly (a dozen messages) so no Wayland bindings are needed.

Run with WAYLAND_DISPLAY set and a file descriptor as its argument: writes "ready" there once the
pointer exists, then waits until killed.
"""

from __future__ import annotations

import os
import socket
import struct
import sys

DISPLAY_ID, REGISTRY_ID, CALLBACK_ID, MANAGER_ID, POINTER_ID = 1, 2, 3, 4, 5
MANAGER = "zwlr_virtual_pointer_manager_v1"


def _string(text: str) -> bytes:
    raw = text.encode() + b"\0"
    return struct.pack("=I", len(raw)) + raw + b"\0" * (-len(raw) % 4)


def _send(sock: socket.socket, obj: int, opcode: int, payload: bytes = b"") -> None:
    sock.sendall(struct.pack("=II", obj, (8 + len(payload)) << 16 | opcode) + payload)


def _events(sock: socket.socket) -> list[tuple[int, int, bytes]]:
    """Read at least one whole message; return every whole message read."""
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("the compositor closed the connection")
        data += chunk
        messages, offset = [], 0
        while len(data) - offset >= 8:
            obj, word = struct.unpack_from("=II", data, offset)
            size = word >> 16
            if len(data) - offset < size:
                break
            messages.append((obj, word & 0xFFFF, data[offset + 8 : offset + size]))
            offset += size
        if offset == len(data) and messages:
            return messages


def _find_manager(sock: socket.socket) -> tuple[int, int]:
    """The registry name and version of the virtual pointer manager."""
    _send(sock, DISPLAY_ID, 1, struct.pack("=I", REGISTRY_ID))  # get_registry
    _send(sock, DISPLAY_ID, 0, struct.pack("=I", CALLBACK_ID))  # sync
    found: tuple[int, int] | None = None
    while True:
        for obj, opcode, body in _events(sock):
            if obj == REGISTRY_ID and opcode == 0:  # global(name, interface, version)
                name, length = struct.unpack_from("=II", body)
                interface = body[8 : 8 + length - 1].decode()
                version = struct.unpack_from("=I", body, 8 + length + (-length % 4))[0]
                if interface == MANAGER:
                    found = (name, version)
            elif obj == CALLBACK_ID:  # done: every global has been announced
                if found is None:
                    raise RuntimeError(f"the compositor does not offer {MANAGER}")
                return found
            elif obj == DISPLAY_ID and opcode == 0:
                raise RuntimeError(f"wayland error: {body!r}")


def main() -> int:
    path = os.path.join(os.environ["XDG_RUNTIME_DIR"], os.environ["WAYLAND_DISPLAY"])
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(path)
        name, version = _find_manager(sock)
        bind = struct.pack("=I", name) + _string(MANAGER) + struct.pack("=II", min(version, 1), 4)
        _send(sock, REGISTRY_ID, 0, bind)
        _send(sock, MANAGER_ID, 0, struct.pack("=II", 0, POINTER_ID))  # no seat: the default
        _send(sock, DISPLAY_ID, 0, struct.pack("=I", POINTER_ID + 1))  # sync
        for obj, opcode, body in _events(sock):
            if obj == DISPLAY_ID and opcode == 0:
                raise RuntimeError(f"wayland error: {body!r}")
        os.write(int(sys.argv[1]), b"ready\n")
        os.close(int(sys.argv[1]))
        while True:
            for obj, opcode, body in _events(sock):
                if obj == DISPLAY_ID and opcode == 0:
                    raise RuntimeError(f"wayland error: {body!r}")


if __name__ == "__main__":
    sys.exit(main())
