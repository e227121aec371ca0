"""The soak: the real tray on the test desktop while thousands of short-lived listeners come
and go, `porttray watch --json` beside it as the event oracle (see benchmarks/soak.py)."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from pathlib import Path

from tests.kit.churn import Churn, Life, churning
from tests.kit.desktop import Desktop
from tests.kit.machine import machine_facts
from tests.kit.sampling import ProcSample
from tests.kit.soak_match import attribute
from tests.kit.soak_records import INTERVAL, ISOLATED, Oracle, Sample, SoakConfig, SoakResult
from tests.kit.tray_process import TrayProcess, running_tray
from tests.kit.watch import WatchEvent, WatchProcess

__all__ = ["INTERVAL", "SoakConfig", "SoakResult", "match", "soak"]


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


class _Run:
    """One soak in progress: the samples taken so far, and the churn driven phase by phase."""

    def __init__(
        self,
        desktop: Desktop,
        tray: TrayProcess,
        watch: WatchProcess,
        churn_: Churn,
        config: SoakConfig,
        say: Callable[[str], None],
    ) -> None:
        self.desktop, self.tray, self.watch, self.churn = desktop, tray, watch, churn_
        self.config, self.say = config, say
        self.t0 = time.monotonic()
        self.samples = [_sample(desktop, tray, watch, churn_, self.t0)]
        self.next_at = self.t0 + config.sample_every

    def take(self, tag: str = "") -> Sample:
        self.samples.append(_sample(self.desktop, self.tray, self.watch, self.churn, self.t0))
        self.say(sample_row(self.samples[-1], tag))
        return self.samples[-1]

    def churn_until(self, finished: Callable[[], bool]) -> None:
        """Let the workers go on until `finished`, sampling every `sample_every` seconds."""
        while not finished():
            if time.monotonic() >= self.next_at:
                self.next_at += self.config.sample_every
                self.take()
                self.desktop.notifications.close_all()  # as a user would: dunst keeps them
            time.sleep(0.1)

    def phases(self) -> tuple[Sample, Sample, float]:
        """The warm-up, then the churn proper: the reference and end samples, the churn's time."""
        self.say(SAMPLE_HEAD)
        self.say(sample_row(self.samples[0], "start"))
        self.churn.go()
        self.churn_until(self.churn.warm)
        _quiet(self.tray, least=3.0, most=10.0, back_to=None)
        reference = self.take("warm")
        main_start = time.monotonic()
        self.churn.go()
        self.churn_until(self.churn.done)
        seconds = time.monotonic() - main_start
        _quiet(self.tray, least=3.0, most=15.0, back_to=reference.tray)
        return reference, self.take("end"), seconds


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
            run = _Run(desktop, tray, watch, churn_, config, say)
            reference, end, seconds = run.phases()
        finally:
            watch.stop()
        oracle = match(churn_.records(), watch.collected())
    samples = run.samples
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
        machine=machine_facts("end", isolated_netns=os.environ.get(ISOLATED) == "1"),
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
