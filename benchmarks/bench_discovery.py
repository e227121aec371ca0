"""Discovery benchmark: what porttray's listener polling costs on a loaded machine, and how fast
`porttray watch` reports a new server.

One run builds a busy-desktop load (hundreds of idle processes holding open files, fifty loopback
listeners spread over them), then measures:

1. per-poll cost of the warm netlink engine, the bare netlink LISTEN dump it is built on (the
   floor), the /proc/net fallback engine and `psutil.net_connections("tcp")`, interleaved in
   shuffled rounds so machine noise falls on all of them alike; plus a cold first scan (every
   owner unknown) and a scan right after one new listener appears in a new process;
2. the idle CPU share, RSS and anonymous PSS of a real `porttray watch --json` process;
3. the delay from listen() in a new process to the `opened` event `porttray watch --json` prints.

Results are printed as a table and written to benchmarks/results/discovery.json.
Run: `.venv/bin/python -m benchmarks.bench_discovery [--quick]`.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import psutil

from benchmarks.discovery_report import (
    INTERVAL,
    Cold,
    Config,
    Incremental,
    Latency,
    Ratios,
    Result,
    Watch,
    render,
)
from tests.kit.load import Load, idle_processes, listening_process
from tests.kit.machine import machine_facts, plain
from tests.kit.sampling import Idle, ProcSample, cpu_ns, cpu_ticks, kib_fields, memory
from tests.kit.timing import Stats, interleave
from tests.kit.watch import Lines, wait_until_watching, watch_process
from tray.diff import diff
from tray.discover import Engine, open_engine
from tray.discover.linux import LinuxOwners
from tray.discover.netlink import NetlinkSource
from tray.discover.owners import OwnerIndex
from tray.model import Snapshot

RESULTS = Path(__file__).resolve().parent / "results" / "discovery.json"
PORTTRAY = Path(sys.executable).parent / "porttray"
# ---------------------------------------------------------------- per-poll cost


def check_snapshot(snapshot: Snapshot, expected: dict[int, int], what: str) -> None:
    """Fail loudly when a scan misses a load listener or names the wrong process."""
    found = {s.port: s.pid for s in snapshot.servers}
    wrong = {port: found.get(port) for port, pid in expected.items() if found.get(port) != pid}
    if wrong:
        raise RuntimeError(f"{what} got {len(wrong)} listeners wrong (port: pid seen): {wrong}")


def watch_step(engine: Engine) -> Callable[[], None]:
    """What one poll of `porttray watch` does: scan, keep loopback servers, diff with the last."""
    previous = [visible_snapshot(engine.scan())]

    def step() -> None:
        current = visible_snapshot(engine.scan())
        diff(previous[0], current)
        previous[0] = current

    return step


def visible_snapshot(snapshot: Snapshot) -> Snapshot:
    """The snapshot with only the servers a user sees, as `porttray watch` keeps it."""
    servers = tuple(s for s in snapshot.servers if s.loopback)
    return Snapshot(servers, snapshot.method, snapshot.taken)


def measure_polls(load: Load, rounds: int) -> dict[str, Stats]:
    """Per-poll cost of each way, interleaved in shuffled rounds."""
    expected = dict(zip(load.ports, load.listener_pids, strict=True))
    engine, proc_engine, floor = open_engine("netlink"), open_engine("proc"), NetlinkSource()
    try:
        check_snapshot(engine.scan(), expected, "the netlink engine")
        check_snapshot(proc_engine.scan(), expected, "the /proc engine")
        check_psutil(expected)
        ways: dict[str, Callable[[], object]] = {
            "netlink floor": floor.listeners,
            "engine netlink": engine.scan,
            "engine proc": proc_engine.scan,
            "psutil": lambda: psutil.net_connections("tcp"),
            "watch step": watch_step(engine),
        }
        return interleave(ways, rounds)
    finally:
        engine.close()
        proc_engine.close()
        floor.close()


def check_psutil(expected: dict[int, int]) -> None:
    """psutil must see the same listeners, or comparing with it means nothing."""
    seen = {
        c.laddr.port: c.pid
        for c in psutil.net_connections("tcp")
        if c.status == psutil.CONN_LISTEN and c.laddr
    }
    missing = [port for port, pid in expected.items() if seen.get(port) != pid]
    if missing:
        raise RuntimeError(f"psutil misses listeners on ports {missing}")


def live_inodes() -> set[int]:
    """The inodes of every listening socket now."""
    source = NetlinkSource()
    try:
        return {listener.inode for listener in source.listeners()}
    finally:
        source.close()


def measure_cold(load: Load, runs: int) -> Cold:
    """First scans of fresh engines: every listener's owner is searched for and read."""
    expected = dict(zip(load.ports, load.listener_pids, strict=True))
    scans: list[float] = []
    searches: list[float] = []
    full_scans: list[int] = []
    for _ in range(runs):
        owners = LinuxOwners()
        engine = Engine(NetlinkSource(), owners)
        try:
            start = time.perf_counter()
            snapshot = engine.scan()
            scans.append(time.perf_counter() - start)
        finally:
            engine.close()
        check_snapshot(snapshot, expected, "a cold engine")
        full_scans.append(owners.index.full_scans)
        inodes = live_inodes()
        start = time.perf_counter()
        OwnerIndex().owners(inodes)
        searches.append(time.perf_counter() - start)
    return Cold(Stats.of(scans), Stats.of(searches), tuple(full_scans))


