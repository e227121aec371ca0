"""Soak: the real tray on the test desktop while thousands of short-lived listeners come and go.

A few worker processes open listeners on 127.0.0.1:0 at a steady rate, each held for a random
0.6-2 s (longer than the 0.5 s poll interval) or, for a share of them, only 50 ms, then closed.
Every worker reports each listen() and close() with its wall-clock time. Beside the tray runs
`porttray watch --json`, the same engine and diff, as the event oracle: every listener that lived
longer than the interval must show up in it as opened and as closed. The tray process itself is
sampled (RSS, Pss_Anon, open fds, threads, CPU) at the start, every `sample_every` seconds and at
the end; its fds and threads must come back to where they were after warm-up, its RSS may grow a
little, and dunst counts the notifications it was sent (batching keeps them few).

The shared pieces — the tray and watch processes, the churn workers, the process samples — are
used by `bench_tray.py` and by the end-to-end tests as well.

Run: `.venv/bin/python benchmarks/soak.py [--quick] [--isolate]`. `--isolate` (root) runs the
whole soak in a private network namespace, so no other porttray on the machine sees the churn.
Results are printed and written to benchmarks/results/soak.json (soak-quick.json with --quick).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import heapq
import json
import math
import os
import random
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench_discovery import kib_fields  # noqa: E402
from soak_match import attribute  # noqa: E402

from tests.kit.desktop import Desktop, running_desktop  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "soak.json"
INTERVAL = 0.5
"""The tray's default poll interval, in seconds."""
PORT_QUARANTINE = 30.0
"""A worker never listens again on a port it closed less than this many seconds ago."""
TARGET_RSS_GROWTH_MIB = 5.0


# ---------------------------------------------------------------- the tray and watch processes


