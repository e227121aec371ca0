"""What the monitor thread is told (messages into its inbox) and what it asks of the shell (hooks).

Messages are frozen: any thread may send one, only the monitor thread reads them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tray.config.schema import Config
from tray.model import Event, Identity, Key, Server
from tray.state import AppState


@dataclass(frozen=True, slots=True)
class Identified:
    """A probe finished."""

    key: Key
    """The server it is about."""
    identity: Identity
    """What it found."""


@dataclass(frozen=True, slots=True)
class SetPaused:
    """The user paused or resumed notifications."""

    paused: bool
    """The new setting."""


@dataclass(frozen=True, slots=True)
class NewConfig:
    """Settings changed (read from the file, or changed from the menu)."""

    config: Config
    """The settings to use from now on."""


@dataclass(frozen=True, slots=True)
class StillRunning:
    """A server asked to stop has not stopped: offer Force stop."""

    key: Key
    """The server."""


@dataclass(frozen=True, slots=True)
class SetAutostart:
    """Start at login was turned on or off."""

    enabled: bool
    """The new setting."""


@dataclass(frozen=True, slots=True)
class Stop:
    """End the monitor thread."""


Message = Identified | SetPaused | NewConfig | StillRunning | SetAutostart | Stop


@dataclass(frozen=True, slots=True)
class Hooks:
    """What the monitor asks the shell to do. Each is called on the monitor thread."""

    on_state: Callable[[AppState], None]
    """A new state was published."""
    on_notes: Callable[[tuple[Server, ...]], None]
    """These new servers should be announced together."""
    on_open: Callable[[Server], None] = lambda server: None
    """A rule asks for this new server to be opened in the browser."""
    on_error: Callable[[str], None] = lambda message: None
    """Something the user should know (a bad settings file)."""
    on_seen: Callable[[tuple[Server, ...], tuple[Event, ...]], None] = lambda servers, events: None
    """For the history: the servers of the first scan, then each scan's events (a closed
    server as the tray knew it, with its identity)."""
