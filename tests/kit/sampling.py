"""Process sampling from /proc: the CPU time, memory, fds and threads of a running process."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Memory:
    """A process's memory, in MiB."""

    rss_mib: float
    """VmRSS."""
    pss_mib: float
    """Pss from smaps_rollup."""
    pss_anon_mib: float
    """Pss_Anon from smaps_rollup: what the process alone costs in heap and stacks."""


@dataclass(frozen=True, slots=True)
class ProcSample:
    """A process at one moment."""

    rss_mib: float
    """VmRSS."""
    pss_mib: float
    """Pss from smaps_rollup."""
    pss_anon_mib: float
    """Pss_Anon from smaps_rollup."""
    fds: int
    """Entries in /proc/PID/fd."""
    threads: int
    """Entries in /proc/PID/task."""
    steady_threads: int
    """Threads other than GLib's pool workers ("pool-*"), which GLib ends after idling."""
    cpu_s: float
    """utime + stime so far, every thread, seconds."""

    @staticmethod
    def of(pid: int) -> ProcSample:
        """Read it from /proc."""
        mem = memory(pid)
        names = _thread_names(pid)
        return ProcSample(
            rss_mib=mem.rss_mib,
            pss_mib=mem.pss_mib,
            pss_anon_mib=mem.pss_anon_mib,
            fds=len(os.listdir(f"/proc/{pid}/fd")),
            threads=len(names),
            steady_threads=sum(not n.startswith("pool-") for n in names),
            cpu_s=cpu_seconds(pid),
        )


def cpu_seconds(pid: int) -> float:
    """utime + stime of every thread of a process, live or ended, in seconds."""
    return cpu_ticks(pid) / os.sysconf("SC_CLK_TCK")


def thread_cpu_ns(pid: int) -> int:
    """Nanoseconds on a CPU of the live threads of a process (schedstat: finer than ticks)."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(OSError):
            total += int(Path(f"/proc/{pid}/task/{task}/schedstat").read_text().split()[0])
    return total


def _thread_names(pid: int) -> list[str]:
    names = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(OSError):
            names.append(Path(f"/proc/{pid}/task/{task}/comm").read_text().strip())
    return names


def cpu_ticks(pid: int) -> int:
    """utime + stime of a process, in clock ticks."""
    text = Path(f"/proc/{pid}/stat").read_bytes()
    fields = text[text.rfind(b")") + 2 :].split()
    return int(fields[11]) + int(fields[12])


def cpu_ns(pid: int) -> int:
    """Time a process has spent on a CPU, in nanoseconds (schedstat: finer than ticks)."""
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])


def kib_fields(path: str, names: tuple[str, ...]) -> dict[str, float]:
    """`Name:  1234 kB` lines of a /proc file, in MiB."""
    found: dict[str, float] = {}
    for line in Path(path).read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in names:
            found[key] = int(rest.split()[0]) / 1024
    return found


def memory(pid: int) -> Memory:
    """VmRSS, and Pss and Pss_Anon from smaps_rollup."""
    rss = kib_fields(f"/proc/{pid}/status", ("VmRSS",))
    pss = kib_fields(f"/proc/{pid}/smaps_rollup", ("Pss", "Pss_Anon"))
    return Memory(rss["VmRSS"], pss["Pss"], pss["Pss_Anon"])


@dataclass(frozen=True, slots=True)
class Idle:
    """A process over an idle window."""

    seconds: float
    """The window's length."""
    cpu_ticks: int
    """utime + stime spent in the window, in clock ticks."""
    cpu_percent: float
    """Share of one core, from the ticks."""
    cpu_percent_schedstat: float
    """Share of one core, from schedstat nanoseconds (finer than ticks)."""
    memory: ProcSample
    """At the end of the window."""
    events_meanwhile: int | None = None
    """For `porttray watch`: events printed during the window (0 expected)."""
