"""The `porttray` command: the tray by default, and `list` / `watch` for terminals and scripts."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from tray import __version__, autostart, config, rules, terminal
from tray.commands.common import load_settings, shown_servers
from tray.config import Config
from tray.containers import Containers
from tray.discover import open_engine
from tray.identify_many import identify_all
from tray.model import Server
from tray.report import table

logger = logging.getLogger("tray")


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

    _add_terminal_parsers(sub)
    from tray.commands import agent

    agent.add_parsers(sub)
    from tray.commands import history

    history.add_parser(sub)
    return parser


def _add_terminal_parsers(sub: argparse._SubParsersAction[Any]) -> None:
    """The grammar of list, watch, config, doctor and autostart."""
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
    from tray import memory

    memory.without_openssl()  # before the tray's own imports load OpenSSL (see tray.memory)
    from tray.launch import run_tray

    return run_tray(interval=args.tray_interval, method=args.method)


def _list(args: argparse.Namespace) -> int:
    settings = load_settings()
    engine = open_engine(args.method)
    try:
        scanned = engine.scan().servers
    finally:
        engine.close()
    boxes = Containers()
    boxes.refresh()  # one question to the container engine, a second at the most
    servers = shown_servers(boxes.attach(scanned), settings, include_all=args.all)
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


def _watch(args: argparse.Namespace) -> int:
    from tray.commands.watch import run_watch

    return run_watch(args)


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
