"""The `porttray` command: the tray by default, and `list` / `watch` for terminals and scripts."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import NoReturn

from tray import __version__, autostart, config, restarts, rules, terminal, users
from tray.config import Config
from tray.containers import Containers
from tray.diff import diff
from tray.discover import Engine, open_engine
from tray.history import Recorder
from tray.model import Closed, Restarted, Server, Snapshot
from tray.probes import identify_all, named_without_probe
from tray.report import event_line, iso, server_json, table

logger = logging.getLogger("tray")
CONTAINER_WAIT = 1.0
"""Seconds `watch` holds back a new container proxy's `opened` line while the engine names it."""


class _Parser(argparse.ArgumentParser):
    """Usage errors are one line on stderr and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"porttray: {message} (see porttray --help)\n")


def _seconds(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None


def _interval(text: str) -> float:
    if not 0.05 <= (value := _seconds(text)) <= 3600:
        raise argparse.ArgumentTypeError(f"interval must be between 0.05 and 3600 s, got {text}")
    return value


def _wait(text: str) -> float:
    if not 0 <= (value := _seconds(text)) <= 600:
        raise argparse.ArgumentTypeError(f"--wait must be between 0 and 600 s, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The command line's grammar."""
    parser = _Parser(prog="porttray", description="A tray menu of the local servers by port.")
    parser.add_argument("--version", action="version", version=f"porttray {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what porttray does")
    parser.add_argument("--method", choices=("netlink", "proc", "psutil"), help=argparse.SUPPRESS)
    parser.add_argument(
        "--interval",
        type=_interval,
        default=None,
        dest="tray_interval",
        help="the tray's poll interval in seconds (default: the settings file's, else 0.5)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    list_cmd = sub.add_parser("list", help="print the local servers and exit")
    list_cmd.add_argument("--json", action="store_true", help="print a JSON array")
    list_cmd.add_argument("--all", action="store_true", help="include servers not on loopback")
    list_cmd.add_argument(
        "--wide",
        action="store_true",
        help="print every column in full (no fitting to the terminal)",
    )
    list_cmd.add_argument(
        "--wait",
        type=_wait,
        default=None,
        metavar="SECONDS",
        help="wait up to SECONDS for servers still starting to answer (default: about 1.5)",
    )

    watch = sub.add_parser("watch", help="print servers as they open and close")
    watch.add_argument("--json", action="store_true", help="print JSON Lines")
    watch.add_argument("--all", action="store_true", help="include servers not on loopback")
    watch.add_argument("--interval", type=_interval, default=0.5, help="poll interval (0.5)")

    config = sub.add_parser("config", help="where the settings file is, and whether it is valid")
    config.add_argument("action", choices=("path", "check"))
    config.add_argument("file", nargs="?", help="the file to check (default: the settings file)")

    sub.add_parser("doctor", help="check the desktop services porttray relies on")

    auto = sub.add_parser("autostart", help="start porttray at login")
    auto.add_argument("action", choices=("on", "off", "status"))
    from tray.commands import agent

    agent.add_parsers(sub)
    from tray.commands import history

    history.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `porttray` console script."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="porttray: %(levelname)s: %(message)s",
    )
    if args.command in COMMANDS:
        return COMMANDS[args.command](args)
    from tray.commands import agent

    if args.command in agent.COMMANDS:
        return agent.COMMANDS[args.command](args)
    if args.command == "history":
        from tray.commands.history import run_history

        return run_history(args)
    from tray.app import run_tray

    return run_tray(interval=args.tray_interval, method=args.method)


def _settings() -> Config:
    """The user's settings; a bad file is reported on stderr and the defaults are used."""
    try:
        return config.load(config.default_path())
    except config.ConfigError as exc:
        print(f"porttray: ignoring the settings file: {exc}", file=sys.stderr)
        return config.DEFAULT


def _shown(servers: tuple[Server, ...], settings: Config, include_all: bool) -> tuple[Server, ...]:
    if include_all:
        return servers
    me, uid = users.real_user(), users.real_uid()
    return tuple(s for s in servers if rules.shown(settings, s, me, uid))


def _list(args: argparse.Namespace) -> int:
    settings = _settings()
    engine = open_engine(args.method)
    try:
        scanned = engine.scan().servers
    finally:
        engine.close()
    boxes = Containers()
    boxes.refresh()  # one question to the container engine, a second at the most
    servers = _shown(boxes.attach(scanned), settings, args.all)
    servers = identify_all(servers, settings, wait=args.wait)
    try:
        _print_list(servers, settings, args)
    except BrokenPipeError:  # `porttray list --json | head -1`: the reader has what it wanted
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the flush at exit cannot fail again
    return 0


