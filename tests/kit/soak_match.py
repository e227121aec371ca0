"""Pairing what the soak's workers did with what `porttray watch` reported: exact, by attribution.

A watch event's `at` is its snapshot's time, stamped after the listener dump and the owner lookup.
So a listener seen in a dump may close before the stamp, and its "opened" event is then stamped
*after* its close; matching events to listeners by time windows miscounts such events (one of 518
once, on a loaded machine). Time decides nothing here. Within one (pid, port) a worker's listeners
never overlap and are at least the port quarantine (30 s) apart, so each event belongs to the one
listener of its key whose stretch — from halfway after the previous listener of that key to halfway
before the next — holds it. A listener is then seen right when it got at most one "opened" and at
most one "closed", the opened first; every other event is unmatched.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


class LifeLike(Protocol):
    """A listener a worker held (tests/kit/churn.py's `Life`)."""

    @property
    def pid(self) -> int: ...
    @property
    def port(self) -> int: ...
    @property
    def opened(self) -> float: ...
    @property
    def closed(self) -> float | None: ...


class EventLike(Protocol):
    """An event `porttray watch` reported (tests/kit/watch.py's `WatchEvent`)."""

    @property
    def kind(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def pid(self) -> int | None: ...
    @property
    def at(self) -> float: ...


@dataclass(frozen=True, slots=True)
class Seen:
    """What watch reported of one listener."""

    opened: bool
    closed: bool


@dataclass(frozen=True, slots=True)
class Attribution:
    seen: list[Seen]
    """One per listener, in the order given."""
    unmatched: int
    """Events that belong to no listener, repeat one, or close before they open."""


def attribute(lives: Sequence[LifeLike], events: Sequence[EventLike]) -> Attribution:
    """Each event to its listener; see the module docstring."""
    by_key: dict[tuple[int, int], list[int]] = {}
    for index, life in enumerate(lives):
        by_key.setdefault((life.pid, life.port), []).append(index)
    for indexes in by_key.values():
        indexes.sort(key=lambda i: lives[i].opened)
    kinds: list[list[str]] = [[] for _ in lives]
    unmatched = 0
    for event in sorted(events, key=lambda e: e.at):
        owner = _owner(lives, by_key.get((event.pid or 0, event.port), []), event.at)
        if owner is None:
            unmatched += 1
        else:
            kinds[owner].append(event.kind)
    seen = []
    for got in kinds:
        first_open = got.index("opened") if "opened" in got else None
        closed = first_open is not None and "closed" in got[first_open + 1 :]
        unmatched += len(got) - (first_open is not None) - closed
        seen.append(Seen(opened=first_open is not None, closed=closed))
    return Attribution(seen, unmatched)


def _owner(lives: Sequence[LifeLike], indexes: list[int], at: float) -> int | None:
    """The listener of these (sorted, one key) whose stretch holds `at`."""
    if not indexes:
        return None
    for index, later in itertools.pairwise(indexes):
        end = lives[index].closed
        if end is None or at < (end + lives[later].opened) / 2:
            return index
    return indexes[-1]
