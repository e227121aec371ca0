"""A Wayland client that gives a headless wlroots seat a pointer device, and keeps it.

sway's headless backend has no input devices, so clients never get a wl_pointer and
`swaymsg seat seat0 cursor ...` moves a cursor nobody sees. Creating one
`zwlr_virtual_pointer_v1` (wlr-virtual-pointer-unstable-v1) adds a pointer to the seat; from then
on the swaymsg cursor commands are real pointer input for clients. The wire protocol is spoken
directly (a dozen messages) so no Wayland bindings are needed.

Buttons go through this pointer too, not through `swaymsg seat seat0 cursor press`: sway stamps
those with time 0, and GTK's menus read a release's time against the time the menu (or its
parent) was shown, so a release at time 0 can be taken for the end of the click that opened the
menu. This client stamps every button event with the compositor's clock (CLOCK_MONOTONIC in
milliseconds), as a real device does.

Run with WAYLAND_DISPLAY set, a file descriptor and a socket path as its arguments: writes "ready"
to the descriptor once the pointer exists and then serves the socket: a line `button CODE STATE`
(a Linux input code such as 272 for the left button; 1 pressed, 0 released) is sent to the
compositor, and "ok" comes back once the compositor has handled it. Runs until killed.
"""

from __future__ import annotations

import os
import select
import socket
import struct
import sys
import time

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


def _now() -> int:
    """The compositor's clock for input events: CLOCK_MONOTONIC in ms, as wlroots reads it."""
    return (time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1_000_000) & 0xFFFFFFFF


class Pointer:
    """The bound virtual pointer on a Wayland connection."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._next_id = POINTER_ID + 1

    def roundtrip(self) -> None:
        """Wait until the compositor has handled everything sent so far."""
        callback, self._next_id = self._next_id, self._next_id + 1
        _send(self.sock, DISPLAY_ID, 0, struct.pack("=I", callback))  # sync
        while True:
            for obj, opcode, body in _events(self.sock):
                if obj == DISPLAY_ID and opcode == 0:
                    raise RuntimeError(f"wayland error: {body!r}")
                if obj == callback:
                    return

    def button(self, code: int, pressed: bool) -> None:
        _send(self.sock, POINTER_ID, 2, struct.pack("=III", _now(), code, int(pressed)))
        _send(self.sock, POINTER_ID, 4)  # frame
        self.roundtrip()


def _serve(pointer: Pointer, control: socket.socket) -> None:
    """Answer control connections, one command line each, while watching the compositor."""
    while True:
        ready = select.select([pointer.sock, control], [], [])[0]
        if pointer.sock in ready:
            for obj, opcode, body in _events(pointer.sock):
                if obj == DISPLAY_ID and opcode == 0:
                    raise RuntimeError(f"wayland error: {body!r}")
        if control in ready:
            conn, _ = control.accept()
            with conn:
                words = conn.makefile().readline().split()
                if len(words) == 3 and words[0] == "button":
                    pointer.button(int(words[1]), words[2] == "1")
                    conn.sendall(b"ok\n")
                else:
                    conn.sendall(f"unknown command {words!r}\n".encode())


def main() -> int:
    path = os.path.join(os.environ["XDG_RUNTIME_DIR"], os.environ["WAYLAND_DISPLAY"])
    with (
        socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock,
        socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as control,
    ):
        sock.connect(path)
        name, version = _find_manager(sock)
        bind = struct.pack("=I", name) + _string(MANAGER) + struct.pack("=II", min(version, 1), 4)
        _send(sock, REGISTRY_ID, 0, bind)
        _send(sock, MANAGER_ID, 0, struct.pack("=II", 0, POINTER_ID))  # no seat: the default
        pointer = Pointer(sock)
        pointer.roundtrip()
        control.bind(sys.argv[2])
        control.listen(4)
        os.write(int(sys.argv[1]), b"ready\n")
        os.close(int(sys.argv[1]))
        _serve(pointer, control)
    return 0


if __name__ == "__main__":
    sys.exit(main())
