"""Tray benchmark: what the running porttray costs on a loaded machine, and how soon a new server
shows in its menu.

One run builds the busy-desktop load of `load.py` (300 idle processes with 20 open fds each, 50 of
them listening on loopback), starts the private test desktop (Xvfb, session bus, StatusNotifier
host, dunst) and the real tray (`python -m tray -v`, default interval) on it, then measures:

1. the idle CPU share of the tray process over a window (utime+stime ticks and schedstat);
2. its memory (RSS, Pss, Pss_Anon from smaps_rollup), next to a bare pystray AppIndicator icon with
   a two-item menu measured the same way in the same window — the floor any pystray tray pays;
3. listen() → in the menu: a pre-forked child listens on a new port at a random phase against the
   poll schedule, and the benchmark reads the menu over dbusmenu (GetLayout, as a tray host does)
   every ~10 ms until ":PORT " is a top-level label;
4. the pure menu rebuild with 1,000 more listeners on the machine: `menu.build(state)` and the
   `to_pystray` adapter under pystray's dummy backend.

Results are printed as a table and written to benchmarks/results/tray.json (tray-quick.json with
--quick). Run: `.venv/bin/python -m benchmarks.bench_tray [--quick]`.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from benchmarks.tray_report import MANY, Config, Latency, Rebuild, Result, render
from tests.kit.desktop import Desktop, running_desktop
from tests.kit.load import Armed, armed_listeners, idle_processes, many_listeners
from tests.kit.machine import machine_facts, plain
from tests.kit.sampling import Idle, ProcSample, cpu_ticks, thread_cpu_ns
from tests.kit.timing import Stats
from tests.kit.tray_process import TrayProcess, running_tray
from tray import menu
from tray.discover import open_engine
from tray.probe_plan import RETRY_AFTER
from tray.state import AppState, apply_events

RESULTS = Path(__file__).resolve().parent / "results" / "tray.json"
INTERVAL = 0.5
BARE_ICON = """
import os, signal
os.environ["PYSTRAY_BACKEND"] = "appindicator"
import pystray
from PIL import Image

signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
image = Image.new("RGBA", (64, 64), (40, 120, 200, 255))
menu = pystray.Menu(
    pystray.MenuItem("Hello", lambda: None),
    pystray.MenuItem("Quit", lambda icon: icon.stop()),
)
pystray.Icon("bare", image, "bare", menu=menu).run()
"""


# ---------------------------------------------------------------- idle and memory


SETTLE_FLOOR = 3 * sum(RETRY_AFTER)
"""Seconds to let the tray probe (and re-probe) the load's silent listeners before idling."""


def wait_idle(pid: int, most: float, share: float = 0.01, window: float = 3.0) -> float:
    """Until the process used under `share` of a core over `window` s; the seconds waited."""
    start = time.monotonic()
    while time.monotonic() - start < most:
        before = thread_cpu_ns(pid)
        time.sleep(window)  # the measurement window itself
        if (thread_cpu_ns(pid) - before) / 1e9 < share * window:
            break
    return time.monotonic() - start


def measure_idle(pids: list[int], seconds: float) -> list[Idle]:
    """The CPU share of each process over the same window, and its memory at the end."""
    tick = os.sysconf("SC_CLK_TCK")
    ticks = [cpu_ticks(pid) for pid in pids]
    ns = [thread_cpu_ns(pid) for pid in pids]
    start = time.monotonic()
    time.sleep(seconds)  # the window itself: nothing to wait for
    elapsed = time.monotonic() - start
    found = []
    for pid, t0, n0 in zip(pids, ticks, ns, strict=True):
        used = cpu_ticks(pid) - t0
        found.append(
            Idle(
                seconds=round(elapsed, 2),
                cpu_ticks=used,
                cpu_percent=100 * used / tick / elapsed,
                cpu_percent_schedstat=100 * (thread_cpu_ns(pid) - n0) / 1e9 / elapsed,
                memory=ProcSample.of(pid),
            )
        )
    return found


