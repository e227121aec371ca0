"""The soak's oracle matching: every event goes to exactly one listener, whatever its stamp."""

from __future__ import annotations

from dataclasses import dataclass

from tests.kit.soak_match import Seen, attribute


@dataclass
class Life:
    pid: int
    port: int
    opened: float
    closed: float | None


@dataclass
class Event:
    kind: str
    port: int
    pid: int | None
    at: float


def test_an_open_stamped_after_the_close_still_belongs_to_its_listener() -> None:
    # Seen in a dump, closed 1 ms later, stamped after the owner lookup: "opened" at > closed.
    lives = [Life(7, 5000, 100.000, 100.050)]
    events = [Event("opened", 5000, 7, 100.051), Event("closed", 5000, 7, 100.5)]
    found = attribute(lives, events)
    assert found.seen == [Seen(opened=True, closed=True)]
    assert found.unmatched == 0


def test_listeners_of_one_port_each_get_their_own_events() -> None:
    lives = [Life(7, 5000, 100.0, 101.0), Life(7, 5000, 140.0, 141.0), Life(8, 5000, 100.2, None)]
    events = [
        Event("opened", 5000, 7, 100.4),
        Event("opened", 5000, 8, 100.4),
        Event("closed", 5000, 7, 101.4),
        Event("opened", 5000, 7, 140.4),
    ]
    found = attribute(lives, events)
    assert found.seen == [Seen(True, True), Seen(True, False), Seen(True, False)]
    assert found.unmatched == 0


def test_repeats_strays_and_closes_before_opens_are_unmatched() -> None:
    lives = [Life(7, 5000, 100.0, 101.0), Life(7, 5001, 100.0, 101.0)]
    events = [
        Event("opened", 5000, 7, 100.4),
        Event("opened", 5000, 7, 100.9),  # a repeat
        Event("closed", 5000, 7, 101.4),
        Event("closed", 5001, 7, 100.4),  # closed before it opened
        Event("opened", 5001, 7, 100.9),
        Event("opened", 5002, 7, 100.4),  # no such listener
        Event("opened", 5000, None, 100.4),  # no owner: not a worker's
    ]
    found = attribute(lives, events)
    assert found.seen == [Seen(True, True), Seen(True, False)]
    assert found.unmatched == 4


def test_nothing_reported_is_nothing_seen() -> None:
    found = attribute([Life(7, 5000, 100.0, 101.0)], [])
    assert found.seen == [Seen(opened=False, closed=False)]
    assert found.unmatched == 0
