"""Timing: distributions of durations, ways timed in shuffled rounds, their table rows."""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Stats:
    """A distribution of durations, in milliseconds."""

    n: int
    """How many samples."""
    min: float
    """The smallest."""
    median: float
    """The median."""
    p95: float
    """The 95th percentile."""
    max: float
    """The largest."""

    @staticmethod
    def of(seconds: list[float]) -> Stats:
        """Summarise samples given in seconds."""
        ms = sorted(s * 1000 for s in seconds)
        if not ms:
            return Stats(0, float("nan"), float("nan"), float("nan"), float("nan"))
        p95 = statistics.quantiles(ms, n=20, method="inclusive")[18] if len(ms) > 1 else ms[0]
        return Stats(len(ms), ms[0], statistics.median(ms), p95, ms[-1])


def interleave(ways: dict[str, Callable[[], object]], rounds: int) -> dict[str, Stats]:
    """Time every way once per round, in a new random order each round, after a warm-up."""
    for way in ways.values():
        for _ in range(3):
            way()
    samples: dict[str, list[float]] = {name: [] for name in ways}
    order = list(ways)
    for _ in range(rounds):
        random.shuffle(order)
        for name in order:
            start = time.perf_counter()
            ways[name]()
            samples[name].append(time.perf_counter() - start)
    return {name: Stats.of(values) for name, values in samples.items()}


HEAD = f"  {'':<40}{'median':>9}{'p95':>9}{'min':>9}{'max':>9}{'n':>6}"


def stats_row(label: str, s: Stats) -> str:
    """One table row of a distribution."""
    return f"  {label:<40}{s.median:>9.3f}{s.p95:>9.3f}{s.min:>9.3f}{s.max:>9.3f}{s.n:>6}"


def fmt_load(value: object) -> str:
    """A load-average triple, briefly."""
    return " ".join(f"{v:.2f}" for v in value) if isinstance(value, tuple) else str(value)
