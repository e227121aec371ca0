"""The Linux tray backends side by side, in one run: porttray's own StatusNotifierItem (`sni`),
porttray on pystray's GTK/AppIndicator backend (`gtk`), and a bare pystray AppIndicator icon
(`bare`, the floor of any pystray tray: an icon and a menu of N plain items).

On the private test desktop (Xvfb with -noreset, warmed by an earlier GTK client so no variant
pays the first client's GL probe; session bus; the test StatusNotifier host) each variant is
started in turn and measured:

- start-up: spawn → registered with the watcher, and → menu served (GetLayout has "Quit");
- memory (RSS, Pss_Anon) and threads with 0, 50 and 1,000 servers and back to 50, each read once
  the host's GetLayout shows that many (servers are sockets listening in this process, which
  never answer a probe);
- server opened → visible in the host's GetLayout (polled every ~5 ms);
- 50 → 1,000 servers: listen() of the 950 → the host's GetLayout shows them (includes up to one
  scan interval, 0.5 s, on every variant);
- CPU share of one core over the first minute after start with 50 never-answering listeners
  (probe retries included; also without the start-up's own CPU, which is given apart), and
  over the minute after that.

`--quick` shortens the CPU windows to 15 s. Results print as a table and go to
benchmarks/results/backends.json (backends-quick.json). Run:
`.venv/bin/python -m benchmarks.bench_backends [--quick]`. Other programs' listeners on a shared
machine are servers to every variant (probed, drawn, recorded): as root, give the run a network
namespace of its own, `unshare -n sh -c 'ip link set lo up; .venv/bin/python -m ...'`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tests.kit.desktop import Desktop, running_desktop
from tests.kit.load import many_listeners
from tests.kit.sampling import ProcSample, cpu_seconds
from tests.kit.sni_host import MenuNode, SniItem

BARE = """
import os, signal, sys, threading
os.environ["PYSTRAY_BACKEND"] = "appindicator"
import pystray
from PIL import Image

signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
image = Image.new("RGBA", (64, 64), (40, 120, 200, 255))

def items(n):
    entries = [pystray.MenuItem(f":{10000 + i}  python3", lambda: None) for i in range(n)]
    return pystray.Menu(*entries, pystray.MenuItem("Quit", lambda icon: icon.stop()))

icon = pystray.Icon("bare", image, "bare", menu=items(0))

def commands():
    for line in sys.stdin:
        icon.menu = items(int(line))
        icon.update_menu()

threading.Thread(target=commands, daemon=True).start()
icon.run()
"""
RESULTS = Path(__file__).resolve().parent / "results" / "backends.json"
VARIANTS = ("sni", "gtk", "bare")
SLACK = 3
"""Other programs' listeners come and go on a shared machine: counts are met within this many."""


def total_servers(root: MenuNode) -> int:
    """Servers the menu counts: top-level ":PORT" entries plus "More (N)"."""
    total = 0
    for node in root.children:
        more = re.fullmatch(r"More \((\d+)\)", node.text)
        total += int(more[1]) if more else node.text.startswith(":")
    return total


class Variant:
    """One running tray of a kind, with a handle to its menu as the host reads it."""

    def __init__(self, kind: str, desktop: Desktop, log: Path) -> None:
        self.kind, self.desktop = kind, desktop
        self.started = time.monotonic()
        env = dict(desktop.env)
        if kind == "gtk":
            env["PYSTRAY_BACKEND"] = "appindicator"
        argv = (
            [sys.executable, "-c", BARE] if kind == "bare" else [sys.executable, "-m", "tray", "-v"]
        )
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                argv, env=env, stdin=subprocess.PIPE, stdout=out, stderr=out, text=True
            )
        self.item: SniItem = desktop.tray.wait_for_item(timeout=30, pid=self.proc.pid)
        self.registered_s = time.monotonic() - self.started
        desktop.tray.wait_for(lambda r: "Quit" in " ".join(r.labels()), 20, self.item)
        self.menu_s = time.monotonic() - self.started

    def layout(self) -> MenuNode:
        return self.desktop.tray.layout(self.item)

    def show(self, n: int) -> None:
        """The bare icon has no discovery: tell it how many entries to show."""
        if self.kind == "bare" and self.proc.stdin is not None:
            self.proc.stdin.write(f"{n}\n")
            self.proc.stdin.flush()

    def wait_for(self, check: Callable[[MenuNode], bool], timeout: float = 30.0) -> float:
        """Seconds until the host's GetLayout satisfies `check` (polled every ~5 ms); NaN when
        it does not within `timeout`."""
        begun = time.monotonic()
        while time.monotonic() - begun < timeout:
            with contextlib.suppress(RuntimeError, TimeoutError):
                if check(self.layout()):
                    return time.monotonic() - begun
            time.sleep(0.005)
        print(f"{self.kind}: the host did not see the change within {timeout} s", file=sys.stderr)
        return float("nan")  # recorded as not measured; the run goes on

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def sample(pid: int) -> dict[str, float]:
    s = ProcSample.of(pid)
    return {"rss_mib": s.rss_mib, "pss_anon_mib": s.pss_anon_mib, "threads": s.threads}