def _print_list(servers: tuple[Server, ...], settings: Config, args: argparse.Namespace) -> None:
    if args.json:
        from tray.commands.agent import json_of

        objs = [json_of(s, rules.label_of(settings, s)) for s in servers]
        print(json.dumps(objs, indent=2), flush=True)
    elif servers:
        labels = {s.key: label for s in servers if (label := rules.label_of(settings, s))}
        width = terminal.table_width(wide=args.wide)
        home = None if args.wide else os.path.expanduser("~")
        print(table(servers, labels, width=width, home=home, probed=True), flush=True)
    else:
        print("No local servers are listening.", flush=True)


def _watch(args: argparse.Namespace) -> int:
    stop = threading.Event()

    def on_signal(_signo: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    engine = open_engine(args.method)
    boxes = Containers()
    from tray.commands.history import recorder

    record = recorder()
    try:
        _watch_loop(engine, boxes, args, stop, record)
    except BrokenPipeError:
        sys.stderr.close()  # the reader went away: end quietly
    finally:
        engine.close()
        boxes.close()
        record.stop()
    return 0


def _watch_loop(
    engine: Engine,
    boxes: Containers,
    args: argparse.Namespace,
    stop: threading.Event,
    record: Recorder,
) -> None:
    settings = _settings()
    boxes.refresh()  # so the first events already name their containers
    boxes.start()
    scan = _with_containers(engine.scan(), boxes)
    previous = _visible(scan, settings, args.all)
    record.events(previous.servers, ())
    scanned = scan.servers
    logger.info("watching with %s every %.2f s", engine.method, args.interval)
    deadline = time.monotonic()
    recent: list[tuple[Server, float]] = []
    held: float | None = None
    while True:
        deadline += args.interval
        if stop.wait(max(0.0, deadline - time.monotonic())):
            return
        if time.monotonic() - deadline > args.interval:
            deadline = time.monotonic()  # after a suspend, resume the schedule from now
        scan = _with_containers(engine.scan(), boxes)
        if scan.servers is scanned:
            continue  # the very same listeners and containers: nothing can have changed
        current = _visible(scan, settings, args.all)
        if boxes.pending(current.servers, previous.by_key()):
            held = held or time.monotonic()
            if time.monotonic() - held < CONTAINER_WAIT:
                continue  # a new proxy: give the engine a moment to name its container
        held = None
        scanned = scan.servers
        recent = [(s, at) for s, at in recent if current.taken - at <= restarts.WINDOW]
        events = restarts.merge(diff(previous, current), recent)
        record.events((), events)
        for event in events:
            if isinstance(event, Closed):
                recent.append((event.server, event.at))
            kind = type(event).__name__.lower()
            label = rules.label_of(settings, event.server)
            before = event.previous.pid if isinstance(event, Restarted) else None
            server = named_without_probe(event.server)
            _print_event(kind, server, event.at, args.json, label, previous_pid=before)
        previous = current


def _with_containers(snapshot: Snapshot, boxes: Containers) -> Snapshot:
    servers = boxes.attach(snapshot.servers)
    if servers is snapshot.servers:
        return snapshot
    return Snapshot(servers, snapshot.method, snapshot.taken)


def _visible(snapshot: Snapshot, settings: Config, include_all: bool) -> Snapshot:
    servers = _shown(snapshot.servers, settings, include_all)
    return Snapshot(servers, snapshot.method, snapshot.taken)


def _print_event(
    kind: str,
    server: Server,
    at: float,
    as_json: bool,
    label: str | None,
    *,
    previous_pid: int | None = None,
) -> None:
    if as_json:
        obj: dict[str, object] = {
            "event": kind,
            "at": iso(at),
            "server": server_json(server, label),
        }
        if kind == "restarted":
            obj["previous_pid"] = previous_pid
        line = json.dumps(obj)
    else:
        line = event_line(kind, server, at)
    print(line, flush=True)


def _config(args: argparse.Namespace) -> int:
    path = Path(args.file) if args.file else config.default_path()
    if args.action == "path":
        print(path)
        return 0
    try:
        config.load(path)
    except config.ConfigError as exc:
        print(f"porttray: {exc}", file=sys.stderr)
        return 2
    print(f"{path}: ok" if path.exists() else f"{path}: not present; the defaults are in use")
    return 0


def _doctor(_args: argparse.Namespace) -> int:
    from tray import doctor

    return doctor.run()


def _autostart(args: argparse.Namespace) -> int:
    auto = autostart.for_platform()
    if args.action == "on":
        auto.enable(autostart.launch_command())
    elif args.action == "off":
        auto.disable()
    state = "on" if auto.enabled() else "off"
    print(f"start at login: {state} ({auto.where()})")
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "list": _list,
    "watch": _watch,
    "config": _config,
    "doctor": _doctor,
    "autostart": _autostart,
}
