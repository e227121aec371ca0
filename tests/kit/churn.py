"""Listener churn: worker processes opening and closing loopback listeners at a steady rate,
each reporting every listen() and close() with its wall-clock time."""

from __future__ import annotations

import contextlib
import heapq
import json
import math
import os
import random
import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import IO

PORT_QUARANTINE = 30.0
"""A worker never listens again on a port it closed less than this many seconds ago."""


@dataclass(frozen=True, slots=True)
class ChurnPlan:
    """What one worker does."""

    count: int
    """Listeners to open in all."""
    rate: float
    """Mean openings per second (exponential gaps)."""
    long_min: float
    long_max: float
    """A long-lived listener is held uniformly between these, seconds."""
    short_share: float
    """The share of listeners held only `short_life` seconds."""
    short_life: float
    seed: int
    warmup: int = 0
    """After this many, wait for every one to close, say "W" and wait for a second start."""

    @property
    def slots(self) -> int:
        """At most this many held at once (a cap far above the mean)."""
        return math.ceil(self.rate * self.long_max * 2) + 4


Held = list[tuple[float, int, socket.socket]]
"""A worker's open listeners as a heap: (when to close, port, socket)."""


def _fresh_listener(recent: dict[int, float]) -> tuple[socket.socket, int]:
    """A socket listening on 127.0.0.1 on a port this worker has not used lately."""
    while True:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        if time.monotonic() - recent.get(port, -math.inf) >= PORT_QUARANTINE:
            sock.listen(8)
            return sock, port
        sock.close()


def churn(plan: ChurnPlan, out: IO[str], control: int) -> None:
    """The worker's loop: open and close listeners per `plan`, reporting each on `out`.

    Lines: "O PORT WALL" right after listen(), "C PORT WALL" right before close(), "W" at the
    end of the warm-up. Ends early when `control` (the parent's pipe) reaches end of file.
    """
    rng = random.Random(plan.seed)
    held: Held = []
    recent: dict[int, float] = {}
    opened, next_open, warm = 0, time.monotonic(), plan.warmup == 0
    try:
        while opened < plan.count or held:
            if not warm and opened == plan.warmup and not held:
                warm = True
                out.write("W\n")
                out.flush()
                if not os.read(control, 1):
                    return
                next_open = time.monotonic()
            now = time.monotonic()
            _close_due(held, recent, now, out)
            cap = plan.count if warm else plan.warmup
            if opened < cap and now >= next_open and len(held) < plan.slots:
                _open_one(plan, rng, held, recent, out)
                opened += 1
                next_open = max(next_open + rng.expovariate(plan.rate), now - 1.0)
            out.flush()
            wakes = [held[0][0]] if held else []
            if opened < cap:
                wakes.append(next_open)
            wait = max(0.0, min(wakes, default=now) - time.monotonic())
            if select.select([control], [], [], wait)[0] and not os.read(control, 1):
                return
    finally:
        for _, _, sock in held:
            sock.close()


def _close_due(held: Held, recent: dict[int, float], now: float, out: IO[str]) -> None:
    """Close every listener whose time is up, reporting each right before close()."""
    while held and held[0][0] <= now:
        _, port, sock = heapq.heappop(held)
        out.write(f"C {port} {time.time():.6f}\n")
        sock.close()
        recent[port] = time.monotonic()


def _open_one(
    plan: ChurnPlan, rng: random.Random, held: Held, recent: dict[int, float], out: IO[str]
) -> None:
    """Open one listener, report it right after listen(), and draw how long it is held."""
    sock, port = _fresh_listener(recent)
    out.write(f"O {port} {time.time():.6f}\n")
    short = rng.random() < plan.short_share
    life = plan.short_life if short else rng.uniform(plan.long_min, plan.long_max)
    heapq.heappush(held, (time.monotonic() + life, port, sock))


def _worker_main(plan_json: str) -> int:
    plan = ChurnPlan(**json.loads(plan_json))
    sys.stdin.buffer.read(1)  # the start signal (end of file: stop before starting)
    churn(plan, sys.stdout, sys.stdin.fileno())
    return 0


@dataclass
class Life:
    """One listener a worker opened."""

    pid: int
    port: int
    opened: float
    """Wall-clock time right after listen()."""
    closed: float | None = None
    """Wall-clock time right before close()."""

    @property
    def lived(self) -> float:
        return (self.closed or math.inf) - self.opened


class Churn:
    """Worker processes opening and closing listeners; what they did, as `Life` records."""

    def __init__(self, plans: list[ChurnPlan]) -> None:
        self.lives: list[Life] = []
        self._warm: set[int] = set()
        self._lock = threading.Lock()
        self.procs: list[subprocess.Popen[str]] = []
        self._readers: list[threading.Thread] = []
        for plan in plans:
            proc = subprocess.Popen(
                [sys.executable, __file__, "--worker", json.dumps(asdict(plan))],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            self.procs.append(proc)
            reader = threading.Thread(
                target=self._read, args=(proc,), name=f"soak-churn-{proc.pid}"
            )
            reader.start()
            self._readers.append(reader)

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        open_now: dict[int, Life] = {}
        for line in proc.stdout:
            if line.strip() == "W":
                with self._lock:
                    self._warm.add(proc.pid)
                continue
            kind, port_text, at_text = line.split()
            port, at = int(port_text), float(at_text)
            with self._lock:
                if kind == "O":
                    life = Life(proc.pid, port, at)
                    open_now[port] = life
                    self.lives.append(life)
                else:
                    open_now.pop(port).closed = at

    def warm(self) -> bool:
        """Whether every worker has finished its warm-up and waits for `go`."""
        with self._lock:
            return len(self._warm) == len(self.procs)

    def go(self) -> None:
        """Start every worker (or let it go on after its warm-up)."""
        for proc in self.procs:
            assert proc.stdin is not None
            proc.stdin.write("g")
            proc.stdin.flush()

    @property
    def pids(self) -> set[int]:
        return {proc.pid for proc in self.procs}

    def opened(self) -> int:
        with self._lock:
            return len(self.lives)

    def done(self) -> bool:
        return all(proc.poll() is not None for proc in self.procs)

    def records(self) -> list[Life]:
        with self._lock:
            return list(self.lives)

    def stop(self) -> None:
        """End every worker (closing its listeners) and reap it; join the readers."""
        for proc in self.procs:
            if proc.stdin is not None:
                with contextlib.suppress(OSError):
                    proc.stdin.close()
        for proc in self.procs:
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for reader in self._readers:
            reader.join(5)
        for proc in self.procs:
            if proc.stdout is not None:
                proc.stdout.close()


@contextlib.contextmanager
def churning(plans: list[ChurnPlan]) -> Iterator[Churn]:
    """Started-but-waiting churn workers; stopped and reaped on exit."""
    churn_ = Churn(plans)
    try:
        yield churn_
    finally:
        churn_.stop()


if __name__ == "__main__":
    sys.exit(_worker_main(sys.argv[2]))
