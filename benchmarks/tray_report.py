"""The tray benchmark's records, its targets and its table (see bench_tray.py for the run)."""

from __future__ import annotations

from dataclasses import dataclass

from tests.kit.sampling import Idle, ProcSample
from tests.kit.timing import HEAD, Stats, fmt_load, stats_row

TARGET_IDLE_CPU_PERCENT = 0.3
TARGET_PSS_ANON_MIB = 45.0
TARGET_LATENCY_MAX_MS = 1000.0
TARGET_REBUILD_MS = 100.0
MANY = 1000


@dataclass(frozen=True, slots=True)
class Config:
    """How big and how long one run is."""

    processes: int
    fds_each: int
    listeners: int
    idle_seconds: float
    trials: int
    rebuild_rounds: int

    @staticmethod
    def make(quick: bool) -> Config:
        if quick:
            return Config(300, 20, 50, 15.0, 10, 10)
        return Config(300, 20, 50, 60.0, 40, 30)


@dataclass(frozen=True, slots=True)
class Latency:
    """listen() in a new process → ":PORT " among the menu's top-level labels."""

    seen: Stats
    """By when the GetLayout that first showed it returned."""
    layout_call: Stats
    """How long one AboutToShow + GetLayout round trip took meanwhile."""
    missed: int
    """Trials not in the menu within 3 s."""


@dataclass(frozen=True, slots=True)
class Rebuild:
    """The pure menu rebuild with many servers."""

    servers: int
    """Servers in the state."""
    top_level: int
    """Top-level entries of the built menu."""
    more_label: str
    build: Stats
    """menu.build(state)."""
    adapter: Stats
    """to_pystray(pystray, items) under the dummy backend."""
    both: Stats
    """The two together, as a state change costs."""


@dataclass(frozen=True, slots=True)
class Result:
    mode: str
    config: Config
    machine: dict[str, object]
    tray_idle: Idle
    bare_idle: Idle
    latency: Latency
    tray_memory_after_trials: ProcSample
    rebuild: Rebuild
    tray_exit: int | None
    tray_tracebacks: int
    loadavg_at_end: tuple[float, float, float]

    def targets(self) -> dict[str, bool]:
        lat = self.latency
        return {
            f"idle CPU < {TARGET_IDLE_CPU_PERCENT:g} %": self.tray_idle.cpu_percent
            < TARGET_IDLE_CPU_PERCENT,
            f"Pss_Anon <= {TARGET_PSS_ANON_MIB:g} MiB": self.tray_idle.memory.pss_anon_mib
            <= TARGET_PSS_ANON_MIB,
            f"in menu max <= {TARGET_LATENCY_MAX_MS:g} ms": lat.missed == 0
            and lat.seen.max <= TARGET_LATENCY_MAX_MS,
            f"rebuild {MANY} max < {TARGET_REBUILD_MS:g} ms": self.rebuild.both.max
            < TARGET_REBUILD_MS,
            "tray: no traceback, exit 0": self.tray_tracebacks == 0 and self.tray_exit == 0,
        }


def target_row(label: str, value: str, name: str, met: dict[str, bool]) -> str:
    return f"  {label:<30}{value:>12}   target {name:<32}{'ok' if met[name] else 'MISSED'}"


def render(r: Result) -> str:
    """The results table."""
    return "\n".join([*_summary(r), "", *_measured(r), "", "targets", *_targets(r)])


def _summary(r: Result) -> list[str]:
    f = r.machine
    return [
        f"porttray tray benchmark ({r.mode}): {f['processes']} processes, "
        f"{f['open_fds']} open fds, {f['load_listeners']} load listeners, {f['nproc']} CPUs, "
        f"Linux {f['kernel']}, Python {f['python']}",
        f"load average at start {fmt_load(f['loadavg_at_start'])}, at end "
        f"{fmt_load(r.loadavg_at_end)}; tray settled {f['settle_seconds']} s after start",
    ]


def _measured(r: Result) -> list[str]:
    t, b, lat, rb = r.tray_idle, r.bare_idle, r.latency, r.rebuild
    mem_head = f"  {'':<34}{'CPU %':>8}{'sched %':>9}{'RSS':>8}{'Pss':>8}{'Pss_Anon':>10}"
    return [
        f"idle over {t.seconds:g} s, memory in MiB at its end",
        mem_head,
        idle_row("porttray (python -m tray)", t),
        idle_row("bare pystray icon, 2-item menu", b),
        f"  porttray after the latency trials: RSS {r.tray_memory_after_trials.rss_mib:.1f}, "
        f"Pss_Anon {r.tray_memory_after_trials.pss_anon_mib:.1f}; "
        f"{t.memory.fds} fds, {t.memory.threads} threads",
        "",
        f"listen() -> :PORT in the menu (GetLayout every ~10 ms), ms ({lat.missed} missed)",
        HEAD,
        stats_row("seen in the top-level menu", lat.seen),
        stats_row("  one AboutToShow + GetLayout call", lat.layout_call),
        "",
        f"menu rebuild with {rb.servers} servers: {rb.top_level} top-level + {rb.more_label!r}, ms",
        HEAD,
        stats_row("menu.build(state)", rb.build),
        stats_row("to_pystray adapter (dummy backend)", rb.adapter),
        stats_row("both", rb.both),
    ]


def _targets(r: Result) -> list[str]:
    met, names = r.targets(), list(r.targets())
    t, lat, rb = r.tray_idle, r.latency, r.rebuild
    return [
        target_row("idle CPU", f"{t.cpu_percent:.3f} %", names[0], met),
        target_row("Pss_Anon", f"{t.memory.pss_anon_mib:.1f} MiB", names[1], met),
        target_row("in the menu, max", f"{lat.seen.max:.0f} ms", names[2], met),
        target_row("rebuild, max", f"{rb.both.max:.1f} ms", names[3], met),
        target_row("tray stderr / exit", f"{r.tray_tracebacks} tb / {r.tray_exit}", names[4], met),
    ]


def idle_row(label: str, i: Idle) -> str:
    m = i.memory
    return (
        f"  {label:<34}{i.cpu_percent:>8.3f}{i.cpu_percent_schedstat:>9.3f}{m.rss_mib:>8.1f}"
        f"{m.pss_mib:>8.1f}{m.pss_anon_mib:>10.1f}"
    )