def _read_text(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


class TrayProcess:
    """`python -m tray -v` on the desktop, its output in a log file."""

    def __init__(self, desktop: Desktop, log: Path, extra_env: dict[str, str] | None = None):
        self.desktop = desktop
        self.log = log
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tray", "-v"],
                env={**desktop.env, **(extra_env or {})},
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
            )
        self.exit_code: int | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_ready(self, timeout: float = 20.0) -> None:
        """Until its menu is served and its first scan is done (the menu is up before that)."""
        item = self.desktop.tray.wait_for_item(timeout=timeout, pid=self.pid)
        self.desktop.tray.wait_for(lambda r: "Quit porttray" in r.labels(), timeout, item)
        self.item = item
        deadline = time.monotonic() + timeout
        while "porttray is running" not in self.output():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the tray did not start polling: {self.output()}")
            time.sleep(0.05)

    def top_labels(self) -> list[str]:
        """The displayed text of the top-level menu entries."""
        return [n.text for n in self.desktop.tray.layout(self.item).children]

    def stop(self) -> int:
        """SIGTERM, then SIGKILL after 5 s; the exit status (negative: killed by that signal)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.exit_code = self.proc.returncode
        return self.exit_code

    def output(self) -> str:
        """Everything it printed so far."""
        return _read_text(self.log)

    def tracebacks(self) -> int:
        """How many tracebacks it printed."""
        return self.output().count("Traceback")


@contextlib.contextmanager
def running_tray(
    desktop: Desktop, log: Path, extra_env: dict[str, str] | None = None
) -> Iterator[TrayProcess]:
    """A ready tray on the desktop; stopped (and reaped) on exit."""
    tray = TrayProcess(desktop, log, extra_env)
    try:
        tray.wait_ready()
        yield tray
    finally:
        tray.stop()


@dataclass(frozen=True, slots=True)
class WatchEvent:
    """One line of `porttray watch --json`."""

    kind: str
    """"opened" or "closed"."""
    port: int
    pid: int | None
    at: float
    """Its "at" stamp, seconds since the epoch."""


class WatchProcess:
    """`porttray -v watch --json` with the desktop's settings; its events collected by a thread."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        self.events: list[WatchEvent] = []
        self._lock = threading.Lock()
        with log.open("ab") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tray", "-v", "watch", "--json"],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=err,
            )
        self._reader = threading.Thread(target=self._read, name="soak-watch-reader")
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            data = json.loads(raw)
            server = data["server"]
            at = dt.datetime.fromisoformat(data["at"]).timestamp()
            with self._lock:
                self.events.append(WatchEvent(data["event"], server["port"], server["pid"], at))

    def wait_ready(self, timeout: float = 20.0) -> None:
        """Until its first scan is done and it polls."""
        deadline = time.monotonic() + timeout
        while "watching with" not in _read_text(self.log):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"porttray watch did not start: {_read_text(self.log)}")
            time.sleep(0.05)

    def collected(self) -> list[WatchEvent]:
        with self._lock:
            return list(self.events)

    def stop(self) -> int:
        """SIGTERM it, reap it, join the reader; its exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._reader.join(5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        return self.proc.returncode

    def tracebacks(self) -> int:
        return _read_text(self.log).count("Traceback")


# ---------------------------------------------------------------- process samples


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
        rss = kib_fields(f"/proc/{pid}/status", ("VmRSS",))["VmRSS"]
        pss = kib_fields(f"/proc/{pid}/smaps_rollup", ("Pss", "Pss_Anon"))
        names = _thread_names(pid)
        return ProcSample(
            rss_mib=rss,
            pss_mib=pss["Pss"],
            pss_anon_mib=pss["Pss_Anon"],
            fds=len(os.listdir(f"/proc/{pid}/fd")),
            threads=len(names),
            steady_threads=sum(not n.startswith("pool-") for n in names),
            cpu_s=cpu_seconds(pid),
        )


def cpu_seconds(pid: int) -> float:
    """utime + stime of every thread of a process, live or ended, in seconds."""
    text = Path(f"/proc/{pid}/stat").read_bytes()
    fields = text[text.rfind(b")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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


# ---------------------------------------------------------------- the churn workers


@dataclass(frozen=True, slots=True)
class ChurnPlan:
    """What one worker does."""

    count: int
    """Listeners to open in all."""
    rate: float
    """Mean openings per second (exponential gaps)."""
    long_min: float
    long_max: float
    """A long-lived listener is held uniformly between these, seconds."""
    short_share: float
    """The share of listeners held only `short_life` seconds."""
    short_life: float
    seed: int
    warmup: int = 0
    """After this many, wait for every one to close, say "W" and wait for a second start."""

    @property
    def slots(self) -> int:
        """At most this many held at once (a cap far above the mean)."""
        return math.ceil(self.rate * self.long_max * 2) + 4


def _fresh_listener(recent: dict[int, float]) -> tuple[socket.socket, int]:
    """A socket listening on 127.0.0.1 on a port this worker has not used lately."""
    while True:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        if time.monotonic() - recent.get(port, -math.inf) >= PORT_QUARANTINE:
            sock.listen(8)
            return sock, port
        sock.close()


def churn(plan: ChurnPlan, out: IO[str], control: int) -> None:
    """The worker's loop: open and close listeners per `plan`, reporting each on `out`.

    Lines: "O PORT WALL" right after listen(), "C PORT WALL" right before close(), "W" at the
    end of the warm-up. Ends early when `control` (the parent's pipe) reaches end of file.
    """
    rng = random.Random(plan.seed)
    held: list[tuple[float, int, socket.socket]] = []
    recent: dict[int, float] = {}
    opened, next_open, warm = 0, time.monotonic(), plan.warmup == 0
    try:
        while opened < plan.count or held:
            if not warm and opened == plan.warmup and not held:
                warm = True
                out.write("W\n")
                out.flush()
                if not os.read(control, 1):
                    return
                next_open = time.monotonic()
            now = time.monotonic()
            while held and held[0][0] <= now:
                _, port, sock = heapq.heappop(held)
                out.write(f"C {port} {time.time():.6f}\n")
                sock.close()
                recent[port] = time.monotonic()
            cap = plan.count if warm else plan.warmup
            if opened < cap and now >= next_open and len(held) < plan.slots:
                sock, port = _fresh_listener(recent)
                out.write(f"O {port} {time.time():.6f}\n")
                short = rng.random() < plan.short_share
                life = plan.short_life if short else rng.uniform(plan.long_min, plan.long_max)
                heapq.heappush(held, (time.monotonic() + life, port, sock))
                opened += 1
                next_open = max(next_open + rng.expovariate(plan.rate), now - 1.0)
            out.flush()
            wakes = [held[0][0]] if held else []
            if opened < cap:
                wakes.append(next_open)
            wait = max(0.0, min(wakes, default=now) - time.monotonic())
            if select.select([control], [], [], wait)[0] and not os.read(control, 1):
                return
    finally:
        for _, _, sock in held:
            sock.close()


def _worker_main(plan_json: str) -> int:
    plan = ChurnPlan(**json.loads(plan_json))
    sys.stdin.buffer.read(1)  # the start signal (end of file: stop before starting)
    churn(plan, sys.stdout, sys.stdin.fileno())
    return 0


@dataclass
class Life:
    """One listener a worker opened."""

    pid: int
    port: int
    opened: float
    """Wall-clock time right after listen()."""
    closed: float | None = None
    """Wall-clock time right before close()."""

    @property
    def lived(self) -> float:
        return (self.closed or math.inf) - self.opened


class Churn:
    """Worker processes opening and closing listeners; what they did, as `Life` records."""

    def __init__(self, plans: list[ChurnPlan]) -> None:
        self.lives: list[Life] = []
        self._warm: set[int] = set()
        self._lock = threading.Lock()
        self.procs: list[subprocess.Popen[str]] = []
        self._readers: list[threading.Thread] = []
        for plan in plans:
            proc = subprocess.Popen(
                [sys.executable, __file__, "--worker", json.dumps(asdict(plan))],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            self.procs.append(proc)
            reader = threading.Thread(
                target=self._read, args=(proc,), name=f"soak-churn-{proc.pid}"
            )
            reader.start()
            self._readers.append(reader)

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        open_now: dict[int, Life] = {}
        for line in proc.stdout:
            if line.strip() == "W":
                with self._lock:
                    self._warm.add(proc.pid)
                continue
            kind, port_text, at_text = line.split()
            port, at = int(port_text), float(at_text)
            with self._lock:
                if kind == "O":
                    life = Life(proc.pid, port, at)
                    open_now[port] = life
                    self.lives.append(life)
                else:
                    open_now.pop(port).closed = at

    def warm(self) -> bool:
        """Whether every worker has finished its warm-up and waits for `go`."""
        with self._lock:
            return len(self._warm) == len(self.procs)

    def go(self) -> None:
        """Start every worker (or let it go on after its warm-up)."""
        for proc in self.procs:
            assert proc.stdin is not None
            proc.stdin.write("g")
            proc.stdin.flush()

    @property
    def pids(self) -> set[int]:
        return {proc.pid for proc in self.procs}

    def opened(self) -> int:
        with self._lock:
            return len(self.lives)

    def done(self) -> bool:
        return all(proc.poll() is not None for proc in self.procs)

    def records(self) -> list[Life]:
        with self._lock:
            return list(self.lives)

    def stop(self) -> None:
        """End every worker (closing its listeners) and reap it; join the readers."""
        for proc in self.procs:
            if proc.stdin is not None:
                with contextlib.suppress(OSError):
                    proc.stdin.close()
        for proc in self.procs:
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for reader in self._readers:
            reader.join(5)
        for proc in self.procs:
            if proc.stdout is not None:
                proc.stdout.close()


@contextlib.contextmanager
def churning(plans: list[ChurnPlan]) -> Iterator[Churn]:
    """Started-but-waiting churn workers; stopped and reaped on exit."""
    churn_ = Churn(plans)
    try:
        yield churn_
    finally:
        churn_.stop()


# ---------------------------------------------------------------- the soak


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
        machine=machine_facts(),
    )


# ---------------------------------------------------------------- output

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


def machine_facts() -> dict[str, object]:
    """What the soak ran on."""
    return {
        "nproc": os.cpu_count(),
        "loadavg_at_end": os.getloadavg(),
        "python": sys.version.split()[0],
        "kernel": os.uname().release,
        "isolated_netns": os.environ.get("PORTTRAY_SOAK_ISOLATED") == "1",
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def render(r: SoakResult) -> str:
    """The result as a table."""
    c, o = r.config, r.oracle
    met = r.targets()
    cpu = r.end.tray.cpu_s - r.reference.tray.cpu_s
    lines = [
        f"porttray soak ({r.mode}): {o.opened} listeners ({r.reference.opened} warm-up, then "
        f"{r.end.opened - r.reference.opened} in {r.seconds:g} s, {r.rate:g}/s), "
        f"{c.workers} workers, held {c.long_min:g}-{c.long_max:g} s, "
        f"{c.short_share:.0%} held {c.short_life * 1000:g} ms; load average at end "
        f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}",
        "",
        "tray process                start   warm-up       end   growth (end - warm-up)",
        _row("RSS MiB", r, lambda p: p.rss_mib, "{:.1f}"),
        _row("Pss MiB", r, lambda p: p.pss_mib, "{:.1f}"),
        _row("Pss_Anon MiB", r, lambda p: p.pss_anon_mib, "{:.1f}"),
        _row("open fds", r, lambda p: p.fds, "{:.0f}"),
        _row("threads", r, lambda p: p.threads, "{:.0f}"),
        _row("  without GLib pool-*", r, lambda p: p.steady_threads, "{:.0f}"),
        f"  peak RSS growth after warm-up {r.peak_rss_growth_mib:.1f} MiB; CPU during the soak "
        f"{cpu:.1f} s after warm-up ({100 * cpu / max(r.seconds, 1e-9):.1f} % of one core)",
        "",
        "events, porttray watch --json as the oracle",
        f"  listeners opened                         {o.opened:>7}",
        f"  held longer than {INTERVAL:g} s                   {o.long_lived:>7}",
        f"    missed opened / missed closed          {o.long_missed_open:>3} / "
        f"{o.long_missed_close}",
        f"  held {c.short_life * 1000:g} ms (sub-interval)                {o.sub_interval:>7}",
        f"    seen opened anyway                     {o.sub_interval_seen:>7}",
        f"  events about the workers / unmatched     {o.events:>7} / {o.unmatched_events}",
        f"  notifications dunst was sent             {r.notifications:>7}",
        f"  tray exit status {r.tray_exit}, tracebacks: tray {r.tray_tracebacks}, "
        f"watch {r.watch_tracebacks}",
        "",
        "targets",
        *(f"  {name:<34}{'ok' if ok else 'MISSED'}" for name, ok in met.items()),
    ]
    return "\n".join(lines)


def _row(label: str, r: SoakResult, get: Callable[[ProcSample], float], fmt: str) -> str:
    start, warm, end = get(r.start.tray), get(r.reference.tray), get(r.end.tray)
    cells = "".join(f"{fmt.format(v):>10}" for v in (start, warm, end))
    return f"  {label:<22}{cells}{fmt.format(end - warm):>10}"


def plain(value: object) -> object:
    """JSON-ready: floats rounded, NaN and infinity as null."""
    if isinstance(value, float):
        return None if not math.isfinite(value) else round(value, 4)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def to_json(result: SoakResult) -> dict[str, object]:
    """The result with its derived figures and targets."""
    return {
        **asdict(result),
        "rss_growth_mib": result.rss_growth_mib,
        "peak_rss_growth_mib": result.peak_rss_growth_mib,
        "targets": result.targets(),
    }


def _isolated(argv: list[str]) -> int:
    """Run this soak again in a private network namespace with loopback up."""
    unshare, ip = shutil.which("unshare"), shutil.which("ip")
    if unshare is None or ip is None:
        print("soak: --isolate needs unshare and ip", file=sys.stderr)
        return 2
    env = {**os.environ, "PORTTRAY_SOAK_ISOLATED": "1"}
    script = f'{ip} link set lo up && exec "$@"'
    command = [unshare, "--net", "sh", "-c", script, "sh", sys.executable, __file__, *argv]
    return subprocess.call(command, env=env)


def _say(line: str) -> None:
    print(line, flush=True)


def main() -> int:
    """Run the soak, print the table, write the JSON."""
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        return _worker_main(sys.argv[2])
    parser = argparse.ArgumentParser(description="porttray's tray soak")
    parser.add_argument("--quick", action="store_true", help="about 600 listeners, a minute")
    parser.add_argument("--isolate", action="store_true", help="in a private network namespace")
    parser.add_argument("--listeners", type=int, help="override the number of listeners")
    args = parser.parse_args()
    if args.isolate and os.environ.get("PORTTRAY_SOAK_ISOLATED") != "1":
        return _isolated([a for a in sys.argv[1:] if a != "--isolate"])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    mode = "quick" if args.quick else "full"
    config = SoakConfig.make(args.quick)
    if args.listeners:
        config = dataclasses.replace(config, listeners=args.listeners)
    with tempfile.TemporaryDirectory(prefix="porttray-soak-") as tmp:
        with running_desktop(Path(tmp)) as desktop:
            result = soak(
                desktop, config, Path(tmp), mode, say=lambda line: print(line, flush=True)
            )
        print()
        print(render(result))
    path = RESULTS if mode == "full" else RESULTS.with_name("soak-quick.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(plain(to_json(result)), indent=2) + "\n")
    print(f"\nwritten to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
