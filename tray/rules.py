"""The user's settings applied to servers: hidden or shown, named, and what opening one does. Pure.

A server is hidden when a rule says `ignore`, or — with `hide_system` on — when its process is a
well-known system daemon or belongs to another user. Servers whose owner cannot be seen are never
hidden by `hide_system`: porttray cannot tell whose they are, and dropping them would hide a user's
own server running in a container.
"""

from __future__ import annotations

from tray.config import Config, OnOpen, Rule, rule_for
from tray.model import Server

SYSTEM_DAEMONS = frozenset(
    {
        "sshd",
        "systemd",
        "systemd-resolve",
        "systemd-resolved",
        "cupsd",
        "cups-browsed",
        "avahi-daemon",
        "dnsmasq",
        "chronyd",
        "ntpd",
        "rpcbind",
        "rpc.statd",
        "exim4",
        "master",
        "smbd",
        "nmbd",
        "xrdp",
        "xrdp-sesman",
        "containerd",
        "dockerd",
        "kdeconnectd",
        "sddm",
        "gdm",
        "lightdm",
        "colord",
        "nginx",
        "apache2",
        "httpd",
        "named",
        "unbound",
    }
)
"""Process names of services a developer did not start and does not want in the menu."""


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


def is_system(server: Server, user: str) -> bool:
    """A well-known system daemon, or another user's process."""
    proc = server.process
    if proc is None or server.container is not None:
        return False
    if proc.name in SYSTEM_DAEMONS:
        return True
    return proc.user is not None and proc.user != user


def hidden(config: Config, server: Server, user: str) -> bool:
    """Whether the menu, notifications, list and watch leave this server out."""
    rule = rule_of(config, server)
    if rule is not None:
        return rule.on_open == "ignore"
    return config.hide_system and is_system(server, user)


def shown(config: Config, server: Server, user: str) -> bool:
    """Whether the tray and `list`/`watch` show this server: on loopback and not hidden."""
    return server.loopback and not hidden(config, server, user)


def label_of(config: Config, server: Server) -> str | None:
    """The rule's label for this server, or None."""
    rule = rule_of(config, server)
    return rule.label if rule is not None else None
