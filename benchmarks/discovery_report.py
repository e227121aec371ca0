"""The discovery benchmark's records, its targets and its table (see bench_discovery.py for the
run)."""

from __future__ import annotations

from dataclasses import dataclass

from tests.kit.sampling import Idle, Memory
from tests.kit.timing import HEAD, Stats, fmt_load, stats_row

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
