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
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

from tests.kit.load import Load, idle_processes, listening_process
from tests.kit.machine import machine_facts, plain
from tests.kit.sampling import Idle, Memory, ProcSample, cpu_ns, cpu_ticks, kib_fields, memory
from tests.kit.timing import HEAD, Stats, fmt_load, interleave, stats_row
from tests.kit.watch import Lines, wait_until_watching, watch_process
from tray.diff import diff, visible
from tray.discover import Engine, open_engine
from tray.discover.linux import LinuxOwners
from tray.discover.netlink import NetlinkSource
from tray.model import Snapshot
from tray.owners import OwnerIndex

RESULTS = Path(__file__).resolve().parent / "results" / "discovery.json"
PORTTRAY = Path(sys.executable).parent / "porttray"
INTERVAL = 0.5
"""porttray watch's default poll interval, in seconds."""

TARGET_FLOOR_RATIO = 2.0
TARGET_PSUTIL_RATIO = 100.0
TARGET_IDLE_CPU_PERCENT = 0.3
TARGET_RSS_MIB = 30.0
TARGET_LATENCY_MAX_MS = INTERVAL * 1000 + 50


@dataclass(frozen=True, slots=True)
class Config:
    """How big and how long one run is."""

    processes: int
    """Idle processes in the load."""
    fds_each: int
    """Open fds each idle process opens itself."""
    listeners: int
    """Loopback listeners spread over the idle processes."""
    rounds: int
    """Interleaved rounds of per-poll measurements."""
    cold_runs: int
    """Cold first scans, each with a fresh engine."""
    incremental_runs: int
    """Scans right after a new listening process appears."""
    idle_seconds: float
    """How long the idle CPU of `porttray watch` is measured."""
    trials: int
    """listen() → event latency trials."""

    @staticmethod
    def make(quick: bool) -> Config:
        """The quick or the full configuration."""
        if quick:
            return Config(300, 20, 50, 60, 3, 8, 15.0, 10)
        return Config(300, 20, 50, 300, 10, 30, 60.0, 40)


@dataclass(frozen=True, slots=True)
class Cold:
    """First scans of fresh engines."""

    scan: Stats
    """The whole first scan: dump, owner search, process details."""
    owner_search_only: Stats
    """The owner search alone, with a fresh index."""
    full_proc_scans_per_run: tuple[int, ...]
    """How many searches read every process, per run."""


@dataclass(frozen=True, slots=True)
class Incremental:
    """Scans of a warm engine as one listening process comes and goes."""

    appeared: Stats
    """The scan right after the new process listens."""
    vanished: Stats
    """The scan right after it has gone."""
    full_proc_scans: int
    """Searches that read every process, over all runs (0 is the goal)."""


@dataclass(frozen=True, slots=True)
class Latency:
    """listen() in a new process → the `opened` event of `porttray watch --json`."""

    event_at: Stats
    """By the event's "at" stamp (when watch's scan finished)."""
    read: Stats
    """By when the benchmark read the line."""
    missed: int
    """Trials whose event did not come within 3 s."""


@dataclass(frozen=True, slots=True)
class Watch:
    """What one `porttray watch --json` process cost and how fast it reported."""

    interval: float
    """Its poll interval, seconds."""
    idle: Idle
    """The idle window."""
    latency: Latency
    """The latency trials."""
    memory_after_trials: Memory
    """Memory after the trials."""


@dataclass(frozen=True, slots=True)
class Ratios:
    """The ratios the targets are about, from medians."""

    engine_over_floor: float
    """Warm netlink engine over the bare netlink dump."""
    psutil_over_engine: float
    """psutil.net_connections over the warm netlink engine."""

    @staticmethod
    def of(polls: dict[str, Stats]) -> Ratios:
        """From the per-poll medians."""
        engine = polls["engine netlink"].median
        return Ratios(engine / polls["netlink floor"].median, polls["psutil"].median / engine)


