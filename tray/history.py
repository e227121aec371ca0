"""Servers seen before, in a small SQLite file in the user's state directory.

Written by the tray (from the monitor's events, on a writer thread of its own) and by `watch`;
read by `porttray history` and by the tray's "Recently closed" at start-up. Several writers at once
lose nothing: the file is in WAL mode, each write is one short transaction, and a writer waits for a
busy file rather than failing. A row is one server — (port, pid, process start) — so the tray and
`watch` recording the same server make one row, not two.

The file stays small: at most MAX_ROWS rows (the oldest go first), short text fields, no command
lines. A file that is not a database, is damaged or comes from a newer porttray is never deleted or
overwritten: it is renamed aside (the message names the new name) and a fresh one is started. A file
that is merely locked is left alone; the write is skipped and said so.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tray.model import Closed, Event, Identity, ProcessInfo, Server
from tray.state import Gone

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
MAX_ROWS = 5000
TEXT_LIMIT = 200
BUSY_TIMEOUT_MS = 5000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS servers (
    port INTEGER NOT NULL, pid INTEGER NOT NULL, started REAL NOT NULL,
    name TEXT, project TEXT, kind TEXT, title TEXT,
    first_seen REAL NOT NULL, last_seen REAL NOT NULL, closed REAL,
    PRIMARY KEY (port, pid, started)
);
CREATE INDEX IF NOT EXISTS servers_last_seen ON servers (last_seen);
"""
_UPSERT = """
INSERT INTO servers (port, pid, started, name, project, kind, title, first_seen, last_seen, closed)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (port, pid, started) DO UPDATE SET
    name = coalesce(excluded.name, name), project = coalesce(excluded.project, project),
    kind = coalesce(excluded.kind, kind), title = coalesce(excluded.title, title),
    first_seen = min(first_seen, excluded.first_seen),
    last_seen = max(last_seen, excluded.last_seen),
    closed = coalesce(excluded.closed, closed)
"""
_PRUNE = """
DELETE FROM servers WHERE rowid NOT IN (SELECT rowid FROM servers ORDER BY last_seen DESC LIMIT ?)
"""


class HistoryError(Exception):
    """The history file could not be used just now (it is kept as it is)."""


@dataclass(frozen=True, slots=True)
class Row:
    """One server seen before."""

    port: int
    pid: int | None
    name: str | None
    project: str | None
    kind: str | None
    title: str | None
    first_seen: float
    last_seen: float
    closed: float | None

    @property
    def ran(self) -> float | None:
        """Seconds it listened for, when its close was seen."""
        return None if self.closed is None else max(0.0, self.closed - self.first_seen)


def default_path() -> Path:
    """history.sqlite3 in the user's state directory (XDG_STATE_HOME on Linux)."""
    import platformdirs

    return Path(platformdirs.user_state_dir("porttray", appauthor=False)) / "history.sqlite3"


def as_gone(row: Row) -> Gone:
    """A closed server from the file, as the "Recently closed" menu shows it."""
    proc = ProcessInfo(row.pid, name=row.name) if row.pid is not None else None
    identity = Identity(title=row.title, project=row.project, kind=row.kind)
    server = Server(row.port, (), row.pid, process=proc, identity=identity)
    return Gone(server, row.first_seen, row.closed or row.last_seen)


def recently_closed(limit: int, history: History | None = None) -> tuple[Gone, ...]:
    """The last servers seen closing, for the tray's start; nothing if the file is unusable."""
    try:
        return tuple(as_gone(r) for r in (history or History()).closed(limit))
    except HistoryError as exc:
        logger.warning("%s", exc)
        return ()


Seen = tuple[Iterable[Server], float, bool]  # servers, at, closed: what `History.record` takes


