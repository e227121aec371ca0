"""The user's settings applied to servers: hidden or shown, named, and what opening one does. Pure.

A server is hidden when a rule says `ignore`, or — with `hide_system` on — when its process is a
system daemon of `tray.programs`' table or its socket belongs to another uid (the kernel says whose
a socket is even when its process cannot be seen, so a normal user's menu is not full of root's and
postgres's daemons). A container's published port is the user's, whoever holds the socket (rootful
Docker's docker-proxy runs as root), so it is never hidden that way. A socket with neither a uid nor
a visible process is not hidden either: porttray cannot tell whose it is.
"""

from __future__ import annotations

from tray.config.schema import Config, OnOpen, Rule, rule_for
from tray.manners import theirs
from tray.model import Server
from tray.programs import SYSTEM_NAMES


def cmdline_text(server: Server) -> str:
    """The command line as one string, for `match` rules (already cut to a bounded length)."""
    return " ".join(server.process.cmdline) if server.process else ""


def rule_of(config: Config, server: Server) -> Rule | None:
    """The first rule about this server, if any."""
    return rule_for(config, server.port, server.name, cmdline_text(server))


def on_open(config: Config, server: Server) -> OnOpen:
    """What opening this server does: notify, open-browser, silent or ignore."""
    rule = rule_of(config, server)
    if rule is not None:
        return rule.on_open
    return "notify" if config.notifications else "silent"


def is_system(server: Server, user: str, uid: int | None = None) -> bool:
    """A system daemon, or another uid's socket (another user's process where uids are unknown)."""
    if server.container is not None or server.name == "docker-proxy":
        return False
    if server.name in SYSTEM_NAMES:
        return True
    return theirs(server, uid, user)


def hidden(config: Config, server: Server, user: str, uid: int | None = None) -> bool:
    """Whether the menu, notifications, list and watch leave this server out."""
    rule = rule_of(config, server)
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
