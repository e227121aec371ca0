"""Facts about the machine a figure was measured on, and results made ready for JSON."""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import os
import platform
from pathlib import Path

import psutil

import tray


def machine_facts(at: str = "start", **extra: object) -> dict[str, object]:
    """What the numbers were measured on; the load average is taken now, `loadavg_at_{at}`."""
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu_model(),
        "mem_total_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "psutil": psutil.__version__,
        "porttray": tray.__version__,
        "processes": process_count(),
        "open_fds": open_fd_count(),
        **extra,
        f"loadavg_at_{at}": os.getloadavg(),
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def cpu_model() -> str | None:
    """The CPU's model name."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    return None


def process_count(proc: str = "/proc") -> int:
    """How many processes the machine has now."""
    return sum(1 for name in os.listdir(proc) if name.isdigit())


def open_fd_count(proc: str = "/proc") -> int:
    """How many fds all readable processes hold now."""
    total = 0
    for name in os.listdir(proc):
        if name.isdigit():
            with contextlib.suppress(OSError):
                total += len(os.listdir(f"{proc}/{name}/fd"))
    return total


def plain(value: object) -> object:
    """JSON-ready: floats rounded to 4 places, NaN and infinity as null."""
    if isinstance(value, float):
        return None if not math.isfinite(value) else round(value, 4)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value