@dataclass(frozen=True, slots=True)
class Result:
    """Everything one run measured."""

    mode: str
    """"quick" or "full"."""
    config: Config
    """The run's size."""
    machine: dict[str, object]
    """What it ran on."""
    polls: dict[str, Stats]
    """Per-poll cost of each way."""
    ratios: Ratios
    """Ratios of medians."""
    cold: Cold
    """Cold first scans."""
    incremental: Incremental
    """Scans as one listener comes and goes."""
    watch: Watch
    """The watch process."""
    loadavg_at_end: tuple[float, float, float]
    """The machine's load average when the run ended (other work skews the numbers)."""

    def targets(self) -> dict[str, bool]:
        """Each target and whether it was met."""
        latency = self.watch.latency
        return {
            f"engine/floor <= {TARGET_FLOOR_RATIO:g}x": self.ratios.engine_over_floor
            <= TARGET_FLOOR_RATIO,
            f"psutil/engine >= {TARGET_PSUTIL_RATIO:g}x": self.ratios.psutil_over_engine
            >= TARGET_PSUTIL_RATIO,
            f"idle CPU < {TARGET_IDLE_CPU_PERCENT:g} %": self.watch.idle.cpu_percent
            < TARGET_IDLE_CPU_PERCENT,
            f"RSS <= {TARGET_RSS_MIB:g} MiB": self.watch.idle.memory.rss_mib <= TARGET_RSS_MIB,
            f"latency max <= {TARGET_LATENCY_MAX_MS:g} ms": latency.missed == 0
            and latency.event_at.max <= TARGET_LATENCY_MAX_MS,
        }


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
    return Snapshot(visible(snapshot.servers), snapshot.method, snapshot.taken)


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


# ---------------------------------------------------------------- facts and output


POLL_LABELS = {
    "netlink floor": "netlink LISTEN dump (floor)",
    "engine netlink": "engine.scan() netlink, warm",
    "engine proc": "engine.scan() /proc fallback, warm",
    "psutil": 'psutil.net_connections("tcp")',
    "watch step": "watch poll step (scan+visible+diff)",
}


def target_row(label: str, value: str, name: str, met: dict[str, bool]) -> str:
    """One row naming a target, the value reached and whether it was met."""
    return f"  {label:<26}{value:>12}   target {name:<22}{'ok' if met[name] else 'MISSED'}"


def render_header(result: Result) -> list[str]:
    """The first line: the machine and its load."""
    f = result.machine
    return [
        f"porttray discovery benchmark ({result.mode}): {f['processes']} processes, "
        f"{f['open_fds']} open fds, {f['tcp_listeners']} TCP listeners, {f['nproc']} CPUs, "
        f"Linux {f['kernel']}, Python {f['python']}",
        f"load average (1, 5, 15 min) at start {fmt_load(f['loadavg_at_start'])}, "
        f"at end {fmt_load(result.loadavg_at_end)}",
    ]


def render_scans(result: Result) -> list[str]:
    """Per-poll and one-off scan costs."""
    cold, incr = result.cold, result.incremental
    return [
        "",
        "per poll, ms (interleaved, shuffled rounds)",
        HEAD,
        *(stats_row(POLL_LABELS[name], stats) for name, stats in result.polls.items()),
        "",
        "one-off scans, ms",
        HEAD,
        stats_row("cold first scan (every owner unknown)", cold.scan),
        stats_row("  owner search alone (fresh index)", cold.owner_search_only),
        stats_row("scan after a new listening process", incr.appeared),
        stats_row("scan after that listener closed", incr.vanished),
        f"  searches that read every process: cold {max(cold.full_proc_scans_per_run)} "
        f"per run, incremental {incr.full_proc_scans} in {incr.appeared.n} runs",
    ]


def render_targets(result: Result) -> list[str]:
    """Ratios, the watch process and latency, each against its target."""
    met, r, watch = result.targets(), result.ratios, result.watch
    idle, lat = watch.idle, watch.latency
    names = list(met)
    return [
        "",
        "targets",
        target_row("engine / netlink floor", f"{r.engine_over_floor:.2f}x", names[0], met),
        target_row("psutil / engine", f"{r.psutil_over_engine:.0f}x", names[1], met),
        target_row(
            f"watch idle CPU ({idle.seconds:g} s)", f"{idle.cpu_percent:.3f} %", names[2], met
        ),
        target_row("watch RSS", f"{idle.memory.rss_mib:.1f} MiB", names[3], met),
        target_row("listen -> event, max", f"{lat.event_at.max:.1f} ms", names[4], met),
        "",
        f"porttray watch --json, interval {watch.interval} s",
        f"  idle CPU {idle.cpu_ticks} ticks = {idle.cpu_percent:.3f} % of one core "
        f"(schedstat: {idle.cpu_percent_schedstat:.3f} %); "
        f"{idle.events_meanwhile} events meanwhile",
        f"  memory after idle: RSS {idle.memory.rss_mib:.1f} MiB, Pss {idle.memory.pss_mib:.1f} "
        f"MiB, Pss_Anon {idle.memory.pss_anon_mib:.1f} MiB; RSS after trials "
        f"{watch.memory_after_trials.rss_mib:.1f} MiB",
        "",
        f"listen() -> opened event, ms ({lat.missed} missed)",
        HEAD,
        stats_row('by the event\'s "at" stamp', lat.event_at),
        stats_row("by when the line was read", lat.read),
    ]


def render(result: Result) -> str:
    """The results table."""
    return "\n".join(render_header(result) + render_scans(result) + render_targets(result))


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
