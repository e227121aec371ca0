"""`porttray history`: servers seen before, from the history file the tray and `watch` write."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from tray.history import History, HistoryError, Row
from tray.recorder import Recorder
from tray.report import iso

DAY = 86400.0


def add_parser(sub: argparse._SubParsersAction[Any]) -> None:
    """The `history` grammar."""
    cmd = sub.add_parser("history", help="servers seen before (recorded by the tray and watch)")
    cmd.add_argument("--json", action="store_true", help="print a JSON array")
    cmd.add_argument("--days", type=_days, default=7.0, help="how far back (default 7)")


def _days(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of days: {text!r}") from None
    if not 0 < value <= 3650:
        raise argparse.ArgumentTypeError(f"days must be between 0 and 3650, got {text}")
    return value


def recorder() -> Recorder:
    """A started history writer that reports problems on stderr (for `watch`)."""

    def say(message: str) -> None:
        print(f"porttray: {message}", file=sys.stderr, flush=True)

    record = Recorder(History(), say)
    record.start()
    return record


def run_history(args: argparse.Namespace) -> int:
    """Print the servers seen in the last --days days, newest first."""
    history = History()
    try:
        rows = history.rows(since=time.time() - args.days * DAY)
    except HistoryError as exc:
        print(f"porttray: {exc}", file=sys.stderr)
        return 1
    finally:
        for notice in history.notices:
            print(f"porttray: {notice}", file=sys.stderr)
    if args.json:
        print(json.dumps([row_json(r) for r in rows], indent=2))
    elif rows:
        print(table(rows))
    else:
        print(f"No servers seen in the last {args.days:g} days.")
    return 0


def row_json(row: Row) -> dict[str, object]:
    """A history row as JSON."""
    return {
        "port": row.port,
        "pid": row.pid,
        "process": row.name,
        "project": row.project,
        "kind": row.kind,
        "title": row.title,
        "first_seen": iso(row.first_seen),
        "last_seen": iso(row.last_seen),
        "closed": iso(row.closed),
        "ran_seconds": round(row.ran, 1) if row.ran is not None else None,
    }


def table(rows: list[Row]) -> str:
    """An aligned table, newest first."""
    head = ("PORT", "PROJECT", "KIND", "FIRST SEEN", "LAST SEEN", "RAN")
    body = [
        (
            str(r.port),
            r.project or "",
            r.kind or r.name or "?",
            _when(r.first_seen),
            _when(r.closed or r.last_seen),
            _ran(r.ran),
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in (head, *body)) for i in range(len(head))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in (head, *body)
    ]
    return "\n".join(line.rstrip() for line in lines)


def _when(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(at))


def _ran(seconds: float | None) -> str:
    if seconds is None:
        return "open"
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"