@contextlib.contextmanager
def bare_icon(desktop: Desktop, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A bare pystray AppIndicator icon with a two-item menu, registered on the desktop."""
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", BARE_ICON],
            env=desktop.env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
        )
    try:
        item = desktop.tray.wait_for_item(timeout=20, pid=proc.pid)
        desktop.tray.wait_for(lambda r: "Quit" in r.labels(), 10, item)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ---------------------------------------------------------------- latency


def measure_latency(tray: TrayProcess, armed: Armed, trials: int) -> Latency:
    """listen() at a random phase → ":PORT " among the top-level labels, polled every ~10 ms."""
    seen: list[float] = []
    calls: list[float] = []
    missed = 0
    for _ in range(trials):
        time.sleep(random.uniform(0, INTERVAL))  # a random phase against the poll schedule
        child = armed.fire()
        prefix = f":{child.port} "
        deadline = time.monotonic() + 3.0
        found = False
        while time.monotonic() < deadline and not found:
            before = time.perf_counter()
            labels = tray.top_labels()
            calls.append(time.perf_counter() - before)
            found = any(label.startswith(prefix) for label in labels)
            if found:
                seen.append(time.time() - child.listened_at)
            else:
                time.sleep(0.01)
        missed += not found
        armed.release(child)
        gone = time.monotonic() + 3.0
        while time.monotonic() < gone and any(t.startswith(prefix) for t in tray.top_labels()):
            time.sleep(0.05)
    return Latency(Stats.of(seen), Stats.of(calls), missed)


# ---------------------------------------------------------------- the menu with many servers


def dummy_pystray() -> Any:
    """pystray with its dummy backend (nothing is shown)."""
    os.environ["PYSTRAY_BACKEND"] = "dummy"
    import pystray

    return pystray


def measure_rebuild(rounds: int) -> Rebuild:
    """menu.build and the pystray adapter, with 1,000 more listeners on the machine."""
    from tray.pystray_menu import to_pystray

    pystray = dummy_pystray()
    user = getpass.getuser()
    with many_listeners(MANY):
        engine = open_engine(None)
        try:
            servers = tuple(s for s in engine.scan().servers if s.loopback)
        finally:
            engine.close()
    state = apply_events(AppState(), servers, [])
    builds, adapters, both = [], [], []
    for _ in range(rounds):
        start = time.perf_counter()
        items = menu.build(state, user=user)
        built = time.perf_counter()
        to_pystray(pystray, items, lambda action: None)
        done = time.perf_counter()
        builds.append(built - start)
        adapters.append(done - built)
        both.append(done - start)
    more = next((i.label for i in items if i.label.startswith("More (")), "")
    tops = sum(1 for i in items if i.label.startswith(":"))
    return Rebuild(len(servers), tops, more, Stats.of(builds), Stats.of(adapters), Stats.of(both))


# ---------------------------------------------------------------- the run and its output


def run(config: Config, mode: str) -> Result:
    """Build the load, start the desktop and the tray, measure, tear everything down."""
    with (
        idle_processes(config.processes, config.fds_each, config.listeners) as load,
        armed_listeners(config.trials) as armed,
        tempfile.TemporaryDirectory(prefix="porttray-bench-") as tmp,
    ):
        facts = machine_facts(load_processes=len(load.pids), load_listeners=len(load.ports))
        with running_desktop(Path(tmp)) as desktop:
            with running_tray(desktop, Path(tmp) / "tray.log") as tray:
                # Silent listeners are probed, then probed again on RETRY_AFTER's schedule;
                # idle means after that, not in a lull between two rounds.
                time.sleep(SETTLE_FLOOR)
                facts["settle_seconds"] = round(SETTLE_FLOOR + wait_idle(tray.pid, most=90.0), 1)
                with bare_icon(desktop, Path(tmp) / "bare.log") as bare:
                    wait_idle(bare.pid, most=10.0)
                    tray_idle, bare_idle = measure_idle([tray.pid, bare.pid], config.idle_seconds)
                latency = measure_latency(tray, armed, config.trials)
                after = ProcSample.of(tray.pid)
            exit_code, tracebacks = tray.exit_code, tray.tracebacks()
            if tracebacks:
                print(tray.output(), file=sys.stderr)
        rebuild = measure_rebuild(config.rebuild_rounds)
        return Result(
            mode=mode,
            config=config,
            machine=facts,
            tray_idle=tray_idle,
            bare_idle=bare_idle,
            latency=latency,
            tray_memory_after_trials=after,
            rebuild=rebuild,
            tray_exit=exit_code,
            tray_tracebacks=tracebacks,
            loadavg_at_end=os.getloadavg(),
        )


def main() -> int:
    """Run the benchmark, print the table, write the JSON."""
    parser = argparse.ArgumentParser(description="porttray's tray benchmark")
    parser.add_argument("--quick", action="store_true", help="a shorter run (about two minutes)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    mode = "quick" if args.quick else "full"
    result = run(Config.make(args.quick), mode)
    print(render(result))
    path = RESULTS if mode == "full" else RESULTS.with_name("tray-quick.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(plain({**asdict(result), "targets": result.targets()}), indent=2))
    print(f"\nwritten to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
