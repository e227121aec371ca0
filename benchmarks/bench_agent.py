"""Costs of the tools for scripts and agents, as ratios to one discovery scan in the same run:
the orphan check the monitor makes every two seconds per own server, a history write per event,
and how soon `porttray wait` notices a server (from listen() to `wait_for` returning, and to the
command's exit, which adds interpreter shutdown).

Run: .venv/bin/python -m benchmarks.bench_agent
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tray.agent import Target
from tray.commands.agent import wait_for
from tray.discover import Engine

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results" / "agent.json"
ROUNDS = 200


def _median_ms(work: object, rounds: int = ROUNDS) -> float:
    assert callable(work)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def orphan_and_scan() -> dict[str, float]:
    from tray.discover import open_engine
    from tray.orphans import orphaned

    engine = open_engine()
    try:
        engine.scan()
        scan_ms = _median_ms(engine.scan)
    finally:
        engine.close()
    pids = [int(p) for p in os.listdir("/proc") if p.isdigit()][:100]
    check_ms = _median_ms(lambda: [orphaned(pid) for pid in pids], 50) / len(pids)
    return {"scan_ms": scan_ms, "orphan_check_ms_per_server": check_ms}


def history_writes() -> dict[str, float]:
    from tray.history import History
    from tray.model import ProcessInfo, Server

    with tempfile.TemporaryDirectory() as folder:
        history = History(Path(folder) / "h.sqlite3")
        counter = iter(range(10**6))

        def one() -> None:
            i = next(counter)
            server = Server(10_000 + i % 50_000, ("127.0.0.1",), i, ProcessInfo(i, started=1.0))
            history.record([server], at=float(i))

        one()
        write_ms = _median_ms(one)
        size = (Path(folder) / "h.sqlite3").stat().st_size
    return {"history_write_ms": write_ms, "history_bytes_after_writes": float(size)}


def wait_latency(rounds: int = 10) -> dict[str, float]:
    latencies = []
    for _ in range(rounds):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        waiter = subprocess.Popen(
            [sys.executable, "-m", "tray", "-v", "wait", str(port), "--timeout", "30"],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert waiter.stderr is not None
        assert "waiting for" in waiter.stderr.readline()  # it is about to poll
        with socket.socket() as server:
            server.bind(("127.0.0.1", port))
            server.listen()
            start = time.perf_counter()
            waiter.wait(30)
            latencies.append((time.perf_counter() - start) * 1000)
        waiter.stderr.close()
    return {
        "wait_notice_ms_median": statistics.median(latencies),
        "wait_notice_ms_max": max(latencies),
    }


def _wait_once(engine: Engine, port: int, done: list[float]) -> None:
    wait_for(engine, Target(port), 10)
    done.append(time.perf_counter())


def wait_in_process(rounds: int = 20) -> dict[str, float]:
    """From listen() to `wait_for` returning, without process start and exit."""
    import threading

    from tray.discover import open_engine

    engine = open_engine()
    latencies = []
    try:
        for _ in range(rounds):
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                port = probe.getsockname()[1]
            done: list[float] = []
            waiter = threading.Thread(target=_wait_once, args=(engine, port, done))
            waiter.start()
            time.sleep(0.25)
            with socket.socket() as server:
                server.bind(("127.0.0.1", port))
                server.listen()
                start = time.perf_counter()
                waiter.join()
            latencies.append((done[0] - start) * 1000)
    finally:
        engine.close()
    return {
        "wait_for_ms_median": statistics.median(latencies),
        "wait_for_ms_max": max(latencies),
    }


def main() -> None:
    figures: dict[str, float] = {
        **orphan_and_scan(),
        **history_writes(),
        **wait_in_process(),
        **wait_latency(),
    }
    figures["orphan_check_per_server_in_scans"] = (
        figures["orphan_check_ms_per_server"] / figures["scan_ms"]
    )
    figures["history_write_in_scans"] = figures["history_write_ms"] / figures["scan_ms"]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    for name, value in figures.items():
        print(f"{name:40} {value:10.3f}")


if __name__ == "__main__":
    main()