class History:
    """The history file, opened lazily; every method may raise HistoryError (file kept)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()
        self.notices: list[str] = []
        """What was done about an unusable file, for the user."""

    def record(self, servers: Iterable[Server], at: float, *, closed: bool = False) -> None:
        """Servers seen listening (or, with `closed`, seen gone) at `at`."""
        self.record_all([(servers, at, closed)])

    def record_all(self, seen: Iterable[Seen]) -> None:
        """`record` for each (servers, at, closed), in order, in one transaction."""
        rows = [_values(s, at, closed=closed) for servers, at, closed in seen for s in servers]
        if rows:
            self._write(rows)

    def rows(self, since: float = 0.0, limit: int = MAX_ROWS) -> list[Row]:
        """Servers last seen at or after `since`, most recent first."""
        query = (
            "SELECT port, pid, name, project, kind, title, first_seen, last_seen, closed "
            "FROM servers WHERE last_seen >= ? ORDER BY last_seen DESC, port LIMIT ?"
        )
        with self._connection() as db:
            found = db.execute(query, (since, limit)).fetchall()
        return [Row(r[0], None if r[1] < 0 else r[1], *r[2:]) for r in found]

    def closed(self, limit: int) -> list[Row]:
        """The servers seen closing last, newest first (for "Recently closed")."""
        query = (
            "SELECT port, pid, name, project, kind, title, first_seen, last_seen, closed "
            "FROM servers WHERE closed IS NOT NULL ORDER BY closed DESC LIMIT ?"
        )
        with self._connection() as db:
            found = db.execute(query, (limit,)).fetchall()
        return [Row(r[0], None if r[1] < 0 else r[1], *r[2:]) for r in found]

    def _write(self, rows: list[tuple[object, ...]]) -> None:
        with self._connection() as db:
            db.execute("BEGIN IMMEDIATE")  # take the write lock now: a busy file is waited for
            try:
                db.executemany(_UPSERT, rows)
                db.execute(_PRUNE, (MAX_ROWS,))
            except BaseException:
                db.rollback()
                raise
            db.execute("COMMIT")

    @contextlib.contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        db = self._open()
        try:
            yield db
        except sqlite3.OperationalError as exc:
            raise HistoryError(f"{self.path}: {exc}; left as it is") from None
        except sqlite3.DatabaseError as exc:
            db.close()
            self._set_aside(f"damaged ({exc})")
            raise HistoryError(f"{self.path}: {exc}; {self.notices[-1]}") from None
        finally:
            db.close()

    def _open(self) -> sqlite3.Connection:
        """A connection to a usable file of this version, setting an unusable one aside once."""
        for attempt in range(2):
            try:
                return self._connect()
            except (sqlite3.OperationalError, OSError) as exc:
                raise HistoryError(f"{self.path}: {exc}; left as it is") from None
            except (sqlite3.DatabaseError, _Newer) as exc:
                if attempt:
                    raise HistoryError(f"{self.path}: {exc}") from None
                self._set_aside(str(exc))
        raise AssertionError("unreachable")

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        try:
            _prepare(db)
        except BaseException:
            db.close()
            raise
        return db

    def _set_aside(self, why: str) -> None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        aside = self.path.with_name(f"{self.path.name}.unreadable-{stamp}")
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                Path(f"{self.path}{suffix}").rename(f"{aside}{suffix}")
        notice = f"the history file was {why}: kept as {aside}, starting a new one"
        logger.warning("%s", notice)
        self.notices.append(notice)


class _Newer(Exception):
    pass


def _prepare(db: sqlite3.Connection) -> None:
    """WAL mode and this version's schema; _Newer for a file from a newer porttray."""
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise _Newer(f"written by a newer porttray (format {version})")
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")  # in WAL mode: durable at checkpoints, never corrupt
    if version < SCHEMA_VERSION:
        db.executescript(_SCHEMA + f"PRAGMA user_version = {SCHEMA_VERSION};")


def _values(server: Server, at: float, *, closed: bool) -> tuple[object, ...]:
    proc, ident = server.process, server.identity
    started = proc.started if proc and proc.started else 0.0
    first = started if started and not closed else at
    return (
        server.port,
        server.pid if server.pid is not None else -1,
        round(started, 2),
        _cut(server.name),
        _cut(ident.project),
        _cut(ident.kind),
        _cut(ident.title),
        min(first, at),
        at,
        at if closed else None,
    )


def _cut(text: str | None) -> str | None:
    """Short, and valid UTF-8: names from /proc may hold undecodable bytes (surrogates)."""
    if not text:
        return None
    return text[:TEXT_LIMIT].encode("utf-8", "replace").decode("utf-8")


class Recorder:
    """Writes to the history on a thread of its own, so a busy file never holds up the tray."""

    def __init__(self, history: History, on_error: Callable[[str], None]) -> None:
        self._history = history
        self._on_error = on_error
        self._inbox: queue.Queue[list[Seen] | None] = queue.Queue()  # one scan, one transaction
        self._thread = threading.Thread(target=self._run, name="porttray-history", daemon=True)
        self._failed = False

    def start(self) -> None:
        """Start the writer thread."""
        self._thread.start()

    def seen(self, servers: tuple[Server, ...], at: float, *, closed: bool = False) -> None:
        """Queue servers seen listening (or gone); returns at once."""
        if servers:
            self._inbox.put([(servers, at, closed)])

    def events(self, servers: tuple[Server, ...], events: Iterable[Event]) -> None:
        """A scan's servers (the first scan's) and events, as the monitor or `watch` sees them."""
        seen: list[Seen] = [(servers, time.time(), False)] if servers else []
        seen += [((e.server,), e.at, isinstance(e, Closed)) for e in events]
        if seen:
            self._inbox.put(seen)

    def stop(self, timeout: float = 2.0) -> None:
        """Write what is queued, then end the thread (within `timeout`)."""
        self._inbox.put(None)
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        from tray.commands.agent import known

        while (item := self._inbox.get()) is not None:
            try:
                self._history.record_all([(map(known, ss), at, closed) for ss, at, closed in item])
                self._failed = False
            except HistoryError as exc:
                if not self._failed:  # once per outage, not once per event
                    self._on_error(f"history not saved: {exc}")
                self._failed = True
            except Exception:
                logger.exception("writing the history failed")
            for notice in self._history.notices:
                self._on_error(notice)
            self._history.notices.clear()
            del item  # written: not held while waiting for the next
