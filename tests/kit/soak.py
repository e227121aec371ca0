"""The soak: the real tray on the test desktop while thousands of short-lived listeners come
and go, `porttray watch --json` beside it as the event oracle (see benchmarks/soak.py)."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.kit.churn import Churn, ChurnPlan, Life, churning
from tests.kit.desktop import Desktop
from tests.kit.machine import machine_facts
from tests.kit.sampling import ProcSample
from tests.kit.soak_match import attribute
from tests.kit.tray_process import TrayProcess, running_tray
from tests.kit.watch import WatchEvent, WatchProcess

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


def match(lives: list[Life], events: list[WatchEvent], interval: float = INTERVAL) -> Oracle:
    """Pair the workers' listeners with watch's events (exactly: see soak_match)."""
    pids = {life.pid for life in lives}
    mine = [e for e in events if e.pid in pids]
    found = attribute(lives, mine)
    long_lived = missed_open = missed_close = sub = sub_seen = 0
    shortest: float | None = None
    for life, seen in zip(lives, found.seen, strict=True):
        if life.lived > interval:
            long_lived += 1
            missed_open += not seen.opened
            missed_close += not seen.closed
            if not (seen.opened and seen.closed):
                shortest = min(shortest or math.inf, life.lived)
        else:
            sub += 1
            sub_seen += seen.opened
    return Oracle(
        opened=len(lives),
        long_lived=long_lived,
        long_missed_open=missed_open,
        long_missed_close=missed_close,
        shortest_missed_s=shortest,
        sub_interval=sub,
        sub_interval_seen=sub_seen,
        unmatched_events=found.unmatched,
        events=len(mine),
    )


def _sample(
    desktop: Desktop, tray: TrayProcess, watch: WatchProcess, churn_: Churn, t0: float
) -> Sample:
    return Sample(
        t=round(time.monotonic() - t0, 2),
        opened=churn_.opened(),
        notifications=desktop.notifications.count(),
        tray=ProcSample.of(tray.pid),
        watch_rss_mib=ProcSample.of(watch.proc.pid).rss_mib,
    )


def _quiet(tray: TrayProcess, least: float, most: float, back_to: ProcSample | None) -> None:
    """Wait `least` seconds (the last closes polled, probes ended, a batch announced), then until
    the tray's fds hold still for half a second and, given `back_to`, are back within 2 of it with
    its steady threads — or `most` seconds passed."""
    time.sleep(least)
    deadline = time.monotonic() + most
    last = ProcSample.of(tray.pid)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = ProcSample.of(tray.pid)
        back = back_to is None or (
            abs(now.fds - back_to.fds) <= 2 and now.steady_threads <= back_to.steady_threads
        )
        if now.fds == last.fds and back:
            return
        last = now


def soak(
    desktop: Desktop,
    config: SoakConfig,
    workdir: Path,
    mode: str = "quick",
    say: Callable[[str], None] = lambda line: None,
) -> SoakResult:
    """Run one soak against a fresh tray on `desktop`; logs go to `workdir`."""
    with churning(config.plans()) as churn_, running_tray(desktop, workdir / "tray.log") as tray:
        watch = WatchProcess(desktop.env, workdir / "watch.log")
        try:
            watch.wait_ready()
            t0 = time.monotonic()
            samples = [_sample(desktop, tray, watch, churn_, t0)]
            next_at = [t0 + config.sample_every]

            def take(tag: str = "") -> Sample:
                samples.append(_sample(desktop, tray, watch, churn_, t0))
                say(sample_row(samples[-1], tag))
                return samples[-1]

            def churn_until(finished: Callable[[], bool]) -> None:
                while not finished():
                    if time.monotonic() >= next_at[0]:
                        next_at[0] += config.sample_every
                        take()
                        desktop.notifications.close_all()  # as a user would: dunst keeps them
                    time.sleep(0.1)

            say(SAMPLE_HEAD)
            say(sample_row(samples[0], "start"))
            churn_.go()
            churn_until(churn_.warm)
            _quiet(tray, least=3.0, most=10.0, back_to=None)
            reference = take("warm")
            main_start = time.monotonic()
            churn_.go()
            churn_until(churn_.done)
            seconds = time.monotonic() - main_start
            _quiet(tray, least=3.0, most=15.0, back_to=reference.tray)
            end = take("end")
        finally:
            watch.stop()
        oracle = match(churn_.records(), watch.collected())
    return SoakResult(
        mode=mode,
        config=config,
        seconds=round(seconds, 1),
        rate=round((end.opened - reference.opened) / seconds, 2),
        start=samples[0],
        reference=reference,
        end=end,
        samples=tuple(samples),
        oracle=oracle,
        notifications=end.notifications - samples[0].notifications,
        tray_exit=tray.exit_code,
        tray_tracebacks=tray.tracebacks(),
        watch_tracebacks=watch.tracebacks(),
        machine=machine_facts(
            "end", isolated_netns=os.environ.get("PORTTRAY_SOAK_ISOLATED") == "1"
        ),
    )


SAMPLE_HEAD = (
    f"  {'':<6}{'t s':>8}{'opened':>8}{'notes':>7}{'RSS MiB':>9}{'PssAnon':>9}"
    f"{'fds':>5}{'thr':>5}{'CPU s':>8}{'watch RSS':>10}"
)


def sample_row(s: Sample, tag: str = "") -> str:
    """One line of the sample table."""
    p = s.tray
    return (
        f"  {tag:<6}{s.t:>8.1f}{s.opened:>8}{s.notifications:>7}{p.rss_mib:>9.1f}"
        f"{p.pss_anon_mib:>9.1f}{p.fds:>5}{p.threads:>5}{p.cpu_s:>8.1f}{s.watch_rss_mib:>10.1f}"
    )
