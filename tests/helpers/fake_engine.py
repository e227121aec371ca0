"""A stand-in container engine on a real unix socket, for the answers a real one never gives:
garbage, huge bodies, odd API versions, silence. It speaks HTTP/1.1 like the Engine API."""

from __future__ import annotations

import json
import socket
import socketserver
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

Answer = tuple[int, bytes]


def container(ident: str, name: str, port: int, address: str = "127.0.0.1") -> dict[str, Any]:
    """A `GET /containers/json` entry with one published TCP port."""
    return {
        "Id": ident,
        "Names": [f"/{name}"],
        "Image": "busybox",
        "Labels": {},
        "Status": "Up 1 second",
        "Ports": [{"IP": address, "PrivatePort": 80, "PublicPort": port, "Type": "tcp"}],
    }


class FakeEngine:
    """Serves `routes` (path prefix → answer) on `path`; `/events` streams what `emit` sends."""

    def __init__(self, path: Path, version: str = "1.41") -> None:
        self.path = str(path)
        self.version = version
        self.routes: dict[str, Callable[[], Answer]] = {
            "/version": lambda: _json({"ApiVersion": version, "MinAPIVersion": "1.12"}),
            "/containers/json": lambda: _json([]),
        }
        self.requests: list[str] = []
        self._events: list[socket.socket] = []
        self._done = threading.Event()
        engine = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                engine.handle(self)

            def do_POST(self) -> None:
                engine.handle(self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = _Server(self.path, Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-engine")
        self._thread.start()

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        """Answer one request by its path (the /vX.Y prefix dropped)."""
        path = request.path.split("?", 1)[0]
        if path.startswith("/v") and "/" in path[1:]:
            path = "/" + path.split("/", 2)[2]
        self.requests.append(f"{request.command} {path}")
        if path == "/events":
            self._stream(request)
            return
        if path == "/_ping":
            request.send_response(200)
            request.send_header("Api-Version", self.version)
            request.send_header("Content-Length", "2")
            request.end_headers()
            request.wfile.write(b"OK")
            return
        route = next((r for p, r in self.routes.items() if path.startswith(p)), None)
        status, body = route() if route else (404, b'{"message": "page not found"}')
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    def _stream(self, request: BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        request.send_header("Content-Type", "application/json")
        request.send_header("Transfer-Encoding", "chunked")
        request.end_headers()
        request.wfile.flush()
        self._events.append(request.connection)
        self._done.wait()

    def emit(self, event: dict[str, Any]) -> None:
        """Send an event to every open `/events` stream."""
        line = json.dumps(event).encode() + b"\n"
        for conn in self._events:
            conn.sendall(b"%x\r\n%s\r\n" % (len(line), line))

    @property
    def followers(self) -> int:
        """Open `/events` streams."""
        return len(self._events)

    def close(self) -> None:
        """Stop serving and end every stream."""
        self._done.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


class _Server(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hangs up mid-answer (as porttray does past its size cap) is normal."""


def _json(value: object) -> Answer:
    return 200, json.dumps(value).encode()


class SilentEngine:
    """A socket that accepts connections and never answers (a hung engine)."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.bind(self.path)
        self._sock.listen(16)  # the kernel accepts; nobody ever reads or writes

    def close(self) -> None:
        """Close the listening socket (pending connections go with it)."""
        self._sock.close()