def measure(kind: str, desktop: Desktop, tmp: Path, cpu_window: float) -> dict[str, Any]:
    """Every figure for one variant."""
    out: dict[str, Any] = {"kind": kind}
    variant = Variant(kind, desktop, tmp / f"{kind}.log")
    try:
        out["registered_s"], out["menu_s"] = variant.registered_s, variant.menu_s
        pid = variant.proc.pid
        startup = cpu_seconds(pid)  # interpreter, imports, first scan, registration
        out["cpu_startup_s"] = startup
        time.sleep(1.0)
        zero = {"servers": 0, **sample(pid)}
        base = 0 if kind == "bare" else total_servers(variant.layout())
        with many_listeners(50) as fifty:
            if kind != "bare":
                # CPU over the first window after start, then the next (50 never answer).
                time.sleep(max(0.0, cpu_window - (time.monotonic() - variant.started)))
                first = cpu_seconds(pid)
                time.sleep(cpu_window)
                out["cpu_first_pct"] = 100 * first / cpu_window
                out["cpu_first_after_startup_pct"] = 100 * (first - startup) / cpu_window
                out["cpu_later_pct"] = 100 * (cpu_seconds(pid) - first) / cpu_window
            out["memory"] = [zero, *memory_steps(variant, base, fifty)]
            out.update(latencies(variant, base + 50))
    finally:
        variant.stop()
    return out


def memory_steps(variant: Variant, base: int, fifty: list[Any]) -> list[dict[str, float]]:
    """Memory and threads at 50, 1,000 and back to 50 servers (and 0 for the bare icon)."""
    steps: list[dict[str, float]] = []

    def settle(n: int) -> None:
        variant.show(n)
        if variant.kind == "bare":
            variant.wait_for(lambda r: len(r.children) == n + 1)
        else:
            variant.wait_for(lambda r: total_servers(r) >= base + n - SLACK, 60)
        time.sleep(1.0)  # let allocations after the update settle
        steps.append({"servers": n, **sample(variant.proc.pid)})

    settle(50)
    with many_listeners(950):
        settle(1000)
    if variant.kind != "bare":
        variant.wait_for(lambda r: total_servers(r) <= base + 50 + SLACK, 60)
    settle(50)
    return steps


def latencies(variant: Variant, base: int) -> dict[str, float]:
    """Server opened → in GetLayout; 50 → 1,000 → in GetLayout."""
    if variant.kind == "bare":
        begun = time.monotonic()
        variant.show(1000)
        variant.wait_for(lambda r: len(r.children) == 1001)
        return {"thousand_s": time.monotonic() - begun}
    with many_listeners(1) as (one,):
        port = one.getsockname()[1]
        opened = variant.wait_for(lambda r: any(n.text.startswith(f":{port} ") for n in r.walk()))
    with many_listeners(950):
        thousand = variant.wait_for(lambda r: total_servers(r) >= base + 950 - SLACK, 60)
    return {"opened_s": opened, "thousand_s": thousand}


def warm_display(desktop: Desktop, tmp: Path) -> None:
    """Run a GTK client once so the display caches its GL probe (Xvfb runs with -noreset)."""
    variant = Variant("bare", desktop, tmp / "warm.log")
    variant.stop()


def render(results: list[dict[str, Any]]) -> str:
    lines = [
        "variant  registered  menu   opened→host  1000→host  CPU 1st min  (w/o start-up)"
        "  CPU later  start-up CPU"
    ]
    for r in results:
        lines.append(
            f"{r['kind']:<8} {r['registered_s']:8.2f} s {r['menu_s']:5.2f} s "
            f"{r.get('opened_s', float('nan')) * 1000:9.0f} ms {r['thousand_s'] * 1000:8.0f} ms "
            f"{r.get('cpu_first_pct', float('nan')):9.2f} % "
            f"{r.get('cpu_first_after_startup_pct', float('nan')):12.2f} % "
            f"{r.get('cpu_later_pct', float('nan')):9.2f} % {r.get('cpu_startup_s', 0.0):10.2f} s"
        )
    lines.append("")
    lines.append("variant  servers   RSS MiB  Pss_Anon MiB  threads")
    for r in results:
        for m in r["memory"]:
            lines.append(
                f"{r['kind']:<8} {m['servers']:7.0f} {m['rss_mib']:9.1f} {m['pss_anon_mib']:13.1f}"
                f" {m['threads']:8.0f}"
            )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="15 s CPU windows instead of 60 s")
    parser.add_argument("--only", choices=VARIANTS, action="append", help="run just these")
    args = parser.parse_args()
    window = 15.0 if args.quick else 60.0
    with tempfile.TemporaryDirectory(prefix="porttray-backends-") as name:
        tmp = Path(name)
        with _desktop(tmp) as desktop:
            warm_display(desktop, tmp)
            results = [measure(k, desktop, tmp, window) for k in args.only or VARIANTS]
    text = render(results)
    print(text)
    path = (
        Path(__file__).resolve().parent
        / "results"
        / ("backends-quick.json" if args.quick else "backends.json")
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"quick": args.quick, "results": results}, indent=2) + "\n")
    return 0


@contextlib.contextmanager
def _desktop(tmp: Path) -> Iterator[Desktop]:
    (tmp / "desktop").mkdir()
    with running_desktop(tmp / "desktop") as desktop:
        yield desktop


if __name__ == "__main__":
    sys.exit(main())
