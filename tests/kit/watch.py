"""Drivers of `porttray watch --json`: a collector thread for the soak, a non-blocking line
reader for latency measurements."""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import fcntl
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.kit.load import listening_process
from tests.kit.tray_process import read_text, terminate

PORTTRAY = Path(sys.executable).parent / "porttray"


@dataclass(frozen=True, slots=True)
class WatchEvent:
    """One line of `porttray watch --json`."""

    kind: str
    """"opened" or "closed"."""
    port: int
    pid: int | None
    at: float
    """Its "at" stamp, seconds since the epoch."""


class WatchProcess:
    """`porttray -v watch --json` with the desktop's settings; its events collected by a thread."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        self.events: list[WatchEvent] = []
        self._lock = threading.Lock()
        with log.open("ab") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tray", "-v", "watch", "--json"],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=err,
            )
        self._reader = threading.Thread(target=self._read, name="soak-watch-reader")
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            data = json.loads(raw)
            server = data["server"]
            at = dt.datetime.fromisoformat(data["at"]).timestamp()
            with self._lock:
                self.events.append(WatchEvent(data["event"], server["port"], server["pid"], at))

    def wait_ready(self, timeout: float = 20.0) -> None:
        """Until its first scan is done and it polls."""
        deadline = time.monotonic() + timeout
        while "watching with" not in read_text(self.log):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"porttray watch did not start: {read_text(self.log)}")
            time.sleep(0.05)

    def collected(self) -> list[WatchEvent]:
        with self._lock:
            return list(self.events)

    def stop(self) -> int:
        """SIGTERM it, reap it, join the reader; its exit status."""
        code = terminate(self.proc)
        self._reader.join(5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        return code

    def tracebacks(self) -> int:
        return read_text(self.log).count("Traceback")


class Lines:
    """Lines from a child's stdout, read without blocking past a deadline."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._buffer = b""
        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
        fcntl.fcntl(fd, fcntl.F_SETFL, flags | os.O_NONBLOCK)

    def next(self, deadline: float) -> str | None:
        """The next whole line, or None once the monotonic deadline passes or output ends."""
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._fd], [], [], left)[0]:
                return None
            try:
                chunk = os.read(self._fd, 65536)
            except BlockingIOError:
                continue
            if not chunk:
                return None
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.decode()

    def drain(self) -> list[str]:
        """Every line available now."""
        lines: list[str] = []
        while (line := self.next(time.monotonic())) is not None:
            lines.append(line)
        return lines

    def wait_for(self, kind: str, port: int, timeout: float) -> tuple[dict[str, object], float]:
        """The first `kind` event for `port` and the time.time() it was read; TimeoutError."""
        deadline = time.monotonic() + timeout
        while (line := self.next(deadline)) is not None:
            event = json.loads(line)
            server = event.get("server") or {}
            if event.get("event") == kind and server.get("port") == port:
                return event, time.time()
        raise TimeoutError(f"no {kind} event for port {port} within {timeout} s")


@contextlib.contextmanager
def watch_process(interval: float | None) -> Iterator[tuple[subprocess.Popen[bytes], Lines]]:
    """`porttray watch --json` in its own session; stopped with SIGTERM (then SIGKILL) on exit."""
    command = [str(PORTTRAY), "watch", "--json"]
    if interval is not None:
        command += ["--interval", str(interval)]
    with tempfile.TemporaryFile() as stderr:
        proc = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=stderr,
            start_new_session=True,
            preexec_fn=die_with_parent,  # noqa: PLW1509 (the benchmark runs no threads)
        )
        try:
            assert proc.stdout is not None
            yield proc, Lines(proc.stdout.fileno())
        finally:
            stop(proc)
            stderr.seek(0)
            if errors := stderr.read().decode(errors="replace").strip():
                print(f"porttray watch wrote on stderr:\n{errors}", file=sys.stderr)


def die_with_parent() -> None:
    """In a child before exec: receive SIGTERM when the benchmark dies, however it dies."""
    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Ask the process to end, then insist; always reap it."""
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()


def wait_until_watching(lines: Lines, timeout: float = 30.0) -> None:
    """Return once watch's poll loop runs: a new listener has been reported opened and closed.

    A listener that appears before watch's first scan is part of its baseline and never
    reported, so listeners are tried one after another until one is.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with listening_process() as child:
            try:
                lines.wait_for("opened", child.port, timeout=2)
            except TimeoutError:
                continue
        lines.wait_for("closed", child.port, timeout=5)
        return
    raise TimeoutError(f"porttray watch reported nothing within {timeout} s")
