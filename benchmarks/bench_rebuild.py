"""The full cost of a tray menu rebuild with 1,000 servers: porttray's menu data and adapter, plus
pystray building the GTK menu that libayatana-appindicator exports over dbusmenu.

Run: .venv/bin/python benchmarks/bench_rebuild.py   (starts its own Xvfb and session bus)
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "rebuild.json"
SERVERS = 1000
ROUNDS = 20
TARGET_MS = 100.0


def measure() -> dict[str, object]:
    """Runs inside the desktop: time both halves of a rebuild on the GLib thread."""
    os.environ["PYSTRAY_BACKEND"] = "appindicator"
    import pystray
    from gi.repository import GLib

    from tray import icons, menu
    from tray.model import Identity, ProcessInfo, Server
    from tray.pystray_menu import to_pystray
    from tray.state import AppState, apply_events

    servers = tuple(
        Server(
            10_000 + i,
            ("127.0.0.1",),
            1000 + i,
            ProcessInfo(1000 + i, name="node", user="root", cmdline=("node", "server.js")),
            identity=Identity(protocol="http", title=f"Page {i}", project="shop"),
        )
        for i in range(SERVERS)
    )
    state = apply_events(AppState(), servers, [])
    data_ms: list[float] = []
    gtk_ms: list[float] = []

    def items() -> list[object]:
        start = time.perf_counter()
        built = to_pystray(pystray, menu.build(state, user="root"), lambda action: None)
        data_ms.append((time.perf_counter() - start) * 1000)
        return built

    icon = pystray.Icon("rebuild", icons.render(SERVERS), menu=pystray.Menu(items))

    def run(icon: pystray.Icon) -> None:
        icon.visible = True
        for _ in range(ROUNDS):
            done = threading.Event()

            def rebuild(done: threading.Event = done) -> bool:
                start = time.perf_counter()
                icon._update_menu.__wrapped__(icon)  # the rebuild itself, on the GLib thread
                gtk_ms.append((time.perf_counter() - start) * 1000)
                done.set()
                return False

            GLib.idle_add(rebuild)
            done.wait(30)
            time.sleep(0.1)
        icon.stop()

    icon.run(run)
    totals = gtk_ms  # the GTK half calls items(), so it includes the data half
    return {
        "servers": SERVERS,
        "rounds": len(totals),
        "data_and_adapter_ms": {"median": statistics.median(data_ms), "max": max(data_ms)},
        "full_rebuild_ms": {"median": statistics.median(totals), "max": max(totals)},
        "target_ms": TARGET_MS,
        "ok": max(totals) < TARGET_MS,
    }


def main() -> int:
    if os.environ.get("PORTTRAY_BENCH_INSIDE"):
        print(json.dumps(measure()))
        return 0
    sys.path.insert(0, str(ROOT))
    from tests.e2e.desktop import running_desktop

    with (
        tempfile.TemporaryDirectory(prefix="porttray-rebuild-") as tmp,
        running_desktop(Path(tmp)) as desktop,
    ):
        env = {**desktop.env, "PORTTRAY_BENCH_INSIDE": "1", "PYTHONPATH": str(ROOT)}
        done = subprocess.run(
            [sys.executable, __file__],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    full, data = result["full_rebuild_ms"], result["data_and_adapter_ms"]
    print(f"menu rebuild with {SERVERS} servers (25 + More capped), {result['rounds']} rounds")
    print(
        f"  menu data + pystray adapter   median {data['median']:6.1f} ms  max {data['max']:6.1f}"
    )
    print(
        f"  full rebuild incl. GTK        median {full['median']:6.1f} ms  max {full['max']:6.1f}"
    )
    print(f"  target < {TARGET_MS:.0f} ms: {'ok' if result['ok'] else 'MISSED'}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
