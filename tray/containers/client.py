"""A small client of the Docker Engine API (which Podman serves too) over its unix socket.

The standard library's `http.client` over an AF_UNIX socket is all it takes: porttray asks for
four things (`/_ping` for the version, `/containers/json`, `/events`, `POST /containers/{id}/stop`),
each with a timeout, a cap on the answer's size, and the API version negotiated down to what both
sides speak. Every failure is an `EngineError` with a sentence for the user.
"""

from __future__ import annotations

import http.client
import json
import socket
import urllib.parse
from collections.abc import Callable

from tray.containers.common import TIMEOUT, EngineError

OnEvent = Callable[[], None]
OnOpen = Callable[[socket.socket], None]

STOP_WAIT = 300.0
"""Seconds to wait for the engine's answer to a stop: it answers once the container has stopped,
after the container's own stop timeout (10 s unless set, as Compose's stop_grace_period does)."""
RESPONSE_LIMIT = 16 << 20
"""Bytes of an answer read at the most; a bigger one is an error, not a memory spike."""
EVENT_LIMIT = 64 << 10
"""Bytes of one event line at the most."""
MIN_API = (1, 24)
"""The oldest API porttray reads: Docker 1.12 (2016) and every Podman with the compat API."""
MAX_API = (1, 43)
"""The newest API porttray asks for; newer engines serve older versions as they were."""
CHANGES = ("start", "die", "stop", "kill", "pause", "unpause", "destroy", "rename", "health_status")
"""Container events that can change what porttray shows (health checks' exec events cannot)."""
EVENT_FILTERS = json.dumps({"type": ["container"], "event": list(CHANGES)})


class _UnixConnection(http.client.HTTPConnection):
    """HTTP over a unix socket; the host name is only what goes in the Host header."""

    def __init__(self, path: str, timeout: float | None) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(self.timeout)
            sock.connect(self._path)
        except BaseException:
            sock.close()
            raise
        self.sock = sock


def parse_version(text: object) -> tuple[int, int] | None:
    """ "1.43" → (1, 43); None for anything else."""
    if not isinstance(text, str):
        return None
    major, dot, minor = text.strip().partition(".")
    if not dot or not major.isdigit() or not minor.isdigit() or len(text) > 16:
        return None
    return int(major), int(minor)


def negotiate(server: object, server_min: object = None) -> tuple[int, int]:
    """The API version to speak: ours at most, the engine's at most, and not below its
    minimum. Raises `EngineError` for an engine too old or one whose version is unreadable."""
    version = parse_version(server)
    if version is None:
        raise EngineError(f"the engine reports an unknown API version {str(server)[:20]!r}")
    if version < MIN_API:
        raise EngineError(f"the engine's API {version[0]}.{version[1]} is too old (needs 1.24)")
    chosen = min(version, MAX_API)
    floor = parse_version(server_min)
    if floor is not None and chosen < floor <= version:
        chosen = floor
    return chosen


class Client:
    """One engine at one socket path. Not thread-safe: each thread makes its own."""

    def __init__(self, path: str, timeout: float = TIMEOUT) -> None:
        self.path = path
        self._timeout = timeout
        self._version: tuple[int, int] | None = None

    def version(self) -> tuple[int, int]:
        """The negotiated API version (asked once per client): from `/_ping`'s `Api-Version`
        header, as the docker CLI does (Podman's `/version` takes seconds), else `/version`."""
        if self._version is None:
            status, headers, _ = self._exchange("GET", "/_ping", self._timeout)
            announced = headers.get("Api-Version") if status == 200 else None
            if announced:
                self._version = negotiate(announced)
                return self._version
            answer = self._json("GET", "/version")
            if not isinstance(answer, dict):
                raise EngineError("the engine's /version answer is not an object")
            self._version = negotiate(answer.get("ApiVersion"), answer.get("MinAPIVersion"))
        return self._version

    def containers(self) -> object:
        """The decoded `GET /containers/json` answer (running containers)."""
        return self._json("GET", self._versioned("/containers/json"))

    def stop(self, ident: str) -> str:
        """Stop a container, honouring its own stop timeout; returns a sentence saying what
        happened. Raises `EngineError`."""
        quoted = urllib.parse.quote(ident, safe="")
        path = self._versioned(f"/containers/{quoted}/stop")
        status, body = self._request("POST", path, STOP_WAIT)
        if status in (204, 304):
            return "stopped" if status == 204 else "already stopped"
        if status == 404:
            raise EngineError("the container no longer exists")
        raise EngineError(f"the engine refused to stop it ({status}: {_message(body)})")

    def events(
        self, on_event: Callable[[], None], on_open: Callable[[socket.socket], None]
    ) -> None:
        """Follow `/events` for containers, calling `on_event` for each; returns when the stream
        ends. `on_open` gets the socket, so another thread can shut it down to end the wait."""
        query = urllib.parse.urlencode({"filters": EVENT_FILTERS})
        conn = _UnixConnection(self.path, self._timeout)
        try:
            conn.request("GET", self._versioned(f"/events?{query}"))
            response = conn.getresponse()
            if response.status != 200:
                raise EngineError(f"the engine refused /events ({response.status})")
            assert conn.sock is not None
            conn.sock.settimeout(None)  # events may be hours apart
            on_open(conn.sock)
            while line := response.readline(EVENT_LIMIT):
                if line.strip():
                    on_event()
        except (OSError, http.client.HTTPException) as exc:
            raise EngineError(describe(exc, self.path)) from None
        finally:
            conn.close()

    def _versioned(self, path: str) -> str:
        major, minor = self.version()
        return f"/v{major}.{minor}{path}"

    def _json(self, method: str, path: str) -> object:
        status, body = self._request(method, path, self._timeout)
        if status != 200:
            raise EngineError(f"the engine answered {status} to {path}: {_message(body)}")
        try:
            return json.loads(body)
        except ValueError:
            raise EngineError(f"the engine's answer to {path} is not JSON") from None

    def _request(self, method: str, path: str, timeout: float) -> tuple[int, bytes]:
        status, _, body = self._exchange(method, path, timeout)
        return status, body

    def _exchange(
        self, method: str, path: str, timeout: float
    ) -> tuple[int, http.client.HTTPMessage, bytes]:
        conn = _UnixConnection(self.path, timeout)
        try:
            conn.request(method, path)
            response = conn.getresponse()
            if (response.length or 0) > RESPONSE_LIMIT:
                raise EngineError(f"the engine's answer to {path} is too large")
            body = response.read(RESPONSE_LIMIT + 1)
            if len(body) > RESPONSE_LIMIT:
                raise EngineError(f"the engine's answer to {path} is too large")
            return response.status, response.msg, body
        except (OSError, http.client.HTTPException) as exc:
            raise EngineError(describe(exc, self.path)) from None
        finally:
            conn.close()


def describe(exc: BaseException, path: str) -> str:
    """A sentence for why the engine at `path` could not be asked."""
    if isinstance(exc, PermissionError):
        return f"no permission to use the container engine at {path}"
    if isinstance(exc, FileNotFoundError | ConnectionRefusedError):
        return f"no container engine is running at {path}"
    if isinstance(exc, TimeoutError):
        return f"the container engine at {path} did not answer within {TIMEOUT:g} s"
    return f"the container engine at {path} failed: {exc.__class__.__name__}: {exc}"[:300]


def _message(body: bytes) -> str:
    try:
        decoded = json.loads(body)
    except ValueError:
        decoded = None
    text = decoded.get("message") if isinstance(decoded, dict) else None
    return str(text)[:200] if text else body[:200].decode("utf-8", "replace")
