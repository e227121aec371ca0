"""What a soak is given and what it measured: its size, the samples of the tray, what
`porttray watch` saw against what the workers did, and the targets the result is held to."""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.kit.churn import ChurnPlan
from tests.kit.sampling import ProcSample

INTERVAL = 0.5
"""The tray's default poll interval, in seconds."""
TARGET_RSS_GROWTH_MIB = 5.0
ISOLATED = "PORTTRAY_SOAK_ISOLATED"
"""Set (to 1) in the environment of a soak run in a private network namespace."""


@dataclass(frozen=True, slots=True)
class SoakConfig:
    """How big one soak is."""

    listeners: int
    """Listeners opened in all."""
    rate: float
    """Openings per second, over all workers."""
    workers: int
    """Worker processes."""
    warmup: int
    """Listeners opened (and closed) before the reference sample is taken."""
    sample_every: float
    """Seconds between samples."""
    long_min: float = 0.6
    long_max: float = 2.0
    short_share: float = 0.15
    short_life: float = 0.05
    seed: int = 1

    @staticmethod
    def make(quick: bool) -> SoakConfig:
        """The quick (about a minute) or the long (about 25 minutes) soak."""
        if quick:
            return SoakConfig(listeners=600, rate=12.0, workers=4, warmup=100, sample_every=10.0)
        return SoakConfig(listeners=20000, rate=13.5, workers=4, warmup=200, sample_every=10.0)

    def plans(self) -> list[ChurnPlan]:
        """Each worker's share."""
        share = [self.listeners // self.workers] * self.workers
        share[0] += self.listeners - sum(share)
        return [
            ChurnPlan(
                count=n,
                rate=self.rate / self.workers,
                long_min=self.long_min,
                long_max=self.long_max,
                short_share=self.short_share,
                short_life=self.short_life,
                seed=self.seed * 1000 + i,
                warmup=self.warmup // self.workers,
            )
            for i, n in enumerate(share)
        ]


@dataclass(frozen=True, slots=True)
class Sample:
    """The tray process at one moment of the soak."""

    t: float
    """Seconds since the churn started."""
    opened: int
    """Listeners opened so far."""
    notifications: int
    """Notifications dunst was sent so far (from the tray's start)."""
    tray: ProcSample
    watch_rss_mib: float


@dataclass(frozen=True, slots=True)
class Oracle:
    """What `porttray watch` saw of the churn, against what really happened."""

    opened: int
    """Listeners the workers opened."""
    long_lived: int
    """Of them, held longer than the poll interval."""
    long_missed_open: int
    """Long-lived listeners with no opened event."""
    long_missed_close: int
    """Long-lived listeners with no closed event."""
    shortest_missed_s: float | None
    """The shortest lifetime among the long-lived ones missed (None: none missed)."""
    sub_interval: int
    """Listeners held no longer than the interval."""
    sub_interval_seen: int
    """Of them, reported opened."""
    unmatched_events: int
    """Events about the workers' processes that match no listener (0 expected)."""
    events: int
    """All events about the workers' processes."""


@dataclass(frozen=True, slots=True)
class SoakResult:
    """Everything one soak measured."""

    mode: str
    config: SoakConfig
    seconds: float
    """The churn's wall time after the warm-up."""
    rate: float
    """Listeners opened per second after the warm-up, achieved."""
    start: Sample
    """Right after the tray was ready, before the churn."""
    reference: Sample
    """After the warm-up listeners had come and gone and the tray had settled."""
    end: Sample
    """After the churn, once the tray had settled."""
    samples: tuple[Sample, ...]
    """Every sample, in order."""
    oracle: Oracle
    notifications: int
    """Notifications sent during the churn."""
    tray_exit: int | None
    tray_tracebacks: int
    watch_tracebacks: int
    machine: dict[str, object] = field(default_factory=dict)

    @property
    def rss_growth_mib(self) -> float:
        return self.end.tray.rss_mib - self.reference.tray.rss_mib

    @property
    def peak_rss_growth_mib(self) -> float:
        after = [s.tray.rss_mib for s in self.samples if s.t >= self.reference.t]
        return max(after) - self.reference.tray.rss_mib

    def targets(self) -> dict[str, bool]:
        o = self.oracle
        return {
            f"RSS growth <= {TARGET_RSS_GROWTH_MIB:g} MiB": self.rss_growth_mib
            <= TARGET_RSS_GROWTH_MIB,
            "fds flat (±2)": abs(self.end.tray.fds - self.reference.tray.fds) <= 2,
            "threads flat": self.end.tray.steady_threads == self.reference.tray.steady_threads,
            "no long-lived listener missed": o.long_missed_open == 0 and o.long_missed_close == 0,
            "notifications << listeners": self.notifications * 10 < o.opened,
            "no tracebacks, exit 0": self.tray_tracebacks == 0
            and self.watch_tracebacks == 0
            and self.tray_exit == 0,
        }
