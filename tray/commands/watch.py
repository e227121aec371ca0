"""`porttray watch`: one line per server as it opens, closes or restarts, until a signal."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
import time
from types import FrameType

from tray import restarts, rules
from tray.commands.common import load_settings, shown_servers
from tray.containers import Containers
from tray.diff import diff
from tray.discover import Engine, open_engine
from tray.identify_many import named_without_probe
from tray.model import Closed, Event, Restarted, Server, Snapshot
from tray.recorder import Recorder
from tray.report import event_line, iso, server_json

logger = logging.getLogger("tray")
CONTAINER_WAIT = 1.0
"""Seconds `watch` holds back a new container proxy's `opened` line while the engine names it."""


def run_watch(args: argparse.Namespace) -> int:
    """Print events until SIGTERM or SIGINT (or until the reader of stdout goes away)."""
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
        _Watch(engine, boxes, args, record).run(stop)
    except BrokenPipeError:
        sys.stderr.close()  # the reader went away: end quietly
    finally:
        engine.close()
        boxes.close()
        record.stop()
    return 0


class _Watch:
    """The watch loop's state between two scans."""

    def __init__(
        self, engine: Engine, boxes: Containers, args: argparse.Namespace, record: Recorder
    ) -> None:
        self._engine, self._boxes, self._args, self._record = engine, boxes, args, record
        self._settings = load_settings()
        boxes.refresh()  # so the first events already name their containers
        boxes.start()
        scan = self._scan()
        self._previous = self._shown(scan)
        record.events(self._previous.servers, ())
        self._scanned = scan.servers
        self._recent: list[tuple[Server, float]] = []
        self._held: float | None = None

    def run(self, stop: threading.Event) -> None:
        """Scan every interval on a drift-free schedule until `stop` is set."""
        interval = self._args.interval
        logger.info("watching with %s every %.2f s", self._engine.method, interval)
        deadline = time.monotonic()
        while True:
            deadline += interval
            if stop.wait(max(0.0, deadline - time.monotonic())):
                return
            if time.monotonic() - deadline > interval:
                deadline = time.monotonic()  # after a suspend, resume the schedule from now
            self._step()

    def _step(self) -> None:
        scan = self._scan()
        if scan.servers is self._scanned:
            return  # the very same listeners and containers: nothing can have changed
        current = self._shown(scan)
        if self._boxes.pending(current.servers, self._previous.by_key()):
            self._held = self._held or time.monotonic()
            if time.monotonic() - self._held < CONTAINER_WAIT:
                return  # a new proxy: give the engine a moment to name its container
        self._held = None
        self._scanned = scan.servers
        recent = [(s, at) for s, at in self._recent if current.taken - at <= restarts.WINDOW]
        events = restarts.merge(diff(self._previous, current), recent)
        self._record.events((), events)
        self._recent = recent + [(e.server, e.at) for e in events if isinstance(e, Closed)]
        for event in events:
            self._print(event)
        self._previous = current

    def _print(self, event: Event) -> None:
        kind = type(event).__name__.lower()
        label = rules.label_of(self._settings, event.server)
        before = event.previous.pid if isinstance(event, Restarted) else None
        server = named_without_probe(event.server)
        print_event(kind, server, event.at, label, as_json=self._args.json, previous_pid=before)

    def _scan(self) -> Snapshot:
        snapshot = self._engine.scan()
        servers = self._boxes.attach(snapshot.servers)
        if servers is snapshot.servers:
            return snapshot
        return Snapshot(servers, snapshot.method, snapshot.taken)

    def _shown(self, snapshot: Snapshot) -> Snapshot:
        servers = shown_servers(snapshot.servers, self._settings, include_all=self._args.all)
        return Snapshot(servers, snapshot.method, snapshot.taken)


def print_event(
    kind: str,
    server: Server,
    at: float,
    label: str | None,
    *,
    as_json: bool,
    previous_pid: int | None = None,
) -> None:
    """One event as a line of text, or as one JSON object per line."""
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