def measure_incremental(load: Load, runs: int) -> Incremental:
    """Scans of a warm engine right after a new process starts listening, and after it stops."""
    owners = LinuxOwners()
    engine = Engine(NetlinkSource(), owners)
    appeared: list[float] = []
    vanished: list[float] = []
    try:
        expected = dict(zip(load.ports, load.listener_pids, strict=True))
        check_snapshot(engine.scan(), expected, "a warm engine")
        before = owners.index.full_scans
        for _ in range(runs):
            with listening_process() as child:
                start = time.perf_counter()
                snapshot = engine.scan()
                appeared.append(time.perf_counter() - start)
                check_snapshot(snapshot, {child.port: child.pid}, "an incremental scan")
            start = time.perf_counter()
            engine.scan()
            vanished.append(time.perf_counter() - start)
        return Incremental(Stats.of(appeared), Stats.of(vanished), owners.index.full_scans - before)
    finally:
        engine.close()


def measure_idle(proc: subprocess.Popen[bytes], lines: Lines, seconds: float) -> Idle:
    """CPU share of one core used by an idle `porttray watch` over `seconds`."""
    tick = os.sysconf("SC_CLK_TCK")
    ticks, ns, start = cpu_ticks(proc.pid), cpu_ns(proc.pid), time.monotonic()
    time.sleep(seconds)  # the measurement window itself: nothing to wait for
    ticks, ns = cpu_ticks(proc.pid) - ticks, cpu_ns(proc.pid) - ns
    elapsed = time.monotonic() - start
    return Idle(
        seconds=round(elapsed, 2),
        cpu_ticks=ticks,
        cpu_percent=100 * ticks / tick / elapsed,
        cpu_percent_schedstat=100 * ns / 1e9 / elapsed,
        events_meanwhile=len(lines.drain()),
        memory=ProcSample.of(proc.pid),
    )


def measure_latency(lines: Lines, trials: int, interval: float) -> Latency:
    """listen() in a new process → watch's `opened` event: by its "at" stamp and by arrival."""
    stamped: list[float] = []
    arrived: list[float] = []
    missed = 0
    for _ in range(trials):
        time.sleep(random.uniform(0, interval))  # a random phase against watch's poll schedule
        with listening_process() as child:
            try:
                event, read_at = lines.wait_for("opened", child.port, timeout=3)
            except TimeoutError:
                missed += 1
                continue
        at = dt.datetime.fromisoformat(str(event["at"])).timestamp()
        stamped.append(at - child.listened_at)
        arrived.append(read_at - child.listened_at)
        with contextlib.suppress(TimeoutError):
            lines.wait_for("closed", child.port, timeout=3)
    return Latency(Stats.of(stamped), Stats.of(arrived), missed)


def measure_watch(config: Config) -> Watch:
    """Idle cost and listen → event latency of one `porttray watch --json` process."""
    with watch_process(None) as (proc, lines):
        wait_until_watching(lines)
        time.sleep(1.0)  # let start-up work (imports, first resolution) fall out of the window
        idle = measure_idle(proc, lines, config.idle_seconds)
        latency = measure_latency(lines, config.trials, INTERVAL)
        return Watch(INTERVAL, idle, latency, memory(proc.pid))


# ---------------------------------------------------------------- facts and the run


def load_facts(load: Load) -> dict[str, object]:
    """The machine, its listeners and the load built on it."""
    pss = 0.0
    for pid in load.pids:
        with contextlib.suppress(OSError, KeyError):
            pss += kib_fields(f"/proc/{pid}/smaps_rollup", ("Pss",))["Pss"]
    return machine_facts(
        tcp_listeners=len(live_inodes()),
        load_processes=len(load.pids),
        load_listeners=len(load.ports),
        load_pss_mib=round(pss, 1),
    )


def run(config: Config, mode: str) -> Result:
    """Build the load, measure everything, tear the load down."""
    with idle_processes(config.processes, config.fds_each, config.listeners) as load:
        facts = load_facts(load)
        polls = measure_polls(load, config.rounds)
        return Result(
            mode=mode,
            config=config,
            machine=facts,
            polls=polls,
            ratios=Ratios.of(polls),
            cold=measure_cold(load, config.cold_runs),
            incremental=measure_incremental(load, config.incremental_runs),
            watch=measure_watch(config),
            loadavg_at_end=os.getloadavg(),
        )


def main() -> int:
    """Run the benchmark, print the table, write the JSON."""
    parser = argparse.ArgumentParser(description="porttray's discovery benchmark")
    parser.add_argument("--quick", action="store_true", help="a shorter run (about a minute)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))  # clean up as on ^C
    mode = "quick" if args.quick else "full"
    result = run(Config.make(args.quick), mode)
    print(render(result))
    data = {**asdict(result), "targets": result.targets()}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(plain(data), indent=2) + "\n")
    print(f"\nwritten to {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
