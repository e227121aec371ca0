"""The `porttray` command: the tray by default, and `list` / `watch` for terminals and scripts."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
import time
from collections.abc import Sequence
from types import FrameType
from typing import NoReturn

from tray import __version__
from tray.diff import diff, visible
from tray.discover import Engine, open_engine
from tray.model import Closed, Server, Snapshot
from tray.report import event_line, iso, server_json, table

logger = logging.getLogger("tray")


class _Parser(argparse.ArgumentParser):
    """Usage errors are one line on stderr and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"porttray: {message} (see porttray --help)\n")


def _interval(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0.05 <= value <= 3600:
        raise argparse.ArgumentTypeError(f"interval must be between 0.05 and 3600 s, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The command line's grammar."""
    parser = _Parser(prog="porttray", description="A tray menu of the local servers by port.")
    parser.add_argument("--version", action="version", version=f"porttray {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what porttray does")
    parser.add_argument("--method", choices=("netlink", "proc", "psutil"), help=argparse.SUPPRESS)
    parser.add_argument("--interval", type=_interval, default=None, help="poll interval, seconds")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    list_cmd = sub.add_parser("list", help="print the local servers and exit")
    list_cmd.add_argument("--json", action="store_true", help="print a JSON array")
    list_cmd.add_argument("--all", action="store_true", help="include servers not on loopback")

    watch = sub.add_parser("watch", help="print servers as they open and close")
    watch.add_argument("--json", action="store_true", help="print JSON Lines")
    watch.add_argument("--all", action="store_true", help="include servers not on loopback")
    watch.add_argument("--interval", type=_interval, default=0.5, help="poll interval (0.5)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `porttray` console script."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="porttray: %(levelname)s: %(message)s",
    )
    if args.command == "list":
        return _list(args)
    if args.command == "watch":
        return _watch(args)
    from tray.app import run_tray

    return run_tray(interval=args.interval, method=args.method)


def _list(args: argparse.Namespace) -> int:
    engine = open_engine(args.method)
    try:
        servers = visible(engine.scan().servers, args.all)
    finally:
        engine.close()
    if args.json:
        print(json.dumps([server_json(s) for s in servers], indent=2))
    elif servers:
        print(table(servers))
    else:
        print("No local servers are listening.")
    return 0


def _watch(args: argparse.Namespace) -> int:
    stop = threading.Event()

    def on_signal(_signo: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    engine = open_engine(args.method)
    try:
        _watch_loop(engine, args, stop)
    except BrokenPipeError:
        sys.stderr.close()  # the reader went away: end quietly
    finally:
        engine.close()
    return 0


def _watch_loop(engine: Engine, args: argparse.Namespace, stop: threading.Event) -> None:
    previous = _visible(engine.scan(), args.all)
    logger.info("watching with %s every %.2f s", engine.method, args.interval)
    deadline = time.monotonic()
    while True:
        deadline += args.interval
        if stop.wait(max(0.0, deadline - time.monotonic())):
            return
        if time.monotonic() - deadline > args.interval:
            deadline = time.monotonic()  # after a suspend, resume the schedule from now
        current = _visible(engine.scan(), args.all)
        for event in diff(previous, current):
            _print_event(
                "closed" if isinstance(event, Closed) else "opened",
                event.server,
                event.at,
                args.json,
            )
        previous = current


def _visible(snapshot: Snapshot, include_all: bool) -> Snapshot:
    return Snapshot(visible(snapshot.servers, include_all), snapshot.method, snapshot.taken)


def _print_event(kind: str, server: Server, at: float, as_json: bool) -> None:
    if as_json:
        line = json.dumps({"event": kind, "at": iso(at), "server": server_json(server)})
    else:
        line = event_line(kind, server, at)
    print(line, flush=True)
