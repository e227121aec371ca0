"""Soak: the real tray on the test desktop while thousands of short-lived listeners come and go.

A few worker processes open listeners on 127.0.0.1:0 at a steady rate, each held for a random
0.6-2 s (longer than the 0.5 s poll interval) or, for a share of them, only 50 ms, then closed.
Every worker reports each listen() and close() with its wall-clock time. Beside the tray runs
`porttray watch --json`, the same engine and diff, as the event oracle: every listener that lived
longer than the interval must show up in it as opened and as closed. The tray process itself is
sampled (RSS, Pss_Anon, open fds, threads, CPU) at the start, every `sample_every` seconds and at
the end; its fds and threads must come back to where they were after warm-up, its RSS may grow a
little, and dunst counts the notifications it was sent (batching keeps them few).

The soak itself lives in the test kit (tests/kit/soak.py), which tests/e2e/test_soak.py runs
in a short form.

Run: `.venv/bin/python -m benchmarks.soak [--quick] [--isolate]`. `--isolate` (root) runs the
whole soak in a private network namespace, so no other porttray on the machine sees the churn.
Results are printed and written to benchmarks/results/soak.json (soak-quick.json with --quick).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.kit.desktop import running_desktop
from tests.kit.machine import plain
from tests.kit.soak import SoakConfig, soak
from tests.kit.soak_report import render, to_json

MODULE = "benchmarks.soak"
RESULTS = Path(__file__).resolve().parent / "results" / "soak.json"


def _isolated(argv: list[str]) -> int:
    """Run this soak again in a private network namespace with loopback up."""
    unshare, ip = shutil.which("unshare"), shutil.which("ip")
    if unshare is None or ip is None:
        print("soak: --isolate needs unshare and ip", file=sys.stderr)
        return 2
    env = {**os.environ, "PORTTRAY_SOAK_ISOLATED": "1"}
    script = f'{ip} link set lo up && exec "$@"'
    command = [unshare, "--net", "sh", "-c", script, "sh", sys.executable, "-m", MODULE, *argv]
    return subprocess.call(command, env=env)


def _say(line: str) -> None:
    print(line, flush=True)


def main() -> int:
    """Run the soak, print the table, write the JSON."""
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
            result = soak(desktop, config, Path(tmp), mode, say=_say)
        print()
        print(render(result))
    path = RESULTS if mode == "full" else RESULTS.with_name("soak-quick.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(plain(to_json(result)), indent=2) + "\n")
    print(f"\nwritten to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
