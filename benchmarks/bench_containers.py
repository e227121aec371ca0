"""Container benchmark: what knowing the containers behind published ports costs a poll.

Starts a dockerd of its own (root only, like the `root` tests), runs 20 containers each with a
port published on 127.0.0.1, and times in shuffled interleaved rounds, on the same listeners:

- "no engine": a poll (`scan()` + `Containers.attach`) where no engine socket exists at all;
- "20 containers": the same poll with the engine answering and its events followed;
- "scan only": the scan alone, the floor.

The target is a steady-state ratio "20 containers" / "no engine" within 1.5. It also reports the
poll cost before any container ran (the environment's own share: 20 more docker-proxy listeners)
and the cost of one refresh (`GET /containers/json`, which runs off the poll's thread).

Run as root: `.venv/bin/python -m benchmarks.bench_containers [--quick]`; results are printed and
written to benchmarks/results/containers.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

from tests.kit.docker import Dockerd, free_port, short_dir
from tests.kit.timing import Stats, interleave
from tray.containers import Containers
from tray.containers.sockets import Located
from tray.discover import Engine, open_engine
from tray.model import Server

RESULTS = Path(__file__).resolve().parent / "results" / "containers.json"
CONTAINERS = 20
TARGET_RATIO = 1.5


def poll(engine: Engine, boxes: Containers) -> tuple[Server, ...]:
    """One steady-state poll as the monitor does it."""
    return boxes.attach(engine.scan().servers)


def measure(daemon: Dockerd, rounds: int) -> dict[str, object]:
    """Interleaved per-poll figures with and without an engine, on the same listeners."""
    nothing = Containers(lambda: Located(None, "none"))
    engaged = Containers(lambda: Located(str(daemon.sock), "bench"))
    bare, without, with_engine = open_engine(), open_engine(), open_engine()
    try:
        engaged.start()
        found = engaged.refresh()
        if len({b.container.id for b in found}) != CONTAINERS:
            raise RuntimeError(f"the engine lists {len(found)} published ports")
        named = [s for s in poll(with_engine, engaged) if s.container is not None]
        if len(named) != CONTAINERS:
            raise RuntimeError(f"only {len(named)} listeners were matched to containers")
        stats = interleave(
            {
                "scan only": bare.scan,
                "no engine": lambda: poll(without, nothing),
                "20 containers": lambda: poll(with_engine, engaged),
            },
            rounds,
        )
        refreshes = []
        for _ in range(max(20, rounds // 50)):
            start = time.perf_counter()
            engaged.refresh()
            refreshes.append(time.perf_counter() - start)
        return {"polls": stats, "refresh": Stats.of(refreshes)}
    finally:
        engaged.close()
        for engine in (bare, without, with_engine):
            engine.close()


def baseline(rounds: int) -> Stats:
    """A poll with no container running and no engine (before the daemon starts)."""
    engine, nothing = open_engine(), Containers(lambda: Located(None, "none"))
    try:
        return interleave({"before": lambda: poll(engine, nothing)}, rounds)["before"]
    finally:
        engine.close()


def main() -> int:
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    args = parser.parse_args()
    rounds = 300 if args.quick else 2000
    before = baseline(rounds)
    root = short_dir("ptb")
    daemon = Dockerd(root, root / "data")
    daemon.start()
    try:
        daemon.build()
        for i in range(CONTAINERS):
            daemon.run(f"bench-{i}", "-p", f"127.0.0.1:{free_port()}:80")
        figures = measure(daemon, rounds)
    finally:
        daemon.stop()
        subprocess.run(["rm", "-rf", str(root)], check=False)
    polls: dict[str, Stats] = figures["polls"]  # type: ignore[assignment]
    ratio = polls["20 containers"].median / polls["no engine"].median
    print(f"{'poll':<28}{'median ms':>10}{'p95 ms':>10}")
    rows = {"before any container": before, **polls, "refresh (off the poll)": figures["refresh"]}
    for name, stat in rows.items():
        assert isinstance(stat, Stats)
        print(f"{name:<28}{stat.median:>10.3f}{stat.p95:>10.3f}")
    verdict = "ok" if ratio <= TARGET_RATIO else "OVER TARGET"
    print(f"\n20 containers / no engine: {ratio:.2f}x (target <= {TARGET_RATIO}) {verdict}")
    data = {
        "taken": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "rounds": rounds,
        "containers": CONTAINERS,
        "polls": {name: asdict(stat) for name, stat in rows.items() if isinstance(stat, Stats)},
        "ratio_20_containers_to_no_engine": round(ratio, 3),
        "target_ratio": TARGET_RATIO,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(data, indent=2) + "\n")
    print(f"written to {RESULTS}")
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
