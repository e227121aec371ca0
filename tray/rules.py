"""The user's settings applied to servers: hidden or shown, named, and what opening one does. Pure.

A server is hidden when a rule says `ignore`, or — with `hide_system` on — when its process is a
system daemon of `tray.programs`' table or its socket belongs to another uid (the kernel says whose
a socket is even when its process cannot be seen, so a normal user's menu is not full of root's and
postgres's daemons). A container's published port is the user's, whoever holds the socket (rootful
Docker's docker-proxy runs as root), so it is never hidden that way. A socket with neither a uid nor
a visible process is not hidden either: porttray cannot tell whose it is.

The tray decides a server's `Ruling` once — when the server first shows in a scan, when what the
scan says about it changes, or when the settings change — and carries it on its `tray.state.Entry`;
the command line asks the functions below directly.
"""

from __future__ import annotations

from dataclasses import dataclass

from tray.config.schema import Config, OnOpen, Rule, rule_for
from tray.manners import theirs
from tray.model import Key, Server
from tray.programs import SYSTEM_NAMES


@dataclass(frozen=True, slots=True)
class Ruling:
    """What the settings say about one server."""

    shown: bool
    """Whether the tray and `list`/`watch` show it (see `shown`)."""
    label: str | None = None
    """The rule's label for it, or None."""
    on_open: OnOpen = "notify"
    """What opening it does (see `on_open`)."""


def cmdline_text(server: Server) -> str:
    """The command line as one string, for `match` rules (already cut to a bounded length)."""
    return " ".join(server.process.cmdline) if server.process else ""


def rule_of(config: Config, server: Server) -> Rule | None:
    """The first rule about this server, if any."""
    return rule_for(config, server.port, server.name, cmdline_text(server))


def ruling(config: Config, server: Server, user: str, uid: int | None = None) -> Ruling:
    """Everything the settings say about this server, from one match of the rules."""
    rule = rule_of(config, server)
    shown = server.loopback and not _hidden(config, rule, server, user, uid)
    if rule is not None:
        return Ruling(shown, rule.label, rule.on_open)
    return Ruling(shown, None, _default_open(config))


def _default_open(config: Config) -> OnOpen:
    return "notify" if config.notifications else "silent"


def on_open(config: Config, server: Server) -> OnOpen:
    """What opening this server does: notify, open-browser, silent or ignore."""
    rule = rule_of(config, server)
    return rule.on_open if rule is not None else _default_open(config)


def is_system(server: Server, user: str, uid: int | None = None) -> bool:
    """A system daemon, or another uid's socket (another user's process where uids are unknown)."""
    if server.container is not None or server.name == "docker-proxy":
        return False
    if server.name in SYSTEM_NAMES:
        return True
    return theirs(server, uid, user)


def hidden(config: Config, server: Server, user: str, uid: int | None = None) -> bool:
    """Whether the menu, notifications, list and watch leave this server out."""
    return _hidden(config, rule_of(config, server), server, user, uid)


def _hidden(config: Config, rule: Rule | None, server: Server, user: str, uid: int | None) -> bool:
    if rule is not None:
        return rule.on_open == "ignore"
    return config.hide_system and is_system(server, user, uid)


def shown(config: Config, server: Server, user: str, uid: int | None = None) -> bool:
    """Whether the tray and `list`/`watch` show this server: on loopback and not hidden."""
    return server.loopback and not hidden(config, server, user, uid)


def label_of(config: Config, server: Server) -> str | None:
    """The rule's label for this server, or None."""
    rule = rule_of(config, server)
    return rule.label if rule is not None else None


class Rulings:
    """The rulings of the servers last scanned, for the monitor: each is decided once, when its
    server first shows, when what a scan says about it changes, or when the settings change."""

    def __init__(self, user: str, uid: int | None) -> None:
        self._user = user
        self._uid = uid
        self._config: Config | None = None
        self._known: dict[Key, tuple[Server, Ruling]] = {}

    def decide(
        self, config: Config, servers: tuple[Server, ...]
    ) -> tuple[tuple[Server, ...], dict[Key, Ruling]]:
        """The servers shown under `config`, and each server's ruling (those of servers unchanged
        since the last call are kept)."""
        known = self._known if config is self._config else {}
        fresh: dict[Key, tuple[Server, Ruling]] = {}
        for server in servers:
            seen = known.get(server.key)
            if seen is None or seen[0] != server:
                seen = (server, ruling(config, server, self._user, self._uid))
            fresh[server.key] = seen
        self._config, self._known = config, fresh
        shown = tuple(server for server, decided in fresh.values() if decided.shown)
        return shown, {key: decided for key, (_, decided) in fresh.items()}
